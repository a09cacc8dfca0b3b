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
from make_screenshot import big_document, case_document, document, guest, realistic_document, report, uid

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


def parse(page: str, expand: bool = True) -> Node:
    """The page as a tree; with `expand`, each compressed detail is put into its section, as the
    page's JS does when the detail is opened."""
    b = TreeBuilder()
    b.feed(page)
    b.close()
    root = b.root
    if expand:
        chunks = {n.attrs["id"]: n for n in root.find_all("template", class_="zchunk")}
        parsed: dict = {}
        for sec in [n for n in root.find_all("section") if "data-chunk" in n.attrs]:
            cid = sec.attrs["data-chunk"]
            if cid not in parsed:
                parsed[cid] = parse(html.unpack(chunks[cid].attrs["data-z"]), expand=False)
            body = [n for n in parsed[cid].find_all("div") if n.attrs.get("data-body-of") == sec.attrs["id"]]
            assert len(body) == 1
            body[0].parent = sec
            sec.children.append(body[0])
        for tpl in root.find_all("template", class_="fitems"):
            if "data-z" in tpl.attrs:
                tpl.children = parse(html.unpack(tpl.attrs["data-z"]), expand=False).children
    return root


def instance(dom: Node, uuid: str) -> Node:
    return dom.by_id("guest-" + uuid)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def rows(dom: Node) -> list[Node]:
    table = dom.by_id("guest-table")
    return [tr for tr in table.find_all("tr") if "data-uuid" in tr.attrs]


def small_doc(**kw):
    reps = [report("compute-0"), report("compute-1")]
    gs = [guest("web-01", "compute-0", domain="instance-00000001"),
          guest("db-01", "compute-1", domain="instance-00000002", state="shut off")]
    return document(reps, gs, **kw)



# --- rows and details -------------------------------------------------------------------------

def test_one_row_per_guest_and_host_showing_its_full_uuid():
    doc = realistic_document()
    dom = parse(html.render(doc))
    got = [tr.attrs["data-uuid"] for tr in rows(dom)]
    assert sorted(got) == sorted(g["uuid"] for g in doc["guests"])
    for tr in rows(dom):
        assert tr.attrs["data-uuid"] in tr.text()
    # web-01 lives on two hosts: two rows with the same UUID, one per host.
    web = [g for g in doc["guests"] if g["display_name"] == "web-01"]
    assert len(web) == 2
    web_rows = [tr for tr in rows(dom) if tr.attrs["data-uuid"] == web[0]["uuid"]]
    assert sorted(tr.attrs["data-host"] for tr in web_rows) == sorted(g["host"] for g in web)
    # tr[data-uuid] marks the guest table's rows and nothing else
    assert len([n for n in dom.find_all("tr") if "data-uuid" in n.attrs]) == len(doc["guests"])


def test_row_shows_owner_and_collection_time_beside_the_name():
    doc = small_doc()
    g = doc["guests"][0]
    dom = parse(html.render(doc))
    tr = next(tr for tr in rows(dom) if tr.attrs["data-uuid"] == g["uuid"])
    cells = [td.text().strip() for td in tr.find_all("td")]
    for expected in ("web-01", "webteam", "alice", g["uuid"], "instance-00000001", "compute-0", "running",
                     "2026-11-20 09:41:07Z compute-0", "m1.small", "2", "4 GiB", "27.5.2-17.1.el9ost",
                     "2026-03-02 14:05:11Z"):
        assert expected in cells, (expected, cells)
    assert any(c.startswith("image ") for c in cells)
    headers = [th.text().strip() for th in dom.by_id("guest-table").find_all("th")]
    assert headers[:7] == ["Name", "Project", "User", "UUID", "Host", "State", "Seen (report)"]


def test_each_row_links_to_its_instance_detail_with_every_part():
    doc = realistic_document()
    dom = parse(html.render(doc))
    by_uuid_host = {(g["uuid"], g["host"]): g for g in doc["guests"]}
    for tr in rows(dom):
        target = tr.find_all("a")[0].attrs["href"]
        assert target == "#guest-" + tr.attrs["data-uuid"]
        sec = dom.by_id(target[1:])
        assert sec.tag == "section" and sec.has_class("instance")
        part = [d for d in sec.find_all("div", class_="guest") if d.attrs["data-host"] == tr.attrs["data-host"]]
        assert len(part) == 1
        g = by_uuid_host[(tr.attrs["data-uuid"], tr.attrs["data-host"])]
        text = part[0].text()
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
        # the raw XML waits in an inert template until [data-show-xml] is clicked
        (button,) = [n for n in part[0].iter() if "data-show-xml" in n.attrs]
        (tpl,) = part[0].find_all("template", class_="xml-src")
        assert tpl.parent is button.parent
        assert "<domain type='kvm'>" in tpl.text()
        assert not [n for n in part[0].find_all("pre") if "<domain" in n.text() and n.parent.tag != "template"]


