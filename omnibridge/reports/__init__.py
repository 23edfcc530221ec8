"""Reports merchants and operators ask for, computed from the store (never from logs).

Every report is a :class:`Report` registered in :data:`REPORTS` by name. The CLI (``omnibridge report NAME``) and
the console (``/console/reports/NAME``) both call :func:`run_report`, so a figure is computed by one code path.
"""

from omnibridge.reports.base import REPORTS, Grouping, Period, Report, ReportTable, Series, run_report

# each module registers its report, in the order ``omnibridge report list`` shows them
from omnibridge.reports import (  # noqa: F401  isort: skip
    order_accuracy,
    time_to_ship,
    delivery_speed,
    sync_lag,
    stock_outs,
    sell_through,
    returns,
)

__all__ = ["REPORTS", "Grouping", "Period", "Report", "ReportTable", "Series", "run_report"]
