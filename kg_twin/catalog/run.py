"""Calling a named query: check the request's values, bind them, run, shape the answer.

The query runs exactly like a query on the project's SPARQL endpoint: on the project's
visible graphs (``twin.dataset_for([project])``), in a killable worker with the server's
timeout, with the row cap, with the SERVICE allow-list. Parameter values are typed terms
bound to their variables (pyoxigraph substitutions), never pasted into the text; paging
appends ``LIMIT n OFFSET m`` computed from integers.

Answers: SPARQL results JSON / XML / CSV / TSV, GeoJSON (for results carrying
``geo:wktLiteral`` values) or, for CONSTRUCT/DESCRIBE, an RDF syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from kg_twin.catalog.params import RESERVED
from kg_twin.catalog.spec import QuerySpec, paged_text
from kg_twin.core import Core
from kg_twin.errors import InputError, NotAcceptable
from kg_twin.formats import GRAPH_OUTPUT, RDF_FORMATS, RESULT_FORMATS, Format, negotiate, rdf_format_from_name
from kg_twin.geo.index import SpatialIndex
from kg_twin.sparql.lexer import check_services
from kg_twin.store import Dataset, QueryRequest, QueryResult

GEOJSON = "geojson"
GEOJSON_MEDIA = "application/geo+json"
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"
XSD = "http://www.w3.org/2001/XMLSchema#"
_INT_TYPES = {XSD + t for t in ("integer", "long", "int", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
_FLOAT_TYPES = {XSD + t for t in ("decimal", "double", "float")}

SELECT_FORMATS: dict[str, Format] = {**RESULT_FORMATS, GEOJSON: Format(GEOJSON, GEOJSON_MEDIA, ("geojson",), ("application/vnd.geo+json",))}
_FORMAT_ALIASES = {"srj": "json", "srx": "xml", "application/sparql-results+json": "json", "application/sparql-results+xml": "xml", "application/json": "json", "application/geo+json": GEOJSON}


@dataclass
class CallResult:
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    count: int | None = None
    truncated: bool = False
    format: str = ""


def bind(spec: QuerySpec, args: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Request arguments -> (variable bindings, request options).

    Unknown names, repeated names, missing required values and invalid values raise
    InputError (400) naming the parameter. Empty values of optional parameters count as absent.
    """
    values: dict[str, str] = {}
    options: dict[str, str] = {}
    for k, v in args:
        if k in RESERVED:
            if k in options:
                raise InputError("BAD_PARAMETER", f"parameter {k!r} is given more than once", errors=[{"parameter": k}])
            options[k] = v
            continue
        if spec.param(k) is None:
            known = [p.name for p in spec.parameters] + sorted(RESERVED)
            raise InputError(
                "UNKNOWN_PARAMETER",
                f"query {spec.name} has no parameter {k!r}",
                hint="parameters: " + ", ".join(known),
                errors=[{"parameter": k}],
            )
        if k in values:
            raise InputError("BAD_PARAMETER", f"parameter {k!r} is given more than once", errors=[{"parameter": k}])
        values[k] = v
    bindings: dict[str, Any] = {}
    missing = []
    for p in spec.parameters:
        raw = values.get(p.name)
        if raw is None or (raw == "" and not p.required):
            raw = p.default
        if raw is None:
            if p.required:
                missing.append(p)
            continue  # optional and absent: stays unbound
        bindings[p.variable] = p.to_term(raw)
    if missing:
        names = ", ".join(p.name for p in missing)
        raise InputError(
            "MISSING_PARAMETER",
            f"query {spec.name} needs parameter{'s' if len(missing) > 1 else ''} {names}",
            hint="; ".join(f"{p.name}: {p.describe()}" for p in missing),
            errors=[{"parameter": p.name, "expected": p.type_label} for p in missing],
        )
    return bindings, options


def page_of(spec: QuerySpec, options: Mapping[str, str]) -> int | None:
    raw = options.get("page")
    if spec.pagination is None:
        if raw not in (None, ""):
            raise InputError("BAD_PARAMETER", f"parameter 'page': query {spec.name} is not paginated", errors=[{"parameter": "page"}])
        return None
    if raw in (None, ""):
        return 1
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise InputError("BAD_PARAMETER", f"parameter 'page': {raw[:40]!r} is not a page number (1, 2, ...)", errors=[{"parameter": "page", "value": raw[:40]}])
    return int(raw)


