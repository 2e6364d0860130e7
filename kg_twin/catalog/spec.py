"""One named query: a ``.rq`` file with ``#+`` decorators, read and checked.

Decorators are YAML in comment lines starting with ``#+`` (the grlc convention)::

    #+ summary: Buildings whose footprint lies in an area
    #+ description: Longer text (Markdown).
    #+ tags: [geo, buildings]
    #+ defaults:
    #+   - metres: 100
    #+ enumerate:
    #+   - severity: [http://www.w3.org/ns/shacl#Violation, http://www.w3.org/ns/shacl#Warning]
    #+ pagination: 50
    #+ method: GET
    #+ example:
    #+   area: POLYGON((2.29 48.85, 2.30 48.85, 2.30 48.86, 2.29 48.86, 2.29 48.85))
    #+ parameters:
    #+   area: The area to search, a WKT polygon in longitude latitude order

Parameters come from variable names (see :mod:`kg_twin.catalog.params`). Values are bound
with pyoxigraph substitutions, which bind a SELECT variable only when it is *projected*:
list every parameter variable in the SELECT clause (and in GROUP BY for aggregates).
:func:`check` verifies this, the syntax, and the decorators, and says what to change.

>>> spec = parse("count-things", "#+ summary: Count things\\nSELECT ?_type_iri (COUNT(*) AS ?n) WHERE { ?s a ?_type_iri } GROUP BY ?_type_iri")
>>> spec.summary, [p.name for p in spec.parameters]
('Count things', ['type'])
>>> check(spec).variables
['_type_iri', 'n']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import yaml

from kg_twin.catalog.params import Parameter
from kg_twin.errors import InputError, KgTwinError
from kg_twin.limits import DEFAULT, Limits, check_sparql, load_yaml
from kg_twin.sparql.lexer import Prologue, tokenize, unescape_codepoints, without_services
from kg_twin.sparql.protocol import dataset_clauses, query_form
from kg_twin.store.functions import ExtensionFunctions

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KNOWN_KEYS = {"summary", "description", "tags", "defaults", "enumerate", "pagination", "method", "example", "parameters"}
UNSUPPORTED_KEYS = {
    "endpoint": "named queries always run on the calling project's own graphs; remove '#+ endpoint'",
    "endpoint_in_url": "named queries always run on the calling project's own graphs",
    "transform": "result transformations are not supported; shape the result in SPARQL",
}
MAX_PAGE_SIZE = 10_000


@dataclass
class QuerySpec:
    name: str
    text: str
    form: str = ""
    summary: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    pagination: int | None = None
    method: str = "GET"
    example: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)  # SELECT projection (after check)
    origin: str = "catalogue"  # catalogue | project
    path: str | None = None
    checked: bool = False

    def param(self, name: str) -> Parameter | None:
        for p in self.parameters:
            if p.name == name:
                return p
        return None

    @property
    def parameter_variables(self) -> set[str]:
        return {p.variable for p in self.parameters}

    @property
    def mentions_geometry(self) -> bool:
        t = self.text
        return "asWKT" in t or "wktLiteral" in t or "geof:" in t

    def formats(self) -> list[str]:
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            return ["turtle", "ntriples", "jsonld", "rdfxml"]
        out = ["json", "csv", "tsv", "xml"]
        if self.form == "SELECT" and self.mentions_geometry:
            out.append("geojson")
        return out

    def example_query_string(self) -> str:
        """Query string of the example call: ``#+ example`` values, then what a required parameter needs."""
        parts = []
        for p in self.parameters:
            v = self.example.get(p.name)
            if v is None and p.required and p.default is None:
                v = p.enum[0] if p.enum else None
                if v is None:
                    parts.append(f"{p.name}={{{p.name}}}")
                    continue
            if v is not None:
                parts.append(f"{p.name}={quote(str(v), safe=':/')}")
        return "&".join(parts)

    def to_dict(self, *, project: str | None = None, with_text: bool = True) -> dict[str, Any]:
        path = f"/projects/{project or '{project}'}/queries/{self.name}"
        qs = self.example_query_string()
        d: dict[str, Any] = {
            "name": self.name,
            "operationId": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "origin": self.origin,
            "form": self.form,
            "method": self.method,
            "path": path,
            "parameters": [p.to_dict() for p in self.parameters],
            "pagination": self.pagination,
            "formats": self.formats(),
            "variables": [v for v in self.variables],
            "example": path + ("?" + qs if qs else ""),
        }
        if with_text:
            d["sparql"] = self.text
        return d


