"""The extractive answer's text: the chosen candidates quoted, each with its marker and
the lines it cites; a table row with its header, a code line with the lines of its block
that speak of the question, prose that introduces a code block with that block.
"""

from __future__ import annotations

from rag.answer.base import Draft, DraftCitation
from rag.answer.extractive.judge import Candidate
from rag.answer.vocabulary import term_set
from rag.language.sentences import sentence_spans
from rag.language.words import words
from rag.markdown_lines import MarkdownLines, standalone_code
from rag.verify.markers import literal_brackets

__all__ = ["CONFLICT_NOTE", "compose"]

CONFLICT_NOTE = "The sources differ:"


def compose(
    chosen: list[Candidate], conflicts: list[int], layout: MarkdownLines,
    keys: frozenset[str] = frozenset(),
) -> Draft:
    """The quoted sentences with their markers; ``CONFLICT_NOTE`` before the candidates
    at the positions in ``conflicts`` (where differing figures begin). In Markdown, a
    code line is quoted with the lines of its (short) block that speak of the question
    (``_quote_code``), and prose that introduces a code block ("Use a transport:",
    "For example...") with those of that block."""
    citations: list[DraftCitation] = []
    parts: list[str] = []
    for position, candidate in enumerate(chosen):
        if position in conflicts:
            parts.append(CONFLICT_NOTE)
        for p in filter(None, (candidate.antecedent, candidate.passage)):
            spans = sentence_spans(p.text)
            if p is candidate.passage and candidate.slot is not None and len(spans) > 1:
                # A whole line matched, but the answer is one of its sentences: quote that.
                at = candidate.slot.start
                spans = [(a, b) for a, b in spans if a <= at < b] or spans
            row = layout.table_row(p.source, p.start_line)
            if row is not None:  # the cells, named by the header row it also cites
                header, cells = row
                citations.append(DraftCitation(p.source, header, header))
                citations.append(DraftCitation(p.source, p.start_line, p.start_line))
                parts.append(f"{literal_brackets(cells)}. [{len(citations) - 1}]"
                             f"[{len(citations)}]")
                continue
            block = layout.around(p.source, p.start_line)
            if block is not None:
                _quote_code(p.source, block, layout, citations, parts, keys, p.start_line)
                continue
            quoted = tuple(p.text[a:b] for a, b in spans)
            citations.append(DraftCitation(p.source, p.start_line, p.end_line, quoted))
            # Every sentence carries its marker, also when a whole line is quoted.
            parts.extend(f"{literal_brackets(sentence)} [{len(citations)}]"
                         for sentence in quoted)
            block = layout.after(p.source, p.end_line)
            if block is not None:
                _quote_code(p.source, block, layout, citations, parts, keys)
    return Draft(text=" ".join(parts), citations=citations)


def _quote_code(
    source: str, block: tuple[int, int], layout: MarkdownLines,
    citations: list[DraftCitation], parts: list[str],
    keys: frozenset[str] = frozenset(), matched: int | None = None,
) -> None:
    """The lines of a code block that answer, cited by their own line numbers: from the
    first to the last of the line that matched (``matched``) and those holding one of
    the question's rarer words (``keys``), widened to whole statements and to where the
    names they use are set (``standalone_code``). An ``import httpx`` or the call printing
    a result is not what was asked, and citing it points the reader at lines that do not
    say the answer. The whole block when no line holds a key word, or when prose before
    the block matched (it introduces the block as a whole)."""
    if any(c.source == source and c.start_line <= block[1] and block[0] <= c.end_line
           for c in citations):
        return  # quoted already
    lines = layout.lines(source)
    keyed = [n for n in range(block[0], block[1] + 1)
             if lines[n - 1].strip() and term_set(words(lines[n - 1])) & keys]
    first, last = block
    if keyed and matched is not None:
        kept = sorted({*keyed, matched})
        first, last = standalone_code(lines[: block[1]], block[0], kept[0], kept[-1])
    quoted = tuple(line.strip() for line in lines[first - 1 : last] if line.strip())
    citations.append(DraftCitation(source, first, last, quoted))
    parts.append(f"{literal_brackets(chr(10).join(quoted))} [{len(citations)}]")

