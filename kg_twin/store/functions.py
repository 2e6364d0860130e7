"""SPARQL extension functions (custom functions): how the store evaluates the ones it is given.

The store knows no feature: the composition root (:func:`kg_twin.service.sparql_functions`) picks
the table, an IRI -> function mapping, and passes it to :func:`kg_twin.store.open_store`. The
query worker processes receive the same table (pickled: every function must be a module-level
function, a :func:`functools.partial` of one, or an instance of a module-level class).

Functions receive kg_twin.rdf terms (IRI / Literal / BNode) and return a Python value (str, int,
float, bool, datetime, kg_twin.rdf term) or None (unbound). An error (ValueError, TypeError,
ArithmeticError) leaves the expression unbound, as SPARQL wants.

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


def oxigraph_functions(functions: ExtensionFunctions | None) -> dict[Any, Any]:
    """The table wrapped for pyoxigraph (store package only)."""
    return {ox.NamedNode(iri): _wrap(fn) for iri, fn in (functions or {}).items()}
