"""One file → a :class:`core.documents.ParsedDocument`: read, clean, describe, outline, chunk.

:func:`parse_file` is pure apart from reading the file (and a source table beside it); it
raises a ``core.errors.IngestError`` subclass naming the file for anything it cannot use.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from core.documents import ParsedDocument, SourceDocument
from core.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFormat
from core.text import to_simplified
from ingest import boilerplate, cleaning, metadata, validity
from ingest.chunking import make_chunks
from ingest.header import pop_field_lines
from ingest.html_text import html_to_text, looks_like_html
from ingest.readers import RawText, is_supported, read_text, too_long, unsupported
from ingest.sources import SourceEntry, source_entry
from ingest.structure import outline

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_CHARS = 2_000_000
"""Longest text one document may have (characters, after extraction and after cleaning)."""
DEFAULT_MAX_CHUNKS = 5_000
"""Most passages one document may make (each one is embedded: about 4 minutes per 5,000 on two cores)."""
UNPACK_FACTOR = 20
"""A .docx may unpack to at most this many times the file size limit."""
_FRONT_MATTER_FIELDS = {
    "title": "title",
    "date": "date_issued",
    "source": "source",
    "url": "source_url",
}


@dataclass(frozen=True, slots=True)
class CleanText:
    """A document's lines after cleaning, with everything learnt on the way."""

    lines: list[str]
    fields: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    is_post: bool = False


def content_hash(data: bytes) -> str:
    """The identity of a file's content: sha256 of its bytes, hex."""
    return hashlib.sha256(data).hexdigest()


def doc_id_for(digest: str) -> str:
    """A document id: the first 16 hex characters of its content hash."""
    return digest[:16]


def clean_lines(raw: RawText) -> CleanText:
    """Turn extracted text into clean lines of Simplified Chinese plus metadata fields.

    Order matters: front matter and HTML come off first, pinyin before the Traditional →
    Simplified conversion (which would otherwise see the annotations); labelled fields, then
    boilerplate, after it (so their patterns only need Simplified forms, and a field line such
    as ``来源:… 阅读次数:`` is read before the boilerplate filter drops it).
    """
    text = cleaning.normalize_characters(raw.text)
    front, text = cleaning.split_front_matter(text)
    text = cleaning.strip_html_comments(text)
    hints = dict(raw.hints)
    if raw.fmt == "html" or (raw.fmt in {"text", "markdown"} and looks_like_html(text)):
        text, page_hints = html_to_text(cleaning.unwrap_autolinks(text))
        hints = {**page_hints, **hints}
    text = cleaning.remove_pinyin(text)
    text = to_simplified(text)
    text = cleaning.ideographic_space_breaks(text)
    text = cleaning.tighten_digit_spaces(text)
    if raw.fmt == "pdf":
        text = cleaning.close_cjk_gaps(text)
    lines = cleaning.normalize_lines(text)
    if raw.fmt == "pdf":
        lines = cleaning.unwrap_lines(lines)
    lines, fields = pop_field_lines(lines)
    lines, urls = boilerplate.remove_boilerplate(lines)
    lines = [cleaning.strip_markdown_links(line).strip() for line in lines]
    lines = [line for line in lines if line and not boilerplate.is_page_furniture(line)]
    lines = [cleaning.fullwidth_punctuation(line) for line in lines]
    for key, name in _FRONT_MATTER_FIELDS.items():
        if front.get(key):
            fields.setdefault(name, to_simplified(front[key]))
    return CleanText(lines, fields, hints, urls, is_post=bool(front))


def parse_bytes(
    data: bytes,
    file_name: str,
    *,
    entry: SourceEntry | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
) -> ParsedDocument:
    """Parse the bytes of one file (see :func:`parse_file`)."""
    if len(data) > max_bytes:
        raise FileTooLarge(
            file_name, f"{len(data)} bytes, over the limit of {max_bytes}", reason="too_large"
        )
    raw = read_text(data, file_name, max_unpacked=max_bytes * UNPACK_FACTOR, max_chars=max_chars)
    clean = clean_lines(raw)
    chars = sum(len(line) + 1 for line in clean.lines)
    if chars > max_chars:  # an HTML page's text, known only now
        raise too_long(file_name, chars, max_chars)
    meta, body = metadata.extract(
        clean.lines,
        clean.fields,
        clean.hints,
        file_name=file_name,
        urls=clean.urls,
        entry=entry,
        is_post=clean.is_post,
    )
    shape = outline(body)
    text = "\n".join(shape.lines)
    if not text.strip():
        raise EmptyDocument(file_name, "no text left after cleaning", reason="no_text")
    digest = content_hash(data)
    doc_id = doc_id_for(digest)
    document = SourceDocument(
        doc_id=doc_id,
        file_name=file_name,
        title=meta.title,
        kind=meta.kind,
        content_hash=digest,
        doc_number=meta.doc_number,
        issuer=meta.issuer,
        date_issued=meta.date_issued,
        date_effective=meta.date_effective,
        source_url=meta.source_url,
        char_count=len(text),
        source=meta.source,
        date_until=validity.effective_until(text, meta.date_effective or meta.date_issued),
        supersedes=validity.replaced_titles(text),
    )
    chunks = make_chunks(doc_id, shape.blocks)
    if len(chunks) > max_chunks:
        raise FileTooLarge(
            file_name,
            f"the text makes {len(chunks):,} passages, over the limit of {max_chunks:,} "
            "passages per document; split it into smaller files",
            reason="too_many_chunks",
            chunks=len(chunks),
            limit=max_chunks,
        )
    log.debug("parsed file=%s kind=%s chunks=%d", file_name, meta.kind.value, len(chunks))
    return ParsedDocument(document=document, text=text, chunks=chunks)


def read_file(path: Path, file_name: str, max_bytes: int) -> bytes:
    """The bytes of ``path``, refusing unsupported types, missing files and files over
    ``max_bytes`` before reading them."""
    if not is_supported(file_name):
        raise unsupported(file_name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(file_name, f"cannot open the file ({exc})", reason="missing") from exc
    if not path.is_file():
        raise UnsupportedFormat(file_name, "not a regular file", reason="unsupported")
    if size > max_bytes:
        raise FileTooLarge(
            file_name, f"{size} bytes, over the limit of {max_bytes}", reason="too_large"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(file_name, f"cannot read the file ({exc})", reason="missing") from exc


def parse_file(
    path: Path | str,
    file_name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
) -> ParsedDocument:
    """Parse one file into a document with clean text and chunks; nothing is stored.

    ``file_name`` is the name the document is known by (default: the path's name); its
    extension chooses the reader. A ``MANIFEST.tsv``/``SOURCES.tsv`` beside the file that
    names it supplies the source. Raises an ``IngestError`` subclass naming the file; a
    file over ``max_bytes``, a text over ``max_chars`` characters or one that makes more than
    ``max_chunks`` passages is refused with ``FileTooLarge``.
    """
    path = Path(path)
    name = file_name or path.name
    data = read_file(path, name, max_bytes)
    return parse_bytes(
        data,
        name,
        entry=source_beside(path, name),
        max_bytes=max_bytes,
        max_chars=max_chars,
        max_chunks=max_chunks,
    )


def source_beside(path: Path, file_name: str) -> SourceEntry | None:
    """The source-table row naming this file (by its document name, else its path's name)."""
    return source_entry(path.parent, file_name) or source_entry(path.parent, path.name)
