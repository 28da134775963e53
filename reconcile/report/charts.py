"""The HTML morning report's charts: drawn by matplotlib, returned as inline `<svg>` elements.

Each chart is self-contained (no external reference), deterministic, and its ids are its own.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from reconcile.safe_text import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

SPARKLINE_SIZE = (96, 24)
# More date labels than this crowd a 380 px chart even when they would fit.
MAX_X_TICKS = 6
FONT_PX = 10
FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "sans-serif")

_TEXT = "#333333"
_AXIS = "#9e9e9e"
_GRID = "#e5e5e5"
# Least empty space between two neighbouring date labels.
_LABEL_GAP_PX = 8.0
# Room at the sparkline's edges for the end dot and half the line's width.
_SPARK_PAD_PX = 3.0
_NIGHT = re.compile(r"\d{4}-\d{2}-\d{2}")
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_REFERENCE = re.compile(r"(?:url\(#|^#)([^)\s]+)")
_SERIES_ID = re.compile(r"series-\d+")
_NO_ROTATION = re.compile(r"rotate\(-?0 [^)]*\)")

# The figure is 1 unit per CSS px (dpi 72: one point per unit), so sizes below are px.
# rcParams is one global dict: rc_context swaps it in and out, so two threads drawing at once
# would see each other's settings; _LOCK serialises the drawing.
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "reconcile-report-charts",
    "font.family": list(FONTS),
    # matplotlib writes the generic family expanded to this list; keep it to our own fonts.
    "font.sans-serif": list(FONTS[:-1]),
    "font.size": FONT_PX,
    "xtick.labelsize": FONT_PX,
    "ytick.labelsize": FONT_PX,
    "xtick.labelcolor": _TEXT,
    "ytick.labelcolor": _TEXT,
    "xtick.color": _AXIS,
    "ytick.color": _AXIS,
    "axes.edgecolor": _AXIS,
    "axes.linewidth": 0.8,
    "axes.unicode_minus": False,
    "path.simplify": False,
}
_LOCK = threading.Lock()


def sparkline(values: Sequence[float | None], *, color: str = "#c62828", label: str) -> str:
    """A 96×24 px trend line with no axes and no text; None is a missing night (a gap).

    The y range is the values' own min..max (the shape, not the level); the last night's
    value, if there is one, is marked with a dot, as is any value with gaps on both sides.
    """
    ys = _floats(values, len(values), "values")
    if not ys:
        raise ValueError("sparkline needs at least one value")
    width, height = SPARKLINE_SIZE
    key = ("sparkline", label, color, tuple(values))
    with _drawing():
        fig = _figure(width, height)
        ax = fig.add_axes((_SPARK_PAD_PX / width, _SPARK_PAD_PX / height,
                           1 - 2 * _SPARK_PAD_PX / width, 1 - 2 * _SPARK_PAD_PX / height))
        ax.set_axis_off()
        ax.patch.set_visible(False)
        n = len(ys)
        ax.set_xlim(*((-0.5, 0.5) if n == 1 else (0, n - 1)))
        drawn = [y for y in ys if not math.isnan(y)]
        low, high = (min(drawn), max(drawn)) if drawn else (0.0, 1.0)
        ax.set_ylim(*((low - 1, high + 1) if low == high else (low, high)))
        dots = set(_isolated(ys))
        if not math.isnan(ys[-1]):
            dots.add(n - 1)
        _line(ax, ys, color, sorted(dots), gid=None)
        return _svg(fig, width, height, label, key)


def trend_lines(nights: Sequence[str], series: Sequence[tuple[str, Sequence[float | None], str]],
                *, percent: bool, label: str, width_px: int = 380, height_px: int = 200) -> str:
    """One line per (name, values, colour) over nights; y from 0, percent ticks if percent.

    Values are fractions 0..1 when percent. None is a missing night (a gap in that line);
    a value with gaps on both sides is drawn as a dot. Each line's group has the id
    `<chart>-series-<index>` and the class `series-<index>`, for the report's HTML legend.
    """
    labels = _night_labels(nights)
    lines = [(name, _floats(values, len(labels), f"series {name!r}"), colour)
             for name, values, colour in series]
    key = ("trend_lines", label, percent, width_px, height_px, tuple(nights),
           tuple((name, tuple(values), colour) for name, values, colour in series))
    drawn = [y for _, ys, _ in lines for y in ys if not math.isnan(y)]
    ticks, tick_labels = _y_ticks(min(drawn, default=0.0), max(drawn, default=0.0), percent)
    with _drawing():
        fig = _figure(width_px, height_px)
        ax = _chart_axes(fig, labels, ticks, tick_labels)
        for index, (_, ys, colour) in enumerate(lines):
            _line(ax, ys, colour, _isolated(ys), gid=f"series-{index}")
        return _svg(fig, width_px, height_px, label, key)


def stacked_shares(nights: Sequence[str], parts: Sequence[tuple[str, Sequence[int], str]], *,
                   label: str, width_px: int = 380, height_px: int = 200) -> str:
    """One 100 % bar per night, split into each (name, counts, colour) part's share of it.

    A night whose counts are all 0 has no bar. Each part's bars are one group with the id
    `<chart>-series-<index>` and the class `series-<index>`, as in trend_lines.
    """
    labels = _night_labels(nights)
    counts = [(name, _counts(values, len(labels), f"part {name!r}"), colour)
              for name, values, colour in parts]
    key = ("stacked_shares", label, width_px, height_px, tuple(nights),
           tuple((name, tuple(values), colour) for name, values, colour in parts))
    totals = [sum(night) for night in zip(*(c for _, c, _ in counts), strict=True)]
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    with _drawing():
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path

        fig = _figure(width_px, height_px)
        ax = _chart_axes(fig, labels, ticks, [_format(t, 0, percent=True) for t in ticks])
        below = [0] * len(labels)
        for index, (_, values, colour) in enumerate(counts):
            bars = []
            for night, (count, total) in enumerate(zip(values, totals, strict=True)):
                if count > 0:
                    bottom, top = below[night] / total, (below[night] + count) / total
                    left, right = night - 0.35, night + 0.35
                    bars.append(Path([(left, bottom), (right, bottom), (right, top),
                                      (left, top), (left, bottom)], closed=True))
                    below[night] += count
            if bars:
                # One path per part, so the part is one group the legend can point at.
                ax.add_patch(PathPatch(Path.make_compound_path(*bars), facecolor=colour,
                                       edgecolor="none", linewidth=0, clip_on=False,
                                       gid=f"series-{index}"))
        return _svg(fig, width_px, height_px, label, key)


class _drawing:
    """The lock and the chart rcParams, held while a figure is built and saved."""

    def __enter__(self) -> None:
        import matplotlib

        _LOCK.acquire()
        try:
            self._rc = matplotlib.rc_context(_RC)
            self._rc.__enter__()
        except BaseException:
            _LOCK.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self._rc.__exit__(None, None, None)
        finally:
            _LOCK.release()


def _figure(width_px: int, height_px: int) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 72, height_px / 72), dpi=72)
    fig.patch.set_visible(False)
    return fig


def _chart_axes(fig: Figure, labels: Sequence[str], y_ticks: Sequence[float],
                y_labels: Sequence[str]) -> Axes:
    """Axes with nights on x (thinned so no two labels touch) and the given y ticks."""
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    ax.patch.set_visible(False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)
    ax.yaxis.grid(True, color=_GRID, linewidth=0.8)
    ax.tick_params(axis="y", length=0, pad=4)
    ax.tick_params(axis="x", length=3, pad=3)
    ax.set_ylim(y_ticks[0], y_ticks[-1])
    ax.set_yticks(list(y_ticks), list(y_labels))
    n = len(labels)
    ax.set_xlim(-0.5, n - 0.5)
    step = _x_step(fig, labels, y_labels)
    # Counted back from the last night, so the latest one always has its date.
    shown = list(range(n - 1, -1, -step))[::-1]
    ax.set_xticks(shown, [labels[i] for i in shown])
    return ax


def _x_step(fig: Figure, labels: Sequence[str], y_labels: Sequence[str]) -> int:
    """Every how many nights a date label fits, from the widths the SVG renderer will use.

    The plot's width is estimated before layout (the figure less the y labels, the paddings
    and half a date label overhanging on the right), erring narrow.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family=list(FONTS), size=FONT_PX)

    def width(text: str) -> float:
        return float(text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0])

    label_w = max(width(text) for text in labels)
    y_label_w = max((width(text) for text in y_labels), default=0.0)
    pad = 3.0  # constrained layout's own margin, on each side
    plot_w = fig.get_figwidth() * 72 - y_label_w - 4 - 2 * pad - label_w / 2
    n = len(labels)
    slot = max(plot_w, 1.0) / n
    return max(1, math.ceil(n / MAX_X_TICKS), math.ceil((label_w + _LABEL_GAP_PX) / slot))


