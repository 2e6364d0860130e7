"""The small storage contract every backend implements.

A backend holds quads in named graphs and answers SPARQL 1.1. The contract is
deliberately small so that any SPARQL 1.1 engine (through the protocol and the
graph store protocol) can implement it:

* :meth:`GraphStore.query`   - run a :class:`QueryRequest` (text, dataset, formats, row cap, deadline), get serialized results
* :meth:`GraphStore.select`  - convenience for internal code: rows of rdflib terms
* :meth:`GraphStore.update`  - run a SPARQL update (atomic)
* :meth:`GraphStore.load`    - parse RDF into one graph (atomic; ``replace`` swaps the graph)
* :meth:`GraphStore.construct_into` - add CONSTRUCT answers to a graph, evaluated inside the store
* :meth:`GraphStore.dump`    - stream graphs out in an RDF format
* :meth:`GraphStore.graphs`  - list named graphs; :meth:`GraphStore.graph_size`
* :meth:`GraphStore.transaction` - exclusive writer section (one writer at a time)
* :meth:`GraphStore.aquery`  - :meth:`~GraphStore.query` for the event loop
* :meth:`GraphStore.view`    - a read-only SPARQL view of a set of graphs (what SHACL validation reads)
* :meth:`GraphStore.parse_check` - parse RDF without storing it (counts, graph names, or a syntax error)
* :func:`scratch_store`      - an empty in-memory store for scratch work (conversions, staging)

Code outside :mod:`kg_twin.store` uses only this contract: it never imports a backend or
pyoxigraph's store, and never reads a backend's attributes (``tests/unit/test_store_contract.py``
checks the import rule).

Terms in this API are plain strings (IRIs) or rdflib terms; bulk data moves as
bytes / files in standard RDF syntaxes, never as Python objects.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.settings import Settings
    from kg_twin.store.functions import ExtensionFunctions
    from kg_twin.store.view import ShaclView

DEFAULT = "urn:x-kg-twin:default-graph"  # stands for the store's own default graph in graph lists


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a query sees.

    ``default_graphs``: graphs merged into the default graph (``None``: the store default graph).
    ``named_graphs``: graphs visible to ``GRAPH`` (``None``: every named graph of the store).
    Access control builds one of these for every request; internal code may pass ``None``.
    """

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class QueryRequest:
    """One query, as one value from the protocol router (or the CLI, a named query, internal code)
    to the engine, and across the pipe to a query worker process.

    ``text``: the SPARQL text as the engine runs it (for a project endpoint: after dataset
    confinement). ``dataset``: the graphs it may see, in stored names (``Dataset()``: the whole
    store). ``result_format`` (SELECT/ASK) and ``graph_format`` (CONSTRUCT/DESCRIBE): kg-twin format
    names. ``max_rows``: the row cap (``None``: no cap can apply, e.g. a top-level ``LIMIT`` below
    it; the engine then serializes the answer itself). ``timeout_s``: the deadline (``None``: run
    here, unbounded - internal callers only). ``bindings``: variables (names without '?') pre-bound
    to rdflib terms or N-Triples strings, substituted, never pasted into the text. ``project`` and
    ``mode`` (the project's default-graph mode) say where the query came from (logs, extension
    functions); the store never widens the dataset from them. ``count_rows=False``: the caller
    needs no :attr:`QueryResult.count`, so the engine may serialize the answer itself (in one
    call, not row by row) whenever it stays under the cap.

    >>> r = QueryRequest("ASK {}", timeout_s=5)
    >>> r.result_format, r.max_rows, r.dataset
    ('json', None, Dataset(default_graphs=None, named_graphs=None))
    """

    text: str
    dataset: Dataset = Dataset()
    result_format: str = "json"
    graph_format: str = "ntriples"
    max_rows: int | None = None
    timeout_s: float | None = None
    base_iri: str | None = None
    bindings: Mapping[str, Any] | None = None
    project: str | None = None
    mode: str | None = None
    count_rows: bool = True


