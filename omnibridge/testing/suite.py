"""``conformance_suite(HarnessClass)``: the standard pytest tests every connector must pass.

In the connector's test module::

    from omnibridge.testing import conformance_suite
    from omnibridge_acme.conformance import AcmeHarness

    TestAcmeConformance = conformance_suite(AcmeHarness)

pytest collects one test per check (``test_<check name>``). A check about a capability the spec does not declare
is skipped with "... not declared"; a failure names the check, the capability, what was expected and what was
seen. Each test builds a fresh harness and session, runs the check in its own event loop (no pytest-anyio
fixture needed) and gives up after ``timeout`` seconds. pytest is imported lazily, so importing
:mod:`omnibridge.testing` does not need it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from omnibridge.testing.checks_capabilities import CAPABILITY_CHECKS
from omnibridge.testing.checks_common import Check, ConformanceFailure, NotApplicable
from omnibridge.testing.checks_payloads import PAYLOAD_CHECKS
from omnibridge.testing.checks_resilience import RESILIENCE_CHECKS
from omnibridge.testing.checks_spec import SPEC_CHECKS
from omnibridge.testing.harness import ConformanceHarness

__all__ = ["CHECKS", "ConformanceFailure", "NotApplicable", "conformance_suite", "run_check"]

CHECKS: tuple[Check, ...] = SPEC_CHECKS + CAPABILITY_CHECKS + PAYLOAD_CHECKS + RESILIENCE_CHECKS
"""Every check, in the order the tests are defined."""

DEFAULT_TIMEOUT = 60.0


def run_check(check: Check, harness_cls: type[ConformanceHarness], *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Run one check against a fresh harness in a new event loop.

    Raises :class:`ConformanceFailure` when the connector fails it and :class:`NotApplicable` when the check does
    not apply (the capability is not declared).
    """

    async def run() -> None:
        try:
            async with asyncio.timeout(timeout):
                await check(harness_cls())
        except TimeoutError as exc:
            raise ConformanceFailure(
                check.name, check.capability, f"the check to finish within {timeout:g} s", "it timed out"
            ) from exc

    asyncio.run(run())


def _test_method(check: Check, timeout: float, known_failure: str | None) -> Callable[[Any], None]:
    def test(self: Any) -> None:
        import pytest

        try:
            run_check(check, self.harness_cls, timeout=timeout)
        except NotApplicable as skipped:
            pytest.skip(skipped.reason)

    test.__name__ = f"test_{check.name}"
    test.__qualname__ = test.__name__
    test.__doc__ = f"[{check.capability}] {check.summary}"
    if known_failure is not None:
        import pytest

        return pytest.mark.xfail(reason=f"known failure: {known_failure}", strict=False)(test)  # type: ignore[no-any-return]
    return test


def conformance_suite(
    harness_cls: type[ConformanceHarness],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    known_failures: Mapping[str, str] | None = None,
) -> type:
    """A pytest test class (assign it to a ``Test...`` name) with one test per check in :data:`CHECKS`.

    ``known_failures`` maps check names to the reason a connector fails them today (tracked work): those tests
    are marked ``xfail`` (not strict, so a fix shows as XPASS) instead of hiding the check.
    """
    if not (isinstance(harness_cls, type) and issubclass(harness_cls, ConformanceHarness)):
        raise TypeError(f"conformance_suite expects a ConformanceHarness subclass, got {harness_cls!r}")
    known = dict(known_failures or {})
    unknown = sorted(set(known) - {check.name for check in CHECKS})
    if unknown:
        raise ValueError(f"known_failures names no check: {unknown}; checks are {[c.name for c in CHECKS]}")
    namespace: dict[str, Any] = {
        "__doc__": f"Conformance of connector {harness_cls.spec.id!r} (harness {harness_cls.__qualname__}).",
        "harness_cls": harness_cls,
    }
    for check in CHECKS:
        namespace[f"test_{check.name}"] = _test_method(check, timeout, known.get(check.name))
    return type(f"Conformance_{harness_cls.__name__}", (), namespace)