def _decorators(name: str, text: str, limits: Limits = DEFAULT) -> dict[str, Any]:
    lines = []
    for i, row in enumerate(text.splitlines(), 1):
        s = row.lstrip()
        if s.startswith("#+"):
            lines.append((i, s[2:]))
    if not lines:
        return {}
    # keep relative indentation: strip the common single leading space most authors write after '#+'
    body = "\n".join(l[1:] if l.startswith(" ") else l for _, l in lines)
    try:
        meta = load_yaml(body, limits, what=f"query {name}: the '#+' decorators", loader=yaml.BaseLoader)  # every scalar stays a string
    except yaml.YAMLError as e:
        line = None
        mark = getattr(e, "problem_mark", None)
        if mark is not None and mark.line < len(lines):
            line = lines[mark.line][0]
        raise InputError(
            "BAD_DECORATOR",
            f"query {name}: the '#+' decorators are not valid YAML: {getattr(e, 'problem', e)}",
            where={"query": name, **({"line": line} if line else {})},
            hint="write one 'key: value' per '#+' line; lists as '#+ tags: [a, b]' or indented '#+   - item'",
        ) from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InputError("BAD_DECORATOR", f"query {name}: '#+' decorators must be 'key: value' lines", where={"query": name})
    return meta


def _as_list(v: Any) -> list[Any]:
    if v is None or v == "":
        return []
    return v if isinstance(v, list) else [v]


def _pairs(v: Any, what: str, name: str) -> list[tuple[str, Any]]:
    """``- a: 1`` lists or ``{a: 1}`` maps -> (key, value) pairs."""
    out: list[tuple[str, Any]] = []
    if isinstance(v, dict):
        return list(v.items())
    for item in _as_list(v):
        if isinstance(item, dict):
            out.extend(item.items())
        elif isinstance(item, str):
            out.append((item, None))
        else:
            raise InputError("BAD_DECORATOR", f"query {name}: cannot read '#+ {what}' item {item!r}", where={"query": name})
    return out


def parameters_of(text: str) -> tuple[list[Parameter], dict[str, str]]:
    """Parameters (in order of first use) and the PREFIX map of a query text."""
    toks = tokenize(unescape_codepoints(text))
    pro = Prologue()
    pro.feed(toks, 0)
    # PREFIX declarations may only appear in the prologue; collect them all the same
    seen: dict[str, Parameter] = {}
    by_name: dict[str, str] = {}
    for t in toks:
        if t.kind != "VAR":
            continue
        var = t.text[1:]
        if not var.startswith("_") or var in seen:
            continue
        p = Parameter.from_variable(var, pro.prefixes)
        if p.name in by_name and by_name[p.name] != var:
            raise InputError(
                "BAD_PARAMETER_NAME",
                f"?{var} and ?{by_name[p.name]} both define parameter {p.name!r}",
                hint="use one variable per parameter (the same variable may appear several times)",
            )
        by_name[p.name] = var
        seen[var] = p
    return list(seen.values()), pro.prefixes


def parse(name: str, text: str, *, origin: str = "catalogue", path: str | None = None, limits: Limits = DEFAULT) -> QuerySpec:
    """Read a named query (decorators + parameters); no evaluation. InputError on any problem."""
    if not NAME_RE.match(name or ""):
        raise InputError(
            "BAD_QUERY_NAME",
            f"invalid query name {name!r}",
            hint="use 1-64 characters: lowercase letters, digits, '-' and '_', e.g. list-sensors-by-zone",
        )
    where = {"query": name}
    try:
        check_sparql(text, limits, what=f"query {name}")
        meta = _decorators(name, text, limits)
        spec = QuerySpec(name=name, text=text, origin=origin, path=path)
        for k in meta:
            if k in UNSUPPORTED_KEYS:
                raise InputError("BAD_DECORATOR", f"query {name}: '#+ {k}' is not supported", hint=UNSUPPORTED_KEYS[k], where=where)
            if k not in KNOWN_KEYS:
                raise InputError("BAD_DECORATOR", f"query {name}: unknown decorator '#+ {k}'", hint="known: " + ", ".join(sorted(KNOWN_KEYS)), where=where)
        spec.summary = str(meta.get("summary") or "").strip()
        spec.description = str(meta.get("description") or "").strip()
        spec.tags = [str(t) for t in _as_list(meta.get("tags"))]
        spec.method = str(meta.get("method") or "GET").upper()
        if spec.method != "GET":
            raise InputError("BAD_DECORATOR", f"query {name}: method {spec.method} is not supported", hint="named queries are read-only: '#+ method: GET'", where=where)
        if meta.get("pagination") not in (None, ""):
            try:
                size = int(str(meta["pagination"]))
            except ValueError:
                raise InputError("BAD_DECORATOR", f"query {name}: '#+ pagination' must be a whole number of rows per page", where=where) from None
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise InputError("BAD_DECORATOR", f"query {name}: '#+ pagination' must be between 1 and {MAX_PAGE_SIZE}", where=where)
            spec.pagination = size
        spec.form = query_form(text)
        if spec.form not in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            raise InputError("NOT_A_QUERY", f"query {name}: not a SELECT, CONSTRUCT, DESCRIBE or ASK query", hint="named queries are read-only SPARQL queries", where=where)
        spec.parameters, _ = parameters_of(text)
        _apply_decorators(spec, meta)
        _no_bound_on_parameters(spec)
        dflt, named = dataset_clauses(text)
        if dflt or named:
            raise InputError(
                "DATASET_CLAUSE",
                f"query {name}: FROM / FROM NAMED clauses are not allowed in named queries",
                hint="a named query runs on the calling project's graphs (merged as the default graph, and each as a named graph for GRAPH ?g)",
                where=where,
            )
    except InputError as e:
        if "query" not in e.where:
            e.where = {"query": name, **e.where}
        raise
    return spec


