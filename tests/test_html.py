"""The HTML report as markup: built from model dataclasses, parsed back with html.parser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Optional

import pytest

from analyzer.model import Evidence, Finding, Problem, QueryMatch
from analyzer.render import html
from make_screenshot import big_document, document, guest, realistic_document, report, uid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Optional["Node"]):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: Optional[str] = None, **attrs) -> list["Node"]:
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if all((n.attrs.get(k.rstrip("_").replace("_", "-")) == v) if v is not True
                   else k.rstrip("_").replace("_", "-") in n.attrs for k, v in attrs.items()):
                out.append(n)
        return out

    def has_class(self, cls: str) -> bool:
        return cls in (self.attrs.get("class") or "").split()

    def by_id(self, ident: str) -> "Node":
        found = [n for n in self.iter() if n.attrs.get("id") == ident]
        assert len(found) == 1, "id %r found %d times" % (ident, len(found))
        return found[0]


class TreeBuilder(HTMLParser):
    """A small DOM: enough to ask "which rows, which sections, what text inside"."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(page: str) -> Node:
    b = TreeBuilder()
    b.feed(page)
    b.close()
    return b.root


def rows(dom: Node) -> list[Node]:
    table = dom.by_id("guest-table")
    return [tr for tr in table.find_all("tr") if "data-uuid" in tr.attrs]


def small_doc(**kw):
    reps = [report("compute-0"), report("compute-1")]
    gs = [guest("web-01", "compute-0", domain="instance-00000001"),
          guest("db-01", "compute-1", domain="instance-00000002", state="shut off")]
    return document(reps, gs, **kw)


# --- rows and details -------------------------------------------------------------------------

def test_one_row_per_guest_and_host_with_its_uuid():
    doc = realistic_document()
    dom = parse(html.render(doc))
    got = [tr.attrs["data-uuid"] for tr in rows(dom)]
    assert sorted(got) == sorted(g["uuid"] for g in doc["guests"])
    # web-01 lives on two hosts: two rows with the same UUID, one per host.
    web = [g for g in doc["guests"] if g["display_name"] == "web-01"]
    assert len(web) == 2
    web_rows = [tr for tr in rows(dom) if tr.attrs["data-uuid"] == web[0]["uuid"]]
    assert sorted(tr.attrs["data-host"] for tr in web_rows) == sorted(g["host"] for g in web)


def test_row_shows_the_columns_an_engineer_asks_for():
    doc = small_doc()
    g = doc["guests"][0]
    dom = parse(html.render(doc))
    tr = next(tr for tr in rows(dom) if tr.attrs["data-uuid"] == g["uuid"])
    cells = [td.text().strip() for td in tr.find_all("td")]
    for expected in ("web-01", g["uuid"], "instance-00000001", "compute-0", "running", "m1.small",
                     "2", "4 GiB", "webteam", "alice", "27.5.2-17.1.el9ost", "2026-03-02T14:05:11Z"):
        assert expected in cells, (expected, cells)
    assert any(c.startswith("image ") for c in cells)
    headers = [th.text().strip() for th in dom.by_id("guest-table").find_all("th")]
    assert headers[:5] == ["Name", "UUID", "Domain", "Host", "State"]


