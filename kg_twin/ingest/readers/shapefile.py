"""ESRI shapefile reader (pyshp, pure Python).

Input: the ``.shp`` path (``.dbf`` required, ``.shx`` / ``.prj`` / ``.cpg`` read when present next to it,
extension case ignored), or a ``.zip`` of shapefile sets: every layer is read (one mapping per layer,
features ``LAYER/N``), or only ``layer`` (a mapping's ``read: {layer: BATIMENT}``).

* CRS: the ``.prj`` (ESRI or OGC WKT1) is matched to an authority code by PROJ (e.g. BD TOPO's
  "RGF93 / Lambert-93" -> ``EPSG:2154``, confidence 1.0). No ``.prj``: CRS unknown; mapping stops
  with ``UNKNOWN_CRS`` and asks for ``--crs``.
* Text encoding of the ``.dbf``: the ``.cpg`` when present; else the dBase language driver byte;
  else UTF-8, strictly: a decoding error stops the read with ``DBF_ENCODING`` and a hint
  (add a ``.cpg`` such as ``ISO-8859-1``), never a silent guess.
* Values: DBF ``N``/``F`` -> int / float, ``D`` -> ISO date string, ``L`` -> bool, ``C`` -> str.
* Feature ``N`` in origins is the 0-based record number (OGR's FID for shapefiles).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import io
import struct
import zipfile
from pathlib import Path
from typing import IO, Any, Iterator, Union

import shapefile  # pyshp

from kg_twin.errors import InputError
from kg_twin.geo.crs import from_prj
from kg_twin.ingest.base import register
from kg_twin.ingest.mappers.geosparql import FeatureMapping
from kg_twin.models import Origin, Record, Reject

SHP_MAGIC = b"\x00\x00\x27\x0a"
# dBase language driver ids -> codec (the common ones)
_LDID = {0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x57: "cp1252", 0x58: "cp1252", 0x59: "cp1252",
         0x64: "cp852", 0x65: "cp866", 0x66: "cp865", 0x67: "cp861", 0xC8: "cp1250", 0xC9: "cp1251", 0xCB: "cp1253"}


def _cpg_codec(text: str) -> str:
    t = text.strip().upper().replace("ANSI ", "CP").replace(" ", "")
    if t.isdigit():
        t = f"CP{t}"
    if t in ("UTF8", "65001"):
        t = "UTF-8"
    try:
        return codecs.lookup(t).name
    except LookupError as e:
        raise InputError("DBF_ENCODING", f".cpg names an unknown encoding {text.strip()!r}",
                         hint="write a standard name in the .cpg, e.g. UTF-8, ISO-8859-1 or 1252") from e


class _Set:
    """The member files of one shapefile set: bytes (from a zip) or paths (read as streams)."""

    def __init__(self, name: str, parts: dict[str, Union[bytes, Path]]) -> None:
        self.name = name
        self.parts = parts
        self.stem = name.rsplit(".", 1)[0]

    def text(self, ext: str, encoding: str) -> str:
        v = self.parts[ext]
        return (v if isinstance(v, bytes) else v.read_bytes()).decode(encoding, "replace")

    def head(self, ext: str, n: int) -> bytes:
        v = self.parts[ext]
        if isinstance(v, bytes):
            return v[:n]
        with open(v, "rb") as fh:
            return fh.read(n)

    def size(self, ext: str) -> int:
        v = self.parts[ext]
        return len(v) if isinstance(v, bytes) else v.stat().st_size

    def open(self, ext: str) -> IO[bytes] | None:
        v = self.parts.get(ext)
        if v is None:
            return None
        return io.BytesIO(v) if isinstance(v, bytes) else open(v, "rb")


_SIDE = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _zip_stems(path: Path) -> list[str]:
    """The shapefile sets of a zip, as member paths without extension, in name order."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as e:
        raise InputError("BAD_ZIP", f"{path.name} is not a readable zip archive: {e}", where={"file": path.name}) from e
    return sorted(n[:-4] for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX"))


def _load_zip_set(path: Path, stem: str) -> _Set:
    with zipfile.ZipFile(path) as zf:
        parts: dict[str, Union[bytes, Path]] = {}
        for n in zf.namelist():
            if n[: len(stem)] == stem and n[len(stem):].lower() in _SIDE:
                parts[n[len(stem):].lower()] = zf.read(n)
    return _Set(Path(stem).name + ".shp", parts)


def _load_set(path: Path) -> _Set:
    files: dict[str, Union[bytes, Path]] = {}
    for sib in sorted(path.parent.iterdir()):
        if sib.stem == path.stem and sib.suffix.lower() in _SIDE:
            files[sib.suffix.lower()] = sib
    return _Set(path.name, files)


def check_set(s: _Set, file: str) -> None:
    """Refuse a cut or mismatched set: ``.shp`` / ``.shx`` shorter than their headers declare, a ``.dbf``
    shorter than its record count times its record length, ``.shx`` and ``.dbf`` counting different records."""
    where = {"file": file}
    hint = "the file was cut (interrupted download or copy): fetch or export the shapefile again; nothing was published"
    counts: dict[str, int] = {}
    for ext in (".shp", ".shx"):
        if ext not in s.parts:
            continue
        head, size = s.head(ext, 100), s.size(ext)
        if len(head) < 100 or head[:4] != SHP_MAGIC:
            raise InputError("TRUNCATED_FILE" if len(head) < 100 else "BAD_SHAPEFILE",
                             f"{s.stem}{ext}: {'shorter than the 100-byte header' if len(head) < 100 else 'no shapefile header (file code 9994)'}",
                             where=where, hint=hint)
        declared = struct.unpack(">i", head[24:28])[0] * 2
        if size < declared:
            raise InputError("TRUNCATED_FILE", f"{s.stem}{ext} is truncated: its header declares {declared} bytes, the file has {size}",
                             where=where, hint=hint)
        if ext == ".shx":
            counts[".shx"] = (declared - 100) // 8
    head, size = s.head(".dbf", 32), s.size(".dbf")
    if len(head) < 12:
        raise InputError("TRUNCATED_FILE", f"{s.stem}.dbf is truncated: {size} bytes, shorter than a dBase header", where=where, hint=hint)
    n, hlen, rlen = struct.unpack("<I", head[4:8])[0], struct.unpack("<H", head[8:10])[0], struct.unpack("<H", head[10:12])[0]
    if size < hlen + n * rlen:
        raise InputError("TRUNCATED_FILE", f"{s.stem}.dbf is truncated: its header declares {n} records of {rlen} bytes "
                         f"({hlen + n * rlen} bytes with the header), the file has {size}", where=where, hint=hint)
    if ".shx" in counts and counts[".shx"] != n:
        raise InputError("SHAPEFILE_MISMATCH", f"{s.stem}: the .shx indexes {counts['.shx']} shapes, the .dbf holds {n} records",
                         where=where, hint="the .shp/.shx and the .dbf come from different exports: take the files of one export together")


class ShapefileHandler(FeatureMapping):
    name = "shapefile"
    extensions = (".shp", ".zip")

    def sniff(self, path: Path, head: bytes) -> float:
        if head[:4] == SHP_MAGIC:
            return 0.95
        if head[:4] == b"PK\x03\x04" and path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    return 0.9 if any(n.lower().endswith(".shp") for n in zf.namelist()) else 0.0
            except (zipfile.BadZipFile, OSError):
                return 0.0
        return 0.0

    def read(self, path: Path, layer: str | None = None) -> Iterator[Union[Record, Reject]]:
        """Records of the shapefile, or of every shapefile of a zip (``layer``: only that one)."""
        path = Path(path)
        if path.suffix.lower() != ".zip":
            yield from self._read_set(path, _load_set(path), prefix="")
            return
        stems = _zip_stems(path)
        many = len(stems) > 1  # origins name the layer whenever the zip holds several
        names = [Path(st).name for st in stems]
        if layer is not None:
            if layer not in names:
                raise InputError("SHAPEFILE_LAYER", f"{path.name} has no shapefile {layer!r}", where={"file": path.name},
                                 hint=f"shapefiles in the zip: {', '.join(names) or '(none)'}")
            stems = [stems[names.index(layer)]]
        if not stems:
            raise InputError("SHAPEFILE_SET", f"{path.name} holds no .shp file", where={"file": path.name},
                             hint="zip the .shp, .shx, .dbf, .prj (and .cpg) of each layer")
        for st in stems:  # one layer at a time: only its members are held in memory
            s = _load_zip_set(path, st)
            yield from self._read_set(path, s, prefix=f"{s.stem}/" if many else "")

    def _read_set(self, path: Path, s: "_Set", prefix: str) -> Iterator[Union[Record, Reject]]:
        if ".shp" not in s.parts or ".dbf" not in s.parts:
            missing = [e for e in (".shp", ".dbf") if e not in s.parts]
            raise InputError("SHAPEFILE_SET", f"{s.name}: missing {', '.join(missing)} next to the .shp",
                             where={"file": path.name}, hint="a shapefile needs at least .shp and .dbf (and .prj for its CRS)")
        check_set(s, path.name)
        if ".prj" in s.parts:
            crs = from_prj(s.text(".prj", "latin-1"))
            crs["reason"] = f"{s.stem}.prj: {crs['reason']}"
        else:
            crs = {"value": None, "confidence": 0.0, "reason": f"no {s.stem}.prj next to the .shp"}
        dbf_head = s.head(".dbf", 32)
        if ".cpg" in s.parts:
            encoding, enc_src = _cpg_codec(s.text(".cpg", "ascii")), ".cpg"
        elif len(dbf_head) > 29 and dbf_head[29] in _LDID:
            encoding, enc_src = _LDID[dbf_head[29]], "dBase language driver byte"
        else:
            encoding, enc_src = "utf-8", "default (no .cpg)"
        with contextlib.ExitStack() as files:
            handles = {ext: s.open(ext) for ext in (".shp", ".dbf", ".shx")}
            for h in handles.values():
                if h is not None:
                    files.callback(h.close)
            yield from self._records(path, s, handles, crs, encoding, enc_src, prefix)

    def _records(self, path: Path, s: "_Set", handles: dict[str, IO[bytes] | None], crs: dict[str, Any],
                 encoding: str, enc_src: str, prefix: str = "") -> Iterator[Union[Record, Reject]]:
        try:
            reader = shapefile.Reader(
                shp=handles[".shp"],
                dbf=handles[".dbf"],
                shx=handles[".shx"],
                encoding=encoding,
                encodingErrors="strict",
            )
        except (shapefile.ShapefileException, struct.error) as e:
            raise InputError("BAD_SHAPEFILE", f"{s.name}: {e}", where={"file": path.name},
                             hint="check that .shp, .shx and .dbf belong to the same, complete shapefile") from e
        layer = s.stem
        fname = path.name if path.suffix.lower() == ".zip" else s.name
        with reader:
            names = [f[0] for f in reader.fields[1:]]
            n_shapes = len(reader.shapes()) if handles[".shx"] is None else None
            for i in range(reader.numRecords):
                origin = Origin(file=fname, feature=f"{prefix}{i}")
                try:
                    rec = reader.record(i)
                    shp = reader.shape(i) if n_shapes is None or i < n_shapes else None
                except (UnicodeDecodeError, shapefile.ShapefileException) as e:
                    if not isinstance(e, UnicodeDecodeError) and "decode" not in str(e):
                        yield Reject(origin=origin, code="BAD_SHAPE", reason=f"unreadable record: {e}")
                        continue
                    raise InputError("DBF_ENCODING", f"{s.name}: attribute text is not {encoding} ({enc_src}): {e}",
                                     where={"file": fname, "feature": i},
                                     hint=f"add {s.stem}.cpg naming the encoding (e.g. ISO-8859-1 or 1252)") from e
                except (ValueError, IndexError, struct.error) as e:
                    yield Reject(origin=origin, code="BAD_SHAPE", reason=f"unreadable record: {e}")
                    continue
                if rec is None:
                    yield Reject(origin=origin, code="DELETED_RECORD", reason="record is marked deleted in the .dbf")
                    continue
                props: dict[str, Any] = {}
                for k, v in zip(names, rec):
                    if isinstance(v, (dt.date, dt.datetime)):
                        v = v.isoformat()
                    elif isinstance(v, bytes):
                        v = v.decode(encoding, "strict")
                    props[k] = v
                try:
                    geom = None if shp is None or shp.shapeType == shapefile.NULL else shp.__geo_interface__
                except (shapefile.ShapefileException, ValueError, TypeError, AttributeError) as e:  # e.g. MultiPatch
                    yield Reject(origin=origin, code="BAD_SHAPE", reason=f"{shp.shapeTypeName} geometry cannot be read as GeoJSON: {e}")
                    continue
                yield Record(
                    kind="feature",
                    fields={"layer": layer, "crs": crs, "geometry": geom, "properties": props},
                    origin=origin,
                )


HANDLER = register(ShapefileHandler())
