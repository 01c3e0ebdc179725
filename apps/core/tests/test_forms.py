"""``core.forms``: each form gets copies of its class's fields that are what Django's own deep
copy makes (new field, widget, widget attributes, error messages and validators; everything
else shared as a shallow copy shares it), without Python's generic copy; classes that copy
themselves in another way are left to ``copy.deepcopy``."""

import copy
import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.utils import translation

from apps.core.forms import (
    FieldsCopiedCheaply,
    Form,
    IsoDateField,
    IsoTimeField,
    _copies_its_dict,
    copy_field,
)


class Plain(forms.Form):
    """The same fields on Django's own form, for comparison."""

    name = forms.CharField(max_length=20, widget=forms.TextInput({"class": "a"}))
    day = forms.DateField(widget=forms.DateInput({"type": "date"}))
    size = forms.ChoiceField(choices=[("s", "S"), ("l", "L")])
    amount = forms.DecimalField(required=False, max_digits=5, decimal_places=2)
    when = forms.SplitDateTimeField(required=False)  # MultiValueField: its own deep copy
    tags = forms.MultipleChoiceField(choices=[("a", "A")], required=False)


class Cheap(Form):
    name = forms.CharField(max_length=20, widget=forms.TextInput({"class": "a"}))
    day = forms.DateField(widget=forms.DateInput({"type": "date"}))
    size = forms.ChoiceField(choices=[("s", "S"), ("l", "L")])
    amount = forms.DecimalField(required=False, max_digits=5, decimal_places=2)
    when = forms.SplitDateTimeField(required=False)
    tags = forms.MultipleChoiceField(choices=[("a", "A")], required=False)


COPIED = {"widget", "error_messages", "validators"}


def _same_copy(django_copy, cheap_copy, original):
    """The two copies agree, attribute by attribute, in what is new and what is shared."""
    assert type(cheap_copy) is type(django_copy) is type(original)
    assert cheap_copy is not original
    assert cheap_copy.__dict__.keys() == django_copy.__dict__.keys()
    for attribute, value in original.__dict__.items():
        cheap, django = getattr(cheap_copy, attribute), getattr(django_copy, attribute)
        if attribute in COPIED:
            assert cheap is not value and django is not value, attribute
        elif isinstance(value, (list, dict, tuple)) and django is not value:
            assert cheap is not value, attribute  # copied deeper by the field's own copy
        else:
            assert (cheap is value) == (django is value), attribute
        if attribute == "widget":
            assert type(cheap) is type(value)
            assert cheap.attrs == value.attrs and cheap.attrs is not value.attrs
            assert cheap.__dict__.keys() == django.__dict__.keys()
        elif attribute not in {"fields"}:
            assert cheap == django or attribute == "_choices" and list(cheap) == list(django)


def test_each_form_gets_copies_like_djangos_own():
    cheap, plain = Cheap(), Plain()
    assert list(cheap.fields) == list(plain.fields)
    for name, field in Cheap.base_fields.items():
        django_copy = copy.deepcopy(field)
        _same_copy(django_copy, cheap.fields[name], field)
        assert type(cheap.fields[name]) is type(plain.fields[name])


def test_a_forms_changes_to_its_fields_stay_with_it():
    first, second = Cheap(), Cheap()
    first.fields["name"].help_text = "changed"
    first.fields["name"].widget.attrs["placeholder"] = "x"
    first.fields["name"].error_messages["required"] = "say it"
    first.fields["name"].validators.append(MinLengthValidator(3))
    first.fields["size"].choices = [("m", "M")]
    first.fields["when"].fields[0].widget.attrs["class"] = "b"
    for field in (second.fields["name"], Cheap.base_fields["name"]):
        assert field.help_text == ""
        assert field.widget.attrs == {"class": "a", "maxlength": "20"}
        assert field.error_messages["required"] != "say it"
        assert not any(isinstance(v, MinLengthValidator) for v in field.validators)
    assert list(second.fields["size"].choices) == [("s", "S"), ("l", "L")]
    assert list(second.fields["size"].widget.choices) == [("s", "S"), ("l", "L")]
    assert "class" not in second.fields["when"].fields[0].widget.attrs


def test_the_forms_still_check_and_render_as_before():
    data = {"name": "李明", "day": "2026-11-30", "size": "s", "amount": "1.50", "tags": ["a"]}
    cheap, plain = Cheap(data), Plain(data)
    assert cheap.is_valid() and plain.is_valid()
    assert cheap.cleaned_data == plain.cleaned_data
    assert str(Cheap()) == str(Plain())
    bad = {"name": "x" * 30, "day": "not a day", "size": "q"}
    assert Cheap(bad).errors == Plain(bad).errors


def test_a_field_under_two_names_is_copied_once_as_deepcopy_does():
    class Shared(Form):
        first = second = forms.CharField()

    class PlainShared(forms.Form):
        first = second = forms.CharField()

    form, plain = Shared(), PlainShared()
    assert plain.fields["first"] is plain.fields["second"]
    assert form.fields["first"] is form.fields["second"]
    assert form.fields["first"] is not Shared.base_fields["first"]


class _Slotted(forms.CharField):
    __slots__ = ("extra",)


class _OwnCopy(forms.CharField):
    copied = 0

    def __copy__(self):
        type(self).copied += 1
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (forms.CharField, True),
        (forms.TextInput, True),
        (_Slotted, False),
        (_OwnCopy, False),
    ],
)
def test_only_classes_that_copy_their_attributes_are_copied_directly(cls, expected):
    assert _copies_its_dict(cls) is expected


def test_a_field_that_copies_itself_otherwise_is_left_to_deepcopy():
    class OwnForm(Form):
        name = _OwnCopy()

    before = _OwnCopy.copied
    form = OwnForm()
    assert _OwnCopy.copied == before + 1  # its own __copy__, through Field.__deepcopy__
    assert form.fields["name"] is not OwnForm.base_fields["name"]


