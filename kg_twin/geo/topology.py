"""The GeoSPARQL query rewrite extension: topological properties (``geo:sfWithin``, ``geo:ehMeet``,
``geo:rcc8po`` ... 24 of them) between features and geometries, answered from their geometries.

GeoSPARQL 1.0 clause 11 / 1.1 clause 11 define, for each topological property ``geo:R`` and its
function ``geof:R``, rules that entail ``S geo:R O`` when the geometries of ``S`` and ``O``
satisfy ``geof:R``: ``S`` and ``O`` are features (their ``geo:hasDefaultGeometry``) or geometries
(themselves), with a WKT or GML serialisation. kg-twin applies them as the standard suggests, by
rewriting the query: a triple pattern ``S geo:R O`` becomes

    { { S geo:R O } UNION { S G ?w1 . O G ?w2 . FILTER(geof:R(?w1, ?w2)) } }

with ``G`` = ``geo:asWKT|geo:asGML|geo:hasDefaultGeometry/(geo:asWKT|geo:asGML)`` (asserted triples
are still found; helper variables start with ``__kgt`` and never reach the answer).

>>> q = "PREFIX geo: <http://www.opengis.net/ont/geosparql#> SELECT ?f { ?f a geo:Feature ; geo:sfWithin <http://x/district> . }"
>>> print(expand(q))  # doctest: +NORMALIZE_WHITESPACE
PREFIX geo: <http://www.opengis.net/ont/geosparql#> SELECT ?f { ?f a geo:Feature ; . { { ?f <http://www.opengis.net/ont/geosparql#sfWithin> <http://x/district> } UNION { ?f (<http://www.opengis.net/ont/geosparql#asWKT>|<http://www.opengis.net/ont/geosparql#asGML>|<http://www.opengis.net/ont/geosparql#hasDefaultGeometry>/(<http://www.opengis.net/ont/geosparql#asWKT>|<http://www.opengis.net/ont/geosparql#asGML>)) ?__kgt_tw1a . <http://x/district> (<http://www.opengis.net/ont/geosparql#asWKT>|<http://www.opengis.net/ont/geosparql#asGML>|<http://www.opengis.net/ont/geosparql#hasDefaultGeometry>/(<http://www.opengis.net/ont/geosparql#asWKT>|<http://www.opengis.net/ont/geosparql#asGML>)) ?__kgt_tw1b . FILTER(<http://www.opengis.net/def/function/geosparql/sfWithin>(?__kgt_tw1a, ?__kgt_tw1b)) } } }
"""

from __future__ import annotations

from kg_twin.errors import KgTwinError
from kg_twin.geo.relations import PATTERNS
from kg_twin.sparql.lexer import Prologue, Token, tokenize, unescape_codepoints

GEO = "http://www.opengis.net/ont/geosparql#"
GEOF = "http://www.opengis.net/def/function/geosparql/"
PROPERTIES = frozenset(GEO + n for n in PATTERNS)
_SER = f"<{GEO}asWKT>|<{GEO}asGML>"
GEOMETRY_PATH = f"({_SER}|<{GEO}hasDefaultGeometry>/({_SER}))"
_TERM_KINDS = ("VAR", "IRI", "PNAME", "BNODE")
_STATEMENT_START = ("{", "}", ".")


def _term(pro: Prologue, tok: Token) -> str:
    """A subject/object token as absolute text (prefixed names expanded: the group is self-contained)."""
    if tok.kind in ("IRI", "PNAME"):
        return f"<{pro.resolve(tok)}>"
    return tok.text


def expand(text: str, base: str | None = None) -> str:
    """``text`` with every simple ``S geo:R O`` triple pattern expanded by the rewrite rules (module doc).

    Patterns inside object lists (``geo:sfWithin ?a, ?b``) or with a property path are left as they are.
    """
    if "#sf" not in text and "#eh" not in text and "#rcc8" not in text and "geo:" not in text:
        return text
    try:
        src = unescape_codepoints(text)
        toks = tokenize(src)
    except KgTwinError:
        return text
    pro = Prologue(base)
    i = pro.feed(toks, 0)
    edits: list[tuple[int, int, str]] = []  # (start char, end char, replacement)
    n = 0
    depth_stack: list[int] = []
    for k in range(i, len(toks)):
        t = toks[k]
        if t.kind == "PUNCT" and t.text in "{([":
            depth_stack.append(k)
        elif t.kind == "PUNCT" and t.text in "})]" and depth_stack:
            depth_stack.pop()
        if t.kind not in ("IRI", "PNAME") or not depth_stack or toks[depth_stack[-1]].text != "{":
            continue
        try:
            iri = pro.resolve(t)
        except KgTwinError:
            return text
        if iri not in PROPERTIES or k + 1 >= len(toks) or k < 1:
            continue
        obj, after = toks[k + 1], toks[k + 2] if k + 2 < len(toks) else None
        if obj.kind not in _TERM_KINDS or after is None or after.kind != "PUNCT" or after.text not in (".", ";", "}"):
            continue
        prev = toks[k - 1]
        subj_idx: int | None = None
        if prev.kind in _TERM_KINDS and (k < 2 or (toks[k - 2].kind == "PUNCT" and toks[k - 2].text in _STATEMENT_START)):
            subj_idx = k - 1
        elif prev.kind == "PUNCT" and prev.text == ";":
            j = k - 1  # walk back to the statement's subject
            level = 0
            while j > 0:
                tj = toks[j - 1]
                if tj.kind == "PUNCT" and tj.text in ")]}":
                    level += 1
                elif tj.kind == "PUNCT" and tj.text in "([{":
                    if level == 0:
                        break
                    level -= 1
                elif level == 0 and tj.kind == "PUNCT" and tj.text == ".":
                    break
                j -= 1
            if toks[j].kind in _TERM_KINDS and toks[j + 1].kind in ("IRI", "PNAME", "NAME", "VAR"):
                subj_idx = j
        if subj_idx is None:
            continue
        n += 1
        s, o = _term(pro, toks[subj_idx]), _term(pro, obj)
        w1, w2 = f"?__kgt_tw{n}a", f"?__kgt_tw{n}b"
        fn = GEOF + iri[len(GEO):]
        group = (f"{{ {{ {s} <{iri}> {o} }} UNION {{ {s} {GEOMETRY_PATH} {w1} . {o} {GEOMETRY_PATH} {w2} . "
                 f"FILTER(<{fn}>({w1}, {w2})) }} }}")
        if subj_idx == k - 1 and after.text in (".", "}"):
            edits.append((toks[subj_idx].start, obj.end, group))  # the whole statement
        else:  # one predicate of a ';' list: drop it (an empty ';' segment is valid), add the group after the statement
            edits.append((t.start, obj.end, ""))
            end = k + 2
            level = 0
            while end < len(toks):
                te = toks[end]
                if te.kind == "PUNCT" and te.text in "([{":
                    level += 1
                elif te.kind == "PUNCT" and te.text in ")]}":
                    if level == 0:
                        break
                    level -= 1
                elif level == 0 and te.kind == "PUNCT" and te.text == ".":
                    end += 1
                    break
                end += 1
            pos = toks[end - 1].end if end <= len(toks) and toks[end - 1].text == "." else toks[min(end, len(toks) - 1)].start
            sep = "" if toks[end - 1].text == "." else " . "
            edits.append((pos, pos, f"{sep} {group} "))
    if not edits:
        return text
    out, last = [], 0
    for start, stop, rep in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(src[last:start])
        out.append(rep)
        last = max(last, stop)
    out.append(src[last:])
    return "".join(out)
