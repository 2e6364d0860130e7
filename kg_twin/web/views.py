"""What the twin app's pages show, read from a project's dataset (the web router serves these as JSON).

* :func:`overview`: counts by class, last ingest and its validation status, live points, extent;
* :func:`features`: the project's GeoSPARQL features as a GeoJSON FeatureCollection (CRS84), buildings
  flagged and carrying their height, for the MapLibre map;
* :func:`describe`: one resource: types, labels, properties, incoming links, geometry, provenance
  (graph, source file, ingest activity), live value of a point, validation results of its ingest;
* :func:`cbd`: the resource's Concise Bounded Description in an RDF syntax (content negotiation).

Every query runs on the project's dataset (``twin.query_dataset``) with the resource bound as a term,
never pasted into the text.

>>> kind_of("http://localhost:8000/id/demo/building/B1", "http://localhost:8000/", "demo")
'building'
>>> kind_of("http://example.org/x", "http://localhost:8000/", "demo") is None
True
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

import rdflib
import shapely
import shapely.geometry

from kg_twin.errors import NotFound
from kg_twin.geo.functions import parse_wkt
from kg_twin.ingest.provenance import PROVENANCE_GRAPH
from kg_twin.core import Core
from kg_twin.store import Dataset
from kg_twin.terms import BOT, BRICK, DCTERMS, GEO, KGT, PROV, RDF, RDFS, SH

BUILDING_TYPES = (BOT + "Building", BRICK + "Building")
HEIGHT = KGT + "height"
LABELS = (RDFS + "label", "http://www.w3.org/2004/02/skos/core#prefLabel", DCTERMS + "title")
MAX_VALUES = 500  # properties / incoming links shown on one page
_PREFIX = "PREFIX geo: <%s> PREFIX rdfs: <%s> PREFIX kgt: <%s> PREFIX prov: <%s> PREFIX brick: <%s> PREFIX bot: <%s> " % (GEO, RDFS, KGT, PROV, BRICK, BOT)


def kind_of(iri: str, base: str, project: str) -> str | None:
    """The ``kind`` segment of an IRI minted as ``{base}id/{project}/{kind}/{key}`` (None otherwise)."""
    prefix = f"{base}id/{project}/"
    if not iri.startswith(prefix):
        return None
    kind, sep, _ = iri[len(prefix) :].partition("/")
    return kind if sep and kind else None


def _term(t: Any) -> dict[str, Any]:
    """An rdflib term as the JSON the pages read: {type, value, datatype?, lang?}."""
    if isinstance(t, rdflib.URIRef):
        return {"type": "uri", "value": str(t)}
    if isinstance(t, rdflib.BNode):
        return {"type": "bnode", "value": str(t)}
    out: dict[str, Any] = {"type": "literal", "value": str(t)}
    if isinstance(t, rdflib.Literal):
        if t.language:
            out["lang"] = t.language
        elif t.datatype is not None:
            out["datatype"] = str(t.datatype)
    return out


def _num(t: Any) -> float | None:
    try:
        v = float(str(t))
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def extent(wkts: list[str]) -> list[float] | None:
    """[west, south, east, north] of WKT literals (CRS84), or None when none can be read.

    >>> extent(["POINT(2.5 44.3)", "POLYGON((2.6 44.4, 2.7 44.4, 2.7 44.5, 2.6 44.4))", "nonsense"])
    [2.5, 44.3, 2.7, 44.5]
    """
    boxes = []
    for w in wkts:
        try:
            g = parse_wkt(w)
        except ValueError:
            continue
        if not g.is_empty:
            boxes.append(g.bounds)
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def overview(twin: Core, project: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    """The landing page's card of a project (``points``: the live twin's points of the project)."""
    ds = twin.query_dataset(project)
    classes = twin.store.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 40", dataset=ds)
    counts = [{"class": str(r["c"]), "count": int(r["n"].toPython())} for r in classes if "c" in r]
    buildings = twin.store.select(
        _PREFIX + "SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE { VALUES ?t { bot:Building brick:Building } ?b a ?t }", dataset=ds
    )
    pg = twin.naming.graph(project, PROVENANCE_GRAPH)
    ingests = twin.store.select(
        _PREFIX
        + f"SELECT ?a ?label ?end ?status ?conforms ?violations ?warnings ?graph WHERE {{ GRAPH <{pg}> {{ ?a a kgt:Ingest ; prov:endedAtTime ?end . "
        "OPTIONAL { ?a rdfs:label ?label } OPTIONAL { ?a kgt:status ?status } OPTIONAL { ?a kgt:conforms ?conforms } "
        "OPTIONAL { ?a kgt:violations ?violations } OPTIONAL { ?a kgt:warnings ?warnings } OPTIONAL { ?a kgt:graph ?graph } } } ORDER BY DESC(?end)"
    )
    latest: dict[str, dict[str, Any]] = {}  # graph -> its last ingest
    for r in ingests:
        key = str(r.get("graph", r["a"]))
        if key in latest:
            continue
        latest[key] = {
            "activity": str(r["a"]),
            "label": str(r.get("label", "")),
            "ended": str(r["end"]),
            "status": str(r.get("status", "")),
            "conforms": str(r.get("conforms", "")).lower() == "true",
            "violations": int(_num(r.get("violations")) or 0),
            "warnings": int(_num(r.get("warnings")) or 0),
            "graph": twin.naming.client_graph(project, str(r["graph"])) if "graph" in r else None,
        }
    runs = sorted(latest.values(), key=lambda x: x["ended"], reverse=True)
    graphs = tuple(twin.project_graphs(project, include_inferred=False))
    wkts = twin.store.select(_PREFIX + "SELECT ?g ?w WHERE { GRAPH ?g { ?x geo:asWKT ?w } }", dataset=Dataset((), graphs))
    by_graph: dict[str, list[str]] = {}
    for r in wkts:
        by_graph.setdefault(str(r["g"]), []).append(str(r["w"]))
    extents = []
    for g, ws in sorted(by_graph.items(), key=lambda kv: -len(kv[1])):
        e = extent(ws)
        if e is not None:
            extents.append({"graph": twin.naming.client_graph(project, g), "geometries": len(ws), "extent": e})
    live = points
    return {
        "base": twin.naming.base,
        "project": twin.projects.get(project).to_dict(),
        "graphs": len(twin.project_graphs(project, include_inferred=False)),
        "classes": counts,
        "buildings": int(buildings[0]["n"].toPython()) if buildings else 0,
        "last_ingest": runs[0] if runs else None,
        "validation": {
            "ingests": len(runs),
            "conforming": sum(1 for x in runs if x["conforms"]),
            "violations": sum(x["violations"] for x in runs),
            "warnings": sum(x["warnings"] for x in runs),
        },
        "live": {"points": len(live), "reporting": sum(1 for p in live if p.get("last_time"))},
        "extent": extent([str(r["w"]) for r in wkts]),
        "extents": extents,  # per graph, most geometries first
    }


def features(twin: Core, project: str) -> dict[str, Any]:
    """Every feature of the project with a WKT geometry, as GeoJSON (one feature per resource)."""
    ds = twin.query_dataset(project)

    def pairs(q: str) -> dict[str, Any]:
        return {str(r["f"]): r["v"] for r in twin.store.select(_PREFIX + q, dataset=ds) if "v" in r}

    # simple patterns, joined here: one query with OPTIONALs and EXISTS per feature is ~10x slower
    wkts = pairs("SELECT ?f (SAMPLE(?w) AS ?v) WHERE { ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w } GROUP BY ?f")
    labels = pairs("SELECT ?f (SAMPLE(?l) AS ?v) WHERE { ?f geo:hasDefaultGeometry ?g ; rdfs:label ?l } GROUP BY ?f")
    heights = pairs("SELECT ?f (MAX(?h) AS ?v) WHERE { ?f geo:hasDefaultGeometry ?g ; kgt:height ?h } GROUP BY ?f")
    types = pairs("SELECT ?f (SAMPLE(?t) AS ?v) WHERE { ?f geo:hasDefaultGeometry ?g ; a ?t FILTER(?t != geo:Feature && ?t != kgt:Feature) } GROUP BY ?f")
    buildings = set(pairs("SELECT DISTINCT ?f (1 AS ?v) WHERE { VALUES ?t { bot:Building brick:Building } ?f a ?t ; geo:hasDefaultGeometry ?g }"))
    live = pairs("SELECT ?f (AVG(?x) AS ?v) WHERE { ?f geo:hasDefaultGeometry ?g ; (brick:hasPoint|^brick:isPointOf) ?p . ?p brick:lastKnownValue/brick:value ?x } GROUP BY ?f")
    rows = [{"f": f, "wkt": w, "label": labels.get(f), "height": heights.get(f), "type": types.get(f), "building": f in buildings, "live": live.get(f)} for f, w in wkts.items()]
    out = []
    base = twin.naming.base
    for r in rows:
        try:
            geom = parse_wkt(str(r["wkt"]))
        except ValueError:
            continue
        if geom.is_empty:
            continue
        iri = str(r["f"])
        building = bool(r["building"])
        kind = kind_of(iri, base, project) or ("building" if building else _local(str(r["type"] or "")) or "feature")
        props: dict[str, Any] = {"iri": iri, "label": str(r["label"] or "") or _local(iri), "kind": kind, "building": building}
        h = _num(r.get("height"))
        if h is not None:
            props["height"] = h
        v = _num(r.get("live"))
        if v is not None:
            props["live"] = v
        out.append({"type": "Feature", "id": len(out) + 1, "geometry": _plain(shapely.geometry.mapping(geom)), "properties": props})
    return {"type": "FeatureCollection", "base": base, "features": out}


def _plain(g: Any) -> Any:
    if isinstance(g, dict):
        return {k: _plain(v) for k, v in g.items()}
    if isinstance(g, (list, tuple)):
        return [_plain(x) for x in g]
    return g


def _local(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1] or iri
    return iri


def _bind(iri: str) -> dict[str, Any]:
    return {"s": rdflib.URIRef(iri)}


def describe(twin: Core, project: str, iri: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the entity page shows about ``iri`` in ``project`` (``points``: the live twin's points);
    NotFound if the project says nothing about it."""
    ds = twin.query_dataset(project)
    out_rows = twin.store.select(f"SELECT ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {MAX_VALUES + 1}", dataset=ds, bindings=_bind(iri))
    in_rows = twin.store.select(f"SELECT ?x ?p WHERE {{ ?x ?p ?s }} LIMIT {MAX_VALUES + 1}", dataset=ds, bindings=_bind(iri))
    if not out_rows and not in_rows:
        raise NotFound("RESOURCE_NOT_FOUND", f"project {project!r} says nothing about <{iri}>", hint=f"search the project at /app/query?project={project}")
    types = sorted({str(r["o"]) for r in out_rows if str(r["p"]) == RDF + "type"})
    labels = [_term(r["o"]) for r in out_rows if str(r["p"]) in LABELS]
    props = [{"p": str(r["p"]), "o": _term(r["o"])} for r in out_rows[:MAX_VALUES] if str(r["p"]) != RDF + "type"]
    incoming = [{"s": _term(r["x"]), "p": str(r["p"])} for r in in_rows[:MAX_VALUES]]
    # labels of the resources this page links to (one query)
    linked = {x["o"]["value"] for x in props if x["o"]["type"] == "uri"} | {x["s"]["value"] for x in incoming if x["s"]["type"] == "uri"}
    names: dict[str, str] = {}
    if linked:
        values = " ".join(f"<{v}>" for v in sorted(linked)[:MAX_VALUES] if ">" not in v and " " not in v)
        for r in twin.store.select(f"SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?x {{ {values} }} ?x <{RDFS}label> ?l }} GROUP BY ?x", dataset=ds):
            names[str(r["x"])] = str(r["label"])
    geometry = None
    wkt = twin.store.select(_PREFIX + "SELECT ?w WHERE { { ?s geo:hasDefaultGeometry ?g } UNION { ?s geo:hasGeometry ?g } ?g geo:asWKT ?w } LIMIT 1", dataset=ds, bindings=_bind(iri))
    if not wkt:
        wkt = twin.store.select(_PREFIX + "SELECT ?w WHERE { ?s geo:asWKT ?w } LIMIT 1", dataset=ds, bindings=_bind(iri))
    if wkt:
        try:
            geometry = _plain(shapely.geometry.mapping(parse_wkt(str(wkt[0]["w"]))))
        except ValueError:
            geometry = None
    return {
        "iri": iri,
        "base": twin.naming.base,
        "project": project,
        "types": types,
        "labels": labels,
        "properties": props,
        "incoming": incoming,
        "truncated": len(out_rows) > MAX_VALUES or len(in_rows) > MAX_VALUES,
        "names": names,
        "geometry": geometry,
        "provenance": provenance(twin, project, iri),
        "live": live_value(twin, project, iri, points),
        "validation": validation_results(twin, project, iri),
    }


