"""Loading and rendering the prompt templates in ``prompts/`` (installed as ``rag._prompts``).

Templates are plain text with ``{{name}}`` placeholders. Rendering fails loudly on a
placeholder without a value or a value without a placeholder, so a template and the code
that fills it cannot drift apart silently.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from rag.errors import ConfigError

__all__ = ["REFUSAL_SENTINEL", "load_template", "render"]

REFUSAL_SENTINEL = "INSUFFICIENT_EVIDENCE"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@cache
def load_template(name: str, folder: Path | None = None) -> str:
    """The text of ``prompts/<name>.md``, from ``folder`` if given."""
    try:
        if folder is not None:
            return (folder / f"{name}.md").read_text(encoding="utf-8")
        return resources.files("rag._prompts").joinpath(f"{name}.md").read_text("utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot read prompt template {name!r}: {exc}") from exc


def render(template: str, **values: str) -> str:
    """``template`` with every ``{{name}}`` replaced by ``values[name]``."""
    wanted = set(_PLACEHOLDER.findall(template))
    if missing := wanted - set(values):
        raise ConfigError(f"prompt template needs values for: {', '.join(sorted(missing))}")
    if unused := set(values) - wanted:
        raise ConfigError(f"prompt template has no place for: {', '.join(sorted(unused))}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
