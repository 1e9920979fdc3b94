"""HTML files: each line is what a reader sees there, with its role; answers cite the
element's lines and quote its text."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.chunking import sentence_units
from rag.corpus import Document, FileStamp, document_lines, load_corpus, quote_lines
from rag.engine import Engine
from rag.formats import line_roles
from rag.roles import CODE, HEADING, MARKUP, TABLE, TEXT

PAGE = (Path(__file__).parent / "data" / "sphinx_page.html").read_text(encoding="utf-8")


def _lines(text: str, source: str = "page.html") -> tuple[str, ...]:
    return document_lines(source, text)


def test_a_line_is_what_a_reader_sees_on_it() -> None:
    lines = _lines(PAGE)
    assert len(lines) == len(PAGE.split("\n")) - 1  # the file's own numbering
    assert lines[13 - 1] == "Timeouts"  # the heading, without its "¶" link
    assert lines[14 - 1] == "By default, fetches never time out. Pass timeout=5"
    assert lines[15 - 1] == "to stop waiting after five seconds & retry."  # &amp; decoded
    assert lines[17 - 1] == "acme.fetch(url, timeout=5)"  # code, its spans gone
    assert lines[25 - 1] == "404 | Missing page"
    shown = "\n".join(lines)
    for hidden in ("DOCUMENTATION_OPTIONS", "color: red", "documentation</", "Navigation",
                   "Install", "2024 Acme team", "Acme 2.4 documentation"):
        assert hidden not in shown  # script, style, head, sidebar, navigation, footer


def test_every_line_gets_its_role_and_heading_path() -> None:
    lines = _lines(PAGE)
    roles = line_roles(lines, "page.html")
    assert roles[13 - 1].kind == HEADING
    assert roles[14 - 1].kind == roles[15 - 1].kind == TEXT
    assert roles[14 - 1].block == (14, 15)  # one paragraph over two lines
    assert roles[16 - 1].kind == roles[17 - 1].kind == CODE
    assert roles[24 - 1].kind == TABLE
    assert roles[24 - 1].header == 22
    assert roles[25 - 1].headings == ("Timeouts", "Status codes")
    assert roles[1 - 1].kind == roles[10 - 1].kind == MARKUP  # nothing shown there
    doc = Document("page.html", lines, "", FileStamp("page.html", 0, 0))
    units = sentence_units(doc)
    spans = [(u.start_line, u.end_line, u.text) for u in units]
    assert (14, 14, "By default, fetches never time out.") in spans
    assert (14, 15, "Pass timeout=5\nto stop waiting after five seconds & retry.") in spans
    row = next(u for u in units if u.start_line == 25)
    assert row.context == "Timeouts > Status codes: Code = 404, Meaning = Missing page"


def test_minified_html_is_one_line_of_texts() -> None:
    lines = _lines("<html><body><h1>Acme</h1><p>Fast.</p><p>Small.</p></body></html>\n")
    assert lines == ("Acme Fast. Small.",)


@pytest.mark.parametrize("seed", range(20))
def test_broken_html_is_read_without_failing(seed: int) -> None:
    rng = random.Random(seed)
    parts = [*PAGE.split("\n"), "<p>", "</p>", "</div></div>", "<script>", "<pre>",
             "<table><tr><td>x", "</tr>", "<!--", "-->", "<![CDATA[", "&bogus;", "<a href=",
             "<h2>", "</h1>", "\u202e", "<", ">", "</>", "<tr", "<th>a</th>"]
    raw = [rng.choice(parts) for _ in range(rng.randint(0, 80))]
    lines = _lines("\n".join(raw) + "\n")
    assert len(lines) == len(raw)
    roles = line_roles(lines, "page.html")
    for number, role in enumerate(roles, start=1):
        assert role.block[0] <= number <= role.block[1] <= len(lines)
        assert role.header is None or role.header < number


@pytest.fixture(scope="module")
def mixed_engine(built_engine: Callable[[dict[str, str | bytes]], Engine]) -> Engine:
    return built_engine({
        "timeouts.html": PAGE,
        "install.rst": "Installation\n============\n\nAcme runs on Python 3.9 or newer.\n",
        "history.md": "# History\n\nAcme was first released in 2019.\n",
        "team.txt": "The Acme team works from Porto.\n",
    })


@pytest.mark.parametrize(
    ("question", "source", "line"),
    [
        ("Do fetches time out by default?", "timeouts.html", 14),
        ("Which Python version does Acme need?", "install.rst", 4),
        ("When was Acme first released?", "history.md", 3),
        ("Where does the Acme team work?", "team.txt", 1),
    ],
)
def test_a_mixed_folder_is_answered_citing_each_format(
    mixed_engine: Engine, question: str, source: str, line: int
) -> None:
    answer = mixed_engine.ask(question)
    assert not answer.refused, answer.text
    assert (source, line) in [(c.source, c.start_line) for c in answer.citations]
    for c in answer.citations:  # each quote is what the file shows on those lines now
        assert c.quote == quote_lines(mixed_engine.corpus_root, c.source, c.start_line,
                                      c.end_line)
        assert "<" not in c.quote


def test_an_html_only_folder_is_a_corpus(tmp_path: Path) -> None:
    (tmp_path / "index.htm").write_text("<p>Hello.</p>\n")
    assert [d.lines for d in load_corpus(tmp_path).documents] == [("Hello.",)]


def test_roles_survive_a_corpus_of_many_pages(tmp_path: Path) -> None:
    """The roles are kept beside the lines that were read; a corpus of many pages is
    read whole before any is cut, and its first page must still be cut with its heading
    path (the roles of a Sphinx site's 300 pages, not only of the last 256)."""
    for n in range(300):
        (tmp_path / f"page{n:03d}.html").write_text(
            f"<h1>Page {n}</h1>\n<p>Page {n} says one thing.</p>\n")
    documents = load_corpus(tmp_path).documents
    first = sentence_units(documents[0])
    assert [(u.start_line, u.context) for u in first] == [(2, "Page 0")]


def test_navigation_marked_by_its_id_is_not_read() -> None:
    """LDoc (and hand-written sites) mark the menu by ``id``, not by class or tag."""
    page = ("<html><body>\n<div id=\"navigation\">\n<h2>Contents</h2>\n"
            "<ul><li>Module pl.path</li></ul>\n</div>\n<div id=\"content\">\n"
            "<p>Paths are joined with join.</p>\n</div>\n</body></html>\n")
    shown = "\n".join(_lines(page))
    assert "Module pl.path" not in shown
    assert "Contents" not in shown
    assert "Paths are joined with join." in shown  # an id that names no menu is read
