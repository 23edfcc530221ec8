"""The ``routing:`` section of the merchant profile: how orders are routed to the locations that ship them.

The section is optional; without it every storefront and marketplace order is routed with the default rules
(fewest packages, then same market, then rank, then distance; split into at most three packages). The keys are
explained with an example in ``docs/routing.md``. A location's own routing properties (``daily_capacity``,
``market``, ``rank``, ``group``, ``cutoff``, ``timezone``, ``cost_per_package``, a supplier's ``skus``) are keys
of its ``locations:`` entry.

These models check each value on its own; that every location, group, channel and market named exists is checked
when the profile is loaded (:func:`check_routing`), and :func:`build_rules` turns the section into the router's
:class:`~omnibridge.routing.rules.RoutingRules`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from omnibridge.config.schema import Identifier, Section, _did_you_mean, config_problem
from omnibridge.routing.rules import RANKING_RULES, SplitPolicy

_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def _none_as_empty_dict(value: object) -> object:
    return {} if value is None else value


def _none_as_empty_list(value: object) -> object:
    return [] if value is None else value


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else _none_as_empty_list(value)


def _ranking_rule(value: str) -> str:
    if value not in RANKING_RULES:
        raise config_problem(
            f"unknown ranking rule '{value}'{_did_you_mean(value, list(RANKING_RULES))}",
            "one of: " + ", ".join(RANKING_RULES),
        )
    return value


RankingRule = Annotated[str, AfterValidator(_ranking_rule)]
Names = Annotated[list[Identifier], BeforeValidator(_one_or_many)]
"""Location ids or group names (one name or a list)."""
Codes = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_one_or_many)]
"""Market names, ISO country codes (``US``) or country-region codes (``US-CA``)."""


class ProductRuleSection(Section):
    """One entry of ``routing.eligibility.products``: where some lines may (``only_at``) or may not
    (``never_at``) ship from; the lines are picked by ``product_types`` or ``skus``."""

    name: Identifier = Field(description="a short name verdicts show, such as hazmat or oversize")
    product_types: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    skus: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    only_at: Names | None = Field(default=None, description="location ids or groups these lines may ship from")
    never_at: Names = Field(default_factory=list, description="location ids or groups these lines never ship from")


class CarrierSection(Section):
    """``routing.eligibility.carrier``: the carrier rule."""

    promised_days: int | None = Field(
        default=None, ge=1, description="the most days in transit a carrier service may take to qualify"
    )


class EligibilitySection(Section):
    """``routing.eligibility``: the filters of stage 1."""

    ships_to: Annotated[dict[Identifier, Codes], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="location id or group: the markets or codes it may ship to"
    )
    products: Annotated[list[ProductRuleSection], BeforeValidator(_none_as_empty_list)] = Field(default_factory=list)
    safety_stock: Annotated[dict[Identifier, Annotated[int, Field(ge=0)]], BeforeValidator(_none_as_empty_dict)] = (
        Field(
            default_factory=dict,
            description="location id, group or 'default': whole units >= 0 held back from routing there",
        )
    )
    capacity: bool = Field(default=True, description="true to leave out locations whose daily capacity is reached")
    cutoff: bool = Field(default=True, description="true to leave out locations past their carrier cutoff")
    carrier: Annotated[CarrierSection, BeforeValidator(_none_as_empty_dict)] = Field(default_factory=CarrierSection)


class SplitSection(Section):
    """``routing.split``: the split policy of stage 3."""

    policy: SplitPolicy = Field(
        default=SplitPolicy.FEWEST_PACKAGES, description="one of: " + ", ".join(p.value for p in SplitPolicy)
    )
    max_splits: int = Field(default=2, ge=0, description="a whole number >= 0 of extra packages per order")
    value_threshold: Decimal | None = Field(
        default=None, ge=0, description="an amount in the merchant's currency both parts of a split must reach"
    )


class RoutingSection(Section):
    """The profile's ``routing:`` section."""

    enabled: bool = True
    strategy: Identifier = Field(default="default", description="a routing strategy name (default: default)")
    channels: Names | None = Field(
        default=None, description="the channel ids whose orders are routed (default: storefronts and marketplaces)"
    )
    locations: Annotated[dict[Identifier, Names], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="channel id: the location ids or groups its orders may ship from"
    )
    markets: Annotated[dict[Identifier, Codes], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="market name: ISO country codes (US) or country-region codes (US-CA)"
    )
    groups: Annotated[dict[Identifier, int], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, description="group name: its rank (1 is preferred) for the 'ranked' rule"
    )
    eligibility: Annotated[EligibilitySection, BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=EligibilitySection
    )
    ranking: Annotated[list[RankingRule], BeforeValidator(_one_or_many)] | None = Field(
        default=None, description="an ordered list of ranking rules: " + ", ".join(RANKING_RULES)
    )
    split: Annotated[SplitSection, BeforeValidator(_none_as_empty_dict)] = Field(default_factory=SplitSection)
    max_reroutes: int = Field(default=3, ge=0, description="a whole number >= 0 of re-routes before parking")
    distance: Identifier = Field(default="haversine", description="a distance source: haversine, postal or a plugin")


def code_shaped(value: str) -> bool:
    """Whether ``value`` looks like ``US`` or ``US-CA`` (a market may be named by such a code directly)."""
    return bool(_CODE.match(value))
