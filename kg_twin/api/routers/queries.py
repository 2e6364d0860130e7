"""Named queries as REST operations (grlc / BASIL style).

* ``GET /queries``                          the catalogue of this installation (public metadata)
* ``GET /queries/{name}``                   one catalogue entry, with its SPARQL text
* ``GET /projects/{p}/queries``             catalogue + the project's own queries (reader)
* ``GET /projects/{p}/queries/{name}``      call a query (reader): one OpenAPI operation per
  catalogue query (operationId = file stem, typed parameters); project queries share a generic route
* ``PUT /projects/{p}/queries/{name}``      add or replace a project query (project admin; body = .rq text)
* ``DELETE /projects/{p}/queries/{name}``   remove a project query (project admin)

Routers hold no RDF logic: they call :mod:`kg_twin.catalog` like the CLI does.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api import schemas
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.catalog.catalog import MAX_QUERY_FILE_BYTES, Catalog, default_catalog, resolve
from kg_twin.catalog.run import GEOJSON_MEDIA, answer, prepare
from kg_twin.catalog.spec import QuerySpec
from kg_twin.errors import Conflict, InputError, NotFound, PayloadTooLarge, UnsupportedMediaType
from kg_twin.service import Twin

TAG = "Named queries"
QUERY_MEDIA_TYPES = ("application/sparql-query", "text/plain", "application/x-sparql-query", "text/x-sparql")


def _options_doc(spec: QuerySpec) -> list[dict[str, Any]]:
    fmts = spec.formats()
    out: list[dict[str, Any]] = [
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "Answer format; overrides the Accept header.",
            "schema": {"type": "string", "enum": fmts},
        },
        {
            "name": "timeout",
            "in": "query",
            "required": False,
            "description": "Seconds before the query is stopped (at most the server limit).",
            "schema": {"type": "number", "exclusiveMinimum": 0},
        },
    ]
    if spec.pagination:
        out.append(
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": f"Page number ({spec.pagination} rows per page). The Link header names the next page.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            }
        )
    return out


def _responses_doc(spec: QuerySpec) -> dict[str, Any]:
    media = {
        "json": "application/sparql-results+json",
        "xml": "application/sparql-results+xml",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "geojson": GEOJSON_MEDIA,
        "turtle": "text/turtle",
        "ntriples": "application/n-triples",
        "jsonld": "application/ld+json",
        "rdfxml": "application/rdf+xml",
    }
    content = {media[f]: {"schema": {"type": "string"} if f in ("csv", "tsv", "turtle", "ntriples") else {}} for f in spec.formats()}
    return {"200": {"description": "Query results (the X-KG-Twin-Rows header counts them)", "content": content}}


CALL_ERRORS = errors(400, *READ, 406, 502, 503)


def operation_doc(spec: QuerySpec) -> dict[str, Any]:
    """OpenAPI fragments (parameters, responses) for one catalogue query."""
    params = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required and p.default is None,
            "description": p.describe(),
            "schema": p.schema(),
            **({"example": spec.example[p.name]} if p.name in spec.example else {}),
        }
        for p in spec.parameters
    ]
    return {"parameters": params + _options_doc(spec), "responses": _responses_doc(spec)}


def _description(spec: QuerySpec) -> str:
    text = spec.description or spec.summary
    text += f"\n\nSPARQL ({spec.form}):\n\n```sparql\n{spec.text.strip()}\n```"
    return text


async def _call(project: str, name: str, request: Request, twin: Twin, caller: Caller, catalog: Catalog) -> Response:
    twin.access.require(caller, project, "reader")
    spec = catalog.get(name) or await run_in_threadpool(resolve, twin.queries, project, name)  # a project's own: read from the store
    base_url = str(request.url).split("?", 1)[0]
    args, accept = list(request.query_params.multi_items()), request.headers.get("accept")
    if twin.spatial.applies(spec.text):  # geometry filters read candidates from the project's R-tree (may rebuild it)
        call = await run_in_threadpool(lambda: prepare(twin, project, spec, args, accept=accept, base_url=base_url, spatial=twin.spatial))
    else:
        call = prepare(twin, project, spec, args, accept=accept, base_url=base_url)
    res = answer(call, await twin.store.aquery(call.request))
    if res.count is not None:
        res.headers["X-KG-Twin-Rows"] = str(res.count)
    return Response(res.body, media_type=res.media_type, headers=res.headers)


def _make_endpoint(name: str, catalog: Catalog) -> Callable[..., Any]:
    async def endpoint(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
        return await _call(project, name, request, twin, caller, catalog)

    endpoint.__name__ = "query_" + name.replace("-", "_")
    return endpoint


def build_router(catalog: Catalog) -> APIRouter:
    r = APIRouter()

    @r.get("/queries", tags=[TAG], summary="The named-query catalogue: operations, parameters, examples", response_model=schemas.Catalogue, response_model_exclude_unset=True)
    def list_catalogue() -> dict[str, Any]:
        return {
            "queries": [s.to_dict(with_text=False) for s in catalog.list()],
            "invalid": [{"name": k, **v} for k, v in sorted(catalog.invalid.items())],
        }

    @r.get("/queries/{name}", tags=[TAG], summary="One catalogue query with its SPARQL text", response_model=schemas.QueryEntry, response_model_exclude_unset=True, responses=errors(404))
    def show_catalogue_query(name: str) -> dict[str, Any]:
        spec = catalog.get(name)
        if spec is None:
            raise NotFound("QUERY_NOT_FOUND", f"no catalogue query {name!r}", hint="list them with GET /queries")
        return spec.to_dict()

    @r.get(
        "/projects/{project}/queries",
        tags=[TAG],
        summary="Queries callable in a project: the catalogue and the project's own (reader)",
        response_model=schemas.ProjectQueries,
        response_model_exclude_unset=True,
        responses=errors(*READ),
    )
    async def list_project_queries(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
        twin.access.require(caller, project, "reader")
        own = await run_in_threadpool(twin.queries.list, project)
        return {
            "project": project,
            "queries": [s.to_dict(project=project, with_text=False) for s in catalog.list()]
            + [s.to_dict(project=project, with_text=True) for s in own],
        }

    # one real operation per catalogue query, before the generic route
    for spec in catalog.list():
        r.add_api_route(
            f"/projects/{{project}}/queries/{spec.name}",
            _make_endpoint(spec.name, catalog),
            methods=["GET"],
            operation_id=spec.name,
            summary=spec.summary,
            description=_description(spec),
            tags=[TAG] + [f"queries: {t}" for t in spec.tags],
            openapi_extra=operation_doc(spec),
            response_class=Response,
            responses=CALL_ERRORS,
        )

    @r.get(
        "/projects/{project}/queries/{name}",
        tags=[TAG],
        summary="Call a project query (reader); parameters as the catalogue lists them",
        operation_id="run_project_query",
        response_class=Response,
        responses=CALL_ERRORS,
        openapi_extra={"responses": {"200": {"description": "Query results, in the format Accept or ?format= asks for"}}},
    )
    async def call_project_query(project: str, name: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
        return await _call(project, name, request, twin, caller, catalog)

    @r.put(
        "/projects/{project}/queries/{name}",
        tags=[TAG],
        summary="Add or replace a project query (project admin); the body is the .rq text",
        description=f"The text is checked like a catalogue file: at most {MAX_QUERY_FILE_BYTES} bytes (413), UTF-8, SPARQL nesting at most "
        "KG_TWIN_MAX_SPARQL_DEPTH and '#+' decorators bounded by KG_TWIN_MAX_NESTING_DEPTH / KG_TWIN_MAX_YAML_NODES (400).",
        response_class=Response,
        responses={
            200: {"model": schemas.QueryEntry, "description": "replaced"},
            201: {"model": schemas.QueryEntry, "description": "created"},
            **errors(400, *READ, 409, 413, 415),
        },
        openapi_extra={"requestBody": {"required": True, "content": {mt: {"schema": {"type": "string"}} for mt in QUERY_MEDIA_TYPES}}},
    )
    async def put_project_query(project: str, name: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
        twin.access.require(caller, project, "admin")
        ct = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if ct not in QUERY_MEDIA_TYPES:
            raise UnsupportedMediaType(
                "UNSUPPORTED_MEDIA_TYPE",
                f"send the query text as application/sparql-query (got {ct or 'no Content-Type'})",
                hint="curl -X PUT -H 'Content-Type: application/sparql-query' --data-binary @my-query.rq ...",
            )
        body = await request.body()
        if len(body) > MAX_QUERY_FILE_BYTES:
            raise PayloadTooLarge("QUERY_TOO_LARGE", f"a named query may be at most {MAX_QUERY_FILE_BYTES} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("BAD_ENCODING", "the query text must be UTF-8") from None
        spec, created = await run_in_threadpool(twin.queries.put, project, name, text)
        return JSONResponse(spec.to_dict(project=project), status_code=201 if created else 200)

    @r.delete(
        "/projects/{project}/queries/{name}",
        tags=[TAG],
        status_code=204,
        summary="Remove a project query (project admin)",
        response_class=Response,
        responses=errors(*READ, 409),
    )
    async def delete_project_query(project: str, name: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
        twin.access.require(caller, project, "admin")
        if catalog.get(name) is not None:
            raise Conflict("CATALOGUE_QUERY", f"{name!r} is a catalogue query; it cannot be removed through the API", hint="catalogue queries are the installation's queries/*.rq files")
        await run_in_threadpool(twin.queries.delete, project, name)
        return Response(status_code=204)

    return r


router = build_router(default_catalog())
