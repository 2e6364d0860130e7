"""The core of a deployment: projects (DCAT records in the system graph), change notification,
and the project-graph functions every feature uses (:class:`Core`).

It imports no feature package; the composition root (:mod:`kg_twin.service`) builds it.

>>> import tempfile
>>> from kg_twin.service import create_twin
>>> from kg_twin.settings import Settings
>>> t = create_twin(Settings(store="memory", data_dir=tempfile.mkdtemp()))
>>> t.projects.create("campus", title="Campus").id
'campus'
>>> t.project_graphs("campus")
['http://localhost:8000/graph/campus/default']
>>> t.close()
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Protocol

from kg_twin.access import Access, TokenStore
from kg_twin.errors import Conflict, InputError, NotFound
from kg_twin.rdf import IRI, Literal, NTriplesWriter
from kg_twin.settings import Settings
from kg_twin.sparql.dataset import MODES, ProjectDataset
from kg_twin.store import Dataset, GraphStore
from kg_twin.store.convert import rename_graphs
from kg_twin.terms import DCAT, DCTERMS, KGT, RDF, XSD, Naming, check_project_id

log = logging.getLogger(__name__)


class Inference(Protocol):
    """What a write needs of the inference refresher (:class:`kg_twin.reasoning.refresh.InferenceRefresher`).

    A change is an opaque value: made by :meth:`before_replace` / :meth:`staged` before a write,
    handed to :meth:`ChangeFeed.notify` after it (or to :meth:`discard` when the write failed).
    """

    last: dict[str, Any]

    def before_replace(self, project: str, graphs: Iterable[str]) -> Any: ...

    def staged(self, project: str, source: Any, *, format: str, base_iri: str | None = None) -> Any: ...

    def discard(self, change: Any) -> None: ...

    def schedule(self, project: str, change: Any = None) -> None: ...

    def state(self, project: str) -> str: ...


class ChangeFeed:
    """Who hears that a project's data changed: the inference refresher (told what changed) and
    listeners told the project id (caches, the live twin).

    >>> seen = []
    >>> feed = ChangeFeed()
    >>> feed.on_change(seen.append)
    >>> feed.notify("campus"); seen
    ['campus']
    >>> feed.inference_state("campus")
    'off'
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[str], None]] = []
        self.inference: Inference | None = None

    def on_change(self, fn: Callable[[str], None]) -> None:
        self._listeners.append(fn)

    def remove(self, fn: Callable[[str], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def attach_inference(self, refresher: Inference | None) -> None:
        """Keep inferred graphs current: ``notify`` hands every change to ``refresher`` (None: detach)."""
        self.inference = refresher

    def before_replace(self, project: str, graphs: Iterable[str]) -> Any:
        """Call before replacing or dropping graphs; pass the result to :meth:`notify`."""
        return self.inference.before_replace(project, graphs) if self.inference is not None else None

    def staged_change(self, project: str, source: Any, *, format: str, base_iri: str | None = None) -> Any:
        """Call with data appended to a graph; pass the result to :meth:`notify`."""
        return self.inference.staged(project, source, format=format, base_iri=base_iri) if self.inference is not None else None

    def discard_change(self, change: Any) -> None:
        """A write described by ``change`` failed: drop its scratch copies."""
        if self.inference is not None and change is not None:
            self.inference.discard(change)

    def notify(self, project: str, change: Any = None) -> None:
        """After a write: inference gets ``change`` (``None``: unknown, recompute the project)."""
        if self.inference is not None:
            try:
                self.inference.schedule(project, change)
            except Exception:  # a listener must never break a write that already succeeded
                log.exception("inference refresh failed for project %s", project)
        for fn in list(self._listeners):
            try:
                fn(project)
            except Exception:  # a listener must never break a write that already succeeded
                log.exception("change listener %r failed for project %s", fn, project)

    def inference_state(self, project: str) -> str:
        """``off`` (no refresher in this process), ``pending``, ``current`` or ``failed``."""
        return self.inference.state(project) if self.inference is not None else "off"


@dataclass
class ProjectInfo:
    id: str
    title: str = ""
    description: str = ""
    owner: str = ""
    licence: str = ""
    created: str = ""
    public: bool = False
    iri: str = ""
    default_graph: str = "union"  # "union" (default graph = set union of the graphs) or "default" (the unnamed graph)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError("BAD_DEFAULT_GRAPH", f"unknown default-graph mode {mode!r}", hint="use 'union' (the union of the project's graphs) or 'default' (the unnamed graph, as in the SPARQL standard)")
    return mode


class ProjectRegistry:
    """Projects recorded as DCAT datasets in the system graph (``{base}graph/_system``)."""

    def __init__(self, store: GraphStore, naming: Naming, *, changes: "ChangeFeed", tokens: TokenStore) -> None:
        self.store = store
        self.naming = naming
        self.changes = changes
        self.tokens = tokens
        self._cache: dict[str, ProjectInfo] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, ProjectInfo]:
        if self._cache is not None:
            return self._cache
        n = self.naming
        rows = self.store.select(
            f"""SELECT ?p ?id ?title ?desc ?owner ?lic ?created ?public ?mode WHERE {{
                ?p a <{KGT}Project> ; <{DCTERMS}identifier> ?id .
                OPTIONAL {{ ?p <{DCTERMS}title> ?title }} OPTIONAL {{ ?p <{DCTERMS}description> ?desc }}
                OPTIONAL {{ ?p <{KGT}owner> ?owner }} OPTIONAL {{ ?p <{DCTERMS}license> ?lic }}
                OPTIONAL {{ ?p <{DCTERMS}created> ?created }} OPTIONAL {{ ?p <{KGT}publicRead> ?public }}
                OPTIONAL {{ ?p <{KGT}defaultGraph> ?mode }}
            }}""",
            dataset=Dataset((n.system_graph,), ()),
        )
        cache = {}
        for r in rows:
            pid = str(r["id"])
            cache[pid] = ProjectInfo(
                id=pid,
                title=str(r.get("title", "")),
                description=str(r.get("desc", "")),
                owner=str(r.get("owner", "")),
                licence=str(r.get("lic", "")),
                created=str(r.get("created", "")),
                public=str(r.get("public", "false")) == "true",
                iri=str(r["p"]),
                default_graph=str(r.get("mode", "union")),
            )
        self._cache = cache
        return cache

    def invalidate(self) -> None:
        self._cache = None

    def ids(self) -> list[str]:
        return sorted(self._load())

    def exists(self, project: str) -> bool:
        return project in self._load()

    def is_public(self, project: str) -> bool:
        p = self._load().get(project)
        return bool(p and p.public)

    def get(self, project: str) -> ProjectInfo:
        p = self._load().get(project)
        if p is None:
            raise NotFound("PROJECT_NOT_FOUND", f"no project {project!r}", hint="create it with `kg-twin project create` or POST /projects")
        return p

    def list(self) -> list[ProjectInfo]:
        return [self._load()[k] for k in sorted(self._load())]

    def _triples(self, info: ProjectInfo) -> bytes:
        w = NTriplesWriter()
        s = IRI(info.iri)
        w.add(s, IRI(RDF + "type"), IRI(KGT + "Project"))
        w.add(s, IRI(RDF + "type"), IRI(DCAT + "Dataset"))
        w.add(s, IRI(DCTERMS + "identifier"), Literal(info.id))
        if info.title:
            w.add(s, IRI(DCTERMS + "title"), Literal(info.title))
        if info.description:
            w.add(s, IRI(DCTERMS + "description"), Literal(info.description))
        if info.owner:
            w.add(s, IRI(KGT + "owner"), Literal(info.owner))
        if info.licence:
            if info.licence.startswith(("http://", "https://")):
                w.add(s, IRI(DCTERMS + "license"), IRI(info.licence))
            else:
                w.add(s, IRI(DCTERMS + "license"), Literal(info.licence))
        w.add(s, IRI(DCTERMS + "created"), Literal(info.created, XSD + "dateTime"))
        w.add(s, IRI(KGT + "publicRead"), Literal("true" if info.public else "false", XSD + "boolean"))
        w.add(s, IRI(KGT + "defaultGraph"), Literal(info.default_graph))
        return w.getvalue()

    def _write(self, info: ProjectInfo, *, replace_existing: bool) -> None:
        st = self.store
        sg = self.naming.system_graph
        body = self._triples(info).decode("utf-8")
        delete = f"DELETE WHERE {{ GRAPH <{sg}> {{ <{info.iri}> ?p ?o }} }} ;\n" if replace_existing else ""
        st.update(f"{delete}INSERT DATA {{ GRAPH <{sg}> {{ {body} }} }}")
        self.invalidate()

    def create(
        self, project: str, *, title: str = "", description: str = "", owner: str = "", licence: str = "", public: bool = False, default_graph: str = "union"
    ) -> ProjectInfo:
        check_project_id(project)
        check_mode(default_graph)
        with self._lock, self.store.transaction():
            if self.exists(project):
                raise Conflict("PROJECT_EXISTS", f"project {project!r} already exists", hint="pick another id or delete the project first")
            info = ProjectInfo(
                id=project,
                title=title or project,
                description=description,
                owner=owner,
                licence=licence,
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                public=public,
                iri=self.naming.project_iri(project),
                default_graph=default_graph,
            )
            self._write(info, replace_existing=False)
        return info

    def update(self, project: str, **changes: Any) -> ProjectInfo:
        with self._lock, self.store.transaction():
            info = self.get(project)
            if changes.get("default_graph") is not None:
                check_mode(changes["default_graph"])
            for k, v in changes.items():
                if v is not None and k in ("title", "description", "owner", "licence", "public", "default_graph"):
                    setattr(info, k, v)
            self._write(info, replace_existing=True)
        return info

    def delete(self, project: str) -> int:
        """Remove a project: its graphs and its catalogue record; nothing else. Returns graphs removed."""
        with self._lock, self.store.transaction():
            info = self.get(project)
            prefix = self.naming.project_graph_prefix(project)
            graphs = [g for g in self.store.graphs() if g.startswith(prefix)]
            sg = self.naming.system_graph
            ops = [f"DROP SILENT GRAPH <{g}>" for g in graphs]
            ops.append(f"DELETE WHERE {{ GRAPH <{sg}> {{ <{info.iri}> ?p ?o }} }}")
            self.store.update(" ;\n".join(ops))
            self.invalidate()
        self.tokens.revoke_project(project)
        self.changes.notify(project)
        return len(graphs)


class Core:
    """What every feature may use: settings, naming, the store, projects, access, change notification,
    and the project-graph functions. Built by :func:`kg_twin.service.create_twin`; features take a
    ``Core`` (or the part of it they use), never the composition root."""

    def __init__(self, settings: Settings, naming: Naming, store: GraphStore, changes: ChangeFeed, projects: ProjectRegistry, access: Access) -> None:
        self.settings = settings
        self.naming = naming
        self.store = store
        self.changes = changes
        self.projects = projects
        self.access = access
        self._graph_cache: tuple[int, list[str]] | None = None
        self._dataset_cache: dict[tuple[int, str, bool, str], Dataset] = {}

    # change notification (inference refresh, caches, live subscribers) ------
    @property
    def inference(self) -> Inference | None:
        return self.changes.inference

    def on_change(self, fn: Callable[[str], None]) -> None:
        self.changes.on_change(fn)

    def attach_inference(self, refresher: Inference | None) -> None:
        self.changes.attach_inference(refresher)

    def before_replace(self, project: str, graphs: Iterable[str]) -> Any:
        return self.changes.before_replace(project, graphs)

    def staged_change(self, project: str, source: Any, *, format: str, base_iri: str | None = None) -> Any:
        return self.changes.staged_change(project, source, format=format, base_iri=base_iri)

    def discard_change(self, change: Any) -> None:
        self.changes.discard_change(change)

    def notify(self, project: str, change: Any = None) -> None:
        self.changes.notify(project, change)

    def inference_state(self, project: str) -> str:
        return self.changes.inference_state(project)

    # graphs --------------------------------------------------------------
    def all_graphs(self) -> list[str]:
        gen = self.store.generation
        if self._graph_cache is None or self._graph_cache[0] != gen:
            self._graph_cache = (gen, self.store.graphs())
        return self._graph_cache[1]

    def project_graphs(self, project: str, *, include_inferred: bool = True, include_default: bool = True) -> list[str]:
        """Visible data graphs of a project (hidden staging/quarantine graphs excluded)."""
        n = self.naming
        prefix = n.project_graph_prefix(project)
        inferred = n.inferred_graph(project)
        out = [g for g in self.all_graphs() if g.startswith(prefix) and not n.is_hidden(g) and (include_inferred or g != inferred)]
        d = n.default_graph(project)
        if include_default and d not in out:
            out.append(d)
        return sorted(out)

    def dataset_of(self, project: str) -> ProjectDataset:
        """Graph naming and default-graph rules of a project (see :mod:`kg_twin.sparql.dataset`)."""
        mode = self.projects.get(project).default_graph
        return ProjectDataset(self.naming.project_graph_prefix(project), "default" if mode == "default" else "union")

    def query_dataset(self, project: str, *, include_inferred: bool = True) -> Dataset:
        """The dataset a query on the project endpoint sees, in stored names: its default graph
        merges the project's non-empty graphs that belong to it (cached per store generation and
        project mode: any write or mode change is a new key)."""
        ds = self.dataset_of(project)
        key = (self.store.generation, project, include_inferred, ds.mode)
        hit = self._dataset_cache.get(key)
        if hit is None:
            graphs = self.project_graphs(project, include_inferred=False)
            # empty graphs add nothing to the default graph, and one graph is a set by itself:
            # merging only the non-empty ones spares the engine a union and its DISTINCT
            present = set(self.all_graphs())
            default = tuple(g for g in ds.default_graphs(graphs, inferred=include_inferred) if g in present)
            hit = Dataset(default, tuple(ds.named_graphs(graphs)))
            if len(self._dataset_cache) >= 1024 or any(k[0] != key[0] for k in self._dataset_cache):
                self._dataset_cache.clear()
            self._dataset_cache[key] = hit
        return hit

    def owns_graph(self, project: str, graph: str) -> bool:
        n = self.naming
        return graph.startswith(n.project_graph_prefix(project)) and n.project_of_graph(graph) == project and not n.is_hidden(graph)

    def dataset_for(self, projects: list[str], *, include_inferred: bool = True) -> Dataset:
        graphs: list[str] = []
        for p in projects:
            graphs.extend(self.project_graphs(p, include_inferred=include_inferred))
        present = set(self.all_graphs())  # an empty graph adds nothing to the default graph
        return Dataset(tuple(g for g in graphs if g in present), tuple(graphs))

    def export(self, project: str, output: IO[bytes], *, format: str = "nquads") -> int:
        """Write the project's asserted graphs as a dataset (N-Quads or TriG), each graph under the
        name its clients use and the unnamed default graph as the default graph, so that
        ``kg-twin load`` of the file gives the same project back. Returns the quads written."""
        default = self.naming.default_graph(project)
        graphs = self.project_graphs(project, include_inferred=False)
        tmpdir = Path(self.settings.data_dir) / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=tmpdir) as raw:
            self.store.dump(raw, format="nquads", graphs=graphs)
            raw.seek(0)
            data = raw.read()
        return rename_graphs(data, format="nquads", to_format=format, output=output, rename=lambda g: None if g in (None, default) else self.naming.client_graph(project, g))

    def close(self) -> None:
        self.store.close()
