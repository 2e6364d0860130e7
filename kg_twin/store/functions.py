"""SPARQL extension functions (custom functions): how the store evaluates the ones it is given.

The store knows no feature: the composition root (:func:`kg_twin.service.sparql_functions`) picks
the table, an IRI -> function mapping, and passes it to :func:`kg_twin.store.open_store`. The
query worker processes receive the same table (pickled: every function must be a module-level
function, a :func:`functools.partial` of one, or an instance of a module-level class).

Functions receive kg_twin.rdf terms (IRI / Literal / BNode) and return a Python value (str, int,
float, bool, datetime, kg_twin.rdf term) or None (unbound). An error (ValueError, TypeError,
ArithmeticError) leaves the expression unbound, as SPARQL wants. An :class:`Aggregate` entry is a
custom aggregate (``SELECT (<iri>(?x) AS ?y) … GROUP BY …``): its factory makes an accumulator with
``add(term)`` and ``result()``; an error in ``add`` leaves the group's value unbound.

>>> from kg_twin.settings import Settings
>>> from kg_twin.store import open_store
>>> def double(x):
...     return float(x.value) * 2
>>> s = open_store(Settings(store="memory"), functions={"urn:x-example:double": double})
>>> s.select("SELECT (<urn:x-example:double>(21) AS ?x) {}")[0]["x"].toPython()
42.0
"""

from __future__ import annotations

import contextvars
import datetime
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

import pyoxigraph as ox

from kg_twin import rdf

ExtensionFunctions = Mapping[str, Callable[..., Any]]

# What a function may need to know about the query it runs in: ``data_dir`` (the
# deployment's data directory) and ``graphs`` (the IRIs of the graphs in the query's
# dataset, or None for internal queries that see everything). Set by the store around
# query execution, in the worker processes as well as in-process.
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("kg_twin_query_context", default=None)


@contextmanager
def query_context(**info: Any) -> Iterator[None]:
    token = _CONTEXT.set(info)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_query_context() -> dict[str, Any] | None:
    """The context of the query being evaluated (see :func:`query_context`), or None."""
    return _CONTEXT.get()


def _from_ox(t: Any) -> Any:
    if isinstance(t, ox.NamedNode):
        return rdf.IRI(t.value)
    if isinstance(t, ox.BlankNode):
        return rdf.BNode(t.value)
    if isinstance(t, ox.Literal):
        return rdf.Literal(t.value, t.datatype.value if not t.language else None, t.language)
    return t


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    from kg_twin.store.execute import to_ox_term

    def call(*args: Any) -> Any:
        try:
            out = fn(*[_from_ox(a) for a in args])
        except (ValueError, TypeError, ArithmeticError):
            return None  # SPARQL semantics: an error makes the expression unbound
        if out is None:
            return None
        if isinstance(out, (datetime.datetime, datetime.date)):
            return to_ox_term(rdf.Literal.of(out))
        return to_ox_term(out)

    return call


class Aggregate:
    """A custom aggregate in the extension table: ``factory()`` -> an accumulator (``add``, ``result``).
    Module-level, so the table stays picklable for the query workers."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory


class _Accumulator:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def accumulate(self, term: Any) -> None:
        if self.failed:
            return
        try:
            self.inner.add(_from_ox(term))
        except (ValueError, TypeError, ArithmeticError):
            self.failed = True

    def finish(self) -> Any:
        from kg_twin.store.execute import to_ox_term

        if self.failed:
            return None
        try:
            out = self.inner.result()
        except (ValueError, TypeError, ArithmeticError):
            return None
        return None if out is None else to_ox_term(out)


class _OxAggregate:
    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory

    def __call__(self) -> _Accumulator:
        return _Accumulator(self.factory())


def oxigraph_functions(functions: ExtensionFunctions | None) -> dict[Any, Any]:
    """The table wrapped for pyoxigraph (store package only); pass it on with :func:`engine_kwargs`."""
    return {ox.NamedNode(iri): _OxAggregate(fn.factory) if isinstance(fn, Aggregate) else _wrap(fn) for iri, fn in (functions or {}).items()}


def engine_kwargs(wrapped: dict[Any, Any] | None) -> dict[str, Any]:
    """pyoxigraph keyword arguments (``custom_functions``, ``custom_aggregate_functions``) for a wrapped table."""
    kw: dict[str, Any] = {}
    if wrapped:
        scalar = {k: v for k, v in wrapped.items() if not isinstance(v, _OxAggregate)}
        aggregates = {k: v for k, v in wrapped.items() if isinstance(v, _OxAggregate)}
        if scalar:
            kw["custom_functions"] = scalar
        if aggregates:
            kw["custom_aggregate_functions"] = aggregates
    return kw
