"""What the terminal says on standard error: one line per thing that matters, even when the exit
status is 0; `--quiet` silences warnings and notes, never errors."""

import re
import shutil

import pytest

from analyzer.cli import main
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle, write_odd_name_tarball, write_tarball

OK = GuestSpec(uuid="11111111-1111-4111-8111-111111111111", domain_name="instance-00000001", display_name="web-01")
PAUSED = GuestSpec(uuid="22222222-2222-4222-8222-222222222222", domain_name="instance-00000002",
                   display_name="db-01", state="paused", state_reason="ioerror")
CRASHED = GuestSpec(uuid="33333333-3333-4333-8333-333333333333", domain_name="instance-00000003",
                    display_name="batch-1", state="crashed", state_reason="panicked")


def _run(capsys, tmp_path, *args):
    out = tmp_path / "out.json"
    rc = main(["--format", "json", "-o", str(out), *map(str, args)])
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line]


def _warnings(lines):
    return [line for line in lines if line.startswith("analyze-sos: warning: ")]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return write_tarball(HostSpec(hostname="compute-1", guests=[OK], padding_files=40),
                         tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="module")
def truncated(good, tmp_path_factory):
    data = good.read_bytes()
    path = tmp_path_factory.mktemp("trunc") / "sosreport-compute-1-cut.tar.xz"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_truncated_report_exits_0_with_one_warning_naming_it_and_why(capsys, tmp_path, truncated):
    rc, err = _run(capsys, tmp_path, truncated)
    assert rc == 0
    (w,) = _warnings(err)
    assert w.startswith("analyze-sos: warning: %s (r1, compute-1): read only in part: stopped reading: " % truncated)
    assert "truncated" in w


def test_quiet_silences_the_warning_but_the_report_is_still_written(capsys, tmp_path, truncated):
    rc, err = _run(capsys, tmp_path, "--quiet", truncated)
    assert rc == 0 and err == []
    assert (tmp_path / "out.json").exists()


def test_members_skipped_are_warned_once_per_report(capsys, tmp_path):
    long_name = GuestSpec(uuid="44444444-4444-4444-8444-444444444444", domain_name="instance-00000004",
                          display_name="n" * 5000)
    big = write_tarball(HostSpec(hostname="compute-7", guests=[OK, long_name]), tmp_path / "a",
                        extra={"etc/libvirt/qemu/huge.xml": "<domain>" + " " * (2 << 20) + "</domain>"})
    rc, err = _run(capsys, tmp_path, "--max-member-size", "1", big)
    assert rc == 0
    (w,) = _warnings(err)
    assert "%s (r1, compute-7): read only in part: " % big in w
    # the first problem says what was skipped and why; the count says there is more to read
    assert ("read only in part: etc/libvirt/qemu/huge.xml: skipped: 2097169 bytes is over the 1 MiB per-file "
            "cap (--max-member-size) (and ") in w
    assert re.search(r"\(and \d+ more problems: see the report's problems in the output\)$", w)


def test_a_value_cut_is_warned(capsys, tmp_path):
    long_name = GuestSpec(uuid="44444444-4444-4444-8444-444444444444", domain_name="instance-00000004",
                          display_name="n" * 5000)
    path = write_tarball(HostSpec(hostname="compute-8", guests=[long_name]), tmp_path / "a")
    rc, err = _run(capsys, tmp_path, path)
    assert rc == 0
    (w,) = _warnings(err)
    assert "%s (r1, compute-8): read only in part: " % path in w and "over-long values cut" in w


def test_a_folder_says_each_file_it_skipped_and_an_unreadable_report_is_an_error(capsys, tmp_path, good):
    case = tmp_path / "case-0123"
    case.mkdir()
    shutil.copy(good, case)
    shutil.copy(str(good) + ".sha256", case)
    (case / "sosreport-compute-2-2026-11-20-empty.tar.xz").write_bytes(b"")
    (case / "notes.txt").write_text("customer says web-01 is down\n")
    (case / "link-to-elsewhere.tar.xz").symlink_to(good)
    rc, err = _run(capsys, tmp_path, case)
    assert rc == 2  # an input that could not be read; the rest is still analyzed and written
    errors = [line for line in err if not line.startswith(("analyze-sos: warning: ", "analyze-sos: wrote"))]
    assert errors == ["analyze-sos: %s: the file is empty (an interrupted download or copy?)"
                      % (case / "sosreport-compute-2-2026-11-20-empty.tar.xz")]
    warned = _warnings(err)
    assert "analyze-sos: warning: %s: skipped: not a sosreport: neither a tar archive nor xz/gzip/bzip2-compressed " \
           "tar" % (case / "notes.txt") in warned
    assert "analyze-sos: warning: %s: skipped: a symbolic link (links are not followed; give its target directly)" \
           % (case / "link-to-elsewhere.tar.xz") in warned
    assert "analyze-sos: warning: %s: skipped: 1 checksum or signature file, not a report: %s.sha256" \
           % (case, good.name) in warned
    assert len(warned) == 3
    assert "analyze-sos: wrote %s (1 report, 1 guest, 0 findings)" % (tmp_path / "out.json") in err


