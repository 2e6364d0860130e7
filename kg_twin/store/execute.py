"""Query execution on a pyoxigraph store: shared by the in-process path and the
query worker processes (see :mod:`kg_twin.store.workers`)."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any, Mapping

import pyoxigraph as ox

from kg_twin.errors import Conflict, InputError, KgTwinError, NotFound, QueryTimeout, UpstreamError
from kg_twin.formats import RDF_FORMATS, RESULT_FORMATS
from kg_twin.store import results as _results
from kg_twin.store.base import DEFAULT, QueryRequest, QueryResult
from kg_twin.store.functions import engine_kwargs

#: kg-twin's RDF format names (:data:`kg_twin.formats.RDF_FORMATS`) -> pyoxigraph's enums
OX_RDF: dict[str, ox.RdfFormat] = {name: ox.RdfFormat.from_media_type(f.media_type) for name, f in RDF_FORMATS.items()}
HELPER_VARIABLE_PREFIX = "__kgt"  # = kg_twin.sparql.dataset.HELPER_PREFIX (the store does not import sparql/)
_POS_RE = re.compile(r"(?:error )?at (\d+):(\d+)")


def graph_term(iri: str) -> Any:
    if iri == DEFAULT:
        return ox.DefaultGraph()
    if iri.startswith("_:"):
        return ox.BlankNode(iri[2:])
    try:
        return ox.NamedNode(iri)
    except ValueError as e:  # a graph name no check before caught: the client's input, never a 500
        raise InputError("BAD_GRAPH_IRI", f"graph name {iri!r} is not an IRI: {e}", hint="percent-encode the character, or pick another graph IRI") from None


def to_ox_term(v: Any) -> Any:
    """rdflib terms, kg_twin.rdf terms, or N-Triples strings -> pyoxigraph terms."""
    if isinstance(v, (ox.NamedNode, ox.Literal, ox.BlankNode, ox.Triple)):
        return v
    mod = type(v).__module__
    name = type(v).__name__
    if mod.startswith("rdflib"):
        if name == "URIRef":
            return ox.NamedNode(str(v))
        if name == "BNode":
            return ox.BlankNode(str(v))
        if name == "Literal":
            if v.language:
                return ox.Literal(str(v), language=v.language)
            if v.datatype:
                return ox.Literal(str(v), datatype=ox.NamedNode(str(v.datatype)))
            return ox.Literal(str(v))
    if mod == "kg_twin.rdf":
        if name == "IRI":
            return ox.NamedNode(str(v))
        if name == "BNode":
            return ox.BlankNode(v.id)
        if name == "Literal":
            if v.lang:
                return ox.Literal(v.value, language=v.lang)
            if v.datatype:
                return ox.Literal(v.value, datatype=ox.NamedNode(v.datatype))
            return ox.Literal(v.value)
    if isinstance(v, bool):
        return ox.Literal("true" if v else "false", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
    if isinstance(v, int):
        return ox.Literal(str(v), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    if isinstance(v, float):
        return ox.Literal(repr(v), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#double"))
    if isinstance(v, str):
        # N-Triples syntax for one term
        try:
            quads = list(ox.parse(f"<urn:x:s> <urn:x:p> {v} .".encode(), ox.RdfFormat.N_TRIPLES))
        except SyntaxError as e:
            raise InputError("BAD_TERM", f"not a valid RDF term in N-Triples syntax: {v!r}", hint="write IRIs as <...> and literals as \"...\"^^<datatype>") from e
        return quads[0].object
    raise TypeError(f"cannot convert {v!r} to an RDF term")


def portable(request: QueryRequest) -> QueryRequest:
    """``request`` with its bindings as N-Triples strings (what crosses the pipe to a worker)."""
    if not request.bindings:
        return request
    return dataclasses.replace(request, bindings={k: str(to_ox_term(v)) for k, v in request.bindings.items()})


def query_with_bindings(store: Any, sparql: str, bindings: Mapping[str, Any] | None, **kw: Any) -> Any:
    """Run a query with pre-bound variables: engine substitution (SEP-0007) where it applies,
    else a VALUES block built from library-serialized terms (never from user text)."""
    if not bindings:
        return store.query(sparql, **kw)
    terms = {k.lstrip("?$"): to_ox_term(v) for k, v in bindings.items()}
    try:
        return store.query(sparql, substitutions={ox.Variable(k): t for k, t in terms.items()}, **kw)
    except RuntimeError as e:
        if "does not contain" not in str(e):
            raise
    from kg_twin.sparql.bind import inject_values

    return store.query(inject_values(sparql, {k: str(t) for k, t in terms.items()}), **kw)


def syntax_error(e: Exception, text: str, what: str = "query") -> InputError:
    msg = str(e)
    where: dict[str, Any] = {}
    m = _POS_RE.search(msg)
    pos: tuple[int, int] | None = (int(m.group(1)), int(m.group(2))) if m else None
    if pos is None and isinstance(getattr(e, "lineno", None), int):
        pos = (e.lineno, e.offset or 0)  # type: ignore[attr-defined]  # RDF parsers: "Parser error at line L column C"
    if pos is not None:
        where = {"line": pos[0], "column": pos[1]}
        line_no = pos[0]
        lines = text.splitlines()
        if 1 <= line_no <= len(lines):
            where["text"] = lines[line_no - 1][:200]
    return InputError(
        "SPARQL_SYNTAX",
        f"SPARQL {what} syntax error: {msg}",
        hint="check the SPARQL 1.1 grammar near the given line and column (PREFIX declarations, braces, dots)",
        where=where,
    )


_FUNCTION_RE = re.compile(r"custom function <([^>]*)> is not supported")
_GRAPH_RE = re.compile(r"The graph <([^>]*)> (does not exist|already exists)")


def engine_error(e: Exception, what: str = "query") -> KgTwinError:
    """An evaluation error of the engine as a kg-twin error: the client's mistakes are 4xx
    (an unknown function, a missing or existing graph), the rest is the engine's (502)."""
    msg = str(e)
    m = _FUNCTION_RE.search(msg)
    if m:
        return InputError(
            "UNKNOWN_FUNCTION",
            f"the {what} calls <{m.group(1)}>, which this server does not implement",
            hint="see docs/queries.md for the extension functions of the service (GeoSPARQL, history)",
        )
    m = _GRAPH_RE.search(msg)
    if m:
        if m.group(2) == "does not exist":
            return NotFound("GRAPH_NOT_FOUND", f"graph <{m.group(1)}> does not exist", hint="add SILENT to ignore a missing graph")
        return Conflict("GRAPH_EXISTS", f"graph <{m.group(1)}> already exists", hint="add SILENT to ignore an existing graph")
    if what == "update":
        return UpstreamError("UPDATE_FAILED", f"update failed: {msg}")
    return UpstreamError("QUERY_FAILED", f"query evaluation failed: {msg}", hint="a SERVICE call or the store failed; see the message")


