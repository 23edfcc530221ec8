"""Reports merchants and operators ask for, computed from the store (never from logs).

Every report is a :class:`Report` registered in :data:`REPORTS` by name. The CLI (``omnibridge report NAME``) and
the console (``/console/reports/NAME``) both call :func:`run_report`, so a figure is computed by one code path.
"""

from omnibridge.reports.base import REPORTS, Grouping, Period, Report, ReportTable, Series, run_report

__all__ = ["REPORTS", "Grouping", "Period", "Report", "ReportTable", "Series", "run_report"]
