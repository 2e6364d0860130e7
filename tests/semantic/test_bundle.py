"""The ontology bundle: every file parses, the registry matches the files, kgt.ttl is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg_twin import ontologies as onto
from kg_twin.errors import InputError
from kg_twin.settings import Settings
from kg_twin.store import open_store
from kg_twin.terms import KGT

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "ontologies"
RDF_FILES = sorted(p for p in BUNDLE.rglob("*") if p.suffix in (".ttl", ".nt", ".owl", ".rdf"))


def test_bundle_has_files():
    names = {p.relative_to(BUNDLE).as_posix() for p in RDF_FILES}
    assert {"kgt.ttl", "brick/Brick.ttl", "bot.ttl", "geosparql.ttl", "sf.ttl", "sosa.ttl", "ssn.ttl", "dcat.ttl", "prov-o.ttl", "ifc4-products.ttl"} <= names


@pytest.mark.parametrize("path", RDF_FILES, ids=lambda p: p.relative_to(BUNDLE).as_posix())
def test_every_file_parses(path: Path):
    fmt = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}.get(path.suffix, ox.RdfFormat.RDF_XML)
    triples = list(ox.parse(path=str(path), format=fmt))
    assert len(triples) > 20
    # every file declares what it is
    assert any(t.predicate.value == str(RDF.type) and t.object.value == str(OWL.Ontology) for t in triples)


def test_registry_covers_every_file_and_readme_names_them():
    registered = {f for m in onto.MODULES.values() for f in m.files}
    on_disk = {p.relative_to(BUNDLE).as_posix() for p in RDF_FILES}
    assert registered == on_disk
    readme = (BUNDLE / "README.md").read_text()
    for m in onto.MODULES.values():
        for f in m.files:
            assert f in readme, f"ontologies/README.md does not describe {f}"
        assert m.version in readme, f"README lacks the version of {m.name}"


def test_closure_order_and_unknown_module():
    names = [m.name for m in onto.module_closure(["kgt"])]
    assert names.index("brick") < names.index("brick-bot") and names.index("bot") < names.index("brick-bot")
    assert names[-1] == "kgt"
    assert [p.name for p in onto.bundle_files(["ssn"])] == ["sosa.ttl", "ssn.ttl"]
    with pytest.raises(InputError) as e:
        onto.module_closure(["nope"])
    assert e.value.code == "UNKNOWN_ONTOLOGY_MODULE"


def test_closure_bytes_have_no_imports_and_all_triples():
    nt = onto.load_ontology_closure(["kgt"])
    closure = set(ox.parse(input=nt, format=ox.RdfFormat.N_TRIPLES))
    imports = ox.NamedNode(str(OWL.imports))
    assert not [t for t in closure if t.predicate == imports]
    expected: set = set()
    for p in onto.bundle_files(["kgt"]):
        expected |= {t for t in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE) if t.predicate != imports}
    # same triples up to blank node labels (each file's blank nodes are fresh in the closure)
    ground = lambda ts: {t for t in ts if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}  # noqa: E731
    assert ground(closure) == ground(expected)
    assert len(closure) == len(expected)
    ttl = onto.load_ontology_closure(["bot"], format="turtle")
    assert isomorphic(rdflib.Graph().parse(data=ttl, format="turtle"), rdflib.Graph().parse(data=onto.load_ontology_closure(["bot"]), format="nt"))


def test_bundle_hash_changes_with_content(tmp_path, monkeypatch):
    import shutil

    h1 = onto.bundle_hash(["bot"])
    copy = tmp_path / "ontologies"
    shutil.copytree(BUNDLE, copy)
    monkeypatch.setenv("KG_TWIN_ONTOLOGY_DIR", str(copy))
    assert onto.bundle_hash(["bot"]) == h1
    (copy / "bot.ttl").write_text((copy / "bot.ttl").read_text() + "\n<urn:x> <urn:y> <urn:z> .\n")
    assert onto.bundle_hash(["bot"]) != h1


def test_load_into_store_uses_ontology_graphs():
    store = open_store(Settings(store="memory"))
    try:
        loaded = onto.load_into_store(store, "http://twin.test/", ["ssn"])
        assert set(loaded) == {"http://twin.test/graph/_ontology/sosa", "http://twin.test/graph/_ontology/ssn"}
        for g, n in loaded.items():
            assert store.graph_size(g) == n > 100
        assert onto.ONTOLOGY_GRAPH.format(base="http://twin.test/", module="ssn") in store.graphs()
    finally:
        store.close()


# ---------------------------------------------------------------- kgt.ttl
KGT_GRAPH = rdflib.Graph().parse(BUNDLE / "kgt.ttl", format="turtle")
KGT_TERMS = sorted({s for s in KGT_GRAPH.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(KGT)})


def test_kgt_has_the_core_classes_aligned_to_standards():
    sub = {(s, o) for s, o in KGT_GRAPH.subject_objects(RDFS.subClassOf)}
    K = rdflib.Namespace(KGT)
    B = rdflib.Namespace("https://brickschema.org/schema/Brick#")
    BOT = rdflib.Namespace("https://w3id.org/bot#")
    GEO = rdflib.Namespace("http://www.opengis.net/ont/geosparql#")
    PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
    for c in ("Asset", "Space", "Sensor", "Point", "Document", "Feature", "Project", "Source"):
        assert (K[c], RDF.type, OWL.Class) in KGT_GRAPH
    for pair in [
        (B.Equipment, K.Asset), (BOT.Element, K.Asset), (B.Location, K.Space), (BOT.Zone, K.Space), (B.Point, K.Point),
        (B.Sensor, K.Sensor), (rdflib.URIRef("http://www.w3.org/ns/sosa/Sensor"), K.Sensor), (K.Feature, GEO.Feature),
        (K.Source, PROV.Entity), (K.Ingest, PROV.Activity),
    ]:
        assert pair in sub, pair
    assert (K.source, RDFS.subPropertyOf, PROV.wasDerivedFrom) in KGT_GRAPH
    assert (K.origin, RDF.type, OWL.DatatypeProperty) in KGT_GRAPH


@pytest.mark.parametrize("term", KGT_TERMS, ids=lambda t: str(t)[len(KGT):])
def test_every_kgt_term_has_label_and_definition(term):
    assert list(KGT_GRAPH.objects(term, RDFS.label)), f"{term} has no rdfs:label"
    defs = list(KGT_GRAPH.objects(term, SKOS.definition)) + list(KGT_GRAPH.objects(term, RDFS.comment))
    assert defs and all(len(str(d)) > 20 for d in defs), f"{term} has no definition"
    kinds = set(KGT_GRAPH.objects(term, RDF.type))
    assert kinds & {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual, RDFS.Datatype}, f"{term} is not declared"


_USE = re.compile(r"""KGT\s*\}?\s*\+\s*["']([A-Za-z_][A-Za-z0-9_]*)["']|\{KGT\}([A-Za-z_][A-Za-z0-9_]*)|kgt:([A-Za-z_][A-Za-z0-9_]*)""")


def test_every_kgt_term_used_in_code_is_defined():
    """Code and shapes may only use kgt: terms that kgt.ttl defines."""
    defined = {str(t)[len(KGT):] for t in KGT_TERMS}
    used: dict[str, str] = {}
    files = [*(ROOT / "kg_twin").rglob("*.py"), *(ROOT / "shapes").rglob("*.ttl"), *(ROOT / "queries").rglob("*.rq")]
    for f in files:
        for m in _USE.finditer(f.read_text(encoding="utf-8", errors="replace")):
            name = next(g for g in m.groups() if g)
            used.setdefault(name, str(f.relative_to(ROOT)))
    missing = {n: f for n, f in used.items() if n not in defined}
    assert not missing, f"kgt terms used but not defined in ontologies/kgt.ttl: {missing}"


def test_ifc_extract_is_the_ifcproduct_hierarchy():
    IFC = rdflib.Namespace("https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL#")
    g = rdflib.Graph().parse(BUNDLE / "ifc4-products.ttl", format="turtle")
    assert (IFC.IfcWall, RDFS.subClassOf, IFC.IfcBuildingElement) in g
    assert (IFC.IfcBuildingElement, RDFS.subClassOf, IFC.IfcElement) in g
    assert (IFC.IfcSpace, RDFS.subClassOf, IFC.IfcSpatialStructureElement) in g
    classes = set(g.subjects(RDF.type, OWL.Class))
    below_product = {c for c in classes if IFC.IfcProduct in set(g.transitive_objects(c, RDFS.subClassOf))}
    assert len(below_product) > 150  # every IfcProduct subtype of IFC4 (173 with IfcProduct itself)
    # everything is rooted in IfcRoot, and nothing outside the product branch sneaked in
    for c in classes:
        assert IFC.IfcRoot in set(g.transitive_objects(c, RDFS.subClassOf)), c
    assert below_product == classes - {IFC.IfcRoot, IFC.IfcObjectDefinition, IFC.IfcObject}


def test_hierarchy_only_closure_keeps_the_class_hierarchy():
    nt = onto.load_ontology_closure(["kgt"], hierarchy_only=True)
    g = rdflib.Graph().parse(data=nt, format="nt")
    B = rdflib.Namespace("https://brickschema.org/schema/Brick#")
    assert (B.Zone_Air_Temperature_Sensor, RDFS.subClassOf, B.Air_Temperature_Sensor) in g
    assert (B.Equipment, RDFS.subClassOf, rdflib.URIRef(KGT + "Asset")) in g
    assert (rdflib.URIRef("https://w3id.org/bot#containsZone"), RDF.type, OWL.TransitiveProperty) in g
    assert not list(g.triples((None, RDFS.label, None)))
    assert len(g) < len(onto.load_ontology_closure(["kgt"]).splitlines()) / 5


def test_cli_load_puts_modules_in_ontology_graphs(tmp_path):
    import typer
    from typer.testing import CliRunner

    from kg_twin.cli.ontologies import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["ontologies", "load", "-m", "ssn", "--data-dir", str(tmp_path)], env={"KG_TWIN_BASE_IRI": "http://twin.test/"})
    assert res.exit_code == 0, res.output
    store = open_store(Settings(data_dir=tmp_path))
    try:
        assert store.graph_size("http://twin.test/graph/_ontology/ssn") > 400
        assert store.graph_size("http://twin.test/graph/_ontology/sosa") > 300
    finally:
        store.close()
    res = runner.invoke(app, ["ontologies", "load", "-m", "nope", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "UNKNOWN_ONTOLOGY_MODULE" in res.output
