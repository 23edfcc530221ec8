"""The warehouse export: orders, order lines, movements, shipments, returns and incidents as Parquet files
partitioned by date, written incrementally (see :mod:`omnibridge.warehouse.export`)."""

from omnibridge.warehouse.export import SOURCES, ExportReport, export_warehouse

__all__ = ["SOURCES", "ExportReport", "export_warehouse"]
