"""Extraction from real files: pages, headings and line numbers kept; bad files refused in words a person reads."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from gptoss_desktop.core.documents import extract as extract_module
from gptoss_desktop.core.documents.extract import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    ExtractionCancelled,
    ExtractionError,
    extract,
    kind_of,
)
from gptoss_desktop.core.documents.formats import docx as formats_docx
from gptoss_desktop.core.documents.types import TextSpan
from tests.fixtures.documents import (
    write_docx,
    write_encrypted_pdf,
    write_image_pdf,
    write_pdf,
    write_zip,
    write_zip_bomb,
)


def refusal(path: Path) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract(path)
    return str(caught.value)


def page_text(number: int) -> str:
    return f"Page {number} of the lease.\nThe tenant pays rent on day {number}."


# PDF


def test_pdf_pages_keep_their_numbers_and_text(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "lease.pdf", [page_text(n) for n in range(1, 6)])
    doc = extract(path)
    assert (doc.name, doc.kind, doc.size_bytes) == ("lease.pdf", "pdf", path.stat().st_size)
    assert [span.page for span in doc.spans] == [1, 2, 3, 4, 5]
    assert doc.spans[2] == TextSpan(page_text(3), page=3)


def test_pdf_blank_page_is_left_out_and_later_pages_keep_their_numbers(tmp_path: Path) -> None:
    doc = extract(write_pdf(tmp_path / "a.pdf", ["Café « crème » (1) \\ naïve", "", "Last page"]))
    assert doc.spans == (TextSpan("Café « crème » (1) \\ naïve", page=1), TextSpan("Last page", page=3))


def test_pdf_content_wins_over_a_wrong_suffix(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "minutes.txt", ["Minutes of the meeting"])
    assert kind_of(path) == "pdf"
    assert extract(path).spans == (TextSpan("Minutes of the meeting", page=1),)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "salary.pdf", ["Confidential"])
    assert refusal(path) == "salary.pdf is password-protected"


def test_scanned_pdf_is_refused(tmp_path: Path) -> None:
    path = write_image_pdf(tmp_path / "scan.pdf")
    assert refusal(path) == "scan.pdf has no text layer (a scan?); text recognition is not supported"


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\nthis is not a PDF body at all\n", b"Just some notes, named .pdf by mistake.\n"],
    ids=["damaged", "not-a-pdf"],
)
def test_unreadable_pdf_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    assert refusal(path) == "broken.pdf is not a readable PDF"


def test_pdf_is_read_page_by_page_and_cancel_is_polled_per_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "long.pdf", [page_text(n) for n in range(1, 301)])
    polls = 0

    def cancel() -> bool:
        nonlocal polls
        polls += 1
        return False

    assert len(extract(path, cancel).spans) == 300
    assert polls >= 300

    polls = 0

    def cancel_at_page_10() -> bool:
        nonlocal polls
        polls += 1
        return polls > 10

    with pytest.raises(ExtractionCancelled, match=r"^Reading long\.pdf was cancelled$") as caught:
        extract(path, cancel_at_page_10)
    assert isinstance(caught.value, ExtractionError)
    assert polls == 11


def test_pdfs_extracted_on_several_threads_at_once(tmp_path: Path) -> None:
    """PDFium is not thread-safe; extraction serializes it, so concurrent workers get right results."""
    paths = [write_pdf(tmp_path / f"doc{i}.pdf", [f"Document {i} page {n}" for n in range(1, 41)]) for i in range(4)]
    results: dict[int, list[str]] = {}

    def work(i: int) -> None:
        results[i] = [span.text for span in extract(paths[i]).spans]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: [f"Document {i} page {n}" for n in range(1, 41)] for i in range(4)}


# Word


def test_docx_sections_under_headings_with_table_rows(tmp_path: Path) -> None:
    doc = extract(write_docx(tmp_path / "contract.docx"))
    assert doc.kind == "docx"
    assert doc.spans == (
        TextSpan("Prepared for the board, March 2025."),
        TextSpan(
            "Introduction\nThis agreement sets out the terms of supply.\nBoth parties agree to them.",
            heading="Introduction",
        ),
        TextSpan(
            "Prices\nThe prices below exclude VAT.\nItem | Qty | Price\nBolts | 100 | €12.50\nNuts | 250 | €8",
            heading="Prices",
        ),
        TextSpan("Termination\nEither party may end this agreement with 30 days' notice.", heading="Termination"),
    )


def test_docx_heading_styles_based_on_headings_and_content_controls(tmp_path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement

    document = docx.Document()
    chapter = document.styles.add_style("Chapter", WD_STYLE_TYPE.PARAGRAPH)
    chapter.base_style = document.styles["Heading 1"]
    document.add_paragraph("Chapter one", style="Chapter")
    boxed = document.add_paragraph("Text in a content control.")
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    boxed._p.addprevious(sdt)
    sdt.append(content)
    content.append(boxed._p)
    document.add_paragraph("Plain text after it.")
    document.save(str(tmp_path / "book.docx"))
    assert extract(tmp_path / "book.docx").spans == (
        TextSpan("Chapter one\nText in a content control.\nPlain text after it.", heading="Chapter one"),
    )


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_zip_bomb(tmp_path / "bomb.docx")
    assert path.stat().st_size < 100_000
    assert re.fullmatch(
        r"bomb\.docx looks like a zip bomb: word/document\.xml is compressed 1\d\d\d to 1", refusal(path)
    )


def test_docx_that_unpacks_to_too_much_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats_docx, "MAX_UNPACKED_BYTES", 20_000)
    path = write_docx(tmp_path / "big.docx")
    message = refusal(path)
    assert message.startswith("big.docx looks like a zip bomb: it unpacks to ")
    assert message.endswith(" kB; the limit is 20 kB")


@pytest.mark.parametrize(
    "members",
    [None, {"xl/workbook.xml": b"<workbook/>"}, {"word/document.xml": b"<not really/>"}],
    ids=["not-a-zip", "a-spreadsheet", "no-package-parts"],
)
def test_unreadable_docx_is_refused(tmp_path: Path, members: dict[str, bytes] | None) -> None:
    path = tmp_path / "letter.docx"
    if members is None:
        path.write_text("Dear Sir,\n")
    else:
        write_zip(path, members)
    assert refusal(path) == "letter.docx is not a readable Word document"


def test_old_word_document_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "memo.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert refusal(path) == "memo.doc is an old Word document (.doc); save it as .docx in Word and add that"


# HTML, Markdown, CSV


def test_html_text_without_scripts_with_headings(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<!doctype html><html><head><title>Rental terms</title><style>p { color: red }</style>"
        '<script>alert("x")</script><link rel="stylesheet" href="https://example.com/a.css"></head>'
        "<body><p>Read this first &amp; keep it.</p>"
        "<h1>Deposit</h1><p>Two months'\n   rent,<br>paid   before moving in.</p>"
        '<img src="https://example.com/tracker.png"><ul><li>cash</li><li>transfer</li></ul>'
        "<h2>Fees</h2><table><tr><th>Item</th><th>Fee</th></tr><tr><td>Key</td><td>€20</td></tr></table>"
        "<pre>line 1\n    indented\n</pre><noscript>Enable JavaScript</noscript></body></html>",
        encoding="utf-8",
    )
    doc = extract(path)
    assert doc.kind == "html"
    assert doc.spans == (
        TextSpan("Read this first & keep it.", heading="Rental terms"),
        TextSpan("Deposit\n\nTwo months' rent,\npaid before moving in.\n\n- cash\n- transfer", heading="Deposit"),
        TextSpan("Fees\n\nItem | Fee\nKey | €20\n\nline 1\n    indented", heading="Fees"),
    )


def test_html_declared_charset_is_used_when_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "prices.html"
    path.write_bytes('<meta charset="iso-8859-15"><p>Prix : 12 € - très bien</p>'.encode("iso-8859-15"))
    assert extract(path).spans == (TextSpan("Prix : 12 € - très bien"),)


def test_html_with_only_a_script_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "app.htm"
    path.write_text("<html><body><script>render()</script></body></html>")
    assert refusal(path) == "app.htm is empty"


def test_markdown_sections_keep_heading_and_first_line(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    lines = [
        "---",  # 1
        "title: Notes",
        "---",
        "Intro text.",
        "",  # 5
        "# Install",
        "Run the installer.",
        "```sh",
        "# not a heading: a shell comment",
        "make install",  # 10
        "```",
        "",
        "Usage",
        "=====",
        "Start it. ##",  # 15
        "",
        "## Options ##",
        "- `--home DIR`",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = extract(path)
    assert doc.kind == "markdown"
    assert [(span.line, span.heading) for span in doc.spans] == [
        (1, None),
        (6, "Install"),
        (13, "Usage"),
        (17, "Options"),
    ]
    assert doc.spans[1].text == "\n".join(lines[5:11])
    assert doc.spans[3].text == "## Options ##\n- `--home DIR`"


def test_csv_rows_under_header_names_with_line_numbers(tmp_path: Path) -> None:
    rows = ["name,city,amount"] + [f'Person {n},"Paris, FR",{n * 10}' for n in range(1, 121)]
    path = tmp_path / "payments.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = extract(path)
    assert doc.kind == "csv"
    assert [span.line for span in doc.spans] == [2, 52, 102]
    first_lines = [span.text.split("\n")[0] for span in doc.spans]
    assert first_lines[1] == "name: Person 51 | city: Paris, FR | amount: 510"
    assert doc.spans[2].text.split("\n")[-1] == "name: Person 120 | city: Paris, FR | amount: 1200"  # line 121
    assert doc.spans[2].text.count("\n") == 121 - 102


def test_csv_semicolons_empty_cells_and_a_field_over_two_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes('Name;Note;Sum\nAnna;"first\nsecond";5\nBen;;7\nCara;ok;9\n'.encode("cp1252"))
    doc = extract(path)
    assert doc.spans == (
        TextSpan("Name: Anna | Note: first second | Sum: 5", line=2),
        TextSpan("Name: Ben | Sum: 7\nName: Cara | Note: ok | Sum: 9", line=4),
    )


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv"
    path.write_text("a\tb, c\n1\t2, 3\n", encoding="utf-8")
    assert extract(path).spans == (TextSpan("a: 1 | b, c: 2, 3", line=2),)


# Text and code


def test_code_in_runs_of_80_lines_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_text("".join(f"value_{n} = {n}\r\n" for n in range(1, 201)), encoding="utf-8")
    doc = extract(path)
    assert doc.kind == "code"
    assert [span.line for span in doc.spans] == [1, 81, 161]
    assert doc.spans[1].text.split("\n")[0] == "value_81 = 81"
    assert doc.spans[2].text.split("\n")[-1] == "value_200 = 200"


def test_text_that_mentions_the_pdf_header_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("A PDF starts with %PDF-1.7 and ends with %%EOF.\n", encoding="utf-8")
    assert kind_of(path) == "markdown"


def test_text_file_without_a_known_suffix_is_text(tmp_path: Path) -> None:
    path = tmp_path / "NOTICE"
    path.write_text("Copyright 2025\n", encoding="utf-8")
    assert kind_of(path) == "text"
    assert extract(path).spans == (TextSpan("Copyright 2025", line=1),)


def test_binary_renamed_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40)
    assert refusal(path) == "notes.txt is not a text file"


def test_binary_without_a_known_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    write_zip(path, {"xl/workbook.xml": b"<workbook/>"})
    assert refusal(path) == (
        "budget.xlsx is not a kind of file that can be read "
        "(supported: PDF, Word (.docx), HTML, Markdown, CSV, plain text and source code)"
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Grüße aus Köln, café crème.\n".encode("cp1252"), "Grüße aus Köln, café crème."),
        ("Привет, как дела? Это тест.\n".encode("cp1251"), "Привет, как дела? Это тест."),
        (b"\xef\xbb\xbfWith a BOM\n", "With a BOM"),
        ("UTF-16 with a BOM\n".encode("utf-16"), "UTF-16 with a BOM"),
    ],
    ids=["windows-1252", "windows-1251", "utf-8-bom", "utf-16"],
)
def test_text_encodings(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "letter.txt"
    path.write_bytes(data)
    assert extract(path).spans == (TextSpan(text, line=1),)


def test_invalid_utf8_is_read_anyway(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("Total: 12 €\n".encode() + b"broken \xff\xfe\xfa bytes\nlast line\n")
    lines = extract(path).spans[0].text.split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("Total: 12 ")
    assert lines[2] == "last line"


@pytest.mark.parametrize("content", [b"", b"  \n\t\n \r\n"], ids=["no-bytes", "whitespace"])
@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.pdf", "empty.csv"])
def test_empty_file_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert refusal(path) == (
        f"{name} is not a readable PDF" if content and name.endswith(".pdf") else f"{name} is empty"
    )


# Limits and the file system


def test_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as file:
        file.truncate(512_000_000)  # sparse: no disk used, and nothing may read it
    assert MAX_FILE_BYTES == 200_000_000
    assert refusal(path) == "huge.pdf is 512 MB; the limit is 200 MB"


def test_limit_is_read_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "MAX_FILE_BYTES", 1_000)
    path = tmp_path / "notes.txt"
    path.write_text("x" * 1_500)
    assert refusal(path) == "notes.txt is 1.5 kB; the limit is 1 kB"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert refusal(tmp_path / "gone.pdf") == "gone.pdf was not found; was it moved or deleted?"
    (tmp_path / "reports").mkdir()
    assert refusal(tmp_path / "reports") == "reports is a folder; add the files in it instead"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("c.HTM", "html"),
        ("d.markdown", "markdown"),
        ("e.tsv", "csv"),
        ("f.log", "text"),
        ("g.rs", "code"),
        ("h.yaml", "code"),
        ("i.sql", "code"),
        ("j.tsx", "code"),
        ("Makefile", "text"),
        ("k.svg", "text"),
    ],
)
def test_kind_of_text_files(tmp_path: Path, name: str, kind: str) -> None:
    path = tmp_path / name
    path.write_text("some text\n")
    assert kind_of(path) == kind
    assert (path.suffix.lower() in SUPPORTED_SUFFIXES) == (name not in ("Makefile", "k.svg"))
