"""End to end through the real CLI: every input shape gives the same inventory, every guest
source alone is enough, and the exit statuses and messages are what a person relies on."""

import json
import os
import shutil
import subprocess

import pytest

from analyzer.cli import main
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle, write_tarball, write_tree

NS10 = "http://openstack.org/xmlns/libvirt/nova/1.0"
NS11 = "http://openstack.org/xmlns/libvirt/nova/1.1"


def _guests():
    return [
        GuestSpec(uuid="11111111-1111-4111-8111-111111111111", domain_name="instance-00000001",
                  display_name="web-01", state="running", nova_ns="1.1", schema="wallaby", nova_version="27.1.0"),
        GuestSpec(uuid="22222222-2222-4222-8222-222222222222", domain_name="instance-00000002",
                  display_name="web-01", state="paused", state_reason="user", nova_ns="1.0", schema="juno",
                  nova_version="2014.2.1"),
        GuestSpec(uuid="33333333-3333-4333-8333-333333333333", domain_name="instance-00000003",
                  display_name="db \u00e9l\u00e8ve \u6570\u636e", state="shut off", state_reason="shutdown",
                  schema="2025.2", nova_version="32.0.0"),
        GuestSpec(uuid="44444444-4444-4444-8444-444444444444", domain_name="instance-00000004",
                  display_name='<b>x & "y"</b>', state="running", persistent=False),
        GuestSpec(uuid="55555555-5555-4555-8555-555555555555", domain_name="plain-vm", display_name=None,
                  state="running"),
    ]


HOST = HostSpec(hostname="compute-1", guests=_guests())
SHARED = "11111111-1111-4111-8111-111111111111"


def _run(tmp_path, *args):
    out = tmp_path / ("out-%d.json" % len(os.listdir(tmp_path)))
    status = main(["--format", "json", "-o", str(out), "--quiet", *map(str, args)])
    return status, (json.loads(out.read_text()) if out.exists() else None)


def _inventory(doc, hostname="compute-1"):
    rid = {r["id"] for r in doc["reports"] if r["hostname"] == hostname}
    rows = {}
    for g in doc["guests"]:
        if g["report"] in rid:
            g = dict(g)
            g.pop("report")
            rows[g["uuid"]] = g
    return rows


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    d = tmp_path_factory.mktemp("shapes")
    other = HostSpec(hostname="compute-2", guests=[GuestSpec(uuid=SHARED, domain_name="instance-0000000a",
                                                             display_name="web-01", state="shut off")])
    out = {"tree": write_tree(HOST, d / "tree")}
    for comp in ("xz", "xz-multiblock", "gz", "bz2", "none"):
        out[comp] = write_tarball(HOST, d / comp, compression=comp)
    out["bundle-plain"] = write_collect_bundle([HOST, other], d / "bundle-plain", compression="none")
    out["bundle-xz"] = write_collect_bundle([HOST, other], d / "bundle-xz", compression="xz")
    folder = d / "folder"
    folder.mkdir()
    shutil.copy(out["xz"], folder)
    shutil.copy(write_tarball(other, d / "other"), folder)
    out["folder"] = folder
    return out


def test_every_input_shape_gives_the_same_inventory(shapes, tmp_path):
    reference = None
    for name, path in shapes.items():
        status, doc = _run(tmp_path, path)
        assert status == 0, name
        inv = _inventory(doc)
        assert len(inv) == 5, name
        if reference is None:
            reference = inv
        assert inv == reference, "inventory from %s differs" % name


def test_inventory_content(shapes, tmp_path):
    _, doc = _run(tmp_path, shapes["xz"])
    (rep,) = doc["reports"]
    assert rep["hostname"] == "compute-1" and rep["sos_version"] == "4.9.1"
    assert rep["packages"]["nova"] == "3:27.1.0-0ubuntu1" and rep["nova_compute"] is True
    g = _inventory(doc)
    web = g["11111111-1111-4111-8111-111111111111"]
    assert (web["display_name"], web["state"], web["persistent"]) == ("web-01", "running", True)
    assert web["nova"]["namespace"] == NS11 and web["nova"]["package_version"] == "27.1.0"
    assert web["nova"]["ports"] and web["nova"]["ports"][0]["ips"]
    assert {s["kind"] for s in web["sources"]} >= {"etc-persistent", "run-status", "virsh-dumpxml", "plugin-live"}
    old = g["22222222-2222-4222-8222-222222222222"]
    assert old["nova"]["namespace"] == NS10 and (old["state"], old["state_reason"]) == ("paused", "user")
    assert g["33333333-3333-4333-8333-333333333333"]["display_name"] == "db \u00e9l\u00e8ve \u6570\u636e"
    assert g["33333333-3333-4333-8333-333333333333"]["state"] == "shut off"
    assert g["44444444-4444-4444-8444-444444444444"]["persistent"] is False
    assert g["44444444-4444-4444-8444-444444444444"]["display_name"] == '<b>x & "y"</b>'
    assert g["55555555-5555-4555-8555-555555555555"]["nova"] is None


@pytest.mark.parametrize("sources", [{"etc", "run"}, {"plugin"}, {"virsh", "etc"}])
def test_each_source_set_alone_gives_every_guest_and_its_state(tmp_path, sources):
    host = HostSpec(hostname="compute-1", guests=_guests(), sources=sources)
    status, doc = _run(tmp_path, write_tarball(host, tmp_path / "t"))
    assert status == 0
    inv = _inventory(doc)
    assert set(inv) == {g.uuid for g in _guests()}
    states = {u: g["state"] for u, g in inv.items()}
    assert states["22222222-2222-4222-8222-222222222222"] == "paused"
    assert states["33333333-3333-4333-8333-333333333333"] == "shut off"
    assert states["11111111-1111-4111-8111-111111111111"] == "running"


