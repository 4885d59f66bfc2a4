"""Each supported format and encoding, built by the test, read back into a document."""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import pytest

from core.documents import DocumentKind
from ingest.decoding import NotText, decode_text, looks_binary
from ingest.parsing import parse_file
from tests.fixtures.ingest.builders import FIXTURES, make_docx, make_pdf

NOTICE_TEXT = (
    "关于加强计量器具监督管理的通知\n\n"
    "各市市场监管局：\n\n"
    "一、总体要求\n\n"
    "各地要加强对强制检定计量器具的监督管理，保障贸易结算公正。\n\n"
    "二、工作任务\n\n"
    "（一）开展专项检查。对集贸市场的电子秤开展专项检查，发现问题及时处理。\n"
)


def test_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE_TEXT, encoding="utf-8")
    doc = parse_file(path)
    assert doc.document.title == "关于加强计量器具监督管理的通知"
    assert doc.document.kind is DocumentKind.NOTICE
    assert [c.section for c in doc.chunks] == [
        "",
        "一、总体要求",
        "二、工作任务 > （一）开展专项检查",
    ]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig"])
def test_text_in_other_encodings_reads_the_same(tmp_path: Path, encoding: str) -> None:
    utf8 = tmp_path / "a.txt"
    utf8.write_text(NOTICE_TEXT, encoding="utf-8")
    other = tmp_path / "b.txt"
    other.write_bytes(NOTICE_TEXT.encode(encoding))
    if encoding == "utf-16":
        assert other.read_bytes()[:2] in {codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE}
    assert parse_file(other).text == parse_file(utf8).text


def test_decode_text_order() -> None:
    text = "质量基础设施一站式服务"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8-sig")
    assert decode_text(text.encode("gbk")) == (text, "gb18030")
    assert decode_text(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))[0] == text
    assert decode_text(text.encode("gbk"), prefer="gbk")[1] == "gbk"


def test_big5_traditional_text_is_not_mistaken_for_gbk(tmp_path: Path) -> None:
    traditional = "關於進一步發揮質量基礎設施支撐引領民營企業提質增效升級作用的意見\n\n各地要加強質量基礎設施建設，支持民營企業發展。"
    path = tmp_path / "big5.txt"
    path.write_bytes(traditional.encode("big5"))
    doc = parse_file(path)
    assert doc.document.title == "关于进一步发挥质量基础设施支撑引领民营企业提质增效升级作用的意见"
    assert doc.text == "各地要加强质量基础设施建设，支持民营企业发展。"


def test_binary_is_not_text() -> None:
    assert looks_binary(b"\x00\x01\x02PK\x03\x04" * 100)
    assert not looks_binary("质量".encode("utf-16"))
    with pytest.raises(NotText):
        decode_text(bytes(range(256)) * 4)


def test_traditional_text_with_pinyin_becomes_simplified(tmp_path: Path) -> None:
    path = tmp_path / "trad.txt"
    path.write_bytes("關於質量基礎設施的通知\n\n各地要加強質量基礎設施建設(jiàn)。".encode())
    doc = parse_file(path)
    assert doc.document.title == "关于质量基础设施的通知"
    assert doc.text == "各地要加强质量基础设施建设。"


def test_html_page_keeps_the_article_and_drops_the_page(tmp_path: Path) -> None:
    doc = parse_file(FIXTURES / "policy_page.html")
    meta = doc.document
    assert meta.title == "市场监管总局关于开展小微企业质量管理体系认证提升行动的通知"
    assert meta.doc_number == "国市监认证〔2020〕76号"
    assert meta.date_issued == "2020-05-11"
    assert meta.kind is DocumentKind.NOTICE
    assert meta.issuer == "市场监管总局"
    for junk in ["首页", "政务公开", "分享到", "版权所有", "ICP", "网站地图", "脚本", "color"]:
        assert junk not in doc.text, junk
    assert "质量管理水平&市场竞争力。\n力争用3年时间" in doc.text  # entity and <br> kept
    sections = [c.section for c in doc.chunks]
    assert sections == [
        "",
        "一、总体要求",
        "二、主要任务 > （一）开展质量管理体系认证帮扶",
        "二、主要任务 > （二）推动认证结果采信",
        "",
    ]


