import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.accounts.validators import id_number_check_char, validate_id_number
from conftest import zh

FORMAT = "An ID number has 18 characters: 17 digits and a final digit or X."
BIRTH = "The date of birth in this ID number is not a real date."
CHECKSUM = "The check digit of this ID number is wrong; please check the number."


def with_check(first17: str) -> str:
    return first17 + id_number_check_char(first17)


# A well-formed number: region 420106, born 1990-01-01, sequence 123, check digit computed.
VALID = "42010619900101123" + id_number_check_char("42010619900101123")


def test_check_digit_follows_gb11643():
    # The example from the standard's annex: 11010519491231002X.
    assert id_number_check_char("11010519491231002") == "X"
    validate_id_number("11010519491231002X")
    validate_id_number("11010519491231002x")  # lower-case x is accepted and normalised


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("4201061990010112", "id_number_format", FORMAT),
        ("42010619900101123A", "id_number_format", FORMAT),
        (with_check("42010619901301123"), "id_number_birth_date", BIRTH),
        (with_check("42010630000101123"), "id_number_birth_date", BIRTH),
        (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "id_number_checksum", CHECKSUM),
    ],
)
def test_bad_id_numbers_are_refused_with_a_chinese_message(value, code, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        validate_id_number(value)
    assert error.value.code == code
    assert error.value.messages[0] == zh(message)


@pytest.mark.django_db
def test_id_number_is_encrypted_at_rest_and_masked_for_display():
    user = UserFactory(id_number=VALID)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, id_number_hash FROM accounts_user WHERE id = %s", [user.pk]
        )
        stored, fingerprint = cursor.fetchone()
    assert VALID not in stored and VALID[-4:] not in stored
    assert VALID not in fingerprint
    assert User.objects.get(pk=user.pk).id_number == VALID
    assert user.id_number_masked == "4201**********" + VALID[-4:]
    assert User.objects.with_id_number(VALID.lower()).get() == user


@pytest.mark.django_db
def test_duplicate_id_number_is_refused_and_nothing_saved():
    UserFactory(id_number=VALID)
    twin = User(username="twin", real_name="重复", id_number=VALID)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        twin.full_clean()
    assert error.value.message_dict["id_number"] == [
        zh("A user with this ID number is already registered.")
    ]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_phone_is_refused_with_a_clear_message():
    UserFactory(phone="13900001111")
    twin = User(username="twin", real_name="重复", phone="139 0000 1111")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        twin.full_clean()
    assert error.value.message_dict["phone"] == [zh("This mobile number is already registered.")]
    assert User.objects.filter(phone="13900001111").count() == 1


@pytest.mark.django_db
def test_malformed_phone_is_refused():
    user = User(username="p", real_name="号码", phone="12345")
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert error.value.message_dict["phone"] == [
        zh("Enter a mainland mobile number: 11 digits starting with 1.")
    ]
    assert not User.objects.filter(username="p").exists()
