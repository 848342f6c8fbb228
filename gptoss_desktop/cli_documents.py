"""`gptoss-desktop chat --doc FILE …`: answer from documents in the terminal, with the sources cited.

The files are indexed into a temporary database that is gone when the command ends;
the person's conversation history is not touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .core.cancel import CancelFlag
from .core.chat_engine import ChatEngine
from .core.documents.answer import DocumentEvent, answer_with_documents
from .core.documents.ingest import ingest
from .core.events import Failed
from .core.harmony import Conversation
from .core.sampling import SamplingParams
from .core.storage import Store


def document_events(
    files: Sequence[str],
    engine: ChatEngine,
    conversation: Conversation,
    sampling: SamplingParams,
    cancel: CancelFlag,
) -> Iterator[DocumentEvent | DocumentProblem | DocumentReady]:
    """Index each file (a bad one is reported and skipped), then answer from those that could be read."""
    with tempfile.TemporaryDirectory(prefix="gptoss-documents-") as folder:
        store = Store(Path(folder) / "documents.db")
        try:
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
            yield from answer_with_documents(
                engine, conversation, store.document_index.source(conversation_id), sampling, cancel
            )
        finally:
            store.close()


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
