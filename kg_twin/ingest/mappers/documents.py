"""Document records -> DCAT / Dublin Core / SPDX metadata and links to assets.

Output (``d`` = ``{base}id/{project}/document/{sha256}``, the same content always gives the same IRI)::

    d a kgt:Document, foaf:Document, dcat:Distribution ;
      rdfs:label "AHU-1 manual" ; dcterms:title "AHU-1 manual" ; kgt:fileName "AHU-1_manual.pdf" ;
      dcat:mediaType <https://www.iana.org/assignments/media-types/application/pdf> ; dcterms:format "application/pdf" ;
      dcat:byteSize "48213"^^xsd:nonNegativeInteger ; kgt:sha256 "..." ;
      spdx:checksum <{base}id/{project}/checksum/{sha256}> ;
      dcterms:created "..."^^xsd:dateTime ; dcterms:modified "..."^^xsd:dateTime ;
      kgt:source <source> ; kgt:origin "AHU-1_manual.pdf" ;
      dcterms:subject <asset> ; kgt:documents <asset> .
    <checksum> a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue "..."^^xsd:hexBinary .

``dcat:mediaType`` and ``dcat:byteSize`` are DCAT distribution properties, hence ``dcat:Distribution``.

Linking. ``ctx.options["lookup"]`` is a callable ``(text) -> list[IRI]`` supplied by the pipeline that
answers "which entities of this project have this label, identifier or IFC GlobalId" (case-insensitive);
:func:`store_lookup` builds one over a :class:`~kg_twin.store.base.GraphStore`, :func:`triples_lookup`
over triples in memory. ``ctx.options["subjects"]`` may name the linked IRIs explicitly.
``propose`` writes every link candidate with a confidence; ``map`` emits those with a confidence
at or above ``link_threshold`` (0.75): whole-stem match 1.0, leading-part match 0.85, a name matching
several entities 0.5 (left for review).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, Triple
from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, RDF_TYPE, XSD, XSD_DATETIME, XSD_INTEGER, Literal
from kg_twin.terms import DCAT, DCTERMS, FOAF, KGT, RDFS, REF

SPDX = "http://spdx.org/rdf/terms#"
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"
A = IRI(RDF_TYPE)
DEFAULT_THRESHOLD = 0.75

Lookup = Callable[[str], list[str]]


def _title_from_name(name: str) -> str:
    return Path(name).stem.replace("_", " ").strip() or name


def propose_document(records: list[Record], ctx: MapContext) -> dict[str, Any]:
    if len(records) != 1:
        raise InputError("DOCUMENT_RECORDS", f"one document record expected, got {len(records)}")
    f = records[0].fields
    title_src = "PDF document information" if f.get("title") else "file name"
    links: list[dict[str, Any]] = []
    for iri in ctx.options.get("subjects") or []:
        links.append({"iri": str(iri), "matched": None, "confidence": 1.0, "reason": "given by the caller"})
    lookup: Lookup | None = ctx.options.get("lookup")
    if lookup is not None and not links:
        candidates = f.get("candidates") or []
        for rank, cand in enumerate(candidates):
            hits = sorted(set(lookup(cand)))
            if not hits:
                continue
            base = 1.0 if rank == 0 else 0.85
            where = "whole file name" if rank == 0 else "leading part of the file name"
            for iri in hits:
                conf = base if len(hits) == 1 else 0.5
                reason = f"{where} {cand!r} is the label/identifier of " + ("this entity" if len(hits) == 1 else f"{len(hits)} entities: review")
                links.append({"iri": iri, "matched": cand, "confidence": conf, "reason": reason})
            break
    dates: dict[str, Any] = {}
    for k in ("created", "modified"):
        if f.get(k):
            dates[k] = f[k]
    if "modified" not in dates and f.get("mtime"):
        dates["modified"] = f["mtime"]
        dates["modified_source"] = "file system modification time"
    elif dates:
        dates["source"] = "PDF document information"
    return {
        "handler": "document",
        "title": {"value": f.get("title") or _title_from_name(f["name"]), "source": title_src, "confidence": 0.9 if f.get("title") else 0.7},
        "media_type": {"value": f["media_type"], "source": f.get("media_type_source"), "confidence": 1.0 if f.get("media_type_source") == "magic bytes" else 0.8},
        "dates": dates,
        "links": links,
        "link_threshold": DEFAULT_THRESHOLD,
        "notes": [f["metadata_error"]] if f.get("metadata_error") else [],
    }


def _dt_literal(v: str) -> Literal:
    return Literal(v, XSD_DATETIME)


def map_document(records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
    source = IRI(ctx.source_iri)
    threshold = float(mapping.get("link_threshold", DEFAULT_THRESHOLD))
    for rec in records:
        f = rec.fields
        sha = f.get("sha256")
        if not sha:
            yield Reject(origin=rec.origin, code="BAD_RECORD", reason="document record without sha256")
            continue
        d = ctx.mint("document", sha)
        title = str((mapping.get("title") or {}).get("value") or _title_from_name(f["name"]))
        mt = str((mapping.get("media_type") or {}).get("value") or f["media_type"])
        for c in (KGT + "Document", FOAF + "Document", DCAT + "Distribution"):
            yield (d, A, IRI(c))
        yield (d, IRI(RDFS + "label"), Literal(title))
        yield (d, IRI(DCTERMS + "title"), Literal(title))
        yield (d, IRI(KGT + "fileName"), Literal(f["name"]))
        yield (d, IRI(DCAT + "mediaType"), IRI(IANA_MEDIA + mt))
        yield (d, IRI(DCTERMS + "format"), Literal(mt))
        yield (d, IRI(DCAT + "byteSize"), Literal(str(int(f["size"])), XSD + "nonNegativeInteger"))
        yield (d, IRI(KGT + "sha256"), Literal(sha))
        ck = ctx.mint("checksum", sha)
        yield (d, IRI(SPDX + "checksum"), ck)
        yield (ck, A, IRI(SPDX + "Checksum"))
        yield (ck, IRI(SPDX + "algorithm"), IRI(SPDX + "checksumAlgorithm_sha256"))
        yield (ck, IRI(SPDX + "checksumValue"), Literal(sha, XSD + "hexBinary"))
        dates = mapping.get("dates") or {}
        for k in ("created", "modified"):
            if dates.get(k):
                yield (d, IRI(DCTERMS + k), _dt_literal(str(dates[k])))
        if f.get("pages") is not None:
            yield (d, IRI(KGT + "pageCount"), Literal(str(int(f["pages"])), XSD_INTEGER))
        if f.get("author"):
            yield (d, IRI(DCTERMS + "creator"), Literal(str(f["author"])))
        if f.get("width") and f.get("height"):
            yield (d, IRI(KGT + "pixelWidth"), Literal(str(int(f["width"])), XSD_INTEGER))
            yield (d, IRI(KGT + "pixelHeight"), Literal(str(int(f["height"])), XSD_INTEGER))
        yield (d, IRI(KGT + "source"), source)
        yield (d, IRI(KGT + "origin"), Literal(rec.origin.describe()))
        for link in mapping.get("links") or []:
            if float(link.get("confidence", 0)) >= threshold and link.get("iri"):
                target = IRI(str(link["iri"]))
                yield (d, IRI(DCTERMS + "subject"), target)
                yield (d, IRI(KGT + "documents"), target)


# --- lookups the pipeline can pass as ctx.options["lookup"] ---------------------------------------

_NAME_PROPS = (RDFS + "label", DCTERMS + "identifier", REF + "ifcGlobalID", REF + "ifcName")


def triples_lookup(triples: Iterable[tuple[Any, Any, Any]]) -> Lookup:
    """A lookup over triples in memory (typed terms): labels, dcterms:identifier, IFC GlobalId / name.

    IFC reference nodes resolve to the entity that has them (``ref:hasExternalReference``).
    """
    owner: dict[str, str] = {}
    names: list[tuple[str, str]] = []
    for s, p, o in triples:
        if p == REF + "hasExternalReference":
            owner[str(o)] = str(s)
        elif p in _NAME_PROPS and isinstance(o, Literal):
            names.append((str(s), o.value))
    index: dict[str, set[str]] = {}
    for s, v in names:
        index.setdefault(v.strip().lower(), set()).add(owner.get(s, s))
    return lambda text: sorted(index.get(text.strip().lower(), ()))


def store_lookup(store: Any, graphs: Iterable[str]) -> Lookup:
    """A lookup over the project's graphs in a :class:`~kg_twin.store.base.GraphStore` (one query, then a dict)."""
    from kg_twin.store.base import Dataset

    q = f"""
    SELECT ?s ?v WHERE {{
      {{ ?s <{RDFS}label>|<{DCTERMS}identifier> ?v }}
      UNION {{ ?s <{REF}hasExternalReference> ?r . ?r <{REF}ifcGlobalID>|<{REF}ifcName> ?v }}
      FILTER(isLiteral(?v))
    }}"""
    rows = store.select(q, dataset=Dataset(default_graphs=tuple(graphs), named_graphs=()))
    index: dict[str, set[str]] = {}
    for row in rows:
        index.setdefault(str(row["v"]).strip().lower(), set()).add(str(row["s"]))
    return lambda text: sorted(index.get(text.strip().lower(), ()))
