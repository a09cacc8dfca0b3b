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
from make_screenshot import CHROMIUM_ARGS, big_document, case_document, document, guest, realistic_document, report

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


# A loaded machine (other tests, other work) can make a 2,000-guest page take seconds to parse:
# the waits below are generous, and every one ends as soon as the page is right.
SLOW = 60_000


class Opened:
    """One rendered document open in a fresh page, with everything the page did recorded."""

    def __init__(self, browser, tmp_path, doc, name="report.html", width=1366, fragment=""):
        self.path = tmp_path / name
        self.path.write_text(html.render(doc), encoding="utf-8")
        self.url = self.path.as_uri()
        self.context = browser.new_context(viewport={"width": width, "height": 1000})
        self.page = self.context.new_page()
        self.requests, self.errors, self.dialogs = [], [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.goto(self.url + fragment, wait_until="load", timeout=SLOW)

    def close(self):
        self.context.close()


@pytest.fixture
def opened(browser, tmp_path):
    made = []

    def open_doc(doc, name="report.html", **kw):
        o = Opened(browser, tmp_path, doc, name, **kw)
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


def column(page, title):
    """The index of the guest table's column with this header."""
    heads = page.locator("#guest-table th").all_inner_texts()
    return [h.strip() for h in heads].index(title)


def test_page_loads_from_disk_offline_without_errors(opened):
    from playwright.sync_api import expect

    o = opened(realistic_document())
    page = o.page
    expect(page.locator("#guest-table tbody tr")).to_have_count(10)
    expect(page.locator("#guest-count")).to_have_text("10 guests")
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
    expect(page.locator("#guest-count")).to_have_text("2 of 10 guests shown")

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


def test_filter_hides_non_matching_findings_timeline_and_details_too(opened):
    from playwright.sync_api import expect

    doc = case_document()
    db = next(i for i in doc["instances"] if i["display_name"] == "db-01")
    page = opened(doc).page
    cards = page.locator("details[data-guests]")
    expect(cards).to_have_count(3)
    expect(page.locator("section.instance:visible")).to_have_count(len(doc["instances"]))
    page.locator("#guest-filter").fill("db-01")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(1)
    expect(page.locator("#guest-count")).to_have_text("1 of 5 guests shown")
    # the details: db-01's alone
    expect(page.locator("section.instance:visible")).to_have_count(1)
    expect(page.locator("section.instance:visible")).to_have_id("guest-" + db["uuid"])
    expect(page.locator("#instance-count")).to_have_text("1 of 4 instances shown")
    # the findings: only cards naming db-01, and their counts say so
    visible = cards.locator("visible=true")
    for c in range(visible.count()):
        assert db["uuid"] in visible.nth(c).get_attribute("data-guests").split()
    shown = [c for c in range(cards.count()) if cards.nth(c).is_visible()]
    assert len(shown) == 1
    card = cards.nth(shown[0])
    code = card.locator("summary code").inner_text()
    of = {u for f in doc["findings"] if f["code"] == code for u in f["guests"]}
    expect(card.locator("summary .fcount")).to_have_text("1 of %d guests" % len(of))
    card.locator("summary").click()  # the card's list follows the filter too
    expect(card.locator("li.fitem:visible")).to_have_count(1)
    expect(card.locator("li.fitem:visible")).to_contain_text("db-01")
    # the case timeline: db-01's marks only
    expect(page.locator("#timeline a.ti:not([hidden])")).to_have_count(1)
    assert page.locator("#timeline a.ti:not([hidden])").get_attribute("data-uuid") == db["uuid"]
    # the changes between reports: db-01's and the host's own
    fields = page.locator("#changes tr[data-for]:visible td:nth-child(3)").all_inner_texts()
    assert sorted(fields) == ["memory_mb", "packages.nova", "state"]
    page.locator("#guest-filter").fill("")
    expect(page.locator("section.instance:visible")).to_have_count(len(doc["instances"]))
    expect(cards.locator("visible=true")).to_have_count(3)
    expect(page.locator("#timeline a.ti:not([hidden])")).to_have_count(len(doc["instances"]))


def test_clicking_a_guest_opens_its_detail(opened):
    from playwright.sync_api import expect

    doc = realistic_document()
    crashed = next(g for g in doc["guests"] if g["state"] == "crashed")
    page = opened(doc).page
    page.locator("#guest-table a", has_text="ci-runner-17").click()
    section = page.locator("#guest-" + crashed["uuid"])
    expect(section).to_be_in_viewport()
    expect(section).to_contain_text("Instance failed to spawn")
    assert page.evaluate("location.hash") == "#guest-" + crashed["uuid"]


@pytest.mark.parametrize("size", ["small", "big"])
def test_a_deep_link_opens_that_guest_and_its_raw_xml_is_there(opened, size):
    from playwright.sync_api import expect

    doc = realistic_document() if size == "small" else big_document(400, 8)
    g = doc["guests"][-3]  # on a big page: past the first rows and instances laid out
    o = opened(doc, fragment="#guest-" + g["uuid"])
    page = o.page
    section = page.locator("#guest-" + g["uuid"])
    expect(section).to_be_visible(timeout=SLOW)
    expect(section.locator(".ihead .toggle")).to_have_attribute("aria-expanded", "true", timeout=SLOW)
    expect(section).to_be_in_viewport()
    expect(section).to_contain_text(g["logs"]["nova_compute"]["lines"][0])
    xml = section.locator("pre.xml")
    expect(xml).to_have_count(0)  # not in the DOM until asked for
    section.locator("[data-show-xml]").first.click()
    expect(xml.first).to_be_visible()
    expect(xml.first).to_contain_text("<uuid>%s</uuid>" % g["uuid"])
    assert o.errors == []
    # a link to another guest in the page opens that one
    other = doc["guests"][1]
    page.evaluate("id => { location.hash = id; }", "#guest-" + other["uuid"])
    expect(page.locator("#guest-" + other["uuid"] + " .ihead .toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#guest-" + other["uuid"])).to_be_in_viewport()


def test_a_big_page_opens_a_detail_on_click_and_lists_more_rows_on_demand(opened):
    from playwright.sync_api import expect

    doc = big_document(400, 8)
    o = opened(doc, "big.html")
    page = o.page
    expect(page.locator("#guest-table tbody tr")).to_have_count(400)
    expect(page.locator(VISIBLE_ROWS)).to_have_count(html.WINDOW)
    expect(page.locator("#guest-count")).to_have_text("400 guests (%d listed so far)" % html.WINDOW)
    page.locator("#guest-more").click()  # (scrolled to, it may list another batch by itself)
    expect(page.locator("#guest-count")).not_to_have_text("400 guests (%d listed so far)" % html.WINDOW)
    listed = page.locator(VISIBLE_ROWS).evaluate_all("rs => rs.map(r => r.dataset.uuid)")
    assert len(listed) >= 2 * html.WINDOW
    assert listed == [g["uuid"] for g in doc["guests"][:len(listed)]]  # the next ones, in order
    g = doc["guests"][7]
    sec = page.locator("#guest-" + g["uuid"])
    expect(sec.locator("div.guest")).to_have_count(0)
    sec.locator(".ihead .toggle").click()
    expect(sec.locator("div.guest")).to_have_count(1)
    expect(sec).to_contain_text(g["logs"]["qemu"]["tail"][0])
    sec.locator(".ihead .toggle").click()
    expect(sec.locator("div.guest")).to_be_hidden()
    assert o.errors == []


def test_both_web01_are_told_apart_by_project_and_the_migration_is_drawn(opened):
    from playwright.sync_api import expect

    doc = case_document()
    webs = {i["project"]["name"]: i for i in doc["instances"] if i["display_name"] == "web-01"}
    page = opened(doc).page
    page.locator("#guest-filter").fill("web-01")
    expect(page.locator(VISIBLE_ROWS)).to_have_count(3)
    proj = column(page, "Project")
    got = page.locator(VISIBLE_ROWS).evaluate_all(
        "(rs, c) => rs.map(r => [r.cells[c].textContent, r.dataset.uuid, r.dataset.host])", proj)
    assert sorted(got) == sorted([["billing", webs["billing"]["uuid"], "compute-2"],
                                  ["shop", webs["shop"]["uuid"], "compute-1"],
                                  ["shop", webs["shop"]["uuid"], "compute-2"]])
    for name, inst in webs.items():
        expect(page.locator("#guest-%s .ihead" % inst["uuid"])).to_contain_text(name)
    shop = page.locator("#guest-" + webs["shop"]["uuid"])
    arrow = shop.locator("svg g.tl-arrow.mig-completed")
    expect(arrow).to_be_visible()
    box = arrow.bounding_box()
    lanes = shop.locator("svg text.tl-label")
    y1, y2 = (lanes.nth(i).bounding_box()["y"] for i in range(2))
    assert box["height"] > 0.5 * (y2 - y1)  # drawn from one host's lane to the other's
    expect(shop).to_contain_text("live migration compute-1 → compute-2")
    expect(page.locator('#timeline a.ti[data-uuid="%s"] path.tl-move' % webs["shop"]["uuid"])).to_be_visible()


@pytest.mark.parametrize("width", [800, 1366])
@pytest.mark.parametrize("which", ["realistic", "case", "big"])
def test_no_horizontal_overflow_on_a_narrow_or_laptop_screen(opened, width, which):
    from playwright.sync_api import expect

    doc = {"realistic": realistic_document, "case": case_document,
           "big": lambda: big_document(300, 30)}[which]()
    page = opened(doc, width=width).page
    expect(page.locator("#guest-table")).to_be_visible()
    # open every detail laid out, with its raw XML: the widest things the page has
    page.evaluate("""() => Promise.all([...document.querySelectorAll('section.instance:not(.open) .toggle')]
                                      .slice(0, 30).map(b => b.click()))""")
    expect(page.locator("section.instance.open").first).to_be_visible()
    page.evaluate("() => document.querySelectorAll('[data-show-xml]').forEach(b => b.click())")
    page.locator("details.fgroup summary").evaluate_all("ss => ss.forEach(s => s.click())")
    sizes = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert sizes[0] <= sizes[1], sizes
    # the guest table scrolls inside its own box, its name column kept in view
    wrap = page.locator(".guest-wrap")
    if page.evaluate("(() => { const w = document.querySelector('.guest-wrap'); return w.scrollWidth > w.clientWidth; })()"):
        wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
        name = page.locator(VISIBLE_ROWS + " td.name").first
        box, frame = name.bounding_box(), wrap.bounding_box()
        assert frame["x"] - 1 <= box["x"] <= frame["x"] + 2
    else:
        assert width == 1366 or which != "big"


def test_markup_like_display_name_is_text_and_no_dialog_fires(opened):
    from playwright.sync_api import expect

    names = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>"]
    for extra in (0, 60):  # details in the page, and compressed
        gs = [guest(n, "compute-0", seed="nasty-%d" % i, domain="instance-%08x" % i) for i, n in enumerate(names)]
        gs[0].logs.qemu.tail = ["<img src=y onerror=alert(4)>"]
        gs[0].xml = "<img src=z onerror=alert(5)>"
        gs += [guest("filler-%d" % i, "compute-0", seed="f-%d" % i) for i in range(extra)]
        o = opened(document([report("compute-0")], gs), name="nasty-%d.html" % extra)
        page = o.page
        expect(page.locator("#guest-table tbody tr")).to_have_count(3 + extra)
        page.locator("#guest-filter").fill("alert")
        expect(page.locator(VISIBLE_ROWS)).to_have_count(3)
        assert sorted(names_in_order(page)) == sorted(names)
        page.locator("#guest-table a").first.click()
        sec = page.locator("#guest-" + gs[0].uuid)
        expect(sec).to_contain_text("<script>alert(1)</script>")
        sec.locator("[data-show-xml]").click()
        expect(sec.locator("pre.xml")).to_have_text("<img src=z onerror=alert(5)>")
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
    mcol = column(page, "Memory")
    memory.click()
    expect(memory).to_have_attribute("aria-sort", "ascending")
    mem = page.locator(VISIBLE_ROWS).evaluate_all(
        "(rs, c) => rs.map(r => r.cells[c].dataset.sort).map(Number)", mcol)
    assert mem == sorted(mem) and mem[0] == 2048 and mem[-1] == 65536  # numeric, not text order
    memory.click()
    expect(memory).to_have_attribute("aria-sort", "descending")
    mem = page.locator(VISIBLE_ROWS).evaluate_all(
        "(rs, c) => rs.map(r => r.cells[c].dataset.sort).map(Number)", mcol)
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
    expect(page.locator('#guest-%s div.guest[data-host="%s"]' % (web[1]["uuid"], web[1]["host"]))).to_be_visible()
    expect(page.locator("#guest-" + web[1]["uuid"])).to_be_in_viewport()


def test_two_thousand_guests_filter_and_sort_correctly(opened):
    from playwright.sync_api import expect

    doc = big_document(2000, 20)
    o = opened(doc, "big.html")
    page = o.page
    rows = page.locator("#guest-table tbody tr")
    expect(rows).to_have_count(2000, timeout=SLOW)
    box = page.locator("#guest-filter")
    box.press_sequentially("vm-19")
    want = sum(1 for g in doc["guests"] if "vm-19" in g["display_name"])
    assert want == 100 == html.WINDOW
    expect(page.locator(VISIBLE_ROWS)).to_have_count(want, timeout=SLOW)
    expect(page.locator("#guest-count")).to_have_text("100 of 2000 guests shown", timeout=SLOW)
    box.press_sequentially("99")
    expect(page.locator(VISIBLE_ROWS + " td.name a")).to_have_text(["vm-1999"], timeout=SLOW)
    box.fill("compute-7 paused")
    want = [g["uuid"] for g in doc["guests"] if g["host"] == "compute-7" and g["state"] == "paused"]
    expect(page.locator(VISIBLE_ROWS)).to_have_count(len(want), timeout=SLOW)
    assert page.locator(VISIBLE_ROWS).evaluate_all("rs => rs.map(r => r.dataset.uuid)") == want
    box.fill("")
    expect(page.locator("#guest-count")).to_have_text("2000 guests (%d listed so far)" % html.WINDOW, timeout=SLOW)
    vcpu = page.locator("#guest-table th", has_text="vCPU")
    vcpu.click()
    expect(vcpu).to_have_attribute("aria-sort", "ascending", timeout=SLOW)
    col = column(page, "vCPU")
    # every row, listed or not yet, in the new order
    cpus = rows.evaluate_all("(rs, c) => rs.map(r => Number(r.cells[c].dataset.sort))", col)
    assert cpus == sorted(cpus) and len(cpus) == 2000
    shown = page.locator(VISIBLE_ROWS).evaluate_all("(rs, c) => rs.map(r => Number(r.cells[c].dataset.sort))", col)
    assert shown == cpus[:html.WINDOW]
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
