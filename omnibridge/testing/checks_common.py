"""What every conformance check shares: the failure it raises, how it is skipped, and session helpers.

A check is an ``async`` function ``(harness) -> None`` registered as a :class:`Check`. It raises
:class:`ConformanceFailure` (an ``AssertionError``, so pytest reports it as a failed test) naming the check, the
capability and what was expected versus seen, or :class:`NotApplicable` when the connector does not declare what
the check is about. Checks never import pytest: :mod:`omnibridge.testing.suite` turns them into tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from omnibridge.errors import ConnectorError
from omnibridge.sdk.metadata import Capability
from omnibridge.testing.harness import ConformanceHarness, ConformanceSession, EmulatorControl

__all__ = [
    "Check",
    "CheckContext",
    "ConformanceFailure",
    "NotApplicable",
    "describe",
    "hook",
    "require_declared",
]

T = TypeVar("T")


class ConformanceFailure(AssertionError):
    """A connector does not behave as its declaration promises (or its harness cannot show that it does)."""

    def __init__(self, check: str, capability: str, expected: str, seen: str) -> None:
        self.check = check
        self.capability = capability
        self.expected = expected
        self.seen = seen
        super().__init__(f"[{check}] {capability}: expected {expected}; saw {seen}")


class NotApplicable(Exception):
    """The check does not apply to this connector (``reason`` says why, e.g. "... not declared")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def describe(value: object) -> str:
    """A short rendering of what a connector returned or raised, for failure messages."""
    if isinstance(value, BaseException):
        text = " ".join(str(value).split())
        return f"{type(value).__name__}({text[:300]!r})" if text else type(value).__name__
    text = repr(value)
    return text if len(text) <= 400 else text[:397] + "..."


@dataclass
class CheckContext:
    """One check's view of the connector: the harness, the check's name and the capability it is about."""

    harness: ConformanceHarness
    check: str
    capability: str

    @property
    def declared(self) -> frozenset[Capability]:
        return self.harness.spec.capabilities

    def fail(self, expected: str, seen: str) -> ConformanceFailure:
        """The failure to raise: ``raise ctx.fail("APPLIED", repr(result))``."""
        return ConformanceFailure(self.check, self.capability, expected, seen)

    def about(self, capability: str) -> CheckContext:
        """The same check, reporting about another capability."""
        return CheckContext(self.harness, self.check, capability)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        """The harness's session; a failure to start it is reported as this check's failure."""
        try:
            manager = self.harness.session()
            session = await manager.__aenter__()
        except ConformanceFailure:
            raise
        except Exception as exc:
            raise self.fail("the harness to start its emulator and connector", describe(exc)) from exc
        try:
            yield session
        except BaseException as exc:
            if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await manager.__aexit__(None, None, None)

    async def call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Await a connector operation that must succeed; anything it raises fails the check, naming it."""
        try:
            return await operation()
        except ConformanceFailure:
            raise
        except ConnectorError as exc:
            raise self.fail(f"{what} to succeed", f"it raised {describe(exc)}") from exc
        except Exception as exc:
            raise self.fail(f"{what} to succeed", f"an unclassified exception {describe(exc)}") from exc


def require_declared(ctx: CheckContext, *capabilities: Capability) -> None:
    """Skip unless one of ``capabilities`` is declared."""
    if not any(capability in ctx.declared for capability in capabilities):
        names = " / ".join(str(c) for c in capabilities)
        raise NotApplicable(f"{names} not declared by connector {ctx.harness.spec.id!r}")


def hook(ctx: CheckContext, control: EmulatorControl, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the control hook ``name``; a hook the harness lacks fails the check with "cannot <hook>"."""
    try:
        return getattr(control, name)(*args, **kwargs)
    except NotImplementedError as exc:
        raise ctx.fail(
            f"the harness to support the control hook {name}() (needed because {ctx.capability} is checked)",
            f"declares {ctx.capability} but the harness cannot {name}(): NotImplementedError",
        ) from exc


@dataclass(frozen=True)
class Check:
    """One conformance check: ``name`` becomes the test ``test_<name>``; ``capability`` is what it is about."""

    name: str
    capability: str
    summary: str
    run: Callable[[CheckContext], Awaitable[None]]

    async def __call__(self, harness: ConformanceHarness) -> None:
        await self.run(CheckContext(harness, self.name, self.capability))
