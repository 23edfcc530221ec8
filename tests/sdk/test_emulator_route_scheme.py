"""Every built-in emulator's control routes follow one naming scheme (docs/emulators.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from omnibridge.cli.emulator import build_emulator
from omnibridge.sdk.registry import discover_connectors

SEGMENT = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*|\{[a-z_]+(:path)?\}")


def _routes(app: Any) -> list[tuple[str, set[str]]]:
    found = []
    for route in getattr(app, "routes", []):
        path = getattr(route, "path", "")
        found.append((path, set(getattr(route, "methods", None) or ()) - {"HEAD"}))
    return found


# the karrio carriers load only with the 'carriers' extra: connector -> karrio's package
KARRIO = {"ups": "ups", "fedex": "fedex", "usps": "usps", "dhl_express": "mydhl"}


@pytest.mark.parametrize(
    "connector", ["shopify", "square", "amazon", "clover", "easypost", "files", "acme-wms", "shipbob", *KARRIO]
)
def test_control_routes_follow_the_scheme(connector: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if connector in KARRIO:
        pytest.importorskip(f"karrio.mappers.{KARRIO[connector]}", reason="karrio is not installed (extra 'carriers')")
    monkeypatch.setenv("ERP_INBOX", str(tmp_path / "in"))
    monkeypatch.setenv("ERP_OUTBOX", str(tmp_path / "out"))
    assert discover_connectors().connectors[connector].spec.emulator is not None
    server, _ = build_emulator(connector, port=1, settings={})
    routes = _routes(server.app)
    control = [(path, methods) for path, methods in routes if path.startswith(("/_emulator", "/_control"))]
    assert ("/_emulator/state", {"GET"}) in control
    for path, methods in control:
        assert path.startswith("/_emulator/"), path
        assert methods <= {"GET", "POST"}, (path, methods)
        for segment in path.removeprefix("/_emulator/").split("/"):
            assert SEGMENT.fullmatch(segment), (path, segment)
