"""Read-only views of rows: frozen dataclasses the services hand out instead of ORM objects."""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

View = TypeVar("View", bound="DataclassInstance")


@cache
def _field_names(view: type[DataclassInstance]) -> tuple[str, ...]:
    # Asked once a class, not once a row: a list of papers builds a view per paper.
    return tuple(f.name for f in fields(view))


def view_of(view: type[View], row: object, **given: Any) -> View:
    """The dataclass `view` of `row`: each field not in `given` is the row's attribute of
    the same name."""
    taken = {name: getattr(row, name) for name in _field_names(view) if name not in given}
    return view(**taken, **given)
