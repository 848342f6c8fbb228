"""Word (.docx) documents into one span per section under a heading, tables as " | "-separated rows.

A .docx is a zip, and a zip can unpack to far more than it weighs; python-docx reads every
part into memory. So the zip's own directory is checked before python-docx sees the file.
Body text and tables are read, including those in content controls; headers, footers,
footnotes, comments and text boxes are not.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.oxml.ns import qn
from lxml import etree  # type: ignore[import-untyped]

from ..types import ExtractionError, TextSpan
from .common import Cancel, check_cancel, size_text

#: Most bytes all parts may unpack to (images count at about their size, text XML at 5-20 times).
MAX_UNPACKED_BYTES = 300_000_000
#: Most bytes the XML parts may unpack to: python-docx holds them as trees of several times that.
MAX_XML_BYTES = 100_000_000
#: A part compressed more than MAX_RATIO to 1 is refused once it unpacks to MIN_SUSPECT_BYTES or more:
#: Word's own XML compresses 5 to 20 to 1; runs of one byte, what bombs are made of, about 1000.
MAX_RATIO = 100
MIN_SUSPECT_BYTES = 1_000_000
#: Blocks (paragraphs, tables) read between two cancel checks.
_CANCEL_EVERY = 200

_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_SDT, _SDT_CONTENT, _CUSTOM_XML = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")


def docx_spans(path: Path, name: str, cancel: Cancel) -> list[TextSpan]:
    """Sections in reading order: each heading starts one, and is its first line and its `heading`."""
    check_zip(path, name)
    check_cancel(cancel, name)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx and lxml raise many kinds of error on a damaged package
        raise ExtractionError(f"{name} is not a readable Word document") from exc
    _drop_entity_references(document.element.body)
    headings = {style.style_id for style in document.styles if _is_heading(style)}
    spans: list[TextSpan] = []
    lines: list[str] = []
    heading: str | None = None
    for count, block in enumerate(_blocks(document.element.body)):
        if count % _CANCEL_EVERY == 0:
            check_cancel(cancel, name)
        if block.tag == _TBL:
            lines.extend(_table_rows(block))
            continue
        text: str = block.text
        if block.style in headings and text.strip():
            _add_section(spans, lines, heading)
            heading, lines = text.strip(), []
        lines.append(text)
    _add_section(spans, lines, heading)
    return spans


def check_zip(path: Path, name: str) -> None:
    """Refuse a file that is not a zip with a Word body, or that would unpack to too much."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ExtractionError(f"{name} is not a readable Word document") from exc
    if not any(member.filename == "word/document.xml" for member in members):
        raise ExtractionError(f"{name} is not a readable Word document")
    bomb = f"{name} looks like a zip bomb"
    for member in members:
        if member.file_size >= MIN_SUSPECT_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            ratio = member.file_size // max(member.compress_size, 1)
            raise ExtractionError(f"{bomb}: {member.filename} is compressed {ratio} to 1")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ExtractionError(
            f"{bomb}: it unpacks to {size_text(unpacked)}; the limit is {size_text(MAX_UNPACKED_BYTES)}"
        )
    xml = sum(member.file_size for member in members if member.filename.endswith((".xml", ".rels")))
    if xml > MAX_XML_BYTES:
        raise ExtractionError(f"{bomb}: its text unpacks to {size_text(xml)}; the limit is {size_text(MAX_XML_BYTES)}")


def _drop_entity_references(body: Any) -> None:
    """Take out entity references the parser left unresolved (it resolves none: no XXE), keeping the text
    after each; python-docx reads a `w:t` only up to the first one, so the rest of the run was lost."""
    for entity in list(body.iter(etree.Entity)):
        parent, previous = entity.getparent(), entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + (entity.tail or "")
        else:
            parent.text = (parent.text or "") + (entity.tail or "")
        parent.remove(entity)


def _is_heading(style: Any) -> bool:
    """Word's "Heading 1" to "Heading 9" and "Title" (in English whatever Word's language), or a style based on one."""
    for _ in range(10):  # base styles can form a loop in a damaged file
        if style is None:
            return False
        words = (style.name or "").split()
        if style.name == "Title" or (len(words) == 2 and words[0] == "Heading" and words[1].isdigit()):
            return True
        style = getattr(style, "base_style", None)
    return False


def _blocks(container: Any) -> Iterator[Any]:
    """The paragraphs (w:p) and tables (w:tbl) of the body in order, looking inside content controls."""
    for child in container.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag == _SDT:
            for content in child.iterchildren(_SDT_CONTENT):
                yield from _blocks(content)
        elif child.tag == _CUSTOM_XML:
            yield from _blocks(child)


def _table_rows(table: Any) -> Iterator[str]:
    """One line per row, cells joined by " | "; a merged cell once; a table inside a cell flattened into it."""
    for row in table.iterchildren(_TR):
        cells = (" ".join(" ".join(p.text.split()) for p in cell.iter(_P)) for cell in row.iterchildren(_TC))
        line = " | ".join(cells)
        if line.replace("|", "").strip():
            yield line


def _add_section(spans: list[TextSpan], lines: list[str], heading: str | None) -> None:
    text = "\n".join(line.rstrip() for line in lines).strip()
    if text:
        spans.append(TextSpan(text, heading=heading))
