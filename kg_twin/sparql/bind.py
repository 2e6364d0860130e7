"""Pre-binding variables without pasting user text into queries.

Values arrive as RDF terms already serialized by the RDF library (N-Triples syntax,
escaped by it), and are joined into the query's WHERE group as a ``VALUES`` block —
the standard SPARQL way to bind variables. Used where an engine's own substitution
(SEP-0007) cannot be used: remote engines, or a variable that is not projected.

>>> inject_values('SELECT ?o WHERE { ?s <http://p> ?o }', {"s": "<http://ex/a>"})
'SELECT ?o WHERE { VALUES ( ?s ) { ( <http://ex/a> ) } ?s <http://p> ?o }'
>>> inject_values('CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }', {"s": "<http://a>"})
'CONSTRUCT { ?s ?p ?o } WHERE { VALUES ( ?s ) { ( <http://a> ) } ?s ?p ?o }'
"""

from __future__ import annotations

from kg_twin.errors import InputError
from kg_twin.sparql.lexer import Prologue, tokenize


def _where_brace(text: str) -> int:
    """Character offset of the '{' opening the query's WHERE group."""
    toks = tokenize(text)
    i = Prologue().feed(toks, 0)
    form = ""
    depth = 0
    seen_template = False
    for k in range(i, len(toks)):
        t = toks[k]
        if t.kind == "NAME" and not form and t.upper in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            form = t.upper
            continue
        if t.text == "{":
            if depth == 0:
                if form == "CONSTRUCT" and not seen_template:
                    prev = toks[k - 1].upper if k > 0 else ""
                    if prev != "WHERE":
                        seen_template = True
                        depth += 1
                        continue
                return t.start
            depth += 1
        elif t.text == "}":
            depth -= 1
    raise InputError("SPARQL_SYNTAX", "could not find the query's WHERE clause", hint="write the query with an explicit WHERE { ... }")


def inject_values(text: str, terms: dict[str, str]) -> str:
    """Add ``VALUES (?a ?b) { (t1 t2) }`` at the start of the WHERE group.

    ``terms`` maps variable names to terms in N-Triples syntax (from an RDF library).
    """
    if not terms:
        return text
    pos = _where_brace(text)
    names = " ".join("?" + n.lstrip("?$") for n in terms)
    vals = " ".join(terms.values())
    return f"{text[: pos + 1]} VALUES ( {names} ) {{ ( {vals} ) }}{text[pos + 1 :]}"
