"""The ``rag`` command: ``rag ask``, ``rag index`` and ``rag chat``.

This is the only place library errors become messages and exit codes (0 answered or
refused, 2 bad usage or input, 1 any other ``RagError``, 130 on Ctrl-C). Beside the
public API (``rag``, its errors and types) it imports library modules the API does not
export: the engine (``rag.api``'s cached one, ``rag.engine``), the settings, the backend
registry (the names, and each backend's options for ``-o`` and ``--help``), the stream's
event types, the corpus scan and the display; none of them imports llama_index or openai
at module level, so answering with the offline backend never pulls them in. Anything
that is not a ``RagError`` is a bug and is left to raise.

stdout carries only results (with ``--json`` exactly one JSON document); warnings,
progress and errors go to stderr, so the output can be piped. How an answer, its sources
and the progress look is ``rag.display``'s; ``rag eval`` and ``rag local`` add their own
subcommands (``rag.evaluation.command``, ``rag.local.command``).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

import rag
from rag.answer.base import SentenceChecked
from rag.answer.registry import backend_names, backend_spec, described_backends
from rag.api import engine_for
from rag.corpus import scan_corpus
from rag.display import BuildProgress, render_answer, render_sources, visible
from rag.engine import Engine, checked_question
from rag.errors import ConfigError, InputError, RagError, RagWarning
from rag.evaluation.command import add_eval_command
from rag.local.command import add_local_command
from rag.settings import Settings
from rag.types import Answer

__all__ = ["main"]

CHAT_HELP = """\
Type a question and press Enter. Commands:
  :sources  the full citations of the last answer (file, lines, quoted text)
  :help     this help
  :quit     leave (also :q or Ctrl-D)"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its error line in the same ``rag: error: ...`` form as ours."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"rag: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    for stream in (sys.stdout, sys.stderr):  # PYTHONIOENCODING=ascii: escape, never fail
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad usage; we return
        return exc.code if isinstance(exc.code, int) else 2
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        with _warnings_to_stderr():
            return command(args)
    except InputError as exc:
        _error(exc)
        return 2
    except RagError as exc:
        _error(exc)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """What reads our output has closed it (``rag ask ... | head -1``): stop quietly, as
    Unix tools do, with the status a process killed by SIGPIPE has."""
    _drop_stdout()
    return 141


