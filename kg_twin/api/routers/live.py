"""Live twin endpoints: observations in and out, points, rules, server-sent events."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api import schemas
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import ADMIN, READ, errors
from kg_twin.limits import Limits, load_json
from kg_twin.errors import InputError, NotAcceptable
from kg_twin.live.history import query_history, to_csv
from kg_twin.live.readings import parse_batch
from kg_twin.live.service import LiveService
from kg_twin.live.timeseries import Series
from kg_twin.service import Twin

router = APIRouter(tags=["live"])


def _live(twin: Twin) -> LiveService:
    return twin.live_service()


_OBS_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"example": [{"point": "co2_room_101", "timestamp": "2024-05-01T10:00:00Z", "value": 612, "unit": "PPM"}]},
            "text/csv": {"example": "point,timestamp,value,unit\nco2_room_101,2024-05-01T10:00:00Z,612,PPM\n"},
        }
    },
    "description": "A JSON array of readings or CSV; JSON at most KG_TWIN_MAX_JSON_BYTES (413), nested at most KG_TWIN_MAX_NESTING_DEPTH (400).",
}


@router.post(
    "/projects/{project}/observations",
    summary="Send a batch of readings (writer)",
    response_class=Response,
    responses={200: {"model": schemas.ObservationBatchResult, "description": "what was accepted; rejected readings with the reason"}, **errors(400, *READ, 413, 415)},
    openapi_extra=_OBS_DOC,
)
async def post_observations(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "writer")
    body = await request.body()
    ct = request.headers.get("content-type", "application/json")

    def work() -> dict[str, Any]:
        readings = parse_batch(body, ct)
        return _live(twin).ingest(project, readings).to_dict()

    res = await run_in_threadpool(work)
    return Response(json.dumps(res), media_type="application/json")


@router.get(
    "/projects/{project}/points",
    summary="Points of a project (Brick points) with their time-series ids (reader)",
    response_model=schemas.PointList,
    response_model_exclude_unset=True,
    responses=errors(*READ),
)
async def list_points(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    pts = await run_in_threadpool(_live(twin).points, project)
    return {"project": project, "points": pts}


def _series_for(twin: Twin, project: str, point: str) -> tuple[Series | None, Any]:
    live = _live(twin)
    pt = live.resolve(project, point)
    found = live.history.find_series(scopes=[live.state_graph(project)], point=pt.iri)
    return (found[0] if found else None), pt


@router.get(
    "/projects/{project}/points/{point:path}/observations",
    summary="History of a point: raw readings or aggregates (reader)",
    response_class=Response,
    responses={
        200: {"model": schemas.History, "description": "the readings (JSON) or CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
        **errors(400, *READ, 406),
    },
)
async def get_observations(
    project: str,
    point: str,
    request: Request,
    start: str | None = Query(None, description="ISO 8601 with timezone (default: end - 1 day)"),
    end: str | None = Query(None, description="ISO 8601 with timezone, exclusive (default: now)"),
    every: str | None = Query(None, description="bucket size: 15min, 1h, 1d, PT15M..."),
    agg: str | None = Query(None, description="avg, min, max, sum, count, first, last"),
    limit: int = Query(100_000, ge=1, le=100_000, description="max raw readings"),
    format: str | None = Query(None, description="json or csv (overrides Accept)"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> Response:
    twin.access.require(caller, project, "reader")
    fmt = (format or "").lower()
    if not fmt:
        accept = request.headers.get("accept", "")
        fmt = "csv" if "text/csv" in accept and "json" not in accept else "json"
    if fmt not in ("json", "csv"):
        raise NotAcceptable("BAD_FORMAT", f"unknown format {format!r}", hint="use json or csv")

    def work() -> dict[str, Any]:
        series, pt = _series_for(twin, project, point)
        if series is None:
            live = _live(twin)
            series = Series(-1, live.state_graph(project), pt.iri, pt.ts_id, project, pt.unit)
        return query_history(_live(twin).history, series, start=start, end=end, every=every, agg=agg, limit=limit)

    res = await run_in_threadpool(work)
    if fmt == "csv":
        return Response(to_csv(res), media_type="text/csv; charset=utf-8")
    return Response(json.dumps(res), media_type="application/json")


@router.get("/projects/{project}/rules", summary="Alert rules of a project (reader)", response_model=schemas.RuleList, response_model_exclude_unset=True, responses=errors(*READ))
async def list_rules(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    return {"project": project, "rules": [r.to_dict() for r in _live(twin).rules.list(project)]}


@router.post(
    "/projects/{project}/rules",
    status_code=201,
    summary="Add an alert rule: threshold on a class of points, or SPARQL ASK/SELECT (writer)",
    description="A JSON object (see kg_twin.live.rules), at most KG_TWIN_MAX_JSON_BYTES (413); a SPARQL rule's nesting at most KG_TWIN_MAX_SPARQL_DEPTH (400).",
    response_model=schemas.Rule,
    response_model_exclude_unset=True,
    responses=errors(400, *READ, 413),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def add_rule(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    body = load_json(await request.body(), Limits.of(twin.settings))
    rule = await run_in_threadpool(_live(twin).add_rule, project, body)
    return rule.to_dict()


@router.get("/projects/{project}/rules/{rule}", summary="One alert rule (reader)", response_model=schemas.Rule, response_model_exclude_unset=True, responses=errors(*READ))
async def get_rule(project: str, rule: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    return _live(twin).rules.get(project, rule).to_dict()


@router.delete("/projects/{project}/rules/{rule}", status_code=204, summary="Delete an alert rule (writer)", response_class=Response, responses=errors(*READ))
async def delete_rule(project: str, rule: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "writer")
    await run_in_threadpool(_live(twin).delete_rule, project, rule)
    return Response(status_code=204)


_SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {"event": {"type": "string", "enum": ["ready", "alert", "reading", "dropped"]}, "data": {"type": "string"}, "id": {"type": "string"}},
}


@router.get(
    "/projects/{project}/events",
    summary="Server-sent events: alerts, and changes of the given points (reader)",
    response_class=Response,
    responses={200: {"description": "an endless event stream (ready, reading, alert, dropped); each event's data is JSON", "content": {"text/event-stream": {"schema": _SSE_EVENT}}}, **errors(*READ)},
)
async def events(
    project: str,
    request: Request,
    points: str | None = Query(None, description="comma-separated point ids or IRIs whose new values are streamed too"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> Any:
    from sse_starlette.sse import EventSourceResponse

    twin.access.require(caller, project, "reader")
    live = _live(twin)
    watch: set[str] | None = None
    if points:
        watch = set()
        for p in (x.strip() for x in points.split(",")):
            if p:
                watch.add((await run_in_threadpool(live.resolve, project, p)).iri)
    sub = live.hub.subscribe(project, watch, asyncio.get_running_loop())

    async def gen() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"event": "ready", "data": json.dumps({"project": project, "points": sorted(watch or [])})}
            while True:
                ev = await sub.queue.get()
                if ev["event"] == "_close":
                    return
                if sub.dropped:
                    yield {"event": "dropped", "data": json.dumps({"dropped": sub.dropped})}
                    sub.dropped = 0
                yield {"event": ev["event"], "id": str(ev["id"]), "data": json.dumps(ev["data"])}
        finally:
            live.hub.unsubscribe(sub)

    return EventSourceResponse(gen(), ping=15)


@router.get(
    "/live/status",
    summary="Counters of the live service: readings accepted/rejected, flushes, alerts, MQTT (admin of all projects)",
    response_model=schemas.LiveStatus,
    response_model_exclude_unset=True,
    responses=errors(*ADMIN),
)
async def live_status(twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require_global_admin(caller)
    live = _live(twin)
    out: dict[str, Any] = {"live": dict(live.stats), "flush_s": live.flush_s}
    if live.mqtt is not None:
        out["mqtt"] = {"url": live.mqtt.url, "connected": live.mqtt.connected.is_set(), **live.mqtt.stats}
    return out