def test_interfaces_are_matched_to_nova_ports_by_tap_name():
    doc = small_doc()
    g = doc["guests"][0]
    port = g["nova"]["ports"][0]
    dom = parse(html.render(doc))
    sec = instance(dom, g["uuid"])
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
    assert "2 ERROR" in text and "from 2026-11-19 22:14:03 (local)" in squash(text)


def test_a_root_image_without_image_details_is_not_called_volume_backed():
    g = guest("img", "h")
    g.nova.image = None
    dom = parse(html.render(document([report("h")], [g])))
    t = squash(instance(dom, g.uuid).text())
    assert "Rootimage %s" % g.nova.root.uuid in t  # the Root row (th, td)
    assert "the root is image %s; this Nova wrote no image details" % g.nova.root.uuid in t
    assert "volume-backed" not in t


# --- the case over time -------------------------------------------------------------------------

def test_hosts_are_the_unit_with_their_reports_oldest_first_and_the_duplicate_said():
    doc = case_document()
    dom = parse(html.render(doc))
    cards = [n for n in dom.by_id("overview").find_all("div") if n.has_class("host")]
    assert [c.find_all("h3")[0].text().strip() for c in cards] == ["compute-1", "compute-2"]
    items = [squash(li.text()) for li in cards[0].find_all("li")]
    assert [i.split()[0] for i in items] == ["r1", "r2", "r4"]  # given as r2, r1, r4: ordered by time
    assert "collected 2025-11-19 08:50:00Z" in items[0]
    assert "newest: the current view" in items[1]
    assert "same content as r1, not counted" in items[2] and "guest" not in items[2]
    assert "UTC+01:00" in squash(cards[0].text()) and "UTC-05:00" in squash(cards[1].text())
    head = squash(dom.find_all("header")[0].text())
    assert "2 hosts · 3 reports (+1 duplicate, not counted) · 5 guests" in head


def test_a_guest_gone_since_the_newest_report_is_kept_and_marked():
    doc = case_document()
    gone = next(g for g in doc["guests"] if not g["in_latest_report"])
    dom = parse(html.render(doc))
    (tr,) = [tr for tr in rows(dom) if tr.attrs["data-uuid"] == gone["uuid"]]
    assert tr.has_class("gone")
    assert "gone since r2" in tr.text()
    sec = instance(dom, gone["uuid"])
    assert "Gone since r2" in sec.text()
    card = [n for n in dom.by_id("overview").find_all("div") if n.has_class("host")][0]
    assert "1 gone since the newest report" in card.text()


