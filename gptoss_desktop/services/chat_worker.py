"""The object that lives on the engine thread and is the only one to touch its llama.cpp contexts.

Besides the chat model it holds its own Embedder for questions when semantic search is on:
the documents thread embeds passages with another one, and no llama.cpp context is shared
by two threads. Which embedding model is on is read from the history database (the documents
thread records it once it has loaded it), so a question is embedded by the model that made
the passages' vectors, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import Signal

from ..core.api.runner import Job, run_job
from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent, answer_with_documents
from ..core.documents.embeddings import Embedder, EmbeddingModelError, file_identity
from ..core.documents.shelf import IndexShelf
from ..core.engine import ChatEngine, ChatRequest, ModelInfo, ModelLoadError
from ..core.events import Done, Failed, Stats
from ..core.harmony import PYTHON
from ..core.history.store import Store
from ..core.local.engine import LocalEngine
from ..core.local.load_probe import load_local_engine
from ..core.local.lora_file import LoraFile, read_lora
from ..core.remote.connect import open_engine
from ..core.remote.profile import ServerProfile
from ..core.tools.browsing import browse_documents
from ..core.tools.loop import Toolbox, WithTools
from ..core.tools.python_tool import SandboxOptions
from .event_buffer import EventBuffer
from .python_sessions import PythonSessions
from .threads import Worker

if TYPE_CHECKING:
    from ..core.remote.openai_engine import ServerEngine  # imported when a server is first used

EngineFactory = Callable[[str], LocalEngine]
Tagged = tuple[int, DocumentEvent]


@dataclass(frozen=True)
class DocumentsRef:
    """Where a conversation's documents are: the history database and the conversation's uid; `browse`: gpt-oss
    on this computer reads them with its browser tool (else, and for other models, it is given passages)."""

    database: Path
    conversation: str
    browse: bool = False


@dataclass(frozen=True)
class ToolChoice:
    """The tools a conversation lets the model call: python in the conversation's own sandboxed session,
    run at once or after the person's Run (the window asks on a ToolApproval event)."""

    conversation: str  # its uid: the python session's working folder is the conversation's
    python: Literal["ask", "run"]
    interpreter: str | None = None  # another Python (Preferences), under the same sandbox; None: the app's own
    network_isolation: bool = True  # False: the person lets python run where the network cannot be cut off

    def sandbox_options(self) -> SandboxOptions:
        """What the conversation's python session is started with."""
        interpreter = Path(self.interpreter) if self.interpreter else None
        return SandboxOptions(interpreter=interpreter, require_network_isolation=self.network_isolation)


@dataclass(frozen=True)
class AdapterStatus:
    """What checking a LoRA adapter file found: its name and size, and why the loaded model cannot use it."""

    path: str  # as it was asked for
    name: str  # as the adapter calls itself, or its file's stem when it could not be read
    rank: int = 0
    size: int = 0  # bytes of its matrices, beside the model
    problem: str = ""  # why it cannot be used with the loaded model ("" when it can)
    model: str = ""  # the model it was checked against ("" when none was loaded: only its own header was read)

    @classmethod
    def of(cls, path: str, lora: LoraFile, model: str) -> AdapterStatus:
        """An adapter that can be used (with `model`, if one is named)."""
        return cls(path, lora.name, lora.rank, lora.tensor_bytes, "", model)


