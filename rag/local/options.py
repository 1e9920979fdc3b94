"""The local backend's options: the LLM backends' own, and where its model is kept. Its
endpoint and model are the server it starts, so it takes neither."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.llm_options import LLMOptions
from rag.errors import ConfigError
from rag.options import option
from rag.settings import cache_dir

__all__ = ["LocalOptions"]


def _as_folder(name: str, raw: str) -> Path:
    return Path(raw)


def _check_folder(name: str, value: Any) -> None:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ConfigError(f"{name} must be a folder's path, got {value!r}")


@dataclass(frozen=True)
class LocalOptions(LLMOptions):
    """The local backend's: its model's folder, beside what every LLM backend reads."""

    model_dir: Path = option(
        env="RAG_MODEL_DIR", parse=_as_folder, check=_check_folder, default_from=cache_dir,
        help="where `rag local fetch` keeps the model (default ~/.cache/rag)")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "model_dir", Path(self.model_dir))  # a str given works too
