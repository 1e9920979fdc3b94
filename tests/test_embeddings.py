"""The offline MiniLM embedder, alone and as a Chroma embedding function."""

from __future__ import annotations

import uuid
from pathlib import Path

import chromadb
import chromadb.config
import numpy as np
import pytest

from rag.embeddings import EMBEDDING_DIM, MiniLMEmbedder
from rag.integrations.chroma import MiniLMEmbeddingFunction

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_shape_dtype_and_unit_norm(embedder: MiniLMEmbedder) -> None:
    texts = ["Egypt bought 500 tanks.", "A cat sleeps.", "", "x " * 600]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, EMBEDDING_DIM) == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_one("Egypt bought 500 tanks.").shape == (384,)


def test_no_texts_give_an_empty_array(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_paraphrases_are_closer_than_unrelated_texts(embedder: MiniLMEmbedder) -> None:
    a, b, c = embedder.embed(
        [
            "Egypt purchased five hundred Russian tanks in July.",
            "In July, Egypt bought 500 T-90 tanks from Russia.",
            "The recipe needs two cups of flour and an egg.",
        ]
    )
    assert float(a @ b) > 0.6
    assert float(a @ b) > float(a @ c) + 0.3


def test_batching_keeps_the_input_order(embedder: MiniLMEmbedder) -> None:
    """The embedder sorts texts by length into batches of 32; results come back in input
    order, each the same as the text embedded alone."""
    texts = [f"Sentence {i} {'about tanks and ' * (i % 7)}the end." for i in range(40)]
    together = embedder.embed(texts)
    for i in (0, 5, 17, 33, 39):
        alone = embedder.embed_one(texts[i])
        assert float(together[i] @ alone) > 0.999


def test_a_vector_does_not_depend_on_its_batch(embedder: MiniLMEmbedder) -> None:
    """What ``embed_known`` rests on: a text gets the same bits alone, beside longer and
    shorter texts (other padding), and in another order."""
    texts = [line.strip() for path in sorted(SEEDS.glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:48]
    together = embedder.embed(texts)
    backwards = embedder.embed(texts[::-1])[::-1]
    for n, text in enumerate(texts):
        alone = embedder.embed([text])[0]
        assert np.array_equal(alone, together[n])
        assert np.array_equal(alone, backwards[n])


def test_batches_are_cut_by_tokens(
    embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long texts go fewer to a run (onnxruntime keeps the memory of its largest batch
    shape), short ones up to ``batch_size``; every text gets the bits it gets alone."""
    texts = ([f"Short line {i}." for i in range(40)]
             + [f"Long text {i} " + "about the tanks Egypt bought " * 60 for i in range(6)])
    small = MiniLMEmbedder(batch_size=32, batch_tokens=512)
    shapes: list[tuple[int, int]] = []
    session, _ = small._load()
    real_run = session.run

    def run(outputs: object, feeds: dict[str, np.ndarray]) -> object:
        shapes.append(feeds["input_ids"].shape)
        return real_run(outputs, feeds)

    monkeypatch.setattr(session, "run", run)
    vectors = small.embed(texts)
    assert all(rows * width <= 512 for rows, width in shapes)
    assert (2, 256) in shapes  # truncated at 256 tokens, two to a run
    assert max(rows for rows, _ in shapes) == 32  # short texts still fill a batch
    assert sum(rows for rows, _ in shapes) == len(texts)
    for n in (0, 39, 40, 45):
        assert np.array_equal(vectors[n], embedder.embed([texts[n]])[0])


def test_known_texts_are_not_embedded_again(
    embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Egypt bought 500 T-90 tanks.", "The exercises end on Wednesday.", "Vostok-2022"]
    first = embedder.embed_known(texts)
    assert np.array_equal(first, embedder.embed(texts))
    embedded: list[str] = []
    real = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda batch: embedded.extend(batch) or real(batch))
    again = embedder.embed_known([texts[2], "A new sentence.", texts[0], texts[2]])
    assert embedded == ["A new sentence."]
    assert np.array_equal(again[0], first[2])
    assert np.array_equal(again[2], first[0])
    assert np.array_equal(again[1], real(["A new sentence."])[0])
    assert embedder.embed_known([]).shape == (0, 384)


def test_is_a_real_chroma_embedding_function(embedder: MiniLMEmbedder) -> None:
    """Chroma embeds added documents and query texts with our function: no vectors are
    passed, and Chroma's own (downloading) default is never used."""
    function = MiniLMEmbeddingFunction(embedder)
    vectors = function(["one text", "another text"])
    assert len(vectors) == 2
    assert len(vectors[0]) == 384
    client = chromadb.EphemeralClient(settings=chromadb.config.Settings(anonymized_telemetry=False))
    name = f"test-{uuid.uuid4().hex[:12]}"
    collection = client.create_collection(name, embedding_function=function)
    try:
        collection.add(
            ids=["tanks", "cats", "rates", "bridge"],
            documents=[
                "In July, Egypt bought 500 Russian T-90 tanks.",
                "The cat slept all afternoon on the warm windowsill.",
                "The central bank raised interest rates by half a point.",
                "The old bridge over the river was rebuilt in 1932.",
            ],
        )
        result = collection.query(
            query_texts=["How many armoured vehicles did Egypt purchase?"], n_results=4
        )
        assert result["ids"][0][0] == "tanks"
        result = collection.query(query_texts=["When was the bridge built?"], n_results=1)
        assert result["ids"][0] == ["bridge"]
        stored = collection.get(ids=["cats"], include=["embeddings"])["embeddings"][0]
        expected = embedder.embed_one("The cat slept all afternoon on the warm windowsill.")
        assert float(np.dot(np.asarray(stored), expected)) > 0.999
    finally:
        client.delete_collection(name)


def test_embedding_function_describes_itself() -> None:
    function = MiniLMEmbeddingFunction()
    assert function.name() == "rag-minilm-l6-v2-int8"
    assert function.default_space() == "cosine"
    assert "cosine" in function.supported_spaces()
    rebuilt = MiniLMEmbeddingFunction.build_from_config(function.get_config())
    assert isinstance(rebuilt, MiniLMEmbeddingFunction)


def test_word_vectors_outlive_their_process(
    embedder: MiniLMEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a process learns of words, the next one reads: the same float32 bits, and
    those words are not embedded again."""
    from rag.answer.lexicon import SAVE_EVERY, WordVectors, word_cache

    monkeypatch.setenv("RAG_MODEL_DIR", str(tmp_path / "cache"))
    path = word_cache(embedder)
    assert path is not None
    assert path.parent == tmp_path / "cache"
    assert word_cache(MiniLMEmbedder(model_path=tmp_path / "other.onnx")) is None
    other = MiniLMEmbedder(model_path=tmp_path / "other.onnx")
    assert WordVectors.kept(other) is WordVectors.kept(other)  # one set per embedder
    assert WordVectors.kept(other).path is None
    words = [f"word{n}" for n in range(SAVE_EVERY)] + ["troops", "soldiers"]
    first = WordVectors(embedder, path=path)
    first.prepare(words)
    assert path.exists()
    embedded: list[str] = []
    real = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda batch: embedded.extend(batch) or real(batch))
    second = WordVectors(embedder, path=path)  # a new process, as far as the words go
    assert second.best(["troops"], ["soldiers"]) == first.best(["troops"], ["soldiers"])
    second.prepare([*words, "sailors"])
    assert embedded == ["sailors"]
    assert np.array_equal(second._vectors["troops"], real(["troops"])[0])


def test_a_word_file_that_cannot_be_read_or_written_is_no_error(
    embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    from rag.answer.lexicon import SAVE_EVERY, WordVectors

    broken = tmp_path / "words.npz"
    broken.write_bytes(b"not a zip file")
    vectors = WordVectors(embedder, path=broken)  # unreadable: starts empty
    vectors.prepare([f"term{n}" for n in range(SAVE_EVERY)])
    assert WordVectors(embedder, path=broken)._vectors.keys() == vectors._vectors.keys()
    blocked = tmp_path / "a-file" / "words.npz"
    (tmp_path / "a-file").write_text("a file where the folder should be")
    unwritable = WordVectors(embedder, path=blocked)
    unwritable.prepare([f"term{n}" for n in range(SAVE_EVERY)])
    assert unwritable.path is None  # stopped trying
    assert unwritable.best(["term1"], ["term1", "term2"]) == pytest.approx(1.0)