def _no_bound_on_parameters(spec: QuerySpec) -> None:
    """BOUND(?param) does not see a substituted value in pyoxigraph 0.5: refuse it, point to COALESCE."""
    toks = tokenize(unescape_codepoints(spec.text))
    params = spec.parameter_variables
    for i, t in enumerate(toks[:-2]):
        if t.kind == "NAME" and t.upper == "BOUND" and toks[i + 1].text == "(" and toks[i + 2].kind == "VAR" and toks[i + 2].text[1:] in params:
            raise InputError(
                "BOUND_ON_PARAMETER",
                f"query {spec.name}: BOUND({toks[i + 2].text}) cannot test a parameter",
                hint=f"write the optional test as COALESCE(<condition using {toks[i + 2].text}>, true): the condition "
                "is an error (hence true) when the parameter is left out",
            )


def _find_param(spec: QuerySpec, key: str, what: str) -> Parameter:
    k = key.lstrip("?")
    for p in spec.parameters:
        if k in (p.name, p.variable):
            return p
    raise InputError(
        "BAD_DECORATOR",
        f"query {spec.name}: '#+ {what}' names {key!r}, which is not a parameter of this query",
        hint="parameters: " + (", ".join(p.name for p in spec.parameters) or "(none)"),
    )


def _apply_decorators(spec: QuerySpec, meta: dict[str, Any]) -> None:
    for key, values in _pairs(meta.get("enumerate"), "enumerate", spec.name):
        p = _find_param(spec, key, "enumerate")
        vals = [str(v) for v in _as_list(values)]
        if not vals:
            raise InputError(
                "BAD_DECORATOR",
                f"query {spec.name}: '#+ enumerate' for {key!r} needs its list of values",
                hint="write '#+ enumerate:' then '#+   - name: [value1, value2]'",
            )
        for v in vals:
            p.to_term(v)  # every allowed value must itself be valid
        p.enum = vals
    for key, value in _pairs(meta.get("defaults"), "defaults", spec.name):
        p = _find_param(spec, key, "defaults")
        if value is None or isinstance(value, (list, dict)):
            raise InputError("BAD_DECORATOR", f"query {spec.name}: default of {key!r} must be one value")
        p.to_term(str(value))
        p.default = str(value)
    for key, value in _pairs(meta.get("parameters"), "parameters", spec.name):
        p = _find_param(spec, key, "parameters")
        if value is None or isinstance(value, (list, dict)):
            raise InputError("BAD_DECORATOR", f"query {spec.name}: the description of {key!r} must be one line of text")
        p.description = str(value).strip()
    ex = meta.get("example")
    if ex not in (None, ""):
        for key, value in _pairs(ex, "example", spec.name):
            p = _find_param(spec, key, "example")
            if value is None or isinstance(value, (list, dict)):
                raise InputError("BAD_DECORATOR", f"query {spec.name}: example value of {key!r} must be one value")
            p.to_term(str(value))
            spec.example[p.name] = str(value)


