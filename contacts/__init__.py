"""Reading contact files, normalising numbers, rendering templates, planning an import.

Imports nothing of the product: everything comes in as plain parameters.
"""
from .errors import ContactsError
from .phones import normalise_phone, normalise_many
from .readers import ContactTable, read_contacts
from .template import Template
from .plan import ImportPlan, RowProblem, plan_import

__all__ = [
    "ContactsError", "ContactTable", "ImportPlan", "RowProblem", "Template",
    "normalise_many", "normalise_phone", "plan_import", "read_contacts",
]
