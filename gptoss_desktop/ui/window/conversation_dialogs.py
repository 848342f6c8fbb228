"""The shown conversation's own windows: its settings (from its model's defaults) and its answers' prompts."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from ...core.history.transcript import TranscriptMessage
from ...core.sampling import CHAT_SAMPLING, GPT_OSS_SAMPLING, SamplingParams
from ...services.chat_service import ChatService
from ..chat.chat_session import ChatSession
from ..dialogs.conversation_settings import ConversationSettingsDialog
from ..dialogs.prompt_inspector import PromptInspector
from .status_line import StatusLine
from .where_it_runs import WhereItRuns


class ConversationDialogs(QObject):
    """Opens Conversation Settings and the prompt inspector for the shown conversation (GUI thread)."""

    def __init__(
        self, parent: QWidget, chat: ChatService, session: ChatSession, where: WhereItRuns, status: StatusLine
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._chat = chat
        self._session = session
        self._where = where
        self._status = status
        session.model_sampling = self.model_sampling
        session.prompt_ready.connect(self._show_prompt)

    def model_sampling(self) -> SamplingParams:
        """What the shown conversation's model samples with unless told otherwise: the loaded model's defaults,
        or, on a server, OpenAI's for gpt-oss and chat defaults for others."""
        info = self._chat.model_info
        if self._session.settings.server is None:
            return info.sampling if info is not None else GPT_OSS_SAMPLING
        return GPT_OSS_SAMPLING if self._where.reasoning_supported else CHAT_SAMPLING

    @Slot()
    def edit_settings(self) -> None:
        """This conversation's instructions, effort and sampling (from the model's defaults)."""
        info = self._chat.model_info
        local = self._session.settings.server is None and info is not None
        dialog = ConversationSettingsDialog(
            self._session.settings,
            self._parent,
            defaults=self.model_sampling(),
            model=info.name if local and info is not None else self._where.model_name,
            reasoning_supported=self._where.reasoning_supported,
        )
        if dialog.exec():
            self._session.update_settings(dialog.conversation_settings())
        dialog.deleteLater()

    @Slot()
    def show_last_prompt(self) -> None:
        """Conversation ▸ Show the Prompt of the Last Answer."""
        last = self._session.transcript.last_answer
        if last is None:
            self._status.say("No answer yet: the prompt is shown once the model has answered.", 5000)
            return
        self._session.show_prompt(last.uid)

    @Slot(object)
    def _show_prompt(self, message: TranscriptMessage) -> None:
        inspector = PromptInspector(message, self._parent)
        inspector.copied.connect(lambda text: self._status.say(text, 3000))
        inspector.show()