def test_same_uuid_on_two_hosts_is_found_on_both_and_said_plainly(shapes, tmp_path, capsys):
    status = main(["--format", "text", "--quiet", "--guest", SHARED[:8], str(shapes["folder"])])
    out = capsys.readouterr().out
    assert status == 0
    assert "defined on 2 hosts: compute-1, compute-2" in out


def test_shared_display_name_is_said_plainly(shapes, tmp_path, capsys):
    status = main(["--format", "text", "--quiet", "--guest", "web-01", str(shapes["xz"])])
    out = capsys.readouterr().out
    assert status == 0 and "matches 2 different instances" in out


def test_query_json_says_which_term_matched_what(shapes, tmp_path):
    status, doc = _run(tmp_path, "--guest", "instance-00000003", "--guest", "WEB-01", shapes["xz"])
    assert status == 0
    assert [q["matched_by"] for q in doc["query"]] == ["domain-name", "display-name-ci"]
    assert doc["total_guests"] == 5 and len(doc["guests"]) == 3


def test_no_match_exits_1_with_nearest_names(shapes, tmp_path, capsys):
    status, doc = _run(tmp_path, "--guest", "web-1", shapes["xz"])
    err = capsys.readouterr().err
    assert status == 1 and "no guest matches 'web-1'" in err and "web-01" in err
    assert doc["guests"] == []


def test_unusable_inputs_get_one_line_each_and_the_rest_still_runs(shapes, tmp_path, capsys):
    empty = tmp_path / "empty.tar.xz"
    empty.write_bytes(b"")
    gpg = tmp_path / "secured-sosreport.tar.xz.gpg"
    gpg.write_bytes(b"\x8c\x0d\x04\x09\x03\x02" + os.urandom(64))
    junk = tmp_path / "junk.tar.xz"
    junk.write_bytes(os.urandom(4096))
    status, doc = _run(tmp_path, empty, gpg, junk, shapes["xz"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 3
    assert "empty" in err[0] and "decrypt" in err[1] and "not a sosreport" in err[2]
    assert len(_inventory(doc)) == 5  # the good report is still analyzed and written


def test_nothing_readable_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "o.json"
    status = main(["--format", "json", "-o", str(out), str(tmp_path / "missing.tar.xz")])
    assert status == 2 and not out.exists()
    assert "no such file" in capsys.readouterr().err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--format", "pdf", "x"])
    assert e.value.code == 2


def test_text_table_fits_80_columns_and_never_prints_control_characters(tmp_path, capsys):
    host = HostSpec(hostname="compute-1", guests=[GuestSpec(
        uuid="66666666-6666-4666-8666-666666666666", domain_name="instance-00000006",
        display_name="evil\x1b[2J\x1b]0;owned\x07name-that-is-really-very-long-indeed")])
    main(["--format", "text", "--quiet", str(write_tarball(host, tmp_path))])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    table = out.split("DISPLAY NAME", 1)[1].split("\n\n", 1)[0]
    assert all(len(line) <= 80 for line in table.splitlines())


def test_rpm_host_versions_without_package_data(tmp_path):
    """Older sos has only the `rpm -qa` listing (and the `installed-rpms` link to it)."""
    host = HostSpec(hostname="compute-r", sos_version="4.0", package_format="rpm",
                    packages={"nova": "14.0.3-8.el7ost", "libvirt": "4.5.0-10.el7", "qemu": "2.12.0-18.el7"},
                    guests=_guests()[:1])
    tree = write_tree(host, tmp_path / "tree")
    (tree / "sos_commands/rpm/package-data").unlink()
    tarball = tmp_path / "compute-r.tar"
    subprocess.run(["tar", "-cf", str(tarball), "-C", str(tree.parent), tree.name], check=True)
    status, doc = _run(tmp_path, tarball)
    assert status == 0
    listing = "sos_commands/rpm/sh_-c_rpm_--nodigest_-qa_--qf_-59_NVRA_INSTALLTIME_date_sort_-V"
    assert doc["reports"][0]["packages"] == {"nova": "14.0.3-8.el7ost", "libvirt": "4.5.0-10.el7",
                                             "qemu": "2.12.0-18.el7",
                                             "sources": {"nova": listing, "libvirt": listing, "qemu": listing}}


@pytest.mark.parametrize("ps,nova", [
    # upstream-versioned image: the tag is Nova's version
    ("abc123  quay.io/example/nova-compute:27.1.0-1  kolla_start  Up 2 days  nova_compute", "27.1.0-1"),
    # product images version the product: OSP 16.2.6 holds Nova 20.x, Kolla 11.0.0 holds Nova 22.x
    ("abc123  registry.redhat.io/rhosp-rhel8/openstack-nova-compute:16.2.6-5  kolla_start  Up  nova_compute", None),
    ("abc123  kolla/ubuntu-binary-nova-compute:11.0.0  kolla_start  Up  nova_compute", None),
    ("abc123  quay.io/openstack.kolla/nova-compute:2023.2-ubuntu-jammy  kolla_start  Up  nova_compute", None),
])
def test_nova_version_from_a_container_image_only_when_the_tag_is_novas(ps, nova):
    from analyzer.sources.host import _packages
    got = _packages({"sos_commands/podman/podman_ps": ps.encode()})
    assert got.nova == nova
    assert got.sources == ({"nova": "sos_commands/podman/podman_ps"} if nova else {})
