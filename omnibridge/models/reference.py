"""Renders the field-by-field reference of the canonical model (``docs/model.md``) from the models themselves.

The page is generated so it cannot drift from the code: a test compares the committed page with
:func:`render_reference`. Regenerate with ``python -m omnibridge.models.reference > docs/model.md``.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
import types
import typing
from enum import Enum

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from omnibridge import models

SECTIONS: list[tuple[str, list[type[BaseModel] | type[Enum]]]] = [
    ("Building blocks", [models.Money, models.Address, models.GeoPoint]),
    ("Catalog", [models.Product, models.Variant]),
    ("Locations", [models.Location, models.LocationType, models.LocationCapability]),
    (
        "Stock",
        [
            models.InventoryPosition,
            models.StockMovement,
            models.MovementKind,
            models.RecordedMovement,
            models.MovementResult,
            models.MovementStatus,
        ],
    ),
    ("Orders", [models.Order, models.OrderLine, models.OrderStatus, models.FulfilmentMethod]),
    (
        "Shipments and returns",
        [
            models.Shipment,
            models.ShipmentLine,
            models.TrackingEvent,
            models.TrackingStatus,
            models.Return,
            models.ReturnLine,
            models.ReturnStatus,
        ],
    ),
    ("Customers", [models.Customer, models.ChannelIdentity, models.Consent]),
    ("Listings and prices", [models.Listing, models.ListingStatus]),
    ("Channel bindings", [models.ChannelBinding, models.BoundRecord]),
]

_HEADER = """\
# Canonical model reference

Every connector maps its vendor's records onto these models and nothing else; the ledger, the store and the
sync engine only ever see these shapes. All models reject unknown fields. Timestamps carry a timezone. Money is
a decimal amount with an ISO 4217 currency. This page is generated from the code
(`python -m omnibridge.models.reference > docs/model.md`); a test fails when it is out of date.
"""


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (types.UnionType, typing.Union):
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "empty" if info.default_factory in (list, dict, set) else "generated"
    if info.default is PydanticUndefined:
        return ""
    return f"`{info.default.value if isinstance(info.default, Enum) else info.default!r}`"


def _constraints(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for name in ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern"):
            value = getattr(meta, name, None)
            if value is not None:
                parts.append(f"{name}={value}")
    return ", ".join(parts)


def _member_docs(enum_cls: type[Enum]) -> dict[str, str]:
    """Docstrings written under enum members (a string literal right after the assignment)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(enum_cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for current, following in itertools.pairwise(body):
        if (
            isinstance(current, ast.Assign)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            target = current.targets[0]
            if isinstance(target, ast.Name):
                docs[target.id] = " ".join(following.value.value.split())
    return docs


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _render_model(model: type[BaseModel]) -> list[str]:
    lines = [f"### {model.__name__}", "", _cell(inspect.getdoc(model) or ""), ""]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        description = info.description or ""
        constraints = _constraints(info)
        if constraints:
            description = f"{description} ({constraints})" if description else f"({constraints})"
        lines.append(f"| `{name}` | {_cell(_type_name(info.annotation))} | {_default(info)} | {_cell(description)} |")
    for name, computed in model.model_computed_fields.items():
        doc = computed.description or inspect.getdoc(getattr(model, name)) or "derived"
        lines.append(f"| `{name}` | {_type_name(computed.return_type)} | derived | {_cell(doc)} |")
    lines.append("")
    return lines


def _render_enum(enum_cls: type[Enum]) -> list[str]:
    docs = _member_docs(enum_cls)
    lines = [f"### {enum_cls.__name__}", "", _cell(inspect.getdoc(enum_cls) or ""), ""]
    lines += ["| value | meaning |", "|---|---|"]
    for member in enum_cls:
        lines.append(f"| `{member.value}` | {_cell(docs.get(member.name, ''))} |")
    lines.append("")
    return lines


def render_reference() -> str:
    """The whole reference page as Markdown."""
    out = [_HEADER]
    for title, items in SECTIONS:
        out += [f"## {title}", ""]
        for item in items:
            if isinstance(item, type) and issubclass(item, Enum):
                out += _render_enum(item)
            else:
                out += _render_model(item)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
