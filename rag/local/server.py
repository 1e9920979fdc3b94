"""The local model behind an OpenAI-compatible server on 127.0.0.1: llama.cpp's own
server, prebuilt in the ``xllamacpp`` wheel (``pip install 'rag[local]'``, no compiler).

``serve`` runs it in this process until SIGTERM, Ctrl-C or, for a server another process
started, the end of its stdin (so it never outlives its parent). ``LocalServer`` starts
one in a child process for the ``local`` backend and stops it when done.

``OMP_WAIT_POLICY=PASSIVE`` is set before llama.cpp loads: with OpenMP's default spinning,
generation on two shared cores fell from ~10 to ~1 token a second. llama.cpp gets one
thread per physical core this process may use (``physical_cores``).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from rag.errors import LocalModelError
from rag.local.model import MODEL_ALIAS, installed_model
from rag.local.options import LocalOptions
from rag.settings import Settings

__all__ = [
    "LOCAL_TIMEOUT_S",
    "READY",
    "LocalServer",
    "fetched_model",
    "physical_cores",
    "serve",
    "served_settings",
    "server_version",
]

READY = "rag: local LLM server ready: OPENAI_BASE_URL="
LOCAL_TIMEOUT_S = 300.0  # a CPU model takes 15-45 s a question, more on a busy machine
CONTEXT_TOKENS = 4096  # system prompt, ~1,500 tokens of sources, the answer, one repair
START_TIMEOUT_S = 180.0
STOP_S = 5.0  # how long a stop waits for llama.cpp to let go of a request it is generating


def fetched_model(settings: Settings) -> Path:
    """The local model file, or an error that says to fetch it."""
    folder = LocalOptions.of(settings).model_dir
    model = installed_model(folder)
    if model is None:
        raise LocalModelError(f"the local model is not in {folder}: run `rag local fetch` first")
    return model


def served_settings(settings: Settings) -> Settings:
    """``settings`` pointed at the local model, served by a child server started for
    this process (stopped at exit), with a timeout a CPU model can meet."""
    server = LocalServer(fetched_model(settings))
    return settings.with_(timeout_s=max(settings.timeout_s, LOCAL_TIMEOUT_S)).with_options(
        base_url=server.base_url, model=MODEL_ALIAS)


def server_version() -> str:
    """The xllamacpp version serving the model, or why there is none."""
    from importlib import metadata

    try:
        return f"xllamacpp {metadata.version('xllamacpp')}"
    except metadata.PackageNotFoundError:
        return "xllamacpp not installed"


def serve(
    model: Path,
    port: int = 0,
    threads: int | None = None,
    ready: Callable[[str], None] = print,
    watch_stdin: bool = False,
) -> bool:
    """Serve ``model`` on 127.0.0.1:``port`` (0: any free port) until stopped, behind a
    gate that answers loopback clients only (``rag.local.gate``). Returns whether
    llama.cpp let go within ``STOP_S`` of the stop (a request it is still generating can
    hold it; the caller may then end the process)."""
    if not 0 <= port <= 65535:
        raise LocalModelError(f"port must be from 0 to 65535, got {port}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import xllamacpp
    except ImportError:
        raise LocalModelError(
            "the local backend needs xllamacpp: pip install 'rag[local]'"
        ) from None
    from rag.local.gate import Gate

    try:  # the user's port first: a busy one fails before the model loads
        gate = Gate(port, ("127.0.0.1", 0), MODEL_ALIAS)
    except OSError as exc:
        raise LocalModelError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): choose another port with "
            "--port, or 0 for any free one") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {MODEL_ALIAS}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # private: only the gate talks to it
    params.endpoint_slots = params.endpoint_props = params.endpoint_metrics = False
    params.cors_origins, params.cors_credentials = "", False
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = 1
    params.warmup = False
    params.verbosity = 0
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads or physical_cores()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # llama.cpp reports a bad file this way
            gate.server_close()
            raise LocalModelError(f"the local LLM server did not start: {exc}") from exc
        gate.upstream = _host_port(str(server.listening_address))
        gate.serve_in_thread()
        ready(f"{READY}{gate.base_url} (model {MODEL_ALIAS})")
        if watch_stdin:
            _wait_for_eof(stop)
        else:
            while not stop.wait(0.5):
                pass
        gate.close()  # ends the requests under way, so llama.cpp can stop generating
        holder = [server]
        del server
        letting_go = threading.Thread(target=holder.clear, daemon=True)
        letting_go.start()
        letting_go.join(STOP_S)
        return not letting_go.is_alive()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def physical_cores(root: Path = Path("/")) -> int:
    """The physical cores this process may run on: its CPUs (``sched_getaffinity``), the
    hyper-threads of one core counted once, at most its cgroup's CPU quota (a container's
    ``--cpus``). A second thread on a core shares that core's vector units, and a thread
    with no core to run on holds up the others at every layer: ``os.cpu_count()`` gave a
    container limited to 2 of 16 CPUs 16 threads. ``root`` is for tests."""
    mine = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not mine:
        mine = list(range(os.cpu_count() or 2))
    topology = root / "sys/devices/system/cpu"
    cores = {_core(topology / f"cpu{cpu}" / "topology") or (str(cpu),) for cpu in mine}
    quota = _cpu_quota(root)
    return max(1, min(len(cores), int(quota)) if quota else len(cores))


def _core(topology: Path) -> tuple[str, ...] | None:
    """(package, core) of one CPU from sysfs, None where unreadable."""
    try:
        return tuple((topology / name).read_text().strip()
                     for name in ("physical_package_id", "core_id"))
    except OSError:
        return None


def _cpu_quota(root: Path) -> float | None:
    """The CPUs' worth of time this process's cgroup (v2) may use; None when unlimited."""
    try:
        own = (root / "proc/self/cgroup").read_text().splitlines()
        group = next(line.split("::", 1)[1] for line in own if line.startswith("0::"))
        limit, period = (root / "sys/fs/cgroup" / group.strip().lstrip("/") / "cpu.max"
                         ).read_text().split()
        return int(limit) / int(period) if limit != "max" else None
    except (OSError, StopIteration, ValueError):
        return None


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of llama.cpp's ``listening_address`` ("http://127.0.0.1:PORT")."""
    parts = urlsplit(address if "//" in address else f"//{address}")
    if parts.port is None:
        raise LocalModelError(f"the local LLM server gave no port: {address!r}")
    return parts.hostname or "127.0.0.1", parts.port


