"""Application factory: ``create_app(settings) -> FastAPI``.

Every router is listed in :data:`ROUTERS` (plain imports, so import-graph tools see each arrow);
the lifespan starts the store's query workers, the inference refresher and the live twin, and
stops them again.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg_twin import __version__
from kg_twin.api import openapi
from kg_twin.api.routers import graphs, health, history, ingest, links, live, ontologies, projects, queries, scenarios, sparql, validate, web
from kg_twin.errors import InputError, KgTwinError
from kg_twin.reasoning.refresh import InferenceRefresher
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings

log = logging.getLogger("kg_twin.api")

PLAIN_ERROR_PATHS = ("/sparql",)  # SPARQL clients expect plain-text errors

# Every router of the API, in matching order: the SPARQL hot path first, so that it matches
# without scanning the other routes.
ROUTERS: list[APIRouter] = [
    sparql.router,
    health.router,
    projects.router,
    graphs.router,
    ontologies.router,
    validate.router,
    ingest.router,
    queries.router,
    live.router,
    history.router,
    scenarios.router,
    links.router,
    web.router,  # the twin app: /, /app/*, /web/*, /id/* (minted IRIs)
]


def _is_sparql_path(path: str) -> bool:
    return path == "/sparql" or path.endswith("/sparql")


def error_response(path: str, exc: KgTwinError) -> Response:
    """The one error answer: plain text on SPARQL endpoints, the JSON error body elsewhere."""
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kg-twin"'
    if _is_sparql_path(path):
        text = f"{exc.code}: {exc.message}"
        if exc.where:
            text += "\nwhere: " + ", ".join(f"{k} {v}" for k, v in exc.where.items())
        if exc.hint:
            text += f"\nhint: {exc.hint}"
        return PlainTextResponse(text + "\n", status_code=exc.status, headers=headers)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


def _inference_state(app: Any, project: str) -> str | None:
    t = getattr(app.state, "twin", None)
    if isinstance(t, Twin) and t.projects.exists(project):
        return t.inference_state(project)
    return None


class _InferenceHeader:
    """``KG-Twin-Inference: current|pending|failed|off`` on every answer about one project (plain
    ASGI: no task group or response re-streaming per request, as ``@app.middleware`` would add)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/", 3) if scope["type"] == "http" else ()
        if len(parts) < 3 or parts[1] != "projects" or not parts[2]:
            await self.app(scope, receive, send)
            return
        project = parts[2]

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = _inference_state(scope["app"], project)
                if state is not None:
                    MutableHeaders(scope=message)["KG-Twin-Inference"] = state
            await send(message)

        await self.app(scope, receive, with_header)


class KgTwinApp(FastAPI):
    """The FastAPI application with one lean route in front: SPARQL protocol GET/POST on
    ``/sparql`` and ``/projects/{p}/sparql`` go straight to their handlers (the same functions the
    declared routes call, so OpenAPI and behaviour stay one), skipping the middleware stack and
    the dependency machinery, which cost more per request than the query path itself
    (docs/architecture.md, "Where the time goes")."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "POST"):
            path: str = scope["path"]
            if path == "/sparql":
                await self._sparql(scope, receive, send, None)
                return
            if path.startswith("/projects/") and path.endswith("/sparql"):
                project = path[10:-7]
                if project and "/" not in project:
                    await self._sparql(scope, receive, send, project)
                    return
        await super().__call__(scope, receive, send)

    async def _sparql(self, scope: Scope, receive: Receive, send: Send, project: str | None) -> None:
        scope["app"] = self
        request = Request(scope, receive, send)
        try:
            if project is None:
                response = await sparql.federated_sparql(request)
            else:
                response = await sparql.project_sparql(project, request)
        except KgTwinError as e:
            response = error_response(scope["path"], e)
        except Exception:  # the same answer as the app's handler of unexpected errors
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            response = error_response(scope["path"], KgTwinError("INTERNAL", "internal server error (details are in the server log)"))
        if project is not None:
            state = _inference_state(self, project)
            if state is not None:
                response.headers["KG-Twin-Inference"] = state
        await response(scope, receive, send)


def create_app(settings: Settings | None = None, *, twin: Twin | None = None) -> FastAPI:
    settings = settings or Settings()
    owned = twin is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        t = twin or create_twin(settings)
        app.state.twin = t
        t.store.start_workers()
        refresher = None
        if t.settings.infer_on_change:
            refresher = InferenceRefresher.attach(t)
            app.state.inference = refresher
            # catch up: projects with data but no inferred graph yet (loaded while no server ran)
            for p in t.projects.ids():
                data = [g for g in t.project_graphs(p, include_inferred=False, include_default=False)]
                if data and not t.store.has_graph(t.naming.inferred_graph(p)):
                    refresher.schedule(p)
        t.live_service()  # flusher and MQTT bridge run with the app
        for hook in app.state.startup_hooks:
            hook(t)
        try:
            yield
        finally:
            for hook in app.state.shutdown_hooks:
                try:
                    hook(t)
                except Exception:  # shutting down: log and go on
                    log.exception("shutdown hook failed")
            t.stop_live()  # final flush of the last-known values
            if refresher is not None:
                refresher.close()
            if owned:
                t.close()

    app = KgTwinApp(
        title="kg-twin",
        version=__version__,
        description="Semantic digital twin of a territory: SPARQL 1.1 Protocol, Graph Store Protocol and REST API over projects.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by kg_twin.api.openapi.install
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id_of,
    )
    app.state.settings = settings
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    if twin is not None:
        app.state.twin = twin

    app.add_middleware(_InferenceHeader)

    @app.exception_handler(KgTwinError)
    async def _kg_error(request: Request, exc: KgTwinError) -> Any:
        return error_response(request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Any:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        err = InputError("BAD_REQUEST", "invalid request parameters: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors), errors=errors)
        return await _kg_error(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        # the framework's own 404 (no route) / 405 (method): the same error body as everything else
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        err = KgTwinError(code, str(exc.detail), status=exc.status_code)
        response = await _kg_error(request, err)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        err = KgTwinError("INTERNAL", "internal server error (details are in the server log)")
        return await _kg_error(request, err)

    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, settings)
    return app
