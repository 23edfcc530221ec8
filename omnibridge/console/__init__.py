"""The operator console, served by the daemon at ``/console`` (see docs/console.md)."""

from omnibridge.console.actions import ACTION_SOURCES, Action, ActionItem, ActionResult, ActionSource, register_source
from omnibridge.console.context import ConsoleContext
from omnibridge.console.web import console_app, is_console_path

__all__ = [
    "ACTION_SOURCES",
    "Action",
    "ActionItem",
    "ActionResult",
    "ActionSource",
    "ConsoleContext",
    "console_app",
    "is_console_path",
    "register_source",
]
