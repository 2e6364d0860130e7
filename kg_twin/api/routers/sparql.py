"""SPARQL 1.1 Protocol endpoints: per project, and federated over readable projects."""

from __future__ import annotations

import dataclasses
import json
import math
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller
from kg_twin.api.openapi import errors
from kg_twin.catalog.run import GEOJSON_MEDIA, to_geojson
from kg_twin.errors import Forbidden, InputError, PayloadTooLarge
from kg_twin.limits import Limits, check_sparql
from kg_twin.formats import GRAPH_OUTPUT, RDF_FORMATS, RESULT_FORMATS, RESULT_OUTPUT, negotiate, rdf_format_from_name
from kg_twin.service import Twin
from kg_twin.sparql.dataset import ProjectDataset
from kg_twin.store import Dataset, QueryRequest
from kg_twin.sparql.lexer import check_service_targets
from kg_twin.store.convert import convert
from kg_twin.sparql.protocol import analyze, choose_dataset, parse_operation
from kg_twin.sparql.update import run_project_update

router = APIRouter(tags=["SPARQL"])

_DESCRIPTION = (
    "SPARQL 1.1 Protocol: `query` (GET/POST form/`application/sparql-query`), `update` (POST form/"
    "`application/sparql-update`), `default-graph-uri`, `named-graph-uri`, `using-graph-uri`, `using-named-graph-uri`. "
    "Extra parameters: `timeout` (seconds, at most the server limit), `inferred=false` (exclude inferred triples), "
    "`format` (json, xml, csv, tsv, geojson (SELECT with a geo:wktLiteral column; or Accept: application/geo+json), turtle, ntriples, jsonld, rdfxml, nquads, trig) overriding Accept. "
    "Without a query or update: the service description. Errors are plain text (`CODE: message`, `where:`, `hint:`). "
    "Limits: the text at most KG_TWIN_MAX_QUERY_BYTES (413), nesting at most KG_TWIN_MAX_SPARQL_DEPTH (400), "
    "results at most KG_TWIN_MAX_ROWS rows (`X-KG-Twin-Truncated: true` beyond), KG_TWIN_QUERY_TIMEOUT_S (503)."
)


def _param(name: str, description: str, many: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string"}} if many else {"type": "string"}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **({"explode": True} if many else {})}


_QUERY_PARAMS = [
    _param("query", "the SPARQL query"),
    _param("default-graph-uri", "a graph of the query's default graph (repeatable)", many=True),
    _param("named-graph-uri", "a named graph of the query's dataset (repeatable)", many=True),
    _param("timeout", "seconds before the query is stopped (at most KG_TWIN_QUERY_TIMEOUT_S)"),
    _param("inferred", "'false' leaves the inferred triples out"),
    _param("asOf", "project endpoint: answer on the dataset as it was at this version number or ISO 8601 time (read-only)"),
    _param("format", "result format, overriding Accept: json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml, nquads, trig"),
]
_FORM = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "update": {"type": "string"},
        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
        "named-graph-uri": {"type": "array", "items": {"type": "string"}},
        "using-graph-uri": {"type": "array", "items": {"type": "string"}},
        "using-named-graph-uri": {"type": "array", "items": {"type": "string"}},
        "timeout": {"type": "string"},
        "inferred": {"type": "string"},
        "format": {"type": "string"},
    },
}
_RESULTS = {
    "description": "Query results (SELECT/ASK: SPARQL results; CONSTRUCT/DESCRIBE and the service description: RDF)",
    "content": {mt: {} for mt in sorted({f.media_type for f in RESULT_FORMATS.values()} | {RDF_FORMATS[f].media_type for f in GRAPH_OUTPUT})},
}
_GET_DOC = {"description": _DESCRIPTION, "parameters": _QUERY_PARAMS, "responses": {"200": _RESULTS}}
_POST_DOC = {
    "description": _DESCRIPTION,
    "parameters": [p for p in _QUERY_PARAMS if p["name"] != "query"],
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {"schema": _FORM},
            "application/sparql-query": {"schema": {"type": "string"}},
            "application/sparql-update": {"schema": {"type": "string"}},
        }
    },
    "responses": {"200": _RESULTS},
}
_ERRORS = errors(400, 401, 403, 404, 405, 406, 413, 415, 502, 503, plain=True)
_UPDATE_OK = {204: {"description": "Update done (project endpoint only, writer role)"}}


