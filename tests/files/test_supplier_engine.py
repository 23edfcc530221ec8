"""The shipped sample supplier (config/connectors/supplier-acme.yaml) through the sync engine: its stock file
feeds the supplier location, and routing's purchase orders land in its outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.files.client import FilesConnector
from omnibridge.config import load_profile
from omnibridge.models import LocationType, MovementKind
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentRequest
from omnibridge.store import open_store
from omnibridge.sync import SyncEngine

from .world import drop, seed, supplier_env, write_supplier_profile

pytestmark = pytest.mark.anyio


async def test_a_suppliers_stock_file_counts_stock_at_the_supplier_location(tmp_path: Path) -> None:
    profile = load_profile(write_supplier_profile(tmp_path), env=supplier_env(tmp_path))
    [location] = profile.locations
    assert location.type is LocationType.SUPPLIER
    with open_store(profile.store_url) as store:
        seed(store, profile)
        engine = SyncEngine.for_profile(store, profile)
        drop(tmp_path, "acme-stock.csv", "sku,location,quantity,counted_at\nTENT,ACME,40,2026-12-01T06:00:00Z\n")

        report = await engine.sync_once()

        assert report.ok
        assert store.position("TENT", "acme-dropship").on_hand == 40
        [movement] = store.movements("TENT", "acme-dropship")
        assert (movement.movement.kind, movement.movement.source) == (MovementKind.COUNT, "acme")

        connector = engine.channels["acme"].connector
        assert isinstance(connector, FilesConnector)
        request = FulfilmentRequest(
            "ob-7", "#1007", "ACME", (FulfilmentLine("L1", "TENT", 1),), None, datetime(2026, 12, 1, tzinfo=UTC)
        )
        submission = await connector.submit_fulfilment(request)
        assert submission.accepted
        assert (tmp_path / "outbox" / "po" / "po-ob-7.csv").is_file()
