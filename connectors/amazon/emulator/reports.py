"""Reports API 2021-06-30 in the Amazon emulator: the returns report ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``.

* ``createReport`` checks the ``CreateReportSpecification`` (``reportType`` this one; ``marketplaceIds`` 1..25
  holding the seller's; ``dataStartTime`` ≤ ``dataEndTime`` ≤ now, ISO 8601, at most 60 days apart as Amazon
  documents for returns reports; a missing start is 60 days before the end, a missing end is now) → 202
  ``{reportId}``.
* ``getReport``: IN_QUEUE for the first half of ``report_processing_s``, IN_PROGRESS for the second, then DONE
  with ``reportDocumentId``, or CANCELLED when no return falls in the range (Amazon's answer to a report without
  data), or FATAL when the control asked for it (``fail_next_report``).
* ``getReportDocument`` → ``{reportDocumentId, url, compressionAlgorithm?}``; the url is a pre-signed "S3" GET
  (5 minutes) serving the tab-separated document, gzipped when ``report_compression`` is ``"GZIP"``.

The rows are what the control seeded (``add_return``: one row per SKU of a return request, the columns of
:data:`connectors.amazon.returns_report.COLUMNS`; ``add_raw_return_row``: a line as given, to model a malformed
row), selected by ``Return request date`` in ``[dataStartTime, dataEndTime)``; the document is built when the
report is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.amazon.emulator.common import ApiError, format_time, invalid_input, not_found, parse_time
from connectors.amazon.returns_report import COLUMNS, REPORT_TYPE

__all__ = ["REPORT_TYPES", "ReportBook", "ReturnRow"]

REPORT_TYPES = (REPORT_TYPE,)
MAX_DAYS = 60


@dataclass
class ReturnRow:
    """One seeded row: its request date and its TSV line (``raw``: exactly as seeded, malformed or not)."""

    requested_at: datetime
    line: str


@dataclass
class StoredReport:
    report_id: str
    marketplace_ids: list[str]
    start: datetime
    end: datetime
    created: datetime
    outcome: str  # DONE | CANCELLED | FATAL once processed
    document_id: str | None = None
    document: bytes = b""

    def view(self, now: datetime, delay: timedelta) -> dict[str, Any]:
        status = "IN_QUEUE" if now < self.created + delay / 2 else "IN_PROGRESS"
        if now >= self.created + delay:
            status = self.outcome
        body: dict[str, Any] = {
            "reportId": self.report_id,
            "reportType": REPORT_TYPE,
            "marketplaceIds": list(self.marketplace_ids),
            "dataStartTime": format_time(self.start),
            "dataEndTime": format_time(self.end),
            "createdTime": format_time(self.created),
            "processingStatus": status,
        }
        if status != "IN_QUEUE":
            body["processingStartTime"] = format_time(self.created + delay / 2)
        if status in ("DONE", "CANCELLED", "FATAL"):
            body["processingEndTime"] = format_time(self.created + delay)
        if status == "DONE" and self.document_id:
            body["reportDocumentId"] = self.document_id
        return body


@dataclass
class ReportBook:
    """The seller's returns rows and the reports created from them."""

    marketplace_id: str
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    rows: list[ReturnRow] = field(default_factory=list)
    reports: dict[str, StoredReport] = field(default_factory=dict)
    fail_next: int = 0

    def add(self, values: Mapping[str, str], requested_at: datetime) -> None:
        """A well-formed row: ``values`` by column name (others empty)."""
        unknown = sorted(set(values) - set(COLUMNS))
        if unknown:
            raise ValueError(f"unknown returns report column(s) {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
        line = "\t".join(str(values.get(column, "")).replace("\t", " ") for column in COLUMNS)
        self.rows.append(ReturnRow(requested_at, line))

    def add_raw(self, line: str, requested_at: datetime) -> None:
        self.rows.append(ReturnRow(requested_at, line))

    def create(self, body: Mapping[str, Any]) -> StoredReport:
        """A new report from a ``CreateReportSpecification`` (raises :class:`ApiError` 400 when it is bad)."""
        report_type = body.get("reportType")
        if not isinstance(report_type, str) or not report_type:
            raise invalid_input("'reportType' is required.", "reportType")
        if report_type not in REPORT_TYPES:
            raise invalid_input(f"The emulator serves reportType {REPORT_TYPE}, not {report_type!r}.", "reportType")
        marketplaces = body.get("marketplaceIds")
        if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25:
            raise invalid_input("'marketplaceIds' must list 1 to 25 marketplaces.", "marketplaceIds")
        if self.marketplace_id not in marketplaces:
            raise invalid_input(f"'marketplaceIds' must include {self.marketplace_id}.", "marketplaceIds")
        now = self.clock()
        end = self._time(body, "dataEndTime") or now
        start = self._time(body, "dataStartTime") or end - timedelta(days=MAX_DAYS)
        if end > now + timedelta(seconds=1) or start > end:
            raise invalid_input("'dataStartTime' must not be after 'dataEndTime', nor either after now.")
        if end - start > timedelta(days=MAX_DAYS):
            raise invalid_input(f"{REPORT_TYPE} covers at most {MAX_DAYS} days of data; split the range.")
        rows = [row.line for row in self.rows if start <= row.requested_at < end]
        outcome = "FATAL" if self.fail_next > 0 else ("DONE" if rows else "CANCELLED")
        self.fail_next = max(0, self.fail_next - 1)
        report = StoredReport(self.new_id(), [str(m) for m in marketplaces], start, end, now, outcome)
        if outcome == "DONE":
            report.document_id = f"amzn1.spdoc.1.4.na.{report.report_id}"
            report.document = ("\t".join(COLUMNS) + "\n" + "\n".join(rows) + "\n").encode("utf-8")
        self.reports[report.report_id] = report
        return report

    def get(self, report_id: str) -> StoredReport:
        report = self.reports.get(report_id)
        if report is None:
            raise not_found(f"Report {report_id!r} not found.")
        return report

    @staticmethod
    def _time(body: Mapping[str, Any], name: str) -> datetime | None:
        raw = body.get(name)
        if raw is None:
            return None
        try:
            return parse_time(str(raw))
        except ValueError:
            raise ApiError(400, "InvalidInput", f"'{name}' {raw!r} is not an ISO 8601 date-time.", name) from None