def test_each_instance_is_one_element_with_its_story_and_every_hosts_guest():
    doc = case_document()
    dom = parse(html.render(doc))
    for inst in doc["instances"]:
        sec = instance(dom, inst["uuid"])
        assert sec.tag == "section"
        parts = sec.find_all("div", class_="guest")
        assert sorted(p.attrs["data-host"] for p in parts) == sorted(h["host"] for h in inst["hosts"])
        ev_rows = [tr for tr in sec.find_all("tr") if tr.has_class("ev")]
        assert len(ev_rows) == len(inst["events"])
        for e, tr in zip(inst["events"], ev_rows):
            cells = [td.text().strip() for td in tr.find_all("td")]
            assert cells[0] == html.when(e["time"], e["time_is_utc"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", cells[0])
            assert cells[1] == e["host"] and cells[2].startswith(e["kind"]) and cells[3] == e["message"]
            ev = e["evidence"]
            assert cells[4] == ("%s:%s" % (ev["path"], ev["line"]) if ev["line"] else ev["path"])


def test_every_event_kind_is_shown_and_placed_on_its_hosts_lane():
    from analyzer.model import EVENT_KINDS

    doc = case_document()
    assert {e["kind"] for i in doc["instances"] for e in i["events"]} == set(EVENT_KINDS)
    dom = parse(html.render(doc))
    text = dom.by_id("details").text()
    for kind in EVENT_KINDS:
        assert kind in text
    web = next(i for i in doc["instances"] if len(i["hosts"]) == 2)
    svg = instance(dom, web["uuid"]).find_all("svg")[0]
    lanes = [t.find_all("title")[0].text() for t in svg.find_all("text") if t.has_class("tl-label")]
    assert lanes == ["compute-1", "compute-2"]
    lane_y = {t.find_all("title")[0].text(): float(t.attrs["y"]) - 4 for t in svg.find_all("text") if t.has_class("tl-label")}
    marks = [n for n in svg.iter() if n.tag in ("circle", "rect") and n.find_all("title")]
    assert len(marks) == len(web["events"])
    for e, mk in zip(web["events"], marks):
        y = float(mk.attrs.get("cy") or float(mk.attrs["y"]) + 9)
        assert y == lane_y[e["host"]], e
    xs = [float(mk.attrs.get("cx") or float(mk.attrs["x"]) + 1.5) for mk in marks]
    assert xs == sorted(xs)  # events placed by time (the list is in time order)


def test_the_migration_is_drawn_between_the_lanes_and_listed():
    doc = case_document()
    web = next(i for i in doc["instances"] if len(i["hosts"]) == 2)
    (mig,) = web["migrations"]
    dom = parse(html.render(doc))
    sec = instance(dom, web["uuid"])
    (arrow,) = [g for g in sec.find_all("g") if g.has_class("tl-arrow")]
    assert arrow.has_class("mig-completed")
    line = arrow.find_all("line")[0]
    assert float(line.attrs["y1"]) < float(line.attrs["y2"])  # compute-1's lane down to compute-2's
    assert "live migration compute-1 → compute-2, 2025-11-19 08:59:30Z to 2025-11-19 08:59:45Z: completed" \
        in squash(sec.text())
    db = next(i for i in doc["instances"] if i["display_name"] == "db-01")
    (failed,) = [g for g in instance(dom, db["uuid"]).find_all("g") if g.has_class("tl-arrow")]
    assert failed.has_class("mig-failed")
    # and on the case timeline: the instance's marks hold the move between the host lanes
    (ti,) = [a for a in dom.by_id("timeline").find_all("a") if a.attrs.get("data-uuid") == web["uuid"]]
    assert ti.attrs["href"] == "#guest-" + web["uuid"]
    assert [p for p in ti.find_all("path") if p.has_class("tl-move")]


def test_local_times_are_marked_where_the_clock_is_unknown():
    doc = case_document()
    for r in doc["reports"]:
        if r["host"] == "compute-2":
            r["utc_offset"] = None
            r["collected_at"] = "2025-11-19T04:12:00"
    inst = next(i for i in doc["instances"] if i["display_name"] == "web-01" and len(i["hosts"]) == 1)
    for e in inst["events"]:
        if e["kind"] == "suspended":
            e["time"], e["time_is_utc"] = "2025-11-19T04:01:00.000", False
    dom = parse(html.render(doc))
    text = squash(instance(dom, inst["uuid"]).text())
    assert "2025-11-19 04:01:00 (local)" in text
    assert "hollow marks are local times" in text
    card = [n for n in dom.by_id("overview").find_all("div") if n.has_class("host")][1]
    assert "collected 2025-11-19 04:12:00 (local)" in squash(card.text())


def test_changes_between_reports_are_listed_per_host():
    doc = case_document()
    dom = parse(html.render(doc))
    sec = dom.by_id("changes")
    got = []
    for tr in sec.find_all("tr"):
        tds = [td.text().strip() for td in tr.find_all("td")]
        if tds:
            got.append((squash(tds[0]).split("2025")[0].strip(), tds[2], tds[3], tds[4]))
    want = [("r1 → r2", c["field"], html.value_text(c["before"]), html.value_text(c["after"])) for c in doc["changes"]]
    assert got == want
    assert [h.text().strip() for h in sec.find_all("h3")] == ["compute-1"]
    assert "the host" in sec.text()  # packages.nova is the host's own change


def test_two_instances_of_one_name_are_told_apart_at_a_glance():
    doc = case_document()
    dom = parse(html.render(doc))
    webs = [i for i in doc["instances"] if i["display_name"] == "web-01"]
    assert len({i["uuid"] for i in webs}) == 2
    heads = {}
    for i in webs:
        h3 = instance(dom, i["uuid"]).find_all("h3")[0]
        heads[i["project"]["name"]] = squash(h3.text())
    assert "shop / alice" in heads["shop"] and "compute-1 shut off, compute-2 running" in heads["shop"]
    assert "billing / bob" in heads["billing"] and "compute-2 running" in heads["billing"]
    projects = sorted({tr.find_all("td")[1].text() for tr in rows(dom) if "web-01" in tr.find_all("td")[0].text()})
    assert projects == ["billing", "shop"]
    for tr in rows(dom):
        if "web-01" in tr.find_all("td")[0].text():
            assert "2 with this name" in tr.find_all("td")[0].text()


# --- findings ---------------------------------------------------------------------------------

def _cards(dom):
    return [n for n in dom.find_all("details") if "data-guests" in n.attrs]


def test_findings_are_one_card_per_code_and_severity_with_a_summary_line():
    doc = big_document(120, 4)
    gs = doc["guests"]
    doc["findings"] = [{"code": "nova-log-errors", "severity": "warning", "message": "errors of %s" % g["uuid"],
                        "guests": [g["uuid"]], "hosts": [g["host"]], "evidence": []} for g in gs[:90]]
    doc["findings"] += [{"code": "abnormal-state", "severity": "critical", "message": "crashed",
                         "guests": [gs[5]["uuid"]], "hosts": [gs[5]["host"]], "evidence": []},
                        {"code": "nova-version-skew", "severity": "warning", "message": "host level",
                         "guests": [], "hosts": ["compute-1"], "evidence": []}]
    dom = parse(html.render(doc))
    cards = _cards(dom)
    assert [(c.find_all("code")[0].text(), c.find_all("span")[0].text()) for c in cards] == [
        ("abnormal-state", "critical"), ("nova-log-errors", "warning"), ("nova-version-skew", "warning")]
    assert cards[1].attrs["data-guests"].split() == [g["uuid"] for g in gs[:90]]
    assert cards[2].attrs["data-guests"] == ""
    assert "90 guests" in cards[1].find_all("summary")[0].text()
    # every finding is in its card, to expand
    items = [li for li in cards[1].find_all("li") if li.has_class("fitem")]
    assert len(items) == 90 and all("errors of " + g["uuid"] in it.text() for g, it in zip(gs, items))
    summary = [squash(li.text()) for li in dom.by_id("finding-summary").find_all("li")]
    assert summary == ["critical abnormal-state state that needs a look: 1 guest",
                       "warning nova-log-errors nova-compute ERROR lines name the instance: 90 guests",
                       "warning nova-version-skew: 1 finding on 1 host"]


def test_overview_counts_states_and_findings():
    doc = realistic_document()
    dom = parse(html.render(doc))
    cards = {}
    for table in dom.by_id("overview").find_all("table"):
        if table.has_class("counts"):
            for tr in table.find_all("tr"):
                k, n = [td.text().strip() for td in tr.find_all("td")]
                cards[k] = int(n)
    assert cards == {"running": 6, "shut off": 2, "crashed": 1, "paused": 1, "shown": 10,
                     "critical": 2, "warning": 2, "info": 1}
    text = squash(dom.by_id("findings").text())
    for f in doc["findings"]:
        assert f["message"] in text and f["code"] in text
    text = squash(dom.by_id("overview").text())
    for r in doc["reports"]:
        for val in (r["hostname"], r["sos_version"], html.when(r["collected_at"]), r["path"],
                    r["packages"]["nova"], r["packages"]["libvirt"], r["packages"]["qemu"]):
            assert val in text
    # findings for a guest are repeated in its detail
    crashed = next(g for g in doc["guests"] if g["state"] == "crashed")
    assert "guest-crashed" not in instance(dom, crashed["uuid"]).text()  # the code is in the card...
    assert "ci-runner-17 is crashed on compute-2" in instance(dom, crashed["uuid"]).text()  # ...its message here


# --- safety -----------------------------------------------------------------------------------

NASTY = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "</textarea></pre><svg onload=alert(3)>",
    "javascript:alert(4)",
    "\u2028</script><!--",
    "</template><img src=y onerror=alert(5)>",
]


def _nasty_doc(name: str, extra: int = 0):
    reps = [report("r<1>", hostname=name, problems=[Problem(name, name)])]
    g = guest(name, name, report_id="r<1>", domain=name, flavor=name, project=name, user=name)
    g.nova.extra = {name: name}
    g.nova.flavor.extra_specs = {name: name}
    g.logs.qemu.tail = [name]
    g.xml = name
    more = [guest("filler-%d" % i, "h", seed="filler-%d" % i, report_id="r<1>") for i in range(extra)]
    doc = document(reps, [g] + more,
                   findings=[Finding("c<b>", "critical", name, guests=[g.uuid], hosts=[name],
                                     evidence=[Evidence(name, name, name)])],
                   query=[QueryMatch(name, "display-name", [{"uuid": g.uuid, "host": name, "report": "r<1>",
                                                             "display_name": name}])])
    doc["instances"] = [{"uuid": g.uuid, "display_name": name, "project": {"uuid": name, "name": name},
                         "user": None, "hosts": [{"host": name, "state": name, "in_latest_report": True,
                                                  "defined": True}],
                         "events": [{"time": name, "time_is_utc": True, "host": name, "report": "r<1>",
                                     "kind": name, "peer_host": name, "message": name,
                                     "evidence": {"path": name, "line": 3}}],
                         "events_left_out": 0,
                         "migrations": [{"source": name, "destination": name, "started": name, "ended": None,
                                         "outcome": name, "kind": name}]}]
    doc["changes"] = [{"host": name, "from_report": "r<1>", "to_report": "r<1>", "uuid": g.uuid, "field": name,
                       "before": name, "after": [name]}]
    return doc, g


def _no_markup_from_data(dom: Node) -> None:
    assert not dom.find_all("img") and not dom.find_all("textarea")
    assert not [n for n in dom.iter() if any(a.startswith("on") for a in n.attrs)]
    assert not [n for n in dom.find_all("svg") if not n.has_class("timeline")]


@pytest.mark.parametrize("name", NASTY)
@pytest.mark.parametrize("extra", [0, 60], ids=["inline", "compressed"])
def test_markup_like_values_render_as_text(name, extra):
    doc, g = _nasty_doc(name, extra)
    page = html.render(doc)
    dom = parse(page)
    assert ('data-chunk="' in page) == (extra > 0)
    # Exactly the page's own script and no element or attribute the data could have made,
    # in the page and in every compressed detail.
    assert len(dom.find_all("script")) == 1
    assert dom.find_all("script")[0].attrs == {}
    _no_markup_from_data(dom)
    assert "<script>alert" not in page and "<img src" not in page
    # ...and the text is there, as text, where the engineer looks for it.
    name_cell = [tr for tr in rows(dom) if tr.attrs["data-uuid"] == g.uuid][0].find_all("td")[0]
    assert name_cell.text().strip().startswith(name.strip())
    assert name in dom.by_id("problems").text()
    assert name in dom.by_id("query-banner").text()
    sec = instance(dom, g.uuid)
    assert sec.text().count(name) >= 5
    assert name in dom.by_id("changes").text()


def test_no_external_urls_anywhere():
    for doc in (realistic_document(), big_document(60, 3)):
        page = html.render(doc)
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
        assert csp and csp[0].attrs["content"].startswith("default-src 'none'; ")
        assert "connect-src" not in csp[0].attrs["content"] and "'unsafe-eval'" not in csp[0].attrs["content"]


def test_html_ids_are_safe_and_unique_for_odd_report_ids():
    reps = [report("../a b/<x>"), report("../a b/<x>!")]
    g1 = guest("one", "h", seed="same", report_id="../a b/<x>")
    g2 = guest("one", "h2", seed="same", report_id="../a b/<x>!")
    g3 = guest("odd", "h", seed="odd", report_id="../a b/<x>")
    g3.uuid = "../<odd uuid>"
    dom = parse(html.render(document(reps, [g1, g2, g3])))
    ids = [n.attrs["id"] for n in dom.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for i in ids:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", i), i
    assert "guest-" + g1.uuid in ids


# --- a big case -------------------------------------------------------------------------------

def test_a_big_case_keeps_details_out_of_the_dom_until_opened():
    doc = big_document(300, 7)
    page = html.render(doc)
    flat = parse(page, expand=False)
    secs = [n for n in flat.find_all("section") if n.has_class("instance")]
    assert len(secs) == 300 and all("data-chunk" in s.attrs for s in secs)
    # no raw XML, log line or detail table in the page itself
    for g in doc["guests"][:20]:
        assert g["xml"] not in page and g["logs"]["nova_compute"]["lines"][0] not in page
    assert not [n for n in flat.find_all("div") if n.has_class("guest")]
    assert len(page) < 2_500_000
    # ...but all of it in the compressed blocks, one body per instance
    dom = parse(page)
    for g in doc["guests"]:
        sec = instance(dom, g["uuid"])
        assert g["logs"]["nova_compute"]["lines"][0] in sec.text()
        assert g["xml"] in "".join(t.text() for t in sec.find_all("template", class_="xml-src"))
    # the first rows and instances are laid out, the page's JS lists the rest
    shown = [tr for tr in rows(flat) if "hidden" not in tr.attrs]
    assert len(rows(flat)) == 300 and len(shown) == html.WINDOW
    assert flat.by_id("guest-more").tag == "button"
    noscript = flat.find_all("noscript")
    assert noscript and "tr[hidden]" in noscript[0].text()  # without script every row shows


def test_a_small_case_shows_every_detail_without_script():
    dom = parse(html.render(realistic_document()), expand=False)
    secs = [n for n in dom.find_all("section") if n.has_class("instance")]
    assert secs and all("data-chunk" not in s.attrs and s.has_class("open") for s in secs)
    assert not dom.find_all("template", class_="zchunk")
    assert not [tr for tr in rows(dom) if "hidden" in tr.attrs]


# --- query, problems, plurals -------------------------------------------------------------------

def test_query_banner_says_how_many_match():
    doc = small_doc(query=[QueryMatch("web-01", "display-name",
                                      [{"uuid": uid("web-01"), "host": "compute-0", "report": "compute-0",
                                        "display_name": "web-01"}])], total=57)
    doc["guests"] = doc["guests"][:1]
    dom = parse(html.render(doc))
    banner = dom.by_id("query-banner").text()
    assert re.search(r"1 of 57 guests match web-01", banner)
    assert "display-name" in banner and "1 guest by display-name" in squash(banner)
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
    # ... and counted on the host's card
    cards = [n for n in dom.by_id("overview").find_all("div") if n.has_class("host")]
    assert ["not read" in c.text() for c in cards] == [False, False, True]
    assert "2 not read" in squash(cards[2].text())


def test_nothing_skipped_says_so():
    dom = parse(html.render(small_doc()))
    assert "Nothing: every input" in dom.by_id("problems").text()


def test_plurals_are_right():
    one = document([report("h")], [guest("solo", "h")])
    dom = parse(html.render(one))
    title = dom.find_all("title")[0].text()
    assert title == "analyze-sos: 1 host, 1 guest"
    assert dom.by_id("guest-count").text().strip() == "1 guest"
    assert "1 report ·" in squash(dom.find_all("header")[0].text())
    assert "1 instance:" in squash(dom.by_id("details").text())
    page = html.render(one)
    assert not re.search(r"\b1 (guests|hosts|reports|instances|lines|findings)\b", squash(page))


def test_same_uuid_on_several_hosts_is_one_instance_with_both_guests():
    doc = realistic_document()
    dom = parse(html.render(doc))
    web = [g for g in doc["guests"] if g["display_name"] == "web-01"]
    sec = instance(dom, web[0]["uuid"])
    parts = sec.find_all("div", class_="guest")
    assert sorted(p.attrs["data-host"] for p in parts) == sorted(g["host"] for g in web)
    assert sec.has_class("multi")
    for g in web:
        assert g["host"] in sec.find_all("h3")[0].text()
    single = next(g for g in doc["guests"] if g["display_name"] == "bastion")
    assert not instance(dom, single["uuid"]).has_class("multi")


def test_case_timeline_has_one_link_per_instance_with_a_timed_event():
    doc = realistic_document()
    doc["guests"][0]["nova"]["creation_time"] = "not a time"
    dom = parse(html.render(doc))
    links = [a for a in dom.by_id("timeline").find_all("a") if a.has_class("ti")]
    # hand-made documents have no instances[]: each guest's creation is all there is
    assert len({a.attrs["data-uuid"] for a in links}) == len(links)
    assert all(a.attrs["href"] == "#guest-" + a.attrs["data-uuid"] for a in links)
    for a in links:
        for p in a.find_all("path"):
            for x in re.findall(r"M(-?[\d.]+) ", p.attrs["d"]):
                assert 0 <= float(x) <= 1000


def test_guest_without_any_nova_or_optional_data_renders():
    g = guest(None, "h", seed="bare", with_nova=False)
    g.logs.qemu = None
    g.logs.nova_compute = None
    g.disks, g.interfaces, g.sources, g.xml = [], [], [], None
    g.state = None
    rep = report("h", hostname=None)
    rep.packages.nova = None
    dom = parse(html.render(document([rep], [g])))
    t = instance(dom, g.uuid).text()
    assert "No Nova metadata" in t and "No qemu log" in t and "unknown" in t
    assert "No event has a time" in dom.by_id("timeline").text()


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
    assert cells[0] == "half" and cells[7] == "\u2013"  # no flavor name: a dash, not "None"
    t = instance(dom, g.uuid).text()
    assert "no flavor element" in t and "no image element" in t and "No ports in the Nova metadata" in t
    assert "None" not in t


def test_persistent_nova_metadata_that_differs_is_shown():
    g = guest("web", "h", ports=2)
    live_ports = g.nova.ports
    import copy
    g.nova_persistent = copy.deepcopy(g.nova)
    g.nova_persistent.ports = live_ports[:1]
    dom = parse(html.render(document([report("h")], [g])))
    sec = instance(dom, g.uuid)
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
    banner = squash(dom.by_id("query-banner").text())
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
           | st.sampled_from(["<", "</pre>", "<!--", "]]>", "<![CDATA[", "</script>", "&lt;", "\"'><b>",
                              "</template>"]))
    def check(name):
        assert _element_count(name) == baseline

    check()


# --- the host under the guests ------------------------------------------------------------------

def _kv(table: Node) -> dict:
    """A key/value table's th -> the td after it, as text."""
    out = {}
    for tr in table.find_all("tr"):
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("th", "td")]
        for th, td in zip(cells, cells[1:]):
            if th.tag == "th" and td.tag == "td":
                out[squash(th.text()).strip()] = squash(td.text()).strip()
    return out


