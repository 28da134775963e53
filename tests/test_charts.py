"""reconcile.report.charts: matplotlib charts as inline SVG elements for the HTML report.

Positions are checked against the widths matplotlib's SVG renderer measures with (DejaVu
Sans); the browser test measures what chromium actually draws.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from reconcile.report.charts import SPARKLINE_SIZE, sparkline, stacked_shares, trend_lines

NIGHTS = ["2025-11-21", "2025-11-22", "2025-11-23", "2025-11-24"]
MONTH = [f"2025-11-{day:02d}" for day in range(1, 31)]
RED, BLUE, AMBER = "#c62828", "#1565c0", "#f9a825"
PROP = FontProperties(family="DejaVu Sans", size=10)


Series = Sequence[tuple[str, Sequence[float | None], str]]
Parts = Sequence[tuple[str, Sequence[int], str]]


def trend(nights: Sequence[str] = NIGHTS, *, series: Series | None = None,
          percent: bool = True, label: str = "Hold rate by night", **size: int) -> str:
    n = len(nights)
    if series is None:
        series = [("rate", [0.1 * (i % 5) for i in range(n)], RED), ("other", [0.05] * n, BLUE)]
    return trend_lines(nights, series, percent=percent, label=label, **size)


def stacked(nights: Sequence[str] = NIGHTS, *, parts: Parts | None = None,
            label: str = "Verdicts by night", **size: int) -> str:
    n = len(nights)
    if parts is None:
        parts = [("send", [3 + i for i in range(n)], RED), ("hold", [1] * n, BLUE),
                 ("block", [i % 2 for i in range(n)], AMBER)]
    return stacked_shares(nights, parts, label=label, **size)


def spark(values: list[float | None] | None = None, label: str = "Hold rate, 30 nights") -> str:
    return sparkline([0.1, 0.3, None, 0.2, 0.25] if values is None else values, label=label)


def parse(svg: str, width: int, height: int) -> ET.Element:
    """The one <svg> element, its accessible name and its natural size, checked."""
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert svg.count("<svg") == 1
    for unwanted in ("<?xml", "<!DOCTYPE", "<!--", "<metadata", "<style", "<image"):
        assert unwanted not in svg
    root = ET.fromstring(svg)
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert "chart" in (root.get("class") or "").split()
    assert root.get("width") == str(width) and root.get("height") == str(height)
    assert root.get("viewBox") == f"0 0 {width} {height}"
    label = root.get("aria-label")
    assert label
    assert root[0].tag == "title" and root[0].text == label
    return root


def ids(svg: str) -> list[str]:
    return re.findall(r'\bid="([^"]*)"', svg)


def assert_self_contained(svg: str) -> None:
    root = ET.fromstring(svg)
    own = set(ids(svg))
    assert len(own) == len(ids(svg)), "duplicate id"
    assert "http" not in svg
    for element in root.iter():
        for name, value in element.attrib.items():
            if name.endswith("href"):
                assert value.startswith("#") and value[1:] in own, (name, value)
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#") and ref[1:] in own, ref


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("text"))


def extent(text: ET.Element) -> tuple[float, float, float, float]:
    """left, top, right, bottom of a <text>, from its anchor and matplotlib's metrics."""
    assert "transform" not in text.attrib or "rotate(-0 " in text.attrib["transform"]
    x, y = float(text.attrib["x"]), float(text.attrib["y"])
    width, height, descent = text_to_path.get_text_width_height_descent(
        text.text or "", PROP, ismath=False)
    style = text.get("style", "")
    assert "font-size: 10px" in style and "'DejaVu Sans'" in style
    anchor = re.search(r"text-anchor: (\w+)", style)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[
        anchor.group(1) if anchor else "start"]
    return left, y - (height - descent), left + width, y + descent


def assert_labels_inside(root: ET.Element, width: int, height: int) -> None:
    labels = texts(root)
    assert labels
    for text in labels:
        left, top, right, bottom = extent(text)
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, (
            text.text, (left, top, right, bottom))
    # The date labels share a baseline; no two of them may touch.
    x_labels = sorted((extent(t) for t in labels if re.fullmatch(r"\d\d-\d\d", t.text or "")),
                      key=lambda box: box[0])
    for before, after in itertools.pairwise(x_labels):
        assert after[0] - before[2] >= 4, (before, after)


def path_d(group: ET.Element) -> str:
    path = group.find("path")
    assert path is not None
    return path.get("d") or ""


def series_group(root: ET.Element, index: int) -> ET.Element:
    found = [g for g in root.iter("g") if g.get("class") == f"series-{index}"]
    assert len(found) == 1
    assert (found[0].get("id") or "").endswith(f"-series-{index}")
    return found[0]


# --- shape of each chart -----------------------------------------------------------------

