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
from core.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFormat
from ingest.decoding import NotText, declared_charset, decode_text

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = READABLE_SUFFIXES

MAX_ZIP_RATIO = 100
"""Largest compression ratio accepted for a big member of a .docx (zip bombs go far beyond)."""
MAX_ZIP_MEMBERS = 5000
_RATIO_FLOOR = 1 << 20  # members smaller than 1 MiB unpacked may compress as well as they like
XML_BYTES_PER_CHAR = 32
"""Most bytes of Word XML one character of text may take: markup around every run, three
bytes per Chinese character. A .docx whose XML parts are larger than this many bytes per
character of the text budget is refused before any XML is parsed."""


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


def read_text(
    data: bytes, file_name: str, *, max_unpacked: int, max_chars: int | None = None
) -> RawText:
    """Extract raw text from the bytes of ``file_name`` according to its extension.

    ``max_unpacked`` bounds what an archive-based format (.docx) may expand to; ``max_chars``
    (no limit when ``None``) the text one document may have: a longer text is refused with
    ``FileTooLarge`` (reason ``too_long``) as soon as that is known, before cleaning — a
    .docx before its XML is parsed, a PDF at the page that goes over (an HTML page's text is
    measured after its markup is gone, by the caller).
    """
    suffix = suffix_of(file_name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(file_name)
    if not data.strip():
        raise EmptyDocument(file_name, "the file is empty", reason="empty")
    if suffix == ".pdf":
        raw = _read_pdf(data, file_name, max_chars)
    elif suffix == ".docx":
        raw = _read_docx(data, file_name, max_unpacked, max_chars)
    elif suffix in {".html", ".htm"}:
        # the text inside the markup is measured after cleaning (the file size bounds it)
        return RawText(_decode(data, file_name, prefer=declared_charset(data)), "html")
    else:
        fmt = "markdown" if suffix in {".md", ".markdown"} else "text"
        raw = RawText(_decode(data, file_name), fmt)
    if max_chars is not None and len(raw.text) > max_chars:
        raise too_long(file_name, len(raw.text), max_chars)
    return raw


def too_long(file_name: str, chars: int, max_chars: int, *, what: str = "the text") -> FileTooLarge:
    """The refusal of a document whose text is over the per-document budget."""
    return FileTooLarge(
        file_name,
        f"{what} is {chars:,} characters long, over the limit of {max_chars:,} characters "
        "per document; split it into smaller files",
        reason="too_long",
        chars=chars,
        limit=max_chars,
    )


def _decode(data: bytes, file_name: str, prefer: str | None = None) -> str:
    try:
        text, encoding = decode_text(data, prefer=prefer)
    except NotText as exc:
        raise UnreadableFile(file_name, f"not a text file ({exc})", reason="binary") from exc
    log.debug("decoded file=%s encoding=%s", file_name, encoding)
    return text


def _read_pdf(data: bytes, file_name: str, max_chars: int | None) -> RawText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise UnreadableFile(file_name, "not a PDF file (no %PDF header)", reason="corrupt_pdf")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile(file_name, "the PDF is password-protected", reason="encrypted")
        pages = _pdf_pages(reader, file_name, max_chars)
        info: dict[str, object] = dict(reader.metadata or {})
    except (UnreadableFile, FileTooLarge):
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


def _pdf_pages(reader: object, file_name: str, max_chars: int | None) -> list[str]:
    """The text of each page, stopping at the page that takes the text over ``max_chars``."""
    pages: list[str] = []
    total = 0
    for page in reader.pages:  # type: ignore[attr-defined]
        text = page.extract_text() or ""
        pages.append(text)
        total += len(text) + 1
        if max_chars is not None and total > max_chars:
            raise too_long(file_name, total, max_chars, what=f"the text of pages 1-{len(pages)}")
    return pages


def check_docx_xml(data: bytes, file_name: str, *, max_chars: int) -> None:
    """Refuse a .docx whose body (the main document part, ``word/document.xml`` in files Word
    writes) unpacks to more XML than a text of ``max_chars`` characters can need
    (:data:`XML_BYTES_PER_CHAR` bytes a character). Only the central directory and the small
    package relationships are read; the body is not parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            part = _main_part(archive)
            size = archive.getinfo(part).file_size if part in archive.NameToInfo else 0
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(
            file_name, f"not a valid .docx ({exc})", reason="corrupt_docx"
        ) from exc
    limit = max_chars * XML_BYTES_PER_CHAR
    if size > limit:
        raise FileTooLarge(
            file_name,
            f"{part} unpacks to {size:,} bytes of XML, more than a document within the limit "
            f"of {max_chars:,} characters needs (at most {limit:,} bytes); split it into "
            "smaller files",
            reason="too_long",
            xml_bytes=size,
            limit=max_chars,
        )


_OFFICE_DOCUMENT = "relationships/officeDocument"


def _main_part(archive: zipfile.ZipFile) -> str:
    """The main document part a .docx names in ``_rels/.rels`` (default ``word/document.xml``)."""
    default = "word/document.xml"
    rels = archive.NameToInfo.get("_rels/.rels")
    if rels is None or rels.file_size > _RATIO_FLOOR:
        return default
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(archive.read(rels))
    except (ElementTree.ParseError, DefusedXmlException):
        return default
    for rel in root:
        if str(rel.get("Type", "")).endswith(_OFFICE_DOCUMENT) and rel.get("Target"):
            return str(rel.get("Target")).lstrip("/")
    return default


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


def _read_docx(data: bytes, file_name: str, max_unpacked: int, max_chars: int | None) -> RawText:
    check_zip(data, file_name, max_unpacked=max_unpacked)
    if max_chars is not None:
        check_docx_xml(data, file_name, max_chars=max_chars)
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
