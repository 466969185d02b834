"""The one exception type of the contacts package."""


class ContactsError(Exception):
    """Bad input (file, column, template, region).

    ``str(err)`` is one human line naming the file (and row/column where it
    matters); callers print it and exit with status 2, never a traceback.
    """

    user_error = True  # shown by the entry points' one helper (common.errors.exit_on_user_error)
