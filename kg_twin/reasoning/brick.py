"""Per-project inference: Brick rules, tag-to-class, RDFS / OWL-RL, into a separate graph.

For each project the twin keeps one inferred graph (``naming.inferred_graph(project)``) apart
from the asserted data. :func:`infer_project` rebuilds it from scratch after each change:

1. read the project's asserted graphs from the store (every visible graph except the inferred one);
2. **tags to classes**: entities that carry ``brick:hasTag`` get the Brick class whose tag set
   is exactly theirs (brickschema's ``TagInferenceSession`` lookup for Brick 1.5; ambiguous tag
   sets are counted, not guessed);
3. **Brick rules**: Brick 1.5's SHACL-AF rules (class-to-tags, default values, external
   reference typing ...) run with brickschema's SHACL engine (``shifty``, Rust);
4. **OWL 2 RL** over data + ontology closure with the ``reasonable`` reasoner (Rust), which
   brickschema uses for ``expand("owlrl")``: class hierarchy (a ``brick:Zone_Air_Temperature_Sensor``
   is a ``brick:Temperature_Sensor``, a ``brick:Point``, a ``kgt:Point`` ...), inverse relations
   (``brick:hasPoint`` / ``brick:isPointOf``, ``brick:hasPart`` / ``brick:isPartOf``, ...),
   transitive and symmetric properties, BOT / Brick alignment, domains and ranges;
5. steps 3-4 repeat until nothing new appears (at most ``max_rounds``);
6. keep only *new* triples *about the project's instances*: subject is a node of the asserted
   data, not an ontology term; no blank nodes (they could not be joined back to the asserted
   graph's blank nodes once stored); no ``owl:Thing`` / ``rdfs:Resource`` / reflexive
   ``owl:sameAs`` noise. The ontology's own axioms never enter the inferred graph;
7. replace the inferred graph with them in one store operation.

The reasoning core, :func:`infer_graph`, works on rdflib graphs and can be used on files.

>>> from rdflib import Graph
>>> g = Graph().parse(data=(
...   "@prefix brick: <https://brickschema.org/schema/Brick#> . @prefix ex: <http://ex/> ."
...   "ex:vav a brick:VAV ; brick:hasPoint ex:t . ex:t a brick:Zone_Air_Temperature_Sensor ."), format="turtle")
>>> new, stats = infer_graph(g)
>>> from rdflib import URIRef, RDF
>>> (URIRef("http://ex/t"), RDF.type, URIRef("https://brickschema.org/schema/Brick#Temperature_Sensor")) in new
True
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import rdflib
from rdflib import BNode, URIRef
from rdflib.namespace import OWL as RDFLIB_OWL
from rdflib.namespace import RDF as RDFLIB_RDF
from rdflib.namespace import RDFS as RDFLIB_RDFS

from kg_twin.errors import KgTwinError
from kg_twin.ontologies import BRICK_VERSION, bundle_hash, load_ontology_closure, module_closure
from kg_twin.terms import BRICK, TAG, Naming, check_project_id

log = logging.getLogger(__name__)

HAS_TAG = URIRef(BRICK + "hasTag")
_NOISE_TYPES = {RDFLIB_OWL.Thing, RDFLIB_OWL.NamedIndividual, RDFLIB_RDFS.Resource, RDFLIB_OWL.Nothing}
_SCHEMA_VERSION = "2"  # bump when the schema filter below changes (names the cached schema file)


@dataclass
class InferenceStats:
    """What one inference run did (counts and seconds per step)."""

    project: str = ""
    graph: str = ""
    asserted_graphs: list[str] = field(default_factory=list)
    asserted_triples: int = 0
    ontology_modules: list[str] = field(default_factory=list)
    ontology_triples: int = 0
    tag_classes: int = 0  # rdf:type triples added from tag sets
    tag_ambiguous: int = 0  # entities whose tag set matched several classes (left alone)
    rule_triples: int = 0  # new triples from Brick's SHACL-AF rules (all rounds)
    owlrl_triples: int = 0  # new triples from the OWL-RL closure (all rounds, before filtering)
    rounds: int = 0
    inferred_triples: int = 0  # kept (written to the inferred graph)
    skipped_blank_nodes: int = 0
    skipped_other: int = 0  # new triples about ontology terms or OWL noise
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- ontology cache
_ONT_LOCK = threading.Lock()
_ONT_CACHE: dict[tuple[tuple[str, ...], str], "_Ontology"] = {}

#: Predicates the OWL-RL rules read. The OWL-RL pass gets only ontology triples with these
#: predicates (labels, definitions, SHACL shapes and tag annotations cannot change what is
#: entailed about instances, and leaving them out makes the pass several times faster).
_SCHEMA_NS = (str(RDFLIB_OWL), str(RDFLIB_RDFS))
_SCHEMA_PREDICATES = {RDFLIB_RDF.type, RDFLIB_RDF.first, RDFLIB_RDF.rest}
_ANNOTATIONS = {RDFLIB_RDFS.label, RDFLIB_RDFS.comment, RDFLIB_RDFS.seeAlso, RDFLIB_RDFS.isDefinedBy, RDFLIB_OWL.versionInfo, RDFLIB_OWL.deprecated}
#: rdf:type objects an OWL-RL rule can use (property characteristics, restrictions, class
#: expressions). Other typings of ontology terms (owl:Class declarations, SHACL shapes, Brick
#: tags and quantities as individuals) entail nothing about the data and are left out.
_RL_TYPES = {
    RDFLIB_OWL[n]
    for n in (
        "TransitiveProperty SymmetricProperty AsymmetricProperty FunctionalProperty InverseFunctionalProperty "
        "IrreflexiveProperty ReflexiveProperty Restriction AllDisjointClasses AllDisjointProperties AllDifferent "
        "Nothing"
    ).split()
}


@dataclass
class _Ontology:
    full: rdflib.Graph  # everything (membership tests)
    full_nt: bytes  # the same as N-Triples: the shapes graph of the Brick rules (parsed in Rust)
    schema: rdflib.Graph  # RDF/RDFS/OWL axioms only: input of the OWL-RL pass
    schema_path: Path  # the same as an N-Triples file, which 'reasonable' loads in Rust
    schema_set: frozenset  # the same as a set of triples (fast difference with the closure)
    terms: frozenset  # IRIs the ontology describes (never subjects of inferred triples)
    names: list[str]


def _ontology(modules: Iterable[str] | None) -> _Ontology:
    """Parsed ontology closure, cached per bundle hash."""
    names = tuple(m.name for m in module_closure(modules))
    key = (names, bundle_hash(names))
    with _ONT_LOCK:
        hit = _ONT_CACHE.get(key)
        if hit is None:
            full_nt = load_ontology_closure(names)
            full = rdflib.Graph()
            full.parse(data=full_nt, format="nt")
            schema = rdflib.Graph()
            for t in full:
                p = t[1]
                if p in _ANNOTATIONS:
                    continue
                if p == RDFLIB_RDF.type:
                    if t[2] in _RL_TYPES:
                        schema.add(t)
                    continue
                if p in _SCHEMA_PREDICATES or str(p).startswith(_SCHEMA_NS):
                    schema.add(t)
            terms = frozenset(s for s in full.subjects() if isinstance(s, URIRef))
            schema_path = Path(tempfile.gettempdir()) / f"kg-twin-owlrl-schema-{_SCHEMA_VERSION}-{key[1][:16]}-{len(names)}.ttl"
            if not schema_path.is_file():
                tmp = schema_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(schema.serialize(format="nt", encoding="utf-8"))
                os.replace(tmp, schema_path)
            _ONT_CACHE.clear()  # one bundle at a time is plenty
            _ONT_CACHE[key] = hit = _Ontology(full, full_nt, schema, schema_path, frozenset(schema), terms, list(names))
    return hit


# ---------------------------------------------------------------- steps
_TAG_SESSION: Any = None


def _tag_classes(data: rdflib.Graph) -> tuple[list[tuple], int]:
    """``(entity, rdf:type, brick:Class)`` for entities whose asserted tag set names exactly one class."""
    global _TAG_SESSION
    tags: dict[Any, set[str]] = {}
    for s, o in data.subject_objects(HAS_TAG):
        if isinstance(o, URIRef) and str(o).startswith(TAG):
            tags.setdefault(s, set()).add(str(o)[len(TAG) :])
    if not tags:
        return [], 0
    if _TAG_SESSION is None:
        from brickschema.inference import TagInferenceSession

        _TAG_SESSION = TagInferenceSession(load_brick=False, brick_version=BRICK_VERSION)
    out, ambiguous = [], 0
    for entity, tagset in tags.items():
        matches = _TAG_SESSION.lookup_tagset(sorted(tagset))
        classes = sorted({c for klasses, _ in matches for c in klasses})
        if len(classes) == 1:
            out.append((entity, RDFLIB_RDF.type, URIRef(BRICK + classes[0])))
        elif len(classes) > 1:
            ambiguous += 1
    return out, ambiguous


def _rules(work: rdflib.Graph, onto: _Ontology) -> rdflib.Graph:
    """New triples of Brick's SHACL-AF rules (shifty: the engine brickschema's compile() uses by default).

    The data goes in as N-Triples and the shapes graph as cached N-Triples bytes, so neither is
    copied through Python (brickschema.shacl.infer would flatten both into new rdflib graphs).
    """
    try:
        import shifty
    except ImportError as e:  # pragma: no cover - pyshifty is installed with brickschema
        raise KgTwinError("SHACL_ENGINE_MISSING", f"Brick rule engine unavailable: {e}", hint="pip install pyshifty") from None
    result = shifty.infer(work.serialize(format="nt", encoding="utf-8"), onto.full_nt)
    for message in result.diagnostics:
        log.debug("shifty: %s", message)
    out = rdflib.Graph()
    out.parse(data=result.inferred_ntriples, format="nt")
    return out


def _owlrl(work: rdflib.Graph, onto: _Ontology) -> set[tuple]:
    """New triples of the OWL 2 RL closure of schema + work ('reasonable', as brickschema's expand("owlrl"))."""
    try:
        from reasonable import PyReasoner
    except ImportError as e:  # pragma: no cover
        raise KgTwinError("OWLRL_ENGINE_MISSING", f"the 'reasonable' OWL-RL reasoner is not importable: {e}", hint="pip install reasonable") from None
    r = PyReasoner()
    r.load_file(str(onto.schema_path))
    r.from_graph(work)
    closure = set(r.reason())
    closure -= onto.schema_set
    closure.difference_update(work)
    return closure


def _keep(t: tuple, instances: set, ont_terms: frozenset) -> str:
    s, p, o = t
    if isinstance(s, BNode) or isinstance(o, BNode):
        return "blank"
    if s not in instances or s in ont_terms:
        return "other"
    if p == RDFLIB_RDF.type and o in _NOISE_TYPES:
        return "other"
    if p == RDFLIB_OWL.sameAs and s == o:
        return "other"
    return "keep"


def infer_graph(data: rdflib.Graph, *, modules: Iterable[str] | None = None, max_rounds: int = 3) -> tuple[rdflib.Graph, InferenceStats]:
    """Inferred triples about the instances of ``data`` (``data`` is not modified)."""
    stats = InferenceStats()
    t0 = time.perf_counter()
    onto = _ontology(modules)
    stats.ontology_modules = onto.names
    stats.ontology_triples = len(onto.full)
    stats.asserted_triples = len(data)
    stats.seconds["ontology"] = round(time.perf_counter() - t0, 3)

    if len(data) == 0:  # nothing asserted, nothing to infer about
        stats.seconds["total"] = round(time.perf_counter() - t0, 3)
        return rdflib.Graph(), stats

    work = rdflib.Graph()
    for t in data:
        work.add(t)
    instances = {n for t in data for n in (t[0], t[2]) if isinstance(n, URIRef)}

    t1 = time.perf_counter()
    tagged, stats.tag_ambiguous = _tag_classes(data)
    for t in tagged:
        if t not in work:
            work.add(t)
            stats.tag_classes += 1
    stats.seconds["tags"] = round(time.perf_counter() - t1, 3)

    stats.seconds["rules"] = stats.seconds["owlrl"] = 0.0
    for _ in range(max_rounds):
        stats.rounds += 1
        grew = False
        t2 = time.perf_counter()
        for t in _rules(work, onto):
            if isinstance(t[0], BNode) or isinstance(t[2], BNode):
                continue  # rule-made blank nodes are fresh every round and cannot be stored joined up
            if t not in work and t not in onto.full:
                work.add(t)
                stats.rule_triples += 1
                grew = True
        t3 = time.perf_counter()
        # only what the closure says about the data's nodes goes back into the work graph;
        # entailments among ontology terms are recomputed from the schema every round anyway
        new = {
            t
            for t in _owlrl(work, onto)
            if t[0] not in onto.terms and not isinstance(t[0], BNode) and not isinstance(t[2], BNode)
        }
        for t in new:
            work.add(t)
        stats.owlrl_triples += len(new)
        stats.seconds["rules"] = round(stats.seconds["rules"] + t3 - t2, 3)
        stats.seconds["owlrl"] = round(stats.seconds["owlrl"] + time.perf_counter() - t3, 3)
        log.debug("inference round %d: %s", stats.rounds, {"rules_grew": grew, "owlrl_new": len(new)})
        if not new:
            break  # rules ran on a graph the OWL-RL pass then left unchanged: fixpoint

    t4 = time.perf_counter()
    out = rdflib.Graph()
    for t in work:
        if t in data:
            continue
        verdict = _keep(t, instances, onto.terms)
        if verdict == "keep":
            out.add(t)
        elif verdict == "blank":
            stats.skipped_blank_nodes += 1
        else:
            stats.skipped_other += 1
    stats.inferred_triples = len(out)
    stats.seconds["filter"] = round(time.perf_counter() - t4, 3)
    stats.seconds["total"] = round(time.perf_counter() - t0, 3)
    return out, stats


# ---------------------------------------------------------------- store level
def asserted_graphs(store: Any, naming: Naming, project: str) -> list[str]:
    """The project's visible data graphs, without its inferred graph."""
    inferred = naming.inferred_graph(project)
    return [
        g
        for g in store.graphs()
        if naming.project_of_graph(g) == project and not naming.is_hidden(g) and g != inferred
    ]


_PROJECT_LOCKS: dict[str, threading.Lock] = {}
_PROJECT_LOCKS_GUARD = threading.Lock()


def _project_lock(project: str) -> threading.Lock:
    with _PROJECT_LOCKS_GUARD:
        return _PROJECT_LOCKS.setdefault(project, threading.Lock())


def infer_project(store: Any, naming: Naming, project: str, *, modules: Iterable[str] | None = None, max_rounds: int = 3) -> InferenceStats:
    """Rebuild ``naming.inferred_graph(project)`` from the project's asserted graphs (see module doc).

    Runs for the same project are serialized (in this process), so a run that read older data
    can never overwrite the result of a run that read newer data.
    """
    check_project_id(project)
    with _project_lock(project):
        return _infer_project(store, naming, project, modules=modules, max_rounds=max_rounds)


def _infer_project(store: Any, naming: Naming, project: str, *, modules: Iterable[str] | None, max_rounds: int) -> InferenceStats:
    t0 = time.perf_counter()
    graphs = asserted_graphs(store, naming, project)
    target = naming.inferred_graph(project)
    data = rdflib.Graph()
    if graphs:
        buf = io.BytesIO()
        store.dump(buf, format="ntriples", graphs=graphs)
        data.parse(data=buf.getvalue(), format="nt")
    read_s = round(time.perf_counter() - t0, 3)

    new, stats = infer_graph(data, modules=modules, max_rounds=max_rounds)
    stats.project = project
    stats.graph = target
    stats.asserted_graphs = graphs
    stats.seconds["read"] = read_s

    t1 = time.perf_counter()
    if len(new):
        body = new.serialize(format="nt", encoding="utf-8")
        store.load(body, format="ntriples", graph=target, replace=True)
    else:
        store.drop_graphs([target])
    stats.seconds["write"] = round(time.perf_counter() - t1, 3)
    stats.seconds["total"] = round(time.perf_counter() - t0, 3)
    log.info("inferred %d triples for project %s in %.2f s", stats.inferred_triples, project, stats.seconds["total"])
    return stats



class InferenceRefresher:
    """Keeps inferred graphs current: rebuilds a project's inferred graph after each change.

    Attach it to the service (``twin.on_change(refresher.schedule)``, or :meth:`attach`); a
    background thread runs :func:`infer_project` for changed projects, one at a time, and
    coalesces bursts of changes (ten loads in a row cause one or two runs, not ten). Writing the
    inferred graph does not notify, so there is no feedback loop. Failures are logged and kept
    in :attr:`errors`; they never break the write that triggered them.
    """

    def __init__(self, store: Any, naming: Naming, *, modules: Iterable[str] | None = None) -> None:
        self.store = store
        self.naming = naming
        self.modules = list(modules) if modules is not None else None
        self.last: dict[str, InferenceStats] = {}
        self.errors: dict[str, str] = {}
        self._pending: list[str] = []
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="kg-twin-inference", daemon=True)
        self._thread.start()

    @classmethod
    def attach(cls, twin: Any, **kwargs: Any) -> "InferenceRefresher":
        r = cls(twin.store, twin.naming, **kwargs)
        twin.on_change(r.schedule)
        return r

    def schedule(self, project: str) -> None:
        with self._cond:
            if project not in self._pending:
                self._pending.append(project)
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 3.0) -> None:
        """Stop taking work; wait a little for a running rebuild. A rebuild still running after
        ``timeout`` is abandoned (its single write transaction never happens half-way)."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            log.warning("inference rebuild still running at shutdown: abandoned")

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                project = self._pending.pop(0)
                self._busy = True
            try:
                self.last[project] = infer_project(self.store, self.naming, project, modules=self.modules)
                self.errors.pop(project, None)
            except Exception as e:  # a failed refresh must not kill the refresher; it is logged and kept
                log.exception("inference refresh failed for project %s", project)
                self.errors[project] = f"{type(e).__name__}: {e}"
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


__all__ = ["InferenceRefresher", "InferenceStats", "asserted_graphs", "infer_graph", "infer_project"]
