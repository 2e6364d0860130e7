"""RDF and SPARQL-results formats: names, media types, file extensions, negotiation.

The one format table of kg-twin: the store maps these names to its engine's enums, the
protocol negotiates with them, ingest names a source file's media type with them.

>>> rdf_format_from_name("ttl").media_type
'text/turtle'
>>> negotiate("application/json;q=0.5, text/csv", ["json", "xml", "csv", "tsv"], RESULT_FORMATS)
'csv'
>>> media_type_of("BATIMENT.shp"), media_type_of("model.owl"), media_type_of("points.csv")
('application/vnd.shp', 'application/rdf+xml', 'text/csv')
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from kg_twin.errors import NotAcceptable, UnsupportedMediaType


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    quads: bool = False  # can carry named graphs


RDF_FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("turtle", "text/turtle", ("ttl",), ("application/x-turtle",)),
        Format("ntriples", "application/n-triples", ("nt",), ("text/plain", "n-triples")),
        Format("nquads", "application/n-quads", ("nq",), ("text/x-nquads", "n-quads"), quads=True),
        Format("trig", "application/trig", ("trig",), ("application/x-trig",), quads=True),
        Format("jsonld", "application/ld+json", ("jsonld", "json-ld"), ()),
        Format("rdfxml", "application/rdf+xml", ("rdf", "owl", "xml"), ("application/xml", "text/xml", "rdf-xml")),
        Format("n3", "text/n3", ("n3",), ("text/rdf+n3",)),
    ]
}

RESULT_FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("json", "application/sparql-results+json", ("srj",), ("application/json",)),
        Format("xml", "application/sparql-results+xml", ("srx",), ("application/xml", "text/xml")),
        Format("csv", "text/csv", ("csv",), ()),
        Format("tsv", "text/tab-separated-values", ("tsv",), ()),
    ]
}

# source files ingest reads that are neither RDF nor SPARQL results (``.xml`` and ``.json``: any XML / JSON)
SOURCE_MEDIA_TYPES: dict[str, str] = {
    ".geojson": "application/geo+json", ".ifc": "application/x-step", ".shp": "application/vnd.shp",
    ".zip": "application/zip", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json", ".xml": "application/xml", ".pdf": "application/pdf", ".txt": "text/plain",
    ".md": "text/markdown",
}

# formats that may be *served* for graphs (N3 is accepted on input only)
GRAPH_OUTPUT = ["turtle", "ntriples", "jsonld", "rdfxml", "nquads", "trig"]
TRIPLE_OUTPUT = ["turtle", "ntriples", "jsonld", "rdfxml"]
DATASET_OUTPUT = ["trig", "nquads"]
RESULT_OUTPUT = ["json", "xml", "csv", "tsv"]


def _lookup(table: dict[str, Format], key: str) -> Format | None:
    key = key.strip().lower()
    if key in table:
        return table[key]
    for f in table.values():
        if key == f.media_type or key in f.extensions or key in f.aliases or key == f.name:
            return f
    short = {"nt": "ntriples", "nq": "nquads", "ttl": "turtle", "json-ld": "jsonld", "rdf": "rdfxml", "xml": "rdfxml"}
    if key in short:
        return table.get(short[key])
    return None


def rdf_format_from_name(name: str) -> Format:
    f = _lookup(RDF_FORMATS, name)
    if f is None:
        raise UnsupportedMediaType(
            "UNKNOWN_RDF_FORMAT",
            f"unknown RDF format {name!r}",
            hint="use one of: " + ", ".join(sorted(RDF_FORMATS)),
        )
    return f


def rdf_format_from_media_type(content_type: str | None) -> Format:
    if not content_type:
        raise UnsupportedMediaType("MISSING_CONTENT_TYPE", "no Content-Type given for RDF data", hint="send e.g. Content-Type: text/turtle")
    mt = content_type.split(";")[0].strip().lower()
    for f in RDF_FORMATS.values():
        if mt == f.media_type or mt in f.aliases:
            return f
    raise UnsupportedMediaType(
        "UNSUPPORTED_RDF_MEDIA_TYPE",
        f"unsupported RDF media type {mt!r}",
        hint="send one of: " + ", ".join(f.media_type for f in RDF_FORMATS.values()),
    )


def rdf_format_from_path(path: str) -> Format:
    name = path.lower()
    for suffix in (".gz",):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    f = _lookup(RDF_FORMATS, ext)
    if f is None:
        raise UnsupportedMediaType(
            "UNKNOWN_RDF_FORMAT",
            f"cannot tell the RDF format of {path!r} from its extension",
            hint="pass --format (turtle, ntriples, nquads, trig, jsonld, rdfxml, n3)",
        )
    return f


def media_type_of(filename: str) -> str:
    """Media type of a source file, by extension: RDF and SPARQL-results formats, then
    :data:`SOURCE_MEDIA_TYPES`, then the platform's guess (``application/octet-stream`` if none)."""
    ext = Path(filename).suffix.lower()
    if ext in SOURCE_MEDIA_TYPES:
        return SOURCE_MEDIA_TYPES[ext]
    for table in (RDF_FORMATS, RESULT_FORMATS):
        for f in table.values():
            if ext.lstrip(".") in f.extensions:
                return f.media_type
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    out = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        mt = bits[0].lower()
        if not mt:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((mt, q, i))
    return out


def negotiate(accept: str | None, candidates: list[str], table: dict[str, Format], default: str | None = None) -> str:
    """Pick the best format name among ``candidates`` for an Accept header.

    Honours q-values and wildcards; raises :class:`NotAcceptable` (406) when nothing fits.
    """
    default = default or candidates[0]
    if not accept or not accept.strip():
        return default
    best: tuple[float, int, int, str] | None = None  # (q, specificity, -order, name)
    for mt, q, order in _parse_accept(accept):
        if q <= 0:
            continue
        for rank, name in enumerate(candidates):
            f = table[name]
            types = (f.media_type,) + tuple(a for a in f.aliases if "/" in a)
            if mt == "*/*":
                spec, match = 0, True
            elif mt.endswith("/*"):
                spec, match = 1, any(t.startswith(mt[:-1]) for t in types)
            else:
                spec, match = 2, mt in types
            if not match:
                continue
            # wildcard matches prefer the default, then candidate order
            if spec < 2:
                rank_key = -(0 if name == default else rank + 1)
            else:
                rank_key = -rank
            key = (q, spec, rank_key, name)
            if best is None or key[:3] > best[:3]:
                best = key
    if best is None:
        raise NotAcceptable(
            "NOT_ACCEPTABLE",
            f"none of the requested media types can be produced: {accept}",
            hint="acceptable: " + ", ".join(table[c].media_type for c in candidates),
        )
    return best[3]