def timeout_of(limit: float, raw: str | None) -> float:
    if raw in (None, ""):
        return limit
    try:
        v = float(raw)  # type: ignore[arg-type]
    except ValueError:
        raise InputError("BAD_PARAMETER", f"parameter 'timeout': {raw[:40]!r} is not a number of seconds", errors=[{"parameter": "timeout"}]) from None
    if not v > 0:
        raise InputError("BAD_PARAMETER", "parameter 'timeout' must be positive", errors=[{"parameter": "timeout"}])
    return min(v, limit)


def choose_format(spec: QuerySpec, accept: str | None, fmt: str | None) -> str:
    """The answer's format name from ``?format=`` (wins) or the Accept header."""
    graph_form = spec.form in ("CONSTRUCT", "DESCRIBE")
    if fmt:
        f = fmt.strip().lower()
        if graph_form:
            name = rdf_format_from_name(f).name
            if name not in GRAPH_OUTPUT:
                raise NotAcceptable("NOT_ACCEPTABLE", f"format {fmt!r} cannot be produced", hint="use one of: " + ", ".join(GRAPH_OUTPUT))
            return name
        f = _FORMAT_ALIASES.get(f, f)
        allowed = ["json", "xml", "csv", "tsv"] + ([GEOJSON] if spec.form == "SELECT" else [])
        if f not in allowed:
            raise InputError("BAD_FORMAT", f"unknown result format {fmt!r}", hint="use one of: " + ", ".join(allowed), errors=[{"parameter": "format"}])
        return f
    if graph_form:
        return negotiate(accept, GRAPH_OUTPUT, RDF_FORMATS, default="turtle")
    candidates = ["json", "xml", "csv", "tsv"] + ([GEOJSON] if spec.form == "SELECT" else [])
    return negotiate(accept, candidates, SELECT_FORMATS, default="json")


@dataclass(frozen=True)
class Call:
    """A named-query call ready to run: the :class:`QueryRequest` and what shapes its answer."""

    request: QueryRequest
    spec: QuerySpec
    args: list[tuple[str, str]]
    fmt: str
    page: int | None
    base_url: str | None
    max_rows: int


def prepare(
    twin: Core,
    project: str,
    spec: QuerySpec,
    args: Iterable[tuple[str, str]],
    *,
    accept: str | None = None,
    base_url: str | None = None,
    spatial: SpatialIndex | None = None,
) -> Call:
    """Bind the arguments (name, value pairs) of a call of ``spec`` on ``project``: 400 on bad
    parameters, before anything runs. The caller's access has been checked already (reader role).
    ``spatial``: the deployment's spatial index; geometry filters then read candidates from it
    (:mod:`kg_twin.geo.prefilter`)."""
    args = list(args)
    bindings, options = bind(spec, args)
    page = page_of(spec, options)
    fmt = choose_format(spec, accept, options.get("format"))
    timeout = timeout_of(twin.settings.query_timeout_s, options.get("timeout"))
    text = paged_text(spec, page) if page is not None else spec.text
    check_services(text, twin.settings.service_allowlist)
    if spatial is not None:
        text = spatial.rewrite(text, [project], bindings=bindings)
    ds = twin.dataset_for([project])
    graph_form = spec.form in ("CONSTRUCT", "DESCRIBE")
    store_fmt = "json" if fmt == GEOJSON or graph_form else fmt
    request = QueryRequest(
        text,
        dataset=Dataset(ds.default_graphs, ds.named_graphs),
        result_format=store_fmt,
        graph_format=fmt if graph_form else "ntriples",
        max_rows=twin.settings.max_rows,
        timeout_s=timeout,
        bindings=bindings or None,
        project=project,
    )
    return Call(request, spec, args, fmt, page, base_url, twin.settings.max_rows)


def answer(call: Call, res: QueryResult) -> CallResult:
    """The HTTP-ready answer of a call from the store's result."""
    spec, page = call.spec, call.page
    headers: dict[str, str] = {"Vary": "Accept"}
    if res.truncated:
        headers["X-KG-Twin-Truncated"] = "true"
        headers["X-KG-Twin-Row-Limit"] = str(call.max_rows)
    if page is not None and call.base_url is not None:
        headers.update(_page_links(call.base_url, call.args, page, full=(res.count or 0) >= (spec.pagination or 0)))
    if call.fmt == GEOJSON:
        body = to_geojson(json.loads(res.body), exclude=spec.parameter_variables, name=spec.name)
        return CallResult(body, GEOJSON_MEDIA, headers, res.count, res.truncated, call.fmt)
    mt = res.media_type
    if mt.startswith("text/") or mt.endswith("+json") or mt.endswith("+xml") or mt in ("application/n-triples", "application/trig"):
        mt += "; charset=utf-8"
    return CallResult(res.body, mt, headers, res.count, res.truncated, call.fmt)


