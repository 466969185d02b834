"""Reading contact files, normalising numbers, rendering templates, planning an import.

Imports nothing of the product: everything comes in as plain parameters.
"""

from .errors import ContactsError
from .phones import normalise_many, normalise_phone
from .plan import plan_import
from .readers import read_contacts
from .template import Template

__all__ = ["ContactsError", "Template", "normalise_many", "normalise_phone", "plan_import", "read_contacts"]