def _line(ax: Axes, ys: Sequence[float], colour: str, dots: Sequence[int],
          gid: str | None) -> None:
    line_style: dict[str, Any] = {"marker": "o", "markersize": 4, "markeredgewidth": 0,
                                  "markevery": list(dots)} if dots else {"marker": "None"}
    # Unclipped: a line along y = 0 or the top would otherwise lose half its width.
    ax.plot(range(len(ys)), ys, color=colour, linewidth=1.75, solid_joinstyle="round",
            solid_capstyle="round", clip_on=False, gid=gid, **line_style)


def _isolated(ys: Sequence[float]) -> list[int]:
    """Indexes of values with no value on either side: a line alone would not show them."""
    def missing(i: int) -> bool:
        return i < 0 or i >= len(ys) or math.isnan(ys[i])

    return [i for i in range(len(ys)) if not missing(i) and missing(i - 1) and missing(i + 1)]


def _y_ticks(low: float, high: float, percent: bool) -> tuple[list[float], list[str]]:
    """Round ticks from 0 (or below, for a negative value) to at least high, and their labels."""
    from matplotlib.ticker import MaxNLocator

    low = min(0.0, low)
    # A span below a millionth would need labels longer than the chart is useful for.
    high = low + 1 if high <= low else max(high, low + 1e-6)
    locator = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10])
    ticks = [float(t) for t in locator.tick_values(low, high)]
    # The locator may add a tick beyond each end; keep the ones that span [low, high].
    first = max((i for i, t in enumerate(ticks) if t <= low), default=0)
    last = min((i for i, t in enumerate(ticks) if t >= high), default=len(ticks) - 1)
    ticks = ticks[first:last + 1]
    scale = 100 if percent else 1
    decimals = next((d for d in range(7)
                     if all(abs(round(t * scale, d) - t * scale) < 1e-9 for t in ticks)), 6)
    return ticks, [_format(t, decimals, percent=percent) for t in ticks]


