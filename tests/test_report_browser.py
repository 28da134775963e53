"""The HTML report in a real browser: Debian's chromium, headless, on a phone and a desktop.

A screenshot must be a real image that is not blank and shows the report's header; the DOM
chromium builds must hold the run id and the verdict counts. On a history of eight
generated nights, in Chinese and in English, at 412 px and at 1280 px, a script run in the
page (tests/fixtures/measure_page.js) measures every piece of text: none may be clipped by
its box or drawn over another, the page may not scroll sideways, and every Chinese
character must be drawn with a real glyph, not the missing-glyph box (CI installs
fonts-noto-cjk: .ci/run). Without chromium the tests are skipped, saying so.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from drops import read_csv_rows
from history_db import generated_history, sample_history

from reconcile.config import Settings
from reconcile.history import store as history
from reconcile.report.build import build_report
from reconcile.report.render import render
from reconcile.report.vocabulary import outcome_name

# Every test here runs chromium on a generated history: left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ROOT / "tests" / "fixtures" / "measure_page.js"

PHONE = (412, 915)
DESKTOP = (1280, 900)
HEADER_COLOUR = (0x1F, 0x2A, 0x44)  # header.top's background in the report's CSS
SCREENSHOTS = {PHONE: ROOT / "docs" / "report-phone.png",
               DESKTOP: ROOT / "docs" / "report-desktop.png"}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium), so the "
                    "HTML report was not rendered in a browser")
    return found


def run_chromium(profile: Path, *args: str,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False,
                            env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def framed(html_file: Path, size: tuple[int, int], script: str = "") -> Path:
    """A page holding html_file (with `script` run in it) in a frame of exactly `size`:
    chromium's headless window is never narrower than 500 px, a frame is."""
    page = html_file.read_text(encoding="utf-8")
    if script:
        page = page.replace("</body>", f"<script>{script}</script></body>")
    wrapper = html_file.with_name(f"framed-{size[0]}-{html_file.name}")
    wrapper.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}'
        "iframe{border:0;display:block}</style></head><body>"
        f'<iframe width="{size[0]}" height="{size[1]}" srcdoc="{html.escape(page)}"></iframe>'
        "</body></html>", encoding="utf-8")
    return wrapper


def window(size: tuple[int, int]) -> str:
    return f"--window-size={max(size[0], 600)},{size[1]}"


def measure(html_file: Path, size: tuple[int, int], profile: Path,
            env: dict[str, str] | None = None, unfold: bool = False) -> dict[str, object]:
    """What measure_page.js finds in html_file laid out at `size` (with every <details>
    opened first when `unfold`)."""
    opened = 'document.querySelectorAll("details").forEach((d) => { d.open = true; });'
    script = (opened if unfold else "") + MEASURE.read_text(encoding="utf-8")
    wrapper = framed(html_file, size, script)
    dom = run_chromium(profile, window(size), "--virtual-time-budget=5000", "--dump-dom",
                       wrapper.as_uri(), env=env).stdout
    start = dom.rfind('<pre id="measurements">')
    assert start >= 0, "the measuring script did not run"
    found = re.match(r'<pre id="measurements">(.*?)</pre>', dom[start:], re.S)
    assert found, "the measuring script did not finish"
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return dict(json.loads(text))


def screenshot(html_file: Path, size: tuple[int, int], png: Path, profile: Path) -> Path:
    """A PNG of the first `size` of html_file laid out at size[0] px."""
    Image = pytest.importorskip("PIL.Image", reason="pillow is needed to crop the PNG")
    whole = png.with_name(f"whole-{png.name}")
    run_chromium(profile, window(size), f"--screenshot={whole}",
                 framed(html_file, size).as_uri())
    with Image.open(whole) as image:
        image.crop((0, 0, *size)).save(png, optimize=True)
    whole.unlink()
    return png


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """sample_data's second night as one HTML file, and the report it was rendered from."""
    folder = tmp_path_factory.mktemp("browser")
    db, _ = sample_history(folder)
    report = build_report(db)
    html_file = folder / "report.html"
    html_file.write_text(render(report, "html"), encoding="utf-8")
    return html_file, report.to_dict()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Eight generated nights kept in clear text (masked names show their first
    character), the last one's report in each language."""
    chromium()
    folder = tmp_path_factory.mktemp("trend")
    report = build_report(generated_history(folder))
    files = {}
    for lang in ("zh-CN", "en"):
        files[lang] = folder / f"report-{lang}.html"
        files[lang].write_text(render(report, "html", lang), encoding="utf-8")
    return files


