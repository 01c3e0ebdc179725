"""Validation of Chinese resident ID numbers (GB 11643-1999) and mobile phone numbers."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_number_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_number_birth_date(value: str) -> datetime.date | None:
    try:
        return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str) -> None:
    value = normalize_id_number(value)
    if not _ID_PATTERN.match(value):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a final digit or X."),
            code="id_number_format",
        )
    birth = id_number_birth_date(value)
    if birth is None or birth > datetime.date.today() or birth.year < 1900:
        raise ValidationError(
            _("The date of birth in this ID number is not a real date."),
            code="id_number_birth_date",
        )
    if id_number_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong; please check the number."),
            code="id_number_checksum",
        )


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    return value


validate_phone = RegexValidator(
    regex=r"^1[3-9]\d{9}$",
    message=_("Enter a mainland mobile number: 11 digits starting with 1."),
    code="phone_format",
)
