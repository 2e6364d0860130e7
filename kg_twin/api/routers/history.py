"""A project's history: versions, their deltas, diffs, restore, retention (kg_twin/history, docs/history.md).

As-of queries are a parameter of the project SPARQL endpoint (``?asOf=``); scenarios have their
own router (``scenarios.py``). Readers of a project read its history, writers restore.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import errors
from kg_twin.errors import InputError
from kg_twin.history.entities import client_patch, entity_summary
from kg_twin.history.patch import Patch
from kg_twin.service import Twin

router = APIRouter(tags=["history"])
PATCH_MT = "application/rdf-patch"
_READ_ERRORS = errors(400, 401, 403, 404, 410)


class RestoreIn(BaseModel):
    version: int = Field(..., ge=0, description="the version to go back to (0: before the first recorded version)")
    graph: str | None = Field(None, description="restore only this graph (its IRI as clients name it); default: the whole project")


class PruneIn(BaseModel):
    keep_versions: int = Field(0, ge=0, description="keep at most this many versions (0: no limit)")
    keep_days: float = Field(0, ge=0, description="drop versions older than this many days (0: no limit)")


def _fmt(format: str | None) -> str:
    f = (format or "json").lower()
    if f not in ("json", "patch"):
        raise InputError("BAD_FORMAT", f"unknown format {format!r}", hint="use format=json or format=patch (RDF Patch)")
    return f


@router.get("/projects/{project}/versions", operation_id="list_versions", summary="Versions of a project, newest first", responses=_READ_ERRORS)
async def list_versions(
    project: str,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    caller: Caller = Depends(get_caller),
    twin: Twin = Depends(get_twin),
) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    versions, total = await run_in_threadpool(twin.history.versions, project, limit=limit, offset=offset)
    return {
        "ok": True,
        "project": project,
        "head": twin.history.head(project),
        "baseline": twin.history.baseline(project),
        "total": total,
        "limit": limit,
        "offset": offset,
        "versions": [v.to_dict() for v in versions],
    }


@router.get(
    "/projects/{project}/versions/{version}",
    operation_id="get_version",
    summary="One version: summary and delta (JSON, or RDF Patch with format=patch)",
    responses={**_READ_ERRORS, 200: {"content": {"application/json": {}, PATCH_MT: {}}}},
)
async def get_version(project: str, version: int, format: str | None = Query(None, description="json (default) or patch"), caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> Response:
    twin.access.require(caller, project, "reader")
    fmt = _fmt(format)
    v = await run_in_threadpool(twin.history.version, project, version)
    patch = client_patch(twin, project, await run_in_threadpool(twin.history.patch, project, version))
    if fmt == "patch":
        return Response(patch.text(v.iri).encode("utf-8"), media_type=PATCH_MT)
    return JSONResponse({"ok": True, "version": v.to_dict(), "added": patch.added, "removed": patch.removed})


@router.get(
    "/projects/{project}/diff",
    operation_id="diff_versions",
    summary="What changed between two versions: triples added / removed and the entities they describe",
    responses={**_READ_ERRORS, 200: {"content": {"application/json": {}, PATCH_MT: {}}}},
)
async def diff(
    project: str,
    from_: str = Query(..., alias="from", description="a version number or an ISO 8601 time"),
    to: str = Query("head", description="a version number, an ISO 8601 time, or 'head'"),
    format: str | None = Query(None, description="json (default) or patch"),
    caller: Caller = Depends(get_caller),
    twin: Twin = Depends(get_twin),
) -> Response:
    twin.access.require(caller, project, "reader")
    fmt = _fmt(format)

    def run() -> tuple[int, int, Patch, list[dict[str, Any]]]:
        a = twin.history.resolve(project, from_)
        b = twin.history.head(project) if to == "head" else twin.history.resolve(project, to)
        d = twin.history.diff(project, a, b)
        return a, b, client_patch(twin, project, d), entity_summary(twin, project, d)

    a, b, d, entities = await run_in_threadpool(run)
    if fmt == "patch":
        return Response(d.text(f"urn:kg-twin:diff:{project}:{a}:{b}").encode("utf-8"), media_type=PATCH_MT)
    return JSONResponse({"ok": True, "project": project, "from": a, "to": b, "added": len(d.added), "removed": len(d.removed), "entities": entities, "triples": {"added": d.added, "removed": d.removed}})


@router.post("/projects/{project}/restore", operation_id="restore_version", summary="Bring the project (or one graph) back to a version, as a new version", responses=errors(400, 401, 403, 404, 410))
async def restore(project: str, body: RestoreIn, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    v = await run_in_threadpool(twin.history.restore, project, body.version, graph=body.graph)
    if v is not None:
        await run_in_threadpool(twin.notify, project)
    return {"ok": True, "project": project, "restored": body.version, "version": v.to_dict() if v is not None else None, "changed": v is not None}


@router.post("/projects/{project}/history/prune", operation_id="prune_history", summary="Drop old versions (retention); the newest is always kept", responses=errors(400, 401, 403, 404))
async def prune(project: str, body: PruneIn, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "admin")
    if not body.keep_versions and not body.keep_days:
        raise InputError("NOTHING_TO_PRUNE", "give keep_versions or keep_days", hint='e.g. {"keep_versions": 100}')
    n = await run_in_threadpool(twin.history.prune, project, keep_versions=body.keep_versions, keep_days=body.keep_days)
    return {"ok": True, "project": project, "dropped": n, "baseline": twin.history.baseline(project)}
