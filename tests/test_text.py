"""The terminal output: hosts as the unit, one block per instance for `--guest`, times in UTC,
nothing a person searches for cut, columns that line up whatever the names hold, and data that
never drives the terminal."""

import re

from analyzer import analysis
from analyzer.build import Built
from analyzer.model import Flavor, Guest, LogEvent, NovaMeta, Owner, Person, Report
from analyzer.render.text import MAX_VALUE, _width, render, safe
from analyzer.run import Outcome

WEB_SHOP = "3f2b9c1e-0000-4000-8000-00000000aaaa"
WEB_BILLING = "9d1a7700-0000-4000-8000-00000000bbbb"
OLD = "66666666-0000-4000-8000-000000000006"
GHOST = "77777777-0000-4000-8000-000000000007"
NOVA_LOG = "var/log/nova/nova-compute.log"
LONG_PATH = "var/log/nova/" + "deeply-nested-directory-of-rotated-logs/" * 3 + "nova-compute.log.2.gz"


def _cells(line):
    return sum(map(_width, line))


def _guest(uuid, rid, host, state, name="web-01", project=("p-shop", "shop"), user=("u1", "alice"), dom=None):
    return Guest(uuid=uuid, domain_name=dom or "instance-%s" % uuid[:8], display_name=name, host=host, report=rid,
                 state=state, memory_mb=2048, vcpus=2,
                 nova=NovaMeta(namespace="n", display_name=name, package_version="27.1.0",
                               creation_time="2025-11-19T07:00:00Z", flavor=Flavor(name="m1.small"),
                               owner=Owner(user=Person(*user), project=Person(*project))))


def _nova(uuid, kind, time, msg, line, peer=None, path=NOVA_LOG):
    return LogEvent(kind=kind, time=time, clock="local", message=msg, path=path, line=line, uuid=uuid, peer_host=peer)


def _document(offset_1="+01:00", query=None, extra_events=()):
    """compute-1 (UTC+1, two reports and the first given twice) live-migrates web-01 of project
    shop to compute-2 (UTC-5), keeps a shut-off leftover and loses `old-vm`; compute-2 also runs
    another web-01, of project billing, and its log names an instance it has no definition of."""
    r1 = Report(id="r1", path="/cases/0123/compute-1-first.tar.xz", hostname="compute-1",
                collected_at="2025-11-19T08:55:00Z", utc_offset=offset_1, sos_version="4.9.1")
    r2 = Report(id="r2", path="/cases/0123/compute-1-second.tar.xz", hostname="compute-1",
                collected_at="2025-11-19T09:10:00Z", utc_offset=offset_1, sos_version="4.9.1")
    r3 = Report(id="r3", path="/cases/0123/compute-2.tar.xz", hostname="compute-2",
                collected_at="2025-11-19T09:12:00Z", utc_offset="-05:00", sos_version="4.0")
    r4 = Report(id="r4", path="/cases/0123/copy/compute-1-first.tar.xz", hostname="compute-1",
                collected_at=r1.collected_at, utc_offset=offset_1, duplicate_of="r1")
    src = [_nova(WEB_SHOP, "migration-started", "2025-11-19T09:59:30.100",
                 "Took 1.20 seconds for pre_live_migration on destination host compute-2.", 10, "compute-2"),
           _nova(WEB_SHOP, "migration-completed", "2025-11-19T09:59:45.500",
                 "Migrating instance to compute-2 finished successfully.", 12, "compute-2"),
           *extra_events]
    dst = [_nova(WEB_SHOP, "migrated-in", "2025-11-19T03:59:44.000", "Post operation of migration started", 7),
           _nova(GHOST, "deleted", "2025-11-19T03:00:00.000", "Instance destroyed successfully.", 3)]
    reads = {
        "r1": Built(r1, [_guest(WEB_SHOP, "r1", "compute-1", "running"),
                         _guest(OLD, "r1", "compute-1", "running", name="old-vm")], list(src)),
        "r2": Built(r2, [_guest(WEB_SHOP, "r2", "compute-1", "shut off")], list(src)),
        "r3": Built(r3, [_guest(WEB_SHOP, "r3", "compute-2", "running", dom="instance-00000031"),
                         _guest(WEB_BILLING, "r3", "compute-2", "paused", project=("p-bill", "billing"),
                                user=("u2", "bob"))], dst),
    }
    doc = analysis.document(Outcome([r1, r2, r3, r4], reads, [], []))
    if query:
        analysis.restrict(doc, query)
    return doc.to_dict()


def _flat(text):
    """The text with its line wraps undone, to find a phrase wherever the lines broke."""
    return " ".join(text.split())