def _probe_bindings(spec: QuerySpec) -> dict[str, Any]:
    from kg_twin.rdf import IRI, Literal

    out: dict[str, Any] = {}
    for p in spec.parameters:
        if p.kind == "iri":
            out[p.variable] = IRI("urn:x-kg-twin:probe")
        elif p.lang:
            out[p.variable] = Literal("probe", None, p.lang)
        else:
            out[p.variable] = Literal("0", p.datatype)
    return out


def _top_level_has(text: str, *words: str) -> bool:
    toks = tokenize(unescape_codepoints(text))
    depth = 0
    seen_brace = False
    for i, t in enumerate(toks):
        if t.text == "{":
            depth += 1
            seen_brace = True
        elif t.text == "}":
            depth -= 1
        elif depth == 0 and seen_brace and t.kind == "NAME" and t.upper == words[0]:
            if all(i + k < len(toks) and toks[i + k].upper == w for k, w in enumerate(words[1:], 1)):
                return True
    return False


def _not_projected(spec: QuerySpec, var: str) -> InputError:
    # pyoxigraph substitutes a value for a variable throughout the query only when the variable is
    # projected; the store's fallback for other variables (a VALUES block at the top of WHERE) does
    # not reach FILTERs inside nested groups, so named queries keep to the projected form.
    return InputError(
        "PARAMETER_NOT_PROJECTED",
        f"query {spec.name}: parameter variable ?{var} must be listed in the SELECT clause",
        hint=f"add ?{var} to SELECT (and to GROUP BY if the query aggregates): a parameter is bound "
        "throughout the query only when it is projected. SELECT * projects only variables used in patterns.",
        where={"query": spec.name},
    )


def paged_text(spec: QuerySpec, page: int) -> str:
    """The query text for one page: a LIMIT/OFFSET computed from integers, appended on a new line."""
    if spec.pagination is None:
        return spec.text
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise InputError("BAD_PARAMETER", f"parameter 'page': {page!r} is not a page number", errors=[{"parameter": "page"}])
    size = int(spec.pagination)
    return f"{spec.text}\nLIMIT {size} OFFSET {(page - 1) * size}\n"


def check(spec: QuerySpec, *, functions: ExtensionFunctions | None = None) -> QuerySpec:
    """Evaluate the query once on an empty in-memory store with probe values bound to every
    parameter: catches syntax errors (with line/column in the file), parameters that are not
    projected, and pagination on a query with its own LIMIT. Fills ``spec.variables``.
    ``functions``: the deployment's SPARQL extension functions (the query may call them)."""
    from kg_twin.settings import Settings
    from kg_twin.store import Dataset, QueryRequest, open_store

    where = {"query": spec.name}
    if not spec.summary:
        raise InputError("MISSING_SUMMARY", f"query {spec.name}: add a '#+ summary:' line", hint="one line saying what the query answers", where=where)
    scratch = open_store(Settings(store="memory"), functions=functions)
    bindings = _probe_bindings(spec)
    texts = [spec.text]
    if spec.pagination is not None:
        if _top_level_has(spec.text, "LIMIT") or _top_level_has(spec.text, "OFFSET"):
            raise InputError("PAGINATION_LIMIT", f"query {spec.name}: a paginated query must not have its own LIMIT/OFFSET", hint="remove LIMIT/OFFSET; '#+ pagination: N' adds them per page", where=where)
        if spec.form == "SELECT" and not _top_level_has(spec.text, "ORDER", "BY"):
            raise InputError("PAGINATION_ORDER", f"query {spec.name}: a paginated query needs ORDER BY so that pages are stable", hint="add ORDER BY on a key of each row", where=where)
        texts.append(paged_text(spec, 2))
    res = None
    for text in texts:
        try:
            # the check never calls a remote endpoint, allow-listed or not: SERVICE goes nowhere here
            res = scratch.query(QueryRequest(without_services(text), dataset=Dataset((), ()), bindings=bindings or None))
        except InputError as e:
            e.where = {**where, **e.where}
            e.message = f"query {spec.name}: {e.message}"
            raise
        except (KgTwinError, RuntimeError) as e:  # the store reports a projection problem as RuntimeError
            msg = e.message if isinstance(e, KgTwinError) else str(e)
            m = re.search(r"variable \?(\S+) in its SELECT projection", msg)
            if m:
                raise _not_projected(spec, m.group(1)) from None
            raise InputError("QUERY_CHECK_FAILED", f"query {spec.name}: {msg}", where=where) from None
    if res is not None and res.kind == "bindings":
        spec.variables = list(json.loads(res.body)["head"]["vars"])
        for p in spec.parameters:
            if p.variable not in spec.variables:
                raise _not_projected(spec, p.variable)
    spec.checked = True
    return spec
