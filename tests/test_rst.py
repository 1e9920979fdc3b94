"""reStructuredText (Sphinx) structure: what each line is, and answers that cite its
exact lines."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.chunking import line_windows, sentence_units
from rag.corpus import Document, FileStamp, load_corpus
from rag.engine import Engine
from rag.formats import line_roles, searchable
from rag.roles import CODE, FENCE, HEADING, MARKUP, TABLE, TEXT
from rag.rst import search_text

PAGE = """\
.. _guide:

==========
User Guide
==========

Making requests
---------------

To send a request, call :func:`~acme.fetch` with the URL.
The call returns a :class:`Reply`, see `the API <https://example.org/api>`_.

.. code-block:: python
   :emphasize-lines: 2

   import acme
   reply = acme.fetch("https://example.org")

Timeouts
--------

By default, fetches never time out. Pass ``timeout=5`` to stop
waiting after five seconds::

    acme.fetch(url, timeout=5)

.. note::
   A timeout is not a limit on the whole download.

.. versionadded:: 2.4
   The ``timeout`` tuple form.

- Retries are off by default and
  are turned on with ``retries=3``.
- Redirects are followed.

:param url: the address to fetch.

=====  ===========
Code   Meaning
=====  ===========
200    Fetched
404    Missing page
=====  ===========

+--------+---------+
| Option | Default |
+========+=========+
| verify | True    |
+--------+---------+

.. toctree::
   :maxdepth: 2

   api