def provenance(twin: Core, project: str, iri: str) -> list[dict[str, Any]]:
    """Which graph holds the resource, from which source file, by which ingest."""
    pg = twin.naming.graph(project, PROVENANCE_GRAPH)
    rows = twin.store.select(
        _PREFIX
        + f"SELECT DISTINCT ?g ?a ?label ?end ?status ?src ?file WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"OPTIONAL {{ GRAPH <{pg}> {{ ?a prov:generated ?g ; prov:endedAtTime ?end . OPTIONAL {{ ?a rdfs:label ?label }} OPTIONAL {{ ?a kgt:status ?status }} "
        f"OPTIONAL {{ ?a prov:used ?src . FILTER(STRSTARTS(STR(?src), \"{twin.naming.base}id/{project}/source/\")) OPTIONAL {{ ?src rdfs:label ?file }} }} }} }} }} ORDER BY ?g DESC(?end)",
        dataset=Dataset(tuple(twin.project_graphs(project)), tuple(twin.project_graphs(project)) + (pg,)),
        bindings=_bind(iri),
    )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in rows:
        g = str(r["g"])
        if g in seen:
            continue
        seen.add(g)
        item: dict[str, Any] = {"graph": twin.naming.client_graph(project, g)}
        if "a" in r:
            item.update(activity=str(r["a"]), label=str(r.get("label", "")), ended=str(r.get("end", "")), status=str(r.get("status", "")))
        if "src" in r:
            item.update(source=str(r["src"]), file=str(r.get("file", "")))
        out.append(item)
    return out


def live_value(twin: Core, project: str, iri: str, points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The point's last known value and time-series id (None for a resource that is not a live point)."""
    for p in points:
        if p["iri"] == iri:
            ds = twin.query_dataset(project)
            rows = twin.store.select(_PREFIX + "SELECT ?v ?t WHERE { ?s brick:lastKnownValue ?o . ?o brick:value ?v . OPTIONAL { ?o brick:timestamp ?t } } LIMIT 1", dataset=ds, bindings=_bind(iri))
            value = _num(rows[0]["v"]) if rows else None
            return {"id": p["id"], "unit": p.get("unit"), "value": value, "time": str(rows[0].get("t", "")) if rows else p.get("last_time")}
    return None


def _source_dir(twin: Core, project: str, source_iri: str) -> Path | None:
    sha = source_iri.rsplit("/", 1)[-1]
    if not sha.isalnum():
        return None
    d = Path(twin.settings.sources_path) / project / sha
    return d if d.is_dir() else None


def validation_results(twin: Core, project: str, iri: str) -> list[dict[str, Any]]:
    """SHACL results about ``iri`` in the validation reports of the ingests that produced it."""
    ds = twin.query_dataset(project)
    sources = twin.store.select(f"SELECT DISTINCT ?src WHERE {{ ?s <{KGT}source> ?src }}", dataset=ds, bindings=_bind(iri))
    out: list[dict[str, Any]] = []
    for r in sources:
        d = _source_dir(twin, project, str(r["src"]))
        if d is None or not (d / "validation.nt").is_file():
            continue
        if ">" in iri:
            continue
        report = rdflib.Graph()
        report.parse(d / "validation.nt", format="nt")  # a report: small (one line per result)
        q = (
            f"PREFIX sh: <{SH}> SELECT ?sev ?msg ?path ?value ?shape ?comp WHERE {{ ?r sh:focusNode ?s ; sh:resultSeverity ?sev . "
            "OPTIONAL { ?r sh:resultMessage ?msg } OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value } "
            "OPTIONAL { ?r sh:sourceShape ?shape } OPTIONAL { ?r sh:sourceConstraintComponent ?comp } }"
        )
        for row in report.query(q, initBindings={"s": rdflib.URIRef(iri)}):
            vals = dict(zip(("sev", "msg", "path", "value", "shape", "comp"), row))
            out.append({k: (str(v) if v is not None else None) for k, v in vals.items()} | {"report": str(r["src"])})
    return out


def cbd(twin: Core, project: str, iri: str, fmt: str) -> bytes:
    """The Concise Bounded Description of ``iri`` (its triples, blank nodes followed) in RDF syntax ``fmt``."""
    body = twin.store.construct(f"DESCRIBE <{iri}>", dataset=twin.query_dataset(project), format=fmt)
    if not body.strip():
        raise NotFound("RESOURCE_NOT_FOUND", f"project {project!r} has no description of <{iri}>", hint="ask for text/html to see what links to it")
    return body


def features_json(twin: Core, project: str) -> bytes:
    return json.dumps(features(twin, project), ensure_ascii=False, separators=(",", ":")).encode()


class ViewCache:
    """Answers of :func:`overview` and :func:`features` per project, dropped when the project's data change
    (``Core.on_change``): both scan the whole project (seconds on the demo), the pages ask often."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], Any] = {}

    def invalidate(self, project: str) -> None:
        with self._lock:
            for k in [k for k in self._items if k[0] == project]:
                del self._items[k]

    def get(self, project: str, what: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if (project, what) in self._items:
                return self._items[(project, what)]
        value = compute()
        with self._lock:
            self._items[(project, what)] = value
        return value
