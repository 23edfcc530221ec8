"""Privacy requests from channels: recorded once with a 30-day deadline, listed with their deadline status, and
acted on (redact erases, data_request prepares an export file)."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import timedelta
from pathlib import Path

from sync.fake_channel import NOW, TOKEN, FakeChannel, runtime
from sync.test_engine import delivery, world

from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.customers.privacy import PrivacyService
from omnibridge.customers.requests import PrivacyRequests
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import PRIVACY, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.privacy import PrivacyRequestEvent, PrivacyResult
from omnibridge.store import InboxStatus, Store
from omnibridge.sync import EventApplier


class RecordingEraser:
    def __init__(self) -> None:
        self.erased: list[str] = []

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        self.erased.append(customer_ref)
        return PrivacyResult(True)


def apply(store: Store, *events: PrivacyRequestEvent) -> None:
    channel = runtime("shop", FakeChannel(["L-B"]), {"L-B": "boulder"})
    EventApplier(store, channel).apply_all(events)


def test_a_request_is_recorded_once_with_its_deadline(store: Store, tmp_path: Path) -> None:
    event = PrivacyRequestEvent("d-1", "redact", NOW, customer_ref="gid://shopify/Customer/1", email="a@example.com")
    apply(store, event)
    apply(store, event)
    (request,) = PrivacyRequests(PrivacyService(store), tmp_path).list_requests()
    assert (request.channel, request.kind, request.status) == ("shop", "redact", "open")
    assert request.deadline_at == NOW + timedelta(days=30)
    assert request.deadline_status(NOW + timedelta(days=2)) == "due in 28 day(s)"
    assert request.deadline_status(NOW + timedelta(days=31, hours=1)) == "overdue by 1 day(s)"


def test_redact_erases_the_customer_without_asking_the_requesting_channel_again(store: Store, tmp_path: Path) -> None:
    people = CustomerDirectory(store)
    customer = people.resolve(ObservedIdentity("shop", "gid://shopify/Customer/1", email="a@example.com"))
    people.resolve(ObservedIdentity("pos", "SQ-1", email="A@example.com"))
    apply(store, PrivacyRequestEvent("d-1", "redact", NOW, customer_ref="gid://shopify/Customer/1"))
    shop, pos = RecordingEraser(), RecordingEraser()
    requests = PrivacyRequests(PrivacyService(store, {"shop": shop, "pos": pos}), tmp_path)
    (done,) = asyncio.run(requests.process())
    assert done.status == "done"
    assert shop.erased == []
    assert pos.erased == ["SQ-1"]
    assert people.require(customer).redacted_at is not None
    assert asyncio.run(requests.process()) == []


def test_data_request_prepares_an_owner_only_export_file(store: Store, tmp_path: Path) -> None:
    CustomerDirectory(store).resolve(ObservedIdentity("pos", "SQ-1", email="a@example.com", first_name="Ann"))
    apply(store, PrivacyRequestEvent("d-2", "data_request", NOW, customer_ref="gid://x/1", email=" A@example.com"))
    (done,) = asyncio.run(PrivacyRequests(PrivacyService(store), tmp_path / "exports").process())
    assert done.result is not None
    path = Path(done.result["file"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    held = json.loads(path.read_text())["held"]
    assert held["identities"][0]["first_name"] == "Ann"


def test_a_forwarded_request_goes_through_the_inbox_once_and_is_recorded(store: Store, tmp_path: Path) -> None:
    engine, web, _ = world(store)
    asyncio.run(engine.sync_once())
    web.webhook_payloads["d-9"] = [PrivacyRequestEvent("d-9", "data_request", NOW, email="a@example.com")]
    assert engine.receive("web", delivery("d-9"), {"x-token": TOKEN}, "").http_status == 200
    assert engine.receive("web", delivery("d-9"), {"x-token": TOKEN}, "").status == "duplicate"
    assert asyncio.run(engine.process_pending()) == 1
    (request,) = PrivacyRequests(PrivacyService(store), tmp_path).list_requests()
    assert (request.channel, request.kind, request.status) == ("web", "data_request", "open")
    assert store.inbox(status=InboxStatus.DONE)[0].delivery.delivery_id == "d-9"


def test_the_daemon_job_acts_on_open_requests(store: Store, tmp_path: Path) -> None:
    engine, _, _ = world(store)
    apply(store, PrivacyRequestEvent("d-3", "data_request", NOW, email="nobody@example.com"))
    runner = JobRunner(engine, DaemonState(tuple(engine.channels)), DaemonMetrics(), privacy_dir=tmp_path)
    assert asyncio.run(runner.run(Job(PRIVACY))) == "ok"
    (request,) = PrivacyRequests(PrivacyService(store), tmp_path).list_requests()
    assert request.status == "done"
    assert json.loads((tmp_path / f"privacy-request-{request.id}.json").read_text())["held"] is None
    scheduler = build_scheduler(JobQueue(), [], ScheduleOptions(privacy_minutes=60))
    assert {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}[PRIVACY] == 3600


class FlakyEraser(RecordingEraser):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        if self.down:
            self.down = False
            raise RetriableConnectorError("503 from the channel", connector="pos", op="erase")
        return await super().erase_customer(customer_ref)


def test_a_channel_down_leaves_the_request_open_and_the_store_untouched_until_a_retry(
    store: Store, tmp_path: Path
) -> None:
    people = CustomerDirectory(store)
    customer = people.resolve(ObservedIdentity("shop", "gid://shopify/Customer/1", email="a@example.com"))
    people.resolve(ObservedIdentity("pos", "SQ-1", email="a@example.com"))
    apply(store, PrivacyRequestEvent("d-1", "redact", NOW, customer_ref="gid://shopify/Customer/1"))
    pos = FlakyEraser()
    requests = PrivacyRequests(PrivacyService(store, {"pos": pos}), tmp_path)
    assert asyncio.run(requests.process()) == []
    (waiting,) = requests.list_requests()
    assert waiting.status == "open"
    assert waiting.result == {"error": "pos.erase: 503 from the channel"}
    assert people.require(customer).email == "a@example.com"
    (done,) = asyncio.run(requests.process())
    assert done.status == "done"
    assert pos.erased == ["SQ-1"]
    assert people.require(customer).email is None
