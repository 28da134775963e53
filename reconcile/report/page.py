"""The report as one self-contained HTML page: inline CSS, charts as inline SVG drawn by
matplotlib (reconcile.report.charts), no script, nothing fetched. Works from 360 px up."""

from __future__ import annotations

import html
from collections.abc import Sequence

from reconcile.checks import DEFAULT_VERDICT_POLICY
from reconcile.report import charts, outline
from reconcile.report import wording as w
from reconcile.report.build import Change, Example, KeyTrend, Report, Trends
from reconcile.report.vocabulary import column, phrase

VERDICT_COLORS = {"send": "#2e7d32", "hold": "#b37d00", "block": "#c62828",
                  "rejected": "#6d6d6d"}
STALENESS_COLORS = ("#2e7d32", "#7cb342", "#e6a100", "#ef6c00", "#c62828")
# Lines of a trend chart, in order (one per key, outline.TREND_KEYS of them); colour-blind
# safe (Okabe–Ito).
SERIES_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00")
TREND_KEYS = outline.TREND_KEYS

CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",
"Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;color:#1d1d1f;background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:12px}
header.top{background:#1f2a44;color:#fff;border-radius:10px;padding:14px 16px;margin-bottom:12px}
header.top h1{margin:0 0 4px;font-size:1.25rem}
header.top p{margin:2px 0;font-size:.85rem;opacity:.9;overflow-wrap:anywhere}
header.top p.warning{opacity:1;color:#ffd27a}
section{background:#fff;border-radius:10px;padding:12px 14px;margin-bottom:12px;
box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:0}
h2{font-size:1.1rem;margin:0 0 8px}
h3{font-size:.95rem;margin:12px 0 6px}
p.note{font-size:.82rem;color:#555;margin:4px 0 8px;overflow-wrap:anywhere}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px;
margin-bottom:10px}
.tile{border-radius:8px;padding:8px 10px;color:#fff;display:flex;flex-wrap:wrap;
align-items:baseline;gap:0 8px}
.tile .n{font-size:1.5rem;font-weight:700;line-height:1.2}
.tile .l{font-size:.9rem}
.tile .s{font-size:.8rem;opacity:.9;margin-left:auto}
.tile.send{background:#2e7d32}.tile.hold{background:#9a6b00}
.tile.block{background:#c62828}.tile.rejected{background:#6d6d6d}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.grid>div{min-width:0}
svg.chart{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{padding:4px 6px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap;
vertical-align:top}
th{white-space:normal;vertical-align:bottom}
td small{display:block;color:#666;font-size:.75rem;line-height:1.35;white-space:normal}
th:first-child,td:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;
min-width:7em}
th{background:#f0f1f3;font-weight:600}
td.worse{color:#c62828;font-weight:600}td.better{color:#2e7d32;font-weight:600}
td.bar{width:30%;min-width:60px}
.track{background:#eceef1;border-radius:3px;height:12px;display:flex;overflow:hidden}
.track i{display:block;height:100%}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.8rem;margin:6px 0}
.legend span{white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.status-ok{color:#2e7d32;font-weight:600}.status-problem{color:#c62828;font-weight:600}
.status-off{color:#6d6d6d}
details{border-top:1px solid #e3e3e3;padding:6px 0}
summary{cursor:pointer;font-weight:600;font-size:.92rem}
summary small{font-weight:400;color:#666}
.example{border:1px solid #e3e3e3;border-left:4px solid #6d6d6d;border-radius:6px;
padding:8px 10px;margin:8px 0}
.example.block{border-left-color:#c62828}.example.hold{border-left-color:#b37d00}
.example .id{font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.75rem;color:#fff;border-radius:4px;padding:0 6px;
margin-left:6px}
.badge.block{background:#c62828}.badge.hold{background:#9a6b00}.badge.send{background:#2e7d32}
.badge.rejected{background:#6d6d6d}
.example dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 10px;
margin:6px 0;font-size:.85rem}
.example dt{color:#666}.example dd{margin:0;overflow-wrap:anywhere}
.example ul{margin:4px 0 0;padding-left:18px;font-size:.85rem}
.example li{overflow-wrap:anywhere}
dl.glossary{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);
gap:4px 12px;font-size:.85rem}
dl.glossary dt{font-weight:600;overflow-wrap:anywhere}dl.glossary dd{margin:0}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
footer{font-size:.75rem;color:#777;text-align:center;padding:8px}
@media (max-width:480px){main{padding:6px}section{padding:10px}
table{font-size:.8rem}th,td{padding:3px 4px}.wide{display:none}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]],
           classes: Sequence[Sequence[str]] | None = None, raw_columns: Sequence[int] = (),
           wide_columns: Sequence[int] = ()) -> str:
    """A table; cells of raw_columns are HTML already, the others are escaped; wide_columns
    are left out on a phone (the text and JSON reports keep every figure)."""
    head = "".join(f'<th class="wide">{_e(h)}</th>' if j in wide_columns else f"<th>{_e(h)}</th>"
                   for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            css = " ".join(c for c in ((classes[i][j] if classes else ""),
                                       "wide" if j in wide_columns else "") if c)
            content = cell if j in raw_columns else _e(cell)
            cells.append(f'<td class="{css}">{content}</td>' if css else f"<td>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{note_html}{body}</section>'


def _bar(parts: Sequence[tuple[float, str]]) -> str:
    """A horizontal bar of (fraction of the track, colour) segments, as HTML."""
    segments = "".join(f'<i style="width:{100 * max(0.0, min(1.0, f)):.1f}%;background:{c}"></i>'
                       for f, c in parts if f > 0)
    return f'<div class="track">{segments}</div>'


def _name_cell(name: str, explanation: str) -> str:
    return f"{_e(name)}<small>{_e(explanation)}</small>"


def _legend(items: Sequence[tuple[str, str]]) -> str:
    spans = "".join(f'<span><i style="background:{c}"></i>{_e(n)}</span>' for n, c in items)
    return f'<div class="legend">{spans}</div>'


def render_html(report: Report, lang: str) -> str:
    run = report.run
    body = "".join([_header(report, lang), _glance(report, lang), _trends(report, lang),
                    _flags(report, lang), _misfires(report, lang), _staleness(report, lang),
                    _comparison(report, lang), _complaints(report, lang),
                    _examples(report, lang), _glossary(report, lang)])
    footer = phrase("footer", lang, version=run.reconcile_version, run=run.run_id)
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(phrase('title', lang))} {_e(run.run_id)}</title><style>{CSS}</style>"
        f"</head><body><main>{body}<footer>{_e(footer)}</footer></main></body></html>\n"
    )


def _header(report: Report, lang: str) -> str:
    run = report.run
    lines = [
        f"{phrase('as_of', lang)} {run.as_of} ({report.timezone}) · "
        f"{phrase('finished', lang)} {run.finished_at}",
        f"{phrase('drop', lang)} {run.data_dir} · reconcile {run.reconcile_version}",
        w.previous_line(report, lang),
    ]
    return (f'<header class="top"><h1>{_e(phrase("title", lang))}</h1>'
            f'<p>{_e(phrase("run", lang))} <code id="run-id">{_e(run.run_id)}</code></p>'
            + "".join(f"<p>{_e(line)}</p>" for line in lines)
            + f'<p class="pii">{_e(w.pii_note(report, lang))}</p>'
            + "".join(f'<p class="warning">{_e(phrase("warning", lang))}: {_e(x)}</p>'
                      for x in run.warnings)
            + "</header>")


def _glance(report: Report, lang: str) -> str:
    total = sum(c.count for c in report.verdicts)
    tiles = "".join(
        f'<div class="tile {_e(c.name)}" id="verdict-{_e(c.name)}"><span class="n">{c.count}'
        f'</span><span class="l">{_e(w.outcome_label(c.name, lang))}</span>'
        f'<span class="s">{w.percent(c.share)}</span></div>' for c in report.verdicts)
    parts = [f'<div class="tiles">{tiles}</div>']
    glance = report.glance
    if glance is not None:
        parts.append('<div class="grid">')
        parts.append(f"<div><h3>{_e(phrase('changes', lang))}</h3>"
                     + _table(w.movement_headers(lang),
                              [w.movement_row(m, lang) for m in glance.movements]) + "</div>")
        parts.append(f"<div><h3>{_e(phrase('worst_rules', lang))}</h3>{_watched(report, lang)}"
                     "</div>")
        parts.append(f"<div><h3>{_e(phrase('feed_health', lang))}</h3>{_feeds(report, lang)}"
                     "</div>")
        parts.append("</div>")
    return _section("glance", phrase("glance", lang), "".join(parts),
                    phrase("rows_and_fps", lang, rows=total, fps=report.false_positives))


def _watched(report: Report, lang: str) -> str:
    assert report.glance is not None
    watched = report.glance.watched
    if not watched:
        return f'<p class="note">{_e(phrase("no_rules", lang))}</p>'
    rows = []
    for rule in watched:
        key, _, median, why = w.watched_row(rule, lang)
        line = charts.sparkline(list(rule.recent_rates), color="#c62828",
                                label=f"{key} {column('trend', lang)}")
        rate = _name_cell(w.percent(rule.rate), f"{rule.false_positives}/{rule.messages}")
        rows.append([_name_cell(key, why), rate, _e(median), line])
    note = phrase("worst_rules_note", lang, nights=len(watched[0].recent_rates))
    headers = [*w.watched_headers(lang)[:3], column("trend", lang)]
    return (f'<p class="note">{_e(note)}</p>'
            + _table(headers, rows, raw_columns=(0, 1, 2, 3)))


def _feeds(report: Report, lang: str) -> str:
    assert report.glance is not None
    rows, classes = [], []
    for guard in report.glance.feeds:
        state = "off" if not guard.enabled else "problem" if guard.held else "ok"
        rows.append([w.feed_guard_name(guard.flag, lang),
                     w.feed_status(guard.held, guard.enabled, lang)])
        classes.append(["", f"status-{state}"])
    return _table([phrase("guard", lang), phrase("status", lang)], rows, classes)


def _trends(report: Report, lang: str) -> str:
    trends = report.trends
    if trends is None:
        return ""
    nights = trends.night_dates
    note = phrase("trends_note", lang, nights=len(nights))
    if len(nights) < 2:
        return _section("trends", phrase("trends", lang),
                        f'<p class="note">{_e(phrase("trend_one_night", lang))}</p>', note)
    verdict_parts = [(w.outcome_label(o, lang), [n.count(o) for n in trends.nights],
                      VERDICT_COLORS[o]) for o in VERDICT_COLORS]
    blocks = [_chart_block(
        phrase("trend_verdicts", lang),
        charts.stacked_shares(nights, verdict_parts, label=phrase("trend_verdicts", lang)),
        [(name, colour) for name, _, colour in verdict_parts])]
    blocks += [_key_trend_block(phrase(title, lang), series, nights)
               for title, series in (("trend_rules", trends.rules),
                                     ("trend_templates", trends.templates))
               if Trends.most_misfiring(series, TREND_KEYS)]
    blocks.append(_staleness_trend(trends, lang))
    medians = _medians_table(trends, lang)
    return _section("trends", phrase("trends", lang),
                    f'<div class="grid">{"".join(blocks)}</div>{medians}', note)


def _chart_block(title: str, svg: str, legend: Sequence[tuple[str, str]]) -> str:
    return f"<div><h3>{_e(title)}</h3>{svg}{_legend(legend)}</div>"


def _key_trend_block(title: str, series: tuple[KeyTrend, ...], nights: tuple[str, ...]) -> str:
    top = Trends.most_misfiring(series, TREND_KEYS)
    lines = [(w.key_shown(t.key), list(t.rates), colour)
             for t, colour in zip(top, SERIES_COLORS, strict=False)]
    svg = charts.trend_lines(nights, lines, percent=True, label=title)
    return _chart_block(title, svg, [(name, colour) for name, _, colour in lines])


def _staleness_trend(trends: Trends, lang: str) -> str:
    title = phrase("trend_staleness", lang)
    lines = [(phrase("median_line", lang), [n.median_age_hours for n in trends.nights],
              SERIES_COLORS[0]),
             (phrase("p90_line", lang), [n.p90_age_hours for n in trends.nights],
              SERIES_COLORS[1])]
    svg = charts.trend_lines(trends.night_dates, lines, percent=False, label=title)
    return _chart_block(title, svg, [(name, colour) for name, _, colour in lines])


def _medians_table(trends: Trends, lang: str) -> str:
    tables = [outline.key_medians(Trends.most_misfiring(series, TREND_KEYS), noun, lang)
              for noun, series in (("rule", trends.rules), ("template", trends.templates))]
    shown = "".join(_table(t.headers, t.rows) for t in tables if t.rows)
    return f"<h3>{_e(phrase('medians', lang))}</h3>{shown}" if shown else ""


def _flags(report: Report, lang: str) -> str:
    shown = [c for c in report.flags if c.count]
    top = max([c.count for c in shown] + [1])
    rows = [[_name_cell(w.flag_label(c.name, lang), w.flag_explained(c.name, lang)),
             str(c.count), w.percent(c.share),
             _bar([(c.count / top, VERDICT_COLORS[DEFAULT_VERDICT_POLICY.get(c.name, "hold")])])]
            for c in shown]
    classes = [["", "", "", "bar"] for _ in rows]
    note = phrase("flags_note", lang)
    if len(shown) < len(report.flags):
        note += " " + phrase("flags_none", lang, count=len(report.flags) - len(shown))
    table = _table([column("flags", lang), column("messages", lang), column("share", lang), ""],
                   rows, classes, raw_columns=(0, 3))
    return _section("flags", phrase("flags", lang), table, note)


def _misfires(report: Report, lang: str) -> str:
    out = []
    for anchor, noun, items in (("rules", "rule", report.rules),
                                ("templates", "template", report.templates)):
        rows, more = w.shown(items)
        tail = f'<p class="note">{_e(phrase("more_rows", lang, count=more))}</p>' if more else ""
        table = _table(w.misfire_headers(noun, lang), [w.misfire_row(m) for m in rows],
                       wide_columns=(4, 5, 6))
        note = phrase("fp_definition", lang) if noun == "rule" else ""
        out.append(_section(anchor, phrase(anchor, lang), table + tail, note))
    return "".join(out)


def _staleness(report: Report, lang: str) -> str:
    buckets = list(zip(report.staleness_buckets, STALENESS_COLORS, strict=True))
    rows = [[w.key_shown(s.rule_id),
             _bar([(n / (sum(s.buckets) or 1), colour)
                   for n, (_, colour) in zip(s.buckets, buckets, strict=True)]),
             *(str(n) for n in s.buckets), f"{s.median_hours:.1f}", f"{s.max_hours:.1f}"]
            for s in report.staleness]
    classes = [["", "bar", *[""] * (len(buckets) + 2)] for _ in rows]
    table = _table([column("rule", lang), "", *report.staleness_buckets,
                    column("median_hours", lang), column("max_hours", lang)],
                   rows, classes, raw_columns=(1,), wide_columns=range(2, 2 + len(buckets)))
    return _section("staleness", phrase("staleness", lang), _legend(buckets) + table,
                    phrase("staleness_note", lang))


def _delta_class(change: Change) -> str:
    """`worse` or `better` where a rise is bad (false positives, hold, block, rejected, a
    flag); no colour for messages and send, whose change is neither good nor bad."""
    if change.delta == 0 or change.name in ("messages", "send"):
        return ""
    return "worse" if change.delta > 0 else "better"


def _comparison(report: Report, lang: str) -> str:
    if report.comparison is None:
        return _section("comparison", phrase("comparison", lang), "",
                        phrase("no_previous", lang))
    rows, unchanged = w.changed(report)
    table = _table(outline.comparison_headers(lang), [w.change_row(c, lang) for c in rows],
                   [["", "", "", _delta_class(c)] for c in rows])
    tail = (f'<p class="note">{_e(phrase("unchanged_flags", lang, count=unchanged))}</p>'
            if unchanged else "")
    return _section("comparison", phrase("comparison", lang), table + tail,
                    w.previous_line(report, lang))


def _complaints(report: Report, lang: str) -> str:
    if report.complaints is None:
        return ""
    blocks = "".join(
        f"<div><h3>{_e(title)}</h3>"
        + (_table(headers, rows) if rows else f'<p class="note">{_e(empty)}</p>') + "</div>"
        for title, headers, rows, empty in report.complaints.tables(lang))
    notes = "".join(f'<p class="note">{_e(note)}</p>' for note in report.complaints.notes(lang))
    return _section("complaints", phrase("complaints", lang),
                    f'<div class="grid">{blocks}</div>{notes}', str(report.complaints_file))


def _examples(report: Report, lang: str) -> str:
    groups: dict[str, list[Example]] = {}
    for example in report.examples:
        groups.setdefault(example.flag, []).append(example)
    body = "".join(
        f"<details><summary>{_e(w.flag_label(flag, lang))} <small>({len(examples)})</small>"
        f"</summary>{''.join(_example(e, lang) for e in examples)}</details>"
        for flag, examples in groups.items())
    if not body:
        body = f'<p class="note">{_e(phrase("no_examples", lang))}</p>'
    return _section("examples", phrase("examples", lang), body,
                    phrase("examples_note", lang, count=report.examples_per_flag))


def _example(e: Example, lang: str) -> str:
    facts = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>"
                    for label, value in w.example_facts(e, lang))
    evidence = "".join(f"<li>{_e(part)}</li>" for part in e.evidence)
    return (f'<article class="example {_e(e.verdict)}"><div><span class="id">'
            f"{_e(w.example_head(e, lang))}</span><span class=\"badge {_e(e.verdict)}\">"
            f"{_e(w.outcome_label(e.verdict, lang))}</span></div><dl>{facts}</dl>"
            f"<ul>{evidence}</ul></article>")


def _glossary(report: Report, lang: str) -> str:
    items = "".join(f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>"
                    for label, text in w.glossary(report, lang))
    return _section("glossary", phrase("glossary", lang),
                    f'<details><summary>{_e(phrase("glossary", lang))}</summary>'
                    f'<dl class="glossary">{items}</dl></details>')
