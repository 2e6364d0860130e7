"""Link discovery: ``POST /projects/{p}/links`` runs a link specification; the review queue is
``GET /projects/{p}/links/review`` and ``POST /projects/{p}/links/review/{id}`` (accept / reject);
``GET /projects/{p}/links/propose?source=G&target=G`` proposes a specification for two graphs.

The specification is the YAML of ``docs/links.md``, sent as ``application/yaml`` (or ``text/yaml``), or
JSON ``{"spec": "<yaml text>" | {...}, "dry_run": false}`` or ``{"name": "<stored spec>"}`` to run a
specification again with the decisions people made since. Same functions as ``kg-twin link``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.errors import InputError, PayloadTooLarge, UnsupportedMediaType
from kg_twin.limits import Limits, load_json
from kg_twin.links.propose import propose
from kg_twin.links.review import decide, review_queue, stored_spec
from kg_twin.links.run import run_links
from kg_twin.links.spec import LinkSpec, parse_spec, spec_from_dict
from kg_twin.service import Twin

router = APIRouter()
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class RunRequest(BaseModel):
    spec: str | dict[str, Any] | None = Field(None, description="the link specification: YAML text or the same as a JSON object")
    name: str | None = Field(None, description="instead of spec: run the specification a previous run of this name stored")
    dry_run: bool = Field(False, description="count the links without writing them")


class DecisionRequest(BaseModel):
    decision: Literal["accept", "reject", "accepted", "rejected"]


_RUN_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": RunRequest.model_json_schema()},
        },
    }
}


def _spec_from_request(twin: Twin, project: str, ctype: str, body: bytes) -> tuple[LinkSpec, bool]:
    if ctype in YAML_TYPES:
        if len(body) > Limits.of(twin.settings).json_bytes:
            raise PayloadTooLarge("LINK_SPEC_TOO_LARGE", "the specification is larger than KG_TWIN_MAX_JSON_BYTES", hint="a link specification is a few lines of YAML")
        return parse_spec(body.decode("utf-8", errors="replace"), where="request body", limits=Limits.of(twin.settings)), False
    if ctype == "application/json":
        doc = load_json(body, Limits.of(twin.settings))
        if not isinstance(doc, dict):
            raise InputError("BAD_JSON", "request body must be a JSON object", hint='send {"spec": "<yaml>"} or {"name": "<stored spec>"}')
        try:
            req = RunRequest.model_validate(doc)
        except ValidationError as e:
            where = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
            raise InputError("BAD_REQUEST", f"invalid link request: {where}", hint='send {"spec": "<yaml>"} or {"name": "<stored spec>"}') from None
        if (req.spec is None) == (req.name is None):
            raise InputError("BAD_REQUEST", "give either spec or name", hint='send {"spec": "<yaml>"} or {"name": "<stored spec>"}')
        if req.name is not None:
            return stored_spec(twin, project, req.name), req.dry_run
        if isinstance(req.spec, dict):
            return spec_from_dict(req.spec, where="request body"), req.dry_run
        return parse_spec(str(req.spec), where="request body", limits=Limits.of(twin.settings)), req.dry_run
    raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", f"cannot read a link specification as {ctype or 'no content type'}", hint="send application/yaml or application/json")


@router.post(
    "/projects/{project}/links",
    tags=["links"],
    summary="Run a link specification; the links go to the graph links/<name> of the project",
    responses=errors(400, *READ, 413, 415, 502),
    openapi_extra=_RUN_DOC,
)
async def run_links_endpoint(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    spec, dry_run = _spec_from_request(twin, project, ctype, body)
    return await run_in_threadpool(lambda: run_links(twin, project, spec, caller, dry_run=dry_run))


@router.get("/projects/{project}/links/propose", tags=["links"], summary="Propose a link specification for two graphs of the project", responses=errors(400, *READ))
async def propose_endpoint(
    project: str,
    source: str = Query(..., description="graph holding the entities to link from"),
    target: str = Query(..., description="graph holding the entities to link to"),
    name: str | None = Query(None, description="name of the specification"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    out = await run_in_threadpool(lambda: propose(twin, project, source, target, caller, name=name))
    return {"spec": out["spec"], "yaml": out["yaml"]}


@router.get("/projects/{project}/links/review", tags=["links"], summary="Candidate links waiting for a person (or with another status)", responses=errors(400, *READ))
async def review_list_endpoint(
    project: str,
    spec: str | None = Query(None, description="only this specification's links"),
    status: str = Query("review", description="review (default), accepted or rejected"),
    limit: int = Query(1000, ge=1, le=100000),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    items = await run_in_threadpool(lambda: review_queue(twin, project, spec=spec, status=status, limit=limit))
    return {"project": project, "status": status, "count": len(items), "items": items}


@router.post("/projects/{project}/links/review/{link}", tags=["links"], summary="Accept or reject a candidate link (the decision is kept and re-applied)", responses=errors(400, *READ))
async def decide_endpoint(project: str, link: str, body: DecisionRequest, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "writer")
    decision = "accepted" if body.decision.startswith("accept") else "rejected"
    return await run_in_threadpool(lambda: decide(twin, project, link, decision, caller))
