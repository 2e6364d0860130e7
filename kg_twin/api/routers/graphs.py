"""SPARQL 1.1 Graph Store HTTP Protocol, per project.

Indirect identification: ``/projects/{p}/graphs?graph=IRI`` (any IRI: a project is an RDF
dataset, see :mod:`kg_twin.sparql.dataset`) or ``?default``.
Direct identification: ``/projects/{p}/graphs/{path}`` is the graph whose IRI is that URL (one graph
store base URL for indirect and direct identification, as the GSP describes it), and
``/graph/{p}/{name}`` is the graph ``{base}graph/{p}/{name}`` (the IRIs kg-twin mints).
Uploads are spooled to a temporary file (never held whole in memory) and loaded
atomically; the project's default graph is ``{base}graph/{p}/default``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.errors import InputError, NotFound, PayloadTooLarge
from kg_twin.limits import Limits, check_rdf
from kg_twin.formats import GRAPH_OUTPUT, RDF_FORMATS, negotiate, rdf_format_from_media_type
from kg_twin.service import Twin
from kg_twin.sparql.dataset import check_graph_iri

router = APIRouter(tags=["graph store"])

IN_MEMORY_LIMIT = 4 * 1024 * 1024


def _target(twin: Twin, project: str, request: Request) -> str | None:
    """Graph IRI addressed by the request (None: no graph given, for POST-create)."""
    q = request.query_params
    graphs = q.getlist("graph")
    has_default = "default" in q
    if graphs and has_default:
        raise InputError("PROTOCOL", "use either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        raise InputError("PROTOCOL", "only one ?graph= parameter is allowed")
    if has_default:
        return twin.naming.default_graph(project)
    if graphs:
        # any IRI the client chooses names a graph of the project (kg_twin.sparql.dataset)
        raw = graphs[0]
        if request.method in ("GET", "HEAD") and raw in ("inferred", twin.naming.inferred_graph(project)):
            return twin.naming.inferred_graph(project)  # readable, never writable
        return twin.naming.resolve_graph(project, raw)
    return None


async def _spool(request: Request, twin: Twin) -> tuple[bytes | str, int]:
    """Request body as bytes (small) or a temp file path (large); enforces the size limit."""
    limit = twin.settings.max_upload_bytes
    buf = bytearray()
    tmp: Any = None
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge("UPLOAD_TOO_LARGE", f"upload exceeds {limit} bytes", hint="raise KG_TWIN_MAX_UPLOAD_BYTES or use `kg-twin load` on the server")
            if tmp is None:
                buf.extend(chunk)
                if len(buf) > IN_MEMORY_LIMIT:
                    tmpdir = Path(twin.settings.data_dir) / "tmp"
                    tmpdir.mkdir(parents=True, exist_ok=True)
                    tmp = tempfile.NamedTemporaryFile(dir=tmpdir, delete=False, suffix=".upload")
                    tmp.write(buf)
                    buf = bytearray()
            else:
                tmp.write(chunk)
    except BaseException:
        if tmp is not None:
            tmp.close()
            os.unlink(tmp.name)
        raise
    if tmp is not None:
        tmp.close()
        return tmp.name, total
    return bytes(buf), total


async def _write_multipart(request: Request, twin: Twin, project: str, graph: str, *, replace: bool) -> bool:
    """multipart/form-data: every part is an RDF document (its own Content-Type, else its file name's
    extension); all parts are checked first, then merged into the graph under one writer lock."""
    from starlette.datastructures import UploadFile

    from kg_twin.formats import rdf_format_from_path

    declared = int(request.headers.get("content-length") or 0)
    if declared > twin.settings.max_upload_bytes:
        raise PayloadTooLarge("UPLOAD_TOO_LARGE", f"upload exceeds {twin.settings.max_upload_bytes} bytes", hint="raise KG_TWIN_MAX_UPLOAD_BYTES or use `kg-twin load` on the server")
    form = await request.form(max_part_size=IN_MEMORY_LIMIT)
    parts: list[tuple[Any, bytes]] = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                ct = value.content_type
                fmt = rdf_format_from_media_type(ct) if ct and ct != "application/octet-stream" else rdf_format_from_path(value.filename or key)
                data = await value.read()
            else:
                fmt = rdf_format_from_path(key)
                data = value.encode("utf-8")
            if fmt.quads:
                from kg_twin.errors import UnsupportedMediaType

                raise UnsupportedMediaType("DATASET_INTO_GRAPH", f"part {key!r} ({fmt.media_type}) carries named graphs; the graph store takes one graph", hint="send Turtle, N-Triples, RDF/XML, JSON-LD or N3 parts")
            parts.append((fmt, data))
    finally:
        await form.close()
    if not parts:
        raise InputError("EMPTY_MULTIPART", "the multipart body has no parts", hint="send one RDF document per form part")
    for i, (fmt, data) in enumerate(parts):
        try:
            check_rdf(Path(data) if isinstance(data, str) else data, fmt.name, Limits.of(twin.settings), what=f"part {i + 1}")
            twin.store.parse_check(data, format=fmt.name, base_iri=graph)
        except InputError as e:
            e.where = {"part": i + 1, **e.where}
            raise
    existed = twin.store.has_graph(graph)
    change = await run_in_threadpool(twin.before_replace, project, [graph])  # what inference re-reads

    def load_all() -> None:
        with twin.store.transaction():
            for i, (fmt, data) in enumerate(parts):
                twin.store.load(data, format=fmt.name, graph=graph, base_iri=graph, replace=replace and i == 0)

    try:
        await run_in_threadpool(load_all)
    except BaseException:
        await run_in_threadpool(twin.discard_change, change)  # nothing was written: no scratch copy left behind
        raise
    await run_in_threadpool(twin.notify, project, change)
    return existed


async def _write(request: Request, twin: Twin, project: str, graph: str, *, replace: bool) -> bool:
    if (request.headers.get("content-type") or "").split(";")[0].strip().lower() == "multipart/form-data":
        return await _write_multipart(request, twin, project, graph, replace=replace)
    fmt = rdf_format_from_media_type(request.headers.get("content-type"))
    if fmt.quads:
        from kg_twin.errors import UnsupportedMediaType

        raise UnsupportedMediaType("DATASET_INTO_GRAPH", f"{fmt.media_type} carries named graphs; the graph store takes one graph", hint="send Turtle, N-Triples, RDF/XML, JSON-LD or N3")
    body, size = await _spool(request, twin)
    existed = twin.store.has_graph(graph)
    # inference gets what changed: the old graph when it is replaced, else the appended data
    change = await run_in_threadpool(twin.before_replace, project, [graph]) if replace or not existed else None
    try:
        # JSON-LD and RDF/XML parsers recurse: bound the nesting before the engine reads the file
        await run_in_threadpool(check_rdf, Path(body) if isinstance(body, str) else body, fmt.name, Limits.of(twin.settings), what="upload")
        await run_in_threadpool(twin.store.load, body, format=fmt.name, graph=graph, base_iri=graph, replace=replace)
        if existed and not replace:
            change = await run_in_threadpool(lambda: twin.staged_change(project, body, format=fmt.name, base_iri=graph))
    except BaseException:
        await run_in_threadpool(twin.discard_change, change)  # nothing was written: no scratch copy left behind
        raise
    finally:
        if isinstance(body, str):
            os.unlink(body)
    await run_in_threadpool(twin.notify, project, change)
    return existed


def _project_dataset(twin: Twin, project: str, fmt: str) -> bytes:
    import io

    out = io.BytesIO()
    twin.export(project, out, format=fmt)
    return out.getvalue()


def _dump_response(twin: Twin, graph: str, request: Request, head: bool = False) -> Response:
    if not twin.store.has_graph(graph) and graph != twin.naming.default_graph(twin.naming.project_of_graph(graph) or ""):
        raise NotFound("GRAPH_NOT_FOUND", f"no graph <{graph}>", hint="list the project's graphs with GET /projects/{p}")
    fmt = negotiate(request.headers.get("accept"), GRAPH_OUTPUT, RDF_FORMATS, default="turtle")
    mt = RDF_FORMATS[fmt].media_type + "; charset=utf-8"
    if head:
        return Response(status_code=200, media_type=mt)
    body = twin.store.dump_bytes(format=fmt, graphs=[graph])
    return Response(body, media_type=mt, headers={"Vary": "Accept"})


async def _handle(project: str, graph: str | None, request: Request, twin: Twin, caller: Caller) -> Response:
    method = request.method
    if method in ("GET", "HEAD"):
        twin.access.require(caller, project, "reader")
        if graph is None:
            # the whole project, as a dataset or merged
            fmt = negotiate(request.headers.get("accept"), ["trig", "nquads", "turtle", "ntriples"], RDF_FORMATS, default="trig")
            graphs = twin.project_graphs(project)
            mt = RDF_FORMATS[fmt].media_type + "; charset=utf-8"
            if method == "HEAD":
                return Response(status_code=200, media_type=mt)
            if fmt in ("trig", "nquads"):  # graphs under the names the client uses
                return Response(await run_in_threadpool(_project_dataset, twin, project, fmt), media_type=mt)
            return Response(twin.store.dump_bytes(format=fmt, graphs=graphs), media_type=mt)
        return _dump_response(twin, graph, request, head=method == "HEAD")
    twin.access.require(caller, project, "writer")
    if method == "PUT":
        if graph is None:
            raise InputError("PROTOCOL", "PUT needs ?graph=IRI or ?default")
        existed = await _write(request, twin, project, graph, replace=True)
        return Response(status_code=204 if existed else 201)
    if method == "POST":
        if graph is None:
            graph = twin.naming.graph(project, "g-" + uuid.uuid4().hex[:12])
            await _write(request, twin, project, graph, replace=False)
            return Response(status_code=201, headers={"Location": graph})
        existed = await _write(request, twin, project, graph, replace=False)
        return Response(status_code=204 if existed else 201)
    if method == "DELETE":
        if graph is None:
            raise InputError("PROTOCOL", "DELETE needs ?graph=IRI or ?default")
        if not twin.store.has_graph(graph):
            raise NotFound("GRAPH_NOT_FOUND", f"no graph <{graph}>")
        change = await run_in_threadpool(twin.before_replace, project, [graph])
        await run_in_threadpool(twin.store.drop_graphs, [graph])
        await run_in_threadpool(twin.notify, project, change)
        return Response(status_code=204)
    raise InputError("PROTOCOL", f"method {method} not supported", status=405)


async def graph_store(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "reader")  # before looking at the graph: no hints to outsiders
    graph = _target(twin, project, request) if request.query_params else None
    return await _handle(project, graph, request, twin, caller)


async def graph_store_direct(project: str, name: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "reader")  # before looking at the graph: no hints to outsiders
    if not name:
        raise NotFound("GRAPH_NOT_FOUND", "no such graph")
    iri = str(request.url).split("?", 1)[0]
    return await _handle(project, twin.naming.resolve_graph(project, iri), request, twin, caller)


async def graph_direct(project: str, name: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    if not name or name.startswith("_"):
        raise NotFound("GRAPH_NOT_FOUND", "no such graph")
    return await _handle(project, check_graph_iri(twin.naming.graph(project, name)), request, twin, caller)


# ---------------------------------------------------------------- routes and what they answer
_RDF_IN = {RDF_FORMATS[f].media_type: {"schema": {"type": "string"}} for f in ("turtle", "ntriples", "rdfxml", "jsonld", "n3")}
_RDF_IN["multipart/form-data"] = {"schema": {"type": "object", "additionalProperties": {"type": "string", "format": "binary"}}}
_READ_DOC = {
    "responses": {
        "200": {
            "description": "the graph (direct, ?graph, ?default) or the whole project (no parameter: TriG/N-Quads or merged) in the format Accept asks for",
            "content": {RDF_FORMATS[f].media_type: {"schema": {"type": "string"}} for f in GRAPH_OUTPUT},
        }
    }
}
_WRITE_DOC = {
    "description": "The body is one RDF document (its Content-Type), or multipart/form-data with one document per part. "
    "At most KG_TWIN_MAX_UPLOAD_BYTES (413 beyond); JSON-LD / RDF/XML nesting at most KG_TWIN_MAX_NESTING_DEPTH (400 beyond).",
    "requestBody": {"required": True, "content": _RDF_IN},
}
_INDIRECT = [
    {"name": "graph", "in": "query", "required": False, "schema": {"type": "string"}, "description": "IRI of the graph (any IRI: a project is an RDF dataset)"},
    {"name": "default", "in": "query", "required": False, "allowEmptyValue": True, "schema": {"type": "string"}, "description": "the project's default graph"},
]
_RESPONSES = {
    "GET": errors(400, *READ, 406),
    "HEAD": errors(400, *READ, 406),
    "PUT": {201: {"description": "graph created"}, 204: {"description": "graph replaced"}, **errors(400, *READ, 413, 415)},
    "POST": {201: {"description": "graph created (without a graph name: a new graph, its IRI in Location)"}, 204: {"description": "triples added to the graph"}, **errors(400, *READ, 413, 415)},
    "DELETE": {204: {"description": "graph dropped"}, **errors(400, *READ)},
}
_SUMMARIES = {
    "GET": "read", "HEAD": "headers of a read", "PUT": "replace (writer)", "POST": "add triples / create (writer)", "DELETE": "drop (writer)",
}


def _add_routes(path: str, endpoint: Any, what: str, extra_params: list[dict[str, Any]] | None = None) -> None:
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        doc: dict[str, Any] = dict(_READ_DOC if method in ("GET", "HEAD") else _WRITE_DOC if method in ("PUT", "POST") else {})
        if extra_params:
            doc["parameters"] = extra_params
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            operation_id=f"{endpoint.__name__}_{method.lower()}",
            status_code={"PUT": 201, "POST": 201, "DELETE": 204}.get(method, 200),
            summary=f"Graph Store Protocol, {what}: {_SUMMARIES[method]}",
            response_class=Response,
            responses=_RESPONSES[method],
            openapi_extra=doc,
        )


_add_routes("/projects/{project}/graphs", graph_store, "indirect (?graph=IRI or ?default; neither: the whole project)", _INDIRECT)
_add_routes("/projects/{project}/graphs/{name:path}", graph_store_direct, "direct identification below the graph store URL (the graph's IRI is this URL)")
_add_routes("/graph/{project}/{name:path}", graph_direct, "direct identification (this URL's path names the graph)")