def _wait_for_eof(stop: threading.Event) -> None:
    """Until stopped, or stdin closes (the process that started us is gone)."""
    while not stop.is_set():
        readable, _, _ = select.select([sys.stdin], [], [], 0.5)
        if readable and not sys.stdin.readline():
            return


class LocalServer:
    """A local server in a child process: ``base_url`` starts it on first use; ``stop``
    (also at exit) ends it."""

    def __init__(self, model: Path, threads: int | None = None) -> None:
        self.model = model
        self.threads = threads
        self._process: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        with self._lock:
            if self._url is None or self._process is None or self._process.poll() is not None:
                self._url = self._start()
            return self._url

    def _start(self) -> str:
        if importlib.util.find_spec("xllamacpp") is None:
            raise LocalModelError("the local backend needs xllamacpp: pip install 'rag[local]'")
        command = [sys.executable, "-m", "rag.local", "serve", "--port", "0", "--watch-stdin",
                   "--model", str(self.model)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        # llama.cpp logs to stderr: a file, so a full pipe can never stall the server.
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True, env=env, start_new_session=True,
        )
        atexit.register(self.stop)
        assert self._process.stdout is not None
        line = _read_line(self._process.stdout, START_TIMEOUT_S)
        if line is None or READY not in line:
            error = self._stop_with_error()
            raise LocalModelError(f"the local LLM server did not start: {error}")
        return str(line.split(READY, 1)[1].split()[0])

    def _stop_with_error(self) -> str:
        self.stop()
        self._log.seek(0)
        lines = [x for x in self._log.read().splitlines() if x.strip()]
        return lines[-1].removeprefix("rag: error: ") if lines else "no ready line"

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process, self._url = self._process, None, None
        if process is None or process.poll() is not None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.terminate()
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_line(stream: IO[str], timeout: float) -> str | None:
    """The next line of ``stream``, or None if none comes within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([stream], [], [], min(left, 1.0))
        if readable:
            return str(stream.readline()) or None
    return None
