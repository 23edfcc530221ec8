"""Structured logging that never prints secrets.

Every log line, from omnibridge's own structlog loggers and from stdlib ``logging`` users such as httpx, passes
through :func:`redact_event` before it is rendered:

* by key name: any key matching :data:`SECRET_KEY_PATTERN` (``token``, ``password``, ``api_key``,
  ``authorization``, ``signature``, ...) has its value replaced by ``***``, at any nesting depth;
* by value: every value registered with :func:`register_secret` (credentials: settings declared ``SecretStr``, a
  store password, tokens a connector obtains) is replaced by ``***`` wherever it appears in a string, as are
  ``Bearer <token>`` credentials, ``key=value`` and ``"key": "value"`` pairs whose key names a credential, and the
  value of credential headers. Nothing else: ordinary words, URLs and paths are never masked.

:func:`get_logger` configures defaults on first use if nobody called :func:`configure_logging`, so a script that
forgets to configure logging still gets redaction.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO, cast

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "MASK",
    "SECRET_KEY_PATTERN",
    "configure_logging",
    "get_logger",
    "is_secret_key",
    "mask_secrets",
    "redact_event",
    "redact_mapping",
    "register_secret",
]

MASK = "***"
MIN_SECRET_LENGTH = 4

SECRET_KEY_PATTERN = re.compile(
    r"(?i)(secret|token|password|passwd|api[_-]?key|apikey|auth|signature|credential|cookie|hmac"
    r"|private[_-]?key|session)"
)
# Free text is masked only where its shape says a credential follows, never by a word that merely contains "auth"
# or "token" ("HTTP 401 Unauthorized: This ...", "session.db: unable to open" stay as they are).
_CREDENTIAL_NAME = (
    r"[\w.-]*?(?:token|secret|password|passwd|api[_-]?key|apikey|signature|credentials?|cookie|private[_-]?key"
    r"|session[_-]?(?:id|key|token)|auth|authorization|sig)"
)
_VALUE = r"([^\s\"'&,;}\]]+)"
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=(?-i:[A-Za-z0-9._~+/=|-]*[0-9A-Z._~+/=|-]))[A-Za-z0-9._~+/=|-]{8,}")
_INLINE_PAIR = re.compile(
    # key=value (query strings, forms, env lines), "key": "value" / 'key': 'value' (JSON, reprs), and the value of a
    # credential header (Authorization, Cookie, X-Api-Key, X-...-Token/-Key/-Secret/-Signature)
    r"(?i)(?<![\w.-])("
    + _CREDENTIAL_NAME
    + r")(=[\"']?)"
    + _VALUE
    + r"|([\"'])("
    + _CREDENTIAL_NAME
    + r")(\4\s*[:=]\s*[\"']?)"
    + _VALUE
    + r"|(?<![\w.-])((?:proxy-)?authorization|(?:set-)?cookie|x-api-key|x-[\w-]*?(?:token|key|secret|signature))"
    r"(\s*:\s*)(?!bearer\b|basic\b)" + _VALUE
)

_HANDLER_NAME = "omnibridge"
_secrets_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at emit time (test runners and daemons swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def register_secret(value: str) -> None:
    """Mask ``value`` as ``***`` wherever it appears in any later log line.

    Values shorter than four characters are ignored: masking them would garble ordinary text and they are not
    credentials worth protecting. Registering the same value twice is harmless.
    """
    global _secrets_pattern
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def is_secret_key(name: str) -> bool:
    """True when a key or header name suggests its value is a credential."""
    return SECRET_KEY_PATTERN.search(name) is not None


def mask_secrets(text: str) -> str:
    """Return ``text`` with registered secrets masked, and credentials where the text's shape says one follows:
    ``Bearer``/``Basic`` credentials, ``key=value`` and quoted ``"key": "value"`` pairs whose key names a credential,
    and the value of credential headers. Ordinary words, URLs and paths are left as they are."""
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _INLINE_PAIR.sub(_mask_pair, text)


def _mask_pair(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{match.group(1)}{match.group(2)}{MASK}"
    if match.group(5) is not None:
        return f"{match.group(4)}{match.group(5)}{match.group(6)}{MASK}"
    return f"{match.group(8)}{match.group(9)}{MASK}"


def redact_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``mapping`` with secret-named keys masked and secret values masked, recursively."""
    return {str(key): _redact_item(str(key), value) for key, value in mapping.items()}


def _redact_item(key: str, value: Any) -> Any:
    if value is not None and not isinstance(value, bool) and is_secret_key(key):
        return MASK
    return _redact_value(value)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item) for item in value]
    if isinstance(value, bytes):
        return _redact_value(value.decode("utf-8", errors="replace"))
    text = repr(value)
    masked = mask_secrets(text)
    return value if masked == text else masked


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets by key name and by value in every field of the event."""
    return {
        key: _redact_value(value) if key == "event" else _redact_item(key, value) for key, value in event_dict.items()
    }


def configure_logging(*, json: bool = False, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one redacting handler on the root logger.

    ``json=True`` writes one JSON object per line (for the daemon); otherwise a human-readable console format.
    ``level`` is a stdlib level name. ``stream`` defaults to ``sys.stderr`` so logs never mix with command output.
    Calling it again replaces the previous configuration rather than adding a second handler.
    """
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level {level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
    )
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    # ConnectorHttpClient logs every request itself, with redaction and context; httpx's own line is noise, and
    # so are Alembic's "context impl" lines on every store open and uvicorn's per-server start-up lines.
    for chatty in ("httpx", "httpcore", "alembic", "uvicorn", "uvicorn.error"):
        logging.getLogger(chatty).setLevel(numeric_level if numeric_level <= logging.DEBUG else logging.WARNING)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named ``name``; configures default logging first if nothing configured it yet."""
    if not structlog.is_configured():
        configure_logging()
    return cast(structlog.stdlib.BoundLogger, structlog.get_logger(name))
