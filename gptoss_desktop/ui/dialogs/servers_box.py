"""Preferences ▸ Servers: the servers offered under "Runs on", and Forget for one no longer wanted.

Forgetting takes effect with OK: the server leaves the dropdown and its API key leaves the
keyring (unless another saved model on the same address still needs it). Conversations that
ran there keep their history and still name it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from ...core.remote.profile import ServerProfile

EMPTY_TEXT = "No servers yet: Runs on ▸ Connect to a Server… adds one."


class ServersBox(QGroupBox):
    """The saved servers; `servers` is what is left after Forget."""

    def __init__(self, servers: tuple[ServerProfile, ...]) -> None:
        super().__init__("Se&rvers")
        self.list = QListWidget()
        self.list.setAccessibleName("Saved servers")
        self.list.setMaximumHeight(self.list.fontMetrics().lineSpacing() * 5)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the tooltip has the whole address
        self.forget = QPushButton("For&get")
        self.forget.setAccessibleName("Forget the selected server")
        self.forget.setToolTip("Remove it from Runs on and delete its API key from the keyring")
        self.forget.setEnabled(False)
        self.empty = QLabel(EMPTY_TEXT)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addWidget(self.forget, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.empty)
        for server in servers:
            item = QListWidgetItem(server.label)
            item.setData(Qt.ItemDataRole.UserRole, server)
            item.setToolTip(f"{server.base_url}: runs {server.where}")
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._on_selected)
        self.forget.clicked.connect(self._forget_selected)
        self._show_empty()

    @property
    def servers(self) -> tuple[ServerProfile, ...]:
        """The servers still saved, in their order."""
        return tuple(self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count()))

    def _show_empty(self) -> None:
        empty = self.list.count() == 0
        self.list.setVisible(not empty)
        self.forget.setVisible(not empty)
        self.empty.setVisible(empty)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_selected(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        self.forget.setEnabled(current is not None)

    @Slot()
    def _forget_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
        self.forget.setEnabled(self.list.currentItem() is not None)
        self._show_empty()
