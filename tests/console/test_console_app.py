"""The console over HTTP (no browser): sign-in with an API token, signed cookies and CSRF, viewer reads and
operator acts through the same services as the API (audited with the token), the overview's judgement, the SKU
page and the report pages."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.console import ConsoleContext, console_app
from omnibridge.console.overview import ChannelRow, judge, percentile
from omnibridge.console.session import COOKIE, Signer
from omnibridge.models import MovementKind, Product, StockMovement, Variant
from omnibridge.reports.base import REPORTS, Grouping, Period, Report, ReportTable, Series, register
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Incident, Store

pytestmark = pytest.mark.anyio
CLI_USER = Actor("user", "alice")
PLACED = datetime(2026, 11, 30, 9, tzinfo=UTC)


@dataclass
class Console:
    client: httpx.AsyncClient
    store: Store
    tokens: dict[Role, str]
    requeued: list[int]

    async def sign_in(self, role: Role) -> None:
        answer = await self.client.post("/console/login", data={"token": self.tokens[role], "next": "/console/"})
        assert answer.status_code == 303, answer.text

    async def csrf(self, path: str = "/console/actions") -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found is not None, page.text
        return found.group(1)


@pytest.fixture
async def console(store: Store) -> AsyncIterator[Console]:
    made = {role: tokens.create(store, role, f"{role.value} token", CLI_USER)[1] for role in Role}
    requeued: list[int] = []
    app = console_app(ConsoleContext(store, on_requeued=lambda: requeued.append(1)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        yield Console(client, store, made, requeued)


def dead(store: Store, name: str) -> int:
    delivery = WebhookDelivery(name, name, "orders/create", json.dumps({"id": name}).encode(), {}, PLACED)
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    store.finish_delivery(entry_id, InboxStatus.DEAD, f"{name}: unknown SKU")
    return entry_id


async def test_pages_need_a_session_and_a_bad_token_is_refused(console: Console) -> None:
    bare = await console.client.get("/console/")
    assert bare.status_code == 303
    assert bare.headers["location"] == "/console/login?next=/console/"
    wrong = await console.client.post("/console/login", data={"token": "obt_123456789abc_" + "x" * 43})
    assert wrong.status_code == 401
    assert "that is not a valid API token" in wrong.text
    console.client.cookies.set(COOKIE, "123456789abc.1.deadbeef", path="/console")
    forged = await console.client.get("/console/")
    assert forged.status_code == 303


async def test_the_session_cookie_is_httponly_strict_and_holds_no_secret(console: Console) -> None:
    answer = await console.client.post("/console/login", data={"token": console.tokens[Role.VIEWER]})
    header = answer.headers["set-cookie"]
    assert "HttpOnly" in header
    assert "SameSite=strict" in header or "SameSite=Strict" in header
    assert console.tokens[Role.VIEWER].split("_", 2)[2] not in header
    assert (await console.client.get("/console/")).status_code == 200


async def test_a_revoked_token_ends_its_session(console: Console) -> None:
    await console.sign_in(Role.VIEWER)
    viewer = tokens.authenticate(console.store, console.tokens[Role.VIEWER])
    assert viewer is not None
    tokens.revoke(console.store, viewer.id, CLI_USER)
    assert (await console.client.get("/console/")).status_code == 303


async def test_a_viewer_sees_the_queue_but_may_not_act(console: Console) -> None:
    entry_id = dead(console.store, "d-1")
    await console.sign_in(Role.VIEWER)
    page = await console.client.get("/console/actions")
    assert "d-1: unknown SKU" in page.text
    assert "an operator token can act on these" in page.text
    csrf = await console.csrf()
    refused = await console.client.post(
        "/console/actions/deadletters", data={"csrf": csrf, "action": "replay", "id": str(entry_id)}
    )
    assert refused.status_code == 403
    assert "this needs the operator role" in refused.text


async def test_a_post_without_the_csrf_token_is_refused(console: Console) -> None:
    entry_id = dead(console.store, "d-1")
    await console.sign_in(Role.OPERATOR)
    refused = await console.client.post("/console/actions/deadletters", data={"action": "replay", "id": str(entry_id)})
    assert refused.status_code == 403
    assert "this form is stale" in refused.text
    assert console.requeued == []


async def test_an_operator_replays_and_discards_dead_letters_audited_as_the_token(console: Console) -> None:
    first, second = dead(console.store, "d-1"), dead(console.store, "d-2")
    await console.sign_in(Role.OPERATOR)
    csrf = await console.csrf()
    replayed = await console.client.post(
        "/console/actions/deadletters", data={"csrf": csrf, "action": "replay", "id": str(first)}
    )
    assert "Replay: 1 done" in replayed.text
    assert console.requeued == [1]
    no_reason = await console.client.post(
        "/console/actions/deadletters", data={"csrf": csrf, "action": "discard", "id": str(second)}
    )
    assert no_reason.status_code == 400
    assert "say why" in no_reason.text
    discarded = await console.client.post(
        "/console/actions/deadletters",
        data={"csrf": csrf, "action": "discard", "id": str(second), "reason": "test order"},
    )
    assert "Discard: 1 done" in discarded.text
    operator = tokens.authenticate(console.store, console.tokens[Role.OPERATOR])
    assert operator is not None
    actions = {(r.action, r.actor) for r in audit.records(console.store)}
    assert ("deadletter.replay", str(operator.actor)) in actions
    assert ("deadletter.discard", str(operator.actor)) in actions


async def test_an_operator_resolves_incidents_in_bulk_and_filters_by_channel(console: Console) -> None:
    console.store.add_incident(Incident("drift", "alert", "web shows 9 of A at wh", "d-1", "web", "A", "wh"))
    console.store.add_incident(Incident("drift", "alert", "pos shows 3 of B at wh", "d-2", "pos", "B", "wh"))
    await console.sign_in(Role.OPERATOR)
    filtered = await console.client.get("/console/actions", params={"channel": "pos"})
    assert "pos shows 3 of B" in filtered.text
    assert "web shows 9 of A" not in filtered.text
    ids = [str(incident.id) for incident in console.store.incidents()]
    csrf = await console.csrf()
    done = await console.client.post(
        "/console/actions/incidents", data={"csrf": csrf, "action": "resolve", "id": ids, "reason": "recounted"}
    )
    assert "Resolve: 2 done" in done.text
    assert console.store.incidents(resolved=False) == []
    resolved = [r for r in audit.records(console.store) if r.action == "incident.resolve"]
    assert len(resolved) == 2
    assert all(r.actor.startswith("token:") for r in resolved)


async def test_the_overview_counts_what_waits(console: Console) -> None:
    dead(console.store, "d-1")
    console.store.add_incident(Incident("drift", "alert", "web shows 9 of A at wh", "d-1", "web", "A", "wh"))
    await console.sign_in(Role.VIEWER)
    page = await console.client.get("/console/")
    assert page.status_code == 200
    assert re.search(r"Dead letters</a></td><td>1</td>", page.text)
    assert re.search(r"Open incidents</a></td><td>1</td>", page.text)
    assert '<a href="/console/channels/web">web</a>' in page.text


def test_freshness_is_judged_against_the_interval() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    polled = ChannelRow("pos", "polled", last_sync=now - timedelta(seconds=30))
    judge(polled, now, 60)
    assert polled.status == "on time"
    polled.last_sync = now - timedelta(seconds=90)
    judge(polled, now, 60)
    assert (polled.status, polled.why) == ("late", "the last sync is 90 s old, past the 60 s target")
    polled.last_sync = now - timedelta(seconds=121)
    judge(polled, now, 60)
    assert polled.status == "error"
    hooks = ChannelRow("web", "webhooks", oldest_pending_s=200.0)
    judge(hooks, now, 3600)
    assert hooks.status == "error"
    hooks = ChannelRow("web", "webhooks", failed_writes_1h=2)
    judge(hooks, now, 3600)
    assert (hooks.status, hooks.why) == ("error", "2 writes failed in the last hour")


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None


async def test_an_unknown_sku_is_one_line(console: Console) -> None:
    await console.sign_in(Role.VIEWER)
    page = await console.client.get("/console/sku/NOPE")
    assert page.status_code == 404
    assert "unknown SKU &#39;NOPE&#39;: it is not in the store" in page.text
    assert "Traceback" not in page.text


@pytest.fixture
def test_report() -> Iterator[Report]:
    def compute(_store: Store, period: Period, by: Grouping | None) -> ReportTable:
        rows = (("web", 3), ("pos", 5))
        return ReportTable(
            title=f"Sold by {by.value if by else 'channel'}",
            columns=("channel", "units"),
            rows=rows,
            series=(Series("units", tuple((name, float(units)) for name, units in rows)),),
        )

    report = register(Report("units-test", "Units (test)", "units sold, a test report", (Grouping.CHANNEL,), compute))
    yield report
    REPORTS.pop("units-test")


async def test_a_registered_report_is_listed_and_rendered_with_its_chart(console: Console, test_report: Report) -> None:
    await console.sign_in(Role.VIEWER)
    index = await console.client.get("/console/reports")
    assert '<a href="/console/reports/units-test">Units (test)</a>' in index.text
    page = await console.client.get("/console/reports/units-test", params={"by": "channel", "days": "7"})
    assert page.status_code == 200
    assert "<td>pos</td><td>5</td>" in page.text
    assert "<svg" in page.text
    bad = await console.client.get("/console/reports/units-test", params={"days": "x"})
    assert bad.status_code == 400
    missing = await console.client.get("/console/reports/nope")
    assert missing.status_code == 404


async def test_the_channel_timeline_shows_deliveries_syncs_and_who_acted_with_secrets_masked(console: Console) -> None:
    entry_id = dead(console.store, "d-1")
    console.store.finish_delivery(entry_id, InboxStatus.DEAD, "vendor said: Authorization: Bearer abc.def.ghi")
    discarded = dead(console.store, "d-2")
    console.store.set_bookmark("web", "cursor-1")
    await console.sign_in(Role.OPERATOR)
    csrf = await console.csrf()
    await console.client.post(
        "/console/actions/deadletters",
        data={"csrf": csrf, "action": "discard", "id": str(discarded), "reason": "test order"},
    )
    page = await console.client.get("/console/channels/web")
    assert f"delivery {entry_id} orders/create: dead" in page.text
    assert "abc.def.ghi" not in page.text
    assert "sync</td><td>orders and stock read (bookmark moved)" in page.text
    assert re.search(rf"deadletter.discard inbox:{discarded}</td><td>token:[0-9a-f]+ \(operator token\)", page.text)
    only_syncs = await console.client.get("/console/channels/web", params={"kind": "sync"})
    assert "bookmark moved" in only_syncs.text
    assert "orders/create" not in only_syncs.text
    other = await console.client.get("/console/channels/pos")
    assert "orders/create" not in other.text


async def test_the_reports_page_draws_stock_outs_by_location(console: Console) -> None:
    console.store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku="A", product_id="P")]))
    for location, units in (("wh", 0), ("nyc", 4)):
        console.store.apply(
            StockMovement(
                idempotency_key=f"count:{location}",
                source="manual",
                kind=MovementKind.COUNT,
                sku="A",
                location_id=location,
                quantity=units,
                occurred_at=PLACED,
            )
        )
    await console.sign_in(Role.VIEWER)
    page = await console.client.get("/console/reports")
    assert '<figure id="stockout-chart">' in page.text
    assert "Stock-outs by location" in page.text


async def test_a_store_that_cannot_be_read_is_one_line_not_a_traceback(console: Console) -> None:
    if console.store.engine.dialect.name != "sqlite":
        pytest.skip("a dropped table stands in for an outage only on SQLite (an OperationalError there)")
    await console.sign_in(Role.VIEWER)
    with console.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE incidents")
    page = await console.client.get("/console/")
    assert page.status_code == 503
    assert "the store is unavailable: database error at" in page.text
    assert "Traceback" not in page.text
    with console.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE api_tokens")
    again = await console.client.get("/console/")
    assert again.status_code == 503
    assert "cannot check your sign-in now" in again.text
    login = await console.client.post("/console/login", data={"token": console.tokens[Role.VIEWER]})
    assert login.status_code == 503
    assert "cannot check the token now" in login.text


async def test_the_sku_lookup_finds_a_sku_with_spaces_and_hashes(console: Console) -> None:
    sku = "TENT 4P#BLU"
    console.store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku=sku, product_id="P")]))
    console.store.apply(
        StockMovement(
            idempotency_key="count:wh",
            source="manual",
            kind=MovementKind.COUNT,
            sku=sku,
            location_id="wh",
            quantity=7,
            occurred_at=PLACED,
        )
    )
    await console.sign_in(Role.VIEWER)
    found = await console.client.get("/console/sku", params={"sku": sku}, follow_redirects=True)
    assert found.status_code == 200
    assert "<h1>SKU TENT 4P#BLU</h1>" in found.text
    assert "<tr><td>wh</td><td>7</td>" in found.text


def test_a_session_cookie_expires_after_twelve_hours_and_cannot_be_altered() -> None:
    signer = Signer(b"k" * 32)
    started = datetime(2026, 12, 1, 8, tzinfo=UTC)
    cookie = signer.cookie("0123456789ab", started)
    assert signer.token_id(cookie, started + timedelta(hours=11, minutes=59)) == "0123456789ab"
    assert signer.token_id(cookie, started + timedelta(hours=12, seconds=1)) is None
    token_id, moment, mac = cookie.split(".")
    assert signer.token_id(f"ba9876543210.{moment}.{mac}", started) is None
    assert signer.token_id(f"{token_id}.{int(moment) + 3600}.{mac}", started) is None
    assert Signer(b"x" * 32).token_id(cookie, started) is None
    assert signer.csrf_ok(cookie, signer.csrf(cookie))
    assert not signer.csrf_ok(cookie, Signer(b"x" * 32).csrf(cookie))
