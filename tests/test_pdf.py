"""PDF files: pages' text line by line, citations that name the page and its lines, and
clear skips for PDFs that hold no text."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.chunking import sentence_units
from rag.corpus import Document, FileStamp, load_corpus, read_lines
from rag.engine import Engine
from rag.errors import SkippedFileWarning
from rag.formats import line_roles, searchable
from rag.pdf import PAGE_BREAK, page_location, pdf_lines
from rag.roles import HEADING, MARKUP, TEXT
from tests.pdfs import encrypted, pdf_bytes

MANUAL = [
    ["Acme Pump Manual", "The pump moves 40 litres a minute at full speed.",
     "Clean the intake fil-", "ter every week, or twice a week in dusty places."],
    ["Safety", "Never open the pump housing while the motor runs.",
     "The motor stops on its own after 30 minutes without water."],
]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_pages_are_read_line_by_line_each_after_a_page_break() -> None:
    lines = pdf_lines(pdf_bytes(MANUAL))
    assert lines[0] == PAGE_BREAK
    assert lines[1:5] == tuple(MANUAL[0])
    second = lines.index(PAGE_BREAK, 1)
    assert lines[second + 1 : second + 4] == tuple(MANUAL[1])
    # Document line -> (page, line within the page's text).
    assert page_location(lines, 3) == (1, 2)
    assert page_location(lines, second + 2) == (2, 1)


def test_a_hyphenated_word_is_searched_whole_and_quoted_as_printed() -> None:
    lines = pdf_lines(pdf_bytes(MANUAL))
    doc = Document("manual.pdf", lines, "", FileStamp("manual.pdf", 0, 0))
    units = sentence_units(doc)
    clean = next(u for u in units if u.text.startswith("Clean"))
    assert (clean.start_line, clean.end_line) == (4, 5)
    assert clean.text == "Clean the intake fil-\nter every week, or twice a week in dusty places."
    assert searchable("manual.pdf", clean.text) == (
        "Clean the intake filter every week, or twice a week in dusty places.")


def test_a_short_line_set_apart_is_a_title_and_heads_what_follows() -> None:
    lines = pdf_lines(pdf_bytes(MANUAL))
    roles = line_roles(lines, "manual.pdf")
    assert [r.kind for r in roles[:6]] == [MARKUP, HEADING, TEXT, TEXT, TEXT, MARKUP]
    assert roles[2].block == (3, 5)
    assert roles[2].headings == ("Acme Pump Manual",)
    assert roles[8].headings == ("Safety",)  # "Safety" on page 2
    assert roles[3].kind == TEXT  # "Clean the intake fil-" wraps on: no title


def test_the_extraction_is_kept_by_the_file_hash(tmp_path: Path) -> None:
    data = pdf_bytes([["A page kept on disk."]])
    lines = pdf_lines(data)
    (stored,) = (tmp_path / "cache" / "rag" / "pdf-text").glob("*.json")
    assert tuple(json.loads(stored.read_text())) == lines


def test_pdfs_without_text_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manual.pdf").write_bytes(pdf_bytes(MANUAL))
    (corpus / "scanned.pdf").write_bytes(pdf_bytes([[], []]))
    (corpus / "locked.pdf").write_bytes(encrypted(pdf_bytes(MANUAL), "secret"))
    (corpus / "open.pdf").write_bytes(encrypted(pdf_bytes([["Owner password only."]]), ""))
    (corpus / "broken.pdf").write_bytes(pdf_bytes(MANUAL)[:300])
    (corpus / "notes.txt").write_text("Plain notes.\n")
    with pytest.warns(SkippedFileWarning) as caught:
        loaded = load_corpus(corpus)
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        "skipping broken.pdf: damaged PDF (PdfStreamError)",
        "skipping locked.pdf: encrypted PDF (a password is needed)",
        "skipping scanned.pdf: no text layer (a scanned PDF?)",
    ]
    assert [d.source for d in loaded.documents] == ["manual.pdf", "notes.txt", "open.pdf"]


@pytest.fixture(scope="module")
def pdf_engine(built_engine: Callable[[dict[str, str | bytes]], Engine]) -> Engine:
    return built_engine({"manual.pdf": pdf_bytes(MANUAL)})


def test_an_answer_from_a_pdf_names_the_page_and_its_lines(pdf_engine: Engine) -> None:
    answer = pdf_engine.ask("What must never be opened while the motor runs?")
    assert not answer.refused, answer.text
    (citation,) = [c for c in answer.citations if c.page == 2]
    assert (citation.page_start_line, citation.page_end_line) == (2, 2)
    assert citation.quote == "Never open the pump housing while the motor runs."
    lines = read_lines(pdf_engine.corpus_root, "manual.pdf")
    assert citation.quote == "\n".join(lines[citation.start_line - 1 : citation.end_line])


def test_the_cli_shows_the_page(pdf_engine: Engine, tmp_path: Path) -> None:
    env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "XDG_CACHE_HOME": str(tmp_path / "c"),
           "PATH": "/usr/bin:/bin", "ORT_DISABLE_TELEMETRY": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--corpus", str(pdf_engine.corpus_root),
         "How much water does the pump move a minute?"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "manual.pdf:3 (page 1, line 2)" in run.stdout
