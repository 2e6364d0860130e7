"""Document handler: DCAT / Dublin Core / SPDX metadata and links by file-name convention."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from pypdf import PdfWriter
from rdflib import URIRef

from kg_twin.ingest.base import HANDLERS
from kg_twin.ingest.mappers.documents import triples_lookup
from kg_twin.ingest.readers.document import HANDLER as DOC
from kg_twin.ingest.readers.ifc import HANDLER as IFC_HANDLER
from kg_twin.rdf import IRI, Literal

from .geobim_run import DATA, DCAT, DCT, KGT, RDF, RDFS, SOURCE, SPDX, XSD, run_handler

RDFS_LABEL = IRI(str(RDFS.label))


def _pdf(path, **meta):
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.add_blank_page(width=595, height=842)
    if meta:
        w.add_metadata(meta)
    with open(path, "wb") as fh:
        w.write(fh)
    return path


def _png(path, w=3, h=2):
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def test_pdf_metadata_and_checksum(tmp_path):
    p = _pdf(tmp_path / "boiler-room_plan.pdf", **{"/Title": "Boiler room plan", "/CreationDate": "D:20230402081500+02'00'"})
    run = run_handler(DOC, p)
    g = run.graph
    (d,) = list(g.subjects(RDF.type, KGT.Document))
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    assert str(d).endswith(f"/id/test/document/{sha}")
    assert str(g.value(d, KGT.sha256)) == sha
    ck = g.value(d, SPDX.checksum)
    assert g.value(ck, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(g.value(ck, SPDX.checksumValue)) == sha
    size = g.value(d, DCAT.byteSize)
    assert int(size) == p.stat().st_size and size.datatype == XSD.nonNegativeInteger
    assert g.value(d, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/application/pdf")
    assert str(g.value(d, DCT.title)) == "Boiler room plan"
    created = g.value(d, DCT.created)
    assert created.datatype == XSD.dateTime and str(created) == "2023-04-02T08:15:00+02:00"
    assert g.value(d, DCT.modified) is not None  # file modification time, named as such in the mapping
    assert run.mapping["dates"]["modified_source"] == "file system modification time"
    assert int(g.value(d, KGT.pageCount)) == 2
    assert str(g.value(d, KGT.source)) == SOURCE and str(g.value(d, KGT.origin)) == "boiler-room_plan.pdf"
    assert (d, RDF.type, DCAT.Distribution) in g


def test_image_type_from_magic_bytes_not_extension(tmp_path):
    p = _png(tmp_path / "AHU-1_photo.jpg", 3, 2)
    run = run_handler(DOC, p)
    g = run.graph
    (d,) = list(g.subjects(RDF.type, KGT.Document))
    assert str(g.value(d, DCT["format"])) == "image/png"
    assert (int(g.value(d, KGT.pixelWidth)), int(g.value(d, KGT.pixelHeight))) == (3, 2)
    assert str(g.value(d, DCT.title)) == "AHU-1 photo"


def test_any_file_is_a_document(tmp_path):
    p = tmp_path / "dump.bin"
    p.write_bytes(bytes(range(256)) * 4)
    run = run_handler(DOC, p)
    (d,) = list(run.graph.subjects(RDF.type, KGT.Document))
    assert str(run.graph.value(d, DCT["format"])) == "application/octet-stream"


def test_link_by_leading_identifier(tmp_path):
    ahu = IRI("http://twin.test/id/test/equipment/AHU-1")
    lookup = triples_lookup([(ahu, RDFS_LABEL, Literal("AHU-1"))])
    run = run_handler(DOC, _pdf(tmp_path / "AHU-1_manual.pdf"), lookup=lookup)
    (link,) = run.mapping["links"]
    assert link["iri"] == ahu and link["matched"] == "AHU-1" and link["confidence"] == 0.85
    g = run.graph
    d = next(g.subjects(RDF.type, KGT.Document))
    assert (d, DCT.subject, URIRef(ahu)) in g and (d, KGT.documents, URIRef(ahu)) in g


def test_ambiguous_name_is_proposed_but_not_linked(tmp_path):
    a, b = IRI("http://twin.test/id/test/x/1"), IRI("http://twin.test/id/test/x/2")
    lookup = triples_lookup([(a, RDFS_LABEL, Literal("Pump")), (b, RDFS_LABEL, Literal("pump"))])
    run = run_handler(DOC, _pdf(tmp_path / "Pump_datasheet.pdf"), lookup=lookup)
    assert sorted(link["iri"] for link in run.mapping["links"]) == [a, b]
    assert all(link["confidence"] == 0.5 for link in run.mapping["links"])
    assert not list(run.graph.objects(None, DCT.subject))


def test_link_to_ifc_element_by_global_id(tmp_path):
    duplex = run_handler(IFC_HANDLER, DATA / "ifc" / "Duplex_A.ifc")
    wall_gid = "2O2Fr$t4X7Zf8NOew3FKau"
    lookup = triples_lookup(duplex.triples)
    run = run_handler(DOC, _pdf(tmp_path / f"{wall_gid}.pdf"), lookup=lookup)
    g = run.graph
    d = next(g.subjects(RDF.type, KGT.Document))
    (target,) = list(g.objects(d, DCT.subject))
    assert (target, DCT.identifier, None) in duplex.graph
    assert str(duplex.graph.value(target, DCT.identifier)) == wall_gid
    assert run.mapping["links"][0]["confidence"] == 1.0


def test_explicit_subjects_win(tmp_path):
    run = run_handler(DOC, _pdf(tmp_path / "notes.pdf"), subjects=["http://twin.test/id/test/site/S1"])
    assert [str(o) for o in run.graph.objects(None, KGT.documents)] == ["http://twin.test/id/test/site/S1"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("geo/bdtopo_batiment_olemps.zip", "shapefile"),
        ("geo/COMMUNE.shp", "shapefile"),
        ("cityjson/rotterdam_subset.json", "cityjson"),
        ("ifc/Duplex_A.ifc", "ifc"),
        ("geo/olemps_commune_zones.gpkg", "geopackage"),
    ],
)
def test_sniffing_picks_the_handler(name, expected):
    import kg_twin.ingest.readers.cityjson  # noqa: F401  (registration)
    import kg_twin.ingest.readers.geopackage  # noqa: F401
    import kg_twin.ingest.readers.geojson  # noqa: F401
    import kg_twin.ingest.readers.shapefile  # noqa: F401

    path = DATA / name
    head = path.read_bytes()[:4096]
    scores = {n: h.sniff(path, head) for n, h in HANDLERS.items() if n in ("shapefile", "geopackage", "cityjson", "ifc", "geojson", "document")}
    assert max(scores, key=scores.get) == expected


def test_sniffing_pdf_and_geojson(tmp_path):
    import kg_twin.ingest.readers.geojson  # noqa: F401

    pdf = _pdf(tmp_path / "a.pdf")
    gj = tmp_path / "a.geojson"
    gj.write_text('{"type": "FeatureCollection", "features": []}')
    for path, expected in ((pdf, "document"), (gj, "geojson")):
        head = path.read_bytes()[:4096]
        scores = {n: HANDLERS[n].sniff(path, head) for n in ("shapefile", "cityjson", "ifc", "geojson", "document") if n in HANDLERS}
        assert max(scores, key=scores.get) == expected


def test_inner_part_of_name_is_proposed_for_review_only(tmp_path):
    ahu = IRI("http://twin.test/id/test/equipment/AHU-1")
    lookup = triples_lookup([(ahu, RDFS_LABEL, Literal("AHU-1"))])
    run = run_handler(DOC, _pdf(tmp_path / "manual_AHU-1_2019.pdf"), lookup=lookup)
    (link,) = run.mapping["links"]
    assert link["iri"] == ahu and link["confidence"] == 0.6 and "review" in link["reason"]
    assert not list(run.graph.objects(None, DCT.subject))
    # a reviewer raises the confidence: now it is linked
    link["confidence"] = 1.0
    again = run_handler(DOC, tmp_path / "manual_AHU-1_2019.pdf", mapping=run.mapping)
    assert [str(o) for o in again.graph.objects(None, KGT.documents)] == [ahu]


def test_office_document_core_properties(tmp_path):
    """A .xlsx written by openpyxl: media type from its zip content, title / author / dates from docProps/core.xml."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    wb.properties.title = "Maintenance plan 2024"
    wb.properties.creator = "Facility team"
    wb.properties.created = dt.datetime(2024, 2, 1, 9, 30)
    p = tmp_path / "plan.xlsx"
    wb.save(p)
    run = run_handler(DOC, p)
    g = run.graph
    d = next(g.subjects(RDF.type, KGT.Document))
    assert str(g.value(d, DCT["format"])) == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert str(g.value(d, DCT.title)) == "Maintenance plan 2024"
    assert str(g.value(d, DCT.creator)) == "Facility team"
    assert str(g.value(d, DCT.created)).startswith("2024-02-01T09:30:00")
    assert run.mapping["title"]["source"] == "Office document properties"


