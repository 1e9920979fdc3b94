"""Recording and replaying an eval run (rag/evaluation): a real HTTP server on 127.0.0.1
recorded with vcrpy, each response marked with where it came from, the server's own
timings summed per question, and returned sentences looked up in the human labels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rag.engine import Engine
from rag.evaluation.backends import Replayed, openai_answerer
from rag.evaluation.cassettes import PROVENANCE_PREFIX
from rag.evaluation.dataset import EvalItem, GoldFact, LineRange
from rag.evaluation.labels import Label, sentence_id
from rag.evaluation.runner import run_backend
from rag.settings import Settings
from tests.chat_server import ChatServer, chat_server

pytestmark = [pytest.mark.server, pytest.mark.allow_hosts(["127.0.0.1"])]

QUESTION = "How many T-90 tanks did Egypt buy in July?"
ITEM = EvalItem(
    id="t1", question=QUESTION, answerable=True, category="numbers", answer="500",
    gold=[GoldFact(fact="500", any_of=[LineRange(source="001_8eb2f5025aa8eb43.txt",
                                                 start_line=76, end_line=76)])],
    facts=[["500"]],
)


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server() as httpd:
        httpd.writer = lambda ids: "".join(
            f"In July, Egypt bought 500 Russian T-90 tanks [{i}]." for i, text in ids.items()
            if "In July, Egypt bought 500 Russian" in text)
        httpd.manner = "json"
        httpd.timings = {"prompt_ms": 1500.0, "predicted_ms": 2250.0}
        yield httpd


def test_a_recorded_run_says_where_it_came_from_and_replays_offline(
    seeds_engine: Engine, server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings = Settings(options={"base_url": url, "model": "test-model"})
    provenance = {"model": "test-model", "model-sha256": "abc123"}
    recording = Replayed(openai_answerer(seeds_engine, settings, 8), tmp_path, "run.yaml",
                         record=True, provenance=provenance)
    recorded = recording(ITEM)
    assert recording.seconds == {"t1": pytest.approx(3.75)}
    interactions = yaml.safe_load((tmp_path / "run.yaml").read_text())["interactions"]
    headers = interactions[0]["response"]["headers"]
    assert headers[f"{PROVENANCE_PREFIX}model"] == ["test-model"]
    assert headers[f"{PROVENANCE_PREFIX}model-sha256"] == ["abc123"]

    server.shutdown()  # the replay must not need it
    replaying = Replayed(openai_answerer(seeds_engine, settings, 8), tmp_path, "run.yaml",
                         record=False)
    (citation,) = recorded.citations
    labels = {sentence_id(QUESTION, "In July, Egypt bought 500 Russian T-90 tanks.",
                          [(citation.source, citation.start_line)]): Label(False, True)}
    run = run_backend("openai", seeds_engine, [ITEM], replaying, 8, replaying.seconds, labels)
    assert run.answers[0] == recorded
    assert run.summary.seconds == pytest.approx(3.75)
    # The label (deliberately "unsupported" here) is what the metric reports, not the checker.
    assert run.summary.unsupported == 1.0
    assert run.summary.unlabelled == 0
