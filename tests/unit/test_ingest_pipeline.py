"""The ingest pipeline against an in-memory store: idempotency, replacement, removal, refusals,
batches, progress and the dry-run preview."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

import prompts
from core.errors import EmptyDocument, FileTooLarge, IngestError, UnreadableFile, UnsupportedFormat
from ingest.pipeline import IngestPipeline, IngestStatus, preview
from ingest.readers import check_zip
from tests.fakes.document_store import InMemoryDocumentStore
from tests.fixtures.ingest.builders import (
    FIXTURES,
    make_docx,
    make_image_pdf,
    make_pdf,
    make_zip_bomb,
    random_bytes,
)

MAX_BYTES = 1024 * 1024
LAW_V1 = (
    "中华人民共和国示例法（2020年）\n\n"
    "2020年1月1日 第十三届全国人民代表大会常务委员会第十五次会议通过\n\n"
    "## 第一章 总则\n\n"
    "第一条 为了规范示例活动，制定本法。\n\n"
    "第二条 本法自2020年3月1日起施行。\n"
)
LAW_V2 = LAW_V1.replace(
    "第二条 本法自2020年3月1日起施行。",
    "第二条 示例活动应当诚实守信。\n\n第三条 本法自2021年1月1日起施行。",
)


@pytest.fixture
def store() -> InMemoryDocumentStore:
    return InMemoryDocumentStore()


@pytest.fixture
def pipeline(store: InMemoryDocumentStore) -> IngestPipeline:
    return IngestPipeline(store, max_bytes=MAX_BYTES)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_new_file_is_added_with_its_chunks(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    result = pipeline.ingest_file(write(tmp_path / "law.md", LAW_V1))
    assert result.status is IngestStatus.ADDED
    doc = store.find_by_file("law.md")
    assert doc is not None and doc.doc_id == result.document.doc_id
    assert doc.title == "中华人民共和国示例法（2020年）"
    assert [c.article for c in store.chunks(doc.doc_id)] == [None, "第一条", "第二条"]
    assert result.chunk_count == 3


def test_same_bytes_twice_is_a_no_op(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    path = write(tmp_path / "law.md", LAW_V1)
    first = pipeline.ingest_file(path)
    before = store.snapshot()
    second = pipeline.ingest_file(path)
    assert second.status is IngestStatus.UNCHANGED
    assert second.document.doc_id == first.document.doc_id
    assert store.puts == 1
    assert store.snapshot() == before


def test_changed_file_replaces_the_old_version(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    path = write(tmp_path / "law.md", LAW_V1)
    old = pipeline.ingest_file(path).document
    write(path, LAW_V2)
    result = pipeline.ingest_file(path)
    assert result.status is IngestStatus.REPLACED
    assert result.replaced is not None and result.replaced.doc_id == old.doc_id
    assert store.get(old.doc_id) is None
    assert store.chunks(old.doc_id) == []
    assert [d.file_name for d in store.documents()] == ["law.md"]
    texts = [c.text for c in store.chunks(result.document.doc_id)]
    assert "第三条 本法自2021年1月1日起施行。" in texts
    assert store.puts == 2


def test_upload_under_its_original_name_replaces_by_name(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    pipeline.ingest_file(write(tmp_path / "tmp1", LAW_V1), file_name="示例法.md")
    result = pipeline.ingest_file(write(tmp_path / "tmp2", LAW_V2), file_name="示例法.md")
    assert result.status is IngestStatus.REPLACED
    assert [d.file_name for d in store.documents()] == ["示例法.md"]


def test_identical_bytes_under_another_name_are_not_stored_twice(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    pipeline.ingest_file(write(tmp_path / "a.md", LAW_V1))
    result = pipeline.ingest_file(write(tmp_path / "b.md", LAW_V1))
    assert result.status is IngestStatus.UNCHANGED
    assert result.duplicate_of == "a.md"
    assert [d.file_name for d in store.documents()] == ["a.md"]


def test_a_removed_document_is_added_again(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    doc = pipeline.ingest_file(write(tmp_path / "law.md", LAW_V1)).document
    removed = store.remove(doc.doc_id)  # the desk removes documents from the store
    assert removed is not None and removed.doc_id == doc.doc_id
    assert store.documents() == [] and store.chunks(doc.doc_id) == []
    again = pipeline.ingest_file(tmp_path / "law.md")
    assert again.status is IngestStatus.ADDED


# --- refusals ---------------------------------------------------------------------------------


def _corrupt_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n" + random_bytes(2048) + b"\n%%EOF")
    return path


def _truncated_pdf(path: Path) -> Path:
    whole = make_pdf(path, ["关于计量服务的通知", "各地要开展计量服务。"]).read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    return path


def _encrypted_pdf(path: Path) -> Path:
    return make_pdf(path, ["关于计量服务的通知", "各地要开展计量服务。"], user_password="secret")


def _oversize(path: Path) -> Path:
    return write(path, "质量" * MAX_BYTES)


def _binary_txt(path: Path) -> Path:
    path.write_bytes(random_bytes(4096))
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _blank(path: Path) -> Path:
    return write(path, " \n\u3000\u3000\n")


def _not_a_zip(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 but not really a zip" * 10)
    return path


def _docx_without_document(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "质量")
    return path


def _only_boilerplate(path: Path) -> Path:
    return write(path, "[首页](#) > [综合管理](#)\n\n版权所有：某网站 京ICP备05084924号\n")


BAD_INPUTS = [
    ("corrupt.pdf", _corrupt_pdf, UnreadableFile, "corrupt_pdf"),
    ("truncated.pdf", _truncated_pdf, UnreadableFile, "corrupt_pdf"),
    ("scan.pdf", make_image_pdf, EmptyDocument, "no_text_layer"),
    ("locked.pdf", _encrypted_pdf, UnreadableFile, "encrypted"),
    ("bomb.docx", make_zip_bomb, UnreadableFile, "zip_bomb"),
    ("broken.docx", _not_a_zip, UnreadableFile, "corrupt_docx"),
    ("odd.docx", _docx_without_document, UnreadableFile, "corrupt_docx"),
    ("noise.txt", _binary_txt, UnreadableFile, "binary"),
    ("empty.txt", _empty, EmptyDocument, "empty"),
    ("blank.txt", _blank, EmptyDocument, "no_text"),
    ("page.html", _only_boilerplate, EmptyDocument, "no_text"),
    ("big.txt", _oversize, FileTooLarge, "too_large"),
    ("sheet.xlsx", lambda p: write(p, "质量"), UnsupportedFormat, "unsupported"),
    ("old.doc", lambda p: write(p, "质量"), UnsupportedFormat, "unsupported"),
]


@pytest.mark.parametrize(("name", "build", "error", "reason"), BAD_INPUTS)
def test_bad_inputs_are_refused_by_name_and_leave_the_store_alone(
    pipeline: IngestPipeline,
    store: InMemoryDocumentStore,
    tmp_path: Path,
    name: str,
    build: object,
    error: type[IngestError],
    reason: str,
) -> None:
    pipeline.ingest_file(write(tmp_path / "law.md", LAW_V1))
    before = store.snapshot()
    path = build(tmp_path / name)  # type: ignore[operator]
    with pytest.raises(error) as caught:
        pipeline.ingest_file(path)
    assert caught.value.file == name
    assert name in str(caught.value)
    assert caught.value.context["reason"] == reason
    assert store.snapshot() == before
    assert store.puts == 1


def test_a_failed_new_version_keeps_the_old_one(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    path = write(tmp_path / "law.txt", LAW_V1)
    pipeline.ingest_file(path)
    before = store.snapshot()
    _binary_txt(path)
    with pytest.raises(UnreadableFile):
        pipeline.ingest_file(path)
    assert store.snapshot() == before


def test_a_store_failure_is_not_swallowed_and_writes_nothing(tmp_path: Path) -> None:
    store = InMemoryDocumentStore(fail_on_put=True)
    with pytest.raises(OSError):
        IngestPipeline(store, max_bytes=MAX_BYTES).ingest_file(write(tmp_path / "a.md", LAW_V1))
    assert store.documents() == []


def test_zip_check_reads_declared_sizes_only(tmp_path: Path) -> None:
    data = make_zip_bomb(tmp_path / "bomb.docx", 8 * 1024 * 1024).read_bytes()
    assert len(data) < 64 * 1024
    with pytest.raises(UnreadableFile, match="compressed"):
        check_zip(data, "x.docx", max_unpacked=1 << 30)
    with pytest.raises(UnreadableFile, match="unpacks to"):
        check_zip(data, "x.docx", max_unpacked=1024)


def test_every_refusal_reason_has_a_chinese_text() -> None:
    for _, _, _, reason in BAD_INPUTS:
        assert prompts.text(f"ingest.reason.{reason}")
    assert prompts.text("ingest.reason.missing")


# --- batches ----------------------------------------------------------------------------------


def _library(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "laws").mkdir(parents=True)
    write(root / "laws" / "a_law.md", LAW_V1)
    write(root / "laws" / "MANIFEST.tsv", "file\ttitle\tsource\na_law.md\t示例法\t某出版社\n")
    shutil.copy(FIXTURES / "policy_page.html", root / "b_page.html")
    make_docx(root / "c.docx", "关于示例的通知", [("一、要求", ["各地要认真落实。"])])
    _binary_txt(root / "d_noise.txt")
    write(root / "notes.csv", "a,b")
    (root / ".cache").mkdir()
    _binary_txt(root / ".cache" / "x.txt")
    _binary_txt(root / "._a_law.md")
    return root


def test_directory_batch_goes_on_past_errors_and_reports_progress(
    pipeline: IngestPipeline, store: InMemoryDocumentStore, tmp_path: Path
) -> None:
    root = _library(tmp_path)
    calls: list[tuple[int, int, str]] = []
    report = pipeline.ingest_paths([root], progress=lambda *args: calls.append(args))
    assert [r.file_name for r in report.results] == ["b_page.html", "c.docx", "a_law.md"]
    assert [e.file for e in report.errors] == ["d_noise.txt"]
    assert report.errors[0].code == "unreadable_file" and report.errors[0].reason == "binary"
    assert not report.errors[0].error.startswith("d_noise.txt")
    assert calls == [
        (1, 4, "b_page.html"),
        (2, 4, "c.docx"),
        (3, 4, "d_noise.txt"),
        (4, 4, "a_law.md"),
    ]
    assert report.summary() == "3 added, 0 replaced, 0 unchanged, 1 failed"
    assert store.find_by_file("a_law.md").source == "某出版社"  # type: ignore[union-attr]
    again = pipeline.ingest_paths([root])
    assert again.summary() == "0 added, 0 replaced, 3 unchanged, 1 failed"
    assert json.loads(json.dumps(again.as_dict()))["unchanged"] == 3


def test_explicit_unsupported_or_missing_files_are_errors(
    pipeline: IngestPipeline, tmp_path: Path
) -> None:
    root = _library(tmp_path)
    report = pipeline.ingest_paths([root / "notes.csv", root / "gone.pdf", root / "c.docx"])
    assert [(e.file, e.code) for e in report.errors] == [
        ("notes.csv", "unsupported_format"),
        ("gone.pdf", "unreadable_file"),
    ]
    assert [r.file_name for r in report.results] == ["c.docx"]


def test_preview_is_the_dry_run_json_and_stores_nothing(tmp_path: Path) -> None:
    root = _library(tmp_path)
    result = preview([root], max_bytes=MAX_BYTES)
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result
    assert set(result) == {"documents", "errors"}
    docs = {d["file"]: d for d in result["documents"]}
    assert list(docs) == ["b_page.html", "c.docx", "a_law.md"]
    law = docs["a_law.md"]
    assert {"file", "title", "doc_number", "issuer", "date", "kind", "chunks"} <= set(law)
    assert (law["title"], law["doc_number"], law["kind"]) == (
        "中华人民共和国示例法（2020年）",
        None,
        "law",
    )
    assert law["date"] == "2020-01-01"
    assert law["issuer"] == "全国人民代表大会常务委员会"
    assert law["chunks"][1] == {
        "text": "第一条 为了规范示例活动，制定本法。",
        "section": "第一章 总则",
        "article": "第一条",
        "article_no": 1,
    }
    assert docs["b_page.html"]["doc_number"] == "国市监认证〔2020〕76号"
    assert result["errors"] == [
        {
            "file": "d_noise.txt",
            "error": result["errors"][0]["error"],
            "code": "unreadable_file",
            "reason": "binary",
        }
    ]
    assert "binary" in result["errors"][0]["error"]
