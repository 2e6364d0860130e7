"""``POST /projects/{project}/validate``: SHACL validation of a project's data graphs.

Like Fuseki's ``/shacl`` endpoint: the body may carry shapes (``text/turtle`` or
``application/ld+json``), or JSON ``{"shapes": "<turtle>", "shape_sets": [...], "engine": "kgtwin",
"graphs": [...]}``; with no body the project's own shape selection applies.
JSON may instead carry the data itself (``"data"``, ``"data_format"``), validated without being
stored, with the base IRIs its and the shapes' relative IRIs resolve against (``"data_base"``,
``"shapes_base"``, e.g. the ``file:`` IRIs of the files they come from, as the CLI uses). The answer is the
standard ``sh:ValidationReport`` (``Accept: text/turtle`` / ``application/ld+json``) or the JSON
summary (``application/json``, the default). Status 200 either way: a report that says
"does not conform" is a successful validation.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.api.schemas import ValidationSummary
from kg_twin.limits import Limits, load_json
from kg_twin.errors import Forbidden, InputError, NotAcceptable, UnsupportedMediaType
from kg_twin.service import Twin

router = APIRouter()

_OUT = {
    "application/json": ("json", "application/json"),
    "text/turtle": ("turtle", "text/turtle; charset=utf-8"),
    "application/ld+json": ("json-ld", "application/ld+json"),
    "application/n-triples": ("ntriples", "application/n-triples"),
}


def _negotiate(accept: str | None) -> tuple[str, str]:
    if not accept:
        return _OUT["application/json"]
    prefs = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        prefs.append((-q, i, bits[0].lower()))
    for _q, _i, mt in sorted(prefs):
        if mt in _OUT:
            return _OUT[mt]
        if mt in ("*/*", "application/*"):
            return _OUT["application/json"]
        if mt == "text/*":
            return _OUT["text/turtle"]
    raise NotAcceptable("NOT_ACCEPTABLE", f"cannot produce {accept}", hint=f"accept one of {', '.join(_OUT)}")


class ValidateRequest(BaseModel):
    """The JSON form of a validation request (every field optional)."""

    shapes: str | None = Field(None, description="shapes as RDF text")
    shapes_format: str = "turtle"
    shape_sets: list[str] | None = Field(None, description="names from `kg-twin validate --list-shape-sets`")
    engine: str | None = Field(None, description="kgtwin (default) or pyshacl")
    graphs: list[str] | None = Field(None, description="graphs of the project to validate (default: all)")
    data: str | None = Field(None, description="RDF text validated without being stored (instead of graphs)")
    data_format: str = "turtle"
    data_base: str | None = Field(None, description="base IRI of the data's relative IRIs")
    shapes_base: str | None = Field(None, description="base IRI of the shapes' relative IRIs")


def _read_request(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise InputError("BAD_JSON", "request body must be a JSON object")
    try:
        return ValidateRequest.model_validate(spec).model_dump(exclude_unset=True)
    except ValidationError as e:
        errors = [{"loc": list(x["loc"]), "msg": x["msg"]} for x in e.errors()]
        where = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in errors)
        raise InputError("BAD_REQUEST", f"invalid validation request: {where}", errors=errors, hint="see the request body schema of POST /projects/{project}/validate in /openapi.json") from None


_DOC = {
    "description": "Shapes in the body (Turtle, JSON-LD) or a JSON request; no body: the project's own shape selection. "
    "Status 200 whether or not the data conforms (`X-Conforms`). JSON bodies: at most KG_TWIN_MAX_JSON_BYTES (413), "
    "nesting at most KG_TWIN_MAX_NESTING_DEPTH; SHACL-SPARQL nesting at most KG_TWIN_MAX_SPARQL_DEPTH (400).",
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": ValidateRequest.model_json_schema()},
            "text/turtle": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "string"}},
        },
    },
    "responses": {
        "200": {
            "description": "the validation summary (JSON, the default) or the sh:ValidationReport (RDF)",
            "content": {
                "application/json": {"schema": ValidationSummary.model_json_schema()},
                "text/turtle": {"schema": {"type": "string"}},
                "application/ld+json": {"schema": {}},
                "application/n-triples": {"schema": {"type": "string"}},
            },
        }
    },
}


@router.post(
    "/projects/{project}/validate",
    tags=["validation"],
    summary="SHACL-validate a project's graphs (or uploaded data) against shapes",
    response_class=Response,
    responses=errors(400, *READ, 406, 409, 413, 415, 502, 503),
    openapi_extra=_DOC,
)
async def validate_project_endpoint(
    project: str,
    request: Request,
    timeout: str | None = Query(None, description="seconds before the validation is stopped (503 VALIDATION_TIMEOUT; at most KG_TWIN_VALIDATE_TIMEOUT_S)"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> Response:
    from starlette.concurrency import run_in_threadpool

    from kg_twin.validation.validator import validate_project, validate_upload

    twin.access.require(caller, project, "reader")
    fmt, media = _negotiate(request.headers.get("accept"))
    body = await request.body()
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    kwargs: dict[str, Any] = {}
    upload: dict[str, Any] | None = None
    if body.strip():
        if ctype in ("text/turtle", "application/x-turtle"):
            kwargs["shapes_text"] = [(body, "turtle")]
        elif ctype == "application/ld+json":
            kwargs["shapes_text"] = [(body, "json-ld")]
        elif ctype == "application/json":
            spec = _read_request(load_json(body, Limits.of(twin.settings)))
            if spec.get("shapes"):
                kwargs["shapes_text"] = [(spec["shapes"], spec.get("shapes_format", "turtle"))]
            if spec.get("data") is not None:
                upload = _upload_spec(spec)
            if spec.get("shape_sets"):
                kwargs["shape_sets"] = list(spec["shape_sets"])
            if spec.get("engine"):
                kwargs["engine"] = str(spec["engine"])
            if spec.get("graphs"):
                wanted = [twin.naming.resolve_graph(project, g) for g in spec["graphs"]]
                visible = set(twin.project_graphs(project, include_inferred=True))
                hidden = [g for g in wanted if g not in visible]
                if hidden:
                    raise Forbidden("GRAPH_NOT_VISIBLE", f"graph(s) not visible in project {project!r}: {', '.join(hidden)}")
                kwargs["graphs"] = wanted
        else:
            raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", f"cannot read shapes as {ctype or 'no content type'}", hint="send text/turtle, application/ld+json or application/json")
    timeout_s = _timeout(twin.settings.validate_timeout_s, timeout)
    if upload is not None:
        outcome = await run_in_threadpool(lambda: validate_upload(**upload, store=twin.store, timeout_s=timeout_s))
    else:
        outcome = await run_in_threadpool(lambda: validate_project(twin, project, **kwargs, timeout_s=timeout_s))
    headers = {"X-Conforms": str(outcome.conforms).lower(), "X-Validation-Engine": outcome.summary.engine}
    return Response(content=outcome.serialize(fmt), media_type=media, headers=headers)


def _timeout(limit: float, raw: str | None) -> float:
    """``?timeout=`` in seconds, at most ``limit`` (the server's)."""
    if raw is None or raw == "":
        return limit
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v <= 0:
        raise InputError("BAD_TIMEOUT", f"timeout must be a positive number of seconds, not {raw[:40]!r}", hint=f"e.g. ?timeout=60 (at most {limit:g}, KG_TWIN_VALIDATE_TIMEOUT_S)")
    return min(v, limit)


def _upload_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Arguments of :func:`validate_upload` from a JSON body that carries the data."""
    from kg_twin.validation.shapes import load_shapes
    from kg_twin.validation.validator import parse_shapes

    if spec.get("graphs"):
        raise InputError("BAD_REQUEST", "give either data or graphs, not both", hint="omit 'graphs' to validate the uploaded data")
    if not isinstance(spec["data"], str):
        raise InputError("BAD_JSON", "'data' must be RDF text", hint="send the data as a JSON string")
    if not spec.get("shapes") and not spec.get("shape_sets"):
        raise InputError("NO_SHAPES", "uploaded data needs shapes", hint="add 'shapes' (RDF text) or 'shape_sets' (names from `kg-twin validate --list-shape-sets`)")
    shapes = load_shapes(list(spec.get("shape_sets") or []))
    if spec.get("shapes"):
        shapes += parse_shapes(texts=[(spec["shapes"], spec.get("shapes_format", "turtle"))], base=spec.get("shapes_base"))
    return {
        "data": spec["data"].encode(),
        "shapes": shapes,
        "data_format": str(spec.get("data_format", "turtle")),
        "base": spec.get("data_base"),
        "engine": str(spec.get("engine") or "kgtwin"),
    }
