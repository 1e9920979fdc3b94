"""examples/ask_seeds.py runs as a user would run it and cites real lines of seeds/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CITATION = re.compile(r"^\[(\d+)\] (\S+):(\d+)-(\d+)$")


def test_ask_seeds_example_cites_real_lines(tmp_path: Path) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "PYTHONIOENCODING": "utf-8"}
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ask_seeds.py"),
         "How many T-90 tanks did Egypt buy in July?"],
        capture_output=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=300, check=True,
    )
    out = run.stdout.split("\n")  # as rag numbers lines
    assert "500" in out[0]
    cited = [(i, m) for i, line in enumerate(out) if (m := CITATION.match(line))]
    assert cited
    for i, match in cited:
        source, start, end = match[2], int(match[3]), int(match[4])
        text = (SEEDS / source).read_bytes().decode("utf-8-sig")  # no newline translation
        lines = [line.removesuffix("\r") for line in text.split("\n")[start - 1 : end]]
        assert lines
        assert out[i + 1 : i + 1 + len(lines)] == [f"    {line}" for line in lines]
    assert (tmp_path / "index").is_dir()  # the index went where RAG_INDEX_DIR said
