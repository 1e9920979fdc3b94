"""A question's focus in the corpus's own spelling, or None when the corpus cannot hold
its answer: a name the corpus never uses is a question it cannot answer, and the
extractive backend refuses it before judging a single sentence.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rag.answer.vocabulary import canonical
from rag.language.questions import QuestionInfo
from rag.retrieval import Retriever

__all__ = ["resolve_focus"]


def resolve_focus(info: QuestionInfo, retriever: Retriever) -> QuestionInfo | None:
    """Focus terms in the corpus's own spelling; None if a name is absent from the corpus
    (numbers excepted: a wrong number is a premise to correct, not a reason to refuse),
    or a constant's name (``_CONSTANT``) is nowhere in its text as written."""
    mapping: dict[str, tuple[str, ...]] = {}
    constants = {canonical(name): name for name in _CONSTANT.findall(info.text)}
    # Identifiers as written: their parts get their own forms ("ssl_cert_file" is formed
    # whole as "ssl_cert_fil", whose last part no page has; "file" is formed "file").
    written = {canonical(token): token for token in re.findall(r"[\w.]*\w", info.text)
               if re.search(r"[._]", token.strip("._"))}
    for term in info.focus:
        known = retriever.stats.resolve(term)
        if known is not None:
            mapping[term] = (known,)
            continue
        if term.replace(".", "").isdigit():
            mapping[term] = ()
            continue
        if term in constants and not retriever.stats.mentions(constants[term]):
            return None
        parts = ([canonical(part) for part in _compound_parts(written[term])]
                 if term in written else _compound_parts(term))
        found = [retriever.stats.resolve(part) for part in parts]
        if not parts or not all(found):
            return None
        mapping[term] = tuple(form for form in found if form)

    def resolved(terms: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(form for t in terms for form in mapping.get(t, (t,)))

    return replace(info, focus=resolved(info.focus), subject=resolved(info.subject),
                   exclusive=resolved(info.exclusive), terms=resolved(info.terms))


# A constant's or an environment variable's name, written as one (HTTPX_LOG_LEVEL): a name
# the documents have as it is written or not at all, unlike a code identifier, whose parts
# a page may name apart ("the elapsed property of a response" for ``response.elapsed``).
_CONSTANT = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def _compound_parts(term: str) -> list[str]:
    """The words of a code identifier (``response.elapsed``, ``http_proxy``) or of a
    measure (``10-second``), each of which the corpus may have on its own; none for
    other hyphenated names (``t-90``, ``army-2022``: a name whole or not at all)."""
    if re.search(r"[._]", term.strip("._")):
        return [part for part in re.split(r"[._]+", term) if part]
    measure = re.fullmatch(r"(\d+)-([a-z]+)", term)
    return list(measure.groups()) if measure else []

