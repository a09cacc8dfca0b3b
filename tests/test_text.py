"""The terminal table: columns line up whatever the names hold, and data never drives the terminal."""

from analyzer.render.text import _width, render, safe


def _doc(names):
    guests = [{"uuid": "%08d-0000-4000-8000-000000000000" % i, "display_name": n, "domain_name": "i-%d" % i,
               "report": "r1", "host": "compute-1", "state": "running", "nova": None, "vcpus": 1,
               "memory_mb": 512, "sources": [], "differences": [], "disks": [], "interfaces": []}
              for i, n in enumerate(names)]
    return {"schema_version": 1, "generated_by": {"name": "analyze-sos", "version": "t"},
            "reports": [{"id": "r1", "path": "x", "hostname": "compute-1", "packages": {}, "problems": []}],
            "guests": guests, "findings": [], "query": None, "total_guests": len(guests), "errors": []}


def _cells(line):
    return sum(map(_width, line))


def test_wide_and_combining_names_keep_the_uuid_column_aligned():
    names = ["web-01", "db \u6570\u636e\u5e93", "cafe\u0301 \u00e9l\u00e8ve", "\u6570" * 40]
    out = render(_doc(names))
    rows = [l for l in out.splitlines() if "compute-1" in l and "running" in l]
    assert len(rows) == 4
    starts = {_cells(l[: l.index("%08d" % i)]) for i, l in enumerate(rows)}
    assert starts == {21}, out
    assert all(_cells(l) <= 80 for l in out.splitlines())


def test_escape_sequences_in_data_never_reach_the_terminal():
    out = render(_doc(["\x1b]0;pwned\x07\x1b[2J evil", "rtl\u202eevil"]))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b" in out


def test_huge_name_is_cut_to_its_column():
    assert len(safe("x" * (8 << 20), 20)) == 20
