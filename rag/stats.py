"""Word statistics of a corpus, over its sentence records: how rare a word is, how the
corpus spells it, which words stand on and around a line, and which sentences a line
holds. The extractive backend reads them to weigh a question's words and to look for a
name in the lines before a passage; the retriever makes them from the records it holds
(``Retriever.stats``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rag.index.records import Records
from rag.language.words import Vocabulary, words

__all__ = ["CorpusStats"]

_NEAR_LENGTH = 2  # letters a near spelling may differ by ("rostec", "rostech")


class CorpusStats:
    """The statistics of one snapshot's sentence records, in the forms of ``vocab``."""

    def __init__(self, records: Records, vocab: Vocabulary) -> None:
        self.doc_freq: dict[str, int] = {}
        self.count = len(records.texts)
        self._lines: dict[str, dict[int, set[str]]] = {}  # source -> line -> its words
        self._texts: dict[str, dict[int, list[str]]] = {}  # source -> line -> sentences
        self._documents: dict[str, set[str]] = {}  # source -> its words, when first asked
        self._lowered: str | None = None  # every sentence, lower case, for ``mentions``
        for text, source, line in zip(
            records.texts, records.sources, records.start_lines, strict=True
        ):
            found = vocab.forms(words(text))
            for term in found:
                self.doc_freq[term] = self.doc_freq.get(term, 0) + 1
            self._lines.setdefault(source, {}).setdefault(line, set()).update(found)
            self._texts.setdefault(source, {}).setdefault(line, []).append(text)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a canonical word over the sentences."""
        df = self.doc_freq.get(term, 0)
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))

    def resolve(self, term: str) -> str | None:
        """The corpus's spelling of a canonical word, allowing a near spelling for long
        words ("rostec" finds "rostech"); None if the corpus does not have it."""
        if term in self.doc_freq:
            return term
        if len(term) < 5:
            return None
        near = [
            v for v in self.doc_freq
            if len(v) >= 4 and abs(len(v) - len(term)) <= _NEAR_LENGTH
            and (v.startswith(term) or term.startswith(v))
        ]
        return min(near, key=lambda v: (abs(len(v) - len(term)), v)) if near else None

    def coverage(self, question_terms: Sequence[str], sentence_terms: set[str]) -> float:
        """IDF-weighted share of the question's words that the sentence has; words the
        corpus lacks are left out (no sentence could have them)."""
        known = [t for t in question_terms if t in self.doc_freq]
        total = sum(self.idf(t) for t in known)
        if total == 0:
            return 0.0
        return sum(self.idf(t) for t in known if t in sentence_terms) / total

    def context_terms(self, source: str, line: int) -> set[str]:
        """Words of ``line``, the three lines before it, and the document's first line."""
        lines = self._lines.get(source, {})
        found: set[str] = set(lines.get(1, set()))
        for number in range(max(1, line - 3), line + 1):
            found |= lines.get(number, set())
        return found

    def document_terms(self, source: str) -> set[str]:
        """Every canonical word of one document."""
        if source not in self._documents:
            self._documents[source] = set().union(*self._lines.get(source, {}).values())
        return self._documents[source]

    def line_sentences(self, source: str, line: int) -> list[str]:
        """The sentence records of one line, in order."""
        return self._texts.get(source, {}).get(line, [])

    def previous_lines(self, source: str, line: int, count: int) -> list[int]:
        """Up to ``count`` non-blank line numbers before ``line``, nearest first."""
        lines = self._texts.get(source, {})
        return [n for n in range(line - 1, 0, -1) if n in lines][:count]

    def mentions(self, text: str) -> bool:
        """Whether some sentence holds ``text``, letter case aside."""
        if self._lowered is None:
            self._lowered = "\n".join(
                t for by_line in self._texts.values() for texts in by_line.values()
                for t in texts).lower()
        return text.lower() in self._lowered
