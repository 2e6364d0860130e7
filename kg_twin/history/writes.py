"""Which graphs a SPARQL update writes, and whether it is made of plain data operations.

The recorder needs to know the graphs a write can change (it captures their delta) without
running it. This reads the update's tokens (:mod:`kg_twin.sparql.lexer`): graphs named in
``INSERT DATA`` / ``DELETE DATA`` / ``DELETE WHERE`` blocks and in ``INSERT``/``DELETE`` templates
(and ``WITH``), the targets of ``CLEAR``/``DROP``/``ADD``/``MOVE``/``COPY``/``LOAD`` (and the source
of ``MOVE``). Graphs only read (``WHERE``, ``USING``) are not written. A graph variable in a
template, ``DROP ALL`` or ``DROP NAMED`` can write any graph: ``wildcard``.

>>> w = analyze("INSERT DATA { GRAPH <http://g/1> { <s> <p> <o> } } ; DELETE DATA { GRAPH <http://g/2> { <s> <p> <o> } }")
>>> sorted(w.written), w.wildcard, [op.kind for op in w.ops]
(['http://g/1', 'http://g/2'], False, ['INSERT DATA', 'DELETE DATA'])
>>> w = analyze("PREFIX : <http://x/> INSERT { GRAPH :g { ?s ?p 1 } } USING <http://r> WHERE { GRAPH <http://r2> { ?s ?p ?o } }")
>>> sorted(w.written), w.ops[0].kind
(['http://x/g'], 'MODIFY')
>>> analyze("MOVE <http://a> TO <http://b>").written == {"http://a", "http://b"}
True
>>> analyze("INSERT { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }").wildcard
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg_twin.sparql.lexer import Prologue, Token, tokenize, unescape_codepoints
from kg_twin.sparql.confine import match_brace


@dataclass
class Op:
    kind: str  # INSERT DATA, DELETE DATA, DELETE WHERE, MODIFY, CLEAR, DROP, CREATE, ADD, MOVE, COPY, LOAD
    start: int  # token range of the operation (prologue excluded)
    end: int
    graphs: list[str] = field(default_factory=list)  # graphs of the DATA block, in order
    plain: bool = True  # DATA block: every triple inside GRAPH <iri> { }, no blank node


@dataclass
class Writes:
    written: set[str] = field(default_factory=set)
    wildcard: bool = False
    ops: list[Op] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)  # IRIs and string literals seen (to find projects)
    toks: list[Token] = field(default_factory=list)
    prologue: bool = False  # the text declares PREFIX/BASE

    @property
    def data_only(self) -> bool:
        """Every operation is INSERT DATA / DELETE DATA of triples in named graphs, without blank nodes."""
        return bool(self.ops) and all(o.kind in ("INSERT DATA", "DELETE DATA") and o.plain for o in self.ops)


def analyze(text: str, base: str | None = None) -> Writes:
    toks = tokenize(unescape_codepoints(text))
    pro = Prologue(base)
    w = Writes(toks=toks)

    def iri(t: Token) -> str | None:
        return pro.resolve(t) if t.kind in ("IRI", "PNAME") else None

    def graphs_in(a: int, b: int, op: Op | None = None) -> None:
        """GRAPH x { } groups in tokens a..b (a template or a data block)."""
        k = a
        depth = 0
        while k < b:
            t = toks[k]
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
            elif t.kind == "NAME" and t.upper == "GRAPH" and k + 1 < b:
                g = toks[k + 1]
                if g.kind == "VAR":
                    w.wildcard = True
                elif (name := iri(g)) is not None:
                    w.written.add(name)
                    if op is not None:
                        op.graphs.append(name)
                k += 2
                continue
            elif op is not None and depth == 1:
                op.plain = False  # a triple outside GRAPH: the store's default graph
            if op is not None and (t.kind == "BNODE" or t.text == "["):
                op.plain = False
            k += 1

    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "NAME" and t.upper in ("BASE", "PREFIX"):
            j = pro.feed(toks, i)
            if j > i:
                w.prologue = True
                i = j
                continue
        if t.kind in ("IRI", "STRING"):
            w.strings.append(t.text[1:-1] if t.kind == "IRI" else t.text.strip("\"'"))
        if t.text == ";" or t.kind != "NAME":
            i += 1
            continue
        kw = t.upper
        start = i
        nxt = toks[i + 1].upper if i + 1 < n and toks[i + 1].kind == "NAME" else ""
        if kw in ("INSERT", "DELETE") and nxt in ("DATA", "WHERE"):
            op = Op(f"{kw} {nxt}", start, 0)
            o = i + 2
            c = match_brace(toks, o)
            graphs_in(o, c + 1, op if nxt == "DATA" else None)
            if nxt == "WHERE":
                op.plain = False
            op.end = c + 1
        elif kw in ("INSERT", "DELETE", "WITH"):
            op = Op("MODIFY", start, 0, plain=False)
            k = i
            while k < n and toks[k].text != ";":
                u = toks[k]
                if u.kind == "NAME" and u.upper == "WITH" and k + 1 < n:
                    if (g := iri(toks[k + 1])) is not None:
                        w.written.add(g)
                    k += 2
                    continue
                if u.kind == "NAME" and u.upper in ("INSERT", "DELETE") and k + 1 < n and toks[k + 1].text == "{":
                    c = match_brace(toks, k + 1)
                    graphs_in(k + 1, c + 1)
                    k = c + 1
                    continue
                if u.kind == "NAME" and u.upper == "WHERE" and k + 1 < n and toks[k + 1].text == "{":
                    k = match_brace(toks, k + 1) + 1
                    break
                if u.kind in ("IRI", "STRING"):
                    w.strings.append(u.text[1:-1] if u.kind == "IRI" else u.text.strip("\"'"))
                k += 1
            op.end = k
        elif kw in ("CLEAR", "DROP", "CREATE", "LOAD", "ADD", "MOVE", "COPY"):
            op = Op(kw, start, 0, plain=False)
            k = i + 1
            names: list[str | None] = []
            while k < n and toks[k].text != ";":
                u = toks[k]
                if u.kind == "NAME" and u.upper in ("ALL", "NAMED"):
                    w.wildcard = True
                elif u.kind == "NAME" and u.upper == "DEFAULT":
                    names.append(None)
                elif (g := iri(u)) is not None:
                    names.append(g)
                    w.strings.append(g)
                k += 1
            op.end = k
            if kw in ("CLEAR", "DROP", "LOAD"):
                targets = names[-1:]
            elif kw == "CREATE":
                targets = []
            else:
                targets = names[-1:] + (names[:1] if kw == "MOVE" else [])
            w.written.update(g for g in targets if g is not None)
        else:
            i += 1
            continue
        w.ops.append(op)
        i = max(op.end, i + 1)
    return w
