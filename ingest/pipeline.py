"""The ingest pipeline: files → documents and chunks in a :class:`core.ports.DocumentStore`.

A document is identified by the sha256 of its bytes. Ingesting the same bytes again changes
nothing (no store write); a changed file under the same name replaces its old version through
one atomic ``store.put``. A file that cannot be read, or that is over the per-document budget
(file size, characters of text, passages), is reported with an ``IngestError`` naming it; in a
batch the other files go on, and nothing of a failed file reaches the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.documents import ParsedDocument, SourceDocument
from core.errors import IngestError, UnreadableFile
from core.ports import DocumentStore
from ingest.parsing import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_CHUNKS,
    content_hash,
    doc_id_for,
    parse_bytes,
    parse_file,
    read_file,
    source_beside,
)
from ingest.readers import is_supported, unsupported

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MAX_CHUNKS",
    "IngestFailure",
    "IngestPipeline",
    "IngestReport",
    "IngestResult",
    "IngestStatus",
    "expand_paths",
    "parse_file",
    "preview",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
"""``progress(done, total, file_name)``, called after each file of a batch."""


class IngestStatus(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to one file that was read successfully."""

    file_name: str
    status: IngestStatus
    document: SourceDocument
    chunk_count: int
    replaced: SourceDocument | None = None  # the older version this one replaced
    duplicate_of: str | None = None  # same bytes already stored under another file name

    def as_dict(self) -> dict[str, Any]:
        doc = self.document
        return {
            "file": self.file_name,
            "status": self.status.value,
            "doc_id": doc.doc_id,
            "title": doc.title,
            "kind": doc.kind.value,
            "chunks": self.chunk_count,
            "replaced_doc_id": self.replaced.doc_id if self.replaced else None,
            "duplicate_of": self.duplicate_of,
        }


@dataclass(frozen=True, slots=True)
class IngestFailure:
    """A file that could not become a document; ``error`` is the reason, in English."""

    file: str
    exception: IngestError

    @property
    def error(self) -> str:
        return self.exception.detail.removeprefix(f"{self.file}: ")

    @property
    def code(self) -> str:
        return self.exception.code

    @property
    def reason(self) -> str:
        """A finer code than ``code`` (``encrypted``, ``zip_bomb``…) for messages to admins."""
        return str(self.exception.context.get("reason", self.exception.code))

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "error": self.error, "code": self.code, "reason": self.reason}


@dataclass(slots=True)
class IngestReport:
    """The outcome of a batch: one result per stored or unchanged file, one failure per error."""

    results: list[IngestResult] = field(default_factory=list)
    errors: list[IngestFailure] = field(default_factory=list)

    def count(self, status: IngestStatus) -> int:
        return sum(1 for result in self.results if result.status is status)

    def summary(self) -> str:
        """One line for logs and the admin CLI: ``2 added, 1 replaced, 19 unchanged, 1 failed``."""
        counts = [f"{self.count(status)} {status.value}" for status in IngestStatus]
        return ", ".join([*counts, f"{len(self.errors)} failed"])

    def as_dict(self) -> dict[str, Any]:
        return {
            **{status.value: self.count(status) for status in IngestStatus},
            "failed": len(self.errors),
            "results": [result.as_dict() for result in self.results],
            "errors": [failure.as_dict() for failure in self.errors],
        }


