"""Citation markers (rag/verify/markers.py): which sentences a text has and which markers
each carries, in a model's ``[S1]`` form and an Answer's ``[1]`` form."""

from __future__ import annotations

from rag.types import Answer, Citation
from rag.verify.markers import (
    ID_MARKERS,
    cited_sentences,
    literal_brackets,
    split_cited,
    split_marked,
)


def test_a_marker_after_or_before_the_full_stop_belongs_to_its_sentence() -> None:
    assert split_marked("Egypt bought 500. [S1] India bought 450 [S2].", ID_MARKERS) == [
        ("Egypt bought 500.", ["S1"]), ("India bought 450.", ["S2"])]


def test_several_ids_in_one_marker_or_in_several() -> None:
    assert split_marked("Both bought tanks [S1, S3][S4].", ID_MARKERS) == [
        ("Both bought tanks.", ["S1", "S3", "S4"])]
    assert split_marked("Both bought tanks [S1; S2].", ID_MARKERS) == [
        ("Both bought tanks.", ["S1", "S2"])]


def test_a_marker_standing_alone_goes_to_the_sentence_before_it() -> None:
    assert split_marked("Egypt bought 500 tanks. [S1] [S2]", ID_MARKERS) == [
        ("Egypt bought 500 tanks.", ["S1", "S2"])]


def test_a_sentence_without_markers_is_kept_with_none() -> None:
    assert split_marked("No source here. Egypt bought 500 [S1].", ID_MARKERS) == [
        ("No source here.", []), ("Egypt bought 500.", ["S1"])]


def test_a_quoted_number_in_brackets_is_not_a_marker() -> None:
    quoted = literal_brackets("See note [2] in the table.")
    assert quoted == "See note \uff3b2\uff3d in the table."
    assert split_cited(f"{quoted} [1]") == [(quoted, [1])]


def test_an_answer_marker_past_its_citations_quotes_nothing() -> None:
    answer = Answer(question="q", text="Egypt bought 500. [1] India bought 450. [3]",
                    refused=False, backend="extractive",
                    citations=[Citation(source="a.txt", start_line=1, end_line=1,
                                        quote="Egypt bought 500.")])
    assert cited_sentences(answer) == [("Egypt bought 500.", ["Egypt bought 500."]),
                                       ("India bought 450.", [])]
