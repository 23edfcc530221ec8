"""``omnibridge run``: serve webhooks, run the schedule and keep every channel in step until stopped."""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


def run(
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    host: Annotated[
        str, typer.Option("--host", envvar="OMNIBRIDGE_HOST", help="Interface to listen on for webhooks.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="OMNIBRIDGE_PORT", help="Port to listen on.")] = 8800,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", help="Poll channels without webhooks this often.")
    ] = 60.0,
    readback_minutes: Annotated[
        float, typer.Option("--readback-minutes", help="Read back every channel's quantities this often.")
    ] = 15.0,
    tracking_minutes: Annotated[
        float,
        typer.Option("--tracking-minutes", help="Refresh carrier tracking of shipments not yet delivered this often."),
    ] = 30.0,
    verify_minutes: Annotated[
        float,
        typer.Option("--verify-minutes", help="Check the ledger's consistency (omnibridge verify) this often."),
    ] = 60.0,
    fulfilment_seconds: Annotated[
        float,
        typer.Option("--fulfilment-seconds", help="Run the fulfilment dispatcher this often."),
    ] = 5.0,
    stop_timeout: Annotated[
        float,
        typer.Option("--stop-timeout", help="On SIGTERM, wait this long for the pass in flight, then cancel it."),
    ] = 30.0,
    log_format: Annotated[
        LogFormat | None,
        typer.Option("--log-format", help="json (one object per line) or console. Default: json unless a TTY."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "INFO",
    metrics_token: Annotated[
        bool,
        typer.Option(
            "--metrics-token/--open-metrics",
            envvar="OMNIBRIDGE_METRICS_TOKEN",
            help="/metrics needs an API token (viewer or above); default: open.",
        ),
    ] = False,
    replica: Annotated[
        bool,
        typer.Option(
            "--replica",
            help="One of several daemons on one PostgreSQL store (needs omnibridge[replicas]; docs/operations.md).",
        ),
    ] = False,
) -> None:
    """Run omnibridge as a service: webhooks in, scheduled polls and read-backs, every channel kept in step.

    Stops gracefully on SIGTERM or SIGINT (exit 0); see docs/operations.md.
    """
    from omnibridge.daemon.service import DaemonOptions, run_daemon  # uvicorn and APScheduler only when the daemon runs

    chosen = log_format or (LogFormat.CONSOLE if sys.stdout.isatty() else LogFormat.JSON)
    try:
        configure_logging(json=chosen is LogFormat.JSON, level=log_level)
    except ValueError as exc:
        raise OmnibridgeError(f"--log-level: {exc}") from None
    options = DaemonOptions(
        host=host,
        port=port,
        poll_seconds=poll_seconds,
        readback_minutes=readback_minutes,
        tracking_minutes=tracking_minutes,
        verify_minutes=verify_minutes,
        fulfilment_seconds=fulfilment_seconds,
        stop_timeout_seconds=stop_timeout,
        metrics_token=metrics_token,
        replica=replica,
    )
    asyncio.run(run_daemon(profile, options))
