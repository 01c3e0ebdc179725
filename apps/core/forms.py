"""Forms whose fields are copied for each form without Python's generic copy.

Django gives each form its own copy of the form class's fields (``copy.deepcopy(base_fields)``
in ``BaseForm.__init__``), so that a form may change its fields. ``copy.copy`` of a field or
a widget goes through the object's ``__reduce_ex__``, which costs several times what copying
its attributes does: for the thirteen fields of the form a volunteer logs service with, a
third of a millisecond on every submit, more than checking most of the posted values.

``Form`` (and ``FieldsCopiedCheaply`` for other form bases) copies each field as its own
``__deepcopy__`` would (Django's ``Field.__deepcopy__``, ``Widget.__deepcopy__`` and
``ChoiceWidget.__deepcopy__``: a new object with the same attributes, then its own widget,
widget attributes, error messages and validators), by copying the attributes directly. A
field or widget class that copies itself in any other way (its own ``__deepcopy__``,
``__copy__``, ``__reduce__``, state methods or slots) is copied by ``copy.deepcopy`` as before;
``copy_field`` is for such a class's own ``__deepcopy__`` to start from.

``Form`` also checks a posted value without first making the field's bound field (see
``Form._clean_fields``), which a form only needs when it is shown.
"""

from __future__ import annotations

import copy
import datetime
import functools
import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.widgets import ChoiceWidget


@functools.cache
def _copies_its_dict(cls) -> bool:
    """Whether ``copy.copy`` of an instance makes a new one with the same ``__dict__`` (the
    default: no ``__copy__``, reduce or state methods of its own, no slots)."""
    return (
        getattr(cls, "__copy__", None) is None
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
        and getattr(cls, "__setstate__", None) is None
        and not any("__slots__" in vars(klass) for klass in cls.__mro__)
    )


def _new_like(obj):
    """``copy.copy(obj)`` for a class that ``_copies_its_dict``."""
    cls = type(obj)
    new = cls.__new__(cls)
    new.__dict__.update(obj.__dict__)
    return new


@functools.cache
def _widget_copy(cls) -> str:
    """How ``copy.deepcopy`` copies a widget of this class: "widget" (``Widget.__deepcopy__``),
    "choices" (``ChoiceWidget.__deepcopy__``) or "other"."""
    if not _copies_its_dict(cls):
        return "other"
    if cls.__deepcopy__ is forms.Widget.__deepcopy__:
        return "widget"
    if cls.__deepcopy__ is ChoiceWidget.__deepcopy__:
        return "choices"
    return "other"


def _copy_widget(widget, memo: dict):
    done = memo.get(id(widget))
    if done is not None:
        return done  # shared by two fields: one copy, as ``copy.deepcopy`` makes
    how = _widget_copy(type(widget))
    if how == "other":
        return copy.deepcopy(widget, memo)
    result = _new_like(widget)
    result.attrs = widget.attrs.copy()
    if how == "choices":
        result.choices = copy.copy(widget.choices)
    memo[id(widget)] = result
    return result


def copy_field(field, memo: dict):
    """What ``forms.Field.__deepcopy__`` makes of ``field``, without the generic copy."""
    result = _new_like(field)
    memo[id(field)] = result
    result.widget = _copy_widget(field.widget, memo)
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    return result


@functools.cache
def _plain_field(cls) -> bool:
    return cls.__deepcopy__ is forms.Field.__deepcopy__ and _copies_its_dict(cls)


class _BaseFields(dict):
    """A form class's fields; a deep copy is a plain dict of copies (``copy_field``)."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, field in self.items():
            done = memo.get(id(field))
            if done is not None:
                copies[name] = done
            elif _plain_field(type(field)):
                copies[name] = copy_field(field, memo)
            else:
                copies[name] = copy.deepcopy(field, memo)
        return copies


class FieldsCopiedCheaply(DeclarativeFieldsMetaclass):
    """The form metaclass, with the class's fields copied as ``_BaseFields`` describes."""

    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = _BaseFields(new_class.base_fields)
        return new_class


class Form(forms.Form, metaclass=FieldsCopiedCheaply):
    """``django.forms.Form``, its fields copied for each form without the generic copy, and
    checked without a bound field for each (``_clean_fields``)."""

    def _clean_fields(self):
        """``BaseForm._clean_fields``, reading a field's posted value directly when it cleans
        as ``forms.Field`` does (the posted value, not disabled) rather than through a bound
        field made for it: a posted form that is valid is never shown, and making the bound
        fields cost about a quarter of checking the record form's thirteen. A field that
        cleans in its own way (a file field, say) or is disabled gets its bound field as
        before, and a form that is shown makes them all when it is rendered."""
        for name, field in self.fields.items():
            try:
                if field.disabled or not _cleans_posted_value(type(field)):
                    value = field._clean_bound_field(self[name])
                else:
                    posted = self._widget_data_value(field.widget, self.add_prefix(name))
                    value = field.clean(posted)
                self.cleaned_data[name] = value
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)


@functools.cache
def _cleans_posted_value(cls) -> bool:
    """Whether the field class cleans its bound field's data alone (``Field``'s own way)."""
    return cls._clean_bound_field is forms.Field._clean_bound_field


# Dates and times as the browser's inputs send them ----------------------------------------------

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?")


class IsoDateField(forms.DateField):
    """``forms.DateField`` that reads ``YYYY-MM-DD``, what ``<input type="date">`` posts, at
    once; anything else goes through the localised input formats as before. Django tries those
    formats in turn with ``strptime`` (for Chinese, ``%Y/%m/%d`` first, which fails on an ISO
    date), which costs far more than reading the date."""

    def to_python(self, value):
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass  # 2026-02-30: Django's own message
        return super().to_python(value)


class IsoTimeField(forms.TimeField):
    """``forms.TimeField`` that reads ``HH:MM`` or ``HH:MM:SS``, what ``<input type="time">``
    posts, at once; anything else as before (``IsoDateField``)."""

    def to_python(self, value):
        if isinstance(value, str) and _ISO_TIME.fullmatch(value.strip()):
            try:
                return datetime.time.fromisoformat(value.strip())
            except ValueError:
                pass  # 25:00: Django's own message
        return super().to_python(value)