def dataset_kwargs(default_graphs: Any, named_graphs: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if default_graphs is not None:
        kw["default_graph"] = [graph_term(g) for g in default_graphs]
    if named_graphs is not None:
        kw["named_graphs"] = [graph_term(g) for g in named_graphs if g != DEFAULT]
    if (default_graphs is None) != (named_graphs is None):
        # never leave one half of the dataset to the query text
        if default_graphs is None:
            kw["default_graph"] = [ox.DefaultGraph()]
        else:
            kw["named_graphs"] = []
    return kw


#: kg-twin's result format names -> pyoxigraph's, for answers the engine serializes itself
OX_RESULTS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


#: the fewest bytes one more row (solution or triple) adds to an answer in each format: an answer
#: natively serialized below ``MIN_ROW_BYTES * (cap + 1)`` bytes has at most ``cap`` rows
MIN_ROW_BYTES: dict[str, int] = {"json": 2, "xml": 17, "csv": 2, "tsv": 1, "ntriples": 8}


class _Budget:
    """A write target for pyoxigraph's serializers that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []
        self.over = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.limit is not None and self.size >= self.limit:
            self.over = True
            raise OSError("answer over the row cap's byte budget")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _native(res: Any, request: QueryRequest) -> QueryResult | None:
    """The answer serialized by pyoxigraph in one call (nothing per row in Python), or None when it
    might hold more rows than the cap (its bytes reached ``MIN_ROW_BYTES * (cap + 1)``): the caller
    then runs the capped path. Memory stays bounded by that budget."""
    solutions = isinstance(res, ox.QuerySolutions)
    fmt = request.result_format if solutions else request.graph_format
    cap = request.max_rows
    budget = _Budget(None if cap is None else MIN_ROW_BYTES.get(fmt, 1) * (cap + 1))
    try:
        if solutions:
            res.serialize(budget, format=OX_RESULTS[fmt])
        else:
            ox.serialize(res, budget, format=OX_RDF[fmt])
    except OSError:
        if budget.over:
            return None
        raise
    body = b"".join(budget.parts)
    if solutions:
        return QueryResult("bindings", body, RESULT_FORMATS[fmt].media_type, fmt, extra={"variables": [v.value for v in res.variables]})
    return QueryResult("graph", body, RDF_FORMATS[fmt].media_type, fmt)


def _evaluate(store: Any, request: QueryRequest, custom_functions: dict[Any, Any] | None) -> Any:
    ds = request.dataset
    kw = dataset_kwargs(ds.default_graphs, ds.named_graphs)
    kw.update(engine_kwargs(custom_functions))
    try:
        return query_with_bindings(store, request.text, request.bindings, base_iri=request.base_iri, **kw)
    except SyntaxError as e:
        raise syntax_error(e, request.text) from None
    except (OSError, RuntimeError) as e:
        raise engine_error(e) from None


def run_query(store: Any, request: QueryRequest, *, deadline: float | None = None, custom_functions: dict[Any, Any] | None = None) -> QueryResult:
    """Evaluate ``request`` on a pyoxigraph store and serialize the answer.

    Without ``deadline`` (in a worker process, which is killed instead) and when the caller needs
    no row count (``request.count_rows`` false), pyoxigraph serializes the answer itself
    (:func:`_native`); if that answer may exceed the row cap, or otherwise, rows are pulled one by
    one up to the cap and serialized here (``deadline`` checked between rows)."""
    t0 = time.perf_counter()
    res = _evaluate(store, request, custom_functions)
    try:
        if isinstance(res, ox.QueryBoolean):
            fmt = request.result_format
            body = _results.boolean(bool(res), fmt)
            return QueryResult("boolean", body, RESULT_FORMATS[fmt].media_type, fmt, count=1, elapsed_s=time.perf_counter() - t0)
        solutions = isinstance(res, ox.QuerySolutions)
        if (
            deadline is None
            and not request.count_rows
            and (request.graph_format not in ("nquads", "trig") if not solutions else not any(v.value.startswith(HELPER_VARIABLE_PREFIX) for v in res.variables))
        ):
            out = _native(res, request)
            if out is not None:
                out.elapsed_s = time.perf_counter() - t0
                return out
            res = _evaluate(store, request, custom_functions)  # over the budget: again, capped
        if solutions:
            return _solutions(res, request.result_format, request.max_rows, deadline, t0)
        return _triples(res, request.graph_format, request.max_rows, deadline, t0)
    except KgTwinError:
        raise
    except (OSError, RuntimeError) as e:
        raise engine_error(e) from None


def _triples(res: Any, fmt: str, max_rows: int | None, deadline: float | None, t0: float) -> QueryResult:
    triples = []
    truncated = False
    for i, t in enumerate(res):
        if max_rows is not None and len(triples) >= max_rows:
            truncated = True
            break
        triples.append(t)
        if deadline is not None and (i & 1023) == 0 and time.monotonic() > deadline:
            raise QueryTimeout("QUERY_TIMEOUT", "query exceeded its time limit")
    if fmt in ("nquads", "trig"):
        body = ox.serialize([ox.Quad(t.subject, t.predicate, t.object) for t in triples], format=OX_RDF[fmt])
    else:
        body = ox.serialize(triples, format=OX_RDF[fmt])
    return QueryResult("graph", body or b"", RDF_FORMATS[fmt].media_type, fmt, truncated=truncated, count=len(triples), elapsed_s=time.perf_counter() - t0)


def _solutions(res: Any, fmt: str, max_rows: int | None, deadline: float | None, t0: float) -> QueryResult:
    variables = [v.value for v in res.variables]
    # variables added by the dataset rewriting (kg_twin.sparql.dataset) are never answered
    keep = [j for j, v in enumerate(variables) if not v.startswith(HELPER_VARIABLE_PREFIX)]
    if len(keep) != len(variables):
        variables = [variables[j] for j in keep]
    rows: list[list[Any]] = []
    truncated = False
    for i, sol in enumerate(res):
        if max_rows is not None and len(rows) >= max_rows:
            truncated = True
            break
        rows.append([sol[j] for j in keep])
        if deadline is not None and (i & 1023) == 0 and time.monotonic() > deadline:
            raise QueryTimeout("QUERY_TIMEOUT", "query exceeded its time limit")
    body = _results.SERIALIZERS[fmt](variables, rows, truncated)
    return QueryResult("bindings", body, RESULT_FORMATS[fmt].media_type, fmt, truncated=truncated, count=len(rows), elapsed_s=time.perf_counter() - t0, extra={"variables": variables})


def sol_to_rdflib(t: Any) -> Any:
    """A pyoxigraph term as an rdflib term (literals keep their datatype, xsd:string included)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    if isinstance(t, ox.Literal):
        if t.language:
            return Literal(t.value, lang=t.language)
        return Literal(t.value, datatype=URIRef(t.datatype.value))
    return t