def _blocks(out):
    """The per-instance blocks of a --guest output, keyed by their UUID."""
    parts = out.split("=" * 80 + "\n== ")[1:]
    return {re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", p).group(0): p for p in parts}


def test_hosts_are_the_unit_with_their_reports_oldest_first_and_a_repeat_said_once():
    out = render(_document())
    assert out.startswith("analyze-sos ") and "2 hosts, 4 reports (1 duplicate), 4 guests" in out.splitlines()[0]
    head = out.split("DISPLAY NAME")[0]
    c1 = head.split("compute-1: ")[1].split("compute-2: ")[0]
    assert c1.startswith("2 reports, clock UTC+01:00")
    assert c1.index("r1 collected 2025-11-19 08:55:00Z") < c1.index("r2 collected 2025-11-19 09:10:00Z (newest)")
    assert c1.count("the same report as r1, counted once") == 1 and "copy/compute-1-first.tar.xz" in c1
    assert "compute-2: 1 report, clock UTC-05:00" in head


def test_guest_table_shows_owner_and_the_report_it_is_from_and_what_is_gone():
    out = render(_document())
    table = out.split("DISPLAY NAME", 1)[1].split("\n\n", 1)[0]
    assert "compute-1: 2 guests, newest report r2 (collected 2025-11-19 09:10:00Z)" in table
    assert "compute-2: 2 guests, newest report r3 (collected 2025-11-19 09:12:00Z)" in table
    (billing,) = [l for l in table.splitlines() if WEB_BILLING[:8] in l]
    assert "billing / bob" in billing and "paused" in billing
    (shop,) = [l for l in table.splitlines() if WEB_SHOP[:8] in l and "running" in l]
    assert "shop / alice" in shop
    (old,) = [l for l in table.splitlines() if OLD[:8] in l]
    assert "gone" in old and "running" not in old
    assert "gone since r2: last seen in r1 (collected 2025-11-19 08:55:00Z), running" in table
    assert all(_cells(line) <= 80 for line in table.splitlines())


def test_overview_has_no_story_but_says_how_to_get_one():
    out = render(_document())
    assert "Story" not in out and "Post operation of migration started" not in out
    assert "--guest NAME-OR-UUID --format text" in out
    assert "live migration compute-1 -> compute-2, completed" in out
    assert "web-01 %s: state running -> shut off" % WEB_SHOP[:8] in out


def test_guest_query_prints_one_block_per_instance_told_apart_by_project():
    out = render(_document(query=["web-01"]))
    blocks = _blocks(out)
    assert sorted(blocks) == sorted([WEB_SHOP, WEB_BILLING])
    assert blocks[WEB_SHOP].startswith("web-01 (project shop) " + WEB_SHOP)
    assert blocks[WEB_BILLING].startswith("web-01 (project billing) " + WEB_BILLING)
    assert "user bob (u2)" in blocks[WEB_BILLING] and "alice" not in blocks[WEB_BILLING].split("Story")[0]
    # the banner says which is which before the blocks
    banner = out.split("DISPLAY NAME")[0]
    assert "query web-01: 2 instances on 2 hosts, by display-name" in banner
    assert re.search(WEB_SHOP + r" web-01, project shop, user alice: on\s+compute-1 shut off", banner)


def test_an_instance_block_has_its_hosts_migration_story_and_changes():
    shop = _blocks(render(_document(query=["web-01"])))[WEB_SHOP]
    assert "on compute-1: shut off (r2, collected 2025-11-19 09:10:00Z)" in shop
    assert "on compute-2: running (r3, collected 2025-11-19 09:12:00Z)" in shop
    migrations = shop.split("Migrations:")[1].split("Story")[0]
    assert "live migration compute-1 -> compute-2, completed, 2025-11-19 08:59:30Z to" in migrations
    story = shop.split("Story")[1].split("Changes between reports")[0]
    events = [l.strip() for l in story.splitlines() if re.match(r"\s{4}\d{4}-", l)]
    assert [e.split()[3].rstrip(":") for e in events] == ["created", "collected", "migration-started", "migrated-in",
                                             "migration-completed", "collected", "collected"]
    # nova's local times are told in UTC, both sides of the migration in one order
    joined = " ".join(story.split())
    assert ("2025-11-19 08:59:44Z compute-2 migrated-in <- compute-1: Post operation of migration started "
            "[var/log/nova/nova-compute.log:7]") in joined
    assert ("2025-11-19 08:59:45Z compute-1 migration-completed -> compute-2: Migrating instance to compute-2 "
            "finished successfully. [var/log/nova/nova-compute.log:12]") in joined
    assert "compute-1 r1 -> r2: web-01 %s: state running -> shut off" % WEB_SHOP[:8] in shop
    assert "Definition on compute-1, from r2" in shop and "Definition on compute-2, from r3" in shop


def test_gone_and_only_in_logs_are_said_per_host():
    old = _blocks(render(_document(query=[OLD[:8]])))[OLD]
    assert "on compute-1: gone since r2 (last seen in r1, collected 2025-11-19 08:55:00Z, running)" in _flat(old)
    doc = _document()
    # an instance only logs name: no guest to query, yet its host is marked so in the document the
    # text reads; render it as a --guest block would
    (ghost,) = [i for i in doc["instances"] if i["uuid"] == GHOST]
    from analyzer.render.text import _Case, _instance
    lines = _flat("\n".join(_instance(ghost, [], [], _Case(doc))))
    assert "on compute-2: only in logs" in lines
    assert "2025-11-19 08:00:00Z compute-2 deleted: Instance destroyed successfully." in lines


def test_local_times_are_marked_when_the_clock_is_unknown():
    shop = _blocks(render(_document(offset_1=None, query=[WEB_SHOP])))[WEB_SHOP]
    assert "(local): the host's own clock, its report does not say its offset (compute-1)" in _flat(shop)
    assert "2025-11-19 09:59:30 (local) compute-1 migration-started" in shop
    assert "2025-11-19 08:59:44Z compute-2 migrated-in" in shop


def test_a_long_log_line_and_a_long_path_wrap_and_are_never_cut():
    msg = ("Live Migration failure: operation failed: job 'migration out' failed: unable to connect to "
           "server at 'compute-2.example.org:49152': Connection refused " + "x" * 120)
    extra = [_nova(WEB_SHOP, "migration-failed", "2025-11-19T10:05:00", msg, 99_999, path=LONG_PATH)]
    out = render(_document(query=[WEB_SHOP], extra_events=extra))
    assert " ".join(msg.split()) in " ".join(out.split())
    assert any(line.strip() == "[%s:99999]" % LONG_PATH for line in out.splitlines())
    story = out.split("Story")[1].split("Changes between")[0]
    assert all(_cells(l) <= 80 for l in story.splitlines() if LONG_PATH not in l and "x" * 120 not in l)


def test_plurals_are_right():
    out = render(_document(query=[WEB_BILLING]))
    assert "(s)" not in out
    assert "query %s: 1 instance on 1 host, by uuid" % WEB_BILLING in out
    assert "compute-2: 1 report, clock" in out and "compute-2: 1 guest, newest report r3" in out
    assert "\n2 findings\n" in out and "2 reports, clock UTC+01:00" in out


def test_a_capped_story_says_how_many_events_were_left_out():
    doc = _document(query=[WEB_SHOP])
    inst = doc["instances"][0]
    inst["events"] = inst["events"] * 2
    inst["events_left_out"] = 1234
    out = render(doc)
    assert "Story, %d events" % (len(inst["events"]) + 1234) in out
    assert "... 1234 events left out here (the first and the last are kept)" in out


def _doc(names):
    guests = [{"uuid": "%08d-0000-4000-8000-000000000000" % i, "display_name": n, "domain_name": "i-%d" % i,
               "report": "r1", "host": "compute-1", "state": "running", "nova": None, "vcpus": 1,
               "memory_mb": 512, "sources": [], "differences": [], "disks": [], "interfaces": []}
              for i, n in enumerate(names)]
    return {"schema_version": 2, "generated_by": {"name": "analyze-sos", "version": "t"},
            "hosts": [{"name": "compute-1", "reports": ["r1"], "latest_report": "r1"}],
            "reports": [{"id": "r1", "path": "x", "hostname": "compute-1", "packages": {}, "problems": []}],
            "guests": guests, "findings": [], "query": None, "total_guests": len(guests), "errors": []}


def test_wide_and_combining_names_keep_the_uuid_column_aligned_and_whole():
    names = ["web-01", "db \u6570\u636e\u5e93", "cafe\u0301 \u00e9l\u00e8ve", "\u6570" * 40]
    out = render(_doc(names))
    lines = out.splitlines()
    rows = [l for l in lines if re.search(r"\b0000000\d\b", l)]
    assert len(rows) == 4
    starts = {_cells(l[: l.index("%08d" % i)]) for i, l in enumerate(rows)}
    assert starts == {19}, out
    # the name too wide for its column is on a line of its own above its row, whole
    assert "  " + "\u6570" * 40 in lines
    assert lines[lines.index("  " + "\u6570" * 40) + 1] == rows[3]
    table = out.split("DISPLAY NAME", 1)[1].split("\n\n", 1)[0]
    assert all(_cells(l) <= 80 for l in table.splitlines() if l != "  " + "\u6570" * 40)


def test_escape_sequences_in_data_never_reach_the_terminal():
    out = render(_doc(["\x1b]0;pwned\x07\x1b[2J evil", "rtl\u202eevil"]))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b" in out


def test_a_hostile_value_is_still_capped():
    assert len(safe("x" * (8 << 20), 20)) == 20
    out = render(_doc(["x" * (8 << 20)]))
    assert max(map(_cells, out.splitlines())) <= MAX_VALUE + 2


def test_inputs_not_read_and_files_skipped_are_told_apart():
    doc = _doc(["web-01"])
    doc["errors"] = [{"path": "/case/empty.tar.xz", "reason": "the file is empty (an interrupted download or copy?)"},
                     {"path": "/case/notes.txt", "reason": "skipped: not a sosreport: neither a tar archive nor "
                                                            "xz/gzip/bzip2-compressed tar"},
                     {"path": "(case)", "reason": "2 different machines (machine-ids 11111111, 22222222) call "
                                                  "themselves compute-3: they are kept apart"}]
    flat = _flat(render(doc))
    assert "not read: /case/empty.tar.xz: the file is empty" in flat
    assert "/case/notes.txt: skipped: not a sosreport" in flat and "not read: /case/notes.txt" not in flat
    assert "note: 2 different machines (machine-ids 11111111, 22222222) call themselves compute-3" in flat
