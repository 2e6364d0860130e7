"""The base IRI of a data dir: recorded when its store is created, kept by later commands unless set explicitly."""

from __future__ import annotations

from pathlib import Path

from kg_twin.service import create_twin
from kg_twin.settings import BASE_IRI_FILE, Settings


def test_the_base_a_store_was_created_with_is_kept(tmp_path: Path) -> None:
    first = create_twin(Settings(data_dir=tmp_path, base_iri="http://localhost:9123/"))
    try:
        first.projects.create("p")
    finally:
        first.close()
    assert (tmp_path / BASE_IRI_FILE).read_text().strip() == "http://localhost:9123/"
    again = create_twin(Settings(data_dir=tmp_path, port=8000))  # no base given: the recorded one
    try:
        assert again.naming.base == "http://localhost:9123/"
        assert again.projects.exists("p")
    finally:
        again.close()
    explicit = create_twin(Settings(data_dir=tmp_path, base_iri="https://twin.example.org/"))
    try:
        assert explicit.naming.base == "https://twin.example.org/"
        assert not explicit.projects.exists("p")  # its names were minted under the other base
    finally:
        explicit.close()
    assert (tmp_path / BASE_IRI_FILE).read_text().strip() == "http://localhost:9123/"  # the record is not rewritten


def test_a_memory_store_records_nothing(tmp_path: Path) -> None:
    twin = create_twin(Settings(data_dir=tmp_path, store="memory"))
    twin.close()
    assert not (tmp_path / BASE_IRI_FILE).exists()