class ChatWorker(Worker):
    """Loads a model and runs requests on its thread, on that model or on a conversation's server;
    results go through an EventBuffer."""

    events_ready = Signal()
    model_loaded = Signal(ModelInfo)
    model_failed = Signal(str)
    server_ready = Signal(ServerProfile, object)  # the server, its ServerModelInfo: connected, before the reply
    api_started = Signal()  # a program's request (the local API) began on this thread
    api_finished = Signal()
    tools_refused = Signal(ServerProfile)  # the server refused OpenAI tools: its answers come without them
    adapter_checked = Signal(object)  # AdapterStatus

    def __init__(self, buffer: EventBuffer[Tagged], engine_factory: EngineFactory = load_local_engine) -> None:
        super().__init__()
        self._buffer = buffer
        self._engine_factory = engine_factory
        self._engine: LocalEngine | None = None
        self._servers: dict[ServerProfile, ServerEngine] = {}  # connected once, kept for the next turns
        self._stores: dict[Path, Store] = {}  # read connections to history databases, on this thread
        self._embedder: Embedder | None = None  # questions' embedding model, loaded when first needed
        self._python = PythonSessions()  # by conversation uid: stateful across its turns

    def load(self, path: str) -> None:
        """Replace the current model with the one at `path` (engine thread)."""
        self._close_engine()
        try:
            self._engine = self._engine_factory(path)
        except ModelLoadError as exc:
            self.model_failed.emit(str(exc))
            return
        self.model_loaded.emit(self._engine.info)

    def check_adapter(self, path: str, load: bool) -> None:
        """Check a LoRA adapter against the loaded model and the memory left, and with `load` have llama.cpp
        load it (engine thread); adapter_checked says what was found. Without a model only its header is read."""
        engine = self._engine
        model = engine.info.name if engine is not None else ""
        try:
            if engine is None:
                lora = read_lora(path)
            else:
                lora = engine.open_adapter(path) if load else engine.check_adapter(path)
        except ModelLoadError as exc:  # AdapterError and GGUFError both are: a reason in words
            self.adapter_checked.emit(AdapterStatus(path, Path(path).stem, problem=str(exc), model=model))
            return
        except Exception as exc:  # the worker must survive any file
            problem = f"{Path(path).name} could not be read: {exc}"
            self.adapter_checked.emit(AdapterStatus(path, Path(path).stem, problem=problem, model=model))
            return
        self.adapter_checked.emit(AdapterStatus.of(path, lora, model))

    def run_api_job(self, job: Job, finished: Callable[[Job], None]) -> None:
        """Answer a program's request through the local API on the loaded model (engine thread), in
        turn with the window's own requests; `finished` is called here once it ended."""
        self.api_started.emit()
        try:
            run_job(self._engine, job)
        finally:
            finished(job)
            self.api_finished.emit()

    def generate(
        self,
        request_id: int,
        request: ChatRequest,
        cancel: CancelFlag,
        documents: DocumentsRef | None,
        server: ServerProfile | None,
        tools: ToolChoice | None = None,
    ) -> None:
        """Run one request to its end or until `cancel` is set (engine thread): on the loaded model, or on
        `server` (a ServerProfile) when the conversation runs there; from the conversation's documents
        when it has some ready."""
        try:
            engine = self._engine_for(server, cancel)
        except Exception as exc:  # the server could not be reached, or refused us: say why (or that Stop was pressed)
            if cancel.is_set():
                self._push(request_id, Done("cancelled", Stats()))
            else:
                reason = str(exc) if isinstance(exc, ModelLoadError) else f"Could not reach the server: {exc}"
                self._push(request_id, Failed(reason))
            return
        if engine is None:
            self._push(request_id, Failed("No model is loaded."))
            return
        try:
            toolbox = self._toolbox(tools) if tools is not None and engine.info.is_harmony else None
            for event in self._events(engine, request, cancel, documents, toolbox, local=server is None):
                self._push(request_id, event)
        except Exception as exc:  # the worker must survive anything one request does
            self._push(request_id, Failed(f"Generation failed: {exc}"))
        if server is not None and tools is not None and getattr(self._servers.get(server), "tools_refused", False):
            self.tools_refused.emit(server)  # the window says python is not available there

    def _engine_for(self, server: ServerProfile | None, cancel: CancelFlag) -> ChatEngine | None:
        """The local model, or the conversation's server, connected the first time it is asked."""
        if server is None:
            return self._engine
        engine = self._servers.get(server)
        if engine is None:
            engine = self._servers[server] = open_engine(server, cancel=cancel)
            self.server_ready.emit(server, engine.info)
        return engine

    def forget_server(self, base_url: str) -> None:
        """Disconnect from the server at `base_url` (every model of it), so the next request connects
        again, with its new key."""
        for server in [s for s in self._servers if s.base_url == base_url]:
            self._servers.pop(server).close()

    def _events(
        self,
        engine: ChatEngine,
        request: ChatRequest,
        cancel: CancelFlag,
        documents: DocumentsRef | None,
        toolbox: Toolbox | None,
        local: bool,
    ) -> Iterator[DocumentEvent]:
        """The answer: browsing the documents (gpt-oss here, when the conversation lets it), from passages of
        them, or plain; with `toolbox`'s tools in every case."""
        answering = WithTools(engine, toolbox) if toolbox is not None else engine
        if documents is not None:
            store = self._stores.get(documents.database)
            if store is None:
                store = self._stores[documents.database] = Store(documents.database, recover=False)
            conversation_id = store.conversation_id(documents.conversation)
            if conversation_id is not None and any(
                d.status == "ready" for d in store.document_index.documents(conversation_id)
            ):
                semantic = self._semantic(store)  # (embedder, model id): by words and meaning; None: by words
                if documents.browse and local and engine.info.is_harmony:
                    # This thread's own connection: the browser's calls run here, never on the documents thread's.
                    shelf = IndexShelf(store.document_index, conversation_id, *(semantic or ()))
                    yield from browse_documents(
                        engine,
                        request.conversation,
                        shelf,
                        request.sampling,
                        cancel,
                        adapters=request.adapters,
                        others=toolbox,
                    )
                    return
                source = store.document_index.source(conversation_id, *(semantic or ()))
                yield from answer_with_documents(
                    answering, request.conversation, source, request.sampling, cancel, adapters=request.adapters
                )
                return
        yield from answering.generate(request, cancel)

    def _toolbox(self, tools: ToolChoice) -> Toolbox:
        """The conversation's tools; its python session is started on its first call and kept for the next."""
        return Toolbox(
            declarations=(PYTHON,),
            tools={"python": self._python.tool(tools.conversation, tools.sandbox_options())},
            ask=frozenset({"python"}) if tools.python == "ask" else frozenset(),
        )

    def _semantic(self, store: Store) -> tuple[Embedder, int] | None:
        """The embedding model semantic search uses now and its id in `store`, loaded on this thread; None
        when it is off, or its file is gone or no longer the one that made the vectors (words only, then)."""
        record = store.document_index.vectors.active()
        if record is None:
            return None
        if self._embedder is not None and self._embedder.info.identity == record.identity:
            return self._embedder, record.id
        self._close_embedder()
        try:
            if file_identity(Path(record.path)) != record.identity:
                return None  # replaced by another file since: its vectors would not match the passages'
            self._embedder = Embedder(record.path)
        except (EmbeddingModelError, OSError):
            return None  # gone or unusable: the documents thread said why when the model was set
        return self._embedder, record.id

    def _close_embedder(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None

    def release(self) -> None:
        """Free the models and close the history connections before the engine thread ends (engine thread)."""
        self._close_engine()
        self._close_embedder()
        for engine in self._servers.values():
            engine.close()
        self._servers.clear()
        self._python.close()  # no sandbox process outlives the app
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def _push(self, request_id: int, event: DocumentEvent) -> None:
        if self._buffer.push((request_id, event)):
            self.events_ready.emit()

    def _close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