.. include:: ../../../etc/passwd
"""


def _doc(text: str, source: str = "guide.rst") -> Document:
    lines = tuple(text.split("\n")[:-1])
    data = text.encode()
    return Document(source=source, lines=lines, sha256=hashlib.sha256(data).hexdigest(),
                    stamp=FileStamp(source, len(data), 0))


def _kinds(text: str) -> dict[int, str]:
    roles = line_roles(text.split("\n")[:-1], "guide.rst")
    return {n: role.kind for n, role in enumerate(roles, start=1)}


def test_every_line_gets_its_kind_and_heading_path() -> None:
    lines = PAGE.split("\n")[:-1]
    roles = line_roles(lines, "guide.rst")
    kinds = _kinds(PAGE)
    assert kinds[1] == MARKUP  # a link target
    assert (kinds[3], kinds[4], kinds[5]) == (MARKUP, HEADING, MARKUP)  # over- and underlined
    assert (kinds[7], kinds[8]) == (HEADING, MARKUP)
    assert roles[9].headings == ("User Guide", "Making requests")
    assert kinds[10] == kinds[11] == TEXT
    assert roles[9].block == (10, 11)  # one paragraph, hard-wrapped
    assert (kinds[13], kinds[14]) == (FENCE, MARKUP)  # the directive and its option
    assert kinds[16] == kinds[17] == CODE
    assert roles[15].block == (13, 17)
    assert roles[21].headings == ("User Guide", "Timeouts")  # a sibling title
    assert kinds[22] == kinds[23] == TEXT
    assert kinds[25] == CODE  # the literal block after "::"
    assert (kinds[27], kinds[28]) == (MARKUP, TEXT)  # a note: its prose, not its head
    assert (kinds[30], kinds[31]) == (TEXT, TEXT)  # "New in version 2.4" says something
    assert kinds[33] == kinds[34] == kinds[35] == TEXT
    assert roles[32].block == (33, 34)  # a list item over two lines
    assert roles[34].block == (35, 35)  # the next item
    assert kinds[37] == TEXT
    assert kinds[39] == kinds[41] == kinds[44] == MARKUP  # a simple table's borders
    assert kinds[40] == kinds[42] == kinds[43] == TABLE
    assert roles[42].header == 40
    assert kinds[46] == kinds[48] == kinds[50] == MARKUP  # a grid table's borders
    assert kinds[47] == kinds[49] == TABLE
    assert roles[48].header == 47
    assert all(kinds[n] == MARKUP for n in range(52, 58))  # toctree and include


def test_search_text_reads_what_the_built_page_shows() -> None:
    assert search_text("call :func:`~acme.fetch` with it") == "call fetch with it"
    assert search_text("see :ref:`the guide <guide>`") == "see the guide"
    assert search_text("see `the API <https://x.y>`_ and `Porto`_") == "see the API and Porto"
    assert search_text("Pass ``timeout=5`` **now**::") == "Pass timeout=5 now:"
    assert search_text(".. versionadded:: 2.4") == "New in version 2.4"
    assert search_text(".. deprecated:: 3.0") == "Deprecated since version 3.0"
    assert search_text(":param url: the address") == "param url: the address"
    assert search_text("- Redirects are followed.") == "Redirects are followed."


def test_sentences_and_windows_cite_the_lines_they_span() -> None:
    doc = _doc(PAGE)
    units = sentence_units(doc)
    spans = [(u.start_line, u.end_line, u.text) for u in units]
    assert (10, 10, "To send a request, call :func:`~acme.fetch` with the URL.") in spans
    assert (22, 22, "By default, fetches never time out.") in spans
    assert (16, 16, "import acme") in spans  # a code line is a piece of its own
    assert (43, 43, "404    Missing page") in spans
    markup = ("===", "+--", ":emph", ".. _", ".. code", ".. note", ".. toctree", ".. incl")
    assert not any(text.startswith(markup) for _, _, text in spans)
    assert (30, 30, ".. versionadded:: 2.4") in spans  # read as "New in version 2.4"
    lines = PAGE.split("\n")
    for unit in units:  # every piece is the text of the lines it cites
        assert unit.text in "\n".join(lines[unit.start_line - 1 : unit.end_line])
    assert units[0].context == "User Guide > Making requests"
    windows = {(w.start_line, w.end_line) for w in line_windows(doc)}
    assert (16, 17) in windows  # a code block is its own window
    assert searchable("guide.rst", "call :func:`~acme.fetch`", "Guide") == "Guide: call fetch"


def test_a_404_row_is_read_with_its_header() -> None:
    units = {u.start_line: u for u in sentence_units(_doc(PAGE))}
    assert units[43].context == "User Guide > Timeouts: Code = 404, Meaning = Missing page"
    assert units[49].context.endswith("Option = verify, Default = True")


@pytest.mark.parametrize("seed", range(20))
def test_any_jumble_of_rst_lines_gets_a_role_per_line(seed: int) -> None:
    """Malformed reStructuredText never stops the reader: every line gets a role whose
    block holds it, and a header row comes before its rows."""
    rng = random.Random(seed)
    parts = [
        *PAGE.split("\n"), "..", ".. code-block::", "   ", "\t.. note::", "::", "+---+",
        "| a |", "=====",
        "===  ===", "-", "Title", "~~~~", ">>> x", "   indented", ".. |s| replace:: x",
        ".. include:: guide.rst", "* item", "#. step", "(a) step", "term", "    def",
        "\r", "\u202e", "`unclosed", ":field", "``", "___", "....",
    ]
    lines = [rng.choice(parts) for _ in range(rng.randint(0, 120))]
    roles = line_roles(lines, "jumble.rst")
    assert len(roles) == len(lines)
    for number, role in enumerate(roles, start=1):
        assert role.block[0] <= number <= role.block[1] <= len(lines)
        assert role.header is None or role.header < number
        assert role.kind in (HEADING, TEXT, TABLE, CODE, FENCE, MARKUP)
    for unit in sentence_units(_doc("\n".join(lines) + "\n", "jumble.rst")):
        assert unit.text.strip()


DOCS = {
    "guide.rst": PAGE,
    "install.rst": "Installation\n============\n\nAcme runs on Python 3.9 or newer.\n\n"
                   "Install it with pip::\n\n    pip install acme\n",
    "history.rst": "History\n=======\n\nAcme was first released in 2019 by a team in Porto.\n",
    "config.rst": "Configuration\n=============\n\n.. py:data:: FETCH_TIMEOUT\n\n"
                  "   How long a fetch waits.\n\n   Default: ``30``\n",
}


@pytest.fixture(scope="module")
def rst_engine(built_engine: Callable[[dict[str, str | bytes]], Engine]) -> Engine:
    return built_engine(dict(DOCS))


def _quotes_are_the_lines(engine: Engine, question: str) -> list[tuple[str, int, int]]:
    answer = engine.ask(question)
    assert not answer.refused, answer.text
    for citation in answer.citations:
        lines = DOCS[citation.source].split("\n")
        assert citation.quote == "\n".join(lines[citation.start_line - 1 : citation.end_line])
    return [(c.source, c.start_line, c.end_line) for c in answer.citations]


def test_an_rst_folder_is_answered_citing_its_own_lines(rst_engine: Engine) -> None:
    assert ("install.rst", 4, 4) in _quotes_are_the_lines(
        rst_engine, "Which Python version does Acme need?")
    assert ("history.rst", 4, 4) in _quotes_are_the_lines(
        rst_engine, "When was Acme first released?")


def test_an_rst_code_question_is_answered_with_its_block(rst_engine: Engine) -> None:
    cited = _quotes_are_the_lines(rst_engine, "How do I install acme?")
    assert ("install.rst", 8, 8) in cited


def test_an_api_entry_names_what_its_content_is_about(rst_engine: Engine) -> None:
    """``Default: 30`` under ``.. py:data:: FETCH_TIMEOUT`` is found (and judged) with the
    entry's name in its heading path, as a line under a title is."""
    roles = line_roles(DOCS["config.rst"].split("\n"), "config.rst")
    assert roles[7].headings == ("Configuration", "FETCH_TIMEOUT")
    assert roles[3].headings == ("Configuration",)  # the entry's own line
    found = rst_engine.retriever().search("What is the default FETCH_TIMEOUT?", 3, "sentences")
    assert ("config.rst", 8) in [(p.source, p.start_line) for p in found]


def test_an_include_is_never_followed(rst_engine: Engine, tmp_path: Path) -> None:
    """``.. include::`` of a file outside the corpus is markup: nothing of it is read."""
    outside = tmp_path / "secret.rst"
    outside.write_text("The admin password is hunter2.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "index.rst").write_text(f"Home\n====\n\n.. include:: {outside}\n\nWelcome.\n")
    documents = load_corpus(corpus).documents
    assert [d.source for d in documents] == ["index.rst"]
    assert not any("hunter2" in u.text for u in sentence_units(documents[0]))
    assert line_roles(documents[0].lines, "index.rst")[3].kind == MARKUP
