"""Runs one benchmark and prints its figures as a table, or as one JSON object with ``--json``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

BENCHMARKS = {
    "ledger": "bench.ledger",
    "reconcile": "bench.reconcile",
    "bulk_push": "bench.bulk_push",
    "ingest": "bench.ingest",
    "propagation": "bench.propagation",
    "oversell": "bench.oversell",
    "amazon_feed": "bench.amazon_feed",
    "order_lines": "bench.order_lines",
    "routing": "bench.routing",
    "files_feed": "bench.files_feed",
    "pickup": "bench.pickup",
    "console": "bench.console",
    "budgets": "bench.budgets",
    "scale": "bench.scale",
    "gil_switch": "bench.gil_switch",
}


def _table(result: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = result["rows"]
    columns = list(rows[0].keys()) if rows else []
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in columns}
    lines = [result["title"], ""]
    lines.append("  ".join(c.ljust(widths[c]) for c in columns))
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(_fmt(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    for note in result.get("notes", []):
        lines.append(f"\n{note}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="a short, CI-sized run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--world", choices=("every", "two"), help="propagation only: the world (default every)")
    parser.add_argument(
        "--engine", choices=("daemon", "inline"), help="propagation only: where the engine runs (default daemon)"
    )
    parser.add_argument("--replicas", help="scale only: replica counts, comma-separated (default 1,2,3)")
    args = parser.parse_args(argv)
    if args.world and args.name != "propagation":
        parser.error("--world applies to the propagation benchmark only")
    if args.engine and args.name != "propagation":
        parser.error("--engine applies to the propagation benchmark only")
    if args.replicas and args.name != "scale":
        parser.error("--replicas applies to the scale benchmark only")
    module = importlib.import_module(BENCHMARKS[args.name])
    extra: dict[str, Any] = {"world": args.world} if args.world else {}
    if args.engine:
        extra["engine"] = args.engine
    if args.replicas:
        try:
            extra["replicas"] = tuple(int(count) for count in args.replicas.split(","))
        except ValueError:
            parser.error(f"--replicas {args.replicas!r}: expected counts like 1,2,3")
        if min(extra["replicas"]) < 1:
            parser.error(f"--replicas {args.replicas!r}: expected counts of at least 1")
    result: dict[str, Any] = module.run(quick=args.quick, **extra)
    print(json.dumps(result, indent=2, default=str) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
