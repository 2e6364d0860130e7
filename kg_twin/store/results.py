"""Serialization of SPARQL SELECT results with a row cap (JSON, XML, CSV, TSV).

Works on pyoxigraph solutions (inside the store package only). Rows are pulled
one by one, so a capped answer never materializes the rest of the result.
"""

from __future__ import annotations

import json
from typing import Any, Iterable
from xml.sax.saxutils import escape as _xml_escape

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _json_term(t: Any) -> dict[str, Any]:
    cls = type(t)
    if cls is ox.NamedNode:
        return {"type": "uri", "value": t.value}
    if cls is ox.Literal:
        d: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        else:
            dt = t.datatype.value
            if dt != XSD_STRING:
                d["datatype"] = dt
        return d
    if cls is ox.BlankNode:
        return {"type": "bnode", "value": t.value}
    if cls is ox.Triple:
        return {"type": "triple", "value": {"subject": _json_term(t.subject), "predicate": _json_term(t.predicate), "object": _json_term(t.object)}}
    raise TypeError(f"unexpected term {t!r}")


def collect(solutions: Iterable[Any], variables: list[str], max_rows: int | None) -> tuple[list[list[Any]], bool]:
    rows: list[list[Any]] = []
    truncated = False
    n = len(variables)
    for sol in solutions:
        if max_rows is not None and len(rows) >= max_rows:
            truncated = True
            break
        rows.append([sol[i] for i in range(n)])
    return rows, truncated


def to_json(variables: list[str], rows: list[list[Any]], truncated: bool) -> bytes:
    bindings = []
    for row in rows:
        b = {}
        for v, t in zip(variables, row):
            if t is not None:
                b[v] = _json_term(t)
        bindings.append(b)
    doc: dict[str, Any] = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    if truncated:
        doc["truncated"] = True
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml_term(t: Any) -> str:
    cls = type(t)
    if cls is ox.NamedNode:
        return f"<uri>{_xml_escape(t.value)}</uri>"
    if cls is ox.BlankNode:
        return f"<bnode>{_xml_escape(t.value)}</bnode>"
    if cls is ox.Literal:
        if t.language:
            return f'<literal xml:lang="{_xml_escape(t.language)}">{_xml_escape(t.value)}</literal>'
        dt = t.datatype.value
        if dt != XSD_STRING:
            return f'<literal datatype="{_xml_escape(dt)}">{_xml_escape(t.value)}</literal>'
        return f"<literal>{_xml_escape(t.value)}</literal>"
    if cls is ox.Triple:
        return (
            f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>"
        )
    raise TypeError(f"unexpected term {t!r}")


def to_xml(variables: list[str], rows: list[list[Any]], truncated: bool) -> bytes:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out.extend(f'<variable name="{_xml_escape(v)}"/>' for v in variables)
    if truncated:
        out.append('<link href="urn:x-kg-twin:truncated"/>')
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        for v, t in zip(variables, row):
            if t is not None:
                out.append(f'<binding name="{_xml_escape(v)}">{_xml_term(t)}</binding>')
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode("utf-8")


def _csv_cell(t: Any) -> str:
    if t is None:
        return ""
    cls = type(t)
    if cls is ox.BlankNode:
        v = "_:" + t.value
    elif cls is ox.Triple:
        v = str(t)
    else:
        v = t.value
    if any(c in v for c in ',"\r\n'):
        v = '"' + v.replace('"', '""') + '"'
    return v


def to_csv(variables: list[str], rows: list[list[Any]], truncated: bool) -> bytes:
    lines = [",".join(variables)]
    lines.extend(",".join(_csv_cell(t) for t in row) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _tsv_cell(t: Any) -> str:
    if t is None:
        return ""
    return str(t)  # pyoxigraph str() gives the N-Triples / SPARQL syntax, which TSV requires


def to_tsv(variables: list[str], rows: list[list[Any]], truncated: bool) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines.extend("\t".join(_tsv_cell(t) for t in row) for row in rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


SERIALIZERS = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv}


def boolean(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    if fmt == "csv":
        return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()
    if fmt == "tsv":
        return f"?_askResult\n{'true' if value else 'false'}\n".encode()
    raise ValueError(fmt)
