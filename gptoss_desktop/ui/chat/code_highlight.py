"""Syntax colours for fenced code, laid onto text already in a QTextDocument.

A finished code block is coloured once, by merging Pygments' token colours into
character formats over its range: nothing is re-rendered, so a block costs its
own length, once. The Pygments style follows the palette (light or dark) and
every colour is nudged until it reads against the code's shading.
"""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from pygments.util import ClassNotFound
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor, QTextDocument

from ..style import is_dark

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
#: WCAG contrast a token colour must reach against the code background (4.5 is "normal text" AA).
MIN_CONTRAST = 4.5

#: Languages answers use most. A lexer compiles its regular expressions on first use, up to
#: ~80 ms (python ~60): warmed while the app idles, no streamed answer stalls on them.
COMMON_LANGUAGES = (
    "python", "javascript", "typescript", "bash", "json", "c", "cpp", "java",
    "go", "rust", "sql", "html", "css", "yaml", "diff",
)  # fmt: skip

_StyleKey = tuple[str | None, bool, bool]


@lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer | None:
    """The lexer for a fence's info string (```python), or None: unknown code stays plain."""
    words = language.split()
    if not words:
        return None
    try:
        # No stripping: token offsets must match the text in the document exactly.
        return get_lexer_by_name(words[0].lower(), stripnl=False, stripall=False, ensurenl=False)
    except ClassNotFound:
        return None


def warm_up_lexer(language: str) -> None:
    """Pay a lexer's first-use cost (import, regex compilation) now rather than mid-stream."""
    lexer = lexer_for(language)
    if lexer is not None:
        for _token in lexer.get_tokens_unprocessed("x = 1\n"):
            pass


class LexerWarmUp(QObject):
    """Warms lexers one per timer tick, so each costs one short pause while the app is idle (GUI thread)."""

    finished = Signal()

    def __init__(
        self, parent: QObject | None = None, languages: tuple[str, ...] = COMMON_LANGUAGES, interval_ms: int = 50
    ) -> None:
        super().__init__(parent)
        self._pending = list(languages)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        """Begin warming; `finished` is emitted after the last language."""
        self._timer.start()

    @property
    def done(self) -> bool:
        """True once every language is warm."""
        return not self._pending

    @Slot()
    def _step(self) -> None:
        if self._pending:
            warm_up_lexer(self._pending.pop(0))
        if not self._pending:
            self._timer.stop()
            self.finished.emit()


def _luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 (same) to 21 (black on white)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(color: QColor, background: QColor) -> QColor:
    """`color` with its lightness pushed away from `background` until the contrast is enough."""
    result = QColor(color)
    lighten = background.lightnessF() < 0.5
    for _ in range(20):
        if contrast(result, background) >= MIN_CONTRAST:
            break
        lightness = result.lightnessF()
        lightness = min(1.0, lightness + 0.05) if lighten else max(0.0, lightness - 0.05)
        result = QColor.fromHslF(result.hslHueF(), result.hslSaturationF(), lightness, result.alphaF())
    return result


class CodeHighlighter:
    """Colours code ranges of a document in a Pygments style chosen for one palette."""

    def __init__(self, palette: QPalette) -> None:
        self.style_name = DARK_STYLE if is_dark(palette) else LIGHT_STYLE
        self._style = get_style_by_name(self.style_name)
        self._background = palette.color(QPalette.ColorRole.AlternateBase)
        self._text = palette.color(QPalette.ColorRole.Text)
        self._by_token: dict[_TokenType, QTextCharFormat | None] = {}
        self._by_key: dict[_StyleKey, QTextCharFormat | None] = {}

    def highlight(self, document: QTextDocument, start: int, text: str, language: str, reset: bool = False) -> bool:
        """Colour `text`, which sits at `start` in `document`; False when the language is unknown.

        `reset` first puts the whole range back to plain text colour (for a change of palette).
        """
        lexer = lexer_for(language)
        cursor = QTextCursor(document)
        if reset:
            plain = QTextCharFormat()
            plain.setForeground(self._text)
            plain.setFontWeight(QFont.Weight.Normal)
            plain.setFontItalic(False)
            self._apply(cursor, start, start + len(text), plain)
        if lexer is None:
            return False
        run_start, run_end, run_format = 0, 0, None
        for offset, token, value in lexer.get_tokens_unprocessed(text):
            token_format = self._format(token)
            if token_format is not run_format or offset != run_end:
                if run_format is not None:
                    self._apply(cursor, start + run_start, start + run_end, run_format)
                run_start, run_format = offset, token_format
            run_end = offset + len(value)
        if run_format is not None:
            self._apply(cursor, start + run_start, start + run_end, run_format)
        return True

    @staticmethod
    def _apply(cursor: QTextCursor, start: int, end: int, char_format: QTextCharFormat) -> None:
        if end <= start:
            return
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(char_format)

    def _format(self, token: _TokenType) -> QTextCharFormat | None:
        """The format for a token type, shared by all types that look the same (so runs merge)."""
        if token in self._by_token:
            return self._by_token[token]
        style = self._style.style_for_token(token)
        key: _StyleKey = (style["color"], bool(style["bold"]), bool(style["italic"]))
        if key not in self._by_key:
            self._by_key[key] = self._make_format(*key)
        self._by_token[token] = self._by_key[key]
        return self._by_key[key]

    def _make_format(self, color: str | None, bold: bool, italic: bool) -> QTextCharFormat | None:
        if color is None and not bold and not italic:
            return None
        char_format = QTextCharFormat()
        if color is not None:
            char_format.setForeground(readable(QColor(f"#{color}"), self._background))
        if bold:
            char_format.setFontWeight(QFont.Weight.Bold)
        if italic:
            char_format.setFontItalic(True)
        return char_format
