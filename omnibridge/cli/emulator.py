"""``omnibridge emulator NAME``: serve the local emulator a connector declares in its spec.

The command imports no connector: it finds NAME in the connector registry (built-in and third-party connectors
alike) and calls the spec's :class:`~omnibridge.sdk.emulator.EmulatorHook`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omnibridge.errors import ConfigError

if TYPE_CHECKING:
    from omnibridge.sdk.emulator import EmulatorServer

__all__ = ["build_emulator", "emulator", "parse_settings"]


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """``["KEY=VALUE", ...]`` as a dict; a pair without ``=`` is a usage error naming it."""
    settings: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE (e.g. --set listing_delay_s=0)")
        settings[key.strip()] = value.strip()
    return settings


def build_emulator(
    name: str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    catalog: Path | None = None,
    empty: bool = False,
    webhook_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> tuple[EmulatorServer, int]:
    """The :class:`~omnibridge.sdk.emulator.EmulatorServer` of connector ``name`` and the port it should listen on
    (``port``, else the emulator's default port, which the connector's shipped profile points at)."""
    from omnibridge.sdk.emulator import EmulatorOptions, EmulatorSettingError
    from omnibridge.sdk.registry import discover_connectors

    registry = discover_connectors()
    registered = registry.get(name)
    hooks = {cid: registry.connectors[cid].spec.emulator for cid in registry.ids()}
    with_emulator = ", ".join(cid for cid, hook in hooks.items() if hook is not None) or "none"
    if registered is None:
        raise ConfigError(f"no connector {name!r} is installed; connectors with an emulator: {with_emulator}")
    hook = registered.spec.emulator
    if hook is None:
        raise ConfigError(f"connector {name!r} ships no emulator; connectors with an emulator: {with_emulator}")
    if catalog is not None:
        from omnibridge.catalog import read_catalog_csv

        products = read_catalog_csv(catalog)
    else:
        from omnibridge.demo.catalog import demo_products

        products = demo_products()
    options = EmulatorOptions(
        host=host,
        port=port or hook.default_port,
        catalog=tuple(products),
        empty=empty,
        webhook_url=webhook_url,
        settings=settings or {},
    )
    try:
        options.check_settings(hook.settings)
        return hook.build(options), options.port
    except EmulatorSettingError as exc:
        raise ConfigError(f"omnibridge emulator {name}: {exc}") from None


def _list_emulators() -> None:
    from omnibridge.sdk.registry import discover_connectors

    registry = discover_connectors()
    rows = [(cid, registry.connectors[cid].spec.emulator) for cid in registry.ids()]
    typer.echo(f"{'CONNECTOR':<14} {'PORT':>5}  DESCRIPTION")
    for cid, hook in rows:
        if hook is not None:
            typer.echo(f"{cid:<14} {hook.default_port:>5}  {hook.description}")
    typer.echo("Run one with: omnibridge emulator NAME [--port N] (docs/emulators.md)")


def emulator(
    name: Annotated[
        str | None, typer.Argument(help="The connector whose emulator to serve; without it, list them.")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on (default: the one its shipped profile uses).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    webhook_url: Annotated[
        str | None,
        typer.Option("--webhook-url", "--notification-url", help="Where the emulator sends webhooks/notifications."),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", help="Seed the items of this catalog CSV (as for 'catalog import') instead of the demo's."
        ),
    ] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Start with no items (and no locations).")] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="An emulator's own option KEY=VALUE (repeatable; see docs/emulators.md)."),
    ] = None,
) -> None:
    """Serve a connector's local emulator of its vendor, to point a real profile at it.

    Every built-in connector ships one (shopify, square, amazon, clover, easypost, files), and so may a
    third-party connector. The shipped profiles in config/connectors/ point at each emulator's default port with
    its credentials, so they work with no edits. Control routes, knobs and --set options: docs/emulators.md.
    """
    if name is None:
        _list_emulators()
        return
    from omnibridge.sdk.emulator import serve_forever

    server, chosen = build_emulator(
        name,
        host=host,
        port=port,
        catalog=catalog,
        empty=empty,
        webhook_url=webhook_url,
        settings=parse_settings(settings or []),
    )
    for line in server.summary:
        typer.echo(line)
    typer.echo("  Ctrl-C stops it")
    serve_forever(server.app, host=host, port=chosen)
