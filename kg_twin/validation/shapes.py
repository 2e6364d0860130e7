"""Shapes library (``shapes/<domain>/<subject>.shapes.ttl``), ontology closure and project selection.

A *shape set* is one file; its name is ``<domain>/<subject>`` (``brick/points``).
Each file describes itself with an ``owl:Ontology`` node (label, comment).

Per project:

* the project's own shapes live in the hidden graph ``naming.graph(project, "_shapes")``;
* the selection of library sets is stored in the same graph as
  ``<project> kgt:shapeSet "brick/points"`` triples; with no selection stored, the
  default applies: every library set whose targets match the project's data.

>>> names = [s.name for s in list_shape_sets()]
>>> "brick/points" in names and "core/entity" in names
True
>>> g = load_shapes(["bot/topology"])
>>> len(g) > 10
True
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import rdflib
from rdflib import OWL, RDF, RDFS

from kg_twin.errors import InputError, NotFound
from kg_twin.store.view import rdf_format_of
from kg_twin.terms import KGT, Naming
from kg_twin.validation.engine import SH, ShapesGraph
from kg_twin.store.rdflib_io import parse_rdf

SHAPES_DIR = Path(__file__).resolve().parents[2] / "shapes"
ONTOLOGIES_DIR = Path(__file__).resolve().parents[2] / "ontologies"
SHAPES_GRAPH_NAME = "_shapes"
SHAPE_SET = rdflib.URIRef(KGT + "shapeSet")


def shapes_dir() -> Path:
    return Path(os.environ.get("KG_TWIN_SHAPES_DIR") or SHAPES_DIR)


@dataclass
class ShapeSet:
    """One file of the shapes library."""

    name: str  # domain/subject
    path: Path
    title: str = ""
    description: str = ""
    shapes: list[str] = field(default_factory=list)  # shape IRIs with targets
    target_classes: list[str] = field(default_factory=list)
    target_subjects_of: list[str] = field(default_factory=list)
    target_objects_of: list[str] = field(default_factory=list)
    target_nodes: list[str] = field(default_factory=list)

    def graph(self) -> rdflib.Graph:
        return _parse(self.path)

    def to_dict(self) -> dict[str, Any]:
        d = self.__dict__.copy()
        d["path"] = str(self.path)
        return d


def _parse(path: Path) -> rdflib.Graph:
    """The shapes file as a fresh rdflib graph (the caller may change it).

    Parsed once per file version (path, size, mtime): every ingest validates with the same library
    shapes, and Turtle parsing in rdflib cost more than a tenth of a second per ingest."""
    try:
        st = path.stat()
    except OSError as e:
        raise InputError("SHAPES_NOT_FOUND", f"cannot read shapes file {path}: {e}", where={"file": str(path)}, hint="check the path") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _PARSED_LOCK:
        cached = _PARSED.get(key)
    if cached is None:
        cached = parse_rdf(path, fmt=None if _rdf_suffix(path) else "turtle")
        with _PARSED_LOCK:
            if len(_PARSED) >= 256:  # edited files leave old versions behind
                _PARSED.clear()
            _PARSED[key] = cached
    g = rdflib.Graph()
    for prefix, ns in cached.namespaces():
        g.bind(prefix, ns, override=True)
    g += cached
    return g


def _rdf_suffix(path: Path) -> bool:
    """Whether the file's extension names an RDF syntax (else a shapes file is read as Turtle)."""
    try:
        rdf_format_of(path)
    except InputError:
        return False
    return True


_PARSED: dict[tuple[str, int, int], rdflib.Graph] = {}
_PARSED_LOCK = threading.Lock()


def describe(name: str, path: Path) -> ShapeSet:
    g = _parse(path)
    s = ShapeSet(name=name, path=path)
    for onto in g.subjects(RDF.type, OWL.Ontology):
        s.title = str(g.value(onto, RDFS.label) or "")
        s.description = str(g.value(onto, RDFS.comment) or "")
    sg = ShapesGraph(g)
    for node in sg.shape_nodes():
        sh = sg.shape(node)
        if sh.targets and isinstance(node, rdflib.URIRef):
            s.shapes.append(str(node))
        for pred, o in sh.targets:
            bucket = {
                SH.targetClass: s.target_classes,
                SH.targetSubjectsOf: s.target_subjects_of,
                SH.targetObjectsOf: s.target_objects_of,
                SH.targetNode: s.target_nodes,
            }[pred]
            if str(o) not in bucket:
                bucket.append(str(o))
    return s