def _capacity_doc(with_capacity: bool = True):
    from analyzer.model import (Capacity, Collection, Committed, DiskDevice, MultipathInfo, NumaNode,
                                OvsPort, Placement, PluginTrouble)
    cap = Capacity(cpus=8, memory_mb=65536, cpu_dedicated_set=[2, 3, 6, 7], cpu_shared_set=[0, 1, 4, 5],
                   cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0, reserved_host_memory_mb=4096,
                   numa_nodes=[NumaNode(id=0, cpus=[0, 1, 2, 3], memory_mb=32768,
                                        hugepages={"2048": {"total": 512, "free": 128}}),
                               NumaNode(id=1, cpus=[4, 5, 6, 7], memory_mb=32768,
                                        hugepages={"1048576": {"total": 4, "free": 4}})],
                   committed=Committed(vcpus=5, memory_mb=9216, pinned_cpus=[2, 3],
                                       hugepages={"0": {"2048": 384}}),
                   not_collected=["multipath", "openvswitch"],
                   sources={"cpu_allocation_ratio": "etc/nova/nova.conf",
                            "ram_allocation_ratio": "Nova 27.5.2 default (nova.conf sets none)"})
    col = Collection(plugins_run=["virsh", "libvirt"],
                     troubles=[PluginTrouble("virsh", "timed out", "timeout 300s hit", "sos_reports/manifest.json")])
    r = report("compute-0", capacity=cap if with_capacity else None, collection=col if with_capacity else None)
    pinned = guest("pinned-db", "compute-0", domain="instance-00000011",
                   placement=Placement(vcpu_pins={0: [2], 1: [3]}, emulator_pins=[1], numa_nodes=[0],
                                       hugepage_kib=2048, cpu_policy="dedicated"))
    pinned.interfaces[0].ovs = OvsPort(name=pinned.interfaces[0].target_dev, ofport=7, bridge="br-int",
                                       iface_id="a13b0000-port-db", attached_mac=pinned.interfaces[0].mac)
    pinned.disks[0].source_type = "block"
    pinned.disks[0].source = "/dev/disk/by-id/dm-uuid-mpath-3600a0980"
    pinned.disks[0].device = DiskDevice("/dev/disk/by-id/dm-uuid-mpath-3600a0980", True,
                                             MultipathInfo("mpatha", 1, 2), listing="sos_commands/block/ls_-alZR_.dev")
    unplugged = guest("web-02", "compute-0", domain="instance-00000012")
    unplugged.interfaces[0].ovs_missing_reason = "no OVS interface named tapdead, with iface-id ? or attached-mac ?"
    gone_disk = guest("web-03", "compute-0", domain="instance-00000013")
    gone_disk.disks[0].source = "/dev/disk/by-id/host13-vol-gone"
    gone_disk.disks[0].device = DiskDevice("/dev/disk/by-id/host13-vol-gone", False, listing="ls")
    return document([r], [pinned, unplugged, gone_disk]), pinned, unplugged, gone_disk


