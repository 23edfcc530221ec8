"""The ``availability:`` section of the merchant profile: what quantity each sales channel should show.

The section is optional; :class:`AvailabilityPolicy` with no arguments is the default (a shared pool, no safety
stock, no buffers: every channel shows the ledger's available at each of its locations). The rules are explained
with examples in ``docs/availability.md``; :class:`omnibridge.policy.AvailabilityPlanner` applies them.

These models check each value on its own. That every channel, location and SKU group the section names exists is
checked when the profile is loaded (:func:`omnibridge.config.checks.check_availability`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from omnibridge.config.schema import Identifier, Section, config_problem

DEFAULT_GROUP = "default"
"""The SKU group of every SKU that no ``sku_groups`` glob matches."""

RULE_KEYS = ("buffer", "share", "cap", "minimum")
"""The per-channel rules a ``groups:`` entry may override."""

_BUFFER = "a whole number of units >= 0 held back from this channel at each location"
_SHARE = "a fraction greater than 0 and at most 1, such as 0.5"
_CAP = "a whole number of units >= 0: the most this channel ever shows at a location"
_MINIMUM = "a whole number of units >= 0: below it the channel shows 0"


def _none_as_empty_dict(value: object) -> object:
    return {} if value is None else value


def _none_as_empty_list(value: object) -> object:
    return [] if value is None else value


def _group_name(value: str) -> str:
    if value == DEFAULT_GROUP:
        raise config_problem(
            f"'{DEFAULT_GROUP}' is the group of the SKUs no glob matches and cannot be defined",
            "another group name; set the rules of unmatched SKUs on the channel itself",
        )
    return value


GroupName = Annotated[Identifier, AfterValidator(_group_name)]
Glob = Annotated[str, Field(min_length=1)]


class RuleOverride(Section):
    """One entry of ``channels.<id>.groups``: the rules that differ for the SKUs of one group.

    A key that is left out keeps the channel's value; ``cap: null`` or ``share: null`` removes the channel's cap or
    share for the group.
    """

    buffer: int | None = Field(default=None, ge=0, description=_BUFFER)
    share: float | None = Field(default=None, gt=0, le=1, description=_SHARE)
    cap: int | None = Field(default=None, ge=0, description=_CAP)
    minimum: int | None = Field(default=None, ge=0, description=_MINIMUM)


class ChannelRules(Section):
    """One entry of ``channels:`` in the availability section, keyed by the channel's id."""

    locations: list[Identifier] | None = Field(
        default=None,
        min_length=1,
        description="a list of location ids from the profile that feed this channel (other locations show 0)",
    )
    buffer: int = Field(default=0, ge=0, description=_BUFFER)
    share: float | None = Field(default=None, gt=0, le=1, description=_SHARE)
    cap: int | None = Field(default=None, ge=0, description=_CAP)
    minimum: int = Field(default=0, ge=0, description=_MINIMUM)
    groups: Annotated[dict[Identifier, RuleOverride], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict,
        description="a mapping of SKU group name (from 'sku_groups', or 'default') to overrides of buffer, share, "
        "cap and minimum",
    )


class SafetyStock(Section):
    """One entry of ``safety_stock:``: units kept back at a location, for every SKU or for one SKU group."""

    location: Identifier = Field(description="a location id from the profile")
    quantity: int = Field(ge=0, description="a whole number of units >= 0 kept back at the location")
    group: Identifier | None = Field(
        default=None,
        description="a SKU group name from 'sku_groups' (or 'default'); without it the entry applies to every SKU",
    )


class RingFence(Section):
    """``ring_fence:``: the last ``units`` of a location are shown only to ``channels``."""

    units: int = Field(ge=1, description="a whole number of units >= 1: how many of the last units are fenced")
    channels: list[Identifier] = Field(
        min_length=1, description="a list of at least one channel id: the channels that may show the fenced units"
    )
    locations: list[Identifier] | None = Field(
        default=None,
        min_length=1,
        description="a list of location ids where the fence applies (default: every location a fenced channel shows)",
    )


class LowStock(Section):
    """``low_stock:``: when a location's available is below ``threshold``, channels of lower priority show 0."""

    threshold: int = Field(ge=1, description="a whole number of units >= 1")
    min_priority: int = Field(description="an integer: channels whose priority is below it show 0 when stock is low")


class AvailabilityPolicy(Section):
    """The ``availability:`` section. Every key is optional; the default is a shared pool with no rules."""

    mode: Literal["shared", "strict"] = Field(
        default="shared",
        description="'shared' (every channel sees the pool after its buffer) or 'strict' (channels split the pool)",
    )
    sku_groups: Annotated[
        dict[GroupName, Annotated[list[Glob], Field(min_length=1)]], BeforeValidator(_none_as_empty_dict)
    ] = Field(
        default_factory=dict,
        description="a mapping of group name to a list of SKU globs such as ['CLR-*']; the first group that "
        "matches wins",
    )
    safety_stock: Annotated[list[SafetyStock], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list, description="a list of {location, quantity} entries, optionally with a group"
    )
    ring_fence: RingFence | None = Field(default=None, description="a mapping with 'units' and 'channels'")
    low_stock: LowStock | None = Field(default=None, description="a mapping with 'threshold' and 'min_priority'")
    channels: Annotated[dict[Identifier, ChannelRules], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="a mapping of channel id to its rules"
    )
