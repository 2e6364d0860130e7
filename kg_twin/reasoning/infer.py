"""Per-project inference, materialised inside the store and maintained incrementally.

Each project has one inferred graph, ``naming.inferred_graph(project)``. It holds exactly the
entailments of the profile (:mod:`.profile`) that no asserted graph of the project holds:

    inferred = (tag-classes ∪ derive(asserted ∪ tag-classes)) − asserted

* :func:`infer_project` computes it from all the asserted graphs: one construct per class /
  property the data uses, evaluated by the store and bulk-loaded into the inferred graph
  (:meth:`~kg_twin.store.base.GraphStore.construct_into` with ``replace``: no data leaves the
  store, and an existing inferred graph receives only the difference).
* :func:`apply_change` maintains it after a write (delete / re-derive, "DRed"): every rule has
  one premise, so what a change adds is ``derive(added)``, and the only entailments a change
  can take away are in ``derive(removed)``; each of those is deleted unless it still has a
  premise in the project (one index probe per candidate). Cost follows the size of the change,
  not of the project. The premises of a change are graphs: scratch graphs holding what was
  added or what a replaced / dropped graph held before (:func:`snapshot`, :func:`stage`), or a
  replaced graph itself.
* Brick's tag-to-class rule (:mod:`.tags`) needs all tags of an entity; its results are kept
  in a hidden graph of the project (``_inference/tags``) that acts as an extra premise.

>>> from kg_twin.store import scratch_store
>>> from kg_twin.terms import Naming
>>> st, n = scratch_store(), Naming("http://t/")
>>> _ = st.load(b"<http://t/v> <https://brickschema.org/schema/Brick#hasPoint> <http://t/p> .", format="ntriples", graph=n.graph("p", "hvac"))
>>> infer_project(st, n, "p", modules=["brick"]).inferred_triples  # brick:isPointOf, and REC's hasPoint / isPointOf
3
>>> st.ask("ASK { GRAPH <http://t/graph/p/inferred> { <http://t/p> <https://brickschema.org/schema/Brick#isPointOf> <http://t/v> } }")
True
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from kg_twin.reasoning.profile import HAS_TAG, KGI, Profile, compile_profile
from kg_twin.reasoning.rules import TYPE, derive_constructs, overlap_pattern, not_asserted, support
from kg_twin.reasoning.tags import tag_classes
from kg_twin.store.base import Construct, GraphStore
from kg_twin.terms import Naming, check_project_id

log = logging.getLogger(__name__)

SCRATCH = "_inference"  # hidden graphs of a project: {project}/_inference/...


@dataclass
class InferenceStats:
    """What one run did (counts and seconds per step)."""

    project: str = ""
    graph: str = ""
    mode: str = "full"  # full | incremental
    asserted_graphs: list[str] = field(default_factory=list)
    asserted_triples: int = 0
    ontology_modules: list[str] = field(default_factory=list)
    profile_rows: int = 0
    tag_classes: int = 0
    tag_ambiguous: int = 0
    added: int = 0  # incremental: entailments of the added premises (before removing what is asserted)
    inferred_triples: int = 0  # full runs: size of the inferred graph afterwards (not counted by incremental runs)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Change:
    """What a write changed, as graphs of the store: ``added`` graphs hold (at least) the added
    triples, ``removed`` graphs (at least) the removed ones. Over-approximating is safe."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    triples: int = 0  # size estimate (decides whether it is applied before the write returns)

    def merge(self, other: "Change") -> None:
        self.added += [g for g in other.added if g not in self.added]
        self.removed += [g for g in other.removed if g not in self.removed]
        self.triples += other.triples


# ---------------------------------------------------------------- graphs
def profile_graph(naming: Naming) -> str:
    """The hidden, deployment-wide graph holding the profile tables."""
    return f"{naming.graph_root}_inference/profile"


def tags_graph(naming: Naming, project: str) -> str:
    return naming.graph(project, f"{SCRATCH}/tags")


def scratch_graph(naming: Naming, project: str, kind: str) -> str:
    return naming.graph(project, f"{SCRATCH}/{kind}/{uuid.uuid4().hex[:16]}")


def asserted_graphs(store: GraphStore, naming: Naming, project: str) -> list[str]:
    """The project's visible data graphs, without its inferred graph."""
    inferred = naming.inferred_graph(project)
    return sorted(g for g in store.graphs() if naming.project_of_graph(g) == project and not naming.is_hidden(g) and g != inferred)


_PROFILE_LOCK = threading.Lock()


