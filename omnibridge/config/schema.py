"""The shape of the three configuration files, as pydantic models.

* :class:`ProfileFile` -- the merchant profile, ``omnibridge.yaml``.
* :class:`ConnectorProfileFile` -- one channel's connector profile (``connector`` + ``settings``).
* :class:`MappingFile` -- a mapping file (SKU aliases, location map, status map).

These models check each value on its own (types, formats, allowed words) and reject unknown keys. Checks that
need more than one value or more than one file (unique ids, a mapping's target location exists, the connector is
installed, its settings) are in :mod:`omnibridge.config.checks` and :mod:`omnibridge.config.loader`.

``Field(description=...)`` texts are written as "what is expected": error messages quote them.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from omnibridge.config.currencies import ISO_4217
from omnibridge.config.store_url import check_store_url
from omnibridge.models import LocationCapability, LocationType, OrderStatus

CONFIG_ERROR_TYPE = "omnibridge_config"
"""The pydantic error type of the problems raised by this package's own validators."""

DEFAULT_STORE_URL = "sqlite:///omnibridge.db"


def config_problem(message: str, expected: str) -> PydanticCustomError:
    """A validation error carrying a merchant-facing ``message`` and what was ``expected``."""
    return PydanticCustomError(CONFIG_ERROR_TYPE, "{message}", {"message": message, "expected": expected})


def _none_as_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else _none_as_empty_list(value)


