"""Read-only views of rows: frozen dataclasses the services hand out instead of ORM objects."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

View = TypeVar("View", bound="DataclassInstance")


def view_of(view: type[View], row: object, **given: Any) -> View:
    """The dataclass `view` of `row`: each field not in `given` is the row's attribute of
    the same name."""
    names = [f.name for f in fields(view) if f.name not in given]
    return view(**{name: getattr(row, name) for name in names}, **given)
