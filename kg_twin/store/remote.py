"""A :class:`~kg_twin.store.base.GraphStore` on an existing SPARQL 1.1 engine.

When a deployment outgrows the embedded store, the same service runs on any engine
that speaks the SPARQL 1.1 Protocol (query + update) and the Graph Store HTTP
Protocol: Oxigraph server, Fuseki, GraphDB, Virtuoso...

    KG_TWIN_STORE=http://127.0.0.1:7878/      # oxigraph serve: /query /update /store

Endpoint paths default to Oxigraph's; set ``KG_TWIN_STORE_QUERY_PATH``,
``KG_TWIN_STORE_UPDATE_PATH`` and ``KG_TWIN_STORE_GSP_PATH`` for another engine (Fuseki:
``ds/query``, ``ds/update``, ``ds/data``).

Differences from the embedded store, by design of the protocols: a query deadline
is an HTTP timeout (the engine may go on working; configure the engine's own
timeout too); pre-bound variables are sent as a trailing ``VALUES`` block; writes by
other clients of the engine are not seen by :attr:`generation`.
"""

from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import httpx
import pyoxigraph as ox

from kg_twin.errors import InputError, NotFound, QueryTimeout, UpstreamError
from kg_twin.formats import rdf_format_from_name
from kg_twin.store.base import DEFAULT, Construct, Dataset, PendingLoad, QueryResult
from kg_twin.store.execute import OX_RDF, run_query, to_ox_term

EMPTY_GRAPH = "urn:x-kg-twin:empty-graph"


