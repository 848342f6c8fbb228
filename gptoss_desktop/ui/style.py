"""The app's look: theme (light / dark / the system's), font size, and a few palette-aware rules."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.settings import Settings, Theme

STYLE_SHEET = """
QFrame#userMessage {
    background: palette(alternate-base);
    border: 1px solid palette(midlight);
    border-radius: 12px;
}
QWidget#chatContainer, QWidget#readingColumn, QWidget#composerColumn, QWidget#documentStrip {
    background: palette(base);
}
QFrame#assistantTurn { background: transparent; }
QToolButton#reasoningToggle { color: palette(placeholder-text); border: none; padding: 2px 0px; }
QTextEdit#reasoningText { color: palette(placeholder-text); }
QFrame#reasoningPart { border: none; border-left: 3px solid palette(midlight); padding-left: 8px; }
QFrame#toolStep { border-left: 3px solid palette(midlight); }
QToolButton#toolStepToggle { color: palette(placeholder-text); border: none; padding: 1px 0px; }
QTextEdit#toolCode, QPlainTextEdit#toolOutput {
    background: palette(alternate-base);
    border: none;
    border-radius: 4px;
}
QPlainTextEdit#toolOutput { color: palette(placeholder-text); }
QFrame#toolApproval, QFrame#sandboxProblem {
    background: palette(base);
    border: 1px solid palette(highlight);
    border-radius: 8px;
}
QLabel#turnFiles { padding-top: 2px; }
QLabel#turnNotice { color: palette(placeholder-text); font-style: italic; }
QLabel#turnAdapters, QLabel#adapterDetails { color: palette(placeholder-text); }
QLabel#turnSources { padding-top: 2px; }
QLabel#placeholder { color: palette(placeholder-text); }
QToolButton#turnAction, QToolButton#versionButton {
    color: palette(placeholder-text);
    border: none;
    border-radius: 4px;
    padding: 2px 6px;
}
QToolButton#turnAction:hover, QToolButton#versionButton:hover {
    color: palette(text);
    background: palette(alternate-base);
}
QLabel#versionLabel { color: palette(placeholder-text); }
QWidget#composer { background: palette(base); }
QFrame#composerBox {
    background: palette(base);
    border: 1px solid palette(mid);
    border-radius: 12px;
}
QPlainTextEdit#messageEdit { background: transparent; border: none; }
QComboBox#effortBox, QComboBox#runsOnBox { combobox-popup: 0; }
QLabel#serverBanner {
    background: palette(alternate-base);
    border-bottom: 2px solid palette(highlight);
    padding: 6px 12px;
}
QListWidget#conversationList { border: none; background: transparent; }
QListWidget#conversationList::item { padding: 5px 6px; border-radius: 6px; }
QListWidget#conversationList::item:selected { background: palette(midlight); color: palette(text); }
QListWidget#conversationList::item:hover:!selected { background: palette(alternate-base); }
"""
_Role = QPalette.ColorRole
# Used only where the platform cannot switch scheme itself (offscreen, many Linux desktops).
_DARK = {
    _Role.Window: "#2b2b2b", _Role.WindowText: "#e6e6e6", _Role.Base: "#1e1e1e", _Role.AlternateBase: "#333333",
    _Role.Text: "#e6e6e6", _Role.PlaceholderText: "#9a9a9a", _Role.Button: "#363636", _Role.ButtonText: "#e6e6e6",
    _Role.BrightText: "#ff7070", _Role.Light: "#4a4a4a", _Role.Midlight: "#474747", _Role.Mid: "#5a5a5a",
    _Role.Dark: "#1a1a1a", _Role.Shadow: "#0f0f0f", _Role.Highlight: "#2f6fb3", _Role.HighlightedText: "#ffffff",
    _Role.Link: "#79b8ff", _Role.LinkVisited: "#c4a5ff", _Role.ToolTipBase: "#3a3a3a", _Role.ToolTipText: "#e6e6e6",
    _Role.Accent: "#2f6fb3",
}  # fmt: skip
_LIGHT = {
    _Role.Window: "#efefef", _Role.WindowText: "#1a1a1a", _Role.Base: "#ffffff", _Role.AlternateBase: "#f4f4f4",
    _Role.Text: "#1a1a1a", _Role.PlaceholderText: "#6b6b6b", _Role.Button: "#efefef", _Role.ButtonText: "#1a1a1a",
    _Role.BrightText: "#ffffff", _Role.Light: "#ffffff", _Role.Midlight: "#cacaca", _Role.Mid: "#b8b8b8",
    _Role.Dark: "#9f9f9f", _Role.Shadow: "#767676", _Role.Highlight: "#2a6fba", _Role.HighlightedText: "#ffffff",
    _Role.Link: "#0b57d0", _Role.LinkVisited: "#6a1b9a", _Role.ToolTipBase: "#ffffdc", _Role.ToolTipText: "#000000",
    _Role.Accent: "#2a6fba",
}  # fmt: skip
_DISABLED_TEXT = {"dark": "#7a7a7a", "light": "#8f8f8f"}

# Kept on the application object: the theme last applied, and the style Qt first picked (restored
# whenever the platform can draw the theme itself).
_THEME_PROPERTY = "gptossTheme"
_NATIVE_STYLE_PROPERTY = "gptossNativeStyle"


def apply_style(app: QApplication) -> None:
    """Install (or re-polish) the style sheet, so palette() rules pick up the current colours."""
    app.setStyleSheet(STYLE_SHEET)


def apply_appearance(app: QApplication, settings: Settings) -> None:
    """Apply theme and font size to the running app, live: at start and whenever preferences change.

    Only what changed is touched, since each change re-polishes every widget. The style sheet is
    re-applied after any change: styled widgets keep their old colours and font until then.
    """
    theme_changed = app.property(_THEME_PROPERTY) != settings.theme
    if theme_changed:
        _apply_theme(app, settings.theme)
    font_changed = _apply_font_size(app, settings.font_size)
    if theme_changed or font_changed or app.styleSheet() != STYLE_SHEET:
        apply_style(app)


def system_font_size() -> int:
    """The platform's normal text size in points (what "System default" means)."""
    size = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSize()
    return size if size > 0 else 10  # a pixel-sized system font has no point size


