"""File bytes → raw text, one reader per format; every refusal is a ``core.errors`` error.

Readers only extract text (and what the file says about itself: a title, a date); cleaning
comes after. Parsing libraries are imported inside the readers, never at import time.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass, field

from core.documents import READABLE_SUFFIXES
from core.errors import EmptyDocument, UnreadableFile, UnsupportedFormat
from ingest.decoding import NotText, declared_charset, decode_text

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = READABLE_SUFFIXES

MAX_ZIP_RATIO = 100
"""Largest compression ratio accepted for a big member of a .docx (zip bombs go far beyond)."""
MAX_ZIP_MEMBERS = 5000
_RATIO_FLOOR = 1 << 20  # members smaller than 1 MiB unpacked may compress as well as they like


@dataclass(frozen=True, slots=True)
class RawText:
    """What a reader extracted: the text, its format, and hints (title, date, source…)."""

    text: str
    fmt: str  # "text" | "markdown" | "html" | "pdf" | "docx"
    hints: dict[str, str] = field(default_factory=dict)


def suffix_of(name: str) -> str:
    """The lower-case extension of a file name (``.pdf``), or ``""``."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def is_supported(name: str) -> bool:
    """True when ingestion has a reader for this file name's extension."""
    return suffix_of(name) in SUPPORTED_SUFFIXES


def unsupported(file_name: str) -> UnsupportedFormat:
    """The error for a file type ingestion has no reader for."""
    return UnsupportedFormat(
        file_name, f"unsupported file type {suffix_of(file_name) or '(none)'}", reason="unsupported"
    )


def read_text(data: bytes, file_name: str, *, max_unpacked: int) -> RawText:
    """Extract raw text from the bytes of ``file_name`` according to its extension.

    ``max_unpacked`` bounds what an archive-based format (.docx) may expand to.
    """
    suffix = suffix_of(file_name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(file_name)
    if not data.strip():
        raise EmptyDocument(file_name, "the file is empty", reason="empty")
    if suffix == ".pdf":
        return _read_pdf(data, file_name)
    if suffix == ".docx":
        return _read_docx(data, file_name, max_unpacked)
    if suffix in {".html", ".htm"}:
        return RawText(_decode(data, file_name, prefer=declared_charset(data)), "html")
    fmt = "markdown" if suffix in {".md", ".markdown"} else "text"
    return RawText(_decode(data, file_name), fmt)


def _decode(data: bytes, file_name: str, prefer: str | None = None) -> str:
    try:
        text, encoding = decode_text(data, prefer=prefer)
    except NotText as exc:
        raise UnreadableFile(file_name, f"not a text file ({exc})", reason="binary") from exc
    log.debug("decoded file=%s encoding=%s", file_name, encoding)
    return text


def _read_pdf(data: bytes, file_name: str) -> RawText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise UnreadableFile(file_name, "not a PDF file (no %PDF header)", reason="corrupt_pdf")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile(file_name, "the PDF is password-protected", reason="encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        info: dict[str, object] = dict(reader.metadata or {})
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableFile(file_name, f"corrupt PDF ({exc})", reason="corrupt_pdf") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        if "crypt" in type(exc).__name__.lower() or "crypt" in str(exc).lower():
            raise UnreadableFile(
                file_name, f"cannot decrypt the PDF ({exc})", reason="encrypted"
            ) from exc
        raise UnreadableFile(file_name, f"corrupt PDF ({exc})", reason="corrupt_pdf") from exc
    if not pages:
        raise UnreadableFile(file_name, "the PDF has no pages", reason="corrupt_pdf")
    text = "\n".join(pages)
    if not text.strip():
        raise EmptyDocument(
            file_name, "the PDF has no text layer (scanned images?)", reason="no_text_layer"
        )
    hints = {}
    title = str(info.get("/Title") or "").strip()
    if title:
        hints["title"] = title
    return RawText(text, "pdf", hints)


def check_zip(data: bytes, file_name: str, *, max_unpacked: int) -> None:
    """Refuse an archive whose declared sizes could exhaust memory: too many members, more
    than ``max_unpacked`` bytes in all, or a big member compressed beyond
    :data:`MAX_ZIP_RATIO` to 1. Only the central directory is read; nothing is extracted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(
            file_name, f"not a valid .docx ({exc})", reason="corrupt_docx"
        ) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableFile(file_name, f"{len(members)} archive members", reason="zip_bomb")
    total = sum(member.file_size for member in members)
    if total > max_unpacked:
        raise UnreadableFile(
            file_name, f"unpacks to {total} bytes (limit {max_unpacked})", reason="zip_bomb"
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > MAX_ZIP_RATIO:
                raise UnreadableFile(
                    file_name,
                    f"member {member.filename} compressed {ratio:.0f}:1",
                    reason="zip_bomb",
                )


def _read_docx(data: bytes, file_name: str, max_unpacked: int) -> RawText:
    check_zip(data, file_name, max_unpacked=max_unpacked)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        lines = _docx_lines(document)
        title = (document.core_properties.title or "").strip()
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableFile(
            file_name, f"not a valid .docx ({exc})", reason="corrupt_docx"
        ) from exc
    except Exception as exc:  # lxml and python-docx raise assorted errors on damaged parts
        raise UnreadableFile(
            file_name, f"not a valid .docx ({exc})", reason="corrupt_docx"
        ) from exc
    hints = {"title": title} if title else {}
    return RawText("\n\n".join(lines), "docx", hints)


def _docx_lines(document: object) -> list[str]:
    """Paragraphs and table rows of a Word body in reading order; Word headings become
    markdown headings, the Title style a level-1 heading."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                lines.append(_heading_prefix(block.style.name if block.style else "") + text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
    return lines


def _heading_prefix(style: str) -> str:
    name = style.lower()
    if name == "title":
        return "# "
    for prefix in ("heading ", "标题 "):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return "#" * min(int(name[len(prefix) :]) + 1, 6) + " "
    return ""