def list_shape_sets(root: Path | None = None) -> list[ShapeSet]:
    """Every ``<domain>/<subject>.shapes.ttl`` under the shapes directory, sorted by name."""
    root = root or shapes_dir()
    out = []
    for p in sorted(root.glob("*/*.shapes.ttl")):
        out.append(describe(f"{p.parent.name}/{p.name.removesuffix('.shapes.ttl')}", p))
    return out


def shape_set_path(name: str, root: Path | None = None) -> Path:
    root = root or shapes_dir()
    domain, _, subject = name.partition("/")
    p = root / domain / f"{subject}.shapes.ttl"
    if not subject or "/" in subject or not p.is_file():
        known = ", ".join(s.name for s in list_shape_sets(root))
        raise NotFound("UNKNOWN_SHAPE_SET", f"no shape set {name!r}", hint=f"known shape sets: {known}")
    return p


def load_shapes(names: Iterable[str], root: Path | None = None, *, extra: Iterable[Path | str] = ()) -> rdflib.Graph:
    """One shapes graph from library sets (by name) plus extra shape files."""
    g = rdflib.Graph()
    g.bind("kgt-sh", "https://w3id.org/kg-twin/shapes#")
    for n in names:
        g += _parse(shape_set_path(n, root))
    for f in extra:
        g += _parse(Path(f))
    return g


# --- ontology closure --------------------------------------------------------------


def brick_ontology_file(version: str | None = None) -> Path:
    """Brick.ttl: the ontology bundle's copy (``ontologies/brick/Brick.ttl``), or with another
    ``version`` the brickschema package's ``ontologies/<version>/Brick.ttl``."""
    from kg_twin import ontologies

    if version is None or version == ontologies.BRICK_VERSION:
        return ontologies.brick_file()
    import brickschema

    p = Path(brickschema.__file__).parent / "ontologies" / version / "Brick.ttl"
    if not p.is_file():
        raise NotFound("ONTOLOGY_MISSING", f"Brick {version} ontology not found", hint=f"use the bundle's Brick {ontologies.BRICK_VERSION} (ontologies/brick/Brick.ttl)")
    return p


def closure_files(modules: Sequence[str] | None = None, extra: Iterable[Path | str] = ()) -> list[Path]:
    """Ontology files whose class hierarchy validation reads: bundle modules (``kg_twin.ontologies``,
    with their dependencies; ``None`` = the whole bundle) plus extra files."""
    from kg_twin import ontologies

    if modules is not None:
        unknown = [m for m in modules if m not in ontologies.MODULES]
        if unknown:
            raise NotFound("UNKNOWN_ONTOLOGY_MODULE", f"unknown ontology module(s): {', '.join(unknown)}", hint=f"known: {', '.join(ontologies.MODULES)}")
    out = list(ontologies.bundle_files(modules))
    for x in extra:
        p = Path(x)
        if not p.is_file():
            raise NotFound("ONTOLOGY_MISSING", f"no ontology file {x}", where={"file": str(x)})
        out.append(p)
    return out


def load_closure(view: Any, files: Iterable[Path | str]) -> None:
    """Load ontology files into the view's closure graph (class hierarchy only is read)."""
    from kg_twin.store.view import CLOSURE_GRAPH

    for f in files:
        view.load_file(f, CLOSURE_GRAPH)


# --- which sets match the data -------------------------------------------------------


