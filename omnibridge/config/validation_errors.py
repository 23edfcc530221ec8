"""Turn pydantic validation errors into one-line :class:`~omnibridge.errors.ConfigError` messages.

Each message names the file, the line (from the file's line map), the field path and what was expected. The value
that was given is quoted only when it cannot be a credential: values taken from the environment, values of
``SecretStr`` fields and values under keys that look like credentials are described, never shown.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from omnibridge.config.located import FieldPath, PathItem, format_path
from omnibridge.config.schema import CONFIG_ERROR_TYPE
from omnibridge.config.yaml_source import YamlFile
from omnibridge.errors import ConfigError
from omnibridge.logs import is_secret_key

_TYPE_EXPECTATIONS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping of 'key: value' pairs",
    "model_type": "a mapping of 'key: value' pairs",
    "model_attributes_type": "a mapping of 'key: value' pairs",
    "url_type": "a URL such as https://example.com",
    "url_parsing": "a URL such as https://example.com",
    "url_syntax_violation": "a URL such as https://example.com",
}
_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def errors_from_validation(
    exc: ValidationError,
    source: YamlFile,
    model: type[BaseModel],
    *,
    prefix: FieldPath = (),
) -> list[ConfigError]:
    """One :class:`ConfigError` per error in ``exc``, located in ``source``.

    ``model`` is the model that was validated; ``prefix`` is where its data sits in the file (e.g.
    ``("settings",)`` for connector settings). Errors under a field already reported in ``source`` (a missing
    environment variable, a duplicate key) are dropped as noise.
    """
    found: list[ConfigError] = []
    for detail in exc.errors(include_url=False):
        error = _convert(detail, source, model, prefix)
        if error is not None:
            found.append(error)
    return found


def _convert(detail: ErrorDetails, source: YamlFile, model: type[BaseModel], prefix: FieldPath) -> ConfigError | None:
    raw_loc = tuple(detail["loc"])
    is_key = bool(raw_loc) and raw_loc[-1] == "[key]"
    rel: FieldPath = tuple(item for item in raw_loc if item != "[key]")
    path: FieldPath = (*prefix, *rel)
    if any(path[: len(failed)] == failed for failed in source.failed_paths):
        return None
    kind = detail["type"]
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    annotation, info = _resolve(model, rel)
    description = info.description if info is not None else None
    value = detail.get("input")
    hidden = _is_hidden(path, source, annotation)

    expected: str | None
    if kind == CONFIG_ERROR_TYPE:
        message, expected = str(ctx["message"]), str(ctx["expected"])
    elif is_key:
        message = f"invalid key {_show(value, hidden=False)}"
        expected = _expected_from_ctx(kind, ctx) or description
    elif kind == "missing":
        message, expected = "required key is missing", description
    elif kind == "extra_forbidden":
        message, expected = _unknown_key(model, rel)
    elif kind in {"literal_error", "enum"}:
        message, expected = f"invalid value {_show(value, hidden)}", description or f"one of {ctx.get('expected', '')}"
    elif kind in _TYPE_EXPECTATIONS:
        message = f"invalid value {_show(value, hidden)}"
        expected = _TYPE_EXPECTATIONS[kind] if kind != "string_type" or description is None else description
        if kind in {"model_type", "dict_type"} and not path:
            message = f"the file must be a mapping of 'key: value' pairs, got {_show(value, hidden)}"
    elif kind == "value_error" and not hidden:  # a validator's own words (they may quote the value)
        message, expected = _one_line(str(ctx.get("error", detail["msg"]))), description
    else:
        message = f"invalid value {_show(value, hidden)}"
        expected = description or _expected_from_ctx(kind, ctx)
        if expected is None and hidden:
            expected = "a valid value (the validator's message is not shown: it may quote a secret)"
        elif expected is None:
            message += f": {_lower_first(detail['msg'])}"
    return ConfigError(
        _one_line(message),
        file=source.display_name,
        line=source.lines.line_of(path),
        field=format_path(path) or None,
        expected=_one_line(expected) if expected else None,
    )


def _unknown_key(model: type[BaseModel], rel: FieldPath) -> tuple[str, str | None]:
    key = str(rel[-1]) if rel else "?"
    owner, _ = _resolve(model, rel[:-1])
    if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
        return f"unknown key '{key}'", None
    allowed = list(owner.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown key '{key}'{hint}", "one of: " + ", ".join(allowed)


def _expected_from_ctx(kind: str, ctx: Mapping[str, Any]) -> str | None:
    if "expected" in ctx:
        return f"one of {ctx['expected']}"
    if kind in _BOUNDS:
        name, sign = _BOUNDS[kind]
        return f"a number {sign} {ctx.get(name)}"
    if kind == "string_too_short":
        minimum = int(ctx.get("min_length", 1))
        return "a non-empty value" if minimum <= 1 else f"at least {minimum} characters"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"text matching {ctx.get('pattern')}"
    if kind == "url_scheme":
        return f"a URL with scheme {ctx.get('expected_schemes')}"
    return None


def _is_hidden(path: FieldPath, source: YamlFile, annotation: Any) -> bool:
    if any(path[: len(env)] == env for env in source.env_paths):
        return True
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(isinstance(item, str) and is_secret_key(item) for item in path)


def _show(value: Any, hidden: bool) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, Mapping):
        return "(a mapping)"
    if isinstance(value, list | tuple | set):
        return "(a list)"
    if hidden:
        return "(value hidden: it may be a secret)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve(model: type[BaseModel], rel: Sequence[PathItem]) -> tuple[Any, FieldInfo | None]:
    """The annotation found at ``rel`` inside ``model``, and the field's info if ``rel`` ends on a field."""
    current: Any = model
    info: FieldInfo | None = None
    for item in rel:
        current = _strip(current)
        info = None
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(item) if isinstance(item, str) else None
            if field is None:
                return None, None
            info = field
            current = field.annotation
            continue
        origin, args = get_origin(current), get_args(current)
        if origin in (list, set, frozenset, tuple) and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            return None, None
    return _strip(current), info


def _strip(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _one_line(text: str) -> str:
    return " ".join(text.split())
