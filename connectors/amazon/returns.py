"""Amazon returns through the Reports API 2021-06-30: ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``.

::

    createReport {reportType, marketplaceIds, dataStartTime, dataEndTime}   (0.0167/s, burst 15; ≤ 60 days each)
        ─► getReport every report_poll_seconds until DONE | CANCELLED | FATAL   (2/s, burst 15)
        ─► getReportDocument(reportDocumentId) ─► download (gunzip when compressionAlgorithm is GZIP) ─► TSV rows

Amazon serves at most 60 days of returns per report, so a longer range is split into consecutive reports. A report
still running after ``returns_report_wait_seconds`` stays pending in the bookmark and is read on a later poll (no
second report is requested for its range). CANCELLED is Amazon's answer for a range without data (nothing to
read); FATAL means Amazon could not build it: one message says so and the range is requested again next time.

The bookmark part (``{"through", "pending", "seen"}``) makes each row read once: ``through`` is the instant before
which every report has been read; the next range starts ``returns_overlap_hours`` earlier (Amazon adds rows for
past dates late), and ``seen`` keeps the keys (:func:`~connectors.amazon.returns_report.row_key`) of the rows read
in that overlap, so a row seen again is not reported again, while a request whose status moved on is. A new range
is requested when nothing is pending and ``returns_poll_minutes`` have passed since ``through``. Malformed rows are
skipped with one message each and counted in :attr:`ReturnsPoller.malformed_rows`, once (their text is kept in
``seen`` for the overlap too). Mapping is in
:mod:`connectors.amazon.returns_report`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.amazon import mapper
from connectors.amazon.returns_report import REPORT_TYPE, parse_lines, return_events, row_key
from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk import Clock, FatalConnectorError, MapMessage, Sleeper, get_logger
from omnibridge.sdk.mapping import MapLevel
from omnibridge.sdk.returns import ReturnEvent

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

__all__ = ["MAX_REPORT_DAYS", "ReturnsPoller", "ReturnsPull", "split_range"]

CONNECTOR_ID = "amazon"
REPORTS_PATH = "/reports/2021-06-30"
MAX_REPORT_DAYS = 60
TERMINAL = frozenset({"DONE", "CANCELLED", "FATAL"})


def split_range(start: datetime, end: datetime, days: int = MAX_REPORT_DAYS) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` as consecutive ranges of at most ``days`` days (none when ``end <= start``)."""
    ranges = []
    step = timedelta(days=days)
    while start < end:
        ranges.append((start, min(start + step, end)))
        start += step
    return ranges


@dataclass
class ReturnsPull:
    """What one poll found: the events, the messages (skipped rows, failed reports) and the next bookmark part."""

    events: list[ReturnEvent]
    state: dict[str, Any]
    messages: list[MapMessage] = field(default_factory=list)