def _pdf_with_text(path, lines):
    """A one-page PDF whose content stream shows ``lines`` in Helvetica (hand-written PDF 1.4)."""
    def esc(t):
        return t.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 11 Tf 72 770 Td " + " ".join(f"({esc(t)}) Tj 0 -15 Td" for t in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def test_identifiers_mentioned_in_the_text(tmp_path):
    duplex = run_handler(IFC_HANDLER, DATA / "ifc" / "Duplex_A.ifc")
    lookup = triples_lookup(duplex.triples)
    p = _pdf_with_text(tmp_path / "inspection-report.pdf", [
        "Inspection of the duplex, unit A.",
        "Foyer A101: the party wall 2O2Fr$t4X7Zf8NOew3FKau shows a crack.",
        "Room B999 does not exist; A101 is listed twice.",
    ])
    run = run_handler(DOC, p, lookup=lookup)
    ids = {str(duplex.graph.value(URIRef(m["iri"]), DCT.identifier)): m["matched"] for m in run.mapping["mentions"]}
    space_a101 = next(str(s) for s in duplex.graph.subjects(RDFS.label, None) if str(duplex.graph.value(s, RDFS.label)).startswith("A101"))
    assert ids["2O2Fr$t4X7Zf8NOew3FKau"] == "2O2Fr$t4X7Zf8NOew3FKau"
    assert str(duplex.graph.value(URIRef(space_a101), DCT.identifier)) in ids
    assert len(run.mapping["mentions"]) == 2  # B999 matches nothing; A101 once
    g = run.graph
    d = next(g.subjects(RDF.type, KGT.Document))
    assert {str(o) for o in g.objects(d, KGT.mentions)} == {m["iri"] for m in run.mapping["mentions"]}
    assert not list(g.objects(d, KGT.documents))  # mentioning is not being about


def test_text_file_mentions(tmp_path):
    ahu = IRI("http://twin.test/id/test/equipment/AHU-1")
    p = tmp_path / "log.txt"
    p.write_text("2024-03-02 AHU-1 filter replaced\n2024-04-01 AHU-1 belt checked\n")
    run = run_handler(DOC, p, lookup=triples_lookup([(ahu, RDFS_LABEL, Literal("AHU-1"))]))
    assert run.mapping["mentions"] == [{"iri": ahu, "matched": "AHU-1"}]
    assert [str(o) for o in run.graph.objects(None, KGT.mentions)] == [ahu]


def test_corrupt_jpeg_is_still_a_document(tmp_path):
    p = tmp_path / "broken.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0\x00\x00" + b"\x00" * 64)  # segment length 0
    run = run_handler(DOC, p)
    d = next(run.graph.subjects(RDF.type, KGT.Document))
    assert str(run.graph.value(d, DCT["format"])) == "image/jpeg"
    assert run.graph.value(d, KGT.pixelWidth) is None
