"""The console's Starlette app: sign-in, the four screens, the action queue's POSTs and the report pages.

Every page needs a signed-in session (:mod:`omnibridge.console.session`); a viewer sees everything, an operator
also acts. Every POST carries the session's CSRF token. Errors are one line on the page, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from omnibridge.access import Role, tokens
from omnibridge.access.tokens import ApiToken
from omnibridge.console.actions import ACTION_SOURCES
from omnibridge.console.charts import bar_chart, line_chart
from omnibridge.console.context import ConsoleContext
from omnibridge.console.overview import connectors_of, lag_by_hour, overview, stockouts
from omnibridge.console.session import COOKIE, SESSION_HOURS, Signer, active_token, session_key
from omnibridge.console.sku import sku_page
from omnibridge.console.sources import register_builtin_sources
from omnibridge.console.timeline import timeline
from omnibridge.errors import OmnibridgeError, StoreError
from omnibridge.logs import get_logger
from omnibridge.reports.base import REPORTS, Grouping, Period, run_report

PREFIX = "/console"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["clock"] = lambda at: datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
Page = Callable[[Request], Awaitable[Response]]


class Refused(Exception):
    """A request the console answers with a one-line message and ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def console_app(context: ConsoleContext) -> Starlette:
    """The console over ``context``, its routes under ``/console`` (see the module docstring)."""
    register_builtin_sources()
    signer = Signer(session_key(context.store))

    def render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
        token = request.scope.get("console.token")
        cookie = request.cookies.get(COOKIE, "")
        values.update(
            token=token,
            can_act=isinstance(token, ApiToken) and token.role.allows(Role.OPERATOR),
            csrf=signer.csrf(cookie) if cookie else "",
            sources=ACTION_SOURCES,
            reports=REPORTS,
        )
        return TEMPLATES.TemplateResponse(request, template, values, status_code=status)

    def page(role: Role, *, post: bool = False) -> Callable[[Page], Page]:
        def decorate(handler: Page) -> Page:
            @functools.wraps(handler)
            async def guarded(request: Request) -> Response:
                cookie = request.cookies.get(COOKIE)
                token_id = signer.token_id(cookie, datetime.now(UTC))
                try:
                    found = await run_in_threadpool(active_token, context.store, token_id) if token_id else None
                except OmnibridgeError as exc:
                    return render(request, "error.html", 503, message=f"cannot check your sign-in now: {exc}")
                if found is None or cookie is None:
                    return RedirectResponse(f"{PREFIX}/login?next={request.url.path}", status_code=303)
                request.scope["console.token"] = found
                try:
                    if post:
                        form = await request.form()
                        if not signer.csrf_ok(cookie, str(form.get("csrf", ""))):
                            raise Refused(403, "this form is stale or was not sent by the console: reload the page")
                    if not found.role.allows(role):
                        raise Refused(403, f"this needs the {role.value} role; you signed in as {found.role.value}")
                    return await handler(request)
                except Refused as exc:
                    return render(request, "error.html", exc.status, message=str(exc))
                except StoreError as exc:
                    return render(request, "error.html", 503, message=f"the store is unavailable: {exc}")
                except Exception as exc:
                    get_logger("omnibridge.console").exception("console.internal_error", path=request.url.path)
                    message = f"internal error: {type(exc).__name__} (logged as console.internal_error)"
                    return render(request, "error.html", 500, message=message)

            return guarded

        return decorate

    async def login_form(request: Request) -> Response:
        return render(request, "login.html", next=request.query_params.get("next", f"{PREFIX}/"), error="")

    async def login(request: Request) -> Response:
        form = await request.form()
        presented = str(form.get("token", "")).strip()
        target = str(form.get("next", f"{PREFIX}/"))
        if not target.startswith(f"{PREFIX}/"):
            target = f"{PREFIX}/"
        try:
            found = await run_in_threadpool(tokens.authenticate, context.store, presented) if presented else None
        except OmnibridgeError as exc:
            return render(request, "login.html", 503, next=target, error=f"cannot check the token now: {exc}")
        if found is None:
            error = "that is not a valid API token (create one with 'omnibridge tokens create --role viewer')"
            return render(request, "login.html", 401, next=target, error=error)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, signer.cookie(found.id, datetime.now(UTC)), max_age=SESSION_HOURS * 3600, path=PREFIX,
            httponly=True, samesite="strict", secure=request.url.scheme == "https",
        )  # fmt: skip
        return response

    @page(Role.VIEWER, post=True)
    async def logout(_: Request) -> Response:
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @page(Role.VIEWER)
    async def overview_page(request: Request) -> Response:
        data = await run_in_threadpool(overview, context)
        calls: dict[str, list[tuple[str, float]]] = {"calls (24 h)": [], "refused (24 h)": []}
        for channel, totals in data.calls:
            label = f"{channel} {totals.op}"
            calls["calls (24 h)"].append((label, float(totals.calls_24h)))
            calls["refused (24 h)"].append((label, float(totals.refusals_24h)))
        calls_chart = bar_chart("API calls per operation (last 24 h)", calls) if data.calls else ""
        return render(
            request,
            "overview.html",
            data=data,
            calls_chart=calls_chart,
        )

    @page(Role.VIEWER)
    async def channel_page(request: Request) -> Response:
        channel = request.path_params["channel"]
        kind = request.query_params.get("kind", "")
        events = await run_in_threadpool(timeline, context, channel, kind)
        lags = await run_in_threadpool(lag_by_hour, context, channel)
        chart = line_chart(f"{channel}: propagation lag p99 per hour (last 24 h)", {"p99": lags}, unit="seconds")
        calls = context.calls.calls_of(connectors_of(context, [channel]).values()) if context.calls else []
        return render(
            request,
            "channel.html",
            channel=channel,
            events=events,
            kind=kind,
            lag_chart=chart if lags else "",
            calls=calls,
        )

    @page(Role.VIEWER)
    async def sku_lookup(request: Request) -> Response:
        sku = request.query_params.get("sku", "").strip()
        if not sku:
            raise Refused(400, "give a SKU to look up")
        return RedirectResponse(f"{PREFIX}/sku/{quote(sku, safe='/')}", status_code=303)

    @page(Role.VIEWER)
    async def sku_screen(request: Request) -> Response:
        sku = request.path_params["sku"]
        data = await run_in_threadpool(sku_page, context, sku)
        if data is None:
            raise Refused(404, f"unknown SKU {sku!r}: it is not in the store")
        return render(request, "sku.html", page=data)

    @page(Role.VIEWER)
    async def queue(request: Request) -> Response:
        filters = {key: request.query_params.get(key, "") for key in ("channel", "q", "source")}

        def read() -> dict[str, Any]:
            return {
                name: source.items(context, filters)
                for name, source in ACTION_SOURCES.items()
                if not filters["source"] or filters["source"] == name
            }

        items = await run_in_threadpool(read)
        notice = request.query_params.get("notice", "")
        return render(request, "actions.html", items=items, filters=filters, notice=notice)

    @page(Role.OPERATOR, post=True)
    async def act(request: Request) -> Response:
        form = await request.form()
        source = ACTION_SOURCES.get(request.path_params["source"])
        if source is None:
            raise Refused(404, f"no action source {request.path_params['source']!r}")
        name = str(form.get("action", ""))
        action = next((a for a in source.actions if a.name == name), None)
        if action is None:
            raise Refused(400, f"{source.title}: no action {name!r}")
        ids = [str(value) for value in form.getlist("id")]
        if not ids:
            raise Refused(400, f"{action.label}: tick at least one item first")
        reason = " ".join(str(form.get("reason", "")).split())
        if action.needs_reason and not reason:
            raise Refused(400, f"{action.label}: say why in the reason box (it is kept for audit)")
        actor = request.scope["console.token"].actor
        result = await run_in_threadpool(source.act, context, action.name, ids, reason, actor)
        parts = [f"{action.label}: {len(result.done)} done"]
        parts.extend(f"{item} refused: {why}" for item, why in result.refused.items())
        return render(request, "done.html", message="; ".join(parts), result=result)

    @page(Role.VIEWER)
    async def reports_index(request: Request) -> Response:
        outs = await run_in_threadpool(stockouts, context)
        points = {"positions with nothing available": [(loc, float(n)) for loc, n in outs.items()]}
        chart = bar_chart("Stock-outs by location (now)", points) if outs else ""
        return render(request, "reports.html", stockout_chart=chart)

    @page(Role.VIEWER)
    async def report_page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in REPORTS:
            raise Refused(404, f"no report named {name!r}; reports: {', '.join(REPORTS) or 'none'}")
        report = REPORTS[name]
        days = request.query_params.get("days", "30")
        if not days.isdigit() or int(days) < 1:
            raise Refused(400, f"days={days!r}: expected a whole number of days, 1 or more")
        by_value = request.query_params.get("by", "")
        by = Grouping(by_value) if by_value in {g.value for g in report.groupings} else None
        end = context.store.now()
        period = Period(end - timedelta(days=int(days)), end)
        try:
            table = await run_in_threadpool(run_report, context.store, name, period, by)
        except (KeyError, ValueError) as exc:
            raise Refused(400, str(exc).strip("'\"")) from None
        series = {s.name: list(s.points) for s in table.series}
        chart = ""
        if series:
            draw = line_chart if table.chart == "line" else bar_chart
            chart = draw(table.title, series)
        return render(request, "report.html", report=report, table=table, chart=chart, days=days, by=by_value)

    return Starlette(
        routes=[
            Route(f"{PREFIX}/login", login_form, methods=["GET"]),
            Route(f"{PREFIX}/login", login, methods=["POST"]),
            Route(f"{PREFIX}/logout", logout, methods=["POST"]),
            Route(f"{PREFIX}/", overview_page, methods=["GET"]),
            Route(PREFIX, lambda _: RedirectResponse(f"{PREFIX}/", status_code=307), methods=["GET"]),
            Route(f"{PREFIX}/channels/{{channel}}", channel_page, methods=["GET"]),
            Route(f"{PREFIX}/sku", sku_lookup, methods=["GET"]),
            Route(f"{PREFIX}/sku/{{sku:path}}", sku_screen, methods=["GET"]),
            Route(f"{PREFIX}/actions", queue, methods=["GET"]),
            Route(f"{PREFIX}/actions/{{source}}", act, methods=["POST"]),
            Route(f"{PREFIX}/reports", reports_index, methods=["GET"]),
            Route(f"{PREFIX}/reports/{{name}}", report_page, methods=["GET"]),
        ]
    )


def is_console_path(path: str) -> bool:
    """Whether ``path`` belongs to the console."""
    return path == PREFIX or path.startswith(f"{PREFIX}/")


__all__ = ["PREFIX", "console_app", "is_console_path"]
