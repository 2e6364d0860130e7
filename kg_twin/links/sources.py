"""Where the entities of a specification side come from, and their geometries in one metric CRS.

A side reads the graphs of the project being linked (all of them but its links graphs, or the
``graphs`` it names), the graphs of another ``project`` the caller may read (:mod:`kg_twin.access`
decides), or an external SPARQL ``endpoint``, which must be on ``KG_TWIN_SERVICE_ALLOWLIST`` (the same
outbound policy as ``SERVICE``, :mod:`kg_twin.sparql.lexer`). The queries are built from the checked
IRIs of the specification only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import httpx
import numpy as np
import pyproj
import shapely

from kg_twin.access import Caller
from kg_twin.core import Core
from kg_twin.errors import Forbidden, InputError, UpstreamError
from kg_twin.links.engine import Entities
from kg_twin.links.spec import DEFAULT_PATHS, SPATIAL, LinkSpec, Side
from kg_twin.sparql.lexer import check_service_targets
from kg_twin.store.base import Dataset, QueryRequest

Rows = Callable[[str], list[dict[str, str]]]
_PREFIX_RE = re.compile(r"^\s*<([^>\s]+)>\s*(.*)$", re.DOTALL)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MAX_ENDPOINT_BYTES = 256 * 1024**2
LINKS_GRAPH_DIR = "links/"


@dataclass
class RawSide:
    """Entities as read: geometries still as WKT literals (with their CRS prefix, if any)."""

    iris: list[str]
    classes: list[set[str]]
    labels: list[list[str]]
    ids: list[list[str]]
    wkts: list[str | None]
    unreadable: int = 0  # WKT literals that did not parse


def links_graph(core: Core, project: str, spec: LinkSpec) -> str:
    """Stored name of the graph a specification writes: ``{base}graph/{p}/links/{name}``."""
    return core.naming.graph(project, LINKS_GRAPH_DIR + spec.name)


def _store_rows(core: Core, dataset: Dataset) -> Rows:
    def run(query: str) -> list[dict[str, str]]:
        # SPARQL CSV results: plain lexical values, no per-term objects (100k entities read in seconds)
        body = core.store.query(QueryRequest(query, dataset=dataset, result_format="csv")).body.decode("utf-8")
        rows = csv.reader(io.StringIO(body, newline=""))
        header = next(rows, [])
        return [{k: v for k, v in zip(header, r) if v != ""} for r in rows]

    return run


def _endpoint_rows(core: Core, endpoint: str) -> Rows:
    check_service_targets([endpoint], list(core.settings.service_allowlist))

    def run(query: str) -> list[dict[str, str]]:
        try:
            with httpx.Client(timeout=core.settings.query_timeout_s, follow_redirects=False) as client:
                with client.stream("POST", endpoint, data={"query": query}, headers={"Accept": "application/sparql-results+json"}) as r:
                    if r.status_code != 200:
                        raise UpstreamError("LINK_ENDPOINT", f"endpoint {endpoint} answered {r.status_code}", hint="check the endpoint URL and that it speaks the SPARQL 1.1 protocol")
                    body = bytearray()
                    for chunk in r.iter_bytes():
                        body += chunk
                        if len(body) > MAX_ENDPOINT_BYTES:
                            raise UpstreamError("LINK_ENDPOINT_TOO_LARGE", f"endpoint {endpoint} answered more than {MAX_ENDPOINT_BYTES} bytes", hint="narrow the side with class: or limit:")
        except httpx.HTTPError as e:
            raise UpstreamError("LINK_ENDPOINT", f"endpoint {endpoint} failed: {e}", hint="check the endpoint URL and that it is running") from None
        try:
            doc = json.loads(bytes(body))
            return [{k: str(v.get("value", "")) for k, v in b.items()} for b in doc["results"]["bindings"] if b.get("e", {}).get("type", "uri") == "uri"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UpstreamError("LINK_ENDPOINT", f"endpoint {endpoint} did not answer SPARQL JSON results") from None

    return run


def side_rows(core: Core, project: str, caller: Caller | None, side: Side, *, exclude: tuple[str, ...] = ()) -> Rows:
    """The query runner of a side, after the access and outbound checks."""
    if side.endpoint:
        check_endpoint(core, side)
        return _endpoint_rows(core, side.endpoint)
    p = side.project or project
    if caller is not None:
        core.access.require(caller, p, "reader")
    visible = [g for g in core.project_graphs(p, include_inferred=True) if g not in exclude and not g.startswith(core.naming.graph(p, LINKS_GRAPH_DIR))]
    if side.graphs:
        wanted = [core.naming.resolve_graph(p, g) for g in side.graphs]
        missing = [g for g, w in zip(side.graphs, wanted) if w not in visible]
        if missing:
            raise InputError("LINK_GRAPH_NOT_FOUND", f"graph(s) {', '.join(missing)} not found in project {p!r}", hint=f"list the project's graphs with `kg-twin project show {p}`")
        visible = wanted
    return _store_rows(core, Dataset(tuple(visible), ()))


def _base(side: Side, paths: list[str]) -> str:
    if side.classes:
        values = " ".join(f"<{c}>" for c in side.classes)
        return f"VALUES ?__k {{ {values} }} ?e a ?__k . FILTER(isIRI(?e))"
    return " UNION ".join(f"{{ ?e {p} ?__v }}" for p in paths) + " FILTER(isIRI(?e))"


def read_side(rows: Rows, spec: LinkSpec, side: Side) -> RawSide:
    """Entities of a side with every class, label, identifier and one geometry (the first in order)."""
    kinds = {m.type for m in spec.measures}
    paths: dict[str, str] = {}
    if kinds & {"label", "room"}:
        paths["l"] = side.label or DEFAULT_PATHS["label"]
    if "id" in kinds:
        paths["i"] = side.id or DEFAULT_PATHS["id"]
    if kinds & set(SPATIAL):
        paths["w"] = side.geometry or DEFAULT_PATHS["geometry"]
    base = _base(side, list(paths.values()))
    order: dict[str, int] = {}
    classes: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, list[str]]] = {k: defaultdict(list) for k in paths}

    def seen(e: str) -> None:
        if e not in order:
            order[e] = len(order)

    if "class" in kinds:  # every class of each entity (else the classes only select entities)
        for r in rows(f"SELECT DISTINCT ?e ?c WHERE {{ {base} ?e a ?c }}"):
            seen(r["e"])
            classes[r["e"]].add(r["c"])
    for key, p in paths.items():
        for r in rows(f"SELECT DISTINCT ?e ?v WHERE {{ {base} ?e {p} ?v }}"):
            seen(r["e"])
            values[key][r["e"]].append(r["v"])
    iris = sorted(order, key=order.__getitem__)
    if side.limit:
        iris = iris[: side.limit]
    return RawSide(
        iris=iris,
        classes=[classes.get(e, set()) for e in iris],
        labels=[values["l"].get(e, []) if "l" in values else [] for e in iris],
        ids=[values["i"].get(e, []) if "i" in values else [] for e in iris],
        wkts=[(sorted(values["w"][e])[0] if values["w"].get(e) else None) if "w" in values else None for e in iris],
    )


def _crs_of(prefix: str) -> pyproj.CRS:
    m = re.match(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^/\s]+)$", prefix, re.I)
    if not m:
        raise InputError("LINK_CRS", f"unsupported CRS IRI <{prefix}> in a WKT literal", hint="use http://www.opengis.net/def/crs/EPSG/0/<code> or OGC/1.3/CRS84")
    return pyproj.CRS.from_user_input(f"{m.group(1).upper()}:{m.group(2)}")


def _to_crs84(wkts: list[str | None]) -> np.ndarray:
    """WKT literals (any CRS, axis order as the CRS declares) -> 2D shapely geometries in CRS84."""
    out = np.full(len(wkts), None, dtype=object)
    groups: dict[str, list[int]] = defaultdict(list)
    bodies: list[str | None] = [None] * len(wkts)
    for i, w in enumerate(wkts):
        if w is None:
            continue
        m = _PREFIX_RE.match(w)
        crs, body = (m.group(1), m.group(2)) if m else (CRS84, w)
        groups[crs].append(i)
        bodies[i] = body.strip()
    for crs, idx in groups.items():
        try:
            geoms = shapely.force_2d(shapely.from_wkt([bodies[i] for i in idx], on_invalid="ignore"))
        except shapely.errors.GEOSException as e:
            raise InputError("LINK_WKT", f"malformed WKT literal: {e}") from None
        if crs != CRS84:
            tr = pyproj.Transformer.from_crs(_crs_of(crs), "OGC:CRS84")
            geoms = shapely.transform(geoms, lambda xy, tr=tr: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        out[np.array(idx)] = geoms
    return out


def metric_crs(spec: LinkSpec, *geoms: np.ndarray) -> pyproj.CRS:
    """The specification's ``crs``, else the UTM zone at the median of the data's centroids."""
    if spec.crs:
        try:
            return pyproj.CRS.from_user_input(spec.crs)
        except pyproj.exceptions.CRSError as e:
            raise InputError("LINK_CRS", f"spec {spec.name!r}: unknown crs {spec.crs!r}: {e}", hint="give an EPSG code such as EPSG:2154") from None
    pts = [shapely.centroid(g[np.array([x is not None for x in g], dtype=bool)]) for g in geoms if len(g)]
    pts = [p for p in pts if len(p)]
    if not pts:
        return pyproj.CRS.from_epsg(3857)
    all_pts = np.concatenate(pts)
    lon, lat = float(np.nanmedian(shapely.get_x(all_pts))), float(np.nanmedian(shapely.get_y(all_pts)))
    zone = int((lon + 180) // 6) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + max(1, min(zone, 60)))


def to_metric(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    tr = pyproj.Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
    out = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return shapely.make_valid(out)


def unreadable(wkts: list[str | None], geoms: np.ndarray) -> int:
    """How many WKT literals did not parse (they take part in no spatial measure; the run reports them)."""
    return sum(1 for w, g in zip(wkts, geoms) if w is not None and (g is None or shapely.is_empty(g)))


def entities(spec: LinkSpec, src: RawSide, tgt: RawSide) -> tuple[Entities, Entities, str | None]:
    """Both sides ready for :func:`kg_twin.links.engine.match` (and the metric CRS used, if any)."""
    crs_name = None
    gs = np.full(len(src.iris), None, dtype=object)
    gt = np.full(len(tgt.iris), None, dtype=object)
    if spec.spatial:
        a, b = _to_crs84(src.wkts), _to_crs84(tgt.wkts)
        src.unreadable, tgt.unreadable = unreadable(src.wkts, a), unreadable(tgt.wkts, b)
        crs = metric_crs(spec, a, b)
        gs, gt = to_metric(a, crs), to_metric(b, crs)
        crs_name = crs.to_string()
    return (
        Entities(src.iris, [frozenset(c) for c in src.classes], [tuple(x) for x in src.labels], [tuple(x) for x in src.ids], gs),
        Entities(tgt.iris, [frozenset(c) for c in tgt.classes], [tuple(x) for x in tgt.labels], [tuple(x) for x in tgt.ids], gt),
        crs_name,
    )


def check_endpoint(core: Core, side: Side) -> None:
    """Raise Forbidden early if a side names an endpoint outside the allow-list."""
    if side.endpoint:
        try:
            check_service_targets([side.endpoint], list(core.settings.service_allowlist))
        except Forbidden as e:
            raise Forbidden("LINK_ENDPOINT_NOT_ALLOWED", f"endpoint {side.endpoint} is not in the server's allow-list", hint=e.hint) from None
