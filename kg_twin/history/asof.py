"""As-of queries: a project's dataset as it was at a version, read-only.

Only the graphs changed since that version differ from the present ones. Each of them is
materialised once, inside the store, as a hidden graph ``{p}/_asof/{v}/{G}``: a copy of ``G``
with the versions after ``v`` undone, newest first (one SPARQL update: ``COPY`` then ``DELETE
DATA`` / ``INSERT DATA`` per version). A graph's state at a past version never changes, so a view
stays valid for as long as its version is kept; views of at most :data:`KEEP_VIEWS` versions per
project are kept. The query then runs on the present store with those graphs swapped in
(:class:`ViewDataset`: clients still see the graph names they know), so its cost is the present
query's once the views exist.

The inferred graph is not versioned and is left out of as-of answers, and so are the live twin's
``state`` and ``events`` graphs (their history is the time series, see docs/history.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg_twin.history.log import History
from kg_twin.history.names import HistoryNames
from kg_twin.history.patch import Patch, split_quad
from kg_twin.sparql.dataset import ProjectDataset
from kg_twin.store import Dataset
from kg_twin.terms import KGT

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.core import Core

KEEP_VIEWS = 8  # versions per project whose materialised graphs are kept


@dataclass(frozen=True)
class ViewDataset(ProjectDataset):
    """A project's dataset with some stored graphs replaced by others (as-of views, scenario copies):
    queries name the graphs as usual, the engine reads the replacements.

    >>> d = ViewDataset("http://t/graph/p/", "union", (("http://t/graph/p/a", "http://t/graph/p/_asof/1/a"),))
    >>> d.read_name("http://t/graph/p/a"), d.client("http://t/graph/p/_asof/1/a")
    ('http://t/graph/p/_asof/1/a', 'http://t/graph/p/a')
    """

    views: tuple[tuple[str, str], ...] = ()

    @property
    def fwd(self) -> dict[str, str]:
        return dict(self.views)

    @property
    def default_graph(self) -> str:
        g = self.prefix + "default"
        return self.fwd.get(g, g)

    def read_name(self, client: str) -> str:
        s = super().read_name(client)
        return self.fwd.get(s, s)

    def client(self, stored: str) -> str:
        back = {v: k for k, v in self.views}
        return super().client(back.get(stored, stored))


@dataclass
class View:
    """What a query needs to run on a past (or imagined) dataset."""

    seq: int
    project: ViewDataset
    dataset: Dataset
    readable: set[str] = field(default_factory=set)

    def rewrite(self, text: str) -> str:
        """A query's text for this dataset (client graph names -> the stored ones read)."""
        return self.project.rewrite_query(text, list(self.dataset.named_graphs or ()), merged=len(self.dataset.default_graphs or ()))

    def owns(self, graph: str) -> bool:
        return graph in self.readable or (graph.startswith(self.project.prefix) and not self.project.reserved(graph))


class AsOf:
    def __init__(self, core: "Core", history: History) -> None:
        self.core = core
        self.history = history
        self.names = HistoryNames(core.naming)

    def view(self, project: str, spec: str, *, inferred: bool = False) -> View:
        """The project's dataset at ``spec`` (a version number or an ISO time)."""
        seq = self.history.resolve(project, spec)
        with self.core.store.transaction():
            swaps = self.materialise(project, seq)
            return self.view_of(project, seq, swaps)

    def view_of(self, project: str, seq: int, swaps: dict[str, str]) -> View:
        """The dataset made of the project's present versioned graphs, with ``swaps`` (stored name ->
        replacement) applied; replacements that hold nothing leave their graph out."""
        ds = self.core.dataset_of(project)
        present = [g for g in self.core.project_graphs(project, include_inferred=False) if self.names.versioned(g)]
        graphs = sorted(set(present) | set(swaps))
        stored = [swaps.get(g, g) for g in graphs]
        existing = set(self.core.store.graphs())
        visible = [g for g in stored if g in existing or g == swaps.get(ds.default_graph, ds.default_graph)]
        vds = ViewDataset(ds.prefix, ds.mode, tuple(sorted(swaps.items())))
        named = vds.named_graphs(visible)
        default = [vds.default_graph] if ds.mode == "default" else visible + ([vds.default_graph] if vds.default_graph not in visible else [])
        return View(seq, vds, Dataset(tuple(default), tuple(named)), set(stored))

    def materialise(self, project: str, seq: int) -> dict[str, str]:
        """Views of the graphs changed since ``seq`` (built if missing): stored name -> view name."""
        later = self.history.patches(project, seq)
        changed = sorted({g for _, p in later for g in p.graphs()})
        swaps = {g: self.names.view(project, seq, g) for g in changed}
        lg = self.names.log(project)
        built = {str(r["g"]) for r in self.core.store.select(f"SELECT ?g WHERE {{ GRAPH <{lg}> {{ ?view <{KGT}viewOf> ?g ; <{KGT}asOf> {seq} }} }}")}
        todo = [g for g in changed if g not in built]
        if todo:
            ops: list[str] = []
            for g in todo:
                view = swaps[g]
                ops.append(f"DROP SILENT GRAPH <{view}>")
                ops.append(f"ADD SILENT GRAPH <{g}> TO GRAPH <{view}>")
                for _, p in reversed(later):
                    ops += undo_ops(p, g, view)
                ops.append(f"INSERT DATA {{ GRAPH <{lg}> {{ <{view}> <{KGT}viewOf> <{g}> ; <{KGT}asOf> {seq} }} }}")
            self.history.recorder.inner.update(" ;\n".join(ops))
            self._evict(project, keep=seq)
        return swaps

    def _evict(self, project: str, keep: int) -> None:
        lg = self.names.log(project)
        rows = self.core.store.select(f"SELECT DISTINCT ?n WHERE {{ GRAPH <{lg}> {{ ?view <{KGT}asOf> ?n }} }} ORDER BY DESC(?n)")
        seqs = [int(r["n"].toPython()) for r in rows]
        if len(seqs) <= KEEP_VIEWS:
            return
        drop = [s for s in seqs if s != keep][KEEP_VIEWS - 1 :]
        graphs = [g for g in self.core.store.graphs() if g.startswith(self.names.view_prefix(project)) and int(g[len(self.names.view_prefix(project)) :].split("/", 1)[0]) in drop]
        vals = " ".join(str(s) for s in drop)
        ops = [f"DELETE {{ GRAPH <{lg}> {{ ?view ?p ?o }} }} WHERE {{ GRAPH <{lg}> {{ ?view <{KGT}asOf> ?n ; ?p ?o VALUES ?n {{ {vals} }} }} }}"]
        ops += [f"DROP SILENT GRAPH <{g}>" for g in graphs]
        self.history.recorder.inner.update(" ;\n".join(ops))


def undo_ops(p: Patch, graph: str, target: str) -> list[str]:
    """SPARQL operations undoing ``p``'s changes to ``graph`` in ``target``."""
    added = [split_quad(q)[0] for q in p.added if split_quad(q)[1] == graph]
    removed = [split_quad(q)[0] for q in p.removed if split_quad(q)[1] == graph]
    ops = []
    if added:
        ops.append(f"DELETE DATA {{ GRAPH <{target}> {{ {' . '.join(added)} }} }}")
    if removed:
        ops.append(f"INSERT DATA {{ GRAPH <{target}> {{ {' . '.join(removed)} }} }}")
    return ops
