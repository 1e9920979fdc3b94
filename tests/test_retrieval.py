"""Hybrid retrieval: rank fusion, and dense + BM25 search over the seeds and tiny corpora."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import rag.retrieval
from rag.engine import Engine
from rag.retrieval import RRF_K, _best, fuse_rankings
from rag.types import Passage

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]
MakeEngine = Callable[..., Engine]


def file_lines(engine: Engine, source: str) -> list[str]:
    """The file's lines, read here without rag's reader: split on newlines only."""
    data = (engine.corpus_root / source).read_bytes().decode("utf-8-sig")
    return [line.removesuffix("\r") for line in data.split("\n")]


def assert_passage_in_file(engine: Engine, passage: Passage) -> None:
    lines = file_lines(engine, passage.source)
    assert 1 <= passage.start_line <= passage.end_line <= len(lines)
    cited = lines[passage.start_line - 1 : passage.end_line]
    if passage.start_line == passage.end_line:
        assert passage.text in cited[0]
    else:
        for line in cited:
            assert line.strip() in passage.text


# fuse_rankings -------------------------------------------------------------------------


def test_an_id_in_both_rankings_beats_ids_in_one() -> None:
    fused = fuse_rankings([["a", "b", "c"], ["d", "c", "e"]])
    best = max(fused, key=lambda key: fused[key])
    assert best == "c"
    assert fused["c"] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 2))
    assert fused["a"] == fused["d"] == pytest.approx(1 / (RRF_K + 1))


def test_fusion_scores_fall_with_rank() -> None:
    fused = fuse_rankings([["a", "b", "c"]])
    assert fused["a"] > fused["b"] > fused["c"]
    assert set(fused) == {"a", "b", "c"}


def test_fusion_of_nothing() -> None:
    assert fuse_rankings([]) == {}
    assert fuse_rankings([[], []]) == {}
    assert fuse_rankings([["a"], []]) == {"a": pytest.approx(1 / (RRF_K + 1))}


def test_fusion_constant_changes_the_weight_of_rank() -> None:
    steep = fuse_rankings([["a", "b"], ["b", "x", "y", "a"]], k=1)
    flat = fuse_rankings([["a", "b"], ["b", "x", "y", "a"]], k=1000)
    assert steep["b"] > steep["a"]
    assert flat["a"] == pytest.approx(1 / 1001 + 1 / 1004)
    assert steep["a"] == pytest.approx(1 / 2 + 1 / 5)


# hybrid search over the seeds -----------------------------------------------------------


@pytest.mark.parametrize("level", ["chunks", "sentences"])
def test_egypt_tanks_found_in_top_three(seeds_engine: Engine, level: str) -> None:
    passages = seeds_engine.retriever().search("How many T-90 tanks did Egypt buy?", 3, level)
    assert len(passages) == 3
    hits = [(p.source, p.start_line) for p in passages]
    assert ("001_8eb2f5025aa8eb43.txt", 76) in hits or ("001_8eb2f5025aa8eb43.txt", 46) in hits
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


@pytest.mark.parametrize("level", ["chunks", "sentences"])
def test_rare_exact_token_is_found_by_bm25(seeds_engine: Engine, level: str) -> None:
    passages = seeds_engine.retriever().search("CAATSA", 5, level)
    top = passages[0]
    assert (top.source, top.start_line) == ("003_e2159454d97d2a68.txt", 16)
    assert "CAATSA" in top.text
    # Only the one record with the word scores lexically; the rest come from dense search.
    assert top.lexical_score is not None
    assert top.lexical_score > 0
    assert all(p.lexical_score is None for p in passages[1:])


def test_passages_carry_lines_that_hold_their_text(seeds_engine: Engine) -> None:
    retriever = seeds_engine.retriever()
    questions = [
        "How many T-90 tanks did Egypt buy?",
        "Which missile system did Turkey buy?",
        "How many soldiers take part in Vostok-2022?",
        "What did Putin offer his allies?",
        "Kim Jong Un letter liberation day",
    ]
    seen = 0
    for question in questions:
        for level in ("chunks", "sentences"):
            for passage in retriever.search(question, 8, level):
                assert passage.source.endswith(".txt")
                assert passage.score > 0
                assert passage.dense_score is not None
                assert -1.0 <= passage.dense_score <= 1.0 + 1e-6
                assert_passage_in_file(seeds_engine, passage)
                seen += 1
    assert seen == len(questions) * 2 * 8


def test_dense_scores_are_cosines(seeds_engine: Engine) -> None:
    retriever = seeds_engine.retriever()
    question = "Where will Putin travel on Wednesday?"
    passages = retriever.search(question, 3, "sentences")
    query = seeds_engine.embedder.embed_one(question)
    for passage in passages:
        cosine = float(query @ seeds_engine.embedder.embed_one(passage.text))
        assert passage.dense_score == pytest.approx(cosine, abs=1e-3)


def test_dense_ranking_is_exact(seeds_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no word of the question in BM25's vocabulary the ranking is the dense one: it
    must be the ranking of every sentence record by its cosine to the question, computed
    here from the record texts embedded afresh, and not Chroma's approximate one."""
    retriever = seeds_engine.retriever()

    def approximate(**_: object) -> None:
        raise AssertionError("a level this small is searched exactly, not through HNSW")

    for collection in seeds_engine.store.collections.values():
        monkeypatch.setattr(collection, "query", approximate)
    question = "what is it that they were"
    passages = retriever.search(question, 40, "sentences")
    assert all(p.lexical_score is None for p in passages)
    records = retriever._levels["sentences"].records
    vectors = seeds_engine.embedder.embed([records.searchable(i) for i in range(len(records.ids))])
    cosines = vectors @ seeds_engine.embedder.embed_one(question)
    order = np.argsort(-cosines, kind="stable")[:40]
    expected = [(records.sources[i], records.start_lines[i], records.texts[i]) for i in order]
    assert [(p.source, p.start_line, p.text) for p in passages] == expected


