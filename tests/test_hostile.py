"""Issue 6: hostile and broken input, through the real CLI in a child process (tests/hostile/).

For every case of the corpus and every output format where it means something:
- done within 60 s and under 1 GiB (all of the run's processes together);
- exit 0 with the skip listed under `problems`, or exit 2 with exactly one clear line on stderr;
  never a traceback, never an "internal error";
- nothing written but the output file: the run's cwd, HOME and TMPDIR hold nothing else
  afterwards, nothing appears where an extracting tool would have written (`..`, absolute names,
  link targets), and the case's directory, input included, is byte for byte unchanged;
- the ordinary guest beside the attack is reported, by UUID and display name, and the guest an
  attack tried to smuggle in is not;
- no /etc/passwd line in any output; no raw control character from the data in the text output;
  no markup from the data in the HTML.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.hostile.corpus import (
    EVIL, EVIL_UUID, HTML_NAMES, HTML_RAW, SECRETS, SURVIVOR, Corpus, all_names)
from tests.hostile.runner import MEMORY_LIMIT, TIME_LIMIT, run_cli, snapshot

# C0 and C1 controls (newline and tab aside), DEL, line/paragraph separators and bidi overrides:
# none of them may reach a terminal from the data.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

CASES = all_names()
PARAMS = []
for _name in CASES:
    _fmts = ("json",) if _name in ("zero-4g", "nested-12-allowed", "unreadable-dir") else ("json", "text", "html")
    PARAMS += [pytest.param(_name, _f, id="%s-%s" % (_name, _f)) for _f in _fmts]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    c = Corpus(tmp_path_factory.mktemp("hostile-corpus"))
    yield c
    shutil.rmtree(c.public, ignore_errors=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile-runs")


def _problems(doc):
    out = ["%s: %s" % (p["path"], p["reason"]) for r in doc["reports"] for p in r["problems"]]
    return out + ["%s: %s" % (p["path"], p["reason"]) for p in doc["errors"]]


def _target_bases(case, run):
    bases = {run.home, run.tmpdir}
    for i in case.inputs:
        p = Path(i)
        bases |= {p.parent, p.parent.parent}
    return bases


@pytest.mark.parametrize("name,fmt", PARAMS)
def test_hostile_case(corpus, runs, name, fmt):
    case = corpus.get(name)
    if case.user and os.geteuid() != 0:
        pytest.skip("running as another user needs root")
    case_dir = Path(case.inputs[0]).parent
    watched = {p: snapshot(p) for p in {case_dir, *map(Path, case.inputs)}}
    base = (corpus.public / "runs" / name) if case.user else (runs / name)
    out_name = "out." + fmt
    run = run_cli(["--format", fmt, "-q", *case.args, *case.inputs], base, output=out_name, user=case.user)
    err = run.stderr.decode("utf-8", "replace")
    where = "%s/%s: exit %s in %.1f s, %.0f MiB; stderr: %r" % (name, fmt, run.status, run.seconds,
                                                                run.peak_rss / 2**20, err[:500])

    # Finishes, within bounds, with an allowed status and a clean stderr.
    assert run.status is not None, "killed after %d s: " % TIME_LIMIT + where
    assert run.seconds < min(TIME_LIMIT, case.max_seconds), where
    assert run.peak_rss < MEMORY_LIMIT, where
    assert "Traceback" not in err and "internal error" not in err, where
    assert run.status in case.exits, where
    assert not _CONTROL.search(err), where
    if run.status == 2:
        assert len(run.err_lines) == 1, where
        assert run.err_lines[0].startswith("analyze-sos: "), where
        if case.stderr:
            assert re.search(case.stderr, run.err_lines[0]), where
    else:
        assert run.err_lines == [], where
    assert run.stdout == b"", where

    # Nothing written but the output file; nothing left in TMPDIR; input and its folder unchanged.
    left = {str(p.relative_to(run.home)) for p in run.home.rglob("*")}
    assert left <= {"tmp", out_name}, where + " left %s" % sorted(left)
    assert run.status != 0 or out_name in left, where
    for p, before in watched.items():
        assert snapshot(p) == before, "%s changed: %s" % (p, where)
    for t in case.targets:
        assert not os.path.lexists(t), t
    for rel in case.rel_targets:
        for b in _target_bases(case, run):
            assert not os.path.lexists(os.path.normpath(os.path.join(b, rel))), (b, rel)

    # No secret, no smuggled guest, in any output.
    texts = [run.stdout, run.stderr] + ([run.output] if run.output else [])
    for blob in texts:
        for s in SECRETS + (EVIL.display_name,) + case.forbidden:
            assert s.encode() not in blob, "%r leaked: %s" % (s, where)
    if run.output is None:
        return
    if case.max_output is not None:
        assert len(run.output) < case.max_output, "%d bytes of output: %s" % (len(run.output), where)
    out = run.output.decode("utf-8")

    if fmt == "json":
        doc = json.loads(out)
        guests = {g["uuid"]: g for g in doc["guests"]}
        if case.survivor:
            assert SURVIVOR.uuid in guests, where
            assert guests[SURVIVOR.uuid]["display_name"] == SURVIVOR.display_name, where
        for u in case.expect_guests:
            assert u in guests, "%s missing: %s" % (u, where)
        for u in (EVIL_UUID,) + case.absent_guests:
            assert u not in guests, "%s smuggled in: %s" % (u, where)
        for r in doc["reports"]:
            assert len(r["problems"]) <= 1001, "%d problems: %s" % (len(r["problems"]), where)
        if case.problem:
            probs = _problems(doc)
            assert any(re.search(case.problem, p) for p in probs), "%s not in %s" % (case.problem, probs[:30])
    elif fmt == "text":
        bad = _CONTROL.search(out)
        assert bad is None, "raw %r in the text output: %s" % (bad.group(0), where)
        assert max(map(len, out.splitlines())) < 5000, "a data value flooded the terminal: " + where
        if case.survivor:
            assert SURVIVOR.display_name in out and SURVIVOR.uuid[:8] in out, where
    elif fmt == "html":
        for raw in HTML_RAW:
            assert raw not in out, "%r unescaped in the HTML: %s" % (raw, where)
        if case.survivor:
            assert SURVIVOR.display_name in out and SURVIVOR.uuid in out, where
        if name == "escape-names":
            assert "&lt;script&gt;alert(" in out
            assert "&#34;&gt;&lt;img src=x" in out or "&quot;&gt;&lt;img src=x" in out


def test_every_attack_the_corpus_promises_is_in_it():
    """The attacks the README's Security section answers for, case by case."""
    needed = {"traversal", "absolute", "symlinks-out", "hardlinks-out", "symlinked-dir", "devices",
              "billion-laughs", "xxe", "deep-nesting", "malformed-xml", "latin1-declared", "huge-name",
              "escape-names", "zero-4g", "members-150k", "nested-12", "xz-truncated", "xz-corrupt",
              "random-tar-xz", "empty-file", "gpg", "unreadable-file", "no-report-dir"}
    assert needed <= set(CASES)


def test_escape_names_are_really_hostile(corpus):
    """The names case holds what it claims: markup and escape sequences in the archive's bytes."""
    import lzma
    case = corpus.get("escape-names")
    raw = lzma.decompress(Path(case.inputs[0]).read_bytes())
    assert b"\x1b[2J" in raw or b"\\u001b[2J" in raw
    for n in HTML_NAMES:
        esc = n.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        assert esc.encode() in raw or n.encode() in raw
