"""The outbound policy for SPARQL a client supplies, in one place.

The server opens a connection for a client only to an endpoint on ``KG_TWIN_SERVICE_ALLOWLIST``
(loopback and private addresses included: there is no exception for them), and it decides
that from the text, before anything parses or runs it. ``LOAD`` never runs (uploads go through
the Graph Store Protocol). Every SPARQL text inside shapes (SHACL-SPARQL ``sh:select``,
``sh:ask``, SHACL-AF ``sh:construct`` / ``sh:update``) passes the same checks as a query sent
to ``/sparql``, with the same size and nesting limits (:mod:`kg_twin.limits`).

>>> check_client_sparql("SELECT * { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }", allowlist=[])
Traceback (most recent call last):
...
kg_twin.errors.Forbidden: [SERVICE_NOT_ALLOWED] SERVICE <http://127.0.0.1:9/x> is not in the server's allow-list
  hint: ask the administrator to add the endpoint to KG_TWIN_SERVICE_ALLOWLIST (SERVICE is disabled: the list is empty)
"""

from __future__ import annotations

from typing import Any, Sequence

from kg_twin.limits import DEFAULT, Limits, check_sparql
from kg_twin.sparql.lexer import check_no_load, check_services

SH = "http://www.w3.org/ns/shacl#"
_SPARQL_PREDICATES = ("select", "ask", "construct", "update")


def check_client_sparql(text: str, *, allowlist: Sequence[str], limits: Limits = DEFAULT, base: str | None = None, what: str = "SPARQL text") -> None:
    """Size and nesting limits, SERVICE allow-list, no LOAD: raise before any engine sees ``text``."""
    check_sparql(text, limits, what=what)
    check_services(text, list(allowlist), base=base)
    check_no_load(text)


def check_shapes(shapes: Any, *, allowlist: Sequence[str], limits: Limits = DEFAULT) -> None:
    """Apply :func:`check_client_sparql` to every SPARQL text of an rdflib shapes graph, with the
    prefixes its ``sh:prefixes`` declare (as the SHACL engines prepend them)."""
    import rdflib

    for local in _SPARQL_PREDICATES:
        for node, text in shapes.subject_objects(rdflib.URIRef(SH + local)):
            prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in _declared(shapes, node))
            check_client_sparql(prologue + str(text), allowlist=allowlist, limits=limits, what=f"sh:{local} of {node.n3() if hasattr(node, 'n3') else node}")


def _declared(shapes: Any, node: Any) -> list[tuple[str, str]]:
    import rdflib

    out: dict[str, str] = {}
    for holder in shapes.objects(node, rdflib.URIRef(SH + "prefixes")):
        for decl in shapes.objects(holder, rdflib.URIRef(SH + "declare")):
            prefix = shapes.value(decl, rdflib.URIRef(SH + "prefix"))
            ns = shapes.value(decl, rdflib.URIRef(SH + "namespace"))
            if prefix is not None and ns is not None:
                out[str(prefix)] = str(ns)
    return sorted(out.items())