def test_the_metaclass_serves_other_form_bases_too():
    class OtherBase(forms.BaseForm, metaclass=FieldsCopiedCheaply):
        name = forms.CharField(max_length=5)

    form = OtherBase({"name": "李明"})
    assert type(form.fields) is dict
    assert form.fields["name"] is not OtherBase.base_fields["name"]
    assert form.is_valid() and form.cleaned_data == {"name": "李明"}


def test_copy_field_is_djangos_field_copy():
    field = forms.CharField(max_length=5)
    memo = {}
    result = copy_field(field, memo)
    assert memo[id(field)] is result
    assert memo[id(field.widget)] is result.widget
    _same_copy(copy.deepcopy(field), result, field)


# Dates and times as the browser's inputs send them ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (IsoDateField(), "2026-11-30", datetime.date(2026, 11, 30)),
        (IsoDateField(), " 2026-11-30 ", datetime.date(2026, 11, 30)),
        (IsoTimeField(), "09:30", datetime.time(9, 30)),
        (IsoTimeField(), "23:59:58", datetime.time(23, 59, 58)),
    ],
)
def test_iso_dates_and_times_are_read_as_the_browser_sends_them(field, value, expected):
    assert field.clean(value) == expected


@pytest.mark.parametrize(
    ("iso", "django", "value"),
    [
        (IsoDateField(), forms.DateField(), "2026/11/30"),  # the Chinese input format
        (IsoTimeField(), forms.TimeField(), "09:30:15.000200"),
        (IsoTimeField(), forms.TimeField(), "9:30"),
    ],
)
def test_other_formats_are_read_as_django_reads_them(iso, django, value):
    with translation.override("zh-hans"):
        assert iso.clean(value) == django.clean(value)


@pytest.mark.parametrize(
    ("iso", "django", "value"),
    [
        (IsoDateField(), forms.DateField(), "2026-02-30"),
        (IsoDateField(), forms.DateField(), "2026-W48-1"),
        (IsoDateField(), forms.DateField(), "yesterday"),
        (IsoTimeField(), forms.TimeField(), "25:00"),
        (IsoTimeField(), forms.TimeField(), "09:30+08:00"),
        (IsoTimeField(), forms.TimeField(), "0930"),
    ],
)
def test_a_bad_date_or_time_gets_djangos_own_message(iso, django, value):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as ours:
            iso.clean(value)
        with pytest.raises(ValidationError) as theirs:
            django.clean(value)
    assert ours.value.messages == theirs.value.messages
    assert ours.value.messages[0] in {"输入一个有效的日期。", "输入一个有效的时间。"}


def _checking_forms():
    """The same fields, hooks and errors on Django's form and on ``Form``."""

    def clean_name(self):
        name = self.cleaned_data["name"]
        if name == "坏":
            raise ValidationError("不可以", code="bad")
        return name.upper()

    fields = {
        "name": lambda: forms.CharField(max_length=5),
        "day": lambda: forms.DateField(),
        "size": lambda: forms.ChoiceField(choices=[("s", "S"), ("l", "L")]),
        "fixed": lambda: forms.CharField(disabled=True, required=False),
        "upload": lambda: forms.FileField(required=False),
        "tags": lambda: forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False),
        "when": lambda: forms.SplitDateTimeField(required=False),
    }
    made = []
    for base in (forms.Form, Form):
        attrs = {name: make() for name, make in fields.items()}
        attrs["clean_name"] = clean_name
        made.append(type("Checked", (base,), attrs))
    return made


@pytest.mark.parametrize(
    "data",
    [
        {"name": "li", "day": "2026-11-30", "size": "l", "fixed": "posted", "tags": ["a", "b"]},
        {"name": "坏", "day": "bad", "size": "q", "when_0": "2026-11-30", "when_1": "25:00"},
        {"name": "toolong", "tags": ["z"]},
        {},
    ],
)
@pytest.mark.parametrize("prefix", [None, "p"])
def test_a_form_checks_its_fields_as_djangos_own_does(data, prefix):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.http import QueryDict
    from django.utils.datastructures import MultiValueDict

    plain_class, cheap_class = _checking_forms()
    posted = QueryDict(mutable=True)
    for key, value in data.items():
        name = f"{prefix}-{key}" if prefix else key
        posted.setlist(name, value if isinstance(value, list) else [value])
    upload = f"{prefix}-upload" if prefix else "upload"
    files = MultiValueDict({upload: [SimpleUploadedFile("a.txt", b"x")]})
    initial = {"fixed": "kept", "name": "old"}
    plain = plain_class(posted, files, prefix=prefix, initial=initial)
    cheap = cheap_class(posted, files, prefix=prefix, initial=initial)
    assert cheap.is_valid() == plain.is_valid()
    assert cheap.errors == plain.errors
    assert {k: v for k, v in cheap.cleaned_data.items() if k != "upload"} == {
        k: v for k, v in plain.cleaned_data.items() if k != "upload"
    }
    assert cheap.cleaned_data["fixed"] == "kept"  # disabled: the initial value, not what came
    assert cheap.cleaned_data.get("upload").name == plain.cleaned_data.get("upload").name
    assert str(cheap) == str(plain)  # shown afterwards, with the bound fields made then


def test_a_valid_form_makes_bound_fields_only_for_fields_that_clean_their_own_way():
    _plain_class, cheap_class = _checking_forms()
    form = cheap_class({"name": "li", "day": "2026-11-30", "size": "s"}, {})
    assert form.is_valid(), form.errors
    assert set(form._bound_fields_cache) == {"fixed", "upload"}  # disabled; a file field
