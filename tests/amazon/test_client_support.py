"""Shared helpers for the Amazon connector's respx tests (no tests here): settings, a fake clock, LWA routes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from connectors.amazon.client import AmazonConnector
from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk import RetryPolicy

ENDPOINT = "https://sellingpartner.test"
LWA_URL = "https://lwa.test/auth/o2/token"
SELLER = "A1SELLER0TEST"
MARKETPLACE = "ATVPDKIKX0DER"
FORWARDER_SECRET = "forwarder-secret-for-tests"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class FakeTime:
    """Monotonic seconds and a sleeper that advances them (and yields to the loop); ``now`` follows along."""

    def __init__(self) -> None:
        self.t = 1_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.t - 1_000.0)


def settings(**overrides: Any) -> AmazonSettings:
    values: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "lwa_endpoint": LWA_URL,
        "client_id": "amzn1.application-oa2-client.test",
        "client_secret": "lwa-client-secret",
        "refresh_token": "Atzr|refresh-token-for-tests",
        "seller_id": SELLER,
        "forwarder_secret": FORWARDER_SECRET,
        "feed_poll_seconds": 5,
    }
    values.update(overrides)
    return AmazonSettings.model_validate(values)


def connector(time: FakeTime | None = None, **overrides: Any) -> tuple[AmazonConnector, FakeTime]:
    """A connector on the test endpoints with a fake clock and a short retry policy without jitter."""
    clock = time or FakeTime()
    client = AmazonConnector(
        settings(**overrides),
        retry_policy=RetryPolicy(max_attempts=4, initial_backoff=0.5, jitter=0.0, max_elapsed=600.0),
        clock=clock.monotonic,
        sleep=clock.sleep,
        now=clock.now,
    )
    return client, clock


def rdt_route(router: respx.MockRouter) -> respx.Route:
    """The Tokens API answering each createRestrictedDataToken with a new RDT ``Atz.sprdt|1``, ..."""
    issued = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal issued
        issued += 1
        return httpx.Response(200, json={"restrictedDataToken": f"Atz.sprdt|{issued}", "expiresIn": 3600})

    return router.post(f"{ENDPOINT}/tokens/2021-03-01/restrictedDataToken").mock(side_effect=answer)


def lwa_route(router: respx.MockRouter, lifetime: int = 3600) -> respx.Route:
    """LWA answering each exchange with a new token ``Atza|1``, ``Atza|2``, ... (and the Tokens API its RDTs,
    :func:`rdt_route`)."""
    rdt_route(router)
    issued = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal issued
        issued += 1
        return httpx.Response(
            200,
            json={"access_token": f"Atza|{issued}", "token_type": "bearer", "expires_in": lifetime},
        )

    return router.post(LWA_URL).mock(side_effect=answer)


def amazon_error(status: int, code: str, message: str = "") -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message or code, "details": ""}]})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
