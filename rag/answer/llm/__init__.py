"""The LLM answer path: a chat model writes the answer, code checks every sentence.

One module a responsibility (issue 28): ``backend`` (``LLMBackend``: prompt, verify,
repair once, fall back; ``ChatModel``, what it needs of a model), ``context`` (the lines
the model is shown, under ids the code assigns), ``structured`` (the JSON schema the
answer follows, and reading it back as it streams), ``checking`` (each sentence against
the lines it cites) and ``openai`` (an OpenAI-compatible endpoint as a ``ChatModel``:
imported where a backend is made from it, ``rag.answer.registry`` and ``rag eval``, never
from here, so the LLM path's names cost no HTTP client). What a streamed answer yields is
the contract's (``rag.answer.base``), re-exported here.
"""

from rag.answer.base import Done, SentenceChecked, StreamEvent, Token
from rag.answer.llm.backend import ChatModel, LLMBackend, Turn

__all__ = ["ChatModel", "Done", "LLMBackend", "SentenceChecked", "StreamEvent", "Token", "Turn"]
