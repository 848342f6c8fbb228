"""The app's look: a few palette-aware rules, so light and dark themes both read well."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

STYLE_SHEET = """
QFrame#userMessage {
    background: palette(alternate-base);
    border: 1px solid palette(midlight);
    border-radius: 10px;
}
QWidget#chatContainer { background: palette(base); }
QFrame#assistantTurn { background: transparent; }
QToolButton#reasoningToggle { color: palette(placeholder-text); border: none; padding: 2px; }
QTextEdit#reasoningText {
    background: transparent;
    border-left: 3px solid palette(midlight);
    padding-left: 6px;
}
QTextBrowser#answerView { background: transparent; }
QLabel#turnNotice { color: palette(placeholder-text); font-style: italic; }
QLabel#placeholder { color: palette(placeholder-text); }
QPlainTextEdit#messageEdit { border: 1px solid palette(mid); border-radius: 8px; padding: 4px; }
"""


def apply_style(app: QApplication) -> None:
    """Install the style sheet on the whole application."""
    app.setStyleSheet(STYLE_SHEET)
