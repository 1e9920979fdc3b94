"""What the ``rag`` command shows: an answer with its citations and their quoted lines,
every quoted line of the last answer (``:sources``), and a build's embedding progress.

Text from the corpus (quotes, file names) goes through ``visible`` before it is shown,
so a file cannot send a terminal escapes or reorder what it shows. Nothing here reads
the index or answers; ``rag.cli`` decides what to show and where.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rag.types import Answer, Citation

__all__ = ["PROGRESS_MIN_TOTAL", "BuildProgress", "render_answer", "render_sources", "visible"]

PROGRESS_MIN_TOTAL = 200
"""Below this many records embedding takes a second or two; a bar would only flicker."""


def render_answer(answer: Answer) -> str:
    """The answer text, then each citation and its quoted lines, indented beneath.
    Control characters from the files (terminal escapes, a newline in a file name) are
    shown as escapes, never sent to the terminal; the line breaks of quoted lines (code
    quoted by its lines, a sentence wrapped over two) are shown as line breaks."""
    parts = ["\n".join(visible(line) for line in answer.text.split("\n"))]
    for n, citation in enumerate(answer.citations, 1):
        parts.append(f"[{n}] {visible(citation.source)}:{_span(citation)}")
        parts.extend(f"    {visible(line)}" for line in citation.quote.split("\n"))
    if answer.verification is not None:  # after the answer, never as if part of it
        parts.extend(f"dropped: {visible(' '.join(d.split()))}"
                     for d in answer.verification.dropped)
    return "\n".join(parts)


def render_sources(answer: Answer) -> str:
    """Every citation of ``answer`` with each quoted line under its own line number."""
    if not answer.citations:
        return "(the last answer cites no sources)"
    parts = []
    for n, citation in enumerate(answer.citations, 1):
        lines = citation.quote.split("\n")
        width = len(str(citation.end_line))
        span = "line" if len(lines) == 1 else "lines"
        parts.append(f"[{n}] {visible(citation.source)}, {span} {_span(citation)}")
        parts.extend(
            f"    {number:>{width}} | {visible(line)}"
            for number, line in enumerate(lines, citation.start_line)
        )
    return "\n".join(parts)


# Control characters, line and paragraph separators, and the bidirectional controls that
# reorder what a terminal shows ("bought \u202e005\u202c tanks" reads as "500").
_CONTROL = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def visible(text: str) -> str:
    """``text`` with control characters (tab aside) and bidirectional controls written as
    ``\\xNN``/``\\uNNNN`` escapes."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


def _span(citation: Citation) -> str:
    """``12`` or ``12-14``; for a PDF, also where that is in the pages: ``12-14 (page 3,
    lines 5-7)``."""
    span = (str(citation.start_line) if citation.start_line == citation.end_line
            else f"{citation.start_line}-{citation.end_line}")
    if citation.page is None:
        return span
    first, last = citation.page_start_line, citation.page_end_line
    within = f"line {first}" if first == last else f"lines {first}-{last}"
    return f"{span} (page {citation.page}, {within})"


class BuildProgress:
    """Build progress on stderr, for builds of more than ``PROGRESS_MIN_TOTAL`` records: on
    a terminal a bar drawn over itself, with the rate and the time left; elsewhere (a log)
    one line at the start, at every tenth, at least once a minute, and at the end. The
    time left is estimated from the length of the text left, not the records left: the
    store embeds the shortest records first."""

    LOG_EVERY_S = 60.0

    def __init__(self, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.began: float | None = None
        self.tenths = -1
        self.logged = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.weighted(done, total, done, total)

    def weighted(self, done: int, total: int, work_done: float, work_total: float) -> None:
        stream = self.stream or sys.stderr
        if total <= PROGRESS_MIN_TOTAL:
            return
        now = self.clock()
        if self.began is None:
            self.began = now
        text = f"embedding {done}/{total} records"
        elapsed = now - self.began
        if 0 < done < total and elapsed > 0 and work_done > 0:
            rate = done / elapsed
            left = elapsed * (work_total - work_done) / work_done
            text += f", {rate:.0f}/s, about {_duration(left)} left"
        elif done >= total and elapsed > 0:
            text += f" in {_duration(elapsed)}"
        if stream.isatty():
            width = 30
            filled = width * done // total
            stream.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {text}\x1b[K")
            if done >= total:
                stream.write("\n")
        elif done * 10 // total > self.tenths or now - self.logged >= self.LOG_EVERY_S:
            self.tenths = done * 10 // total
            self.logged = now
            stream.write(f"rag: {text}\n")
        stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min"