def _service_description(twin: Twin, endpoint: str, fmt: str, union: bool = True) -> Response:
    sd = "http://www.w3.org/ns/sparql-service-description#"
    features = "sd:UnionDefaultGraph, sd:BasicFederatedQuery" if union else "sd:BasicFederatedQuery"
    ttl = f"""@prefix sd: <{sd}> .
[] a sd:Service ;
   sd:endpoint <{endpoint}> ;
   sd:supportedLanguage sd:SPARQL11Query, sd:SPARQL11Update ;
   sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
      <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
      <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>, <http://www.w3.org/ns/formats/JSON-LD>,
      <http://www.w3.org/ns/formats/RDF_XML>, <http://www.w3.org/ns/formats/N-Quads>, <http://www.w3.org/ns/formats/TriG> ;
   sd:feature {features} ;
   sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> .
"""
    if fmt == "turtle":
        return Response(ttl.encode(), media_type="text/turtle; charset=utf-8")
    body = convert(ttl.encode(), from_format="turtle", to_format=fmt)
    return Response(body, media_type=RDF_FORMATS[fmt].media_type)


def _timeout(twin: Twin, raw: str | None) -> float:
    limit = twin.settings.query_timeout_s
    if raw is None or raw == "":
        return limit
    try:
        v = float(raw)
    except ValueError:
        raise InputError("BAD_TIMEOUT", f"timeout must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError("BAD_TIMEOUT", f"timeout must be a positive number of seconds, not {raw!r}", hint=f"e.g. ?timeout=5 (at most {limit:g}, KG_TWIN_QUERY_TIMEOUT_S)")
    return min(v, limit)


def _formats(accept: str | None, fmt_param: str | None, form: str) -> tuple[str, str]:
    if form in ("CONSTRUCT", "DESCRIBE"):
        if fmt_param:
            return "json", rdf_format_from_name(fmt_param).name
        return "json", negotiate(accept, GRAPH_OUTPUT, RDF_FORMATS, default="turtle")
    if fmt_param:
        f = fmt_param.strip().lower()
        for rf in RESULT_FORMATS.values():  # name, media type (SPARQLWrapper sends those), alias or extension
            if f == rf.name or f == rf.media_type or f in rf.aliases or f in rf.extensions:
                f = rf.name
                break
        if f not in RESULT_FORMATS:
            raise InputError("BAD_FORMAT", f"unknown result format {fmt_param!r}", hint="use json, xml, csv or tsv")
        return f, "ntriples"
    return negotiate(accept, RESULT_OUTPUT, RESULT_FORMATS, default="json"), "ntriples"


@lru_cache(maxsize=1024)
def _confined(project: ProjectDataset, text: str, named: tuple[str, ...], base: str, merged: int) -> str:
    """The query text on stored names (:meth:`ProjectDataset.rewrite_query`), cached: a pure
    function of the text, the project's naming and mode, and the dataset's graphs, so that a change
    of any of them is a new key, never a stale answer."""
    return project.rewrite_query(text, list(named), base=base, merged=merged)


def query_request(twin: Twin, accept: str | None, op: Any, dataset: Dataset, may_read: Any, endpoint: str, project: str | None = None, pds: ProjectDataset | None = None) -> QueryRequest:
    """The :class:`QueryRequest` of a protocol query: checks (SERVICE allow-list, syntax), result
    format, the dataset the caller may see (403 beyond it), confinement to the project's stored
    names, the deadline and the row cap (none when a top-level ``LIMIT`` keeps the answer under it)."""
    analysis = analyze(op.text, endpoint)
    check_service_targets(analysis.services, twin.settings.service_allowlist)
    if analysis.error is not None:
        raise analysis.error
    geojson = analysis.form == "SELECT" and _wants_geojson(accept, op.param("format"))
    result_fmt, graph_fmt = ("json", "ntriples") if geojson else _formats(accept, op.param("format"), analysis.form)
    text = op.text
    if pds is not None:
        # client graph names -> stored names, in the protocol parameters, FROM clauses and GRAPH patterns
        op = dataclasses.replace(op, default_graph_uri=[pds.read_name(g) for g in op.default_graph_uri], named_graph_uri=[pds.read_name(g) for g in op.named_graph_uri])
    default_graphs, named_graphs = choose_dataset(op, dataset, may_read, base=endpoint, map_name=None if pds is None else pds.read_name)
    if pds is not None:
        text = _confined(pds, op.text, tuple(named_graphs), endpoint, len(default_graphs))
    cap = twin.settings.max_rows
    limit = analysis.limit if text is op.text else analyze(text, endpoint).limit
    return QueryRequest(
        text,
        dataset=Dataset(default_graphs, named_graphs),
        result_format=result_fmt,
        graph_format=graph_fmt,
        max_rows=None if limit is not None and limit <= cap else cap,
        timeout_s=_timeout(twin, op.param("timeout")),
        base_iri=endpoint,
        project=project,
        mode=None if pds is None else pds.mode,
        count_rows=False,
    )


async def answer(request: Request, twin: Twin, op: Any, dataset: Dataset, may_read: Any, endpoint: str, project: str, pds: ProjectDataset) -> Response:
    """The response to the protocol query ``op`` on a project's ``dataset`` (its present graphs, an
    as-of view or a scenario: ``pds`` names the stored graphs the client's names read)."""
    accept = request.headers.get("accept")
    query = query_request(twin, accept, op, dataset, may_read, endpoint, project, pds)
    return await _run_query(request, twin, query, _wants_geojson(accept, op.param("format")))


async def _run_query(request: Request, twin: Twin, query: QueryRequest, geojson: bool = False) -> Response:
    """Run ``query``; ``geojson``: the client asked for GeoJSON (a SELECT's JSON results are converted)."""
    res = await twin.store.aquery(query)
    headers = {"Vary": "Accept"}
    if res.truncated:
        headers["X-KG-Twin-Truncated"] = "true"
        headers["X-KG-Twin-Row-Limit"] = str(twin.settings.max_rows)
    if geojson and query.result_format == "json":  # SELECT results with a geo:wktLiteral column as a FeatureCollection (CRS84)
        return Response(to_geojson(json.loads(res.body)), media_type=GEOJSON_MEDIA, headers=headers)
    mt = res.media_type
    if mt.startswith("text/") or mt.endswith("+json") or mt.endswith("+xml") or mt in ("application/n-triples", "application/n-quads", "application/trig"):
        mt += "; charset=utf-8"
    return Response(res.body, media_type=mt, headers=headers)


def _browser(request: Request) -> bool:
    """A browser navigating here (its Accept names text/html first)."""
    return (request.headers.get("accept") or "").split(",")[0].split(";")[0].strip().lower() == "text/html"


def _wants_geojson(accept: str | None, fmt_param: str | None) -> bool:
    """``format=geojson`` or an Accept that names GeoJSON first (SELECT only)."""
    if fmt_param:
        return fmt_param.strip().lower() in ("geojson", GEOJSON_MEDIA, "application/vnd.geo+json")
    first = (accept or "").split(",")[0].split(";")[0].strip().lower()
    return first in (GEOJSON_MEDIA, "application/vnd.geo+json")


async def _read_body(request: Request, twin: Twin) -> bytes:
    """POST body, refused (413) as soon as it exceeds what a SPARQL text of the allowed size
    can take (form encoding may triple it), instead of buffering whatever a client sends."""
    if request.method != "POST":
        return b""
    limit = 3 * twin.settings.max_query_bytes + 65536

    def too_large() -> PayloadTooLarge:
        return PayloadTooLarge("QUERY_TOO_LARGE", f"the request body is larger than {limit} bytes", hint="raise KG_TWIN_MAX_QUERY_BYTES or simplify the query")

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    buf = bytearray()
    async for chunk in request.stream():
        buf.extend(chunk)
        if len(buf) > limit:
            raise too_large()
    return bytes(buf)


def _endpoint_url(request: Request) -> str:
    return str(request.url).split("?", 1)[0]


async def _request(request: Request) -> tuple[Twin, Caller, Any, str]:
    """Twin, caller, parsed protocol operation and endpoint URL of a SPARQL request.

    No FastAPI dependencies on this hot path: they cost more than the lookups they wrap."""
    twin: Twin = request.app.state.twin
    caller = await get_caller(request)
    body = await _read_body(request, twin)
    op = parse_operation(request.method, request.url.query, request.headers.get("content-type"), body, twin.settings.max_query_bytes)
    if op.text:
        check_sparql(op.text, Limits.of(twin.settings), what=f"SPARQL {op.kind}")
    return twin, caller, op, _endpoint_url(request)


def _describe(request: Request, twin: Twin, endpoint: str, union: bool = True) -> Response:
    fmt = negotiate(request.headers.get("accept"), ["turtle", "ntriples", "jsonld", "rdfxml"], RDF_FORMATS, default="turtle")
    return _service_description(twin, endpoint, fmt, union)


@router.get("/projects/{project}/sparql", operation_id="project_sparql_get", summary="SPARQL endpoint of one project", response_class=Response, responses=_ERRORS, openapi_extra=_GET_DOC)
@router.post("/projects/{project}/sparql", operation_id="project_sparql_post", summary="SPARQL endpoint of one project (queries and updates)", response_class=Response, responses={**_ERRORS, **_UPDATE_OK}, openapi_extra=_POST_DOC)
async def project_sparql(project: str, request: Request) -> Response:
    twin, caller, op, endpoint = await _request(request)
    as_of = op.param("asOf")
    if as_of is not None:  # the dataset as it was at a version or a time (kg_twin/history), read-only
        twin.access.require(caller, project, "reader")
        if op.kind == "update":
            raise Forbidden("READ_ONLY_AS_OF", "an as-of dataset is read-only", hint="send the update without asOf, or restore the version (POST /projects/{project}/restore)")
        view = await run_in_threadpool(twin.as_of.view, project, as_of)
        return await answer(request, twin, op, view.dataset, view.owns, endpoint, project, view.project)
    if op.kind == "update":
        twin.access.require(caller, project, "writer")
        timeout = _timeout(twin, op.param("timeout"))
        await run_in_threadpool(lambda: run_project_update(twin, project, op.text, endpoint, op.using_graph_uri, op.using_named_graph_uri, timeout_s=timeout))
        return Response(status_code=204)
    twin.access.require(caller, project, "reader")
    if op.kind == "none":
        if _browser(request):  # a person opening the endpoint: the query editor on it
            return RedirectResponse(f"/app/query?project={project}", status_code=303)
        return _describe(request, twin, endpoint, twin.dataset_of(project).mode == "union")
    inferred = (op.param("inferred") or "true").lower() not in ("false", "0", "no")
    dataset = twin.query_dataset(project, include_inferred=inferred)
    # geometry filters read their candidates from the project's R-tree (kg_twin.geo.prefilter)
    if twin.spatial.applies(op.text):
        op = dataclasses.replace(op, text=await run_in_threadpool(twin.spatial.rewrite, op.text, [project], base=endpoint))
    return await answer(request, twin, op, dataset, lambda g: twin.owns_graph(project, g), endpoint, project, twin.dataset_of(project))


@router.get("/sparql", operation_id="federated_sparql_get", summary="Federated read-only SPARQL endpoint over every project the caller may read", response_class=Response, responses=_ERRORS, openapi_extra=_GET_DOC)
@router.post("/sparql", operation_id="federated_sparql_post", summary="Federated read-only SPARQL endpoint (queries; updates answer 403)", response_class=Response, responses=_ERRORS, openapi_extra=_POST_DOC)
async def federated_sparql(request: Request) -> Response:
    twin, caller, op, endpoint = await _request(request)
    if op.kind == "update":
        raise Forbidden("READ_ONLY_ENDPOINT", "the federated endpoint is read-only", hint="send updates to /projects/{project}/sparql")
    if op.kind == "none":
        if _browser(request):
            return RedirectResponse("/app/query", status_code=303)
        return _describe(request, twin, endpoint)
    projects = twin.access.readable_projects(caller)
    inferred = (op.param("inferred") or "true").lower() not in ("false", "0", "no")
    allowed: list[str] = []
    for p in projects:
        allowed.extend(twin.project_graphs(p, include_inferred=inferred))
    readable = set(projects)
    dataset = Dataset(tuple(allowed), tuple(allowed))

    def may_read(g: str) -> bool:
        p = twin.naming.project_of_graph(g)
        return p is not None and p in readable and twin.owns_graph(p, g)

    if twin.spatial.applies(op.text):  # candidates from the R-trees of the projects the caller may read
        op = dataclasses.replace(op, text=await run_in_threadpool(twin.spatial.rewrite, op.text, list(projects), base=endpoint))
    query = query_request(twin, request.headers.get("accept"), op, dataset, may_read, endpoint)
    return await _run_query(request, twin, query, _wants_geojson(request.headers.get("accept"), op.param("format")))