def test_screenshot_is_a_phone_sized_page_that_is_not_blank(
        page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    Image = pytest.importorskip("PIL.Image", reason="pillow is needed to decode the PNG")
    html_file, _ = page
    png = screenshot(html_file, PHONE, tmp_path / "report.png", tmp_path / "profile")
    assert png.is_file() and png.stat().st_size > 0
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == PHONE
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        background = max(colours)[1]
        # Blank (one colour) or nearly so means the page did not render.
        assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
        drawn = sum(n for n, colour in colours if colour != background)
        assert drawn / (PHONE[0] * PHONE[1]) > 0.2, "less than a fifth of the page is drawn"
        # The styled header is at the top, the full width of a phone (no desktop layout).
        assert rgb.getpixel((PHONE[0] // 2, 30)) == HEADER_COLOUR
        assert rgb.getpixel((30, 30)) == HEADER_COLOUR


class _Texts(HTMLParser):
    """The text inside each element that has an id."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data


def test_rendered_dom_holds_the_run_id_and_verdict_counts(
        page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    html_file, report = page
    dom = run_chromium(tmp_path / "profile", "--dump-dom", html_file.as_uri()).stdout
    parser = _Texts()
    parser.feed(dom)
    run = report["run"]
    assert isinstance(run, dict)
    assert parser.texts["run-id"] == run["run_id"]
    # The hand-checked verdicts of sample_data (its expected_findings.csv).
    expected = Counter(row["verdict"] for row in read_csv_rows(
        ROOT / "sample_data" / "expected_findings.csv"))
    assert report["verdicts"] == dict(expected)
    for verdict, count in expected.items():
        tile = parser.texts[f"verdict-{verdict}"]
        # The run's language is the cn profile's: Chinese names, then the verdict code.
        assert tile.startswith(f"{count}{outcome_name(verdict, 'zh-CN')} {verdict}"), tile
    # Phones and names are pseudonymised in the history: the page shows the hash's start.
    db = html_file.parent / "history.duckdb"
    key = history.pseudonym_key(history.HistoryPaths.of(db), Settings(), create=False)
    assert f"#{history.pseudonym(key, '13800001111')[:8]}" in dom
    assert "13800001111" not in dom and "邓超" not in dom


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_text_is_clipped_or_overlaps(pages: dict[str, Path], lang: str,
                                        size: tuple[int, int], tmp_path: Path) -> None:
    found = measure(pages[lang], size, tmp_path / "profile", unfold=True)
    assert found["texts"] > 100  # type: ignore[operator]
    assert found["clipped"] == [], found["clipped"]
    assert found["overlaps"] == [], found["overlaps"]
    assert found["page_overflow"] == 0, "the page scrolls sideways"


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_sample_night_is_not_clipped_either(page: tuple[Path, dict[str, object]],
                                                size: tuple[int, int], tmp_path: Path) -> None:
    """sample_data's night: long warnings, every flag, and the examples, unfolded, with
    their long evidence."""
    found = measure(page[0], size, tmp_path / "profile", unfold=True)
    assert (found["clipped"], found["overlaps"], found["page_overflow"]) == ([], [], 0)


def test_chinese_renders_with_real_glyphs(pages: dict[str, Path], tmp_path: Path) -> None:
    glyphs = measure(pages["zh-CN"], PHONE, tmp_path / "profile")["glyphs"]
    assert isinstance(glyphs, dict)
    missing = sorted(ch for ch, glyph in glyphs.items() if glyph["missing"])
    assert not missing, (f"{len(missing)} Chinese characters render as the missing-glyph "
                         f"box, e.g. {''.join(missing[:20])}: install a CJK font "
                         "(Debian: fonts-noto-cjk)")
    # The masked borrower names keep their first character: those are on the page too.
    assert len(glyphs) > 100
    assert len({glyph["fingerprint"] for glyph in glyphs.values()}) > len(glyphs) * 0.9


def test_the_glyph_check_sees_a_machine_without_a_cjk_font(
        pages: dict[str, Path], tmp_path: Path) -> None:
    """The check itself: with fontconfig shown only a Latin font, every Chinese character is
    the missing-glyph box, and the measurement says so."""
    latin = Path("/usr/share/fonts/truetype/dejavu")
    if not latin.is_dir():
        pytest.skip("no DejaVu fonts to build a font configuration without CJK")
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{latin}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf")}
    glyphs = measure(pages["zh-CN"], PHONE, tmp_path / "profile", env=env)["glyphs"]
    assert isinstance(glyphs, dict) and glyphs
    assert all(glyph["missing"] for glyph in glyphs.values())


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_docs_show_the_report_at_both_widths(pages: dict[str, Path], size: tuple[int, int],
                                             tmp_path: Path) -> None:
    """docs/report-phone.png and docs/report-desktop.png: the first screen of the Chinese
    report. UPDATE_DOCS=1 takes them again."""
    Image = pytest.importorskip("PIL.Image", reason="pillow is needed to decode the PNG")
    target = SCREENSHOTS[size]
    if os.environ.get("UPDATE_DOCS"):
        screenshot(pages["zh-CN"], size, target, tmp_path / "profile")
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == size
