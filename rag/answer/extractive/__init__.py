"""The default backend: answers by quoting the retrieved sentences (or whole lines) that
answer the question, each with its line; refuses when none does. Offline, deterministic.

Each retrieved sentence, and each whole line of several sentences, goes through the
judge (``judge.py``): checks note what looks unable to answer (a figure about another
country, a sentence without the asked kind of answer) and features describe the fit. A
logistic scorer (``scorer.py``, fitted by ``benchmarks/calibrate.py`` on hand-written
questions) ranks them; the best are read by the answerability model
(``rag.answer.answerability``) and scored again with its probability, the probability
that the passage answers. When the best candidate does not pass the scorer's refusal
rules (``LinearScorer.answers``: its calibrated threshold, the model's say over a failed
check, a figure question without a figure) the backend refuses. Otherwise it quotes the
best sentence, with sentences of other files that report the same fact; when they give
different figures the answer says so.

One module a responsibility (issue 28): ``backend`` (``ExtractiveBackend``: retrieving,
ranking and choosing), ``focus`` (the question's names in the corpus's spelling, or a
refusal), ``judge`` (checks and features of one candidate), ``scorer`` (the fitted
logistic scorer and its refusal rules, with its weights in ``extractive_model.json``)
and ``compose`` (the answer's text and citations). What a file's structure says about a
quoted line (its code block, its table header) is ``rag.markdown_lines``.
"""

from rag.answer.extractive.backend import ExtractiveBackend, ExtractiveParams
from rag.answer.extractive.compose import CONFLICT_NOTE

__all__ = ["CONFLICT_NOTE", "ExtractiveBackend", "ExtractiveParams"]