def expand_paths(paths: Iterable[Path | str]) -> list[tuple[Path, IngestError | None]]:
    """The files a batch covers, in order: a directory means every supported file under it
    (recursively, sorted; other files such as ``MANIFEST.tsv``, and hidden files, are skipped
    silently). A file named explicitly is always listed, with an error when it is missing or
    unsupported."""
    expanded: list[tuple[Path, IngestError | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and is_supported(p.name)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            expanded.extend((p, None) for p in found)
        elif not path.exists():
            expanded.append((path, UnreadableFile(path.name, "no such file", reason="missing")))
        elif not is_supported(path.name):
            expanded.append((path, unsupported(path.name)))
        else:
            expanded.append((path, None))
    return expanded


class IngestPipeline:
    """Parses files and writes them to a document store, idempotently by content hash.

    Each document has a budget: at most ``max_bytes`` of file, ``max_chars`` characters of
    text and ``max_chunks`` passages; a file over any of them is refused (``FileTooLarge``)
    before anything is embedded or stored.
    """

    def __init__(
        self,
        store: DocumentStore,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_chunks: int = DEFAULT_MAX_CHUNKS,
    ) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        self._max_chunks = max_chunks

    def ingest_file(self, path: Path | str, file_name: str | None = None) -> IngestResult:
        """Add or replace one file; raises an ``IngestError`` subclass naming the file.

        ``file_name`` is the name the document is known by (default: the path's name), e.g.
        the original name of an uploaded file saved under a temporary path.
        """
        path = Path(path)
        name = file_name or path.name
        data = read_file(path, name, self._max_bytes)
        digest = content_hash(data)
        current = self._store.find_by_file(name)
        if current is not None and current.content_hash == digest:
            log.info("ingest unchanged file=%s doc_id=%s", name, current.doc_id)
            return IngestResult(name, IngestStatus.UNCHANGED, current, len(self._chunks(current)))
        same = self._store.get(doc_id_for(digest))
        if same is not None and same.content_hash == digest and same.file_name != name:
            log.info("ingest duplicate file=%s of=%s", name, same.file_name)
            return IngestResult(
                name,
                IngestStatus.UNCHANGED,
                same,
                len(self._chunks(same)),
                duplicate_of=same.file_name,
            )
        parsed = parse_bytes(
            data,
            name,
            entry=source_beside(path, name),
            max_bytes=self._max_bytes,
            max_chars=self._max_chars,
            max_chunks=self._max_chunks,
        )
        return self._store_parsed(parsed, current)

    def parse(self, path: Path | str, file_name: str | None = None) -> ParsedDocument:
        """What ingesting ``path`` (known as ``file_name``) would store, within this pipeline's
        budget; nothing is stored. Raises the ``IngestError`` ingesting would raise."""
        path = Path(path)
        return parse_file(
            path,
            file_name or path.name,
            self._max_bytes,
            max_chars=self._max_chars,
            max_chunks=self._max_chunks,
        )

    def ingest_paths(
        self, paths: Sequence[Path | str], progress: Progress | None = None
    ) -> IngestReport:
        """Ingest files and directories; errors are collected per file, the rest goes on."""
        report = IngestReport()
        files = expand_paths(paths)
        for done, (path, error) in enumerate(files, start=1):
            try:
                if error is not None:
                    raise error
                report.results.append(self.ingest_file(path))
            except IngestError as exc:
                log.warning(
                    "ingest failed file=%s code=%s detail=%s", exc.file, exc.code, exc.detail
                )
                report.errors.append(IngestFailure(exc.file, exc))
            if progress is not None:
                progress(done, len(files), path.name)
        log.info("ingest batch %s", report.summary())
        return report

    def _store_parsed(self, parsed: ParsedDocument, current: SourceDocument | None) -> IngestResult:
        document = parsed.document
        self._store.put(document, parsed.chunks)
        status = IngestStatus.REPLACED if current is not None else IngestStatus.ADDED
        log.info(
            "ingest %s file=%s doc_id=%s chunks=%d",
            status.value,
            document.file_name,
            document.doc_id,
            len(parsed.chunks),
        )
        return IngestResult(document.file_name, status, document, len(parsed.chunks), current)

    def _chunks(self, document: SourceDocument) -> list[Any]:
        return list(self._store.chunks(document.doc_id))


def preview(
    paths: Sequence[Path | str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
) -> dict[str, Any]:
    """What ingesting ``paths`` would store, without storing anything (``--dry-run``).

    ``{"documents": [{"file", "title", "doc_number", "issuer", "date", "kind", "chunks":
    [{"text", "section", "article"}], …}], "errors": [{"file", "error", …}]}``
    """
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for path, error in expand_paths(paths):
        try:
            if error is not None:
                raise error
            parsed = parse_file(
                path, max_bytes=max_bytes, max_chars=max_chars, max_chunks=max_chunks
            )
            documents.append(_preview_document(parsed))
        except IngestError as exc:
            errors.append(IngestFailure(exc.file, exc).as_dict())
    return {"documents": documents, "errors": errors}


def _preview_document(parsed: ParsedDocument) -> dict[str, Any]:
    doc = parsed.document
    return {
        "file": doc.file_name,
        "title": doc.title,
        "doc_number": doc.doc_number,
        "issuer": doc.issuer,
        "date": doc.date_issued or doc.date_effective,
        "date_issued": doc.date_issued,
        "date_effective": doc.date_effective,
        "kind": doc.kind.value,
        "source": doc.source,
        "source_url": doc.source_url,
        "doc_id": doc.doc_id,
        "chunks": [
            {
                "text": chunk.text,
                "section": chunk.section,
                "article": chunk.article,
                "article_no": chunk.article_no,
            }
            for chunk in parsed.chunks
        ],
    }
