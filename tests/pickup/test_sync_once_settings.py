"""``omnibridge sync --once`` books pickups with the profile's pickup settings (issue 14), as the daemon does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from omnibridge.cli.sync import once_engine
from omnibridge.config import load_profile
from omnibridge.pickup.rules import StorePickup
from omnibridge.store import open_store

PROFILE = Path(__file__).parents[2] / "config" / "pickup.example.yaml"


def test_sync_once_uses_the_profiles_pickup_settings(tmp_path: Path) -> None:
    loaded = load_profile(PROFILE)
    with open_store(f"sqlite:///{tmp_path / 'once.db'}") as store:
        engine = once_engine(store, loaded, [])
        try:
            settings = engine.pickup
            assert settings is not None
            assert settings.rules == loaded.pickup
            assert settings.hold == timedelta(hours=24)
            assert settings.rules.store("boulder") == StorePickup(window_minutes=30, capacity_per_window=2,
                                                                   prep_minutes=45)  # fmt: skip
            assert settings.zone("boulder") == "America/Denver"
        finally:
            asyncio.run(engine.aclose())


def test_a_stores_own_time_zone_reads_its_pickup_hours(tmp_path: Path) -> None:
    text = PROFILE.read_text().replace("  - id: golden\n", "  - id: golden\n    timezone: America/Chicago\n")
    (tmp_path / "p.yaml").write_text(text)
    loaded = load_profile(tmp_path / "p.yaml")
    with open_store(f"sqlite:///{tmp_path / 'once.db'}") as store:
        engine = once_engine(store, loaded, [])
        try:
            assert engine.pickup is not None
            assert (engine.pickup.zone("golden"), engine.pickup.zone("boulder")) == (
                "America/Chicago",
                "America/Denver",
            )
        finally:
            asyncio.run(engine.aclose())
