"""What ``/openapi.json`` says, kept true to what the service sends.

* :func:`errors` gives a route's ``responses=`` entries for the error statuses it can answer, with the
  one JSON error body (:class:`~kg_twin.api.schemas.ErrorBody`), or ``text/plain`` for the SPARQL
  endpoints (SPARQL clients expect plain-text errors).
* :func:`install` replaces FastAPI's generated document by a corrected one: FastAPI's default 422
  "Validation Error" becomes the 400 the app really sends (``app.py`` turns request validation errors
  into ``InputError``), every operation declares 500 with the error body, operationIds are made
  unique (one per method of a multi-method route), and the request limits of this deployment are
  listed in the description. It also serves ``/docs`` and ``/redoc`` from local files
  (``kg_twin/api/static/``, copied from npm by ``scripts/vendor-docs.sh``), so they work offline.

>>> sorted(errors(401, 404))
[401, 404]
>>> errors(400, plain=True)[400]["content"]
{'text/plain': {'schema': {'type': 'string'}}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from kg_twin.api.schemas import ErrorBody
from kg_twin.settings import Settings

STATIC = Path(__file__).parent / "static"

DESCRIPTIONS: dict[int, str] = {
    400: "Bad input: an invalid parameter or body, a syntax error, nesting over a limit (the body names the offending part and the setting that raises a limit)",
    401: "Authentication required, or the token is unknown or revoked",
    403: "The token does not have the role this needs",
    404: "No such project (or not readable by this caller), or no such resource",
    405: "Method not supported here",
    406: "The requested format (Accept or ?format=) cannot be produced",
    409: "Conflicts with the current state",
    410: "Gone: dropped by the retention settings",
    413: "The body is over a size limit (named in the body, with the setting that raises it)",
    415: "Unsupported Content-Type",
    422: "Semantically invalid input",
    500: "Internal error (a bug: the details are in the server log)",
    502: "An engine or remote endpoint the request needed failed",
    503: "Timed out, or the store is locked by another process",
}

_PLAIN = {"text/plain": {"schema": {"type": "string"}}}


def errors(*codes: int, plain: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses (JSON error body, or plain text for SPARQL endpoints)."""
    out: dict[int | str, dict[str, Any]] = {}
    for c in codes:
        if plain:
            out[c] = {"description": DESCRIPTIONS[c], "content": dict(_PLAIN)}
        else:
            out[c] = {"description": DESCRIPTIONS[c], "model": ErrorBody}
    return out


# the statuses most routes share
READ = (401, 403, 404)  # access.require(caller, project, role)
ADMIN = (401, 403)  # access.require_global_admin(caller)


def _is_plain(path: str) -> bool:
    return path == "/sparql" or path.endswith("/sparql")


def _error_response(code: int, plain: bool) -> dict[str, Any]:
    if plain:
        return {"description": DESCRIPTIONS[code], "content": dict(_PLAIN)}
    return {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}


def limits_doc(settings: Settings) -> str:
    """The request limits of this deployment, as a Markdown table (part of the API description)."""
    rows = [
        ("KG_TWIN_MAX_QUERY_BYTES", settings.max_query_bytes, "bytes of a SPARQL query or update, a named query", "413 QUERY_TOO_LARGE"),
        ("KG_TWIN_MAX_SPARQL_DEPTH", settings.max_sparql_depth, "nesting of `{ ( [` in any SPARQL text (queries, updates, SHACL-SPARQL, named queries, rules)", "400 SPARQL_TOO_DEEP"),
        ("KG_TWIN_MAX_JSON_BYTES", settings.max_json_bytes, "bytes of a JSON request body (rules, observations, validation requests)", "413 JSON_TOO_LARGE"),
        ("KG_TWIN_MAX_NESTING_DEPTH", settings.max_nesting_depth, "nesting of JSON bodies, JSON-LD and RDF/XML uploads, YAML mappings", "400 JSON_TOO_DEEP / RDF_TOO_DEEP / YAML_TOO_DEEP"),
        ("KG_TWIN_MAX_YAML_NODES", settings.max_yaml_nodes, "nodes of a YAML document once its aliases are expanded", "400 YAML_TOO_LARGE"),
        ("KG_TWIN_MAX_UPLOAD_BYTES", settings.max_upload_bytes, "bytes of an upload (graph store, ingest)", "413 UPLOAD_TOO_LARGE"),
        ("KG_TWIN_QUERY_TIMEOUT_S", settings.query_timeout_s, "seconds a query, an update or a named query's check may run (`?timeout=` may ask for less)", "503 QUERY_TIMEOUT / UPDATE_TIMEOUT / QUERY_CHECK_TIMEOUT"),
        ("KG_TWIN_VALIDATE_TIMEOUT_S", settings.validate_timeout_s, "seconds a validation may run (`?timeout=` may ask for less)", "503 VALIDATION_TIMEOUT"),
        ("KG_TWIN_MAX_ROWS", settings.max_rows, "rows of a SELECT result / triples of a CONSTRUCT", "200, `X-KG-Twin-Truncated: true`"),
    ]
    lines = ["## Request limits", "", "| setting | value | what it bounds | over the limit |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {value} | {what} | {answer} |" for name, value, what, answer in rows]
    return "\n".join(lines)


def operation_id_of(route: APIRoute) -> str:
    """``generate_unique_id_function`` of the app: the endpoint's name. A function serving several methods
    or paths gets explicit ``operation_id=`` values; :func:`build_schema` refuses duplicates."""
    return route.name


def build_schema(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The OpenAPI document of ``app`` with the corrections listed in the module docstring."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=(app.description or "") + "\n\n" + limits_doc(settings) + ERROR_DOC,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path, ops in doc.get("paths", {}).items():
        plain = _is_plain(path)
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if generated.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]  # app.py answers request validation errors with 400 and the error body
                # (a path parameter typed str cannot fail validation: 400 only where something else is validated)
                if "requestBody" in op or any(p.get("in") != "path" for p in op.get("parameters", [])):
                    responses.setdefault("400", _error_response(400, plain))
            responses.setdefault("500", _error_response(500, plain))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    seen: dict[str, str] = {}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            if op["operationId"] in seen:
                raise RuntimeError(f"duplicate operationId {op['operationId']!r}: {seen[op['operationId']]} and {where}")
            seen[op["operationId"]] = where
    return doc


ERROR_DOC = """

## Errors

REST endpoints answer errors with one JSON body, `{"ok": false, "status", "code", "error", "errors", "hint"?, "where"?}`
(schema `ErrorBody`): `code` is stable, `hint` names a command, option or setting that helps. The SPARQL endpoints
answer errors in plain text (`CODE: message`, then `where:` and `hint:` lines), as SPARQL clients expect.
"""


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the corrected OpenAPI document, and ``/docs`` / ``/redoc`` from local assets."""
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = build_schema(app, settings)
        return cache["doc"]

    app.openapi = openapi  # type: ignore[method-assign]
    if not (STATIC / "swagger-ui" / "swagger-ui-bundle.js").is_file():
        return  # assets not vendored: no docs pages rather than pages that load from the internet
    app.mount("/static/api-docs", StaticFiles(directory=STATIC), name="api-docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url="/static/api-docs/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/api-docs/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/api-docs/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} – API",
            redoc_js_url="/static/api-docs/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/api-docs/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
