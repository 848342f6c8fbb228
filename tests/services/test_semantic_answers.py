"""The engine thread answers from passages found by meaning once an embedding model is on, by words before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.answer import DocumentsUsed, SourcesCited
from gptoss_desktop.core.documents.embeddings import Embedder
from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.documents.types import Chunk
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.services.chat_service import ChatService
from gptoss_desktop.services.chat_worker import DocumentsRef
from tests.core.test_document_semantic import LEASE, QUESTION
from tests.fixtures.chat_events import is_done

#: Enough unrelated passages that the lease cannot go in whole: the answer quotes the best-matching ones.
FILLER = tuple(f"Note {n}: the blue kettle in the kitchen holds {n % 7 + 1} cups of water." for n in range(120))


class CitingEngine(LocalEngine):
    """The real engine and model; its answer cites [1], as a real model cites the passage it used."""

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        for event in super().generate(request, cancel):
            if isinstance(event, Done):
                yield AnswerDelta(" [1]")
            yield event


@pytest.fixture
def service(qtbot: QtBot, tiny_model: Path) -> Iterator[ChatService]:
    service = ChatService(CitingEngine)
    with qtbot.waitSignal(service.model_loaded, timeout=20_000):
        service.load_model(str(tiny_model))
    yield service
    assert service.shutdown(5000)


def first_source(service: ChatService, qtbot: QtBot, ref: DocumentsRef) -> Source:
    cited: list[tuple[Source, ...]] = []
    used: list[DocumentsUsed] = []

    def collect(event: object) -> None:
        if isinstance(event, DocumentsUsed):
            used.append(event)
        elif isinstance(event, SourcesCited):
            cited.append(event.sources)

    service.event_received.connect(collect)
    request = ChatRequest(Conversation((Message("user", QUESTION),)), SamplingParams(seed=1, max_tokens=4))
    with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000):
        service.send(request, ref)
    service.event_received.disconnect(collect)
    assert [u.strategy for u in used] == ["retrieve"]  # the best passages are quoted, not the whole lease
    assert len(cited) == 1 and cited[0], "the answer lists the passage it cites"
    return cited[0][0]


def stored_lease(path: Path) -> tuple[Store, DocumentsRef, str]:
    """A conversation in a new history at `path` whose one document, lease.md, is indexed (words only)."""
    store = Store(path)
    conversation = store.conversation(store.create_conversation("lease"))
    assert conversation is not None
    uid = store.document_index.add(conversation.id, "lease.md", "markdown", 1, "")
    chunks = [Chunk(i, text, line_start=i + 1, line_end=i + 1) for i, text in enumerate(LEASE + FILLER)]
    assert store.document_index.fill(uid, chunks)
    return store, DocumentsRef(path, conversation.uid), uid


def test_the_answer_cites_the_clause_found_by_meaning_once_the_model_is_on(
    service: ChatService, qtbot: QtBot, tmp_path: Path, minilm_model: Path
) -> None:
    store, ref, uid = stored_lease(tmp_path / "history.db")
    index = store.document_index

    by_words = first_source(service, qtbot, ref)
    assert (by_words.document_name, by_words.snippet) == ("lease.md", LEASE[0])  # the street, not the notice

    embedder = Embedder(minilm_model)
    try:
        model = index.vectors.register(embedder.info.identity, embedder.info.name, 384, str(minilm_model))
        assert index.vectors.embed_document(uid, model, embedder)
        index.vectors.activate(model)  # what the documents thread records once it has loaded the model
    finally:
        embedder.close()
    by_meaning = first_source(service, qtbot, ref)
    assert (by_meaning.document_name, by_meaning.anchor, by_meaning.snippet) == ("lease.md", "line 2", LEASE[1])

    index.vectors.activate(None)  # semantic search off again: exactly the old results
    assert first_source(service, qtbot, ref) == by_words
    store.close()


def test_an_unusable_embedding_model_leaves_the_answer_to_the_words(
    service: ChatService, qtbot: QtBot, tmp_path: Path, trained_model: Path
) -> None:
    store, ref, _uid = stored_lease(tmp_path / "history.db")
    index = store.document_index
    gone = tmp_path / "moved-away.gguf"
    for model_path in (gone, trained_model):  # deleted since it was set; a chat model recorded by an old version
        index.vectors.activate(index.vectors.register(f"{model_path}", "broken", 384, str(model_path)))
        found = first_source(service, qtbot, ref)
        assert (found.document_name, found.snippet) == ("lease.md", LEASE[0])
    store.close()