def test_host_card_shows_capacity_and_pinned_cpus_name_their_guest():
    doc, pinned, _, _ = _capacity_doc()
    dom = parse(html.render(doc))
    card = [n for n in dom.find_all("div") if n.has_class("host")][0]
    (cap,) = [n for n in card.find_all("div") if n.has_class("capacity")]
    facts = _kv(cap.find_all("table")[0])
    assert (facts["CPUs"], facts["Memory"], facts["NUMA nodes"]) == ("8", "64 GiB", "2")
    assert (facts["Dedicated"], facts["Shared"], "vcpu_pin_set" in facts) == ("2-3,6-7", "0-1,4-5", False)
    assert (facts["cpu ratio"], facts["ram ratio"], facts["Reserved"]) == ("4.0", "1.0 (default)", "4 GiB")
    text = squash(cap.text())
    for want in ("5 vCPUs · 9 GiB · pinned CPUs 2-3", "node 0: 384 x 2 MiB",
                 "2 MiB pages: 384/512 used, 128 free", "1 GiB pages: 0/4 used, 4 free",
                 "not collected: multipath, openvswitch"):
        assert want in text, (want, text)
    rows = [n for n in cap.find_all("div") if n.has_class("cpus")]
    assert len(rows) == 2 and [len(r.find_all("i")) for r in rows] == [4, 4]  # a box per CPU per node
    boxes = rows[0].find_all("i")
    # CPUs 2 and 3 run the pinned guest's vCPUs, CPU 1 its emulator: coloured alike and named
    colour = [c for c in boxes[2].attrs["class"].split() if c.startswith("pc")]
    assert colour and all(colour[0] in b.attrs["class"].split() for b in boxes[1:4])
    assert "pinned-db vCPU 0" in boxes[2].attrs["title"] and "dedicated" in boxes[2].attrs["title"]
    assert "pinned-db emulator" in boxes[1].attrs["title"] and "shared" in boxes[1].attrs["title"]
    assert not [c for c in boxes[0].attrs["class"].split() if c.startswith("pc")]
    assert "pinned-db" not in boxes[0].attrs["title"]
    legend = [a for a in cap.find_all("a") if a.text() == "pinned-db"]
    assert legend and legend[0].attrs["href"] == "#guest-" + pinned.uuid
    bar = [n for n in cap.find_all("span") if n.has_class("hpused")][0]
    assert bar.attrs["style"] == "width: 75%"
    assert "virsh timed out" in squash(card.text())  # sos's own account of the run


