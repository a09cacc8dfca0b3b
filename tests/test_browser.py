"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright's Python API.

No browser download: Playwright launches /usr/bin/chromium (tests/rig/setup.d/20-chromium.sh
installs it). Assertions use Playwright's auto-waiting `expect`, never a clock.
"""

from __future__ import annotations

import os
import shutil

import pytest

from analyzer.render import html
from conftest import ROOT, require
from make_screenshot import CHROMIUM_ARGS, big_document, document, guest, realistic_document, report

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(ROOT, "test-artifacts")
VISIBLE_ROWS = "#guest-table tbody tr:not([hidden])"


@pytest.fixture(scope="module")
def browser():
    require(shutil.which("chromium") is not None and os.path.exists(CHROMIUM),
            "chromium is not installed (tests/rig/setup.d/20-chromium.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Opened:
    """One rendered document open in a fresh page, with everything the page did recorded."""

    def __init__(self, browser, tmp_path, doc, name="report.html"):
        self.path = tmp_path / name
        self.path.write_text(html.render(doc), encoding="utf-8")
        self.url = self.path.as_uri()
        self.context = browser.new_context(viewport={"width": 1366, "height": 1000})
        self.page = self.context.new_page()
        self.requests, self.errors, self.dialogs = [], [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.goto(self.url, wait_until="load")

    def close(self):
        self.context.close()


@pytest.fixture
def opened(browser, tmp_path):
    made = []

    def open_doc(doc, name="report.html"):
        o = Opened(browser, tmp_path, doc, name)
        made.append(o)
        return o

    yield open_doc
    for o in made:
        o.close()


def names_in_order(page):
    return page.locator(VISIBLE_ROWS + " td.name a").all_inner_texts()


def expect_names(page, names):
    """Wait (auto-retrying, no clock) until exactly these guest names are shown, in this order."""
    from playwright.sync_api import expect

    expect(page.locator(VISIBLE_ROWS + " td.name a")).to_have_text(names)


def test_page_loads_from_disk_offline_without_errors(opened):
    from playwright.sync_api import expect

    o = opened(realistic_document())
    page = o.page
    expect(page.locator("#guest-table tbody tr")).to_have_count(10)
    expect(page.locator("#guest-count")).to_have_text("10 rows")
    assert o.errors == []
    assert o.requests == [o.url]  # the file itself and nothing else
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "report.png")
    page.screenshot(path=shot)
    assert os.path.getsize(shot) > 10000


def test_filter_narrows_rows_as_you_type_in_any_column(opened):
    from playwright.sync_api import expect

    doc = realistic_document()
    kafka = next(g for g in doc["guests"] if g["display_name"] == "kafka-2")
    kafka_ip = kafka["nova"]["ports"][0]["ips"][0]["address"]
    kafka_mac = kafka["interfaces"][0]["mac"]
    others = [g for g in doc["guests"] if g is not kafka]
    assert not any(kafka_ip in str(g) or kafka_mac in str(g) for g in others)  # the test means something
    page = opened(doc).page
    box = page.locator("#guest-filter")
    box.press_sequentially("db-")
    expect_names(page, ["db-primary", "db-replica"])
    expect(page.locator("#guest-count")).to_have_text("2 of 10 rows shown")

    box.fill("WEB-01")  # case-insensitive; the same UUID on two hosts = two rows
    expect_names(page, ["web-01", "web-01"])
    assert set(page.locator(VISIBLE_ROWS).evaluate_all("rs => rs.map(r => r.dataset.host)")) == {
        "compute-0.overcloud.example", "compute-1.overcloud.example"}

    box.fill("crashed")  # the state column
    expect_names(page, ["ci-runner-17"])

    box.fill("dbteam compute-2")  # several words: all must match
    expect_names(page, ["db-replica"])

    box.fill(kafka_ip)  # no IP column, yet an IP finds its guest
    expect_names(page, ["kafka-2"])
    box.fill(kafka_mac.upper())
    expect_names(page, ["kafka-2"])

    box.fill("no such guest")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(0)
    expect(page.locator("#guest-none")).to_be_visible()

    box.fill("")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(10)
    expect(page.locator("#guest-none")).to_be_hidden()


def test_clicking_a_guest_shows_its_detail(opened):
    from playwright.sync_api import expect

    doc = realistic_document()
    crashed = next(g for g in doc["guests"] if g["state"] == "crashed")
    page = opened(doc).page
    page.locator("#guest-table a", has_text="ci-runner-17").click()
    section = page.locator('section.guest[data-uuid="%s"]' % crashed["uuid"])
    expect(section).to_be_in_viewport()
    expect(section).to_contain_text("Instance failed to spawn")
    assert page.evaluate("location.hash") == "#" + section.get_attribute("id")
    # the detail's own link leads back to the table
    section.locator("a.back").click()
    expect(page.locator("#guest-filter")).to_be_in_viewport()


def test_migration_shows_both_hosts_together(opened):
    from playwright.sync_api import expect

    doc = realistic_document()
    web = next(g for g in doc["guests"] if g["display_name"] == "web-01")
    page = opened(doc).page
    page.locator("#guest-table tr", has_text="compute-1.overcloud.example").locator("a", has_text="web-01").click()
    group = page.locator('.uuid-group[data-uuid="%s"]' % web["uuid"])
    expect(group.locator("section.guest")).to_have_count(2)
    expect(group.locator(".multi-banner").first).to_contain_text("is defined on 2 hosts")


def test_markup_like_display_name_is_text_and_no_dialog_fires(opened):
    from playwright.sync_api import expect

    names = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>"]
    gs = [guest(n, "compute-0", seed="nasty-%d" % i, domain="instance-%08x" % i) for i, n in enumerate(names)]
    gs[0].logs.qemu.tail = ["<img src=y onerror=alert(4)>"]
    o = opened(document([report("compute-0")], gs))
    page = o.page
    expect(page.locator(VISIBLE_ROWS)).to_have_count(3)
    assert sorted(names_in_order(page)) == sorted(names)
    page.locator("#guest-table a").first.click()
    expect(page.locator("section.guest").first).to_contain_text("<script>alert(1)</script>")
    page.locator("#guest-filter").fill("onerror")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(1)
    assert page.locator("img").count() == 0
    assert page.locator("body svg:not(.timeline)").count() == 0
    assert page.locator("script").count() == 1
    assert o.dialogs == []
    assert o.errors == []
    assert o.requests == [o.url]  # "src=x" never turned into a request


def test_clicking_a_header_sorts(opened):
    from playwright.sync_api import expect

    page = opened(realistic_document()).page
    memory = page.locator("#guest-table th", has_text="Memory")
    memory.click()
    expect(memory).to_have_attribute("aria-sort", "ascending")
    mem = page.locator(VISIBLE_ROWS).evaluate_all(
        "rs => rs.map(r => r.cells[7].dataset.sort).map(Number)")
    assert mem == sorted(mem) and mem[0] == 2048 and mem[-1] == 65536  # numeric, not text order
    memory.click()
    expect(memory).to_have_attribute("aria-sort", "descending")
    mem = page.locator(VISIBLE_ROWS).evaluate_all(
        "rs => rs.map(r => r.cells[7].dataset.sort).map(Number)")
    assert mem == sorted(mem, reverse=True)

    name = page.locator("#guest-table th", has_text="Name")
    name.click()
    expect(name).to_have_attribute("aria-sort", "ascending")
    expect(memory).to_have_attribute("aria-sort", "none")
    got = names_in_order(page)
    named = [n for n in got if n != "(no name)"]
    assert named == sorted(named, key=str.lower)
    assert got[-1] == "(no name)"  # unknown values last
    # a sorted table still filters
    page.locator("#guest-filter").fill("ci-runner")
    expect_names(page, ["ci-runner-17", "ci-runner-18"])


def test_query_page_opens_on_the_matches(opened):
    from playwright.sync_api import expect

    from analyzer.model import QueryMatch

    full = realistic_document()
    web = [g for g in full["guests"] if g["display_name"] == "web-01"]
    doc = dict(full, guests=web, total_guests=len(full["guests"]),
               query=[{"term": "web-01", "matched_by": "display-name", "suggestions": [],
                       "guests": [{"uuid": g["uuid"], "host": g["host"], "report": g["report"],
                                   "display_name": g["display_name"]} for g in web]}])
    assert QueryMatch(**doc["query"][0])  # the shape the model makes
    page = opened(doc).page
    expect(page.locator("#query-banner")).to_be_in_viewport()
    expect(page.locator("#query-banner")).to_contain_text("2 of 10 guests match web-01")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(2)
    matches = page.locator("#query-banner table.matches a")
    expect(matches).to_have_count(2)
    expect(matches.first).to_be_in_viewport()  # visible as the page opens, no scrolling
    matches.nth(1).click()
    expect(page.locator('section.guest[data-uuid="%s"][data-host="%s"]'
                        % (web[1]["uuid"], web[1]["host"]))).to_be_in_viewport()


def test_two_thousand_guests_filter_and_sort_correctly(opened):
    from playwright.sync_api import expect

    doc = big_document(2000, 20)
    o = opened(doc, "big.html")
    page = o.page
    expect(page.locator("#guest-table tbody tr")).to_have_count(2000)
    box = page.locator("#guest-filter")
    box.press_sequentially("vm-19")
    want = sum(1 for g in doc["guests"] if "vm-19" in g["display_name"])
    assert want == 100
    expect(page.locator(VISIBLE_ROWS)).to_have_count(want)
    expect(page.locator("#guest-count")).to_have_text("100 of 2000 rows shown")
    box.press_sequentially("99")
    expect_names(page, ["vm-1999"])
    box.fill("compute-7 paused")
    want = sum(1 for g in doc["guests"] if g["host"] == "compute-7" and g["state"] == "paused")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(want)
    box.fill("")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(2000)
    page.locator("#guest-table th", has_text="vCPU").click()
    cpus = page.locator(VISIBLE_ROWS).evaluate_all("rs => rs.map(r => Number(r.cells[6].dataset.sort))")
    assert cpus == sorted(cpus) and len(cpus) == 2000
    assert o.errors == []


def test_print_layout_drops_the_controls_and_keeps_the_data(opened):
    from playwright.sync_api import expect

    page = opened(realistic_document()).page
    page.emulate_media(media="print")
    expect(page.locator("#guest-filter")).to_be_hidden()
    expect(page.locator("header.top nav")).to_be_hidden()
    expect(page.locator("#guest-table tbody tr").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).position") == "static"
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20000


def test_screenshot_script_renders_analyze_sos_json(tmp_path):
    import json
    import subprocess
    import sys

    require(shutil.which("chromium") is not None, "chromium is not installed (tests/rig/setup.d/20-chromium.sh)")
    src = tmp_path / "doc.json"
    src.write_text(json.dumps(realistic_document()), encoding="utf-8")
    png, page = tmp_path / "shot.png", tmp_path / "page.html"
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "make_screenshot.py"), str(src),
                          "-o", str(png), "--html", str(page), "--height", "700"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20000
    assert "compute-2.overcloud.example" in page.read_text(encoding="utf-8")
