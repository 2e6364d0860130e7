"""Confine a SPARQL 1.1 Update to one project's dataset.

The store holds every project in one dataset, so an update sent to
``/projects/{p}/sparql`` is rewritten before it runs (see :mod:`kg_twin.sparql.dataset` for
how client graph IRIs map to stored names):

* every graph IRI the update names (any IRI the client chooses) becomes the project's stored
  name for it; names kg-twin reserves are refused (400);
* the *default graph* of the update (INSERT DATA triples outside GRAPH, DELETE/INSERT
  templates, CLEAR/DROP DEFAULT, ADD/MOVE/COPY DEFAULT) is the project's default graph;
* the WHERE clause of DELETE/INSERT sees the project's dataset only (``USING`` /
  ``USING NAMED`` are injected; user-given ones are mapped), with ``GRAPH ?g`` binding client names;
* a graph variable in a template is mapped to the stored name of the graph it is bound to
  (a reserved name or a non-IRI leaves the quad out, as an unbound variable does);
* ``CLEAR/DROP NAMED|ALL`` expand to the project's graphs; ``LOAD`` is refused
  (``LOAD SILENT`` does nothing, as the standard says of a failing silent operation).

>>> from kg_twin.sparql.dataset import ProjectDataset
>>> c = Confinement(ProjectDataset("http://t/graph/p/", "default"), graphs=["http://t/graph/p/default"])
>>> print(confine_update('INSERT DATA { <s> <p> 1 GRAPH <http://e/g> { <s> <p> 2 } }', c, base="http://x/"))
INSERT DATA { GRAPH <http://t/graph/p/default> { <http://x/s> <http://x/p> 1 } GRAPH <http://t/graph/p/~/http://e/g> { <http://x/s> <http://x/p> 2 } }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from kg_twin.errors import Forbidden, InputError
from kg_twin.sparql.dataset import HELPER_PREFIX, ProjectDataset, _GraphRewriter
from kg_twin.sparql.lexer import Prologue, Token, tokenize, unescape_codepoints


@dataclass
class Confinement:
    ds: ProjectDataset  # naming and default-graph rules of the project
    graphs: list[str]  # the project's existing visible stored graphs (default included, inferred not)
    using_default: list[str] = field(default_factory=list)  # protocol using-graph-uri (stored names)
    using_named: list[str] = field(default_factory=list)  # protocol using-named-graph-uri (stored names)

    @property
    def default_graph(self) -> str:
        return self.ds.default_graph


def _iri(i: str) -> str:
    return f"<{i}>"


def match_brace(toks: list[Token], i: int) -> int:
    """Index of the '}' closing the '{' at toks[i]."""
    if i >= len(toks) or toks[i].text != "{":
        raise InputError("SPARQL_SYNTAX", "expected '{'", hint="check the update's braces")
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "{":
            depth += 1
        elif toks[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    raise InputError("SPARQL_SYNTAX", "unbalanced braces in update", hint="every '{' needs a matching '}'")


class _Rewriter:
    def __init__(self, text: str, conf: Confinement, base: str | None) -> None:
        self.text = unescape_codepoints(text)
        self.toks = tokenize(self.text)
        self.conf = conf
        self.pro = Prologue(base)
        # WHERE clauses: GRAPH patterns rewritten as for queries, every IRI written absolute
        self.where_rw = _GraphRewriter(conf.ds, self.text, base, self.toks, self.pro, absolute=True)
        self.where_rw.named = conf.ds.named_graphs(sorted(set(conf.graphs)))
        self.template_vars = 0
        # graphs named so far: an operation must see graphs an earlier operation of
        # the same request created, which the precomputed conf.graphs cannot list
        self.mentioned: set[str] = set()

    # helpers -------------------------------------------------------------
    def src(self, a: int, b: int) -> str:
        """Source text of tokens a..b-1 (data), graph IRIs mapped and every IRI absolute."""
        parts: list[str] = []
        toks = self.toks
        k = a
        while k < b:
            t = toks[k]
            if t.kind == "NAME" and t.upper == "GRAPH" and k + 1 < b:
                g = toks[k + 1]
                if g.kind in ("IRI", "PNAME"):
                    parts.append(f"GRAPH {_iri(self.owned(g))}")
                    k += 2
                    continue
            if t.kind == "IRI":
                parts.append(_iri(self.pro.resolve(t) or t.text[1:-1]))
            elif t.kind == "PNAME":
                parts.append(_iri(self.pro.resolve(t) or ""))
            else:
                parts.append(t.text)
            k += 1
        return " ".join(parts)

    def template(self, a: int, b: int, binds: list[str]) -> str:
        """A DELETE/INSERT template: like :meth:`src`, and ``GRAPH ?g`` writes to the stored name of
        the graph ``?g`` is bound to (a BIND added to the WHERE clause computes it)."""
        toks = self.toks
        parts: list[str] = []
        seen: dict[str, str] = {}
        start = a
        for k in range(a, b - 1):
            if toks[k].kind == "NAME" and toks[k].upper == "GRAPH" and toks[k + 1].kind == "VAR":
                parts.append(self.src(start, k))
                name = toks[k + 1].text[1:]
                if name not in seen:
                    self.template_vars += 1
                    seen[name] = f"?{HELPER_PREFIX}_t{self.template_vars}"
                    binds.append(f"BIND({self.conf.ds.stored_expr('?' + name)} AS {seen[name]})")
                parts.append(f"GRAPH {seen[name]}")
                start = k + 2
        parts.append(self.src(start, b))
        return " ".join(p for p in parts if p)

    def where(self, a: int, b: int, binds: list[str]) -> str:
        """A WHERE group (tokens a..b-1, braces included) with the template BINDs at its end."""
        self.where_rw.named = self.named()
        body = self.where_rw.emit(a, b)
        if binds:
            body = body[:-1] + binds + ["}"]
        return " ".join(body)

    def owned(self, tok: Token) -> str:
        iri = self.pro.resolve(tok)
        if iri is None:
            raise InputError("SPARQL_SYNTAX", f"expected a graph IRI, found {tok.text!r}")
        stored = self.conf.ds.stored(iri)
        self.mentioned.add(stored)
        return stored

    def expect_name(self, i: int, *names: str) -> bool:
        return i < len(self.toks) and self.toks[i].kind == "NAME" and self.toks[i].upper in names

    def named(self) -> list[str]:
        return sorted(set(self.conf.ds.named_graphs(sorted(set(self.conf.graphs) | self.mentioned))))

    def graph_ref(self, i: int, allow: tuple[str, ...]) -> tuple[list[str], int]:
        """GraphRef / GraphRefAll / GraphOrDefault at toks[i] -> (graph IRIs, next index)."""
        t = self.toks[i]
        if t.kind == "NAME" and t.upper == "GRAPH":
            return [self.owned(self.toks[i + 1])], i + 2
        if t.kind in ("IRI", "PNAME"):
            return [self.owned(t)], i + 1
        if t.kind == "NAME" and t.upper in allow:
            if t.upper == "DEFAULT":
                return [self.conf.default_graph], i + 1
            if t.upper == "NAMED":
                return self.named(), i + 1
            if t.upper == "ALL":
                return sorted(set(self.named()) | {self.conf.default_graph}), i + 1
        raise InputError("SPARQL_SYNTAX", f"unexpected {t.text!r} where a graph was expected", hint="write GRAPH <iri>, DEFAULT, NAMED or ALL")

    def quad_data(self, a: int, b: int) -> str:
        """Body of INSERT DATA / DELETE DATA between braces a..b: wrap default-graph triples."""
        toks = self.toks
        pieces: list[str] = []
        seg_start = a + 1
        k = a + 1
        while k < b:
            t = toks[k]
            if t.kind == "NAME" and t.upper == "GRAPH":
                if seg_start < k:
                    pieces.append(f"GRAPH {_iri(self.conf.default_graph)} {{ {self.src(seg_start, k)} }}")
                close = match_brace(toks, k + 2)
                if toks[k + 1].kind == "VAR":
                    raise InputError("SPARQL_SYNTAX", "variables are not allowed in INSERT DATA / DELETE DATA")
                pieces.append(self.src(k, close + 1))
                k = close + 1
                seg_start = k
                continue
            k += 1
        if seg_start < b and any(toks[x].text != "." for x in range(seg_start, b)):
            pieces.append(f"GRAPH {_iri(self.conf.default_graph)} {{ {self.src(seg_start, b)} }}")
        return "{ " + " ".join(pieces) + " }"

    def using_clause(self, default_graphs: list[str]) -> str:
        dg = sorted(set(default_graphs))
        return " ".join([f"USING {_iri(g)}" for g in dg] + [f"USING NAMED {_iri(g)}" for g in self.named()])

    def project_default(self) -> list[str]:
        """The WHERE clause's default graph when the update names none (the project's dataset)."""
        return self.conf.ds.default_graphs(sorted(set(self.conf.graphs) | {self.conf.default_graph}), inferred=True)

    # operations ----------------------------------------------------------
    def run(self) -> str:
        toks = self.toks
        i = 0
        ops: list[str] = []
        while i < len(toks):
            i = self.pro.feed(toks, i)
            if i >= len(toks):
                break
            i, op = self.operation(i)
            if op:
                ops.append(op)
            if i < len(toks):
                if toks[i].text != ";":
                    raise InputError("SPARQL_SYNTAX", f"expected ';' between update operations, found {toks[i].text!r}")
                i += 1
        return " ;\n".join(ops)

    def operation(self, i: int) -> tuple[int, str]:
        toks = self.toks
        t = toks[i]
        kw = t.upper if t.kind == "NAME" else ""
        if kw == "LOAD":
            if self.expect_name(i + 1, "SILENT"):
                # a silent operation that cannot run succeeds without effect (SPARQL 1.1 Update 3.1)
                j = i + 3
                if self.expect_name(j, "INTO"):
                    j += 3 if self.expect_name(j + 1, "GRAPH") else 2
                return j, ""
            raise Forbidden("LOAD_DISABLED", "SPARQL LOAD is disabled on this server", hint="upload the data with the Graph Store Protocol (PUT/POST /projects/{p}/graphs) or `kg-twin load`")
        if kw in ("CLEAR", "DROP", "CREATE"):
            j = i + 1
            silent = self.expect_name(j, "SILENT")
            if silent:
                j += 1
            graphs, j = self.graph_ref(j, ("DEFAULT", "NAMED", "ALL") if kw != "CREATE" else ())
            s = " SILENT" if silent else ""
            if kw == "CREATE":
                return j, f"CREATE{s} GRAPH {_iri(graphs[0])}"
            # DROP/CLEAR of the (always existing) default graph or of expansions must not fail
            s2 = " SILENT" if silent or toks[i + 1 + int(silent)].upper in ("DEFAULT", "NAMED", "ALL") else ""
            ops = [f"{kw}{s2} GRAPH {_iri(g)}" for g in graphs]
            return j, " ;\n".join(ops)
        if kw in ("ADD", "MOVE", "COPY"):
            j = i + 1
            silent = self.expect_name(j, "SILENT")
            if silent:
                j += 1
            src, j = self.graph_ref(j, ("DEFAULT",))
            if not self.expect_name(j, "TO"):
                raise InputError("SPARQL_SYNTAX", f"expected TO in {kw}")
            dst, j = self.graph_ref(j + 1, ("DEFAULT",))
            s = " SILENT" if silent or src[0] == self.conf.default_graph else ""
            return j, f"{kw}{s} GRAPH {_iri(src[0])} TO GRAPH {_iri(dst[0])}"
        if kw in ("INSERT", "DELETE") and self.expect_name(i + 1, "DATA"):
            close = match_brace(toks, i + 2)
            return close + 1, f"{kw} DATA {self.quad_data(i + 2, close)}"
        if kw == "DELETE" and self.expect_name(i + 1, "WHERE"):
            close = match_brace(toks, i + 2)
            binds: list[str] = []
            template = self.template(i + 2, close + 1, binds)
            where = self.where(i + 2, close + 1, binds)
            using = self.using_clause(self.project_default())
            return close + 1, f"WITH {_iri(self.conf.default_graph)} DELETE {template} {using} WHERE {where}"
        if kw in ("WITH", "INSERT", "DELETE"):
            return self.modify(i)
        raise InputError("SPARQL_SYNTAX", f"unexpected {t.text!r} at the start of an update operation", hint="expected INSERT, DELETE, WITH, CLEAR, DROP, CREATE, ADD, MOVE or COPY")

    def modify(self, i: int) -> tuple[int, str]:
        toks = self.toks
        with_graph = None
        if self.expect_name(i, "WITH"):
            with_graph = self.owned(toks[i + 1])
            i += 2
        templates: list[tuple[str, int, int]] = []
        for kw in ("DELETE", "INSERT"):
            if self.expect_name(i, kw):
                close = match_brace(toks, i + 1)
                templates.append((kw, i + 1, close + 1))
                i = close + 1
        if not templates:
            raise InputError("SPARQL_SYNTAX", "expected DELETE { } and/or INSERT { } after WITH")
        using_default: list[str] = []
        using_named: list[str] = []
        while self.expect_name(i, "USING"):
            if self.expect_name(i + 1, "NAMED"):
                using_named.append(self.owned(toks[i + 2]))
                i += 3
            else:
                using_default.append(self.owned(toks[i + 1]))
                i += 2
        if not self.expect_name(i, "WHERE"):
            raise InputError("SPARQL_SYNTAX", "expected WHERE in DELETE/INSERT")
        close = match_brace(toks, i + 1)
        binds: list[str] = []
        parts = [f"{kw} {self.template(a, b, binds)}" for kw, a, b in templates]
        where = self.where(i + 1, close + 1, binds)
        protocol_using = bool(self.conf.using_default or self.conf.using_named)
        if protocol_using and (using_default or using_named or with_graph):
            raise InputError(
                "PROTOCOL",
                "using-graph-uri / using-named-graph-uri cannot be combined with USING, USING NAMED or WITH in the update",
                hint="give the dataset either in the request parameters or in the update text",
            )
        if protocol_using:
            using_default, using_named = list(self.conf.using_default), list(self.conf.using_named)
        if using_default or using_named:
            # explicit dataset: keep it (mapped); an absent half is empty, as the standard says
            using = " ".join([f"USING {_iri(g)}" for g in using_default] + [f"USING NAMED {_iri(g)}" for g in using_named])
            if not using_default:
                using += f" USING {_iri(self.conf.ds.prefix + HELPER_PREFIX + '-empty')}"
            if not using_named:
                using += f" USING NAMED {_iri(self.conf.ds.prefix + HELPER_PREFIX + '-empty')}"
        elif with_graph:
            using = self.using_clause([with_graph])
        else:
            using = self.using_clause(self.project_default())
        target = with_graph or self.conf.default_graph
        return close + 1, f"WITH {_iri(target)} {' '.join(parts)} {using} WHERE {where}"


def confine_update(text: str, conf: Confinement, *, base: str | None = None) -> str:
    """Rewrite ``text`` so it reads and writes only the project's graphs (see module doc)."""
    return _Rewriter(text, conf, base).run()
