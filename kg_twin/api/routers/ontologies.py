"""Ontology bundle and inference endpoints.

* ``GET  /ontologies``                 modules of the bundle (version, triples, licence, source)
* ``GET  /ontologies/check``           the HermiT consistency report (cached by bundle hash)
* ``GET  /ontologies/{module}``        one module as Turtle (default) or N-Triples (``?format=ntriples``)
* ``POST /projects/{project}/infer``   recompute the project's inferred graph now (writer role)

The routes call the same functions as ``kg-twin ontologies ...`` / ``kg-twin infer``.
The app's lifespan (:func:`kg_twin.api.app.create_app`) runs the background
:class:`~kg_twin.reasoning.refresh.InferenceRefresher`, so every change a project's data notifies
updates its inferred graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.errors import NotFound
from kg_twin.service import Twin

router = APIRouter(tags=["ontologies"])

_MEDIA = {"turtle": "text/turtle", "ntriples": "application/n-triples"}


@router.get("/ontologies", summary="Modules of the pinned ontology bundle")
async def list_ontologies() -> dict[str, Any]:
    from kg_twin.ontologies import module_stats

    return {"modules": await run_in_threadpool(module_stats)}


@router.get("/ontologies/check", summary="OWL consistency of the bundle (HermiT; cached by bundle hash)")
async def check_ontologies(twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    from kg_twin.reasoning.owl import check_consistency, default_cache_dir

    report = await run_in_threadpool(check_consistency, cache_dir=default_cache_dir(Path(twin.settings.data_dir)))
    return report.to_dict()


@router.get(
    "/ontologies/{module}",
    summary="One ontology module as RDF (owl:imports removed)",
    response_class=Response,
    responses={200: {"description": "the module", "content": {mt: {"schema": {"type": "string"}} for mt in _MEDIA.values()}}, **errors(400, 404)},
)
async def get_ontology(module: str, format: str = Query("turtle", pattern="^(turtle|ntriples)$")) -> Response:
    from kg_twin.ontologies import MODULES, module_rdf

    if module not in MODULES:
        raise NotFound("UNKNOWN_ONTOLOGY_MODULE", f"no ontology module {module!r}", hint="GET /ontologies lists the modules")
    body = await run_in_threadpool(module_rdf, module, format=format)
    return Response(body, media_type=_MEDIA[format])


@router.post("/projects/{project}/infer", summary="Recompute the project's inferred graph from its asserted graphs", responses=errors(*READ))
async def infer(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    from kg_twin.reasoning.infer import infer_project

    twin.access.require(caller, project, "writer")
    stats = await run_in_threadpool(infer_project, twin.store, twin.naming, project)
    return stats.to_dict()
