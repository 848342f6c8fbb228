"""`gptoss-desktop chat --doc FILE …`: answer from documents in the terminal, with the sources cited.

The files are indexed into a temporary database that is gone when the command ends;
the person's conversation history is not touched. With `--embedding-model PATH` the passages
are embedded too and searched by meaning as well as by words, as in the window.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent, answer_with_documents
from ..core.documents.embeddings import Embedder, EmbeddingModelError
from ..core.documents.index import DocumentIndex
from ..core.documents.ingest import ingest
from ..core.documents.shelf import IndexShelf
from ..core.engine import ChatEngine, LoraAdapter
from ..core.events import Failed
from ..core.harmony import Conversation
from ..core.history.store import Store
from ..core.sampling import SamplingParams
from ..core.tools.browsing import browse_documents
from ..core.tools.loop import Toolbox

#: The start of the name of the temporary folder of one `chat --doc` run; the process id follows.
COPY_PREFIX = "gptoss-documents-"


def document_events(
    files: Sequence[str],
    engine: ChatEngine,
    conversation: Conversation,
    sampling: SamplingParams,
    cancel: CancelFlag,
    embedding_model: str | None = None,
    adapters: tuple[LoraAdapter, ...] = (),
    *,
    browse: bool = False,
    others: Toolbox | None = None,
) -> Iterator[DocumentEvent | DocumentProblem | DocumentReady | SemanticReady | SemanticProblem | BrowserUnavailable]:
    """Index each file (a bad one is reported and skipped), then answer from those that could be read;
    by words and meaning when `embedding_model` is given and usable, by words otherwise; with `adapters`.
    With `browse`, a gpt-oss model reads them itself with its browser tool (and `others`' tools)."""
    remove_abandoned_copies()
    with tempfile.TemporaryDirectory(prefix=f"{COPY_PREFIX}{os.getpid()}-") as folder, ExitStack() as cleanup:
        store = Store(Path(folder) / "documents.db")
        cleanup.callback(store.close)
        conversation_id = store.create_conversation("headless")
        ready = 0
        for file in files:
            document = ingest(store.document_index, conversation_id, Path(file).expanduser(), cancel)
            if document is None:
                return
            if document.status == "ready":
                ready += 1
                yield DocumentReady(document.name, document.chunk_count)
            else:
                yield DocumentProblem(document.name, document.error or f"{document.name} could not be read.")
        if not ready:
            yield Failed("None of the documents could be read, so there is nothing to answer from.")
            return
        semantic: tuple[Embedder, int] | tuple[()] = ()
        if embedding_model:
            try:
                embedder = Embedder(Path(embedding_model).expanduser())
            except EmbeddingModelError as exc:
                yield SemanticProblem(str(exc))
            else:
                cleanup.callback(embedder.close)  # closed before the store: the callbacks run last first
                embedded = embed_all(store.document_index, conversation_id, embedder, cancel)
                if embedded is None:
                    return
                model_id, passages = embedded
                semantic = (embedder, model_id)
                yield SemanticReady(embedder.info.name, passages)
        if browse and engine.info.is_harmony:
            shelf = IndexShelf(store.document_index, conversation_id, *semantic)
            yield from browse_documents(engine, conversation, shelf, sampling, cancel, adapters=adapters, others=others)
            return
        if browse:
            yield BrowserUnavailable(
                f"{engine.info.name} is not gpt-oss and has no browser tool: answered from passages instead."
            )
        source = store.document_index.source(conversation_id, *semantic)
        yield from answer_with_documents(engine, conversation, source, sampling, cancel, adapters=adapters)


def remove_abandoned_copies() -> None:
    """Delete the document databases of earlier runs that were killed (kill -9 runs no cleanup): each folder
    names the process that made it, and one whose process is gone is removed. POSIX only: there a signal 0
    only asks whether a process exists (on Windows os.kill would end it)."""
    if os.name != "posix":
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{COPY_PREFIX}*-*"):
        pid = folder.name.removeprefix(COPY_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)) or not folder.is_dir():
            continue
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            continue  # not a folder this user's runs made
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


def embed_all(
    index: DocumentIndex, conversation_id: int, embedder: Embedder, cancel: CancelFlag
) -> tuple[int, int] | None:
    """Embed every ready document of the conversation; (the model's id in the index, passages embedded),
    or None once cancelled."""
    info = embedder.info
    model_id = index.vectors.register(info.identity, info.name, info.dimensions, str(info.path))
    index.vectors.activate(model_id)
    passages = 0
    for document in index.documents(conversation_id):
        if document.status != "ready":
            continue
        if index.vectors.embed_document(document.uid, model_id, embedder, cancel):
            passages += document.chunk_count
        elif cancel.is_set():
            return None
    return model_id, passages


@dataclass(frozen=True)
class DocumentReady:
    """A file was read and indexed into `chunks` passages."""

    name: str
    chunks: int


@dataclass(frozen=True)
class DocumentProblem:
    """A file could not be used; `message` says why, for the person. The other files go on."""

    name: str
    message: str


@dataclass(frozen=True)
class SemanticReady:
    """Passages are searched by meaning too: `passages` were embedded with the model `name`."""

    name: str
    passages: int


@dataclass(frozen=True)
class SemanticProblem:
    """The embedding model cannot be used (`message` says why); the answer searches by words only."""

    message: str


@dataclass(frozen=True)
class BrowserUnavailable:
    """--tools browser with a model that is not gpt-oss: `message` says so; the documents answer as usual."""

    message: str
