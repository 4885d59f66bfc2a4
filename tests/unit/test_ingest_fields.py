"""Numerals, dates, labelled header fields, boilerplate lines and source references."""

from __future__ import annotations

import pytest

from core.numerals import chinese_to_int
from ingest import boilerplate
from ingest.dates import find_dates, is_date_line, to_iso
from ingest.header import parse_field_line, pop_field_lines
from ingest.sources import category_kind, read_source_table, source_url, version_date


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("二十六", 26),
        ("十", 10),
        ("一百零五", 105),
        ("一百五十四", 154),
        ("二〇二一", 2021),
        ("26", 26),
    ],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_to_int(text) == value


def test_not_a_numeral() -> None:
    assert chinese_to_int("总则") is None
    assert chinese_to_int("") is None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2021年05月24日", "2021-05-24"),
        ("2015 年4 月9 日", "2015-04-09"),
        ("2021-11-05", "2021-11-05"),
        ("2023/3/28", "2023-03-28"),
        ("二〇二一年五月二十一日", "2021-05-21"),
        ("2021年2月30日", None),
    ],
)
def test_dates_to_iso(text: str, iso: str | None) -> None:
    assert to_iso(text) == iso


def test_find_dates_reports_positions_and_skips_invalid_dates() -> None:
    text = "2000年7月8日通过，2021年2月30日无效，2018年12月29日修正"
    assert [iso for _, _, iso in find_dates(text)] == ["2000-07-08", "2018-12-29"]


def test_date_lines() -> None:
    assert is_date_line("2021年9月28日")
    assert not is_date_line("2021年9月28日 国务院批准")


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ("文 号: 市监质发〔2021〕34号", {"doc_number": "市监质发〔2021〕34号"}),
        ("发布日期: 2021年05月24日", {"date_issued": "2021年05月24日"}),
        (
            "来源:国家市场监督管理总局官网 发布时间:2021-11-05 阅读次数:",
            {"source": "国家市场监督管理总局官网", "date_issued": "2021-11-05", "views": ""},
        ),
        (
            "2023-03-28 20:40:24 来源:中国经济网 分享 分享到搜狐微博 分享到网易微博",
            {"source": "中国经济网", "date_issued": "2023-03-28 20:40:24"},
        ),
        ("（文章来源：中国市场监管新闻网）", {"source": "中国市场监管新闻网"}),
        ("[责任编辑:ruirui]", {"editor": "ruirui"}),
        ("主题词:", {"keywords": ""}),
    ],
)
def test_field_lines(line: str, fields: dict[str, str]) -> None:
    assert parse_field_line(line) == fields


@pytest.mark.parametrize(
    "line",
    [
        "联系人：质量发展局 黄才宇、马雨昕",
        "时间：2021年5月，各地开展了一站式服务。",  # a date label whose value is text
        "各省、自治区、直辖市市场监管局：",
        "第二十六条 生产者应当对其生产的产品质量负责。",
    ],
)
def test_ordinary_lines_are_not_fields(line: str) -> None:
    assert parse_field_line(line) is None


def test_pop_field_lines_keeps_first_values_and_other_lines() -> None:
    lines, fields = pop_field_lines(
        ["标 题: 关于X的通知", "发布日期: 2021年05月24日", "正文。", "发布时间: 2021年05月25日"]
    )
    assert lines == ["正文。"]
    assert fields == {"title": "关于X的通知", "date_issued": "2021年05月24日"}


@pytest.mark.parametrize(
    "line",
    [
        "版权所有：中华人民共和国文化和旅游部 地址：东城区朝阳门北大街10号 邮政编码：100020",
        "ICP备案编号：京ICP备05084924号 电话：010-59881114",
        "网站标识码bm23000001 京公网安备110401300059号",
        "中国焦点日报网 版权所有 沪ICP备2022005074号-20,未经授权,请勿转载或建立镜像,违者依法必究。",
        "字体: [大中小]",
        "关于我们 | 网站地图 | 版权保护 | 免责声明",
        "关于我们| 客服中心| 广告服务| 建站服务| 联系我们",
        "[首页](#) > [综合管理](#)",
        "您当前的位置 :观察 >",
        "【资料图】",
        "本站违法和不良信息举报 联系邮箱: 58 55 973@qq.com",
    ],
)
def test_page_furniture(line: str) -> None:
    assert boilerplate.is_page_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "第五十条 在产品中掺杂、掺假，以假充真，以次充好……并处违法所得一倍以上五倍以下的罚款。",
        "检定项目 | 检定周期 | 备注",
        "电话：010-82262437、82261439",
        "推进“一带一路”质量基础设施互联互通。",
    ],
)
def test_document_lines_are_not_furniture(line: str) -> None:
    assert not boilerplate.is_page_furniture(line)


def test_leading_junk_goes_up_to_the_headline_only() -> None:
    lines = [
        "日本在线免费AⅤ视频_欧美一级网站在线播放_久久久久久免费一区二区三区_国产在线网址",
        "您当前的位置 :观察 >",
        "• 中国(云南)自由贸易试验区昆明片区经开区出口加工区浦发路中段国检大厦工业三区6幢",
        "• 服务电话0871-64148058",
        "天天快播:精准帮扶2万余家小微企业!",
        "正文第一段。",
        "电话：010-82262437",
        "http://example.cn/a.html",
        "版权所有 沪ICP备2022005074号",
    ]
    kept, urls = boilerplate.remove_boilerplate(lines)
    assert kept == ["天天快播:精准帮扶2万余家小微企业!", "正文第一段。", "电话：010-82262437"]
    assert urls == ["http://example.cn/a.html"]


def test_source_table_and_references() -> None:
    rows = read_source_table(
        "file\ttitle\tsource\na.md\t标题\tGitHub o/r @ abc1234 : 行政法规/x(2019-03-02).md\nb.md\t\t\n"
    )
    assert list(rows) == ["a.md"]
    source = rows["a.md"].source
    assert (
        source_url(source)
        == "https://github.com/o/r/blob/abc1234/%E8%A1%8C%E6%94%BF%E6%B3%95%E8%A7%84/x(2019-03-02).md"
    )
    assert version_date(source) == "2019-03-02"
    assert category_kind(source) == "regulation"
    assert source_url("见 http://www.samr.gov.cn/a.html。") == "http://www.samr.gov.cn/a.html"