class ReturnsPoller:
    """The returns report of one seller and marketplace (see the module docstring)."""

    def __init__(
        self,
        api: AmazonApi,
        settings: AmazonSettings,
        *,
        now: Callable[[], datetime],
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self._api, self._settings, self._now, self._clock, self._sleep = api, settings, now, clock, sleep
        self._log = get_logger("connectors.amazon.returns")
        self.malformed_rows = 0
        """Rows skipped because they could not be read (each also reported as a message)."""
        self.reports_requested = 0

    async def pull(self, state: Any) -> ReturnsPull:
        """Returns reported since the bookmark part ``state`` (None: ``returns_lookback_days`` ago)."""
        settings = self._settings
        now = self._now()
        through = mapper.parse_time(state.get("through")) if isinstance(state, dict) else None
        through = through or now - timedelta(days=settings.returns_lookback_days)
        pending = [dict(p) for p in state.get("pending", [])] if isinstance(state, dict) else []
        seen: dict[str, str] = dict(state.get("seen", {})) if isinstance(state, dict) else {}
        messages: list[MapMessage] = []
        if not pending and now - through >= timedelta(minutes=settings.returns_poll_minutes):
            start = through - timedelta(hours=settings.returns_overlap_hours)
            for first, last in split_range(start, now):
                pending.append(await self._create(first, last))
        events: list[ReturnEvent] = []
        still: list[dict[str, Any]] = []
        failed: list[datetime] = []
        deadline = self._clock() + settings.returns_report_wait_seconds
        for report in pending:
            status, document_id = await self._wait(str(report["id"]), deadline)
            if status not in TERMINAL:
                still.append(report)
                continue
            if status == "FATAL":
                failed.append(mapper.parse_time(report["start"]) or through)
                messages.append(self._failed(report))
                continue
            if status == "DONE" and document_id:
                found, notes = await self._read(document_id, seen)
                events.extend(found)
                messages.extend(notes)
        if not still:
            ends = [mapper.parse_time(p.get("end")) for p in pending]
            # a failed range is asked again: ``through`` stays at or before its start (never earlier than it was)
            through = max(through, min(failed)) if failed else max([through, *(e for e in ends if e is not None)])
        horizon = mapper.format_time(through - timedelta(hours=settings.returns_overlap_hours))
        seen = {key: day for key, day in seen.items() if day >= horizon}
        next_state = {"through": mapper.format_time(through), "pending": still, "seen": dict(sorted(seen.items()))}
        return ReturnsPull(events, next_state, messages)

    async def _create(self, start: datetime, end: datetime) -> dict[str, Any]:
        body = {
            "reportType": REPORT_TYPE,
            "marketplaceIds": [self._settings.marketplace_id],
            "dataStartTime": mapper.format_time(start),
            "dataEndTime": mapper.format_time(end),
        }
        _, created = await self._api.call("createReport", "POST", f"{REPORTS_PATH}/reports", json=body)
        report_id = created.get("reportId") if isinstance(created, dict) else None
        if not isinstance(report_id, str) or not report_id:
            raise FatalConnectorError("createReport answered without reportId", connector=CONNECTOR_ID, op="returns")
        self.reports_requested += 1
        return {"id": report_id, "start": body["dataStartTime"], "end": body["dataEndTime"]}

    async def _wait(self, report_id: str, deadline: float) -> tuple[str, str | None]:
        """Poll ``getReport`` until it ends or ``deadline``; ``(processingStatus, reportDocumentId)``."""
        while True:
            _, report = await self._api.call("getReport", "GET", f"{REPORTS_PATH}/reports/{report_id}")
            status = str(report.get("processingStatus")) if isinstance(report, dict) else ""
            if status in TERMINAL or self._clock() >= deadline:
                document = report.get("reportDocumentId") if isinstance(report, dict) else None
                return status, document if isinstance(document, str) else None
            await self._sleep(self._settings.report_poll_seconds)

    async def _read(self, document_id: str, seen: dict[str, str]) -> tuple[list[ReturnEvent], list[MapMessage]]:
        _, document = await self._api.call("getReportDocument", "GET", f"{REPORTS_PATH}/documents/{document_id}")
        url = document.get("url") if isinstance(document, dict) else None
        if not isinstance(url, str) or not url:
            raise FatalConnectorError("getReportDocument answered without url", connector=CONNECTOR_ID, op="returns")
        compression = document.get("compressionAlgorithm")
        data = await self._api.download(url, compression if isinstance(compression, str) else None)
        rows, skipped = parse_lines(data.decode("utf-8-sig", errors="replace"))
        messages = []
        for key, message in skipped:  # a bad row read again in a later (overlapping) report is counted once
            if key not in seen:
                seen[key] = mapper.format_time(self._now())
                messages.append(message)
        if messages:
            self.malformed_rows += len(messages)
            self._log.warning("amazon.returns.malformed_rows", document=document_id, rows=len(messages))
        fresh = []
        for row in rows:
            key = row_key(row)
            if key not in seen:
                seen[key] = mapper.format_time(row.requested_at)
                fresh.append(row)
        return return_events(fresh), messages

    def _failed(self, report: dict[str, Any]) -> MapMessage:
        text = (
            f"Amazon could not build returns report {report['id']} for {report['start']} to {report['end']} "
            "(FATAL); that range is requested again on the next poll"
        )
        self._log.warning("amazon.returns.report_fatal", report=report["id"])
        return MapMessage(MapLevel.WARNING, "returns", text, str(report["id"]))