def _drop_stdout() -> None:
    """Point standard output at /dev/null, so that Python's own flush at exit does not
    fail again on what could not be written."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _emit(text: str) -> None:
    """Print a result; a full disk or a closed terminal is one error line, not a traceback."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        raise
    except OSError as exc:
        _drop_stdout()
        raise RagError(f"cannot write to standard output: {exc.strerror}") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Cited answers over a folder of text files.")
    parser.add_argument("--version", action="version", version=f"rag {rag.__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    corpus = _Parser(add_help=False)
    corpus.add_argument("--corpus", type=_folder, metavar="DIR",
                        help="folder of .txt, .md, .rst, .html and .pdf files (default: "
                             "$RAG_CORPUS, else seeds)")
    answering = _Parser(add_help=False)
    answering.add_argument("--top-k", type=_positive_int, metavar="N",
                           help="passages to retrieve (default: $RAG_TOP_K, else 8)")
    answering.add_argument("--backend", choices=backend_names(),
                           help="answer backend (default: $RAG_BACKEND, else extractive)")
    answering.add_argument("-o", "--option", nargs=2, action="append", default=[],
                           metavar=("NAME", "VALUE"),
                           help="one of the backend's options (listed below), over its "
                                "variable; repeatable")
    answering.add_argument("--model", metavar="NAME", help="the same as -o model NAME")
    answering.add_argument("--base-url", metavar="URL", help="the same as -o base_url URL")
    listed = described_backends()  # kept as written: RawDescriptionHelpFormatter

    ask = commands.add_parser("ask", parents=[corpus, answering], help="answer one question",
                              epilog=listed, formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question", help="the question, quoted")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.set_defaults(command=_ask)
    index = commands.add_parser("index", parents=[corpus], help="build or refresh the index")
    index.add_argument("--rebuild", action="store_true",
                       help="build from nothing; a damaged index is moved aside first")
    index.set_defaults(command=_index)
    chat = commands.add_parser("chat", parents=[corpus, answering], help="ask interactively",
                               epilog=listed, formatter_class=argparse.RawDescriptionHelpFormatter)
    chat.set_defaults(command=_chat)
    add_eval_command(commands)
    add_local_command(commands)
    return parser


def _folder(raw: str) -> Path:
    if not raw.strip():  # Path("") would quietly mean the current folder
        raise argparse.ArgumentTypeError("the folder name is empty")
    return Path(raw)


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _ask(args: argparse.Namespace) -> int:
    question: str = args.question
    checked_question(question)  # before the model loads and the index is built
    engine = _engine(args)
    choices = _choices(engine, args)  # a bad -o is said before any index work
    _announce(engine)
    engine.refresh(progress=BuildProgress())
    _start_backend(engine, choices)
    answer = engine.ask(question, **choices)
    _emit(answer.model_dump_json() if args.json else render_answer(answer))
    return 0


def _start_backend(engine: Engine, choices: dict[str, Any]) -> None:
    """Make the answer backend before the question; the local model's start (seconds on
    a CPU) is said, and how long it took, instead of a silence."""
    local = (choices["backend"] or engine.settings.backend) == "local"
    if local:
        print("rag: starting the local model...", file=sys.stderr, flush=True)
    began = time.monotonic()
    engine.backend(**{k: v for k, v in choices.items() if k != "top_k"})
    if local:
        print(f"rag: local model ready in {time.monotonic() - began:.0f} s; an answer takes "
              "15-45 s on two cores", file=sys.stderr, flush=True)


def _engine(args: argparse.Namespace) -> Engine:
    return engine_for(Settings.from_env(corpus=args.corpus))


def _choices(engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    """What ``engine.ask`` takes from the command line: top_k, the backend and its
    options, each ``-o`` read as its backend declares it (``ConfigError`` for a name
    it does not declare). ``--model`` and ``--base-url`` reach any backend that reads
    ``model`` or ``base_url`` and are ignored by the others, as they always were."""
    backend = args.backend or engine.settings.backend
    declared = backend_spec(backend).options
    options: dict[str, Any] = {"model": args.model, "base_url": args.base_url}
    for name, text in args.option:
        try:
            options[name] = declared.parse(name, text)
        except ConfigError as exc:
            raise ConfigError(f"backend {backend}: {exc}") from None
    declared.read(options, {})  # a value the backend would refuse is said now
    return {"top_k": args.top_k, "backend": args.backend, **options}


def _index(args: argparse.Namespace) -> int:
    _announce(_engine(args), always=args.rebuild)
    stats = rag.build_index(args.corpus, progress=BuildProgress(), rebuild=args.rebuild)
    _emit(
        f"indexed {stats.corpus}: {stats.files} files, {stats.chunks} chunks, "
        f"{stats.sentences} sentences; embedded {stats.embedded} "
        f"(added {len(stats.added)}, updated {len(stats.updated)}, "
        f"removed {len(stats.removed)}, skipped {len(stats.skipped)})"
    )
    return 0


def _chat(args: argparse.Namespace) -> int:
    # Refreshing first loads the model, reports a bad corpus before the first question,
    # and shows progress instead of a long silence after it.
    engine = _engine(args)
    choices = _choices(engine, args)
    _announce(engine)
    engine.refresh(progress=BuildProgress())
    _start_backend(engine, choices)
    last: Answer | None = None
    for line in _chat_lines():
        command = line.strip()
        if not command:
            continue
        if command in (":quit", ":q"):
            break
        if command == ":help":
            print(CHAT_HELP)
        elif command == ":sources":
            print(render_sources(last) if last else "(no answer yet)")
        elif command.startswith(":"):
            print(f"rag: error: unknown command {command}; :help lists them", file=sys.stderr)
            continue
        else:
            try:
                last = _stream_answer(engine, command, choices)
            except RagError as exc:  # one bad question does not end the session
                _error(exc)
                continue
            except KeyboardInterrupt:  # Ctrl-C cancels this answer, not the session
                print("\n(answer cancelled)", file=sys.stderr)
                continue
            except Exception as exc:  # a bug must not end the session either
                _error(RagError(f"internal error, please report it: "
                                f"{type(exc).__name__}: {exc}"))
                continue
            print(render_answer(last))
        print()
    return 0


def _stream_answer(engine: Engine, question: str, choices: dict[str, Any]) -> Answer:
    """Show an LLM's text as it arrives (on stderr); return the verified Answer, which
    lists what the checks dropped after itself."""
    answer: Answer | None = None
    streamed = False
    try:
        for event in engine.ask_stream(question, **choices):
            if isinstance(event, str):
                print(visible(event), end="", file=sys.stderr, flush=True)
                streamed = True
            elif isinstance(event, SentenceChecked):
                continue  # what the checks dropped is listed after the verified answer
            else:
                answer = event
    except BaseException:
        if streamed:  # what follows (an error, "cancelled") starts on a line of its own
            print(file=sys.stderr, flush=True)
        raise
    if streamed:
        print("\n--- verified answer ---", file=sys.stderr)
    assert answer is not None, "ask_stream always ends with the Answer"
    return answer


def _chat_lines() -> Iterator[str]:
    """Lines typed at a prompt with editing and history on a terminal; otherwise stdin's
    lines as they are, so a transcript can be piped in."""
    if not sys.stdin.isatty():
        # Bytes that are not UTF-8 reach the question check (and its clear error) instead
        # of ending the session in a decoding error.
        if isinstance(sys.stdin, io.TextIOWrapper):
            sys.stdin.reconfigure(errors="surrogateescape")
        yield from sys.stdin
        return
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    index_dir = Settings.from_env().index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(history=FileHistory(index_dir / "chat_history"))
    print("Ask about the corpus; :help lists commands.", file=sys.stderr)
    while True:
        try:
            yield session.prompt("rag> ")
        except KeyboardInterrupt:  # as in Python's REPL, Ctrl-C at the prompt drops the line
            continue
        except EOFError:
            return


ANNOUNCE_BYTES = 2**20
"""A corpus this big to (re)index gets a line before the silent part (reading and cutting
the files, loading the model) that comes before the embedding progress."""


def _announce(engine: Engine, always: bool = False) -> None:
    stamps = scan_corpus(engine.corpus_root)
    size = sum(s.size for s in stamps)
    if size < ANNOUNCE_BYTES or (not always and engine.store.is_fresh(
            engine.store.read_manifest())):
        return
    print(f"rag: indexing {len(stamps)} files ({size / 2**20:.1f} MiB): reading and cutting "
          "them, then embedding what changed", file=sys.stderr, flush=True)


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show each skipped file once as ``rag: warning: ...``, however often it is read."""
    seen: set[str] = set()
    original = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if not issubclass(category, RagWarning):
            original(message, category, filename, lineno, file, line)
        elif str(message) not in seen:
            seen.add(str(message))
            print(f"rag: warning: {visible(' '.join(str(message).split()))}",
                  file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", RagWarning)
        warnings.showwarning = show
        yield


def _error(exc: BaseException) -> None:
    message = visible(" ".join(str(exc).split())) or type(exc).__name__
    print(f"rag: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