def ensure_profile(store: GraphStore, naming: Naming, modules: Iterable[str] | None = None) -> Profile:
    """Compile the profile (cached per ontology version) and put it into the store once."""
    prof = compile_profile(modules)
    g = profile_graph(naming)
    with _PROFILE_LOCK:
        if not store.ask(f'ASK {{ GRAPH <{g}> {{ <{KGI}profile> <{KGI}digest> "{prof.digest}" }} }}'):
            store.load(prof.ntriples(), format="ntriples", graph=g, replace=True)
    return prof


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def project_lock(project: str) -> threading.Lock:
    """Inference runs of one project are serialized (in this process)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(project, threading.Lock())


# ---------------------------------------------------------------- change capture
def snapshot(store: GraphStore, naming: Naming, project: str, graphs: Iterable[str]) -> str:
    """Copy ``graphs`` (before a write replaces or drops them) into a scratch graph; returns it."""
    target = scratch_graph(naming, project, "removed")
    ops = [f"ADD SILENT <{g}> TO <{target}>" for g in graphs]
    if ops:
        store.update(" ;\n".join(ops))
    return target


def stage(store: GraphStore, naming: Naming, project: str, source: bytes | str | Path | IO[bytes], *, format: str, base_iri: str | None = None) -> str:
    """Parse added data into a scratch graph (in the store); returns it."""
    target = scratch_graph(naming, project, "added")
    store.load(source, format=format, graph=target, base_iri=base_iri)
    return target


def discard(store: GraphStore, change: Change) -> None:
    """Drop the scratch graphs of a change."""
    store.drop_graphs([g for g in change.added + change.removed if f"/{SCRATCH}/" in g])


def release_memory() -> None:
    """Give the heap pages a big run freed back to the system (glibc keeps them otherwise, and
    an idle server would stay at its peak)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return
    libc.malloc_trim(0)


# ---------------------------------------------------------------- full materialisation
def infer_project(store: GraphStore, naming: Naming, project: str, *, modules: Iterable[str] | None = None) -> InferenceStats:
    """Recompute the project's inferred graph from all its asserted graphs."""
    check_project_id(project)
    with project_lock(project):
        return _infer_project(store, naming, project, modules)


def _derive_into(store: GraphStore, prof: Profile, premises: list[str], target: str) -> None:
    """Put ``derive(premises)`` into ``target`` (small premises: one transaction)."""
    store.construct_into(target, derive_constructs(store, prof, premises, small=True))


def _tags_update(store: GraphStore, target: str, pairs: Iterable[tuple[str, str]], *, insert: bool) -> None:
    body = "".join(f"<{s}> <{TYPE}> <{c}> .\n" for s, c in sorted(pairs))
    if body:
        store.update(f"{'INSERT' if insert else 'DELETE'} DATA {{ GRAPH <{target}> {{ {body} }} }}")


def _infer_project(store: GraphStore, naming: Naming, project: str, modules: Iterable[str] | None) -> InferenceStats:
    t0 = time.perf_counter()
    prof = ensure_profile(store, naming, modules)
    pg, inf, tg = profile_graph(naming), naming.inferred_graph(project), tags_graph(naming, project)
    graphs = asserted_graphs(store, naming, project)
    st = InferenceStats(project=project, graph=inf, asserted_graphs=graphs, ontology_modules=prof.modules, profile_rows=prof.rows())
    st.seconds["profile"] = round(time.perf_counter() - t0, 3)
    store.drop_graphs([tg])  # the inferred graph is replaced below (only its difference is written)
    t1 = time.perf_counter()
    pairs, st.tag_ambiguous = tag_classes(store, graphs, prof)
    st.tag_classes = len(pairs)
    _tags_update(store, tg, pairs, insert=True)
    st.seconds["tags"] = round(time.perf_counter() - t1, 3)
    premises = graphs + ([tg] if pairs else [])
    # the store evaluates one construct per class / property the data uses and bulk-loads the
    # answers into the inferred graph (a recomputation writes only what changed: dropping a
    # graph costs several times what writing it does)
    t2 = time.perf_counter()
    constructs = list(derive_constructs(store, prof, premises))
    if pairs:
        constructs.append(Construct((("?s", "?p", "?o"),), f"GRAPH <{tg}> {{ ?s ?p ?o }}"))
    store.construct_into(inf, constructs, bulk=True, replace=True)
    st.seconds["derive"] = round(time.perf_counter() - t2, 3)
    # then what is also asserted leaves it: only asserted triples a template can have written
    t4 = time.perf_counter()
    if graphs and store.has_graph(inf):
        store.update(f"DELETE {{ GRAPH <{inf}> {{ ?s ?p ?o }} }} WHERE {{ {overlap_pattern(constructs, graphs, inf)} }}")
    st.seconds["asserted"] = round(time.perf_counter() - t4, 3)
    release_memory()
    st.asserted_triples = sum(store.graph_size(g) for g in graphs)
    st.inferred_triples = store.graph_size(inf)
    st.seconds["total"] = round(time.perf_counter() - t0, 3)
    log.info("inferred %d triples for project %s in %.2f s", st.inferred_triples, project, st.seconds["total"])
    return st


