"""Checks of the connector's declaration: registered under its id, credentials secret, factory works."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr

from omnibridge.sdk.registry import discover_connectors
from omnibridge.testing.checks_common import Check, CheckContext, describe

__all__ = ["SPEC_CHECKS", "credential_field_problems"]

_CREDENTIAL_NAME = re.compile(r"token|secret|key|password", re.IGNORECASE)


async def _entry_point(ctx: CheckContext) -> None:
    spec = ctx.harness.spec
    registry = discover_connectors()
    registered = registry.get(spec.id)
    if registered is None:
        failures = [f"{f.name} -> {f.error}" for f in registry.failures if f.name == spec.id]
        seen = f"load failures: {failures}" if failures else f"registered ids: {registry.ids()}"
        raise ctx.fail(
            f"an entry point named {spec.id!r} in group 'omnibridge.connectors' (is the package installed?)", seen
        )
    if registered.spec is not spec and registered.spec != spec:
        raise ctx.fail(
            f"the entry point {spec.id!r} to load the harness's spec object",
            f"{registered.entry_point} loads a different spec ({describe(registered.spec.label)})",
        )


def _annotation_is_secret(annotation: Any) -> bool:
    """True when every concrete type the annotation allows (ignoring None and containers) is SecretStr."""
    if annotation is SecretStr:
        return True
    if annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _annotation_is_secret(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, dict):
        args = typing.get_args(annotation)
        if origin is dict:
            args = args[1:]
        return bool(args) and all(_annotation_is_secret(arg) for arg in args if arg is not Ellipsis)
    return False


def credential_field_problems(model: type[BaseModel]) -> list[str]:
    """Fields whose name says credential (token, secret, key, password) but whose type is not ``SecretStr``."""
    problems: list[str] = []
    for name, info in model.model_fields.items():
        if _CREDENTIAL_NAME.search(name) and not _annotation_is_secret(info.annotation):
            shown = getattr(info.annotation, "__name__", None) or repr(info.annotation)
            problems.append(f"{name}: {shown}")
    return problems


async def _credentials(ctx: CheckContext) -> None:
    model = ctx.harness.spec.settings_model
    problems = credential_field_problems(model)
    if problems:
        raise ctx.fail(
            f"every credential field of {model.__name__} (names with token/secret/key/password) to be SecretStr",
            "; ".join(problems),
        )
    extra = model.model_config.get("extra")
    if extra != "forbid":
        raise ctx.fail(
            f"{model.__name__}.model_config extra='forbid' (a misspelt profile key must be an error)",
            f"extra={extra!r}",
        )


async def _factory(ctx: CheckContext) -> None:
    spec = ctx.harness.spec
    if spec.factory is None:
        raise ctx.fail("spec.factory to build the live connector from settings", "factory is None")
    async with ctx.session() as session:
        if not isinstance(session.settings, spec.settings_model):
            raise ctx.fail(
                f"the session's settings to be a {spec.settings_model.__name__}", describe(type(session.settings))
            )
        try:
            built = spec.factory(session.settings)
        except Exception as exc:
            raise ctx.fail("spec.factory(settings) to build a connector", describe(exc)) from exc
        try:
            if type(built) is not type(session.connector):
                raise ctx.fail(
                    "the session's connector to be what spec.factory(settings) builds (what merchants get)",
                    f"factory built {type(built).__name__}, session holds {type(session.connector).__name__}",
                )
        finally:
            close = getattr(built, "aclose", None)
            if close is not None:
                await close()
        try:
            reloaded = spec.settings_model.model_validate(session.settings.model_dump())
        except Exception as exc:
            raise ctx.fail("the harness's settings to validate again from their own dump", describe(exc)) from exc
        del reloaded


SPEC_CHECKS = (
    Check("spec_entry_point", "spec", "the spec is registered under its id (discover_connectors)", _entry_point),
    Check("spec_credentials_secret", "spec", "credential settings are SecretStr; extra='forbid'", _credentials),
    Check("spec_factory", "spec", "spec.factory builds the connector from the harness's settings", _factory),
)