def test_sparkline_is_a_small_svg_with_no_text() -> None:
    width, height = SPARKLINE_SIZE
    assert (width, height) == (96, 24)
    svg = spark()
    root = parse(svg, width, height)
    assert root.get("aria-label") == "Hold rate, 30 nights"
    assert texts(root) == []
    assert_self_contained(svg)


def test_sparkline_marks_the_last_value_with_a_dot() -> None:
    root = ET.fromstring(spark([0.1, 0.2, 0.3]))
    uses = list(root.iter("use"))
    assert len(uses) == 1
    assert float(uses[0].attrib["x"]) == pytest.approx(SPARKLINE_SIZE[0] - 3)
    # A missing last night leaves the line short of the edge and no dot.
    root = ET.fromstring(spark([0.1, 0.2, None]))
    assert list(root.iter("use")) == []


def test_trend_lines_svg() -> None:
    svg = trend()
    root = parse(svg, 380, 200)
    assert root.get("aria-label") == "Hold rate by night"
    labels = [t.text for t in texts(root)]
    assert [x for x in labels if "-" in (x or "")] == ["11-21", "11-22", "11-23", "11-24"]
    assert "0%" in labels and "20%" in labels
    assert all(re.fullmatch(r"\d+%|\d\d-\d\d", x or "") for x in labels)
    assert_labels_inside(root, 380, 200)
    assert_self_contained(svg)
    for index, colour in enumerate((RED, BLUE)):
        assert colour in ET.tostring(series_group(root, index), encoding="unicode")


def test_trend_lines_counts_and_size() -> None:
    svg = trend(series=[("held", [1200, 3400, 2500, 0], RED)], percent=False,
                width_px=300, height_px=150)
    root = parse(svg, 300, 150)
    labels = [t.text for t in texts(root)]
    assert "0" in labels and not any("%" in (x or "") for x in labels)
    assert any("," in (x or "") for x in labels)
    assert_labels_inside(root, 300, 150)


def test_percent_ticks_read_as_percent() -> None:
    root = ET.fromstring(trend(series=[("rate", [0.1, 0.9, 0.5, 1.0], RED)]))
    y_labels = [t.text for t in texts(root) if "%" in (t.text or "")]
    assert y_labels == ["0%", "25%", "50%", "75%", "100%"]


def test_trend_lines_y_starts_at_zero() -> None:
    root = ET.fromstring(trend(series=[("rate", [0.4, 0.42, 0.41, 0.43], RED)]))
    assert next(t.text for t in texts(root) if "%" in (t.text or "")) == "0%"


def test_stacked_shares_svg() -> None:
    svg = stacked()
    root = parse(svg, 380, 200)
    labels = [t.text for t in texts(root)]
    assert [x for x in labels if "%" in (x or "")] == ["0%", "25%", "50%", "75%", "100%"]
    assert "11-24" in labels
    assert_labels_inside(root, 380, 200)
    assert_self_contained(svg)
    for index in range(3):
        series_group(root, index)


def test_stacked_shares_zero_night_draws_nothing() -> None:
    parts = [("send", [2, 0, 1, 5], RED), ("hold", [2, 0, 0, 5], BLUE)]
    root = ET.fromstring(stacked(parts=parts))
    # One closed rectangle per non-zero count; the empty night has none.
    rectangles = [path_d(series_group(root, i)).count("z") for i in range(2)]
    assert rectangles == [3, 2]


def test_stacked_bar_reaches_the_top_and_the_part_with_nothing_has_no_group() -> None:
    root = ET.fromstring(stacked(parts=[("a", [0, 0, 0, 0], RED), ("b", [1, 2, 3, 4], BLUE)]))
    assert [g for g in root.iter("g") if g.get("class") == "series-0"] == []
    series_group(root, 1)


# --- deterministic, self-contained, own ids ------------------------------------------------

def test_same_input_same_bytes() -> None:
    assert trend() == trend()
    assert stacked() == stacked()
    assert spark() == spark()


def test_two_charts_share_no_id() -> None:
    charts = [trend(), trend(label="Block rate by night"), trend(series=[("x", [0, 0.1, 0.2,
              0.3], RED)]), stacked(), stacked(label="Other"), spark(), spark(label="Other"),
              spark([0.5, 0.1])]
    seen: set[str] = set()
    for svg in charts:
        own = set(ids(svg))
        assert own, "each chart refers to its own defs"
        assert not own & seen
        seen |= own


def test_label_is_escaped() -> None:
    label = 'Hold & block <rate> "nightly"'
    for svg in (trend(label=label), stacked(label=label), spark(label=label)):
        assert "<rate>" not in svg
        assert ET.fromstring(svg).get("aria-label") == label


def test_nothing_external() -> None:
    for svg in (trend(), stacked(), spark()):
        assert "http" not in svg and "<image" not in svg and "xlink" not in svg
        assert re.findall(r'href="([^"]*)"', svg)  # the tick marks and dots are <use>
        assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', svg))


