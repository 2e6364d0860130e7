"""RDF pass-through: files go straight to the store's bulk loader, plus alignment triples."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.ingest.base import HANDLERS
from kg_twin.ingest.mappers.rdf import RDF_HANDLER
from kg_twin.models import Record
from kg_twin.settings import Settings
from kg_twin.store.base import open_store

from .helpers import DATA, KGT, split, to_graph, without

G = "http://twin.test/graph/demo/_staging/vav"


@pytest.fixture
def store():
    s = open_store(Settings(store="memory"))
    yield s
    s.close()


def dump(store, graph) -> rdflib.Graph:
    import io

    buf = io.BytesIO()
    store.dump(buf, format="ntriples", graphs=[graph])
    g = rdflib.Graph()
    g.parse(data=buf.getvalue().decode(), format="nt")
    return g


def test_brick_model_passes_through_with_source(store, ctx_for):
    path = DATA / "rdf" / "g36-vav-a2.ttl"
    ctx = ctx_for("g36-vav-a2.ttl")
    n = RDF_HANDLER.stage(store, path, G, ctx)
    orig = rdflib.Graph().parse(path)
    typed = {s for s in orig.subjects(rdflib.RDF.type, None) if isinstance(s, rdflib.URIRef)}
    assert n == len(orig) + len(typed)
    got = dump(store, G)
    src = rdflib.URIRef(ctx.source_iri)
    assert set(got.subjects(KGT.source, src)) == typed
    assert isomorphic(without(got, KGT.source), orig)


def test_nquads_are_flattened_into_the_graph(store, ctx_for, tmp_path):
    p = tmp_path / "d.nq"
    p.write_text(
        '<http://ex/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://brickschema.org/schema/Brick#Room> <http://ex/g1> .\n'
        '<http://ex/a> <http://www.w3.org/2000/01/rdf-schema#label> "A \\"room\\"" <http://ex/g2> .\n'
        '<http://ex/b> <http://ex/p> "x"@en .\n'
    )
    n = RDF_HANDLER.stage(store, p, G, ctx_for("d.nq"))
    assert n == 4  # 3 triples + kgt:source on the typed subject
    assert RDF_HANDLER.format_of(p) == "nquads"


def test_syntax_error_is_an_input_error_and_leaves_nothing(store, ctx_for, tmp_path):
    p = tmp_path / "bad.ttl"
    p.write_text("@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\nex:d ex:e \n")
    with pytest.raises(InputError):
        RDF_HANDLER.stage(store, p, G, ctx_for("bad.ttl"))
    assert not store.has_graph(G)


def test_format_sniffing(tmp_path):
    cases = {
        "a.ttl": "@prefix ex: <http://ex/> .",
        "a.txt": "@prefix ex: <http://ex/> .\nex:a ex:b ex:c .",
        "b.xml": '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        "c.json": '{"@context": {}, "@id": "http://ex/a"}',
        "d.data": "<http://ex/a> <http://ex/b> <http://ex/c> .",
    }
    want = {"a.ttl": "turtle", "a.txt": "turtle", "b.xml": "rdfxml", "c.json": "jsonld", "d.data": "ntriples"}
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        assert RDF_HANDLER.format_of(p) == want[name], name
    p = tmp_path / "x.bin"
    p.write_text("hello")
    with pytest.raises(InputError):
        RDF_HANDLER.format_of(p)


def test_generic_contract_matches_fast_path(store, ctx_for):
    path = DATA / "rdf" / "goodBuilding.ttl"
    ctx = ctx_for("goodBuilding.ttl")
    recs = list(RDF_HANDLER.read(path))
    assert isinstance(recs[0], Record) and recs[0].fields["format"] == "turtle"
    m = RDF_HANDLER.propose(recs, ctx)
    triples, rejects = split(RDF_HANDLER.map(recs, m, ctx))
    assert not rejects
    RDF_HANDLER.stage(store, path, G, ctx)
    assert isomorphic(to_graph(triples), dump(store, G))


def test_registered_and_marked_passthrough():
    assert HANDLERS["rdf"] is RDF_HANDLER and RDF_HANDLER.passthrough is True


def _brick_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "rdf" / "g36-vav-a2.ttl")


@pytest.mark.parametrize("fmt, ext", [("xml", "rdf"), ("json-ld", "jsonld"), ("nt", "nt"), ("trig", "trig")])
def test_every_syntax_stages_the_same_graph(store, ctx_for, tmp_path, fmt, ext):
    orig = _brick_graph()
    p = tmp_path / f"model.{ext}"
    if fmt == "trig":
        ds = rdflib.Dataset()
        g = ds.graph(rdflib.URIRef("http://ex/g1"))
        for t in orig:
            g.add(t)
        p.write_text(ds.serialize(format="trig"))
    else:
        p.write_text(orig.serialize(format=fmt))
    ctx = ctx_for(p.name)
    RDF_HANDLER.stage(store, p, G, ctx)
    got = dump(store, G)
    assert isomorphic(without(got, KGT.source), orig)
    assert len(set(got.subjects(KGT.source, None))) == len({s for s in orig.subjects(rdflib.RDF.type, None) if isinstance(s, rdflib.URIRef)})


@pytest.mark.parametrize("fmt, ext", [("xml", "rdf"), ("json-ld", "jsonld"), ("nt", "nt"), ("n3", "n3")])
def test_generic_path_reads_every_syntax(ctx_for, tmp_path, fmt, ext):
    orig = _brick_graph()
    p = tmp_path / f"model.{ext}"
    p.write_text(orig.serialize(format=fmt))
    ctx = ctx_for(p.name)
    recs = list(RDF_HANDLER.read(p))
    triples, rejects = split(RDF_HANDLER.map(recs, RDF_HANDLER.propose(recs, ctx), ctx))
    assert not rejects
    g = to_graph(triples)
    assert isomorphic(without(g, KGT.source), orig)


def test_alignment_can_be_switched_off(store, ctx_for):
    path = DATA / "rdf" / "goodBuilding.ttl"
    n = RDF_HANDLER.stage(store, path, G, ctx_for("x"), mapping={"align": {"source_on_typed_subjects": False}})
    assert n == len(rdflib.Graph().parse(path))


def test_a_named_source_is_kept(store, ctx_for, tmp_path):
    """Data exported from a twin names its source: the pass-through adds none (one source per entity)."""
    p = tmp_path / "export.ttl"
    p.write_text(
        "@prefix brick: <https://brickschema.org/schema/Brick#> .\n"
        "@prefix kgt: <https://w3id.org/kg-twin/ontology#> .\n"
        "<http://ex/a> a brick:Room ; kgt:source <http://ex/source/original.csv> .\n"
        "<http://ex/b> a brick:Room .\n"
    )
    ctx = ctx_for("export.ttl")
    RDF_HANDLER.stage(store, p, G, ctx)
    got = dump(store, G)
    a, b = rdflib.URIRef("http://ex/a"), rdflib.URIRef("http://ex/b")
    assert set(got.objects(a, KGT.source)) == {rdflib.URIRef("http://ex/source/original.csv")}
    assert set(got.objects(b, KGT.source)) == {rdflib.URIRef(ctx.source_iri)}
