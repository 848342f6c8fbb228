"""Semantic search on a real embedding model (all-MiniLM-L6-v2 converted to GGUF) and real SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from gptoss_desktop.core.documents.embeddings import BATCH_TEXTS, Embedder, EmbeddingModelError, check_embedding_model
from gptoss_desktop.core.documents.index import DocumentIndex
from gptoss_desktop.core.documents.semantic import RRF_K, reciprocal_rank_fusion
from gptoss_desktop.core.documents.types import Chunk
from gptoss_desktop.core.history.store import Store

LEASE = (
    "The flat at the end of Rose Street is let furnished. The lease lists the furniture, the garden and the shed.",
    "Either party may terminate this tenancy by giving the other three months' notice in writing.",
    "Rent of 900 euros is paid on the first day of each month into the landlord's bank account.",
    "The tenant keeps the garden tidy and mows the lawn in summer.",
    "Pets may be kept only with the landlord's written consent.",
    "The deposit of two months' rent is returned within thirty days after the keys are handed back.",
)
#: Worded with other words than the clause that answers it (LEASE[1]), and sharing "end" and "lease" with LEASE[0].
QUESTION = "How much notice do I have to give to end the lease?"


@pytest.fixture(scope="module")
def embedder(minilm_model: Path) -> Embedder:
    return Embedder(minilm_model)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "history.db")


def add_document(index: DocumentIndex, conversation: int, texts: tuple[str, ...], name: str = "lease.md") -> str:
    uid = index.add(conversation, name, "markdown", 1, "")
    assert index.fill(uid, [Chunk(i, text, line_start=i + 1, line_end=i + 1) for i, text in enumerate(texts)])
    return uid


def test_the_converted_model_gives_sentence_transformers_similarities(embedder: Embedder) -> None:
    sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    vectors = embedder.embed_passages(sentences)
    assert vectors is not None and vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    # What sentence-transformers prints for all-MiniLM-L6-v2 in its quickstart.
    assert similarity[0, 1] == pytest.approx(0.6660, abs=2e-3)
    assert similarity[0, 2] == pytest.approx(0.1046, abs=2e-3)
    assert similarity[1, 2] == pytest.approx(0.1411, abs=2e-3)
    # One text at a time or many in a batch: the same vectors.
    assert np.allclose(embedder.embed_query(sentences[2]), vectors[2], atol=1e-4)
    assert (embedder.info.dimensions, embedder.info.pooling, embedder.info.architecture) == (384, "mean", "bert")


def test_a_text_longer_than_the_context_is_cut_not_refused(embedder: Embedder) -> None:
    long = "the tenant pays the rent " * 400  # about 2,000 tokens, the model sees 512
    vectors = embedder.embed_passages([long, "short"])
    assert vectors is not None and vectors.shape == (2, 384)
    assert np.isfinite(vectors).all()


def test_a_question_in_other_words_finds_the_clause_that_answers_it(store: Store, embedder: Embedder) -> None:
    index = store.document_index
    conversation = store.create_conversation("lease")
    uid = add_document(index, conversation, LEASE)
    # By words alone, the wrong passage comes first: it has "end" and "lease", the answer only "notice".
    assert [p.chunk.text for p in index.search(conversation, QUESTION, 2)] == [LEASE[0], LEASE[1]]
    assert [p.chunk.text for p in index.source(conversation).search(QUESTION, 2)] == [LEASE[0], LEASE[1]]

    model = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(embedder.info.path))
    assert index.vectors.embed_document(uid, model, embedder)
    found = index.source(conversation, embedder, model).search(QUESTION, 3)
    assert found[0].chunk.text == LEASE[1]
    assert found[0].document_name == "lease.md" and found[0].chunk.anchor == "line 2"
    assert found[0].rank < found[1].rank < found[2].rank  # lower is better, as for BM25


def test_documents_without_vectors_are_still_found_by_their_words(store: Store, embedder: Embedder) -> None:
    index = store.document_index
    conversation = store.create_conversation("lease")
    embedded = add_document(index, conversation, LEASE)
    plain = add_document(index, conversation, ("The boiler is serviced every year by the landlord.",), "boiler.md")
    model = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(embedder.info.path))
    assert index.vectors.embed_document(embedded, model, embedder)
    assert index.vectors.pending(model) == [plain]
    found = index.source(conversation, embedder, model).search("When is the boiler serviced?", 8)
    assert found[0].document_name == "boiler.md"
    assert {p.document_name for p in found} == {"boiler.md", "lease.md"}


def test_vectors_of_another_model_are_never_compared(store: Store, embedder: Embedder) -> None:
    index = store.document_index
    conversation = store.create_conversation("lease")
    uid = add_document(index, conversation, LEASE)
    first = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(embedder.info.path))
    other = index.vectors.register("0" * 64, "some other model", 384, "/elsewhere.gguf")
    assert index.vectors.embed_document(uid, first, embedder)
    query = embedder.embed_query(QUESTION)
    assert index.vectors.nearest(conversation, other, query, 3) == []
    assert len(index.vectors.nearest(conversation, first, query, 3)) == 3
    assert index.vectors.pending(other) == [uid] and index.vectors.pending(first) == []


def test_a_cancelled_embedding_writes_nothing(store: Store, embedder: Embedder) -> None:
    index = store.document_index
    conversation = store.create_conversation("lease")
    uid = add_document(index, conversation, LEASE * 4)
    model = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(embedder.info.path))
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def after_each_batch(done: int, total: int) -> None:  # the person presses Stop after the first batch
        seen.append((done, total))
        cancel.set()

    assert not index.vectors.embed_document(uid, model, embedder, cancel, after_each_batch)
    assert seen == [(BATCH_TEXTS, len(LEASE) * 4)]  # the next batch never started
    assert index.vectors.pending(model) == [uid]
    assert index.vectors.nearest(conversation, model, embedder.embed_query(QUESTION), 3) == []
    assert [p.chunk.text for p in index.source(conversation, embedder, model).search(QUESTION, 1)] == [LEASE[0]]


def test_removing_a_document_removes_its_vectors(store: Store, embedder: Embedder) -> None:
    index = store.document_index
    conversation = store.create_conversation("lease")
    uid = add_document(index, conversation, LEASE)
    model = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(embedder.info.path))
    assert index.vectors.embed_document(uid, model, embedder)
    query = embedder.embed_query(QUESTION)
    assert len(index.vectors.nearest(conversation, model, query, 8)) == len(LEASE)
    assert index.remove(uid)
    assert index.vectors.nearest(conversation, model, query, 8) == []
    rows = store._db.execute("SELECT count(*) FROM chunk_vectors").fetchone()
    assert rows[0] == 0


def test_a_chat_model_is_refused_as_the_embedding_model_with_a_reason(trained_model: Path, tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="not an embedding model") as refused:
        check_embedding_model(trained_model)
    assert "gpt-oss" in str(refused.value) and "searched by their words" in str(refused.value)
    with pytest.raises(EmbeddingModelError, match="not an embedding model"):
        Embedder(trained_model)
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(trained_model.read_bytes()[:100_000])
    with pytest.raises(EmbeddingModelError, match="incomplete"):
        Embedder(truncated)
    with pytest.raises(EmbeddingModelError):
        Embedder(tmp_path / "missing.gguf")


def test_an_embedding_model_that_aborts_llama_cpp_is_a_message(minilm_model: Path, tmp_path: Path) -> None:
    """A NaN layer-norm epsilon passes every header check and aborts llama.cpp (GGML_ASSERT) as it loads:
    in the documents thread that killed the app. It is first loaded in a child process, once."""
    from tests.fixtures.gguf_mutations import scalar_mutations, write_mutant

    (nan_epsilon,) = [m for m in scalar_mutations(minilm_model) if m.name == "bert.attention.layer_norm_epsilon=nan"]
    crafted = write_mutant(minilm_model, nan_epsilon, tmp_path / "crafted-minilm.gguf")
    with pytest.raises(EmbeddingModelError) as refused:
        Embedder(crafted)
    assert str(refused.value).startswith("llama.cpp crashed loading crafted-minilm.gguf (SIGABRT)")
    assert str(refused.value).endswith("Semantic search is off; documents are still searched by their words.")
    vector = Embedder(minilm_model).embed_query("still here")  # and this process lives on
    assert np.isclose(np.linalg.norm(vector), 1.0)


def test_rank_fusion_rewards_being_found_by_both() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    assert [key for key, _score in fused] == ["b", "a", "c"]
    assert dict(fused)["b"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert reciprocal_rank_fusion([[], []]) == []
