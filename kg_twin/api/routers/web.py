"""The twin app in the browser: pages, their JSON, and dereferenceable minted IRIs.

* ``GET /`` (landing) and ``GET /app/{page}`` (query, map, validation, live, ingest, entity) are static
  pages; their ES modules (``/web/...``, from ``kg_twin/web/``) call the API with the token the user
  entered once (kept in the browser's storage, sent as ``Authorization``, never in a URL).
* ``GET /id/{project}/{kind}/{key}``: the IRI ``{base}id/...`` the twin minted. ``Accept: text/html``
  gives the entity page; an RDF media type (or ``?format=``) gives its Concise Bounded Description.
* JSON for the pages: ``/projects/{p}/overview``, ``/projects/{p}/features`` (GeoJSON),
  ``/projects/{p}/entity?iri=``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from kg_twin.access import Caller
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.catalog.params import check_iri
from kg_twin.errors import InputError, NotAcceptable, NotFound
from kg_twin.formats import RDF_FORMATS, negotiate
from kg_twin.service import Twin
from kg_twin.web import views

router = APIRouter(tags=["app"])

WEB = Path(__file__).resolve().parents[2] / "web"

# page name -> (title, ES module under web/static/, extra <head> lines); each page is web/pages/page.html
# filled in with its row: the shell, the styles, the module that draws it
_YASGUI = '<link rel="stylesheet" href="/web/vendor/yasgui/yasgui.min.css">\n<script src="/web/vendor/yasgui/yasgui.min.js"></script>\n'
_SHELLS: dict[str, tuple[str, str, str]] = {
    "index": ("Projects", "landing", ""),
    "query": ("Query", "query", _YASGUI),
    "map": ("Map", "map", ""),
    "validation": ("Validation", "validation", ""),
    "live": ("Live", "live", ""),
    "ingest": ("Ingest", "ingest", ""),
    "entity": ("Entity", "entity", ""),
}
PAGES = set(_SHELLS) - {"index"}
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html", ".md": "text/markdown", ".txt": "text/plain", ".png": "image/png", ".svg": "image/svg+xml"}
_RDF_OUT = ["turtle", "ntriples", "jsonld", "rdfxml", "nquads", "trig"]


def _cache(request: Request, twin: Twin) -> views.ViewCache:
    """The app's cache of project overviews and feature collections (one per app, emptied on change)."""
    cache = getattr(request.app.state, "web_views", None)
    if cache is None:
        cache = views.ViewCache()
        twin.on_change(cache.invalidate)
        request.app.state.web_views = cache
    return cache


@lru_cache(maxsize=None)
def _shell(name: str) -> bytes:
    title, module, head = _SHELLS[name]
    return (WEB / "pages" / "page.html").read_text(encoding="utf-8").format(title=title, module=module, head=head).encode()