def test_each_row_links_to_a_detail_section_with_every_part():
    doc = realistic_document()
    dom = parse(html.render(doc))
    by_uuid_host = {(g["uuid"], g["host"]): g for g in doc["guests"]}
    for tr in rows(dom):
        link = tr.find_all("a")[0]
        target = link.attrs["href"]
        assert target.startswith("#")
        sec = dom.by_id(target[1:])
        assert sec.tag == "section" and sec.has_class("guest")
        assert sec.attrs["data-uuid"] == tr.attrs["data-uuid"]
        g = by_uuid_host[(tr.attrs["data-uuid"], tr.attrs["data-host"])]
        text = sec.text()
        assert g["uuid"] in text
        for s in g["sources"]:
            assert s["kind"] in text and s["path"] in text
        for d in g["disks"]:
            assert d["source"] in text
        if g["nova"]:
            fl = g["nova"]["flavor"]
            for k, val in fl["extra_specs"].items():
                assert k in text and val in text
            for p in g["nova"]["ports"]:
                assert p["uuid"] in text
                for ip in p["ips"]:
                    assert ip["address"] in text
            for k, val in g["nova"]["extra"].items():
                assert k in text and str(val) in text
            assert g["nova"]["owner"]["project"]["uuid"] in text
        assert g["logs"]["qemu"]["tail"][0] in text
        assert g["logs"]["nova_compute"]["lines"][0] in text
        raw = [d for d in sec.find_all("details") if d.has_class("xml")]
        assert len(raw) == 1 and "open" not in raw[0].attrs  # collapsed
        assert "<domain type='kvm'>" in raw[0].text()


def test_interfaces_are_matched_to_nova_ports_by_tap_name():
    doc = small_doc()
    g = doc["guests"][0]
    port = g["nova"]["ports"][0]
    dom = parse(html.render(doc))
    sec = dom.by_id(rows(dom)[0].find_all("a")[0].attrs["href"][1:])
    nic_rows = [tr for tr in sec.find_all("tr") if g["interfaces"][0]["mac"] in tr.text()]
    assert len(nic_rows) == 1
    assert port["uuid"] in nic_rows[0].text()
    assert port["ips"][0]["address"] in nic_rows[0].text()


def test_live_persistent_differences_and_error_summary_shown():
    doc = realistic_document()
    dom = parse(html.render(doc))
    ghost = next(g for g in doc["guests"] if g["differences"])
    crashed = next(g for g in doc["guests"] if g["logs"]["nova_compute"]["errors"]["count"])
    text = dom.by_id("details").text()
    assert "Live vs persistent" in text
    assert ghost["differences"][0]["persistent_source"] in text
    assert crashed["logs"]["nova_compute"]["errors"]["first_lines"][0] in text
    assert "2 ERROR" in text


# --- safety -----------------------------------------------------------------------------------

NASTY = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "</textarea></pre><svg onload=alert(3)>",
    "javascript:alert(4)",
    "\u2028</script><!--",
]


@pytest.mark.parametrize("name", NASTY)
def test_markup_like_values_render_as_text(name):
    reps = [report("r<1>", hostname=name, problems=[Problem(name, name)])]
    g = guest(name, name, report_id="r<1>", domain=name, flavor=name, project=name, user=name)
    g.nova.extra = {name: name}
    g.nova.flavor.extra_specs = {name: name}
    g.logs.qemu.tail = [name]
    g.xml = name
    doc = document(reps, [g], findings=[Finding("c<b>", "critical", name, guests=[g.uuid], hosts=[name],
                                                evidence=[Evidence(name, name, name)])],
                   query=[QueryMatch(name, "display-name", [{"uuid": g.uuid, "host": name, "report": "r<1>",
                                                             "display_name": name}])])
    page = html.render(doc)
    dom = parse(page)
    # Exactly the page's own script and no element or attribute the data could have made.
    assert len(dom.find_all("script")) == 1
    assert dom.find_all("script")[0].attrs == {}
    assert not dom.find_all("img") and not dom.find_all("textarea")
    assert not [n for n in dom.iter() if any(a.startswith("on") for a in n.attrs)]
    assert "<script>alert" not in page and "<img src=x" not in page
    # ...and the text is there, as text, where the engineer looks for it.
    name_cell = rows(dom)[0].find_all("td")[0]
    assert name_cell.text().strip().startswith(name.strip())
    assert name in dom.by_id("problems").text()
    assert name in dom.by_id("query-banner").text()


