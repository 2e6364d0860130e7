"""SPARQL extension functions (custom functions) available in every query.

Extension modules call :func:`sparql_function` at import time; they are listed in
:data:`EXTENSION_MODULES` (plus ``KG_TWIN_SPARQL_EXTENSIONS``, comma-separated) and
imported by the query workers as well as by the in-process path.

Functions receive kg_twin.rdf terms (IRI / Literal / BNode) and return a Python
value (str, int, float, bool, datetime, kg_twin.rdf term) or None (unbound).

>>> @sparql_function("urn:x-example:double")
... def double(x):
...     return float(x.value) * 2
>>> "urn:x-example:double" in FUNCTIONS
True
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)

FUNCTIONS: dict[str, Callable[..., Any]] = {}
# modules that register functions when imported (added to by feature packages)
EXTENSION_MODULES: list[str] = ["kg_twin.geo.functions", "kg_twin.live.functions"]
_loaded = False

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


def sparql_function(iri: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[iri] = fn
        return fn

    return deco


def load_extensions() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    extra = [m.strip() for m in os.environ.get("KG_TWIN_SPARQL_EXTENSIONS", "").split(",") if m.strip()]
    for mod in EXTENSION_MODULES + extra:
        try:
            importlib.import_module(mod)
        except ImportError as e:  # an optional extension whose dependency is missing
            log.warning("SPARQL extension module %s not loaded: %s", mod, e)


def oxigraph_functions() -> dict[Any, Any]:
    """The registry wrapped for pyoxigraph (store package only)."""
    load_extensions()
    if not FUNCTIONS:
        return {}
    import pyoxigraph as ox

    from kg_twin import rdf
    from kg_twin.store.execute import to_ox_term

    def from_ox(t: Any) -> Any:
        if isinstance(t, ox.NamedNode):
            return rdf.IRI(t.value)
        if isinstance(t, ox.BlankNode):
            return rdf.BNode(t.value)
        if isinstance(t, ox.Literal):
            return rdf.Literal(t.value, t.datatype.value if not t.language else None, t.language)
        return t

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                out = fn(*[from_ox(a) for a in args])
            except (ValueError, TypeError, ArithmeticError):
                return None  # SPARQL semantics: an error makes the expression unbound
            if out is None:
                return None
            if hasattr(out, "isoformat") and not isinstance(out, str):
                return to_ox_term(rdf.Literal.of(out))
            return to_ox_term(out)

        return call

    return {ox.NamedNode(iri): wrap(fn) for iri, fn in FUNCTIONS.items()}
