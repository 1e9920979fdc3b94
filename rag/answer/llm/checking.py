"""Checking what a model wrote, sentence by sentence, against the lines it was shown.

A completion is read as a structured answer, or as text with ``[S1]`` markers (what a
server that ignores the schema writes). Each sentence then goes through ``Checker``:
1. ids the code did not hand out for this question are set aside;
2. the lines its ids point to must support it (``rag.verify.sentence_support``) and it must
   answer the question (``rag.verify.answers_question``, which may look for a name the
   cited lines lack in the lines just before them or their file's title; a judge that
   reads paraphrase may be given to overrule its word checks, ``Checker.judge``);
3. it keeps only the ids its support needs, and is checked for answering with those: a
   line cited only for carrying the question's words ("at the arms fair") is no
   evidence of the answer;
4. when its own ids fail, a handed-out line that passes both checks alone is cited
   instead: the model got the claim right and the line wrong, and a citation the code
   verified is as good as one the model chose (``CheckedSentence.recited`` keeps what it
   cited).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rag.answer.llm.context import SourceLine
from rag.answer.llm.structured import parse_structured
from rag.chunking import sentence_units
from rag.corpus import Document, FileStamp
from rag.formats import is_structured, line_roles, searchable
from rag.language.placement import Similarity, exact_similarity
from rag.language.words import BASE, words
from rag.prompts import REFUSAL_SENTINEL
from rag.roles import path_text
from rag.verify import ID_MARKERS, answers_question, sentence_support, split_marked
from rag.verify.relevance import UNSPOKEN

__all__ = ["NEARBY", "CheckedSentence", "Checker", "Judge", "check_answer", "cited_passage",
           "read_completion", "split_item"]

NEARBY = 3  # lines before a cited line that may name what it leaves out
# The question, a sentence, and what its cited lines say after their heading path -> how
# likely the sentence answers the question.
Judge = Callable[[str, str, str], float]
# The word checks' verdicts, which the judge may overrule: the question's words, names or
# asked noun not found in the cited lines, no reason given.
OVERRULABLE = (UNSPOKEN, "does not name ", "gives no reason")
NOT_ANSWERING = "it does not answer what the question asks (the answer judge)"


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without its id markers
    ids: tuple[str, ...]  # ids handed out for this question that it needs
    invented: tuple[str, ...]  # ids it cites that were never handed out
    problems: tuple[str, ...]  # empty when the sentence passed
    recited: tuple[str, ...] = ()  # the ids the model gave, when the checker cited others
    # The lines each id stands for when its line is part of a sentence wrapped over
    # several lines (Markdown): the whole sentence's, first and last, and their text.
    spans: tuple[tuple[str, int, int, tuple[str, ...]], ...] = ()

    def span(self, line: SourceLine) -> tuple[int, int, tuple[str, ...]]:
        """The lines the citation of ``line`` covers, and what they say."""
        return next(((a, b, said) for i, a, b, said in self.spans if i == line.id),
                    (line.line, line.line, (line.text,)))

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Checker:
    """The checks for one question: the lines handed out under ids, the question, word
    similarity for near words, and a file's lines (where a name the cited lines lack may
    stand)."""

    lines: dict[str, SourceLine]
    question: str = ""
    similar: Similarity = exact_similarity
    document: Callable[[str], Sequence[str]] | None = None
    # An answer judge (none by default: no judge measured yet beats the word checks on
    # the labelled sentences, benchmarks/verifier.py): how likely the sentence, resting
    # on its cited lines, answers the question. Where only the word checks fail
    # (``OVERRULABLE``: the question's words or names not in the lines), at ``judge_at``
    # or above the sentence answers anyway; where every check passes, below
    # ``judge_below`` it does not. The typed checks (a figure for how many, a date for
    # when, the figure bound to the asked subject) are never overruled.
    judge: Judge | None = None
    judge_at: float = 0.5
    judge_below: float = 0.0
    _files: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def answer(self, raw: str) -> tuple[bool, list[CheckedSentence]]:
        """Whether ``raw`` refuses, and each of its sentences checked."""
        refused, sentences = read_completion(raw)
        return refused, [self.sentence(text, cited) for text, cited in sentences]

    def sentence(self, text: str, cited: Sequence[str]) -> CheckedSentence:
        """One sentence and the ids it cites, checked (see the module's docstring)."""
        ids = tuple(dict.fromkeys(i.upper() for i in cited if i.upper() in self.lines))
        invented = tuple(i for i in cited if i.upper() not in self.lines)
        if ids:
            ids, problems = self._needed(text, ids)
        else:
            problems = ["cites no source id" + (
                f" (ids {', '.join(invented)} were never given)" if invented else "")]
        if not problems:
            return CheckedSentence(text, ids, invented, (), spans=self._spans(text, ids))
        found = next((i for i in self.lines if i not in ids
                      and not self._needed(text, (i,))[1]), None)
        if found is None:
            return CheckedSentence(text, ids, invented, tuple(problems))
        return CheckedSentence(text, (found,), invented, (), recited=ids + invented,
                               spans=self._spans(text, (found,)))

    def _needed(self, text: str, ids: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
        """The fewest of ``ids`` that support the sentence, and what fails with them
        (support, then answering the question)."""
        problems = self._unsupported(text, ids)
        if problems:
            return ids, problems
        for line_id in reversed(ids):
            fewer = tuple(i for i in ids if i != line_id)
            if fewer and not self._unsupported(text, fewer):
                ids = fewer
        if not self.question:
            return ids, []
        places = [(self.lines[i].source, self.lines[i].line) for i in ids]
        return ids, self.answering(text, self._quotes(text, ids), places, self._around(ids))

    def answering(self, text: str, quotes: list[str], places: Sequence[tuple[str, int]],
                  around: Sequence[str]) -> list[str]:
        """Why ``text``, citing ``quotes`` (the lines at ``places``, file and line), does
        not answer the question; [] when it does. ``around``: other lines of the cited
        files. The word checks, then the judge where it may speak (see ``judge``)."""
        problems = answers_question(self.question, text, quotes, around, self.similar)
        if self.judge is None or not all(p.startswith(OVERRULABLE) for p in problems):
            return problems
        if self.judge_at >= 1.0 if problems else self.judge_below <= 0.0:
            return problems  # the judge could not change the verdict
        judged = self.judge(self.question, text, self._judged(places, quotes))
        if problems:
            return [] if judged >= self.judge_at else problems
        return [NOT_ANSWERING] if judged < self.judge_below else []

    def _judged(self, places: Sequence[tuple[str, int]], quotes: list[str]) -> str:
        """What the judge reads of the cited lines (``cited_passage`` of each)."""
        parts = []
        for (source, line), quote in zip(places, quotes, strict=True):
            headings: tuple[str, ...] = ()
            if self.document is not None and is_structured(source):
                roles = line_roles(self._file(source), source)
                if 0 < line <= len(roles):
                    headings = roles[line - 1].headings
            parts.append(cited_passage(source, quote, headings))
        return " ".join(parts)

    def _unsupported(self, text: str, ids: Sequence[str]) -> list[str]:
        return sentence_support(text, self._quotes(text, ids), self.question).reasons

    def _quotes(self, text: str, ids: Sequence[str]) -> list[str]:
        """What each cited line says: the line, or the whole sentence it is part of."""
        return ["\n".join(self._cited(text, self.lines[i])[2]) for i in ids]

    def _spans(
        self, text: str, ids: Sequence[str]
    ) -> tuple[tuple[str, int, int, tuple[str, ...]], ...]:
        cited = ((i, *self._cited(text, self.lines[i])) for i in ids)
        return tuple((i, a, b, said) for i, a, b, said in cited if a != b)

    def _cited(self, text: str, line: SourceLine) -> tuple[int, int, tuple[str, ...]]:
        """The first and last lines, and the lines, of the sentence that ``line`` is part
        of, when a Markdown paragraph wraps it over several lines: "If you connect to a
        server that only" / "supports HTTP/1.1 the client will use..." say one thing, and a
        model shown them as two lines cites one. Of two sentences a line holds the end and
        the start of, the one that shares most words with ``text``; the line itself
        elsewhere."""
        if self.document is None or not is_structured(line.source):
            return line.line, line.line, (line.text,)
        lines = self._file(line.source)
        here = wrapped_sentences(line.source, lines).get(line.line, ())
        if not here:
            return line.line, line.line, (line.text,)
        wanted = BASE.forms(words(text))
        first, last, _ = max(here, key=lambda s: len(wanted & BASE.forms(words(s[2]))))
        return first, last, tuple(t.strip() for t in lines[first - 1 : last])

    def _file(self, source: str) -> tuple[str, ...]:
        """The lines of ``source``, read once per checker: a sentence is checked again for
        each set of its ids, and again as a streamed answer grows."""
        assert self.document is not None
        if source not in self._files:
            self._files[source] = tuple(self.document(source))
        return self._files[source]

    def _around(self, ids: Sequence[str]) -> list[str]:
        """What a cited line stands in: its file's first line (the title), the
        ``NEARBY`` lines before it and the one after, where a name it leaves out ("the
        exercises" for "Vostok-2022") is named; without the files, the lines handed out
        from them."""
        if self.document is None:
            sources = {self.lines[i].source for i in ids}
            return [line.text for line in self.lines.values()
                    if line.source in sources and line.id not in ids]
        return [text for i in ids for text in self.nearby(self.lines[i].source,
                                                           self.lines[i].line)]

    def nearby(self, source: str, line: int) -> list[str]:
        """The title of ``source`` and the lines around ``line`` (not the line itself)."""
        if self.document is None:
            return []
        lines = self._file(source)
        wanted = {1, *range(max(1, line - NEARBY), line), line + 1}
        return [lines[n - 1] for n in sorted(wanted) if n <= len(lines) and n != line]


@lru_cache(maxsize=64)
def wrapped_sentences(
    source: str, lines: tuple[str, ...]
) -> dict[int, tuple[tuple[int, int, str], ...]]:
    """For each line of a Markdown file, the sentences over several lines it is part of:
    (first line, last line, text)."""
    doc = Document(source, lines, "", FileStamp(source, 0, 0))
    found: dict[int, list[tuple[int, int, str]]] = {}
    for piece in sentence_units(doc):
        if piece.end_line > piece.start_line:
            for n in range(piece.start_line, piece.end_line + 1):
                found.setdefault(n, []).append((piece.start_line, piece.end_line, piece.text))
    return {n: tuple(spans) for n, spans in found.items()}


def cited_passage(source: str, quote: str, headings: Sequence[str] = ()) -> str:
    """What an answer judge reads of one cited line: what it says (``quote``) after the
    heading path it stands under, where its file has headings, as the index reads it.
    The judge's training pairs (scripts/answerability/make_judge_rows.py) are made so."""
    return searchable(source, quote, path_text(headings) if is_structured(source) else "")


def check_answer(
    raw: str, lines: dict[str, SourceLine], question: str = "",
    similar: Similarity = exact_similarity,
) -> tuple[bool, list[CheckedSentence]]:
    """``Checker(lines, question, similar).answer(raw)``."""
    return Checker(lines, question, similar).answer(raw)


def read_completion(raw: str) -> tuple[bool, list[tuple[str, list[str]]]]:
    """Whether a completion refuses, and its sentences with the ids each cites: from a
    structured answer, or from text with ``[S1]`` markers and the refusal sentinel."""
    parsed = parse_structured(raw)
    if parsed is None:
        text = raw.replace(REFUSAL_SENTINEL, " ").strip()
        refused = REFUSAL_SENTINEL in raw and not ID_MARKERS.search(text)
        return refused, split_marked(text, ID_MARKERS)
    if not parsed.answerable:
        return True, []
    out = []
    for text, ids in parsed.sentences:
        out.extend(split_item(text, ids))
    return False, out


def split_item(text: str, ids: Sequence[str]) -> list[tuple[str, list[str]]]:
    """One structured sentence item as sentences, each citing the item's ids (and any
    markers the model wrote into the text)."""
    return [(sentence, list(dict.fromkeys([*ids, *marked])))
            for sentence, marked in split_marked(text, ID_MARKERS)]