@dataclass
class QueryResult:
    """A serialized query answer.

    ``kind``: ``bindings`` (SELECT), ``boolean`` (ASK) or ``graph`` (CONSTRUCT/DESCRIBE).
    ``truncated`` is true when the row cap cut the answer; ``count`` is None when the rows were
    not counted (``QueryRequest.count_rows=False``).
    """

    kind: Literal["bindings", "boolean", "graph"]
    body: bytes
    media_type: str
    format: str
    truncated: bool = False
    count: int | None = None
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Construct:
    """``CONSTRUCT { template } WHERE { where }``, with the template as triple patterns whose
    terms are variables (``?s``) or IRIs (``<http://...>``), so that a backend can run it as a
    ``SELECT`` and instantiate the template itself, or as an ``INSERT ... WHERE``.

    >>> c = Construct((("?s", "<http://p>", "?o"),), "GRAPH <http://g> { ?o <http://q> ?s }")
    >>> c.sparql()
    'CONSTRUCT { ?s <http://p> ?o } WHERE { GRAPH <http://g> { ?o <http://q> ?s } }'
    >>> c.insert("http://out")
    'INSERT { GRAPH <http://out> { ?s <http://p> ?o } } WHERE { GRAPH <http://g> { ?o <http://q> ?s } }'
    >>> c.variables()
    ['s', 'o']
    """

    template: tuple[tuple[str, str, str], ...]
    where: str

    def __post_init__(self) -> None:
        for t in self.template:
            for term in t:
                if not (term.startswith("?") and term[1:].isidentifier()) and not (term.startswith("<") and term.endswith(">") and ">" not in term[1:-1]):
                    raise ValueError(f"template term {term!r}: only ?variables and <IRIs> are allowed")

    def variables(self) -> list[str]:
        """Names of the template's variables, in order of first use."""
        return list(dict.fromkeys(term[1:] for t in self.template for term in t if term.startswith("?")))

    def _template(self) -> str:
        return " . ".join(" ".join(t) for t in self.template)

    def select(self) -> str:
        """The ``SELECT`` of the template's variables (a backend instantiates the template per row)."""
        return f"SELECT {' '.join('?' + v for v in self.variables()) or '*'} WHERE {{ {self.where} }}"

    def sparql(self) -> str:
        return f"CONSTRUCT {{ {self._template()} }} WHERE {{ {self.where} }}"

    def insert(self, graph: str) -> str:
        return f"INSERT {{ GRAPH <{graph}> {{ {self._template()} }} }} WHERE {{ {self.where} }}"


class PendingLoad:
    """Handle of a :meth:`GraphStore.pending_load` block (the backend gives the callbacks)."""

    def __init__(self, add: Callable[[bytes, str], None], commit: Callable[[str], None]) -> None:
        self.committed = False
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._add = add
        self._commit = commit

    def finish(self, error: BaseException | None = None) -> None:
        """Backend side: the load ended (with ``error`` if it failed)."""
        self.error = error
        self._done.set()

    def wait(self) -> None:
        """Wait for the load; raise its error."""
        self._done.wait()
        if self.error is not None:
            raise self.error

    def add(self, data: bytes, *, format: str = "ntriples") -> None:
        """Add more triples to the pending graph (after :meth:`wait`); kept or removed with it."""
        self.wait()
        if data:
            self._add(data, format)

    def commit(self, update: str = "") -> None:
        """Keep the graph, running ``update`` (e.g. its provenance) in the same transaction that
        marks it kept: a crash leaves either both or neither."""
        self.wait()
        self._commit(update)
        self.committed = True