def run(
    twin: Core,
    project: str,
    spec: QuerySpec,
    args: Iterable[tuple[str, str]],
    *,
    accept: str | None = None,
    base_url: str | None = None,
    spatial: SpatialIndex | None = None,
) -> CallResult:
    """Run ``spec`` on ``project`` for request arguments ``args`` (:func:`prepare`, the query, :func:`answer`)."""
    call = prepare(twin, project, spec, args, accept=accept, base_url=base_url, spatial=spatial)
    return answer(call, twin.store.query(call.request))


def _page_links(base_url: str, args: list[tuple[str, str]], page: int, *, full: bool) -> dict[str, str]:
    from urllib.parse import urlencode

    rest = [(k, v) for k, v in args if k != "page"]

    def url(n: int) -> str:
        return base_url + "?" + urlencode(rest + [("page", str(n))])

    links = [f'<{url(1)}>; rel="first"']
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    if full:
        links.append(f'<{url(page + 1)}>; rel="next"')
    return {"Link": ", ".join(links), "X-KG-Twin-Page": str(page)}


# ---------------------------------------------------------------- GeoJSON
def _json_value(b: dict[str, Any]) -> Any:
    if b["type"] != "literal" and b["type"] != "typed-literal":
        return b["value"] if b["type"] == "uri" else "_:" + str(b["value"]) if b["type"] == "bnode" else str(b["value"])
    dt = b.get("datatype")
    v = b["value"]
    try:
        if dt in _INT_TYPES:
            return int(v)
        if dt in _FLOAT_TYPES:
            f = float(v)
            return f if f == f and f not in (float("inf"), float("-inf")) else v
        if dt == XSD + "boolean":
            return v in ("true", "1")
    except ValueError:
        return v
    return v


def to_geojson(doc: dict[str, Any], *, exclude: set[str] | frozenset[str] = frozenset(), name: str = "") -> bytes:
    """SPARQL JSON results -> a GeoJSON FeatureCollection (RFC 7946, CRS84 coordinates).

    The geometry is the first variable holding ``geo:wktLiteral`` values (reprojected to
    CRS84 when the WKT names another CRS); other variables become properties (numbers and
    booleans typed, IRIs as strings). ``exclude``: variables left out (bound parameters).

    >>> d = {"head": {"vars": ["b", "wkt", "h"]}, "results": {"bindings": [{"b": {"type": "uri", "value": "http://x/b1"},
    ...   "wkt": {"type": "literal", "datatype": WKT_LITERAL, "value": "POINT(2.35 48.85)"},
    ...   "h": {"type": "literal", "datatype": XSD + "decimal", "value": "12.5"}}]}}
    >>> fc = json.loads(to_geojson(d))
    >>> fc["features"][0]["geometry"], fc["features"][0]["properties"]
    ({'type': 'Point', 'coordinates': [2.35, 48.85]}, {'b': 'http://x/b1', 'h': 12.5})
    """
    import shapely.geometry

    from kg_twin.geo.functions import parse_wkt

    variables = [v for v in doc.get("head", {}).get("vars", []) if v not in exclude]
    rows = doc.get("results", {}).get("bindings", [])
    geom_var = None
    for v in variables:
        if any(r.get(v, {}).get("datatype") == WKT_LITERAL for r in rows):
            geom_var = v
            break
    if geom_var is None and rows:
        raise NotAcceptable(
            "NO_GEOMETRY",
            f"query {name or ''} returned no geo:wktLiteral values, so it has no GeoJSON form".replace("  ", " "),
            hint="ask for json or csv instead",
        )
    features = []
    for r in rows:
        props: dict[str, Any] = {}
        geometry = None
        for v in variables:
            b = r.get(v)
            if b is None:
                props[v] = None
                continue
            if v == geom_var and b.get("datatype") == WKT_LITERAL:
                try:
                    geometry = shapely.geometry.mapping(parse_wkt(b["value"]))
                    continue
                except ValueError:
                    pass  # unreadable WKT: no geometry, keep the text as a property
            props[v] = _json_value(b)
        feat: dict[str, Any] = {"type": "Feature", "geometry": _plain(geometry), "properties": props}
        first = r.get(variables[0]) if variables else None
        if first is not None and first["type"] == "uri":
            feat["id"] = first["value"]
        features.append(feat)
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if doc.get("truncated"):
        fc["truncated"] = True
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _plain(g: Any) -> Any:
    """shapely mapping (tuples) -> JSON lists."""
    if isinstance(g, dict):
        return {k: _plain(v) for k, v in g.items()}
    if isinstance(g, (list, tuple)):
        return [_plain(x) for x in g]
    return g