class RemoteStore:
    def __init__(self, url: str, *, settings: Any = None) -> None:
        base = url if url.endswith("/") else url + "/"
        self.base = base
        self.settings = settings
        self.query_url = base + (getattr(settings, "store_query_path", None) or "query")
        self.update_url = base + (getattr(settings, "store_update_path", None) or "update")
        self.gsp_url = base + (getattr(settings, "store_gsp_path", None) or "store")
        self._client = httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0))
        self._lock = threading.RLock()
        self._generation = 0
        try:
            r = self._client.post(self.query_url, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"})
        except httpx.HTTPError as e:
            raise UpstreamError("STORE_UNREACHABLE", f"SPARQL engine at {base} does not answer: {e}", hint="check KG_TWIN_STORE and that the engine runs") from None
        if r.status_code != 200:
            raise UpstreamError("STORE_UNREACHABLE", f"SPARQL engine at {self.query_url} answered {r.status_code}", hint="check the endpoint paths (KG_TWIN_STORE_*_PATH)")

    # ------------------------------------------------------------------ helpers
    @property
    def generation(self) -> int:
        return self._generation

    def _bump(self) -> None:
        self._generation += 1

    def _check(self, r: httpx.Response, what: str, text: str = "") -> httpx.Response:
        if r.status_code < 300:
            return r
        msg = r.text[:500]
        if r.status_code == 400:
            raise InputError("SPARQL_SYNTAX" if what in ("query", "update") else "RDF_SYNTAX", f"the engine rejected the {what}: {msg}", hint="check the syntax near the position the engine reports")
        if r.status_code == 404:
            raise NotFound("NOT_FOUND", f"{what}: not found")
        raise UpstreamError("UPSTREAM", f"the engine answered {r.status_code} to the {what}: {msg}")

    def _dataset_params(self, ds: Dataset | None) -> list[tuple[str, str]]:
        if ds is None:
            return []
        params: list[tuple[str, str]] = []
        if ds.default_graphs is not None:
            dg = [g for g in ds.default_graphs if g != DEFAULT] or [EMPTY_GRAPH]
            params += [("default-graph-uri", g) for g in dg]
        if ds.named_graphs is not None:
            ng = [g for g in ds.named_graphs if g != DEFAULT] or [EMPTY_GRAPH]
            params += [("named-graph-uri", g) for g in ng]
        if ds.default_graphs is not None and ds.named_graphs is None:
            params.append(("named-graph-uri", EMPTY_GRAPH))
        return params

    @staticmethod
    def _bind(sparql: str, bindings: dict[str, Any] | None) -> str:
        if not bindings:
            return sparql
        from kg_twin.sparql.bind import inject_values

        return inject_values(sparql, {k.lstrip("?$"): str(to_ox_term(v)) for k, v in bindings.items()})

    def _post_query(self, sparql: str, dataset: Dataset | None, accept: str, timeout_s: float | None) -> httpx.Response:
        data: dict[str, list[str]] = {"query": [sparql]}
        for k, v in self._dataset_params(dataset):
            data.setdefault(k, []).append(v)
        try:
            r = self._client.post(self.query_url, data=data, headers={"Accept": accept}, timeout=timeout_s or 60.0)
        except httpx.TimeoutException:
            raise QueryTimeout("QUERY_TIMEOUT", f"the SPARQL engine did not answer within {timeout_s or 60:g} s", hint="the engine may still be working; configure its own query timeout") from None
        except httpx.HTTPError as e:
            raise UpstreamError("UPSTREAM", f"SPARQL engine unreachable: {e}") from None
        return self._check(r, "query", sparql)

    # ------------------------------------------------------------------ queries
    def query(
        self,
        sparql: str,
        *,
        dataset: Dataset | None = None,
        result_format: str = "json",
        graph_format: str = "ntriples",
        max_rows: int | None = None,
        timeout_s: float | None = None,
        base_iri: str | None = None,
        bindings: dict[str, Any] | None = None,
    ) -> QueryResult:
        t0 = time.perf_counter()
        text = self._bind(sparql, bindings)
        r = self._post_query(text, dataset, "application/sparql-results+json, application/n-triples;q=0.9", timeout_s)
        ct = r.headers.get("content-type", "").split(";")[0].strip()
        # re-run the answer through the local capped serializers: one code path for every backend
        scratch = ox.Store()
        if ct == "application/n-triples":
            triples = list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES))
            scratch.extend(triples)
            res = run_query(scratch, "CONSTRUCT WHERE { ?s ?p ?o }", graph_format=graph_format, max_rows=max_rows)
        else:
            parsed = ox.parse_query_results(r.content, ox.QueryResultsFormat.JSON)
            if isinstance(parsed, ox.QueryBoolean):
                res = run_query(scratch, "ASK {}" if bool(parsed) else "ASK { FILTER(false) }", result_format=result_format)
            else:
                res = _serialize_solutions(parsed, result_format, max_rows)
        res.elapsed_s = time.perf_counter() - t0
        return res

    async def aquery(self, sparql: str, **kw: Any) -> QueryResult:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(lambda: self.query(sparql, **kw))

    def select(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        from kg_twin.store.oxigraph import _sol_to_rdflib

        r = self._post_query(self._bind(sparql, bindings), dataset, "application/sparql-results+json", None)
        parsed = ox.parse_query_results(r.content, ox.QueryResultsFormat.JSON)
        if not isinstance(parsed, ox.QuerySolutions):
            raise InputError("NOT_SELECT", "select() needs a SELECT query")
        names = [v.value for v in parsed.variables]
        return [{n: _sol_to_rdflib(sol[i]) for i, n in enumerate(names) if sol[i] is not None} for sol in parsed]

    def ask(self, sparql: str, *, dataset: Dataset | None = None, bindings: dict[str, Any] | None = None) -> bool:
        r = self._post_query(self._bind(sparql, bindings), dataset, "application/sparql-results+json", None)
        parsed = ox.parse_query_results(r.content, ox.QueryResultsFormat.JSON)
        if not isinstance(parsed, ox.QueryBoolean):
            raise InputError("NOT_ASK", "ask() needs an ASK query")
        return bool(parsed)

    def construct(self, sparql: str, *, dataset: Dataset | None = None, format: str = "ntriples") -> bytes:
        fmt = rdf_format_from_name(format)
        r = self._post_query(sparql, dataset, fmt.media_type, None)
        return r.content

    # ------------------------------------------------------------------ writes
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        with self._lock:
            try:
                r = self._client.post(self.update_url, content=sparql.encode("utf-8"), headers={"Content-Type": "application/sparql-update"})
            except httpx.HTTPError as e:
                raise UpstreamError("UPSTREAM", f"SPARQL engine unreachable: {e}") from None
            finally:
                self._bump()
            self._check(r, "update", sparql)

    def construct_into(self, graph: str, constructs: Iterable[Construct], *, bulk: bool = False) -> None:
        """See :meth:`GraphStore.construct_into`: one ``INSERT ... WHERE`` update, evaluated by the
        engine (one transaction, whatever ``bulk`` says)."""
        ops = [c.insert(graph) for c in constructs]
        if ops:
            self.update(" ;\n".join(ops))

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
        fmt = rdf_format_from_name(format)
        if isinstance(source, (str, Path)) and Path(str(source)).exists():
            content: Any = open(source, "rb")
        elif isinstance(source, str):
            content = source.encode("utf-8")
        else:
            content = source
        params: dict[str, str] = {}
        if graph is None:
            if not fmt.quads:
                params["default"] = ""
        elif graph == DEFAULT:
            params["default"] = ""
        else:
            params["graph"] = graph
        with self._lock:
            try:
                method = self._client.put if replace else self._client.post
                r = method(self.gsp_url, params=params, content=content, headers={"Content-Type": fmt.media_type})
            except httpx.HTTPError as e:
                raise UpstreamError("UPSTREAM", f"SPARQL engine unreachable: {e}") from None
            finally:
                if hasattr(content, "close"):
                    content.close()
                self._bump()
            self._check(r, "upload")
        return self.graph_size(graph) if graph else -1

    def drop_graphs(self, graphs: Iterable[str]) -> None:
        ops = [f"DROP SILENT GRAPH <{g}>" if g != DEFAULT else "DROP SILENT DEFAULT" for g in graphs]
        if ops:
            self.update(" ;\n".join(ops))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            yield

    @contextmanager
    def pending_load(self, source: str | Path, *, format: str, graph: str, base_iri: str | None = None) -> Iterator[PendingLoad]:
        """See :meth:`GraphStore.pending_load`. A remote engine loads before the block runs (one
        upload); the graph is dropped again unless the block commits. Its readers may see the
        graph during the block (the engine has no snapshot this client could hold), and a crash of
        this process during the block leaves the graph there: the engine keeps no journal of ours."""
        def commit(update: str) -> None:
            if update.strip():
                self.update(update)

        pending = PendingLoad(lambda data, fmt: self.load(data, format=fmt, graph=graph) and None, commit)
        with self._lock:
            if self.has_graph(graph):
                raise InputError("PENDING_LOAD_TARGET", f"<{graph}> is not a new named graph", hint="pending loads create graphs; replace existing ones with load(replace=True)")
            try:
                self.load(Path(str(source)), format=format, graph=graph, base_iri=base_iri)
            except BaseException as e:  # surfaced by wait(), as on the embedded store
                pending.finish(e)
            else:
                pending.finish()
            try:
                yield pending
            finally:
                if not (pending.committed and pending.error is None):
                    self.drop_graphs([graph])

    # ------------------------------------------------------------------ reads
    def graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(str(r["g"]) for r in rows if not str(r["g"]).startswith("_:"))

    def has_graph(self, graph: str) -> bool:
        if graph == DEFAULT:
            return True
        return self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

    def graph_size(self, graph: str) -> int:
        where = "{ ?s ?p ?o }" if graph == DEFAULT else f"{{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {where}")
        return int(rows[0]["n"]) if rows else 0

    def dump(self, output: IO[bytes], *, format: str, graphs: Iterable[str] | None = None) -> None:
        fmt = rdf_format_from_name(format)
        glist = list(graphs) if graphs is not None else self.graphs()
        if not fmt.quads and len(glist) == 1:
            params = {"default": ""} if glist[0] == DEFAULT else {"graph": glist[0]}
            with self._client.stream("GET", self.gsp_url, params=params, headers={"Accept": fmt.media_type}) as r:
                if r.status_code == 404:
                    return
                self._check(r, "download")
                for chunk in r.iter_bytes():
                    output.write(chunk)
            return

        def items() -> Iterator[Any]:
            for g in glist:
                params = {"default": ""} if g == DEFAULT else {"graph": g}
                r = self._client.get(self.gsp_url, params=params, headers={"Accept": "application/n-triples"})
                if r.status_code == 404:
                    continue
                self._check(r, "download")
                gn = ox.DefaultGraph() if g == DEFAULT else ox.NamedNode(g)
                for q in ox.parse(r.content, ox.RdfFormat.N_TRIPLES):
                    yield ox.Quad(q.subject, q.predicate, q.object, gn) if fmt.quads else q
        ox.serialize(items(), output, OX_RDF[fmt.name])

    def dump_bytes(self, *, format: str, graphs: Iterable[str] | None = None) -> bytes:
        buf = io.BytesIO()
        self.dump(buf, format=format, graphs=graphs)
        return buf.getvalue()

    def parse_check(self, source: bytes | str | Path, *, format: str, base_iri: str | None = None) -> dict[str, Any]:
        from kg_twin.store.oxigraph import OxigraphStore

        return OxigraphStore(None).parse_check(source, format=format, base_iri=base_iri)

    def close(self) -> None:
        self._client.close()


def _serialize_solutions(parsed: Any, fmt: str, max_rows: int | None) -> QueryResult:
    from kg_twin.store import results as R
    from kg_twin.store.execute import RESULT_MEDIA

    variables = [v.value for v in parsed.variables]
    rows, truncated = R.collect(parsed, variables, max_rows)
    body = R.SERIALIZERS[fmt](variables, rows, truncated)
    return QueryResult("bindings", body, RESULT_MEDIA[fmt], fmt, truncated=truncated, count=len(rows), extra={"variables": variables})
