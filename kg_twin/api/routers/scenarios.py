"""What-if scenarios of a project (kg_twin/history/scenarios.py, docs/history.md): create, query and
edit over SPARQL, compare a named query on base and scenario, promote, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import errors
from kg_twin.api.routers.sparql import _ERRORS, _GET_DOC, _POST_DOC, _UPDATE_OK, _request, answer
from kg_twin.catalog.catalog import resolve
from kg_twin.catalog.run import bind, timeout_of
from kg_twin.errors import InputError
from kg_twin.history.asof import View
from kg_twin.service import Twin
from kg_twin.sparql.lexer import check_services
from kg_twin.store import Dataset, QueryRequest

router = APIRouter(tags=["scenarios"])


class ScenarioIn(BaseModel):
    id: str = Field(..., description="scenario id: lowercase letters, digits, '-', '_'")
    base: str | None = Field(None, description="the version (number or ISO 8601 time) it starts from; default: the latest")
    title: str = ""


@router.get("/projects/{project}/scenarios", operation_id="list_scenarios", summary="Scenarios of a project", responses=errors(401, 403, 404))
async def list_scenarios(project: str, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    found = await run_in_threadpool(twin.scenarios.list, project)
    return {"ok": True, "project": project, "scenarios": [s.to_dict() for s in found]}


@router.post("/projects/{project}/scenarios", operation_id="create_scenario", summary="Start a scenario from a version of the project", status_code=201, responses=errors(400, 401, 403, 404, 409, 410))
async def create_scenario(project: str, body: ScenarioIn, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    s = await run_in_threadpool(lambda: twin.scenarios.create(project, body.id, base=body.base, title=body.title))
    return {"ok": True, "scenario": s.to_dict(), "sparql": f"/projects/{project}/scenarios/{s.id}/sparql"}


@router.get("/projects/{project}/scenarios/{scenario}", operation_id="get_scenario", summary="A scenario and its changes against its base version", responses=errors(401, 403, 404))
async def get_scenario(project: str, scenario: str, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")

    def run() -> dict[str, Any]:
        s = twin.scenarios.get(project, scenario)
        ch = twin.scenarios.changes(project, scenario)
        ds = twin.dataset_of(project)
        return {"ok": True, "scenario": {**s.to_dict(), "edits": [ds.client(g) for g in s.edits]}, "added": len(ch.added), "removed": len(ch.removed)}

    return await run_in_threadpool(run)


@router.delete("/projects/{project}/scenarios/{scenario}", operation_id="delete_scenario", summary="Delete a scenario", status_code=204, responses=errors(401, 403, 404))
async def delete_scenario(project: str, scenario: str, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> Response:
    twin.access.require(caller, project, "writer")
    await run_in_threadpool(twin.scenarios.delete, project, scenario)
    return Response(status_code=204)


@router.post("/projects/{project}/scenarios/{scenario}/promote", operation_id="promote_scenario", summary="Apply a scenario to the project as a new version (409 with the conflicting triples if the project changed them since)", responses=errors(401, 403, 404, 409))
async def promote(project: str, scenario: str, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    out = await run_in_threadpool(twin.scenarios.promote, project, scenario)
    if out["version"] is not None:
        await run_in_threadpool(twin.notify, project)
    return {"ok": True, "project": project, "scenario": scenario, **out}


@router.get("/projects/{project}/scenarios/{scenario}/sparql", operation_id="scenario_sparql_get", summary="SPARQL queries on a scenario (base version + its edits)", response_class=Response, responses=_ERRORS, openapi_extra=_GET_DOC)
@router.post("/projects/{project}/scenarios/{scenario}/sparql", operation_id="scenario_sparql_post", summary="SPARQL queries and updates on a scenario", response_class=Response, responses={**_ERRORS, **_UPDATE_OK}, openapi_extra=_POST_DOC)
async def scenario_sparql(project: str, scenario: str, request: Request) -> Response:
    twin, caller, op, endpoint = await _request(request)
    if op.kind == "update":
        twin.access.require(caller, project, "writer")
        if op.using_graph_uri or op.using_named_graph_uri:
            raise InputError("SCENARIO_USING", "using-graph-uri / using-named-graph-uri are not supported on scenarios", hint="put USING clauses in the update text")
        await run_in_threadpool(lambda: twin.scenarios.update(project, scenario, op.text, base=endpoint))
        return Response(status_code=204)
    twin.access.require(caller, project, "reader")
    if op.kind == "none":
        raise InputError("NO_QUERY", "send a query or an update", hint="?query=SELECT …")
    view = await run_in_threadpool(twin.scenarios.view, project, scenario)
    return await answer(request, twin, op, view.dataset, view.owns, endpoint, project, view.project)


def _run_named(twin: Twin, view: View, text: str, bindings: dict[str, Any], timeout: float) -> Any:
    graphs = tuple(view.dataset.named_graphs or ()) + ((view.project.default_graph,) if view.project.mode == "default" else ())
    allg = tuple(dict.fromkeys(tuple(view.dataset.default_graphs or ()) + graphs))
    res = twin.store.query(QueryRequest(text, dataset=Dataset(allg, allg), result_format="json", max_rows=twin.settings.max_rows, timeout_s=timeout, bindings=bindings or None))
    return json.loads(res.body)


@router.get("/projects/{project}/scenarios/{scenario}/compare", operation_id="compare_scenario", summary="Run a named query (an indicator) on the base version and on the scenario, side by side", responses=errors(400, 401, 403, 404, 503))
async def compare(project: str, scenario: str, query: str, request: Request, caller: Caller = Depends(get_caller), twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    spec = resolve(twin.queries, project, query)
    if spec.form not in ("SELECT", "ASK"):
        raise InputError("COMPARE_FORM", f"named query {query!r} is a {spec.form}", hint="compare SELECT or ASK queries")
    args = [(k, v) for k, v in request.query_params.multi_items() if k != "query"]
    bindings, options = bind(spec, args)
    timeout = timeout_of(twin.settings.query_timeout_s, options.get("timeout"))
    check_services(spec.text, twin.settings.service_allowlist)

    def run() -> dict[str, Any]:
        base = twin.scenarios.base_view(project, scenario)
        mine = twin.scenarios.view(project, scenario)
        return {"base": _run_named(twin, base, spec.text, bindings, timeout), "scenario": _run_named(twin, mine, spec.text, bindings, timeout), "base_version": base.seq}

    out = await run_in_threadpool(run)
    return {"ok": True, "project": project, "scenario": scenario, "query": query, **out}