def test_gbk_html_page_declaring_its_charset(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>关于开展计量服务的通知</title></head><body><p>各地要开展计量服务。</p>"
        "<p>服务对象为中小企业。</p></body></html>"
    )
    path = tmp_path / "page.htm"
    path.write_bytes(page.encode("gbk"))
    doc = parse_file(path)
    assert doc.document.title == "关于开展计量服务的通知"
    assert doc.text == "各地要开展计量服务。\n服务对象为中小企业。"


def test_markdown_post_with_front_matter_pinyin_and_traditional(tmp_path: Path) -> None:
    doc = parse_file(FIXTURES / "jekyll_post.md")
    assert doc.document.title == "计量服务中小企业行活动启动"
    assert doc.document.date_issued == "2022-05-20"
    assert doc.document.kind is DocumentKind.NEWS
    assert [c.section for c in doc.chunks] == ["活动背景", "主要内容"]
    assert "为帮助中小企业提升计量能力" in doc.text
    assert "校准服务(NQI)。" in doc.text
    assert "返回首页" not in doc.text and "layout" not in doc.text


def test_docx_with_headings_paragraphs_and_a_table(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "通知.docx",
        "关于加强计量监督的通知",
        [
            ("一、总体要求", ["为了加强计量监督管理，制定本通知。", "各地要高度重视。"]),
            ("二、工作任务", ["（一）开展检定。对强制检定计量器具开展检定。"]),
        ],
    )
    doc = parse_file(path)
    assert doc.document.title == "关于加强计量监督的通知"
    assert doc.document.kind is DocumentKind.NOTICE
    by_section = {c.section: c.text for c in doc.chunks}
    assert by_section["一、总体要求"] == "为了加强计量监督管理，制定本通知。\n各地要高度重视。"
    assert by_section["二、工作任务 > （一）开展检定"] == (
        "对强制检定计量器具开展检定。\n检定项目 | 检定周期\n电子秤 | 一年"
    )


def test_pdf_with_a_chinese_text_layer(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "办法.pdf",
        [
            "国家市场监督管理总局文件",
            "国市监计量〔2022〕12号",
            "计量器具监督管理办法",
            "第一章 总则",
            "第一条 为了加强计量监督管理，提高计量器具的准确性，保障贸易结算公正，根据有",
            "关法律法规，制定本办法。",
            "第二条 本办法自2022年6月1日起施行。",
        ],
    )
    doc = parse_file(path)
    meta = doc.document
    assert (meta.title, meta.doc_number, meta.issuer) == (
        "计量器具监督管理办法",
        "国市监计量〔2022〕12号",
        "国家市场监督管理总局",
    )
    assert meta.kind is DocumentKind.RULE
    assert meta.date_effective == "2022-06-01"
    first = doc.chunks[0]
    assert (first.section, first.article, first.article_no) == ("第一章 总则", "第一条", 1)
    assert first.text == (
        "第一条 为了加强计量监督管理，提高计量器具的准确性，保障贸易结算公正，根据有关法律法规，制定本办法。"
    )


def test_pdf_protected_by_an_owner_password_only_is_readable(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "o.pdf", ["关于计量服务的通知", "各地要开展计量服务。"], owner_password="x"
    )
    assert parse_file(path).text == "各地要开展计量服务。"


def test_file_name_chooses_the_reader_and_names_the_document(tmp_path: Path) -> None:
    upload = tmp_path / "upload-1234.bin"
    shutil.copy(FIXTURES / "jekyll_post.md", upload)
    doc = parse_file(upload, file_name="计量服务.md")
    assert doc.document.file_name == "计量服务.md"
    assert doc.document.title == "计量服务中小企业行活动启动"


def test_parsed_document_is_json_serialisable(tmp_path: Path) -> None:
    doc = parse_file(FIXTURES / "policy_page.html")
    assert json.loads(json.dumps(doc.document.title, ensure_ascii=False)) == doc.document.title
    assert len(doc.document.doc_id) == 16 and doc.document.content_hash.startswith(
        doc.document.doc_id
    )