def test_a_sentence_in_the_index_is_not_embedded_again(
    seeds_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    retriever = seeds_engine.retriever()
    stored = [p.text for p in retriever.search("Army-2022 arms offers", 3, "sentences")]
    new = "A sentence that no file holds."
    fresh = seeds_engine.embedder.embed([*stored, new])
    asked = embedded_texts(seeds_engine, monkeypatch)
    vectors = retriever.text_vectors([*stored, new])
    assert asked == [new]
    np.testing.assert_allclose(vectors, fresh, atol=1e-6)


def ferries_through_chroma(
    count: int, tmp_path: Path, write_files: WriteFiles, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Engine, list[str]]:
    """An engine over ``count`` lines about ferries, every level searched through Chroma
    (as over ``EXACT_RECORDS``), and the lines."""
    monkeypatch.setattr(rag.retrieval, "EXACT_RECORDS", 0)
    lines = [f"Harbour note {i}: the ferry to island {i} leaves at dawn." for i in range(count)]
    corpus = write_files(tmp_path / "c", {"ferries.txt": "\n".join(lines) + "\n"})
    engine = make_engine(corpus, tmp_path / "idx")
    assert engine.retriever()._levels["sentences"].records.vectors is None  # the Chroma path
    return engine, lines


def test_a_sentence_of_a_level_searched_through_chroma_is_read_from_it(
    tmp_path: Path, write_files: WriteFiles, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over ``EXACT_RECORDS`` a level's vectors are not in memory: a chosen sentence's
    vector is read from Chroma by its record's id, not embedded again."""
    engine, lines = ferries_through_chroma(6, tmp_path, write_files, make_engine, monkeypatch)
    retriever = engine.retriever()
    new = "A sentence that no file holds."
    asked = embedded_texts(engine, monkeypatch)
    vectors = retriever.text_vectors([lines[4], new, lines[1], lines[4]])
    assert asked == [new]
    records = retriever._levels["sentences"].records
    ids = [records.ids[records.texts.index(lines[n])] for n in (4, 1)]
    stored = engine.store.collections["sentences"].get(ids=ids, include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    assert np.array_equal(vectors[0], np.asarray(by_id[ids[0]], dtype=np.float32))
    assert np.array_equal(vectors[2], np.asarray(by_id[ids[1]], dtype=np.float32))
    assert np.array_equal(vectors[3], vectors[0])
    np.testing.assert_allclose(vectors, engine.embedder.embed([lines[4], new, lines[1], lines[4]]),
                               atol=1e-6)


def embedded_texts(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts ``engine``'s embedder is asked to embed from now on (``embed_known``)."""
    asked: list[str] = []
    embed_known = engine.embedder.embed_known

    def counted(texts: list[str]) -> np.ndarray:
        asked.extend(texts)
        return embed_known(texts)

    monkeypatch.setattr(engine.embedder, "embed_known", counted)
    return asked


def test_search_sizes(seeds_engine: Engine) -> None:
    retriever = seeds_engine.retriever()
    assert retriever.search("tanks", 0) == []
    assert len(retriever.search("tanks", 1)) == 1
    everything = retriever.search("tanks", 10_000)
    assert len(everything) == retriever.size("chunks")
    assert len({(p.source, p.start_line, p.end_line, p.text) for p in everything}) == len(
        everything
    )


def test_question_of_only_stopwords_still_gets_dense_results(seeds_engine: Engine) -> None:
    passages = seeds_engine.retriever().search("what is it that they were", 3)
    assert len(passages) == 3
    assert all(p.lexical_score is None for p in passages)


def test_engine_retrieve_uses_top_k(seeds_engine: Engine) -> None:
    assert len(seeds_engine.retrieve("Egypt tanks", top_k=2)) == 2
    assert len(seeds_engine.retrieve("Egypt tanks")) == seeds_engine.settings.top_k


# tiny corpora ---------------------------------------------------------------------------


def test_lexical_match_on_a_code_the_embedder_cannot_read(
    tmp_path: Path, write_files: WriteFiles, make_engine: MakeEngine
) -> None:
    filler = [
        f"Report {i}: the warehouse shipped ordinary spare parts on schedule." for i in range(30)
    ]
    lines = [*filler[:17], "The faulty valve carries part number QZX-4471.", *filler[17:]]
    corpus = write_files(tmp_path / "c", {"parts.txt": "\n\n".join(lines) + "\n"})
    engine = make_engine(corpus, tmp_path / "idx")
    passages = engine.retrieve("QZX-4471", top_k=3)
    assert (passages[0].source, passages[0].start_line) == ("parts.txt", 35)
    assert passages[0].lexical_score is not None
    assert_passage_in_file(engine, passages[0])


def test_repeated_lines_are_separate_records_with_their_own_lines(
    tmp_path: Path, write_files: WriteFiles, make_engine: MakeEngine
) -> None:
    same = "The north gate opens at dawn."
    corpus = write_files(
        tmp_path / "c", {"gates.txt": f"{same}\n\nThe south gate is shut.\n\n{same}\n\n\n{same}\n"}
    )
    engine = make_engine(corpus, tmp_path / "idx")
    passages = engine.retriever().search("When does the north gate open?", 10, "sentences")
    lines = [p.start_line for p in passages if p.text == same]
    assert lines == [1, 5, 8]  # equal scores, in corpus order
    for passage in passages:
        assert_passage_in_file(engine, passage)


def test_records_another_build_adds_do_not_crowd_out_the_live_ones(
    tmp_path: Path, write_files: WriteFiles, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A level too large to search exactly is searched through Chroma. The collection's
    size is counted once per retriever; when records no manifest names yet (another
    process mid-build) fill a query, it is counted again and the query made wider, so the
    search still finds as many indexed passages."""
    engine, _ = ferries_through_chroma(12, tmp_path, write_files, make_engine, monkeypatch)
    retriever = engine.retriever()
    question = "When does the ferry leave?"
    before = [(p.source, p.start_line) for p in retriever.search(question, 5, "sentences")]
    assert len(before) == 5
    vector = retriever.embed_query(question)
    collection = engine.store.collections["sentences"]
    collection.upsert(ids=[f"other-{i}" for i in range(40)],
                      embeddings=[vector.tolist()] * 40,  # nearer than any live record
                      metadatas=[{"source": "elsewhere.txt"}] * 40)
    after = [(p.source, p.start_line) for p in retriever.search(question, 5, "sentences")]
    assert after == before


@pytest.mark.parametrize("level", ["sentences", "chunks"])
def test_lexical_ranking_is_the_stable_sort_of_every_positive_score(
    seeds_engine: Engine, level: str
) -> None:
    """BM25 selects its best among the records that score above 0 only: the same ids,
    scores and order as sorting every record's score and dropping the zeros."""
    retriever = seeds_engine.retriever()
    index = retriever._levels[level]
    sizes: list[int] = []
    for question, depth in (("How many T-90 tanks did Egypt buy?", 30),
                            ("Vostok-2022 exercises China India", 500), ("the of and", 5),
                            ("zzyzx unheard", 30)):
        query = rag.retrieval.terms(question)
        scores = index.bm25.get_scores(query) if query else np.zeros(0)
        expected = [(index.records.ids[i], float(scores[i]))
                    for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0]
        assert list(retriever._lexical(index, question, depth).items()) == expected
        sizes.append(len(expected))
    assert min(sizes[:2]) > 0  # the comparison had records to order


@pytest.mark.parametrize("depth", [0, 1, 3, 30, 500])
def test_best_scores_come_as_a_stable_sort_would_give_them(depth: int) -> None:
    """Search ranks by partial selection, not a sort of every score; the order must be a
    stable sort's: ties (BM25's many zeros, equal cosines) in corpus order."""
    rng = np.random.default_rng(depth)
    for scores in (rng.random(400).astype(np.float32), rng.integers(0, 4, 400) / 2.0,
                   np.zeros(400)):
        assert _best(scores, depth).tolist() == np.argsort(-scores, kind="stable")[:depth].tolist()