# ---------------------------------------------------------------- incremental
def apply_change(store: GraphStore, naming: Naming, project: str, change: Change, *, modules: Iterable[str] | None = None) -> InferenceStats:
    """Bring the inferred graph up to date after ``change`` (already written); drops its scratch graphs."""
    check_project_id(project)
    with project_lock(project):
        try:
            return _apply_change(store, naming, project, change, modules)
        finally:
            discard(store, change)


def _subjects_with_tags(store: GraphStore, graphs: list[str]) -> set[str]:
    if not graphs:
        return set()
    vals = " ".join(f"<{g}>" for g in graphs)
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {vals} }} GRAPH ?g {{ ?s <{HAS_TAG}> ?t }} FILTER(isIRI(?s)) }}")
    return {str(r["s"]) for r in rows}


def _apply_change(store: GraphStore, naming: Naming, project: str, change: Change, modules: Iterable[str] | None) -> InferenceStats:
    t0 = time.perf_counter()
    prof = ensure_profile(store, naming, modules)
    pg, inf, tg = profile_graph(naming), naming.inferred_graph(project), tags_graph(naming, project)
    graphs = asserted_graphs(store, naming, project)
    st = InferenceStats(project=project, graph=inf, mode="incremental", asserted_graphs=graphs, ontology_modules=prof.modules, profile_rows=prof.rows())
    exists = set(store.graphs())
    added = [g for g in change.added if g in exists]
    removed = [g for g in change.removed if g in exists]

    # tag-to-class for the entities whose tags changed: diff against the tags graph
    t1 = time.perf_counter()
    subjects = _subjects_with_tags(store, added + removed)
    tag_add, tag_rem = scratch_graph(naming, project, "added"), scratch_graph(naming, project, "removed")
    if subjects:
        new, st.tag_ambiguous = tag_classes(store, graphs, prof, subjects)
        vals = " ".join(f"<{s}>" for s in sorted(subjects))
        old = {(str(r["s"]), str(r["c"])) for r in store.select(f"SELECT ?s ?c WHERE {{ VALUES ?s {{ {vals} }} GRAPH <{tg}> {{ ?s <{TYPE}> ?c }} }}")}
        st.tag_classes = len(new)
        _tags_update(store, tg, old - new, insert=False)
        _tags_update(store, tg, new - old, insert=True)
        _tags_update(store, tag_rem, old - new, insert=True)
        _tags_update(store, tag_add, new - old, insert=True)
        added, removed = added + [tag_add], removed + [tag_rem]
    st.seconds["tags"] = round(time.perf_counter() - t1, 3)
    premises = graphs + [tg]
    try:
        # 1. candidates: what the removed premises entailed, and the removed triples themselves
        t2 = time.perf_counter()
        cand = scratch_graph(naming, project, "candidates")
        if removed:
            _derive_into(store, prof, removed, cand)
            vals = " ".join(f"<{g}>" for g in removed)
            store.update(f"INSERT {{ GRAPH <{cand}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?g {{ {vals} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            # 2. delete the candidates that lost every premise; 3. re-add removed triples still entailed
            sup = support(premises, pg, tg)
            store.update(
                f"DELETE {{ GRAPH <{inf}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{cand}> {{ ?s ?p ?o }} GRAPH <{inf}> {{ ?s ?p ?o }} FILTER NOT EXISTS {sup} }} ;\n"
                f"INSERT {{ GRAPH <{inf}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?g {{ {vals} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"{not_asserted('?s ?p ?o', graphs)} FILTER EXISTS {sup} }}"
            )
        st.seconds["retract"] = round(time.perf_counter() - t2, 3)
        # 4. what the added premises entail; 5. added asserted triples leave the inferred graph
        t3 = time.perf_counter()
        if added:
            derived = scratch_graph(naming, project, "derived")
            try:
                _derive_into(store, prof, added, derived)
                st.added = store.graph_size(derived)
                store.update(
                    f"INSERT {{ GRAPH <{inf}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?g {{ <{derived}> <{tag_add}> }} GRAPH ?g {{ ?s ?p ?o }} {not_asserted('?s ?p ?o', graphs)} }}"
                )
            finally:
                store.drop_graphs([derived])
            real = [g for g in added if g != tag_add]
            if real:
                vals = " ".join(f"<{g}>" for g in real)
                store.update(f"DELETE {{ GRAPH <{inf}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?g {{ {vals} }} GRAPH ?g {{ ?s ?p ?o }} GRAPH <{inf}> {{ ?s ?p ?o }} }}")
        st.seconds["derive"] = round(time.perf_counter() - t3, 3)
    finally:
        store.drop_graphs([cand, tag_add, tag_rem])
    st.seconds["total"] = round(time.perf_counter() - t0, 3)
    log.info("inference of project %s updated in %.3f s", project, st.seconds["total"])
    return st


__all__ = [
    "Change",
    "InferenceStats",
    "apply_change",
    "asserted_graphs",
    "discard",
    "ensure_profile",
    "infer_project",
    "profile_graph",
    "snapshot",
    "stage",
    "tags_graph",
]
