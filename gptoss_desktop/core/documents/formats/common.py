"""What every format reader shares: the cancel check, and bytes to text when nobody says the encoding."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from ..types import ExtractionError

#: Polled between pages or sections; True stops the extraction.
Cancel = Callable[[], bool] | None

#: How much of a file that is not UTF-8 is looked at to guess its encoding.
_GUESS_SAMPLE = 1 << 20
#: Guesses this close to the best one count as ties, which Windows-1252 wins (see `_guess_encoding`).
_TIE = 0.1
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class ExtractionCancelled(ExtractionError):  # noqa: N818 - the name callers catch; a cancel is no fault of the file
    """The person cancelled the extraction; not a fault of the file."""


def size_text(n: int) -> str:
    """A size in decimal units, as file managers show it: "512 MB", "1.5 GB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return "1 byte" if n == 1 else f"{n} bytes"


def check_cancel(cancel: Cancel, name: str) -> None:
    """Raise ExtractionCancelled once `cancel` says so."""
    if cancel is not None and cancel():
        raise ExtractionCancelled(f"Reading {name} was cancelled")


def bom_encoding(data: bytes) -> str | None:
    """The Unicode encoding a byte-order mark announces, if the data starts with one."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode_text(data: bytes) -> str:
    """Text from bytes: by BOM, else UTF-8, else a declared HTML charset, else a guess; never fails.

    Line ends become "\\n" and NUL characters are dropped, so line numbers match what an editor shows
    and no NUL reaches SQLite.
    """
    text = _decode(data)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def _decode(data: bytes) -> str:
    encoding = bom_encoding(data)
    if encoding is not None:
        return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_CHARSET.search(data, 0, 4096)
    if declared is not None:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode(_guess_encoding(data), errors="replace")


def _guess_encoding(data: bytes) -> str:
    """charset-normalizer's guess from the first MiB, with ties going to Windows-1252.

    Short Western texts decode equally well in several code pages, and charset-normalizer then
    prefers, say, cp1250 ("crčme" for "crème"). What old Notepad and Excel wrote on Western
    Windows is cp1252, so among guesses as good as the best it wins; a Russian cp1251 or a
    Japanese Shift-JIS file is guessed as such. Nothing found: UTF-8 with replacement characters.
    """
    import charset_normalizer  # here: it costs 40 ms to import, and most files are UTF-8

    sample = data[:_GUESS_SAMPLE]
    if len(data) > _GUESS_SAMPLE and (end := sample.rfind(b"\n")) > 0:
        sample = sample[:end]  # a whole line: no multi-byte character cut in two
    matches = list(charset_normalizer.from_bytes(sample))
    if not matches:
        return "utf-8"
    best = matches[0]
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + _TIE and match.coherence >= best.coherence - _TIE:
            return "cp1252"
    return best.encoding
