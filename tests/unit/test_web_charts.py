"""The statistics charts: SVG drawn on the server, every text escaped, gaps for nothing to show."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from web.charts import Series, bar_chart, line_chart, nice_top

SVG = "{http://www.w3.org/2000/svg}"


def test_the_value_axis_ends_on_a_round_number_of_four_steps() -> None:
    assert [nice_top(v) for v in (0, 3, 5, 13, 130, 1000)] == [4, 4, 8, 20, 200, 1000]
    assert [nice_top(v, whole=False) for v in (0.3, 0.05, 3)] == [0.4, 0.08, 4]


def test_bars_have_one_rect_per_value_and_every_label_is_escaped() -> None:
    svg = bar_chart(
        "<b>提问量</b>",
        ["<script>", "03-04"],
        [Series("提问 & 回答", [3, None]), Series("转交", [1, 2])],
        chart_id="c1",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(str(svg))  # well-formed XML
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3  # the missing value draws nothing
    heights = sorted(float(r.get("height", 0)) for r in bars)
    assert heights[-1] > heights[0] > 0
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "<b>提问量</b>" in texts and "提问 & 回答" in texts


def test_a_line_breaks_where_a_value_is_missing() -> None:
    svg = line_chart(
        "自动回答率",
        ["1", "2", "3", "4", "5"],
        [Series("率", [10, 20, None, 40, 50])],
        unit="%",
        top=100,
    )
    root = ET.fromstring(str(svg))
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    assert "100%" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))