def test_no_external_urls_anywhere():
    page = html.render(realistic_document())
    dom = parse(page)
    for n in dom.iter():
        for attr in ("src", "href", "action", "xlink:href", "poster", "data", "srcset"):
            if attr in n.attrs:
                assert n.attrs[attr].startswith("#"), (n.tag, attr, n.attrs[attr])
        assert "url(" not in n.attrs.get("style", "")
    assert not dom.find_all("link") and not dom.find_all("img") and not dom.find_all("iframe")
    for tag in ("style", "script"):
        for n in dom.find_all(tag):
            body = n.text()
            assert "url(" not in body and "@import" not in body
            assert not re.search(r"https?:|ftp:|\bfetch\(|XMLHttpRequest|WebSocket|\.src\s*=", body), tag
    # The page says so to the browser too.
    csp = [m for m in dom.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0].attrs["content"]


def test_html_ids_are_safe_and_unique_for_odd_report_ids():
    reps = [report("../a b/<x>"), report("../a b/<x>!")]
    g1 = guest("one", "h", seed="same", report_id="../a b/<x>")
    g2 = guest("one", "h2", seed="same", report_id="../a b/<x>!")
    dom = parse(html.render(document(reps, [g1, g2])))
    ids = [n.attrs["id"] for n in dom.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for i in ids:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", i), i


# --- query, problems, grouping ----------------------------------------------------------------

def test_query_banner_says_how_many_match():
    doc = small_doc(query=[QueryMatch("web-01", "display-name",
                                      [{"uuid": uid("web-01"), "host": "compute-0", "report": "compute-0",
                                        "display_name": "web-01"}])], total=57)
    doc["guests"] = doc["guests"][:1]
    dom = parse(html.render(doc))
    banner = dom.by_id("query-banner").text()
    assert re.search(r"1 of 57 guests match web-01", banner)
    assert "display-name" in banner
    assert len(rows(dom)) == 1
    # the matches themselves are at the top, each linked to its detail
    links = [a.attrs["href"] for a in dom.by_id("query-banner").find_all("a")]
    assert links == [rows(dom)[0].find_all("a")[0].attrs["href"]]


def test_an_ambiguous_query_is_spelled_out_alike_in_html_and_text():
    from analyzer.render import text

    hits = [{"uuid": uid("web-01"), "host": "compute-0", "report": "compute-0", "display_name": "web-01"},
            {"uuid": uid("web-01"), "host": "compute-1", "report": "compute-1", "display_name": "web-01"},
            {"uuid": uid("web-01b"), "host": "compute-0", "report": "compute-0", "display_name": "web-01"}]
    doc = small_doc(query=[QueryMatch("web-01", "display-name", hits)], total=3)
    banner = parse(html.render(doc)).by_id("query-banner")
    notes = [n.text().lstrip("⚠ ").strip() for n in banner.find_all("div", class_="note")]
    assert notes == ["'web-01' matches 2 different instances (UUIDs): check which one the user means",
                     "UUID %s is defined on 2 hosts: compute-0, compute-1" % uid("web-01")]
    said = [line[4:] for line in text.render(doc).splitlines() if line.startswith("  ! ")]
    assert said == notes


def test_query_without_match_lists_suggestions_and_no_banner_without_query():
    doc = small_doc(query=[QueryMatch("web-1", None, [], ["web-01", "web-11"])], total=2)
    doc["guests"] = []
    dom = parse(html.render(doc))
    banner = dom.by_id("query-banner").text()
    assert "0 of 2 guests match web-1" in banner and "no match" in banner
    assert "web-01" in banner and "web-11" in banner
    assert "No guests." in dom.by_id("guests").text()
    assert 'id="query-banner"' not in html.render(small_doc())


def test_problems_and_unreadable_inputs_are_listed():
    doc = realistic_document()
    dom = parse(html.render(doc))
    section_text = dom.by_id("problems").text()
    for r in doc["reports"]:
        for p in r["problems"]:
            assert p["path"] in section_text and p["reason"] in section_text
    for e in doc["errors"]:
        assert e["path"] in section_text and e["reason"] in section_text
    # ... and counted in the host table.
    host_rows = [tr for tr in dom.find_all("table")[0].find_all("tr") if tr.find_all("td")]
    assert [tr.find_all("td")[-2].text().strip() for tr in host_rows] == ["0", "0", "2"]


def test_nothing_skipped_says_so():
    dom = parse(html.render(small_doc()))
    assert "Nothing: every input" in dom.by_id("overview").text()


def test_same_uuid_on_several_hosts_is_shown_together():
    doc = realistic_document()
    dom = parse(html.render(doc))
    web = [g for g in doc["guests"] if g["display_name"] == "web-01"]
    groups = [n for n in dom.find_all("div") if n.has_class("uuid-group") and n.attrs.get("data-uuid") == web[0]["uuid"]]
    assert len(groups) == 1
    grp = groups[0]
    secs = [s for s in grp.find_all("section") if s.has_class("guest")]
    assert sorted(s.attrs["data-host"] for s in secs) == sorted(g["host"] for g in web)
    banner = [d for d in grp.find_all("div") if d.has_class("multi-banner")][0].text()
    assert "defined on 2 hosts" in banner
    for g in web:
        assert g["host"] in banner
    # each section also names the other host
    for s in secs:
        other = [g["host"] for g in web if g["host"] != s.attrs["data-host"]][0]
        assert "Also defined on: " + other in re.sub(r"\s+", " ", s.text())
    # a guest on one host has no such banner
    single = next(g for g in doc["guests"] if g["display_name"] == "bastion")
    grp1 = [n for n in dom.find_all("div") if n.has_class("uuid-group") and n.attrs.get("data-uuid") == single["uuid"]][0]
    assert not [d for d in grp1.find_all("div") if d.has_class("multi-banner")]


def test_overview_counts_states_and_findings():
    doc = realistic_document()
    dom = parse(html.render(doc))
    text = re.sub(r"\s+", " ", dom.by_id("overview").text())
    cards = {}
    for table in dom.by_id("overview").find_all("table"):
        if table.has_class("counts"):
            for tr in table.find_all("tr"):
                k, n = [td.text().strip() for td in tr.find_all("td")]
                cards[k] = int(n)
    assert cards == {"running": 6, "shut off": 2, "crashed": 1, "paused": 1, "shown": 10,
                     "critical": 2, "warning": 2, "info": 1}
    for f in doc["findings"]:
        assert f["message"] in text and f["code"] in text
    for r in doc["reports"]:
        for v in (r["hostname"], r["sos_version"], r["collected_at"], r["path"], r["packages"]["nova"],
                  r["packages"]["libvirt"], r["packages"]["qemu"]):
            assert v in text
    # findings for a guest are repeated in its detail section
    crashed = next(g for g in doc["guests"] if g["state"] == "crashed")
    sec = next(s for s in dom.find_all("section") if s.attrs.get("data-uuid") == crashed["uuid"])
    assert "guest-crashed" in sec.text()


def test_timeline_has_one_dot_per_guest_with_a_creation_time():
    doc = realistic_document()
    doc["guests"][0]["nova"]["creation_time"] = "not a time"
    dom = parse(html.render(doc))
    svg = dom.by_id("timeline").find_all("svg")[0]
    dots = svg.find_all("circle")
    with_time = [g for g in doc["guests"] if g["nova"] and html.parse_time(g["nova"]["creation_time"])]
    assert len(dots) == len(with_time) == len(doc["guests"]) - 2
    assert "2 guests without a creation time" in dom.by_id("timeline").text()
    xs = {float(c.attrs["cx"]) for c in dots}
    assert min(xs) >= 0 and max(xs) <= 1000


def test_guest_without_any_nova_or_optional_data_renders():
    g = guest(None, "h", seed="bare", with_nova=False)
    g.logs.qemu = None
    g.logs.nova_compute = None
    g.disks, g.interfaces, g.sources, g.xml = [], [], [], None
    g.state = None
    rep = report("h", hostname=None)
    rep.packages.nova = None
    dom = parse(html.render(document([rep], [g])))
    sec = dom.by_id(rows(dom)[0].find_all("a")[0].attrs["href"][1:])
    t = sec.text()
    assert "No Nova metadata" in t and "No qemu log" in t and "unknown" in t
    assert "No guest has a Nova creation time" in dom.by_id("timeline").text()


def test_empty_document_renders():
    dom = parse(html.render(document([], [])))
    assert rows(dom) == []
    assert "No guests." in dom.by_id("guests").text()


def test_big_document_renders_every_row():
    doc = big_document(300, 7)
    dom = parse(html.render(doc))
    assert len(rows(dom)) == 300
    assert len({tr.attrs["data-uuid"] for tr in rows(dom)}) == 300


def test_templates_load_from_the_installed_package_outside_the_checkout():
    code = ("import sys; sys.path.insert(0, %r); from make_screenshot import realistic_document;"
            "from analyzer.render import html; print(len(html.render(realistic_document())))"
            % os.path.join(ROOT, "tests"))
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 10000


def test_print_styles_present():
    page = html.render(small_doc())
    style = parse(page).find_all("style")[0].text()
    assert "@media print" in style


def test_nova_block_with_only_some_elements_renders():
    g = guest("half", "h", ports=0)
    g.nova.flavor = None
    g.nova.image = None
    g.nova.owner = None
    g.nova.root = None
    g.nova.extra = {}
    g.nova.package_version = None
    g.nova_persistent = None
    dom = parse(html.render(document([report("h")], [g])))
    tr = rows(dom)[0]
    cells = [td.text().strip() for td in tr.find_all("td")]
    assert cells[0] == "half" and cells[5] == "\u2013"  # no flavor name: a dash, not "None"
    t = dom.by_id(tr.find_all("a")[0].attrs["href"][1:]).text()
    assert "no flavor element" in t and "no image element" in t and "No ports in the Nova metadata" in t
    assert "None" not in t


def test_persistent_nova_metadata_that_differs_is_shown():
    g = guest("web", "h", ports=2)
    live_ports = g.nova.ports
    import copy
    g.nova_persistent = copy.deepcopy(g.nova)
    g.nova_persistent.ports = live_ports[:1]
    dom = parse(html.render(document([report("h")], [g])))
    sec = dom.by_id(rows(dom)[0].find_all("a")[0].attrs["href"][1:])
    det = [d for d in sec.find_all("details") if "persistent definition" in d.text()]
    assert len(det) == 1 and live_ports[0].uuid in det[0].text()


def test_minimal_records_with_every_optional_field_empty_render():
    from analyzer.model import Document, Guest, Report

    doc = Document(generated_by={}, reports=[Report(id="r", path="p")],
                   guests=[Guest(uuid="u-1"), Guest(uuid="u-1", report="r")],
                   findings=[Finding("c", "odd-severity", "m")],
                   query=[QueryMatch("t", None)], errors=[Problem("x", "y")]).to_dict()
    dom = parse(html.render(doc))
    assert len(rows(dom)) == 2
    assert "odd-severity" in dom.by_id("findings").text()
    banner = re.sub(r"\s+", " ", dom.by_id("query-banner").text())
    assert "2 of 2 guests match t" in banner and "no match" in banner
    assert "y" in [td.text() for td in dom.by_id("problems").find_all("td")]


def _element_count(name: str) -> int:
    g = guest(name, name, seed="prop", domain=name, project=name)
    g.logs.qemu.tail = [name]
    g.xml = name
    # The report id is longer than any generated name: a hostname equal to
    # the id rightly hides the id line, which is not what this test is about.
    rid = "sosreport-property-test-" + "0" * 24
    r = report(rid, hostname=name, problems=[Problem(name, name)])
    g.report = rid
    return sum(1 for _ in parse(html.render(document([r], [g]))).iter())


def test_any_text_in_any_field_adds_no_element():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    baseline = _element_count("plain")

    @settings(max_examples=60, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
           | st.sampled_from(["<", "</pre>", "<!--", "]]>", "<![CDATA[", "</script>", "&lt;", "\"'><b>"]))
    def check(name):
        assert _element_count(name) == baseline

    check()