# --- gaps, one night, many nights, bad input ---------------------------------------------

def test_none_is_a_gap() -> None:
    root = ET.fromstring(trend(series=[("rate", [0.1, None, 0.3, 0.2], RED)]))
    d = path_d(series_group(root, 0))
    # The isolated first value is a dot; the line starts again after the gap.
    assert d.count("M") == 2 and d.count("L") == 1
    assert len(list(series_group(root, 0).iter("use"))) == 1
    assert spark([None, 0.2, None, 0.4, 0.5]).count("<use") == 2


def test_a_single_night() -> None:
    root = parse(trend(["2025-11-24"], series=[("rate", [0.5], RED)]), 380, 200)
    assert len(list(series_group(root, 0).iter("use"))) == 1
    assert [t.text for t in texts(root) if "-" in (t.text or "")] == ["11-24"]
    assert_labels_inside(root, 380, 200)
    root = parse(stacked(["2025-11-24"], parts=[("a", [1], RED), ("b", [3], BLUE)]), 380, 200)
    assert path_d(series_group(root, 1)).count("z") == 1
    assert_labels_inside(root, 380, 200)
    assert "<use" in spark([0.3])


def test_many_nights_are_thinned_to_at_most_six_dates_ending_with_the_last() -> None:
    for svg, width in ((trend(MONTH), 380), (stacked(MONTH), 380),
                       (trend(MONTH, width_px=200, height_px=120), 200)):
        root = ET.fromstring(svg)
        dates = [t.text for t in texts(root) if re.fullmatch(r"\d\d-\d\d", t.text or "")]
        assert 2 <= len(dates) <= 6
        assert dates[-1] == "11-30"
        assert_labels_inside(root, width, int(root.attrib["height"]))


def test_empty_input_is_an_error() -> None:
    with pytest.raises(ValueError):
        sparkline([], label="x")
    with pytest.raises(ValueError):
        trend_lines([], [], percent=True, label="x")
    with pytest.raises(ValueError):
        stacked_shares([], [], label="x")


@pytest.mark.parametrize("make", [
    lambda: trend(series=[("rate", [0.1, 0.2], RED)]),
    lambda: stacked(parts=[("a", [1, 2, 3], RED)]),
    lambda: stacked(parts=[("a", [1, -2, 3, 4], RED)]),
    lambda: trend(["2025/11/24"], series=[]),
    lambda: trend(["2025-13-01"], series=[]),
    lambda: trend(series=[("rate", [0.1, float("inf"), 0.2, 0.3], RED)]),
])
def test_bad_input_is_an_error(make: Callable[[], str]) -> None:
    with pytest.raises(ValueError):
        make()


# --- any short history -------------------------------------------------------------------

value = st.one_of(st.none(), st.floats(0, 1))


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[str], list[list[float | None]], list[list[int]]]:
    n = draw(st.integers(1, 30))
    nights = [f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(n)]
    lines = draw(st.lists(st.lists(value, min_size=n, max_size=n), min_size=1, max_size=3))
    counts = draw(st.lists(st.lists(st.integers(0, 50), min_size=n, max_size=n),
                           min_size=1, max_size=3))
    return nights, lines, counts


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(histories())
def test_any_short_history_renders(
        history: tuple[list[str], list[list[float | None]], list[list[int]]]) -> None:
    nights, lines, counts = history
    colours = [RED, BLUE, AMBER]
    series = [(f"s{i}", values, colours[i]) for i, values in enumerate(lines)]
    parts = [(f"p{i}", values, colours[i]) for i, values in enumerate(counts)]
    charts: list[tuple[Callable[[], str], int, int]] = [
        (lambda: trend_lines(nights, series, percent=True, label="rates"), 380, 200),
        (lambda: trend_lines(nights, series, percent=False, label="n"), 380, 200),
        (lambda: stacked_shares(nights, parts, label="shares"), 380, 200),
        (lambda: sparkline(lines[0], label="spark"), *SPARKLINE_SIZE),
    ]
    seen: set[str] = set()
    for make, width, height in charts:
        svg = make()
        assert make() == svg
        root = parse(svg, width, height)
        assert_self_contained(svg)
        if (width, height) != SPARKLINE_SIZE:
            assert_labels_inside(root, width, height)
        own = set(ids(svg))
        assert not own & seen
        seen |= own


@pytest.mark.slow
def test_no_global_matplotlib_state() -> None:
    import subprocess
    import sys

    import matplotlib

    before = {key: matplotlib.rcParams[key] for key in ("svg.fonttype", "svg.hashsalt",
                                                           "font.family", "font.sans-serif")}
    trend(), stacked(), spark()
    assert {key: matplotlib.rcParams[key] for key in before} == before
    code = ("import sys; from reconcile.report import charts; "
            "charts.trend_lines(['2025-11-24'], [('a', [0.5], '#c62828')], percent=True, "
            "label='x'); print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
