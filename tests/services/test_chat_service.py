"""The engine thread behind its GUI-thread facade: batching, stale replies, shutdown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.answer import DocumentsUsed, SourcesCited
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import ContextTrimmed, Done
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.services.chat_service import ChatService
from gptoss_desktop.services.chat_worker import AdapterStatus
from tests.fixtures.chat_events import is_done, is_text
from tests.fixtures.lora_gguf import FRENCH_ADAPTER


@pytest.fixture
def service(qtbot: QtBot, tiny_model: Path) -> Iterator[ChatService]:
    service = ChatService()
    with qtbot.waitSignal(service.model_loaded, timeout=20_000):
        service.load_model(str(tiny_model))
    yield service
    assert service.shutdown(2000)


def request(text: str, **sampling: object) -> ChatRequest:
    return ChatRequest(Conversation((Message("user", text),)), SamplingParams(**sampling))  # type: ignore[arg-type]


def test_text_arrives_in_batches_not_one_signal_per_token(service: ChatService, qtbot: QtBot) -> None:
    updates: list[object] = []
    service.event_received.connect(lambda event: updates.append(event) if is_text(event) else None)
    with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000) as finished:
        service.send(request("hi", seed=5, temperature=0.0, max_tokens=2000))
    done: Done = finished.args[0]
    assert done.stats.completion_tokens > 200
    assert len(updates) < done.stats.completion_tokens / 4


def test_a_superseded_request_never_reaches_the_ui(service: ChatService, qtbot: QtBot) -> None:
    finished: list[Done] = []
    service.event_received.connect(lambda event: finished.append(event) if is_done(event) else None)
    service.send(request("first", seed=1, max_tokens=3000))
    second = request("second", seed=2, max_tokens=20)
    with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000):
        service.send(second)
    qtbot.waitUntil(lambda: not service.busy, timeout=5_000)
    assert len(finished) == 1
    assert finished[0].stats.completion_tokens <= 20


def test_shutdown_mid_generation_joins_the_thread(qtbot: QtBot, tiny_model: Path) -> None:
    service = ChatService()
    with qtbot.waitSignal(service.model_loaded, timeout=20_000):
        service.load_model(str(tiny_model))
    received: list[object] = []
    service.event_received.connect(lambda event: received.append(event) if is_text(event) else None)
    service.send(request("go", seed=3, temperature=0.0))
    qtbot.waitUntil(lambda: bool(received), timeout=20_000)
    assert service.busy
    assert service.shutdown(2000)
    assert service.stopped


def test_loading_a_missing_file_reports_it(qtbot: QtBot, tmp_path: Path) -> None:
    service = ChatService()
    try:
        with qtbot.waitSignal(service.model_failed, timeout=10_000) as failed:
            service.load_model(str(tmp_path / "nope.gguf"))
        assert "No model file" in failed.args[0]
    finally:
        assert service.shutdown(2000)


def test_a_conversation_longer_than_the_context_reports_the_cut_before_the_reply(
    qtbot: QtBot, tiny_model: Path
) -> None:
    service = ChatService(engine_factory=lambda path: LocalEngine(path, context_size=1024))
    try:
        with qtbot.waitSignal(service.model_loaded, timeout=20_000):
            service.load_model(str(tiny_model))
        seen: list[object] = []
        service.event_received.connect(seen.append)
        messages: list[Message] = []
        for n in range(60):
            messages += [Message("user", f"Question {n}: tell me more"), Message("assistant", "word word word")]
        conversation = Conversation((*messages, Message("user", "And now?")), instructions="Be brief.")
        with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000):
            service.send(ChatRequest(conversation, SamplingParams(seed=1, max_tokens=40)))
        trimmed = seen[0]
        assert isinstance(trimmed, ContextTrimmed)
        assert trimmed.dropped_messages > 60 and trimmed.dropped_messages + trimmed.kept_messages == 121
        assert any(is_text(item) for item in seen[1:]) and isinstance(seen[-1], Done)
        assert not any(isinstance(item, ContextTrimmed) for item in seen[1:])
    finally:
        assert service.shutdown(2000)


def test_a_conversation_with_documents_is_answered_from_them(
    service: ChatService, qtbot: QtBot, tmp_path: Path
) -> None:
    from gptoss_desktop.core.documents.ingest import ingest
    from gptoss_desktop.core.history.store import Store
    from gptoss_desktop.services.chat_worker import DocumentsRef

    store = Store(tmp_path / "history.db")
    with_documents = store.conversation(store.create_conversation("lease"))
    without = store.conversation(store.create_conversation("chat"))
    notes = tmp_path / "lease.md"
    notes.write_text("# Rent\nThe rent is 900 euros a month.\n")
    assert with_documents is not None and without is not None
    document = ingest(store.document_index, with_documents.id, notes)
    assert document is not None and document.status == "ready"
    store.close()
    used: list[DocumentsUsed] = []
    cited: list[tuple[object, ...]] = []

    def collect(event: object) -> None:
        if isinstance(event, DocumentsUsed):
            used.append(event)
        elif isinstance(event, SourcesCited):
            cited.append((event.cited, *event.sources))

    service.event_received.connect(collect)
    rent = request("How much is the rent?", seed=1, max_tokens=40)

    with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000):
        service.send(rent, DocumentsRef(tmp_path / "history.db", without.uid))
    assert used == [] and cited == []  # no documents: a plain chat

    with qtbot.waitSignal(service.event_received, check_params_cb=is_done, timeout=30_000):
        service.send(rent, DocumentsRef(tmp_path / "history.db", with_documents.uid))
    assert [(u.strategy, u.passages) for u in used] == [("whole", 1)]
    # The babbling model cites nothing: before it finishes, the passage it was given is named instead.
    assert [(flag, [s.document_name for s in rest]) for flag, *rest in cited] == [(False, ["lease.md"])]


def test_a_model_that_aborts_llama_cpp_is_refused_and_the_app_keeps_running(
    qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    """block_count=3000 passes every header check, and then aborts llama.cpp (it killed the window)."""
    from tests.fixtures.gguf_mutations import scalar_mutations, write_mutant

    (mutation,) = [m for m in scalar_mutations(trained_model) if m.name == "gpt-oss.block_count=3000"]
    aborting = write_mutant(trained_model, mutation, tmp_path / "aborts.gguf")
    service = ChatService()
    try:
        with qtbot.waitSignal(service.model_failed, timeout=60_000) as failed:
            service.load_model(str(aborting))
        assert "llama.cpp crashed loading aborts.gguf (SIGABRT)" in failed.args[0]
        with qtbot.waitSignal(service.model_loaded, timeout=60_000):
            service.load_model(str(trained_model))
    finally:
        assert service.shutdown(2000)


def test_adapters_are_read_before_a_model_loads_and_checked_against_each_model(
    qtbot: QtBot, tiny_model: Path, trained_model: Path
) -> None:
    service = ChatService()
    statuses: list[AdapterStatus] = []
    service.adapter_checked.connect(statuses.append)
    try:
        service.check_adapters([str(FRENCH_ADAPTER), str(trained_model)])
        qtbot.waitUntil(lambda: len(statuses) == 2)
        french, model = statuses
        assert (french.name, french.rank, french.model, french.problem) == ("gpt-oss-tiny French capitals", 8, "", "")
        assert "gpt-oss-tiny-harmony.gguf is a model, not a LoRA adapter" in model.problem
        with qtbot.waitSignal(service.model_loaded, timeout=20_000):
            service.load_model(str(tiny_model))  # the random gpt-oss: narrower than the one it was trained on
        service.check_adapters([str(FRENCH_ADAPTER)])
        qtbot.waitUntil(lambda: len(statuses) == 3)
        assert statuses[2].problem.startswith("gpt-oss-tiny-french.lora.gguf does not fit ")
        with qtbot.waitSignal(service.model_loaded, timeout=20_000):
            service.load_model(str(trained_model))
        service.check_adapters([str(FRENCH_ADAPTER)])
        qtbot.waitUntil(lambda: len(statuses) == 4)
        assert (statuses[3].problem, statuses[3].model, statuses[3].size) == ("", "gpt-oss-tiny-harmony", 380_928)
    finally:
        assert service.shutdown(2000)
