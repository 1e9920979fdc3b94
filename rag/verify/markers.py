"""Which sentences a text has, and which citation markers each carries: ``[1]`` in a
returned Answer, ``[S1]`` or ``[S1, S3]`` in what a model writes."""

from __future__ import annotations

import re

from rag.language.sentences import sentence_spans
from rag.types import Answer

__all__ = ["ID_MARKERS", "NUMBER_MARKERS", "cited_sentences", "literal_brackets", "split_cited",
           "split_marked"]

# "[1]" in a returned Answer; "[S1]", "[S1, S3]" in what a model writes.
NUMBER_MARKERS = re.compile(r"\s*\[(\d+)\]")
ID_MARKERS = re.compile(r"\s*\[\s*([A-Za-z]+\d+(?:\s*[,;]\s*[A-Za-z]+\d+)*)\s*\]")


def literal_brackets(text: str) -> str:
    """``text`` for an Answer: a quoted "[2]" (a footnote in the source, an index in code)
    written with full-width brackets, "［2］", so no reader takes it for a marker."""
    return re.sub(r"\[(\d+)\]", "\uff3b\\1\uff3d", text)


def split_marked(text: str, marker: re.Pattern[str]) -> list[tuple[str, list[str]]]:
    """The sentences of a text, each with the markers it carries (``marker``'s group 1,
    split on commas).

    Markers may follow the full stop ("... tanks. [1]") or precede it ("... tanks [1].").
    """
    trailing = re.compile(rf"([.!?…][\"'”’)]*)((?:{marker.pattern})+)")
    text = trailing.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
    out: list[tuple[str, list[str]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        found = [
            part.strip() for group in marker.findall(sentence)
            for part in re.split(r"[,;]", group) if part.strip()
        ]
        plain = marker.sub("", sentence).strip()
        if plain:
            out.append((plain, found))
        elif found and out:
            out[-1][1].extend(found)
    return out


def split_cited(text: str) -> list[tuple[str, list[int]]]:
    """The sentences of an Answer's text, each with the citation numbers it carries."""
    return [
        (sentence, [int(n) for n in found])
        for sentence, found in split_marked(text, NUMBER_MARKERS)
    ]


def cited_sentences(answer: Answer) -> list[tuple[str, list[str]]]:
    """Each sentence of ``answer`` with the quotes of the citations it carries."""
    out = []
    for sentence, markers in split_cited(answer.text):
        quotes = [answer.citations[n - 1].quote for n in markers if 0 < n <= len(answer.citations)]
        out.append((sentence, quotes))
    return out