def test_quiet_keeps_the_error_of_a_folder_and_drops_its_skips(capsys, tmp_path, good):
    case = tmp_path / "case"
    case.mkdir()
    shutil.copy(good, case)
    (case / "broken.tar.xz").write_bytes(b"")
    (case / "notes.txt").write_text("x\n")
    rc, err = _run(capsys, tmp_path, "-q", case)
    assert rc == 2
    assert err == ["analyze-sos: %s: the file is empty (an interrupted download or copy?)" % (case / "broken.tar.xz")]


def test_a_folder_without_reports_is_an_error_that_says_what_it_skipped(capsys, tmp_path):
    case = tmp_path / "case"
    case.mkdir()
    (case / "notes.txt").write_text("x\n")
    rc, err = _run(capsys, tmp_path, case)
    assert rc == 2
    assert err[0].startswith("analyze-sos: %s: no sosreport in this directory" % case)
    assert _warnings(err) == ["analyze-sos: warning: %s: skipped: not a sosreport: neither a tar archive nor "
                              "xz/gzip/bzip2-compressed tar" % (case / "notes.txt")]


def test_a_cut_collect_bundle_is_warned(capsys, tmp_path):
    bundle = write_collect_bundle([HostSpec(hostname="compute-1", guests=[OK], padding_files=40),
                                   HostSpec(hostname="compute-2", guests=[PAUSED], padding_files=40)],
                                  tmp_path / "b", compression="xz")
    cut = tmp_path / "sos-collector-cut.tar.xz"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size * 3 // 4])
    rc, err = _run(capsys, tmp_path, cut)
    assert rc == 0  # what was read is analyzed; what was lost is said
    assert any(w.startswith("analyze-sos: warning: %s: read only in part: stopped reading: archive is truncated"
                            % cut) for w in _warnings(err)), err


@pytest.fixture(scope="module")
def sick(tmp_path_factory):
    return write_tarball(HostSpec(hostname="compute-3", guests=[OK, PAUSED, CRASHED]), tmp_path_factory.mktemp("sick"))


def test_fail_on_names_each_finding_behind_exit_3_even_when_quiet(capsys, tmp_path, sick):
    rc, err = _run(capsys, tmp_path, "--quiet", "--fail-on", "critical", sick)
    assert rc == 3
    assert sorted(err) == sorted([
        "analyze-sos: --fail-on critical: critical abnormal-state: guest db-01 (%s), host compute-3" % PAUSED.uuid,
        "analyze-sos: --fail-on critical: critical abnormal-state: guest batch-1 (%s), host compute-3" % CRASHED.uuid,
    ])


def test_fail_on_below_every_finding_says_nothing_and_exits_0(capsys, tmp_path):
    healthy = write_tarball(HostSpec(hostname="compute-4", guests=[OK]), tmp_path / "h")
    rc, err = _run(capsys, tmp_path, "--quiet", "--fail-on", "warning", healthy)
    assert rc == 0 and err == []


def test_a_too_short_uuid_prefix_is_said_even_when_quiet(capsys, tmp_path, sick):
    rc, err = _run(capsys, tmp_path, "--quiet", "--guest", "3333", sick)
    assert rc == 1
    assert err == ["analyze-sos: no guest matches '3333'; a UUID prefix needs at least 8 hex digits"]
    rc, err = _run(capsys, tmp_path, "--quiet", "--guest", "33333333", sick)
    assert rc == 0 and err == []
    rc, err = _run(capsys, tmp_path, "--quiet", "--guest", "web-1", sick)
    assert rc == 1 and len(err) == 1
    assert "UUID prefix" not in err[0] and "nearest: web-01" in err[0]


def test_the_same_report_twice_is_noted_once_and_quiet_drops_the_note(capsys, tmp_path, good):
    copy = tmp_path / "copy-of-it.tar.xz"
    shutil.copy(good, copy)
    rc, err = _run(capsys, tmp_path, good, copy)
    assert rc == 0
    assert "analyze-sos: note: %s is the same report as %s (r1): counted once" % (copy, good) in err
    assert "analyze-sos: wrote %s (2 reports, 1 guest, 0 findings)" % (tmp_path / "out.json") in err
    rc, err = _run(capsys, tmp_path, "-q", good, copy)
    assert rc == 0 and err == []


@pytest.mark.parametrize("fmt", ["json", "html", "text"])
def test_a_member_name_that_is_not_utf8_is_written_escaped_not_an_internal_error(capsys, tmp_path, fmt):
    """A file name with bytes that are no UTF-8 (kept as surrogates when read) reaches every
    output as a visible escape; the guest behind it is not lost."""
    import json
    path = write_odd_name_tarball(tmp_path)
    out = tmp_path / ("out." + fmt)
    assert main(["--quiet", "--format", fmt, "-o", str(out), str(path)]) == 0
    assert capsys.readouterr().err == ""
    text = out.read_text(encoding="utf-8")
    if fmt == "text":
        assert "1 guest" in text.splitlines()[0]
    else:
        assert "inst-\\udcff.xml" in text
    if fmt == "json":
        (guest,) = json.loads(text)["guests"]
        assert any("inst-" in s["path"] for s in guest["sources"])
