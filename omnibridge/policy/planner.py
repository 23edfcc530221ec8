"""The availability planner: what quantity each sales channel should show for a SKU at each of its locations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy.explain import Allocation, explain_location
from omnibridge.policy.feeds import ChannelFeed
from omnibridge.policy.groups import SkuGroups
from omnibridge.policy.plan import GroupPlan, Key, LocationPlan, compile_groups, strict_split

SharedLocation = tuple[str, int, int, tuple[tuple[Key, int, int, int, int, int, bool], ...]]


class AvailabilityPlanner:
    """Applies an :class:`~omnibridge.config.availability.AvailabilityPolicy` to channel feeds. Pure and fast: no
    I/O, no clock, every rule resolved once in the constructor.

    ``available`` passed to :meth:`quantities` and :meth:`explain` is the ledger's available per profile location
    (on hand - committed - reserved - the ledger's safety stock); it may be negative, and a location that is missing
    counts as 0. Each channel has at most one feed. The rules are described in ``docs/availability.md``.

    Guarantees, for every SKU and every ``available``:

    * every quantity is >= 0, and there is one for every (channel, location) of every feed (0 where the policy's
      ``locations`` leaves the location out);
    * ``strict`` mode: at every location the quantities of all channels sum to at most
      ``max(0, available - policy safety stock)``;
    * ``shared`` mode: each channel shows at most ``max(0, available - safety stock - its buffer)``;
    * without a low-stock rule, more available at a location never makes a channel show less there;
    * the default policy gives every channel ``max(0, available)``.
    """

    def __init__(self, policy: AvailabilityPolicy, feeds: Sequence[ChannelFeed]) -> None:
        self.policy = policy
        self.feeds = tuple(feeds)
        self.strict = policy.mode == "strict"
        self._groups = SkuGroups(policy.sku_groups)
        self._plans: list[GroupPlan] = compile_groups(policy, self.feeds)
        self._shared: list[tuple[SharedLocation, ...]] = [
            tuple((lp.location, lp.safety, lp.threshold, lp.shared_rows) for lp in plan.locations)
            for plan in self._plans
        ]

    def group(self, sku: str) -> str:
        """The SKU group ``sku`` belongs to (``default`` when no ``sku_groups`` glob matches)."""
        return self._groups.name(sku)

    def quantities(self, sku: str, available: Mapping[str, int]) -> dict[tuple[str, str], int]:
        """``(channel, location_id) -> quantity`` to show, for every location of every feed."""
        index = self._groups.index(sku)
        plan = self._plans[index]
        out = dict(plan.not_fed)
        if self.strict:
            for location in plan.locations:
                self._strict_location(location, available.get(location.location, 0), out)
            return out
        for location_id, safety, threshold, rows in self._shared[index]:
            here = available.get(location_id, 0)
            pool = here - safety
            low = here < threshold
            for key, reduce, num, den, cap, minimum, low_excluded in rows:
                quantity = pool - reduce
                if quantity <= 0 or (low and low_excluded):
                    out[key] = 0
                    continue
                if num != den:
                    quantity = quantity * num // den
                if quantity > cap:
                    quantity = cap
                out[key] = 0 if quantity < minimum else quantity
        return out

    @staticmethod
    def _strict_location(plan: LocationPlan, here: int, out: dict[Key, int]) -> None:
        variant = plan.low if here < plan.threshold else plan.normal
        for key in variant.zero_keys:
            out[key] = 0
        pool = here - plan.safety
        keys = variant.keys
        if pool <= 0:
            for key in keys:
                out[key] = 0
            return
        shares = strict_split(plan, variant, pool)
        reduces = variant.reduces
        minimums = variant.minimums
        for position, key in enumerate(keys):
            quantity = shares[position]
            limit = pool - reduces[position]
            if quantity > limit:
                quantity = limit
            out[key] = quantity if quantity >= minimums[position] and quantity > 0 else 0

    def explain(self, sku: str, available: Mapping[str, int]) -> list[Allocation]:
        """One :class:`Allocation` per (channel, location) of :meth:`quantities`, with the same quantities, the rule
        that decided each one and a sentence with the numbers; ordered by channel (feed order), then location."""
        plan = self._plans[self._groups.index(sku)]
        found: dict[Key, Allocation] = {
            key: Allocation(key[0], key[1], 0, "not_fed", f"{key[1]} does not feed {key[0]} (availability locations)")
            for key in plan.not_fed
        }
        for location in plan.locations:
            here = available.get(location.location, 0)
            for allocation in explain_location(location, here, self.policy):
                found[(allocation.channel, allocation.location_id)] = allocation
        order = {feed.channel: position for position, feed in enumerate(self.feeds)}
        return sorted(found.values(), key=lambda item: (order.get(item.channel, len(order)), item.location_id))
