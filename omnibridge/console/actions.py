"""The action queue's sources: each lists the items waiting for a person and offers the actions on them.

A source is registered once (:func:`register_source`) and then shows up by itself in the action queue (its
items, filters and bulk actions) and as a count on the overview. The built-in sources are incidents,
dead letters and unroutable orders (:mod:`omnibridge.console.sources`). Adding one is a class with
:attr:`ActionSource.name`, :attr:`~ActionSource.title`, :attr:`~ActionSource.actions`, :meth:`~ActionSource.items`
and :meth:`~ActionSource.act`; every action must go through the service the CLI and the HTTP API use, and name
``actor`` in the audit log::

    class ReadyPickups:
        name, title = "pickups", "Pickups ready, expiring or expired"
        actions = (Action("expire", "Expire", needs_reason=True),)

        def items(self, context, filters):
            return [ActionItem(p.id, p.summary, channel=p.channel, at=p.expires_at) for p in ...]

        def act(self, context, action, ids, reason, actor):
            ...

    register_source(ReadyPickups())
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from omnibridge.access import Actor
from omnibridge.console.context import ConsoleContext


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a person can do to items of a source; ``needs_reason``: the form asks why (kept for audit)."""

    name: str
    label: str
    needs_reason: bool = False


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One waiting item: ``id`` is what :meth:`ActionSource.act` takes back; ``link`` a console page about it."""

    id: str
    summary: str
    channel: str | None = None
    sku: str | None = None
    at: datetime | None = None
    detail: str = ""
    link: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: the ids it was done to, and the refused ones with why."""

    done: tuple[str, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)


class ActionSource(Protocol):
    """A kind of item waiting for a person (see the module docstring)."""

    name: str
    title: str
    actions: tuple[Action, ...]

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        """The waiting items; ``filters`` may hold ``channel`` and ``q`` (text in the summary or SKU)."""
        ...

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        """Do ``action`` to ``ids`` as ``actor``; ``reason`` is empty unless the action needs one."""
        ...


ACTION_SOURCES: dict[str, ActionSource] = {}
"""Every source by name, in the order they were registered (the order of the queue's sections)."""


def register_source(source: ActionSource) -> ActionSource:
    """Add ``source`` to :data:`ACTION_SOURCES` (a second source of the same name replaces the first)."""
    ACTION_SOURCES[source.name] = source
    return source


def matches(item: ActionItem, filters: Mapping[str, str]) -> bool:
    """Whether ``item`` passes the common filters: ``channel`` (exact) and ``q`` (in the summary or SKU)."""
    channel = filters.get("channel", "")
    if channel and item.channel != channel:
        return False
    text = filters.get("q", "").strip().lower()
    return not text or text in item.summary.lower() or text in (item.sku or "").lower()
