from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """A text value stored encrypted: a database dump shows only Fernet tokens.

    The model attribute holds the clear value. Encrypted values cannot be searched or
    compared in SQL; pair the field with a blind index (see ``crypto.blind_index``)
    where equality or uniqueness matters.
    """

    description = "Text stored encrypted"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)
