"""Projects (DCAT datasets in the system graph) and their API tokens."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api import schemas
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import ADMIN, READ, errors
from kg_twin.errors import InputError
from kg_twin.service import Twin

router = APIRouter(tags=["projects"])


class ProjectIn(BaseModel):
    id: str = Field(..., description="project id: lowercase letters, digits, '-', '_'")
    title: str = ""
    description: str = ""
    owner: str = ""
    licence: str = Field("", description="licence IRI or name")
    public: bool = Field(False, description="anyone (even anonymous) may read")
    default_graph: Literal["union", "default"] = Field(
        "union", description="what a query's default graph is: 'union' (the set union of the project's graphs) or 'default' (the unnamed graph, as in the SPARQL standard)"
    )


class ProjectPatch(BaseModel):
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    licence: str | None = None
    public: bool | None = None
    default_graph: Literal["union", "default"] | None = None


class TokenIn(BaseModel):
    role: str = Field("reader", description="reader, writer or admin")
    label: str = ""


def _project_view(twin: Twin, pid: str) -> dict[str, Any]:
    info = twin.projects.get(pid).to_dict()
    graphs = twin.project_graphs(pid)
    info["graphs"] = [{"iri": twin.naming.client_graph(pid, g), "triples": twin.store.graph_size(g)} for g in graphs]
    info["sparql"] = f"/projects/{pid}/sparql"
    last = twin.inference.last.get(pid) if twin.inference is not None else None
    info["inference"] = {
        "state": twin.inference_state(pid),  # current | pending | failed | off
        "graph": twin.naming.inferred_graph(pid),
        "triples": twin.store.graph_size(twin.naming.inferred_graph(pid)),
        "last_run": last.to_dict() if last is not None else None,
    }
    return info


@router.get("/projects", summary="List the projects the caller may read", response_model=schemas.ProjectList, responses=errors(401))
def list_projects(twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    ids = twin.access.readable_projects(caller)
    return {"projects": [twin.projects.get(p).to_dict() for p in ids]}


@router.post("/projects", status_code=201, summary="Create a project (needs a '*' admin token)", response_model=schemas.Project, responses=errors(400, *ADMIN, 409))
async def create_project(body: ProjectIn, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require_global_admin(caller)
    info = await run_in_threadpool(
        twin.projects.create, body.id, title=body.title, description=body.description, owner=body.owner or caller.label, licence=body.licence, public=body.public, default_graph=body.default_graph
    )
    return info.to_dict()


@router.get("/projects/{project}", summary="Show a project with its graphs", response_model=schemas.ProjectView, responses=errors(*READ))
def show_project(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "reader")
    return _project_view(twin, project)


@router.patch("/projects/{project}", summary="Change a project's metadata (project admin)", response_model=schemas.Project, responses=errors(400, *READ))
async def patch_project(project: str, body: ProjectPatch, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "admin")
    info = await run_in_threadpool(twin.projects.update, project, **body.model_dump())
    return info.to_dict()


@router.delete("/projects/{project}", status_code=204, summary="Delete a project: its graphs and record, nothing else (project admin)", response_class=Response, responses=errors(*READ))
async def delete_project(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "admin")
    await run_in_threadpool(twin.projects.delete, project)
    return Response(status_code=204)


@router.get("/projects/{project}/tokens", summary="List a project's tokens (project admin)", response_model=schemas.TokenList, responses=errors(*READ))
def list_tokens(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "admin")
    return {"tokens": twin.access.tokens.list(project)}


@router.post("/projects/{project}/tokens", status_code=201, summary="Create a token for a project (project admin); the secret is shown once", response_model=schemas.NewToken, responses=errors(400, *READ))
def create_token(project: str, body: TokenIn, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    twin.access.require(caller, project, "admin")
    tok = twin.access.tokens.create(project, body.role, body.label)
    return {"id": tok.id, "token": tok.secret, "project": project, "role": tok.role}


@router.delete("/projects/{project}/tokens/{token_id}", status_code=204, summary="Revoke a token of a project (project admin)", response_class=Response, responses=errors(*READ))
def revoke_token(project: str, token_id: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "admin")
    if not twin.access.tokens.revoke(token_id, project):
        raise InputError("TOKEN_NOT_FOUND", f"no token {token_id!r} in project {project!r}", status=404)
    return Response(status_code=204)