def matching_shape_sets(view: Any, sets: Sequence[ShapeSet] | None = None) -> list[str]:
    """Names of library sets with at least one focus node in the view's data graphs."""
    from kg_twin.validation.engine import Engine

    sets = list_shape_sets() if sets is None else sets
    eng = Engine(view, rdflib.Graph())
    out = []
    for s in sets:
        pats = []
        for c in s.target_classes:
            pats.append(eng._type_pattern("?x", rdflib.URIRef(c)))
        pats += [f"?x <{p}> ?o ." for p in s.target_subjects_of]
        pats += [f"?o <{p}> ?x ." for p in s.target_objects_of]
        if not pats:
            continue
        q = "SELECT ?x WHERE { " + " UNION ".join("{ " + p + " }" for p in pats) + " } LIMIT 1"
        if view.rows(q):
            out.append(s.name)
    return out


# --- per-project selection (stored in the project's hidden _shapes graph) -------------


def project_shapes_graph_iri(naming: Naming, project: str) -> str:
    return naming.graph(project, SHAPES_GRAPH_NAME)


def get_project_selection(store: Any, naming: Naming, project: str) -> list[str] | None:
    """The project's chosen shape sets, or None (default: all sets that match the data)."""
    g = project_shapes_graph_iri(naming, project)
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{g}> {{ <{naming.project_iri(project)}> <{SHAPE_SET}> ?n }} }}")
    if not rows:
        return None
    return sorted(str(r["n"]) for r in rows)


def set_project_selection(store: Any, naming: Naming, project: str, names: Sequence[str] | None) -> None:
    """Store the project's shape-set selection (``None`` restores the default)."""
    for n in names or ():
        shape_set_path(n)
    g = project_shapes_graph_iri(naming, project)
    proj = naming.project_iri(project)
    inserts = " ".join(f'<{proj}> <{SHAPE_SET}> "{n}" .' for n in (names or ()))
    store.update(
        f"DELETE WHERE {{ GRAPH <{g}> {{ <{proj}> <{SHAPE_SET}> ?n }} }} ;"
        + (f" INSERT DATA {{ GRAPH <{g}> {{ {inserts} }} }}" if inserts else "")
    )


def add_project_shapes(store: Any, naming: Naming, project: str, data: bytes, fmt: str = "turtle") -> int:
    """Add the project's own shapes (Turtle/JSON-LD) to its ``_shapes`` graph; returns the graph size."""
    probe = rdflib.Graph()
    try:
        probe.parse(data=data, format=fmt)
    except Exception as e:  # noqa: BLE001
        raise InputError("RDF_SYNTAX", f"cannot parse shapes: {e}", hint="send Turtle or JSON-LD") from e
    ShapesGraph(probe).targeted()  # refuse malformed shapes now, not at validation time
    nt = probe.serialize(format="nt", encoding="utf-8")
    return store.load(nt, format="ntriples", graph=project_shapes_graph_iri(naming, project))


def project_custom_shapes(store: Any, naming: Naming, project: str) -> rdflib.Graph:
    g = rdflib.Graph()
    iri = project_shapes_graph_iri(naming, project)
    if store.has_graph(iri):
        g.parse(data=store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"), format="nt")
        g.remove((None, SHAPE_SET, None))
    return g


def project_shapes(store: Any, naming: Naming, project: str, view: Any = None, *, files: Sequence[Path | str] = ()) -> tuple[rdflib.Graph, list[str]]:
    """Which shapes apply to a project: the one rule (``kg-twin validate``, the validate API and
    every ingest ask here) -> (shapes graph, names of the sets / files used).

    * shape files given (``--shapes FILE``): exactly those;
    * else the project's stored selection of library sets; without one, the library sets whose
      targets match the data of ``view`` (without a view, every set: a set whose targets match
      nothing cannot produce results, so the outcome is the same and no query runs);
    * plus the project's own shapes (its ``_shapes`` graph), named ``project <p> shapes``.
    """
    if files:
        return load_shapes([], extra=files), [Path(f).name for f in files]
    names = get_project_selection(store, naming, project)
    if names is None:
        names = matching_shape_sets(view) if view is not None else [s.name for s in list_shape_sets()]
    g = load_shapes(names)
    own = project_custom_shapes(store, naming, project)
    if len(own):
        g += own
        names = [*names, f"project {project} shapes"]
    return g, names
