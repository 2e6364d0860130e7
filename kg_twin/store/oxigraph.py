"""Default backend: pyoxigraph, on disk (or in memory for tests).

One process owns the on-disk store read-write (RocksDB allows one owner). Writes
are serialized by a writer lock and bump :attr:`generation`. Queries with a
deadline run in killable worker processes (:mod:`kg_twin.store.workers`) on
read-only checkpoints (``{data_dir}/snapshots/<generation>``), made lazily at the
first query after a write (~15 ms, hard links).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import pyoxigraph as ox

from kg_twin.errors import InputError, StoreBusy
from kg_twin.formats import rdf_format_from_name
from kg_twin.store import pending
from kg_twin.store.base import DEFAULT, Construct, Dataset, PendingLoad, QueryRequest, QueryResult, check_generation
from kg_twin.store.bulk import add_files, bulk_into, rdf_syntax_error, spool_instances, write_difference
from kg_twin.store.convert import parse_check
from kg_twin.store.execute import OX_RDF, engine_error, graph_term, portable, run_query, sol_to_rdflib, syntax_error
from kg_twin.store.functions import ExtensionFunctions, engine_kwargs, oxigraph_functions, query_context
from kg_twin.store.jobs import JobPool, make_copy, rehearse_update, remove_copy
from kg_twin.store.pending import STAGING_PREFIX, Redo
from kg_twin.store.threads import in_thread
from kg_twin.store.view import ShaclView
from kg_twin.store.workers import QueryPool, Snapshots


# files larger than this use the bulk loader (kg_twin.store.bulk); a transactional load holds
# ~40x its input in memory (a 20 MB N-Triples file: ~800 MB), the bulk path a constant ~30 MB
BULK_THRESHOLD = 8 * 1024 * 1024


class OxigraphStore:
    """:class:`kg_twin.store.base.GraphStore` on pyoxigraph.

    >>> s = OxigraphStore(None)
    >>> s.load(b'<http://a> <http://p> "1" .', format="ntriples", graph="http://g")
    1
    >>> s.graphs(), s.graph_size("http://g")
    (['http://g'], 1)
    >>> s.select("SELECT ?o { GRAPH ?g { ?s ?p ?o } }")[0]["o"].toPython()
    '1'
    """

    def __init__(self, path: str | Path | None, *, settings: Any = None, read_only: bool = False, functions: ExtensionFunctions | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.function_table: dict[str, Any] = dict(functions or {})
        self.settings = settings
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._generation = 0
        self._snaps: Snapshots | None = None
        self._pool: QueryPool | None = None
        workers = settings.query_workers if settings is not None else 2
        self._jobs: JobPool | None = JobPool(workers, functions=self.function_table) if path is not None else None  # started on first use
        self._functions: dict[Any, Any] | None = None
        if self.path is None:
            self._store = ox.Store()
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._store = ox.Store.read_only(str(self.path)) if read_only else ox.Store(str(self.path))
            except OSError as e:
                if "lock" in str(e).lower():
                    raise StoreBusy(
                        "STORE_LOCKED",
                        f"the store at {self.path} is opened read-write by another process (probably `kg-twin serve`)",
                        hint="stop the server first, or use the server's REST API for this operation",
                    ) from None
                raise
            if not read_only:
                self._recover()
                shutil.rmtree(self.path.parent / "jobs", ignore_errors=True)  # copies a killed server left behind

    # ------------------------------------------------------------------ basics
    @property
    def generation(self) -> int:
        return self._generation

    def _bump(self) -> None:
        self._generation += 1

    @property
    def _jobs_dir(self) -> Path | None:
        return None if self.path is None else self.path.parent / "jobs"

    @property
    def snapshots_dir(self) -> Path | None:
        if self.path is None:
            return None
        return self.path.parent / "snapshots"

    def _funcs(self) -> dict[Any, Any]:
        if self._functions is None:
            self._functions = oxigraph_functions(self.function_table)
        return self._functions

    # ------------------------------------------------------------------ queries
    def query(self, request: QueryRequest) -> QueryResult:
        if self._uses_workers(request.timeout_s):
            return self._ensure_pool().run(portable(request), self._context(request.dataset), request.timeout_s)
        deadline = time.monotonic() + request.timeout_s if request.timeout_s else None
        with query_context(**self._context(request.dataset)):
            return run_query(self._store, request, deadline=deadline, custom_functions=self._funcs() or None)

    async def aquery(self, request: QueryRequest) -> QueryResult:
        """:meth:`query` for the event loop: waits on the worker pipe instead of a thread."""
        if self._uses_workers(request.timeout_s):
            return await self._ensure_pool().arun(portable(request), self._context(request.dataset), request.timeout_s)
        return await in_thread(self.query, request)

    def _uses_workers(self, timeout_s: float | None) -> bool:
        """Queries with a deadline on the on-disk store run in killable worker processes."""
        return timeout_s is not None and self.path is not None and not self.read_only

    def _context(self, ds: Dataset) -> dict[str, Any]:
        """What SPARQL extension functions may know about a query (see kg_twin.store.functions)."""
        graphs = None if ds.default_graphs is None and ds.named_graphs is None else sorted(set(ds.default_graphs or ()) | set(ds.named_graphs or ()))
        data_dir = str(self.settings.data_dir) if self.settings is not None else None
        timeseries = self.settings.timeseries if self.settings is not None else "sqlite"
        return {"data_dir": data_dir, "graphs": graphs, "timeseries": timeseries}

    def _raw(self, sparql: str, dataset: Dataset | None, bindings: dict[str, Any] | None) -> Any:
        from kg_twin.store.execute import dataset_kwargs, query_with_bindings

        ds = dataset or Dataset()
        kw = dataset_kwargs(ds.default_graphs, ds.named_graphs)
        kw.update(engine_kwargs(self._funcs()))
        try:
            return query_with_bindings(self._store, sparql, bindings, **kw)
        except SyntaxError as e:
            raise syntax_error(e, sparql) from None

    def select(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        res = self._raw(sparql, dataset, bindings)
        if not isinstance(res, ox.QuerySolutions):
            raise InputError("NOT_SELECT", "select() needs a SELECT query")
        names = [v.value for v in res.variables]
        out = []
        for sol in res:
            row = {}
            for i, n in enumerate(names):
                t = sol[i]
                if t is not None:
                    row[n] = sol_to_rdflib(t)
            out.append(row)
        return out

    def ask(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> bool:
        res = self._raw(sparql, dataset, bindings)
        if not isinstance(res, ox.QueryBoolean):
            raise InputError("NOT_ASK", "ask() needs an ASK query")
        return bool(res)

    def construct(self, sparql: str, *, dataset: Dataset | None = None, format: str = "ntriples") -> bytes:
        res = self._raw(sparql, dataset, None)
        if not isinstance(res, ox.QueryTriples):
            raise InputError("NOT_CONSTRUCT", "construct() needs a CONSTRUCT or DESCRIBE query")
        return ox.serialize(res, format=OX_RDF[rdf_format_from_name(format).name]) or b""

    # ------------------------------------------------------------------ writes
    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreBusy("STORE_READ_ONLY", "the store is open read-only", hint="stop the server to write from the CLI, or use the REST API")

    def update(self, sparql: str, *, base_iri: str | None = None, timeout_s: float | None = None, if_generation: int | None = None) -> None:
        """See :meth:`GraphStore.update`. With ``timeout_s`` the text is first rehearsed in a killable
        worker on a copy of the store (:mod:`kg_twin.store.jobs`): with ``if_generation`` without
        holding the writer lock (the copy is the state to write on if no write comes in between),
        else under it."""
        self._check_writable()
        rehearse = timeout_s is not None and self.path is not None
        if rehearse and if_generation is not None:
            self.run_job(rehearse_update, sparql, base_iri, kind="update", timeout_s=timeout_s, copy="write")
        with self._write_lock:
            check_generation(self._generation, if_generation)
            if rehearse and if_generation is None:
                self.run_job(rehearse_update, sparql, base_iri, kind="update", timeout_s=timeout_s, copy="write")
            try:
                self._store.update(sparql, base_iri=base_iri, **engine_kwargs(self._funcs()))
            except SyntaxError as e:
                raise syntax_error(e, sparql, "update") from None
            except (OSError, RuntimeError) as e:  # a missing graph, an unknown function, a failed SERVICE call
                raise engine_error(e, "update") from None
            finally:
                self._bump()

    def construct_into(self, graph: str, constructs: Iterable[Construct], *, bulk: bool = False, replace: bool = False) -> None:
        """See :meth:`GraphStore.construct_into`. ``bulk``: each construct runs as a ``SELECT`` whose
        answer pyoxigraph writes as TSV; its template instances are written as text to temporary
        N-Triples files next to the store (:func:`~kg_twin.store.bulk.spool_instances`; pyoxigraph
        keeps a whole CONSTRUCT answer in memory to deduplicate it), which the bulk loader reads
        once no query is open; a new graph is marked meanwhile (:mod:`kg_twin.store.pending`).
        ``replace`` on an existing graph writes only the difference
        (:func:`~kg_twin.store.bulk.write_difference`: dropping 857k quads cost 49 s of CPU,
        writing them 13 s)."""
        self._check_writable()
        items = list(constructs)
        if not bulk or not items:
            ops = ([f"DROP SILENT GRAPH <{graph}>"] if replace else []) + [c.insert(graph) for c in items]
            if ops:
                self.update(" ;\n".join(ops))
            return
        target = graph_term(graph)
        with self._write_lock, tempfile.TemporaryDirectory(prefix="kg-twin-construct-", dir=self.path.parent if self.path else None) as tmp:
            files = spool_instances(items, lambda q: self._raw(q, None, None), Path(tmp))
            try:
                if replace and self.has_graph(graph):
                    write_difference(self._store, target, files, Path(tmp))
                else:
                    add_files(self._store, target, files, new=isinstance(target, ox.NamedNode) and not self.has_graph(graph))
            finally:
                self._bump()

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
        """See :meth:`GraphStore.load`. Every bulk write is marked first, so that a crash in the
        middle is settled when the store opens again (:mod:`kg_twin.store.pending`)."""
        self._check_writable()
        fmt = rdf_format_from_name(format)
        oxfmt = OX_RDF[fmt.name]
        name = str(source) if isinstance(source, (str, Path)) and not isinstance(source, bytes) else None
        if isinstance(source, str) and not os.path.exists(source):
            source = source.encode("utf-8")  # RDF text, not a path
            name = None
        size = (
            len(source) if isinstance(source, bytes) else os.path.getsize(source) if isinstance(source, (str, Path)) else BULK_THRESHOLD + 1
        )
        if bulk is None:
            bulk = size > BULK_THRESHOLD
        kwargs: dict[str, Any] = {"format": oxfmt, "base_iri": base_iri}
        if isinstance(source, (str, Path)):
            kwargs["path"] = str(source)
        else:
            kwargs["input"] = source

        with self._write_lock:
            try:
                if graph is None:
                    # quads keep their graphs; triples go to the store default graph
                    if bulk:
                        self._bulk_dataset(kwargs, fmt.name)
                    else:
                        self._store.load(**kwargs)
                    return -1
                if fmt.quads:
                    raise InputError(
                        "DATASET_INTO_GRAPH",
                        f"{fmt.name} data carries its own graph names and cannot be loaded into one graph",
                        hint="load it without a target graph, or convert it to Turtle / N-Triples",
                        status=415,
                    )
                target = graph_term(graph)
                exists = self.has_graph(graph)
                if not bulk and not (replace and exists):
                    # small additive load, or into an empty graph: one transaction, nothing written on
                    # error or crash (no staging + MOVE: MOVE of 200k quads costs seconds and ~600 MB)
                    self._store.load(to_graph=target, **kwargs)
                elif isinstance(target, ox.NamedNode) and not exists:
                    # a new graph: marked, bulk-loaded, published (removed on error, or at the next open)
                    self._bulk_marked(target, kwargs)
                elif replace and "path" in kwargs and isinstance(target, ox.NamedNode):
                    # replace a graph from a file: drop + bulk load, redone from the file after a crash
                    self._replace_from(target, Redo(Path(kwargs["path"]), fmt.name, base_iri))
                else:
                    # extend a graph (or replace it from bytes): a marked hidden staging graph, then one ADD / MOVE
                    self._via_staging(target, kwargs, bulk=bulk, replace=replace)
                return self.graph_size(graph)
            except SyntaxError as e:
                raise rdf_syntax_error(e, fmt.name, name) from None
            except OSError as e:
                raise InputError("RDF_LOAD_FAILED", f"could not load {name or 'data'}: {e}", hint="check the file path and format") from None
            finally:
                self._bump()

    def _bulk_marked(self, graph: ox.NamedNode, kwargs: dict[str, Any]) -> None:
        """Bulk-load a new graph: marked before, published (unmarked) after; removed on error."""
        pending.mark(self._store, graph)
        try:
            bulk_into(self._store, graph, kwargs)
        except BaseException:
            pending.discard(self._store, graph)
            raise
        pending.unmark(self._store, graph)

    def _via_staging(self, target: Any, kwargs: dict[str, Any], *, bulk: bool, replace: bool) -> None:
        """Load into a marked hidden staging graph, publish it into ``target`` with one ``ADD`` (or
        ``MOVE``) transaction, remove it (a crash before that: the next open removes it)."""
        staging = ox.NamedNode(STAGING_PREFIX + uuid.uuid4().hex)
        pending.mark(self._store, staging)
        try:
            if bulk:
                bulk_into(self._store, staging, kwargs)
            else:
                self._store.load(to_graph=staging, **kwargs)
            into = "DEFAULT" if isinstance(target, ox.DefaultGraph) else f"GRAPH {target}"
            self._store.update(f"{'MOVE' if replace else 'ADD'} SILENT GRAPH {staging} TO {into}")
        finally:
            pending.discard(self._store, staging)

    def _replace_from(self, target: ox.NamedNode, redo: Redo) -> None:
        """Replace ``target`` by a file's triples: mark it with the file, drop, bulk load, unmark.
        A crash in between leaves the mark; opening the store redoes the replacement (the file is
        the redo log, so the caller keeps it until this returns)."""
        self.parse_check(redo.path, format=redo.format, base_iri=redo.base_iri)  # a syntax error raises here, before anything is dropped
        pending.mark(self._store, target, redo)
        if self._store.contains_named_graph(target):
            self._store.remove_graph(target)
        self._bulk_redo(target, redo)  # an I/O error keeps the mark: the next open finishes the replacement
        pending.unmark(self._store, target)

    def _bulk_redo(self, graph: ox.NamedNode, redo: Redo) -> None:
        bulk_into(self._store, graph, {"path": str(redo.path), "format": OX_RDF[rdf_format_from_name(redo.format).name], "base_iri": redo.base_iri})

    def _bulk_dataset(self, kwargs: dict[str, Any], fmt_name: str) -> None:
        """Bulk-load a dataset file: the named graphs it creates are marked (removed after a crash).
        Triples it adds to graphs that already exist, or to the default graph, are not (see
        docs/architecture.md, "Writes are staged, then published atomically")."""
        source = Path(kwargs["path"]) if "path" in kwargs else kwargs["input"]
        named = self.parse_check(source, format=fmt_name, base_iri=kwargs.get("base_iri"))["graphs"]
        new = [ox.NamedNode(g) for g in named if not g.startswith("_:") and not self._store.contains_named_graph(ox.NamedNode(g))]
        for g in new:
            pending.mark(self._store, g)
        try:
            self._store.bulk_load(**kwargs)
        except BaseException:
            for g in new:
                pending.discard(self._store, g)
            raise
        pending.unmark(self._store, *new)

    def _recover(self) -> None:
        """Settle the bulk writes a crash interrupted (see :mod:`kg_twin.store.pending`)."""
        pending.recover(self._store, self._bulk_redo)

    def drop_graphs(self, graphs: Iterable[str]) -> None:
        self._check_writable()
        graphs = list(graphs)
        if not graphs:
            return
        ops = ";\n".join(f"DROP SILENT GRAPH <{g}>" if g != DEFAULT else "DROP SILENT DEFAULT" for g in graphs)
        self.update(ops)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._write_lock:
            yield

    @contextmanager
    def pending_load(self, source: str | Path, *, format: str, graph: str, base_iri: str | None = None) -> Iterator[PendingLoad]:
        """See :meth:`GraphStore.pending_load`. The bulk loader runs in a thread (pyoxigraph
        releases the GIL while it parses and writes), so on two cores checking the staged copy and
        writing the published one overlap. The graph is marked like every bulk write
        (:mod:`kg_twin.store.pending`); the commit's update removes the mark in the same transaction."""
        self._check_writable()
        fmt = rdf_format_from_name(format)
        if fmt.quads:
            raise InputError("DATASET_INTO_GRAPH", f"{fmt.name} data carries its own graph names and cannot be loaded into one graph", hint="convert it to N-Triples", status=415)
        path, target = Path(str(source)), graph_term(graph)
        kwargs: dict[str, Any] = {"path": str(path), "format": OX_RDF[fmt.name], "base_iri": base_iri}

        def add(data: bytes, fmt_name: str) -> None:
            try:
                self._store.bulk_load(input=data, format=OX_RDF[rdf_format_from_name(fmt_name).name], to_graph=target)
            except SyntaxError as e:
                raise rdf_syntax_error(e, fmt_name, None) from None

        def commit(update: str) -> None:
            pending.unmark(self._store, target, update=update, run=self.update)

        handle = PendingLoad(add, commit)
        with self._write_lock:
            if not isinstance(target, ox.NamedNode) or self.has_graph(graph):
                raise InputError("PENDING_LOAD_TARGET", f"<{graph}> is not a new named graph", hint="pending loads create graphs; replace existing ones with load(replace=True)")
            pending.mark(self._store, target)

            def run() -> None:
                try:
                    bulk_into(self._store, target, kwargs)
                except SyntaxError as e:
                    handle.finish(rdf_syntax_error(e, fmt.name, path.name))
                except OSError as e:
                    handle.finish(InputError("RDF_LOAD_FAILED", f"could not load {path.name}: {e}", hint="check the file path and format"))
                except BaseException as e:  # surfaced to the caller by wait()
                    handle.finish(e)
                else:
                    handle.finish()

            worker = threading.Thread(target=run, name="kgt-pending-load", daemon=True)
            worker.start()
            try:
                yield handle
            finally:
                worker.join()
                try:
                    if not handle.committed:
                        pending.discard(self._store, target)
                finally:
                    self._bump()

    # ------------------------------------------------------------------ reads
    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode) and not g.value.startswith(STAGING_PREFIX))

    def has_graph(self, graph: str) -> bool:
        if graph == DEFAULT:
            return True
        t = graph_term(graph)
        if not self._store.contains_named_graph(t):
            return False
        return next(iter(self._store.quads_for_pattern(None, None, None, t)), None) is not None

    def graph_size(self, graph: str) -> int:
        res = self._store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", default_graph=[graph_term(graph)], named_graphs=[])
        return int(next(iter(res))[0].value)

    def dump(self, output: IO[bytes], *, format: str, graphs: Iterable[str] | None = None) -> None:
        fmt = rdf_format_from_name(format)
        oxfmt = OX_RDF[fmt.name]
        glist = list(graphs) if graphs is not None else None
        if fmt.quads:
            if glist is None:
                self._store.dump(output, oxfmt)
                return

            def quads() -> Iterator[Any]:
                for g in glist:
                    yield from self._store.quads_for_pattern(None, None, None, graph_term(g))

            ox.serialize(quads(), output, oxfmt)
            return
        if glist is None or len(glist) == 0:
            if glist == []:
                ox.serialize([], output, oxfmt)
                return
            raise InputError("DUMP_NEEDS_GRAPH", f"{fmt.name} holds one graph: name the graph(s) to dump", hint="or use nquads / trig")
        if len(glist) == 1:
            self._store.dump(output, oxfmt, from_graph=graph_term(glist[0]))
            return

        def triples() -> Iterator[Any]:
            for g in glist:
                for q in self._store.quads_for_pattern(None, None, None, graph_term(g)):
                    yield q.triple

        ox.serialize(triples(), output, oxfmt)

    def dump_bytes(self, *, format: str, graphs: Iterable[str] | None = None) -> bytes:
        buf = io.BytesIO()
        self.dump(buf, format=format, graphs=graphs)
        return buf.getvalue()

    def parse_check(self, source: bytes | str | Path, *, format: str, base_iri: str | None = None) -> dict[str, Any]:
        """Parse without storing: counts and graph names (for dataset files), or a syntax InputError."""
        return parse_check(source, format=format, base_iri=base_iri)

    def view(self, graphs: Iterable[str], closure_graphs: Iterable[str] = ()) -> ShaclView:
        """See :meth:`GraphStore.view`: queries run on this store, restricted to the graphs."""
        return ShaclView(self._store, graphs, closure_graphs)

    def backup(self, target: str | Path) -> None:
        """Consistent on-disk copy of the whole store (hard links where possible)."""
        if self.path is None:
            raise InputError("BACKUP_MEMORY", "an in-memory store cannot be backed up to disk", hint="use export instead")
        self._store.flush()
        self._store.backup(str(target))

    # ------------------------------------------------------------------ isolated jobs
    def run_job(self, job: Any, *args: Any, kind: str, timeout_s: float | None, copy: str | None = "read") -> Any:
        """See :meth:`GraphStore.run_job` and :mod:`kg_twin.store.jobs`."""
        if timeout_s is None or self.path is None:
            if copy == "write":
                raise ValueError("a writable copy needs an on-disk store and a deadline")
            return job(self if copy else None, *args)
        if copy == "write":
            self._check_writable()
        assert self._jobs is not None  # on-disk store, open (internal invariant)
        if copy is None or (self.read_only and copy == "read"):  # a read-only opener reads the store itself
            return self._jobs.run(job, args, kind=kind, timeout_s=timeout_s, copy=copy, path=str(self.path))
        with self._write_lock:  # a consistent copy: no write in flight
            target = make_copy(self._store, self._jobs_dir)
        try:
            return self._jobs.run(job, args, kind=kind, timeout_s=timeout_s, copy=copy, path=target)
        finally:
            remove_copy(target)

    # ------------------------------------------------------------------ snapshots + workers
    def snapshot(self) -> str:
        """The read-only checkpoint of the current generation the workers read (made if needed)."""
        return self._snapshots().current()

    def _snapshots(self) -> Snapshots:
        if self._snaps is None:
            assert self.snapshots_dir is not None  # only for on-disk stores (internal invariant)
            self._snaps = Snapshots(self.snapshots_dir, self._store, self._write_lock, lambda: self._generation)
        return self._snaps

    def _ensure_pool(self) -> QueryPool:
        if self._pool is None:
            snaps = self._snapshots()
            size = self.settings.query_workers if self.settings is not None else 2
            self._pool = pool = QueryPool(size, snaps.current, on_release=lambda: snaps.collect(pool.snapshots_in_use()), functions=self.function_table)
        return self._pool

    def start_workers(self) -> None:
        """Start query workers now (the server does this at startup), and a job worker."""
        if self.path is not None and not self.read_only:
            self._ensure_pool()
            if self._jobs is not None:
                self._jobs.start()

    @property
    def workers_killed(self) -> int:
        return self._pool.killed if self._pool else 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._jobs is not None:
            self._jobs.close()
            self._jobs = None
        if self.read_only:
            # a read-only opener (the CLI next to a running server) neither flushes nor owns
            # the snapshots: removing them would pull the files from under the server's workers
            self._store = None  # type: ignore[assignment]
            return
        try:
            self._store.flush()
        except (OSError, AttributeError):
            pass
        for d in (self.snapshots_dir, self._jobs_dir):
            if d is not None and d.exists():
                shutil.rmtree(d, ignore_errors=True)
        self._store = None  # type: ignore[assignment]