def test_two_guests_on_one_cpu_are_marked_and_both_named():
    from analyzer.model import Placement
    doc, pinned, _, _ = _capacity_doc()
    other = [g for g in doc["guests"] if g["display_name"] == "web-02"][0]
    other["placement"] = {"vcpu_pins": {0: [3]}, "emulator_pins": None, "numa_nodes": None,
                          "hugepage_kib": None, "cpu_policy": "dedicated", "mem_page_size": None,
                          "numa_node_count": None}
    dom = parse(html.render(doc))
    box = [n for n in dom.find_all("div") if n.has_class("cpus")][0].find_all("i")[3]
    assert box.has_class("over") and "pinned-db vCPU 1" in box.attrs["title"] and "web-02 vCPU 0" in box.attrs["title"]


def test_guest_detail_shows_placement_ovs_match_missing_reason_and_multipath():
    doc, pinned, unplugged, gone_disk = _capacity_doc()
    dom = parse(html.render(doc))
    sec = instance(dom, pinned.uuid)
    (pl,) = [t for t in sec.find_all("table") if t.has_class("placement")]
    pl = _kv(pl)
    assert (pl["CPU policy"], pl["vCPU pins"], pl["Emulator"]) == ("dedicated", "0→2, 1→3", "1")
    assert (pl["NUMA nodes"], pl["Hugepages"]) == ("0", "2 MiB")
    d = squash(sec.text())
    assert ("%s on br-int · ofport 7" % pinned.interfaces[0].target_dev) in d and "iface-id a13b0000-port-db" in d
    assert "present" in d and "multipath mpatha: 1/2 paths active" in d
    u = squash(instance(dom, unplugged.uuid).text())
    assert "not in OVS: no OVS interface named tapdead" in u
    assert "No CPU pinning, NUMA tuning or hugepages in the definition." in u
    gd = instance(dom, gone_disk.uuid)
    assert [b for b in gd.find_all("span") if b.has_class("badge") and b.text() == "missing"]


def test_a_report_without_capacity_has_no_capacity_section():
    doc, pinned, _, _ = _capacity_doc(with_capacity=False)
    page = html.render(doc)
    dom = parse(page)
    assert not [n for n in dom.find_all("div") if n.has_class("capacity") or n.has_class("cpus")]
    assert "not collected" not in page and "Capacity" not in dom.by_id("overview").text()
    assert len([n for n in dom.find_all("div") if n.has_class("host")]) == 1


def test_capacity_values_are_text_not_markup():
    doc, _, _, _ = _capacity_doc()
    r = doc["reports"][0]
    r["capacity"]["not_collected"] = ["<b>x</b>"]
    doc["guests"][0]["display_name"] = "<img src=x onerror=alert(1)>"
    page = html.render(doc)
    assert "<b>x</b>" not in page and "<img src=x" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
