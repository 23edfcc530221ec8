"""Failure behaviour: error classification, rate-limit compliance and idempotent retries of writes.

Failures are injected through the harness's control (``fail_next``, ``lose_next_response``) and hit the read or
write probe chosen by capability (:mod:`omnibridge.testing.checks_probes`). Any exception that is not a
:class:`~omnibridge.errors.ConnectorError` is an unclassified failure and fails the check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from omnibridge.errors import ConnectorError, FatalConnectorError, RetriableConnectorError
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.metadata import Capability
from omnibridge.testing.checks_common import Check, CheckContext, describe, hook
from omnibridge.testing.checks_probes import read_probe, write_probe
from omnibridge.testing.harness import EmulatorControl

__all__ = ["RESILIENCE_CHECKS"]


async def _outcome(operation: Callable[[], Awaitable[Any]]) -> tuple[Any, BaseException | None]:
    try:
        return await operation(), None
    except Exception as exc:
        return None, exc


def _api_requests(control: EmulatorControl) -> int | None:
    """The emulator's API request count, or None when the harness does not count (the hook is optional)."""
    try:
        return control.api_requests()
    except NotImplementedError:
        return None


def _require_resent(ctx: CheckContext, what: str, before: int | None, control: EmulatorControl) -> None:
    """With a counting harness, prove the injected failure was met: the request went out at least twice."""
    after = _api_requests(control)
    if before is not None and after is not None and after - before < 2:
        raise ctx.fail(
            f"{what}: the injected failure to be met and the request sent again (at least 2 API requests)",
            f"{after - before} API request(s) — did the harness inject the failure?",
        )


def _unclassified(ctx: CheckContext, what: str, error: BaseException | None) -> None:
    if error is not None and not isinstance(error, ConnectorError):
        raise ctx.fail(
            f"{what}: a ConnectorError subclass (Fatal/Retriable/Skippable)",
            f"an unclassified exception {describe(error)}",
        ) from error


async def _auth_fatal(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = read_probe(ctx, session)
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        hook(ctx, session.control, "fail_next", 401)
        result, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} answered 401", error)
        if not isinstance(error, FatalConnectorError):
            seen = f"it returned {describe(result)}" if error is None else f"it raised {describe(error)}"
            raise ctx.fail(f"{probe.name} answered 401 to raise FatalConnectorError", seen)


async def _transient_retried(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = read_probe(ctx, session)
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        hook(ctx, session.control, "fail_next", 503, count=1)
        _, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} answered one 503", error)
        if error is not None:
            raise ctx.fail(f"{probe.name} to be retried after one 503 and succeed", f"it raised {describe(error)}")


async def _persistent_retriable(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = read_probe(ctx, session)
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        hook(ctx, session.control, "fail_next", 503, count=50)
        result, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} answered 503 on every attempt", error)
        if not isinstance(error, RetriableConnectorError):
            seen = f"it returned {describe(result)}" if error is None else f"it raised {describe(error)}"
            raise ctx.fail(f"{probe.name} answered 503 on every attempt to raise RetriableConnectorError", seen)


async def _throttle_backoff(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = read_probe(ctx, session)
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        hook(ctx, session.control, "fail_next", 429, count=1)
        _, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} throttled once", error)
        if error is not None:
            raise ctx.fail(f"{probe.name} throttled once to back off and succeed", f"it raised {describe(error)}")


async def _bad_request(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = write_probe(ctx, session, "conformance-bad-request")
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        hook(ctx, session.control, "fail_next", 400)
        statuses, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} answered 400", error)
        if error is not None:
            if not isinstance(error, FatalConnectorError):
                raise ctx.fail(
                    f"{probe.name} answered 400: a FAILED result or FatalConnectorError (retrying will not help)",
                    f"it raised {describe(error)}",
                )
            return
        if statuses and any(status is not PushStatus.FAILED for status in statuses):
            raise ctx.fail(f"{probe.name} answered 400: FAILED results or FatalConnectorError", describe(statuses))
        if not statuses:
            raise ctx.fail(f"{probe.name} answered 400 to raise FatalConnectorError", "it returned normally")


async def _rate_limit(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = read_probe(ctx, session)
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        count = ctx.harness.rate_probe_requests
        before = hook(ctx, session.control, "refused_requests")
        outcomes = await asyncio.gather(*(_outcome(probe.run) for _ in range(count)))
        errors = [error for _, error in outcomes if error is not None]
        for error in errors:
            _unclassified(ctx, f"{count} concurrent {probe.name} calls", error)
        refused = hook(ctx, session.control, "refused_requests") - before
        if refused:
            raise ctx.fail(
                f"{count} concurrent {probe.name} calls paced by the client's limiter (0 requests refused with 429)",
                f"the emulator refused {refused} requests for exceeding the vendor's rate limit",
            )
        if errors:
            raise ctx.fail(
                f"{count} concurrent {probe.name} calls to succeed", f"{len(errors)} raised: {describe(errors[0])}"
            )


async def _idempotent_retry(ctx: CheckContext) -> None:
    async with ctx.session() as session:
        probe = write_probe(ctx, session, "conformance-idempotent-retry")
        ctx = ctx.about(str(probe.capability))
        await probe.prepare()
        before = _api_requests(session.control)
        hook(ctx, session.control, "lose_next_response", count=1)
        statuses, error = await _outcome(probe.run)
        _unclassified(ctx, f"{probe.name} whose response was lost", error)
        if isinstance(error, RetriableConnectorError):
            # The caller's retry: the engine resends the same write (same reference) later; it must not apply twice.
            statuses, error = await _outcome(probe.run)
            _unclassified(ctx, f"{probe.name} sent again after a lost response", error)
        if isinstance(error, FatalConnectorError) and probe.capability is Capability.LABELS:
            # A carrier whose label purchase has no idempotency key and no lookup by reference cannot finish a
            # purchase whose answer was lost; refusing to buy again (and saying so) keeps "never buys twice".
            problem = probe.settled()
            if problem is not None:
                raise ctx.fail(f"{probe.name} refused after a lost response, with exactly one label bought", problem)
            return
        if error is not None:
            raise ctx.fail(f"{probe.name} to complete after one lost response", f"it raised {describe(error)}")
        bad = [status for status in statuses if status not in (PushStatus.APPLIED, PushStatus.UNCHANGED)]
        if bad:
            raise ctx.fail(f"{probe.name} after one lost response: APPLIED or UNCHANGED", describe(statuses))
        problem = probe.settled()
        if problem is not None:
            raise ctx.fail(f"{probe.name} retried after a lost response to apply exactly once", problem)
        _require_resent(ctx, f"{probe.name} whose response was lost", before, session.control)


RESILIENCE_CHECKS = (
    Check("error_auth_is_fatal", "errors", "401 raises FatalConnectorError", _auth_fatal),
    Check("error_transient_is_retried", "errors", "one 503 is retried and the call succeeds", _transient_retried),
    Check(
        "error_persistent_is_retriable",
        "errors",
        "503 on every attempt raises RetriableConnectorError",
        _persistent_retriable,
    ),
    Check("error_throttle_backs_off", "errors", "one 429 is waited out and the call succeeds", _throttle_backoff),
    Check("error_bad_request_classified", "errors", "a 400 on a write is FAILED or FatalConnectorError", _bad_request),
    Check("rate_limit_respected", "rate limit", "a burst of reads never exceeds the vendor's limit", _rate_limit),
    Check("idempotent_retry", "idempotency", "a write whose response was lost applies once", _idempotent_retry),
)
