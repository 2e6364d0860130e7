"""Receive a source: hash it (sha256, a shapefile's sidecars included) and keep the original
in ``{sources}/{project}/{sha256}/`` (temp file + ``os.replace``, per file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kg_twin.errors import InputError
from kg_twin.formats import media_type_of

SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qpj")


@dataclass
class Received:
    sha256: str
    name: str  # original file name
    path: Path  # the stored copy (or the original, for a dry run)
    dir: Path | None  # {data_dir}/sources/{project}/{sha256} (None: dry run, nothing stored)
    size: int
    media_type: str
    parts: dict[str, str] = field(default_factory=dict)  # member file -> sha256 (shapefile sets)


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _members(path: Path, name: str) -> list[tuple[Path, str]]:
    """(file, stored name) of the source: the file itself plus a shapefile's sidecars."""
    out = [(path, name)]
    if Path(name).suffix.lower() == ".shp":
        stem = Path(name).stem
        for sib in sorted(path.parent.iterdir()):
            if sib != path and sib.stem == path.stem and sib.suffix.lower() in SHAPEFILE_SIDECARS:
                out.append((sib, stem + sib.suffix))
    return out


def receive(sources_root: Path, project: str, path: Path, *, name: str | None = None, store: bool = True) -> Received:
    """Hash the file (and sidecars) and copy it into ``sources/{project}/{sha256}/`` (atomic per file)."""
    path = Path(path)
    name = Path(name or path.name).name
    if not path.is_file():
        raise InputError("FILE_NOT_FOUND", f"no such file: {path}", where={"file": name}, hint="check the path")
    members = _members(path, name)
    parts: dict[str, str] = {}
    size = 0
    for p, n in members:
        digest, nbytes = _sha256_file(p)
        parts[n] = digest
        size += nbytes if p == path else 0
    if len(members) == 1:
        sha = parts[name]
    else:  # a set of files: hash of the members' names and hashes
        sha = hashlib.sha256("".join(f"{n}\0{parts[n]}\n" for n in sorted(parts)).encode()).hexdigest()
    if not store:
        return Received(sha, name, path, None, size, media_type_of(name), parts if len(members) > 1 else {})
    d = Path(sources_root) / project / sha
    d.mkdir(parents=True, exist_ok=True)
    for p, n in members:
        target = d / n
        if target.is_file() and target.stat().st_size == p.stat().st_size:
            continue
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".recv-", suffix=".part")
        os.close(fd)
        try:
            shutil.copy2(p, tmp)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return Received(sha, name, d / name, d, size, media_type_of(name), parts if len(members) > 1 else {})


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
