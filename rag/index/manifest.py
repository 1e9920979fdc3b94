"""The manifest: for each file of the corpus its hash, stat stamp and live record ids, and
the setup (layout version, cutting code, model, chunk size) they were made with. Its
file, replaced atomically, is the index's commit point."""

from __future__ import annotations

import ast
import hashlib
import os
from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

from rag.chunking import DEFAULT_CHUNK_TOKENS
from rag.embeddings import MODEL_ID

__all__ = [
    "CHUNKS",
    "CUTTING",
    "LEVELS",
    "MANIFEST_VERSION",
    "SENTENCES",
    "FileEntry",
    "Level",
    "Manifest",
    "ManifestFile",
    "code_digest",
]

Level = Literal["chunks", "sentences"]
"""What a record is: a window of whole lines (``chunks``) or one sentence of a line
(``sentences``); each level has its own collection and its own search."""
CHUNKS: Level = "chunks"
SENTENCES: Level = "sentences"
LEVELS: tuple[Level, ...] = (CHUNKS, SENTENCES)
MANIFEST_VERSION = 3  # 3: Markdown is cut by its structure (rag.markdown)


# The libraries whose reading of a file decides its pieces: a new version may parse differently.
_READERS = ("markdown-it-py", "pypdf")


def _cutting_fingerprint() -> str:
    """A digest of what cuts documents into pieces: the syntax of the cutting code (not its
    comments, docstrings or layout, which change nothing) and the versions of the libraries
    it reads files with. When it changes, every file is cut again (the pieces that come out
    the same keep their vectors)."""
    import rag.chunking
    import rag.formats
    import rag.html
    import rag.language.sentences
    import rag.markdown
    import rag.pdf
    import rag.roles
    import rag.rst

    digest = hashlib.sha256()
    for module in (rag.chunking, rag.language.sentences, rag.formats, rag.roles,
                   rag.markdown, rag.rst, rag.html, rag.pdf):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        digest.update(code_digest(source).encode())
    for name in _READERS:
        digest.update(f"{name}=={_version(name)}".encode())
    return digest.hexdigest()[:16]


def code_digest(source: str) -> str:
    """A digest of a module's syntax tree less its docstrings: the same for two sources
    that differ only in comments, docstrings, blank lines or line breaks."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(_canonical(tree).encode()).hexdigest()


def _canonical(value: object) -> str:
    """A node written as its type and its non-empty fields, positions left out: unlike
    ``ast.dump``, whose output changed between Python versions, this stays the same for
    the same syntax."""
    if isinstance(value, ast.AST):
        fields = ",".join(f"{name}={_canonical(field)}" for name, field in ast.iter_fields(value)
                          if field is not None and field != [])
        return f"{type(value).__name__}({fields})"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    return repr(value)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


CUTTING = _cutting_fingerprint()


class FileEntry(BaseModel):
    sha256: str
    size: int
    mtime_ns: int
    ids: dict[str, list[str]]  # level -> record ids

    @field_validator("ids")
    @classmethod
    def _every_level(cls, ids: dict[str, list[str]]) -> dict[str, list[str]]:
        if set(ids) != set(LEVELS):
            raise ValueError(f"record ids must be given for exactly the levels {LEVELS}")
        return ids


class Manifest(BaseModel):
    version: int = MANIFEST_VERSION
    cutting: str = CUTTING
    model: str = MODEL_ID
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    corpus: str = ""
    files: dict[str, FileEntry] = {}
    skipped: dict[str, tuple[int, int]] = {}  # source -> (size, mtime_ns)

    def stamps(self) -> dict[str, tuple[int, int]]:
        stamps = {src: (e.size, e.mtime_ns) for src, e in self.files.items()}
        return stamps | self.skipped

    def level_ids(self, level: Level) -> list[str]:
        """The ids of ``level``'s live records, in manifest order."""
        return [i for entry in self.files.values() for i in entry.ids[level]]

    def live_ids(self, level: Level) -> set[str]:
        return set(self.level_ids(level))


class ManifestFile:
    """The manifest file of one corpus (``manifest-<key>.json``): read, and committed."""

    def __init__(self, path: Path, corpus: Path, chunk_tokens: int) -> None:
        self.path = path
        self.corpus = corpus
        self.chunk_tokens = chunk_tokens
        self._cache: tuple[tuple[int, int, int], Manifest] | None = None

    def empty(self) -> Manifest:
        """A manifest of no files, for this corpus and setup."""
        return Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)

    def read(self) -> Manifest:
        """The committed manifest; an empty one if none, or if it is from another setup.
        Parsed again only when the file's stamp changed (every ask reads it), so callers
        share one object and must not change it."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return self.empty()
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._cache
        if cached is not None and cached[0] == stamp:
            return cached[1]
        manifest = self._parse()
        self._cache = (stamp, manifest)
        return manifest

    def _parse(self) -> Manifest:
        try:
            manifest = Manifest.model_validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return self.empty()
        except (ValidationError, ValueError):
            return self.empty()
        if (manifest.version, manifest.cutting, manifest.model, manifest.chunk_tokens) != (
            MANIFEST_VERSION,
            CUTTING,
            MODEL_ID,
            self.chunk_tokens,
        ):
            return self.empty()
        return manifest

    def write(self, manifest: Manifest) -> None:
        """Commit ``manifest``: the file is replaced atomically."""
        _write_atomically(self.path, manifest.model_dump_json(indent=1))


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