def _format(value: float, decimals: int, *, percent: bool) -> str:
    scaled = round(value * (100 if percent else 1), decimals)
    # The baseline reads "0%", not "0.000%"; the other ticks share one number of decimals.
    text = "0" if scaled == 0 else f"{scaled:,.{decimals}f}"
    return text + ("%" if percent else "")


def _night_labels(nights: Sequence[str]) -> list[str]:
    if not nights:
        raise ValueError("a chart needs at least one night")
    labels = []
    for night in nights:
        if not isinstance(night, str) or not _NIGHT.fullmatch(night):
            raise ValueError(f"night {night!r} is not a YYYY-MM-DD date")
        labels.append(date.fromisoformat(night).strftime("%m-%d"))
    return labels


def _floats(values: Sequence[float | None], n: int, what: str) -> list[float]:
    """values as floats with NaN for None (matplotlib's gap); one per night."""
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} values for {n} nights")
    out = []
    for value in values:
        number = math.nan if value is None else float(value)
        if math.isinf(number):
            raise ValueError(f"{what} has an infinite value")
        out.append(number)
    return out


def _counts(values: Sequence[int], n: int, what: str) -> list[int]:
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} counts for {n} nights")
    if any(v < 0 for v in values):
        raise ValueError(f"{what} has a negative count")
    return [int(v) for v in values]


def _svg(fig: Figure, width: int, height: int, label: str, key: object) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches=None,
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    # The same chart twice on a page would share ids; any two different charts do not.
    prefix = "c" + hashlib.sha256(repr(key).encode()).hexdigest()[:10]
    return _inline(buf.getvalue(), width, height, label, prefix)


def _inline(document: str, width: int, height: int, label: str, prefix: str) -> str:
    """matplotlib's SVG document as an element for an HTML page.

    Out go the XML declaration, DOCTYPE, metadata, namespaces (so no URL is left; an HTML
    parser puts <svg> in its namespace itself) and the <style> element (a <style> inline in
    HTML applies to the whole page; its two rules become inherited attributes). Ids nothing
    refers to are dropped and the rest prefixed, so that several charts share a page.
    """
    document = re.sub(r"<!DOCTYPE[^>]*>", "", document, count=1)
    source = ET.fromstring(document)
    if source.get("viewBox") != f"0 0 {width} {height}":
        raise AssertionError(f"unexpected viewBox {source.get('viewBox')!r}")
    for element in source.iter():
        element.tag = element.tag.rpartition("}")[2]
        for name in list(element.attrib):
            if name.startswith("{"):
                value = element.attrib.pop(name)
                element.set("href" if name == _XLINK_HREF else name.rpartition("}")[2], value)
    referenced = {m.group(1) for element in source.iter() for value in element.attrib.values()
                  for m in _REFERENCE.finditer(value)}

    def rename(match: re.Match[str]) -> str:
        return match.group(0).replace(match.group(1), f"{prefix}-{match.group(1)}")

    for element in source.iter():
        element.tail = None
        if element.text is not None and not element.text.strip():
            element.text = None
        ident = element.get("id")
        if ident is not None:
            if ident in referenced or _SERIES_ID.fullmatch(ident):
                element.set("id", f"{prefix}-{ident}")
                if _SERIES_ID.fullmatch(ident):
                    element.set("class", ident)
            else:
                del element.attrib["id"]
        for name, value in list(element.attrib.items()):
            if name == "d":
                element.set(name, " ".join(value.split()))
            elif name == "transform" and _NO_ROTATION.fullmatch(value):
                del element.attrib[name]
            elif name != "id":
                element.set(name, _REFERENCE.sub(rename, value))

    root = ET.Element("svg", {
        "class": "chart", "role": "img", "aria-label": printable(label),
        "width": str(width), "height": str(height), "viewBox": f"0 0 {width} {height}",
        "stroke-linejoin": "round", "stroke-linecap": "butt",
    })
    ET.SubElement(root, "title").text = printable(label)
    root.extend(_kept(source))
    return ET.tostring(root, encoding="unicode")


def _kept(parent: ET.Element) -> Iterator[ET.Element]:
    """parent's children, less metadata, style and empty <defs>, with bare <g> unwrapped."""
    for child in parent:
        if child.tag in ("metadata", "style"):
            continue
        kept = list(_kept(child))
        if child.tag == "g" and not child.attrib:
            yield from kept
        elif child.tag != "defs" or kept:
            child[:] = kept
            yield child
