"""Documents of the library and the chunks they are cut into."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

READABLE_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})
"""The file types ingestion reads; channels refuse others before downloading them."""


class DocumentKind(StrEnum):
    """What a document is; shown to users in citations (labels live in ``prompts/``)."""

    LAW = "law"  # 法律 (全国人大及其常委会)
    REGULATION = "regulation"  # 行政法规 (国务院条例、实施细则)
    RULE = "rule"  # 部门规章 (办法、规定)
    NOTICE = "notice"  # 通知、意见 (规范性文件)
    STANDARD = "standard"  # GB, GB/T, 地方标准
    NEWS = "news"  # 新闻报道
    FAQ = "faq"  # 专家问答 (approved expert answers)
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One document of the library, identified by the hash of its content.

    ``file_name`` is the name the document was ingested under (e.g.
    ``L01_产品质量法_2018.md``); a new version of the same file replaces the old one.
    Dates are ISO ``YYYY-MM-DD`` strings or ``None``.
    """

    doc_id: str
    file_name: str
    title: str
    kind: DocumentKind
    content_hash: str
    doc_number: str | None = None  # 文号, e.g. 市监质发〔2021〕34号
    issuer: str | None = None  # 发布机构
    date_issued: str | None = None
    date_effective: str | None = None
    source_url: str | None = None
    char_count: int = 0
    ingested_at: str | None = None  # ISO timestamp, set by the store
    source: str | None = None  # where the text comes from (publication, site, repository)
    # whether it is in force (``core.document_status`` derives the status from these):
    date_until: str | None = None  # effective until (有效期至), the last day it applies
    date_repealed: str | None = None  # 废止日期
    superseded_by: tuple[str, ...] = ()  # file names (or 文号/标准号) of documents replacing it
    supersedes: tuple[str, ...] = ()  # file names (or 文号/标准号) of documents it replaces
    checked_on: str | None = None  # when an admin last checked these fields against the source
    status_note: str | None = None  # what else a reader must know (e.g. its annex was replaced)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A structure-aware piece of a document: one clause, or a few sentences of one section.

    ``section`` is the heading path it sits under, joined with `` > `` (e.g.
    ``二、重点任务 > （三）深入开展质量技术帮扶服务``); ``article`` is the article label
    (``第二十六条``) where the chunk is (part of) an article, with ``article_no`` its number.
    """

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    section: str = ""
    article: str | None = None
    article_no: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """What ingestion made of one file: the document, its clean text and its chunks."""

    document: SourceDocument
    text: str
    chunks: tuple[Chunk, ...]
