"""The ``pickup:`` section of the merchant profile: click-and-collect and curbside (docs/pickup.md).

The section sets the defaults every pickup store uses and the rules of the pickup decision; a store's own
``pickup:`` mapping in its ``locations:`` entry overrides the window length, capacity and prep time. A store
offers pickup when its ``capabilities`` include ``pickup`` (curbside: ``curbside``) and it has ``pickup_hours``.

``hold_hours`` bounds how long units wait uncollected after the window ends (Square's ``expires_at`` is at most
7 days ahead, hence the horizon and the hold together stay within 7 days).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from omnibridge.config.schema import Section, config_problem

__all__ = ["LocationPickupSection", "PickupSection"]

_MAX_AHEAD_HOURS = 7 * 24


class LocationPickupSection(Section):
    """``locations[].pickup:`` -- one store's pickup windows (missing keys: the ``pickup:`` section's)."""

    window_minutes: int | None = Field(
        default=None, ge=5, le=24 * 60, description="a window length in minutes, 5 to 1440"
    )
    capacity_per_window: int | None = Field(
        default=None, ge=1, description="a whole number of pickups per window, 1 or more"
    )
    prep_minutes: int | None = Field(
        default=None, ge=0, le=7 * 24 * 60, description="minutes staff need to prepare a pickup, 0 or more"
    )


class PickupSection(Section):
    """``pickup:`` -- defaults for every pickup store and the rules of the pickup decision."""

    window_minutes: int = Field(default=60, ge=5, le=24 * 60, description="a window length in minutes, 5 to 1440")
    capacity_per_window: int = Field(default=10, ge=1, description="a whole number of pickups per window")
    prep_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60, description="minutes to prepare a pickup, 0 or more")
    radius_km: float = Field(default=50.0, gt=0, description="how far a customer travels to a store, in km (> 0)")
    horizon_days: int = Field(
        default=3, ge=0, le=6, description="how many days after today windows are offered, 0 to 6 (default 3)"
    )
    hold_hours: int = Field(
        default=24, ge=1, le=_MAX_AHEAD_HOURS, description="hours units wait after the window ends, 1 to 168"
    )
    ship_if_unavailable: bool = Field(
        default=False,
        description="true: a pickup no store can take becomes a shipment; false (default): it is not available "
        "for pickup and waits for a person",
    )

    @model_validator(mode="after")
    def _within_a_week(self) -> PickupSection:
        ahead = (self.horizon_days + 1) * 24 + self.hold_hours
        if ahead > _MAX_AHEAD_HOURS + 24:
            raise config_problem(
                f"pickup.horizon_days ({self.horizon_days}) and pickup.hold_hours ({self.hold_hours}) hold units "
                f"up to {ahead} hours ahead",
                "at most 7 days between booking and the hold's expiry (Square's expires_at limit): lower one",
            )
        return self
