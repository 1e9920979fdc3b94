from pathlib import Path

import rag
from rag.engine import Engine


def test_seeds_answer_cites_egypt_line(seeds_engine: Engine) -> None:
    answer = seeds_engine.ask("How many T-90 tanks did Egypt buy in July?")
    assert not answer.refused
    assert "500" in answer.text
    assert any(c.start_line in (46, 76) for c in answer.citations)


def test_public_ask_builds_index(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Title\n\nThe bridge over the river was built in 1932.\n")
    answer = rag.ask("When was the bridge built?", corpus=corpus)
    assert not answer.refused
    assert answer.citations[0].start_line == 3
