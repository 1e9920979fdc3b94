"""A backend's own options, declared by the backend: ``Settings`` keeps only what every
backend shares.

A backend's options are a frozen dataclass deriving from ``Options``, each field made
with ``option()``: its name is the keyword ``ask(..., NAME=...)`` and ``rag ask -o NAME
VALUE`` take, its annotation its type, and ``option()`` gives its default, the
environment variables it is read from, a help line, how a text (a variable, ``-o``) is
parsed and how a value is checked, each failure a ``ConfigError`` naming where the value
came from::

    @dataclass(frozen=True)
    class OllamaOptions(Options):
        host: str = option("http://127.0.0.1:11434", env="OLLAMA_HOST",
                           help="the Ollama server", check=check_url)

The backend reads them with ``OllamaOptions.of(settings)``: a value given as an argument
(``Settings.options``) first, then the first of its variables set in the environment the
settings were read from (``Settings.environ``), then its default. Names a backend does
not declare are left to the backends that do, so one ``--model`` serves any of them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = [
    "OptionInfo",
    "Options",
    "check_url",
    "option",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_json_object",
    "parse_text",
]

Parse = Callable[[str, str], Any]
"""(where the text came from, the text) -> the value, or a ``ConfigError`` naming where."""
Check = Callable[[str, Any], None]
"""(where the value came from, the value) -> None, or a ``ConfigError`` naming where."""


@dataclass(frozen=True)
class OptionInfo:
    """What ``option()`` records about a field, beside its name, type and default."""

    help: str
    env: tuple[str, ...] = ()
    parse: Parse | None = None
    check: Check | None = None
    default_from: Callable[[Mapping[str, str]], Any] | None = None


def option(
    default: Any = MISSING, *, help: str, env: str | tuple[str, ...] = (),
    parse: Parse | None = None, check: Check | None = None,
    default_factory: Callable[[], Any] | None = None,
    default_from: Callable[[Mapping[str, str]], Any] | None = None, secret: bool = False,
) -> Any:
    """A field of an ``Options`` dataclass. ``parse`` reads a text (default: kept as it
    is); ``default_from`` is a default the environment decides (a folder under
    ``$XDG_CACHE_HOME``); a ``secret`` is left out of the repr and of the help's default."""
    info = OptionInfo(help, (env,) if isinstance(env, str) else env, parse, check, default_from)
    metadata = {_KEY: info, "secret": secret}
    if default_from is not None:
        return field(default_factory=lambda: default_from(os.environ), repr=not secret,
                     metadata=metadata)
    if default_factory is not None:
        return field(default_factory=default_factory, repr=not secret, metadata=metadata)
    return field(default=default, repr=not secret, metadata=metadata)


_KEY = "rag.option"


@dataclass(frozen=True)
class Options:
    """A backend's options; this base declares none (the extractive backend's)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            info = _info(f)
            if info.check is not None:
                info.check(f.name, getattr(self, f.name))

    @classmethod
    def of(cls, settings: Settings) -> Self:
        """These options as ``settings`` give them (see the module's docstring)."""
        return cls.read(settings.options, settings.environ)

    @classmethod
    def read(cls, given: Mapping[str, Any], environ: Mapping[str, str]) -> Self:
        """Each option from ``given`` (None counts as not given), else from the first of
        its variables set in ``environ``, else its default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            info = _info(f)
            variable = next((v for v in info.env if environ.get(v)), None)
            if given.get(f.name) is not None:
                values[f.name] = given[f.name]
            elif variable is not None:
                value = (info.parse or parse_text)(variable, environ[variable])
                if info.check is not None:
                    info.check(variable, value)
                values[f.name] = value
            elif info.default_from is not None:
                values[f.name] = info.default_from(environ)
        return cls(**values)

    @classmethod
    def parse(cls, name: str, text: str) -> Any:
        """The value of option ``name`` written as ``text`` (``rag ask -o NAME TEXT``)."""
        for f in fields(cls):
            if f.name == name:
                return (_info(f).parse or parse_text)(name, text)
        declared = ", ".join(f.name for f in fields(cls)) or "none"
        raise ConfigError(f"no option {name!r}; its options are: {declared}")

    @classmethod
    def described(cls) -> list[str]:
        """One line an option, for ``--help``: name, type, variables, default, help."""
        lines = []
        for f in fields(cls):
            info = _info(f)
            about = [_type_name(f.type), *(f"${v}" for v in info.env)]
            if f.default is not MISSING and f.default is not None and not f.metadata["secret"]:
                about.append(f"default {_shown(f.default)}")
            lines.append(f"{f.name} ({'; '.join(about)}): {info.help}")
        return lines


def _info(f: Field[Any]) -> OptionInfo:
    info = f.metadata.get(_KEY)
    if not isinstance(info, OptionInfo):
        raise TypeError(f"option {f.name!r} is not made with rag.options.option()")
    return info


def _type_name(kind: Any) -> str:
    """The annotation as written (a string under ``from __future__ import annotations``)."""
    return kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))


def _shown(value: Any) -> str:
    """A default as it would be written in a variable."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parse_text(name: str, raw: str) -> str:
    return raw


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def parse_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def parse_json_object(name: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a JSON object, got {raw!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {raw!r}")
    return value


def check_url(name: str, url: Any) -> None:
    """A ``ConfigError`` unless ``url`` is an http(s) URL with a host and a usable port
    (None, for no URL, passes)."""
    if url is None:
        return
    if not isinstance(url, str):
        raise ConfigError(f"{name} must be a URL, got {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535", a bad IPv6 literal
        raise ConfigError(f"{name} is not a usable URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    if port == 0:
        raise ConfigError(f"{name} must name a port from 1 to 65535, got {url!r}")
