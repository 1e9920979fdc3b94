"""Cutting documents into pieces: every piece's text is in the lines it cites, recorded as
it is cut (never searched for afterwards), and sentence boundaries respect
abbreviations and initials."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from rag.chunking import DEFAULT_CHUNK_TOKENS, Piece, line_windows, sentence_units
from rag.corpus import Document, FileStamp, load_corpus, split_lines
from rag.language.sentences import sentence_spans
from rag.tokens import count_tokens

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_DOCS = load_corpus(SEEDS).documents


def make_doc(text: str, source: str = "doc.txt") -> Document:
    return Document(source, split_lines(text), "0" * 64, FileStamp(source, len(text), 0))


def sentences(line: str) -> list[str]:
    return [line[start:end] for start, end in sentence_spans(line)]


def check_window(doc: Document, window: Piece) -> None:
    """A window's text is its lines, stripped and joined; a window of one long line is a
    verbatim slice of that line. It never spans a blank line."""
    lines = doc.lines[window.start_line - 1 : window.end_line]
    assert all(line.strip() for line in lines), window
    for line in lines:
        assert line.strip() in window.text
    if window.start_line == window.end_line:
        assert window.text in lines[0]


def test_seeds_are_all_there() -> None:
    assert [doc.source[:3] for doc in SEED_DOCS] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.source[:3])
def test_seed_sentences_are_verbatim_in_their_line(doc: Document) -> None:
    units = sentence_units(doc)
    assert units
    for unit in units:
        assert unit.start_line == unit.end_line
        assert unit.text
        assert unit.text in doc.lines[unit.start_line - 1]
        assert unit.text == unit.text.strip()


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.source[:3])
def test_seed_sentences_cover_every_line_without_loss(doc: Document) -> None:
    by_line: dict[int, list[str]] = {}
    for unit in sentence_units(doc):
        by_line.setdefault(unit.start_line, []).append(unit.text)
    for number, line in enumerate(doc.lines, start=1):
        joined = "".join(by_line.get(number, []))
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", line), number


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.source[:3])
def test_seed_windows_hold_their_lines_and_cover_each_once(doc: Document) -> None:
    windows = line_windows(doc)
    assert [w.index for w in windows] == list(range(len(windows)))
    covered: list[int] = []
    for window in windows:
        check_window(doc, window)
        assert count_tokens(window.text) <= DEFAULT_CHUNK_TOKENS or (
            window.start_line == window.end_line
        )
        covered.extend(range(window.start_line, window.end_line + 1))
    non_blank = [n for n, line in enumerate(doc.lines, start=1) if line.strip()]
    # A long line may have several windows; apart from that each line is in one window.
    assert sorted(set(covered)) == non_blank
    assert covered == sorted(covered)


def test_seed_windows_group_consecutive_lines() -> None:
    windows = {(w.source[:3], w.start_line, w.end_line) for d in SEED_DOCS for w in line_windows(d)}
    assert ("001", 5, 9) in windows
    assert ("004", 1, 2) in windows


def test_long_line_is_cut_into_windows_citing_that_line() -> None:
    line = "  ".join(
        f"Sentence {i} says the bridge over the Danube was repaired in {1900 + i}."
        for i in range(40)
    )
    doc = make_doc(f"Title\n\n{line}\nAfter the long line.\n")
    windows = line_windows(doc, max_tokens=40)
    long = [w for w in windows if w.start_line == 3]
    assert len(long) > 5
    assert all(w.end_line == 3 for w in long)
    for window in long:
        assert window.text in line
        assert count_tokens(window.text) <= 40
    # Together the windows hold every sentence of the line, in order.
    assert re.sub(r"\s", "", "".join(w.text for w in long)) == re.sub(r"\s", "", line)
    assert [(w.start_line, w.end_line) for w in windows if w.start_line != 3] == [(1, 1), (4, 4)]


def test_single_sentence_over_budget_is_kept_whole() -> None:
    sentence = "The " + " ".join(["very"] * 80) + " long sentence ends here."
    doc = make_doc(sentence + "\n")
    windows = line_windows(doc, max_tokens=10)
    assert [w.text for w in windows] == [sentence]


def test_windows_never_cross_a_blank_line() -> None:
    text = "a one\na two\n\nb one\n   \nc one\nc two\nc three\n\t\n\nd one\n"
    doc = make_doc(text)
    windows = line_windows(doc, max_tokens=1000)
    assert [(w.start_line, w.end_line) for w in windows] == [(1, 2), (4, 4), (6, 8), (11, 11)]
    assert windows[2].text == "c one\nc two\nc three"


def test_windows_respect_the_token_budget() -> None:
    lines = [f"Line {i} mentions the harbour and its cranes." for i in range(30)]
    doc = make_doc("\n".join(lines))
    windows = line_windows(doc, max_tokens=30)
    assert len(windows) > 3
    for window in windows:
        check_window(doc, window)
        assert count_tokens(window.text) <= 30
    assert windows[0].start_line == 1
    assert windows[-1].end_line == 30
    for before, after in itertools.pairwise(windows):
        assert after.start_line == before.end_line + 1


def test_window_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        line_windows(make_doc("text"), max_tokens=0)


def test_repeated_identical_lines_keep_their_own_line_numbers() -> None:
    """LlamaIndex finds offsets with str.find afterwards, so every copy points at the first;
    here each copy cites its own line."""
    same = "The bridge is closed for repairs."
    doc = make_doc(f"{same}\n\n{same}\nOther words.\n\n{same}\n")
    units = [u for u in sentence_units(doc) if u.text == same]
    assert [u.start_line for u in units] == [1, 3, 6]
    windows = line_windows(doc)
    assert [(w.start_line, w.end_line) for w in windows] == [(1, 1), (3, 4), (6, 6)]
    assert [u.index for u in sentence_units(doc)] == [0, 1, 2, 3]


def test_sentence_units_skip_blank_lines_and_keep_indentation_out() -> None:
    doc = make_doc("   Indented line here.  \n\n\t\nLast line.")
    units = sentence_units(doc)
    assert [(u.start_line, u.text) for u in units] == [
        (1, "Indented line here."),
        (4, "Last line."),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Russia invaded Ukraine on Feb. 24 and the war began.",
        "The talks were led by V. Putin and his aides.",
        "Several U.S. officials said the deal was off.",
        "They met U.S. Officials in Ankara last week.",
        "The budget grew to 5 trillion. rubles were then spent on arms.",
        "Mr. Smith and Dr. Jones met Gen. Ivanov in Moscow.",
        "Prices rose, e.g. in Moscow, by a third.",
        "The war began in Feb. 2022 and continued.",
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(line: str) -> None:
    assert sentences(line) == [line]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Russia invaded Ukraine. The war began.",
            ["Russia invaded Ukraine.", "The war began."],
        ),
        ("Did it work? Yes, it did!  Then what?", ["Did it work?", "Yes, it did!", "Then what?"]),
        (
            'He said "we will win." Then he left.',
            ['He said "we will win."', "Then he left."],
        ),
        (
            "First part. \u201cQuoted start\u201d follows.",
            ["First part.", "\u201cQuoted start\u201d follows."],
        ),
        ("It cost 50 dollars! 20 more came later.", ["It cost 50 dollars!", "20 more came later."]),
    ],
)
def test_sentences_split_at_real_boundaries(line: str, expected: list[str]) -> None:
    assert sentences(line) == expected


def test_tiny_fragments_join_the_sentence_before() -> None:
    assert sentences("The deal was signed. OK. Then they left.") == [
        "The deal was signed. OK.",
        "Then they left.",
    ]


def test_sentence_spans_exclude_surrounding_blanks() -> None:
    line = "   One sentence here.   Another one there.   "
    spans = sentence_spans(line)
    assert [line[a:b] for a, b in spans] == ["One sentence here.", "Another one there."]
    assert sentence_spans("    ") == []