def _page(name: str) -> Response:
    return Response(_shell(name), media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
def landing() -> Response:
    return _page("index")


@router.get("/app/{page}", include_in_schema=False)
def app_page(page: str) -> Response:
    if page not in PAGES:
        raise NotFound("PAGE_NOT_FOUND", f"no page {page!r}", hint=f"pages: /, {', '.join('/app/' + p for p in sorted(PAGES))}")
    return _page(page)


@router.get("/web/{path:path}", include_in_schema=False)
def web_asset(path: str) -> FileResponse:
    """A file of kg_twin/web/static or kg_twin/web/vendor (nothing else, no '..')."""
    target = (WEB / path).resolve()
    allowed = [(WEB / "static").resolve(), (WEB / "vendor").resolve()]
    if not any(target.is_relative_to(a) for a in allowed) or not target.is_file():
        raise NotFound("ASSET_NOT_FOUND", f"no asset {path!r}")
    media = _TYPES.get(target.suffix, "application/octet-stream")
    if media.startswith("text/"):
        media += "; charset=utf-8"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/projects/{project}/overview", summary="A project at a glance: counts by class, last ingest, validation, live points, extent (reader)", responses=errors(*READ))
async def project_overview(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Any:
    twin.access.require(caller, project, "reader")
    cache = _cache(request, twin)
    out = await run_in_threadpool(cache.get, project, "overview", lambda: views.overview(twin, project, twin.live_service().points(project)))
    return out


@router.get(
    "/projects/{project}/features",
    summary="The project's GeoSPARQL features as GeoJSON (CRS84): label, kind, building flag, height, live value (reader)",
    response_class=Response,
    responses={200: {"description": "a GeoJSON FeatureCollection", "content": {"application/geo+json": {"schema": {"type": "object"}}}}, **errors(*READ)},
)
async def project_features(project: str, request: Request, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Response:
    twin.access.require(caller, project, "reader")
    body = await run_in_threadpool(_cache(request, twin).get, project, "features", lambda: views.features_json(twin, project))
    return Response(body, media_type="application/geo+json")


@router.get("/projects/{project}/entity", summary="What the project says about one resource (the entity page's data) (reader)", responses=errors(400, *READ))
async def project_entity(
    project: str,
    iri: str | None = Query(None, description="the resource's IRI"),
    path: str | None = Query(None, description="or the path of a minted IRI on this server, /id/{project}/{kind}/{key} (the IRI is the base IRI + path)"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> Any:
    twin.access.require(caller, project, "reader")
    if iri is None:
        if not path or not path.startswith(f"/id/{project}/"):
            raise InputError("BAD_PARAMETER", "give iri=<IRI>, or path=/id/{project}/... of a minted IRI", hint=f"e.g. /projects/{project}/entity?iri=http://example.org/x")
        iri = twin.naming.base + path.lstrip("/")
    why = check_iri(iri) or ("it contains a control character" if any(0x7F <= ord(c) <= 0x9F for c in iri) else None)
    if why:
        raise InputError("BAD_IRI", f"{iri[:80]!r} is not an IRI: {why}", hint="give an absolute IRI, percent-encoded where needed")
    subject = iri

    def work() -> Any:
        try:
            return views.describe(twin, project, subject, twin.live_service().points(project))
        except ValueError as e:  # the store's own IRI check (code points the check above lets through)
            raise InputError("BAD_IRI", f"{subject[:80]!r} is not an IRI: {e}", hint="give an absolute IRI, percent-encoded where needed") from None

    return await run_in_threadpool(work)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    html = max((_q(part) for part in accept.split(",") if part.split(";")[0].strip() in ("text/html", "application/xhtml+xml")), default=0.0)
    rdf = max((_q(part) for part in accept.split(",") if part.split(";")[0].strip() in {f.media_type for f in RDF_FORMATS.values()}), default=0.0)
    return html > 0 and html >= rdf


def _q(part: str) -> float:
    for p in part.split(";")[1:]:
        k, _, v = p.strip().partition("=")
        if k == "q":
            try:
                return float(v)
            except ValueError:
                return 0.0
    return 1.0


@router.get(
    "/id/{project}/{rest:path}",
    summary="A minted IRI: the entity page (Accept: text/html) or its description in RDF (Turtle, N-Triples, JSON-LD, RDF/XML)",
    response_class=Response,
    responses={
        200: {"description": "the page, or the Concise Bounded Description", "content": {"text/html": {}, **{RDF_FORMATS[f].media_type: {} for f in _RDF_OUT}}},
        **errors(400, *READ, 406),
    },
)
async def dereference(
    project: str,
    rest: str,
    request: Request,
    format: str | None = Query(None, description="RDF syntax, overriding Accept: turtle, ntriples, jsonld, rdfxml"),
    twin: Twin = Depends(get_twin),
) -> Response:
    if format is None and _wants_html(request):
        return _page("entity")  # the page's script fetches the data with the user's token
    caller = await get_caller(request)
    twin.access.require(caller, project, "reader")
    if format:
        fmt = next((f for f in _RDF_OUT if format.strip().lower() in (f, RDF_FORMATS[f].media_type)), "")
        if not fmt:
            raise NotAcceptable("BAD_FORMAT", f"no RDF syntax {format[:40]!r} for a description", hint=f"format= one of {', '.join(_RDF_OUT)}, or ask with Accept")
    else:
        fmt = negotiate(request.headers.get("accept"), _RDF_OUT, RDF_FORMATS, default="turtle")
    raw = request.scope.get("raw_path") or request.url.path.encode()
    iri = twin.naming.base + raw.decode("latin-1").split("?", 1)[0].lstrip("/")  # as minted: percent-encoded
    if any(c in iri for c in '<>"{}|^`\\ ') or any(ord(c) < 0x21 for c in iri):
        raise NotFound("RESOURCE_NOT_FOUND", f"{iri!r} is not an IRI kg-twin mints", hint="minted IRIs are {base}id/{project}/{kind}/{key}, percent-encoded")
    body = await run_in_threadpool(views.cbd, twin, project, iri, fmt)
    mt = RDF_FORMATS[fmt].media_type
    return Response(body, media_type=mt + ("; charset=utf-8" if mt.startswith("text/") else ""), headers={"Vary": "Accept"})