@runtime_checkable
class GraphStore(Protocol):
    """Storage contract (see module doc)."""

    def query(self, request: "QueryRequest") -> QueryResult:
        """Run a SELECT/ASK/CONSTRUCT/DESCRIBE query (see :class:`QueryRequest`).

        ``request.timeout_s`` set: the query runs where it can be stopped, and
        :class:`kg_twin.errors.QueryTimeout` is raised when the deadline passes.
        Syntax errors raise :class:`kg_twin.errors.InputError` (code ``SPARQL_SYNTAX``).
        """
        ...

    async def aquery(self, request: "QueryRequest") -> QueryResult:
        """:meth:`query` for the event loop (never blocks it)."""
        ...

    def select(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Internal helper: SELECT rows as dicts of rdflib terms (unbound variables absent)."""
        ...

    def ask(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> bool: ...

    def construct(self, sparql: str, *, dataset: Dataset | None = None, format: str = "ntriples") -> bytes: ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update as one transaction (all or nothing). No access checks here."""
        ...

    def construct_into(self, graph: str, constructs: Iterable[Construct], *, bulk: bool = False, replace: bool = False) -> None:
        """Add the answers of ``constructs`` to ``graph``, evaluated next to the data: nothing is
        serialized or held whole (template instances a CONSTRUCT drops, e.g. a literal subject,
        are dropped). ``bulk=False``: one transaction (for small answers). ``bulk=True``: the
        backend's bulk path, for millions of triples; all-or-nothing only when ``graph`` is new
        (a crash leaves no graph). ``replace``: the graph holds exactly the answers afterwards
        (a backend may write only the difference)."""
        ...

    def load(
        self,
        source: bytes | str | Path | IO[bytes],
        *,
        format: str,
        graph: str | None,
        base_iri: str | None = None,
        replace: bool = False,
        bulk: bool | None = None,
    ) -> int:
        """Parse RDF into ``graph`` (``None``: quads keep their graph; triples go to the store default graph).

        Atomic: on a syntax error nothing is written (:class:`InputError` with line/column).
        ``replace``: the graph is swapped in one transaction. ``bulk``: stream large files
        through the bulk loader into a hidden staging graph first (``None``: decide by size).
        Returns the number of quads in the target graph afterwards (or loaded, for quad formats).
        """
        ...

    def dump(self, output: IO[bytes], *, format: str, graphs: Iterable[str] | None = None) -> None:
        """Serialize graphs to ``output``. Triple formats need exactly one graph."""
        ...

    def dump_bytes(self, *, format: str, graphs: Iterable[str] | None = None) -> bytes:
        """:meth:`dump` into bytes."""
        ...

    def parse_check(self, source: bytes | str | Path, *, format: str, base_iri: str | None = None) -> dict[str, Any]:
        """Parse without storing: ``{"quads": n, "graphs": [...]}`` or :class:`InputError` (``RDF_SYNTAX``)."""
        ...

    def view(self, graphs: Iterable[str], closure_graphs: Iterable[str] = ()) -> "ShaclView":
        """A read-only view for SHACL validation: the union of ``graphs`` is the data graph,
        ``closure_graphs`` add class hierarchies. Nothing is written to the store. The embedded
        store answers from its own data; a remote engine copies the graphs into a scratch store
        first (see docs/engines.md)."""
        ...

    def graphs(self) -> list[str]:
        """IRIs of the non-empty named graphs (a remote engine's own system graphs left out)."""
        ...

    def graph_size(self, graph: str) -> int: ...

    def has_graph(self, graph: str) -> bool: ...

    def drop_graphs(self, graphs: Iterable[str]) -> None:
        """Remove graphs atomically (missing graphs are ignored)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive writer section: other writers wait; readers keep reading."""
        ...

    def pending_load(self, source: str | Path, *, format: str, graph: str, base_iri: str | None = None) -> AbstractContextManager["PendingLoad"]:
        """Bulk-load a file into a *new* graph while the caller checks the same data elsewhere.

        The block is an exclusive writer section (like :meth:`transaction`); the load may run
        concurrently with it. The graph is kept only if the block calls
        :meth:`PendingLoad.commit` (whose SPARQL update runs in the same transaction) and ends
        without error; otherwise it is removed again, also after a crash (the next open removes
        it). ``PendingLoad.wait()`` waits for the load and
        raises its error (:class:`InputError` for bad syntax). Snapshot readers never see the
        graph before the block ends.
        """
        ...

    @property
    def generation(self) -> int:
        """Increases on every write; lets caches know when to refresh."""
        ...

    @property
    def workers_killed(self) -> int:
        """Query workers killed at their deadline so far (0 where queries run elsewhere)."""
        ...

    def start_workers(self) -> None:
        """Start what answers queries with a deadline now (the server calls it at startup)."""
        ...

    def backup(self, target: str | Path) -> None:
        """A consistent copy of the whole store under ``target`` (:class:`InputError` where the
        backend cannot: in memory, or an external engine, which has its own backup tools)."""
        ...

    def close(self) -> None: ...


def scratch_store(settings: "Settings | None" = None, *, functions: "ExtensionFunctions | None" = None) -> GraphStore:
    """An empty in-memory store for scratch work (format conversion, staging, query previews).

    >>> s = scratch_store()
    >>> s.load(b'<http://a> <http://p> <http://o> .', format="ntriples", graph="urn:x:g")
    1
    """
    from kg_twin.store.oxigraph import OxigraphStore

    return OxigraphStore(None, settings=settings, functions=functions)


def open_store(settings: "Settings", *, read_only: bool = False, functions: "ExtensionFunctions | None" = None) -> GraphStore:
    """Open the store the settings describe. ``functions``: the SPARQL extension functions its
    queries may call (IRI -> function, see :mod:`kg_twin.store.functions`); a remote engine
    evaluates its own.

    >>> from kg_twin.settings import Settings
    >>> s = open_store(Settings(store="memory"))
    >>> s.graphs()
    []
    """
    if settings.store == "memory":
        return scratch_store(settings, functions=functions)
    if settings.store == "oxigraph":
        from kg_twin.store.oxigraph import OxigraphStore

        return OxigraphStore(settings.store_path, settings=settings, read_only=read_only, functions=functions)
    if settings.store.startswith(("http://", "https://")):
        from kg_twin.store.remote import RemoteStore

        return RemoteStore(settings.store, settings=settings)
    from kg_twin.errors import InputError

    raise InputError("BAD_SETTING", f"unknown store backend {settings.store!r}", hint="use 'oxigraph', 'memory' or a SPARQL endpoint URL")
