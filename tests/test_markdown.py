"""Markdown structure: what each line is, and how it is cut, still citing exact lines."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.answer.extractive import CONFLICT_NOTE
from rag.chunking import line_windows, sentence_units
from rag.corpus import Document, FileStamp
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.markdown import (
    CODE,
    FENCE,
    HEADING,
    MARKUP,
    TABLE,
    TEXT,
    line_roles,
    search_text,
    table_cells,
)
from rag.settings import Settings
from rag.types import Answer

PAGE = """\
# Acme

Acme is a tool for
fetching things. It is fast.

## Install

Run the installer:

```bash
pip install acme
acme init --here
```

1. Run the installer.
2. Initialise the folder.

## Models

| Model | Price (USD) | Weight (kg) |
|-------|-------------|-------------|
| Alpha | 100         | 12          |
| Beta  | 250         | 30          |

!!! note
    Beta models ship from [Porto](https://example.com/porto).

    They are made in Porto.
"""


def _doc(text: str, source: str = "guide.md") -> Document:
    lines = tuple(text.split("\n")[:-1])
    data = text.encode()
    return Document(source=source, lines=lines, sha256=hashlib.sha256(data).hexdigest(),
                    stamp=FileStamp(source, len(data), 0))


def test_every_line_gets_its_kind_and_heading_path() -> None:
    lines = PAGE.split("\n")[:-1]
    roles = line_roles(lines)
    kinds = {n: roles[n - 1].kind for n in range(1, len(lines) + 1)}
    assert kinds[1] == HEADING
    assert kinds[3] == kinds[4] == TEXT
    assert roles[3].block == (3, 4)  # one paragraph, hard-wrapped
    assert kinds[10] == kinds[13] == FENCE
    assert kinds[11] == kinds[12] == CODE
    assert roles[10].block == (10, 13)
    assert roles[11].headings == ("Acme", "Install")
    assert kinds[15] == kinds[16] == TEXT  # a numbered list
    assert kinds[20] == kinds[22] == kinds[23] == TABLE
    assert kinds[21] == MARKUP  # the |---| row says nothing
    assert roles[22 - 1].header == 20  # Alpha's row, under its header row
    assert roles[22 - 1].headings == ("Acme", "Models")
    assert kinds[25] == MARKUP  # the admonition's marker line
    assert kinds[26] == TEXT  # its indented body is prose, not code
    assert kinds[28] == TEXT  # still the admonition's body


def test_a_line_of_html_tags_alone_is_markup_and_its_words_are_text() -> None:
    lines = ["<div align=\"center\">", "<a href=\"https://example.com\">", "</a>",
             "<em>A next-generation HTTP client.</em>", "</div>"]
    assert [r.kind for r in line_roles(lines)] == [MARKUP, MARKUP, MARKUP, TEXT, MARKUP]


def test_an_api_reference_directive_is_markup() -> None:
    lines = ["::: httpx.Client", "    :docstring:", "    :members: headers cookies", "",
             "Clients keep connections open."]
    assert [r.kind for r in line_roles(lines)] == [MARKUP, MARKUP, MARKUP, MARKUP, TEXT]


def test_sentences_of_a_wrapped_paragraph_cite_the_lines_they_span() -> None:
    units = sentence_units(_doc(PAGE))
    spans = [(u.start_line, u.end_line, u.text) for u in units]
    assert spans[0] == (3, 4, "Acme is a tool for\nfetching things.")
    assert spans[1] == (4, 4, "It is fast.")
    # Code lines are whole pieces, never cut at their dots; fences and headings are none.
    assert (11, 11, "pip install acme") in spans
    assert (12, 12, "acme init --here") in spans
    assert (15, 15, "Run the installer.") in spans  # "1." is no sentence of its own
    assert not any(text.startswith(("#", "```", "|---")) for _, _, text in spans)
    for unit in units:
        assert unit.text in "\n".join(PAGE.split("\n")[unit.start_line - 1 : unit.end_line])
    assert units[2].context == "Acme > Install"


def test_windows_never_cross_a_heading_and_a_code_block_is_its_own() -> None:
    windows = line_windows(_doc(PAGE))
    ranges = [(w.start_line, w.end_line, w.context) for w in windows]
    assert (3, 4, "Acme") in ranges
    assert (8, 8, "Acme > Install") in ranges
    assert (11, 12, "Acme > Install") in ranges
    assert (20, 23, "Acme > Models") in ranges


def test_the_same_text_in_a_txt_file_is_cut_as_before() -> None:
    units = sentence_units(_doc(PAGE, "guide.txt"))
    assert (units[0].start_line, units[0].text) == (1, "# Acme")
    assert all(u.context == "" for u in units)


def test_search_text_drops_markup_but_keeps_words() -> None:
    assert search_text("Ship from [Porto](https://x.y/porto) **fast**.") == "Ship from Porto fast."
    assert search_text("## Timeouts") == "Timeouts"
    assert search_text("!!! note") == "note"


def test_a_markdown_corpus_on_disk_is_indexed_with_its_structure(tmp_path: Path) -> None:
    from rag.corpus import load_corpus

    (tmp_path / "guide.md").write_text(PAGE)
    doc = load_corpus(tmp_path).documents[0]
    assert [u.start_line for u in sentence_units(doc)][:2] == [3, 4]


DOCS = {
    "acme.md": PAGE,
    "history.md": "# History\n\nThe Alpha model is made in Porto.\n\nIt was first sold in 2019.\n",
    "proxies.md": "# Proxies\n\nSkip the proxy for a single intranet host...\n\n```python\n"
                  "mounts = {\"all://\": proxy, \"all://wiki.intranet\": None}\n```\n",
    "requirements.md": "# Requirements\n\nAcme runs on Python 3.9+.\n\n"
                       "For HTTP/1.1 and HTTP/2 it needs the h2 package.\n",
    "api.md": "# Response\n\n* `.elapsed` - The time taken between sending the request and "
              "receiving the response.\n* `.encoding` - The text encoding used.\n",
    "transports.md": """# Transports

```python
import httpx
limits = httpx.Limits(max_connections=10)
mounts = {
    "all://": httpx.HTTPTransport(local_address="0.0.0.0", limits=limits),
}
client = httpx.Client(mounts=mounts)
response = client.get("https://example.org")
```
""",
}


@pytest.fixture(scope="module")
def docs_engine(built_engine: Callable[[dict[str, str | bytes]], Engine]) -> Engine:
    return built_engine(dict(DOCS))


def cited(answer: Answer) -> list[tuple[str, int, int]]:
    return [(c.source, c.start_line, c.end_line) for c in answer.citations]


@pytest.mark.parametrize(
    ("question", "row", "cell"),
    [
        ("What is the weight of the Beta model?", 23, "Weight = 30 kg"),
        ("How much does the Beta model cost?", 23, "Price = 250 USD"),
        ("How heavy is the Alpha model?", 22, "Weight = 12 kg"),
    ],
)
def test_a_table_cell_is_answered_with_its_column_and_header_row(
    docs_engine: Engine, question: str, row: int, cell: str
) -> None:
    answer = docs_engine.ask(question)
    assert not answer.refused, answer.text
    assert cell in answer.text
    assert cited(answer)[:2] == [("acme.md", 20, 20), ("acme.md", row, row)]
    assert answer.citations[0].quote == "| Model | Price (USD) | Weight (kg) |"


def test_a_command_is_answered_with_its_code_block(docs_engine: Engine) -> None:
    answer = docs_engine.ask("What command initialises acme?")
    assert ("acme.md", 11, 12) in cited(answer)
    assert "acme init --here" in answer.text


def test_a_code_answer_quotes_the_lines_that_answer_and_what_they_need(
    docs_engine: Engine,
) -> None:
    # The line naming the local address, the dict literal it sits in (whole), and where
    # the ``limits`` it uses is set; not the import, nor the calls after it.
    answer = docs_engine.ask("How do I make outgoing connections use one local address?")
    assert cited(answer) == [("transports.md", 5, 8)], answer.text
    quote = answer.citations[0].quote or ""
    assert quote.startswith("limits = httpx.Limits(max_connections=10)")
    assert quote.endswith("}"), quote


def test_prose_ending_in_an_ellipsis_is_answered_with_the_code_it_introduces(
    docs_engine: Engine,
) -> None:
    answer = docs_engine.ask("How do I skip the proxy for one intranet host?")
    assert cited(answer) == [("proxies.md", 3, 3), ("proxies.md", 6, 6)]
    assert '"all://wiki.intranet": None' in answer.text


def test_a_question_that_sets_its_scene_before_asking_how_is_answered_from_the_scene(
    docs_engine: Engine,
) -> None:
    answer = docs_engine.ask("One intranet host must skip the proxy. How?")
    assert ("proxies.md", 6, 6) in cited(answer)


def test_a_version_question_is_answered_by_a_version_or_refused(docs_engine: Engine) -> None:
    answer = docs_engine.ask("What is the oldest Python version Acme runs on?")
    assert cited(answer) == [("requirements.md", 3, 3)]
    # The h2 line names h2 but no version of it (HTTP/1.1 is a protocol's): refused.
    assert docs_engine.ask("What minimum version of the h2 package does Acme need?").refused


def test_a_table_row_reads_with_its_column_names_and_units() -> None:
    header = "| Model | Price (USD) | Weight (kg) | Notes |"
    assert table_cells("| Beta | 250 | 30 | light |", header) == (
        "Model = Beta, Price = 250 USD, Weight = 30 kg, Notes = light")
    assert table_cells("| Gamma | | 7 |", header) == "Model = Gamma, Weight = 7 kg"


def test_a_code_name_the_docs_spell_in_parts_is_not_a_reason_to_refuse(
    docs_engine: Engine,
) -> None:
    # "Response.elapsed" is nowhere whole: the page says `.elapsed` under "# Response".
    answer = docs_engine.ask("What does Response.elapsed measure?")
    assert cited(answer) == [("api.md", 3, 3)]


def test_the_roles_of_many_files_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ask reads the roles of its candidates' files: forty pages asked about again
    are not parsed again (a cache of 16 parsed the httpx pages over and over)."""
    from markdown_it import MarkdownIt

    parsed: list[str] = []
    real = MarkdownIt.parse

    def parse(self: MarkdownIt, src: str, env: object = None) -> object:
        parsed.append(src)
        return real(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", parse)
    pages = [(f"# Parsed-once page {n}", "", f"Page {n} says one thing.") for n in range(40)]
    first = [line_roles(lines) for lines in pages]
    assert [line_roles(lines) for lines in pages] == first
    assert len(parsed) == 40


def test_the_sentences_an_answer_weighs_are_embedded_in_one_call(
    docs_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Markdown record's vector is of its heading path and text, so the sentences the
    extractive backend weighs against each other are embedded: all in one call, not one
    call per comparison."""
    from rag.answer.extractive import ExtractiveBackend
    from rag.answer.extractive.judge import Candidate
    from rag.answer.vocabulary import analyze_question
    from rag.types import Passage

    backend = ExtractiveBackend()
    retriever = docs_engine.retriever()
    token = uuid.uuid4().hex[:8]  # texts new to the embedder's cache
    ranked = [
        Candidate(Passage(source="guide.md", start_line=line, end_line=line, score=1.0,
                          text=f"Acme {token} fetches things, way {n}."),
                  {"answerable": 1.0}, score=backend.scorer.threshold + 1.0 - n / 100)
        for n, line in enumerate((3, 4, 15))
    ]
    calls: list[list[str]] = []
    real = retriever.embedder.embed
    monkeypatch.setattr(retriever.embedder, "embed",
                        lambda texts: calls.append(list(texts)) or real(texts))
    backend._select(analyze_question("What does Acme do?"), ranked, retriever)
    assert calls == [[c.passage.text for c in ranked]]


def test_figures_in_code_examples_are_not_shown_as_differing_sources(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    # Two examples pick two values for one setting: that is no conflict between sources.
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "limits.md").write_text(
        "# Limits\n\nSet the pool size:\n\n```python\n"
        "limits = httpx.Limits(max_connections=10)\n```\n")
    (corpus / "pools.md").write_text(
        "# Pools\n\nA bigger pool:\n\n```python\n"
        "limits = httpx.Limits(max_connections=50)\n```\n")
    engine = Engine(Settings(corpus=corpus, index_dir=tmp_path / "index"), embedder=embedder)
    engine.build()
    answer = engine.ask("How many connections does httpx.Limits allow at most?")
    assert not answer.refused
    assert CONFLICT_NOTE not in answer.text, answer.text
    assert len(answer.citations) == 1


def test_a_lone_carriage_return_does_not_shift_the_roles_below_it() -> None:
    """markdown-it breaks a line at a lone CR, rag does not: the parser must not number
    its lines past rag's (an IndexError once) nor shift every role below by one."""
    lines = ("Intro one.\rIntro two.", "", "```", "x = 1", "```", "", "", "")
    kinds = [role.kind for role in line_roles(lines)]
    assert kinds[:5] == [TEXT, MARKUP, FENCE, CODE, FENCE]