def text_background(palette: QPalette) -> QColor:
    """The colour text sits on: the widget's Base, or the conversation's (the app's Base) where the
    style sheet made the widget transparent, which leaves Base an empty brush whose colour is black."""
    base = palette.brush(_Role.Base)
    if base.style() == Qt.BrushStyle.SolidPattern and base.color().alpha() == 255:
        return base.color()
    return QGuiApplication.palette().color(_Role.Base)


def is_dark(palette: QPalette) -> bool:
    """Whether text sits on a dark background."""
    return text_background(palette).lightness() < 128


def problem_color(palette: QPalette) -> QColor:
    """The red that marks a problem (a refused document), readable on this palette's background."""
    return QColor("#ff8a80" if is_dark(palette) else "#b3261e")


def muted_color(palette: QPalette) -> QColor:
    """Grey for text that says less than the rest (an unverified citation), still readable: at least 4.5:1
    against this palette's background, where the placeholder grey of some styles is about 2.5:1."""
    return QColor("#a6a6a6" if is_dark(palette) else "#6b6b6b")


def _apply_theme(app: QApplication, theme: Theme) -> None:
    app.setProperty(_THEME_PROPERTY, theme)
    app.setStyleSheet("")  # unwraps the style, so its name is the real one; the caller puts the sheet back
    native = app.property(_NATIVE_STYLE_PROPERTY)
    if not isinstance(native, str):
        native = app.style().name()
        app.setProperty(_NATIVE_STYLE_PROPERTY, native)
    if app.style().name() != native:
        app.setStyle(native)
    app.setPalette(QPalette())  # back to the platform's own colours
    hints = app.styleHints()
    if theme == "system":
        hints.unsetColorScheme()
        return
    hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    if is_dark(app.palette()) == (theme == "dark"):
        return  # the platform (or the system's own choice) already gives what was asked
    # The platform ignored the request, or its native style draws only one scheme: Fusion follows any palette.
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(_palette(theme))


def _palette(theme: Theme) -> QPalette:
    palette = QPalette()
    for role, colour in (_DARK if theme == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor(_DISABLED_TEXT[theme])
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def _apply_font_size(app: QApplication, size: int | None) -> bool:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    if size is not None:
        font.setPointSize(size)
    if app.font() == font:
        return False
    app.setFont(font)
    return True
