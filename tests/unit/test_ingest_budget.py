"""The per-document budget: a text over the character limit, a document making too many
passages, a .docx whose body XML is too big and a PDF past the limit are refused by name,
before anything is stored — the .docx before its XML is parsed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import prompts
from app import bootstrap
from app.settings import Settings
from core.errors import FileTooLarge
from ingest.parsing import DEFAULT_MAX_CHARS, DEFAULT_MAX_CHUNKS
from ingest.pipeline import IngestPipeline, preview
from tests.fakes.document_store import InMemoryDocumentStore
from tests.fixtures.ingest.builders import FIXTURES, make_docx, make_pdf

MAX_BYTES = 1024 * 1024
LAW = (
    "中华人民共和国示例法（2020年）\n\n"
    "## 第一章 总则\n\n"
    "第一条 为了规范示例活动，制定本法。\n\n"
    "第二条 示例活动应当诚实守信。\n\n"
    "第三条 本法自2020年3月1日起施行。\n"
)
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)


def huge_body_docx(path: Path, body_bytes: int, *, target: str = "word/document.xml") -> Path:
    """A small .docx whose body unpacks to ``body_bytes`` of XML that is not even well formed:
    parsing it would fail as a corrupt file, so a ``too_long`` refusal shows it was never
    parsed."""
    run = "<w:r><w:t>质量管理体系要求。</w:t></w:r>"
    body = "<w:document><w:body><w:p>" + run * (body_bytes // len(run.encode()) + 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.replace("word/document.xml", target))
        archive.writestr("_rels/.rels", RELS.format(target=target))
        archive.writestr(target, body)  # unclosed elements: not a parseable document
    return path


@pytest.fixture
def store() -> InMemoryDocumentStore:
    return InMemoryDocumentStore()


def pipeline(store: InMemoryDocumentStore, **budget: int) -> IngestPipeline:
    return IngestPipeline(store, max_bytes=MAX_BYTES, **budget)


def refused(pipe: IngestPipeline, path: Path) -> FileTooLarge:
    with pytest.raises(FileTooLarge) as caught:
        pipe.ingest_file(path)
    assert caught.value.file == path.name
    return caught.value


def test_the_defaults_are_two_million_characters_and_five_thousand_passages() -> None:
    assert (DEFAULT_MAX_CHARS, DEFAULT_MAX_CHUNKS) == (2_000_000, 5_000)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.max_document_chars, settings.max_document_chunks) == (2_000_000, 5000)


def test_a_text_over_the_character_budget_is_refused_before_cleaning(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    pipe = pipeline(store, max_chars=5_000)
    pipe.ingest_file(_write(tmp_path / "law.md", LAW))
    before = store.snapshot()
    error = refused(pipe, _write(tmp_path / "big.txt", "第一条 质量。\n" * 800))  # 6,400 chars
    assert error.context["reason"] == "too_long"
    assert "6,400 characters" in error.detail and "limit of 5,000 characters" in error.detail
    assert store.snapshot() == before and store.puts == 1


def test_a_document_over_the_passage_budget_is_refused(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    error = refused(pipeline(store, max_chunks=2), _write(tmp_path / "law.md", LAW))
    assert error.context["reason"] == "too_many_chunks"
    assert "3 passages" in error.detail and "limit of 2 passages" in error.detail
    assert store.documents() == []


def test_a_docx_with_a_huge_body_is_refused_before_its_xml_is_parsed(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    path = huge_body_docx(tmp_path / "huge.docx", 400_000)
    assert path.stat().st_size < 20_000  # small on disk, 400 KB of XML inside
    error = refused(pipeline(store, max_chars=10_000), path)  # at most 320,000 bytes of XML
    assert error.context["reason"] == "too_long"
    assert "word/document.xml unpacks to" in error.detail
    assert store.documents() == []


def test_the_body_is_found_by_the_package_relationships(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    path = huge_body_docx(tmp_path / "renamed.docx", 400_000, target="word/body2.xml")
    error = refused(pipeline(store, max_chars=10_000), path)
    assert "word/body2.xml unpacks to" in error.detail


def test_a_docx_within_the_budget_is_read(store: InMemoryDocumentStore, tmp_path: Path) -> None:
    path = make_docx(tmp_path / "ok.docx", "关于示例的通知", [("一、要求", ["各地要认真落实。"])])
    result = pipeline(store, max_chars=2_000).ingest_file(path)
    assert result.chunk_count >= 1


def test_a_pdf_is_refused_at_the_page_that_goes_over(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    lines = ["关于计量服务的通知"] + ["各地要开展计量服务，帮助企业提升质量。"] * 200
    error = refused(pipeline(store, max_chars=1_000), make_pdf(tmp_path / "long.pdf", lines))
    assert error.context["reason"] == "too_long" and "pages 1-" in error.detail


def test_an_html_page_is_measured_by_its_text_not_its_markup(
    store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    page = FIXTURES / "policy_page.html"
    markup = len(page.read_text(encoding="utf-8"))
    result = pipeline(store, max_chars=markup - 1).ingest_file(page)  # markup over, text under
    assert result.chunk_count >= 1
    error = refused(pipeline(InMemoryDocumentStore(), max_chars=100), page)
    assert error.context["reason"] == "too_long"


def test_the_settings_reach_the_pipeline_and_the_dry_run(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, max_document_chunks=2)  # type: ignore[call-arg]
    store = InMemoryDocumentStore()
    path = _write(tmp_path / "law.md", LAW)
    refused(bootstrap.build_pipeline(settings, store), path)
    result = preview([path], **bootstrap.ingest_budget(settings))
    assert result["documents"] == []
    assert result["errors"][0]["reason"] == "too_many_chunks"


@pytest.mark.parametrize("reason", ["too_long", "too_many_chunks"])
def test_every_budget_refusal_has_a_chinese_text(reason: str) -> None:
    assert "拆分" in prompts.text(f"ingest.reason.{reason}")
    assert prompts.error_text("file_too_large")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
