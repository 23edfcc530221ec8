"""Checks on recorded payloads: mapper fixtures and webhook signature vectors (including the kit's forgeries)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from omnibridge.errors import WebhookError
from omnibridge.sdk.metadata import Capability
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.testing.checks_common import Check, CheckContext, describe, require_declared
from omnibridge.testing.harness import WebhookVector

__all__ = ["PAYLOAD_CHECKS", "forgeries"]


async def _mapper(ctx: CheckContext) -> None:
    fixtures = list(ctx.harness.mapper_fixtures())
    if not fixtures:
        raise ctx.fail(
            "mapper_fixtures() to give at least one recorded payload per record type the connector maps", "none"
        )
    for fixture in fixtures:
        try:
            parsed = fixture.parse(fixture.payload)
        except Exception as exc:
            raise ctx.fail(f"fixture {fixture.name!r} to parse", describe(exc)) from exc
        if parsed != fixture.expected:
            raise ctx.fail(f"fixture {fixture.name!r} to parse to {describe(fixture.expected)}", describe(parsed))
        if fixture.render is None:
            continue
        try:
            again = fixture.parse(fixture.render(fixture.expected))
        except Exception as exc:
            raise ctx.fail(f"fixture {fixture.name!r} to survive parse(render(expected))", describe(exc)) from exc
        if again != fixture.expected:
            raise ctx.fail(f"fixture {fixture.name!r}: parse(render(expected)) == expected", describe(again))


def _altered(value: str) -> str:
    """``value`` with one character changed to another of the same kind (still well-formed base64/hex)."""
    if not value:
        return "x"
    position = len(value) // 2
    char = value[position]
    replacement = "B" if char == "A" else "A"
    if char.isdigit():
        replacement = "1" if char == "0" else "0"
    elif char.islower():
        replacement = "b" if char == "a" else "a"
    return value[:position] + replacement + value[position + 1 :]


def _without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


def forgeries(vector: WebhookVector) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """The kit's forgeries of a valid vector: a flipped body byte (when the body is signed); each signature header
    dropped; each altered."""
    headers = dict(vector.headers)
    if vector.body and vector.body_signed:
        position = len(vector.body) // 2
        flipped = vector.body[:position] + bytes([vector.body[position] ^ 0x01]) + vector.body[position + 1 :]
        yield "one body byte flipped", flipped, headers
    for name in vector.signature_headers:
        yield f"{name} removed", vector.body, _without(headers, name)
        present = [value for key, value in headers.items() if key.lower() == name.lower()]
        if present:
            yield f"{name} altered", vector.body, {**_without(headers, name), name: _altered(present[0])}


def _verify(ctx: CheckContext, connector: Any, vector: WebhookVector, body: bytes, headers: Mapping[str, str]) -> Any:
    return connector.verify_webhook(body, headers, vector.url)


async def _vectors(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.WEBHOOKS)
    vectors = list(ctx.harness.webhook_vectors())
    if not vectors:
        raise ctx.fail("webhook_vectors() to give signed deliveries (valid and invalid)", "none")
    async with ctx.session() as session:
        connector = session.connector
        for vector in vectors:
            try:
                delivery = _verify(ctx, connector, vector, vector.body, vector.headers)
            except WebhookError as exc:
                if vector.valid:
                    raise ctx.fail(f"valid vector {vector.name!r} to verify", describe(exc)) from exc
                continue
            except Exception as exc:
                raise ctx.fail(
                    f"vector {vector.name!r} to {'verify' if vector.valid else 'raise WebhookError'}",
                    f"an unclassified exception {describe(exc)}",
                ) from exc
            if not vector.valid:
                raise ctx.fail(
                    f"invalid vector {vector.name!r} to raise WebhookError", f"accepted: {describe(delivery)}"
                )
            if not isinstance(delivery, WebhookDelivery) or delivery.raw_body != vector.body:
                raise ctx.fail(f"a WebhookDelivery carrying the raw body of {vector.name!r}", describe(delivery))
            if vector.expected_delivery_id is not None and delivery.delivery_id != vector.expected_delivery_id:
                raise ctx.fail(
                    f"vector {vector.name!r} to have delivery_id {vector.expected_delivery_id!r}",
                    repr(delivery.delivery_id),
                )


async def _forgeries(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.WEBHOOKS)
    valid = [vector for vector in ctx.harness.webhook_vectors() if vector.valid]
    if not valid:
        raise ctx.fail("at least one valid webhook vector to forge", "none")
    async with ctx.session() as session:
        for vector in valid:
            if not vector.signature_headers:
                raise ctx.fail(f"vector {vector.name!r} to name its signature_headers (for the forgeries)", "none")
            for what, body, headers in forgeries(vector):
                try:
                    accepted = _verify(ctx, session.connector, vector, body, headers)
                except WebhookError:
                    continue
                except Exception as exc:
                    raise ctx.fail(
                        f"a forgery of {vector.name!r} ({what}) to raise WebhookError",
                        f"an unclassified exception {describe(exc)}",
                    ) from exc
                raise ctx.fail(
                    f"a forgery of {vector.name!r} ({what}) to be refused with WebhookError",
                    f"accepted: {describe(accepted)}",
                )


PAYLOAD_CHECKS = (
    Check("mapper_fixtures", "mapper", "recorded payloads map to what the harness expects", _mapper),
    Check("webhook_vectors", "webhooks", "valid vectors verify, invalid ones raise WebhookError", _vectors),
    Check("webhook_forgeries", "webhooks", "flipped bytes, dropped or altered signatures are refused", _forgeries),
)
