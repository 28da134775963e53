"""The HTML report in a real browser: Debian's chromium, headless, at a phone's size.

A screenshot must be a real 412×915 image that is not blank and shows the report's header;
the DOM chromium builds must hold the run id and the verdict counts. Without chromium the
tests are skipped, saying so (CI installs it: .ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from drops import read_csv_rows
from history_db import sample_history

from reconcile.config import Settings
from reconcile.history import store as history
from reconcile.report.build import build_report
from reconcile.report.render import render

ROOT = Path(__file__).resolve().parents[1]

PHONE = (412, 915)
HEADER_COLOUR = (0x1F, 0x2A, 0x44)  # header.top's background in the report's CSS


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium), so the "
                    "HTML report was not rendered in a browser")
    return found


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """sample_data's second night as one HTML file, and the report it was rendered from."""
    folder = tmp_path_factory.mktemp("browser")
    db, _ = sample_history(folder)
    report = build_report(db)
    html_file = folder / "report.html"
    html_file.write_text(render(report, "html"), encoding="utf-8")
    return html_file, report.to_dict()


def test_screenshot_is_a_phone_sized_page_that_is_not_blank(
        page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    Image = pytest.importorskip("PIL.Image", reason="pillow is needed to decode the PNG")
    html_file, _ = page
    png = tmp_path / "report.png"
    run_chromium(tmp_path / "profile", f"--window-size={PHONE[0]},{PHONE[1]}",
                 f"--screenshot={png}", html_file.as_uri())
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
        assert tile.startswith(f"{count}{verdict}"), tile
    # Phones and names are pseudonymised in the history: the page shows the hash's start.
    db = html_file.parent / "history.duckdb"
    key = history.pseudonym_key(history.HistoryPaths.of(db), Settings(), create=False)
    assert f"#{history.pseudonym(key, '13800001111')[:8]}" in dom
    assert "13800001111" not in dom and "邓超" not in dom