def _check_cutoff(value: str) -> str:
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
        raise config_problem(f"invalid cutoff '{value}'", "a local time 'HH:MM' on a 24-hour clock, such as 15:00")
    return value


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _did_you_mean(value: str, options: list[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(options), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


def _check_currency(value: str) -> str:
    code = value.upper()
    if code not in ISO_4217:
        raise config_problem(
            f"unknown currency '{value}'{_did_you_mean(code, ISO_4217)}", "an ISO 4217 currency code such as USD"
        )
    return code


def _check_timezone(value: str) -> str:
    if value not in _time_zones():
        raise config_problem(
            f"unknown time zone '{value}'{_did_you_mean(value, _time_zones())}",
            "an IANA time zone such as America/New_York or Europe/Berlin",
        )
    return value


_HOURS = re.compile(r"^(?P<start>([01]\d|2[0-3]):[0-5]\d)-(?P<end>([01]\d|2[0-3]):[0-5]\d)$")


def _check_hours(value: str) -> str:
    if value == "closed":
        return value
    match = _HOURS.match(value)
    if match is None or match["start"] >= match["end"]:
        raise config_problem(
            f"invalid opening hours '{value}'", "'HH:MM-HH:MM' on a 24-hour clock, opening before closing, or 'closed'"
        )
    return value


def _check_store(value: str) -> str:
    problem = check_store_url(value)
    if problem is not None:
        raise config_problem(problem.message, problem.expected)
    return value


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
ConnectorId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_ID_HELP = "an id of letters, digits, '-', '_' or '.', at most 64 characters"


class Section(BaseModel):
    """Base of every configuration model: unknown keys are errors, numbers are accepted where text is expected."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True)


class MerchantSection(Section):
    """``merchant:`` -- who the profile is for."""

    name: Text = Field(description="the merchant's name")
    currency: Annotated[str, AfterValidator(_check_currency)] = Field(
        description="an ISO 4217 currency code such as USD"
    )
    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field(
        description="an IANA time zone such as America/New_York"
    )


class StoreSection(Section):
    """``store:`` -- where omnibridge keeps its ledger."""

    url: Annotated[str, AfterValidator(_check_store)] = Field(
        default=DEFAULT_STORE_URL,
        description="a database URL: sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/db",
    )


class PrivacySection(Section):
    """``privacy:`` -- how long raw webhook bodies and personal data are kept (docs/security.md, "Data at rest")."""

    raw_body_days: int = Field(
        default=7, ge=0, description="days to keep the raw body of an applied webhook delivery (an integer >= 0)"
    )
    personal_data_days_after_complete: int = Field(
        default=90,
        ge=0,
        description="days to keep an order's and its shipments' addresses after the order is fulfilled, completed "
        "or cancelled (an integer >= 0; cover your return window)",
    )


class AddressSection(Section):
    """A location's postal address. Only ``country`` is required."""

    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = Field(default=None, description="a state, province or county code")
    postal_code: str | None = None
    country: Annotated[str, BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = Field(
        pattern=r"^[A-Z]{2}$", description="a two-letter ISO 3166 country code such as US"
    )
    phone: str | None = None


class CoordinatesSection(Section):
    """WGS84 coordinates in decimal degrees."""

    lat: float = Field(ge=-90, le=90, description="a latitude between -90 and 90")
    lon: float = Field(ge=-180, le=180, description="a longitude between -180 and 180")


class LocationSection(Section):
    """One entry of ``locations:``."""

    id: Identifier = Field(description=_ID_HELP)
    name: Text = Field(description="the location's name")
    type: LocationType = Field(description="one of: " + ", ".join(t.value for t in LocationType))
    address: AddressSection | None = None
    coordinates: CoordinatesSection | None = None
    capabilities: Annotated[list[LocationCapability], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list
    )
    pickup_hours: Annotated[
        dict[Weekday, Annotated[str, AfterValidator(_check_hours)]], BeforeValidator(_none_as_empty_dict)
    ] = Field(default_factory=dict)
    active: bool = True
    # Routing properties (docs/routing.md); the router reads them through omnibridge.routing.RoutingRules.
    daily_capacity: int | None = Field(default=None, ge=0, description="a whole number of orders a day, 0 or more")
    market: Annotated[list[Text], BeforeValidator(_one_or_many)] = Field(
        default_factory=list, description="a market name, country code (US) or region code (US-CA), or a list"
    )
    rank: int | None = Field(default=None, description="an integer; 1 is preferred by the 'ranked' rule")
    group: Identifier | None = Field(default=None, description=_ID_HELP)
    cutoff: Annotated[str, AfterValidator(_check_cutoff)] | None = Field(
        default=None, description="the local carrier cutoff 'HH:MM'"
    )
    timezone: Annotated[str, AfterValidator(_check_timezone)] | None = Field(
        default=None, description="an IANA time zone for the cutoff (default: the merchant's)"
    )
    cost_per_package: Decimal | None = Field(
        default=None, ge=0, description="an amount >= 0 in the merchant's currency, for the 'cost' rule"
    )
    skus: Annotated[list[Text], BeforeValidator(_none_as_empty_list)] | None = Field(
        default=None, description="a supplier's catalogue: the master SKUs it ships"
    )
    pickup: LocationPickupSection | None = Field(
        default=None, description="a 'pickup:' mapping with window_minutes, capacity_per_window, prep_minutes"
    )


class GuardSection(Section):
    """``channels[].guard:`` -- the mass-change guard (see docs/go-live.md): a sync pass that would lower more
    than ``max_lowered_share`` of the positions the channel shows in stock, or set more than
    ``max_zeroed_share`` of them to 0, is held for that channel until approved. A channel showing fewer than
    ``min_stocked_positions`` positions in stock is never held."""

    max_lowered_share: float = Field(
        default=0.2, ge=0, le=1, description="a share between 0 and 1 of the positions in stock (default 0.2)"
    )
    max_zeroed_share: float = Field(
        default=0.2, ge=0, le=1, description="a share between 0 and 1 of the positions in stock (default 0.2)"
    )
    min_stocked_positions: int = Field(
        default=5, ge=0, description="a whole number of positions, 0 or more (default 5)"
    )


class WebhooksSection(Section):
    """``channels[].webhooks:`` -- limits of the channel's webhook endpoint (see docs/security.md)."""

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="a whole number of bytes between 1024 and 67108864 (default 1048576, 1 MiB)",
    )


class ServerSection(Section):
    """``server:`` -- limits of the daemon's HTTP port (see docs/security.md)."""

    max_connections: int = Field(
        default=512, ge=2, description="a whole number of connections, 2 or more (default 512)"
    )
    head_timeout_seconds: float = Field(default=10.0, gt=0, description="seconds, more than 0 (default 10)")
    keep_alive_seconds: int = Field(default=5, ge=1, description="a whole number of seconds, 1 or more (default 5)")
    body_timeout_seconds: float = Field(default=10.0, gt=0, description="seconds, more than 0 (default 10)")
    max_in_flight: int = Field(default=64, ge=1, description="a whole number of requests, 1 or more (default 64)")


class WarehouseSection(Section):
    """``warehouse:`` -- the daemon's warehouse export (docs/operations.md); off unless ``directory`` is set."""

    directory: str | None = Field(
        default=None, description="a folder for the Parquet files (relative to the profile), or absent: no export"
    )
    interval_minutes: float = Field(default=60.0, gt=0, description="minutes between exports, more than 0")


class ChannelSection(Section):
    """One entry of ``channels:``: a sales channel served by one connector."""

    id: Identifier = Field(description=_ID_HELP)
    connector: ConnectorId = Field(description="the id of an installed connector (see 'omnibridge connectors list')")
    profile: Text = Field(description="the path of the channel's connector profile, relative to this file")
    mappings: Annotated[list[Text], BeforeValidator(_none_as_empty_list)] = Field(default_factory=list)
    enabled: bool = True
    priority: int = Field(default=0, description="an integer (higher wins when channels compete)")
    drift: Literal["ledger", "channel", "alert"] = Field(
        default="ledger",
        description="what to do when the channel shows a quantity the ledger does not explain: 'ledger' "
        "(overwrite it), 'channel' (record the change it made in the ledger) or 'alert' (only report it)",
    )
    guard: Annotated[GuardSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=GuardSection,
        description="a 'guard:' mapping with max_lowered_share, max_zeroed_share, min_stocked_positions",
    )
    webhooks: Annotated[WebhooksSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=WebhooksSection, description="a 'webhooks:' mapping with max_body_bytes"
    )


# Imported here, not at the top: the availability and routing models build on Section and Identifier above.
from omnibridge.config.availability import AvailabilityPolicy as AvailabilityPolicy  # noqa: E402
from omnibridge.config.pickup import LocationPickupSection as LocationPickupSection  # noqa: E402
from omnibridge.config.pickup import PickupSection as PickupSection  # noqa: E402
from omnibridge.config.routing import RoutingSection as RoutingSection  # noqa: E402

LocationSection.model_rebuild()


class ProfileFile(Section):
    """The merchant profile (``omnibridge.yaml``)."""

    version: Literal[1] = Field(description="1 (the profile format version)")
    merchant: MerchantSection = Field(description="a 'merchant:' section with name, currency and timezone")
    store: Annotated[StoreSection, BeforeValidator(_none_as_empty_dict)] = Field(default_factory=StoreSection)
    locations: list[LocationSection] = Field(min_length=1, description="a list of at least one location")
    channels: Annotated[list[ChannelSection], BeforeValidator(_none_as_empty_list)] = Field(default_factory=list)
    availability: Annotated[AvailabilityPolicy, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=AvailabilityPolicy,
        description="an 'availability:' section: what each channel shows (see docs/availability.md)",
    )
    routing: Annotated[RoutingSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=lambda: RoutingSection(enabled=False),
        description="a 'routing:' section: where orders ship from (see docs/routing.md); without one, orders are "
        "fulfilled where their channel put them",
    )
    pickup: Annotated[PickupSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=PickupSection,
        description="a 'pickup:' section: pickup windows, radius and holds (see docs/pickup.md)",
    )
    server: Annotated[ServerSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=ServerSection,
        description="a 'server:' section: limits of the daemon's HTTP port (see docs/security.md)",
    )
    privacy: Annotated[PrivacySection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=PrivacySection,
        description="a 'privacy:' section with raw_body_days and personal_data_days_after_complete",
    )
    warehouse: Annotated[WarehouseSection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=WarehouseSection,
        description="a 'warehouse:' section with directory and interval_minutes (see docs/operations.md)",
    )


class ConnectorProfileFile(Section):
    """A channel's connector profile. ``settings`` is validated later by the connector's own settings model."""

    connector: ConnectorId = Field(description="the connector id, the same as the channel's 'connector'")
    settings: Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)] = Field(default_factory=dict)


class MappingFile(Section):
    """A mapping file: how one channel's identifiers map onto the merchant's. Every table is optional."""

    sku_aliases: Annotated[dict[str, Text], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="channel SKU: master SKU"
    )
    location_map: Annotated[dict[str, Text], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="channel location reference: location id from the profile"
    )
    status_map: Annotated[dict[str, OrderStatus], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="channel order status: canonical order status"
    )
