"""The builder's archives must be what they claim: every other test trusts them."""

from __future__ import annotations

import json
import subprocess
import tarfile
import xml.dom.minidom
from pathlib import Path

import pytest

from tests import sosbuilder as sb


def _host(**kw) -> sb.HostSpec:
    h = sb.default_host(8, **kw)
    h.guests[0].live_xml_overrides = {"memory_mib": 4096}
    h.guests.append(sb.make_guest(30, seed="t", persistent=False, display_name=None))
    return h


def test_tree_has_every_guest_source_and_host_fact(tmp_path: Path) -> None:
    h = _host(label="case")
    top = sb.write_tree(h, tmp_path)
    assert top.name.startswith("sosreport-compute-1-case-2026-11-20-")
    assert (top / "version.txt").read_text().startswith("sosreport: 4.9.1\n")
    assert (top / "hostname").resolve() == (top / "sos_commands/host/hostname").resolve()
    assert (top / "sos_commands/host/hostname").read_text() == "compute-1\n"
    assert (top / "sos_commands/date/date").read_text() == "Fri Nov 20 10:00:00 UTC 2026\n"
    assert "nova-compute" in (top / "sos_commands/dpkg/dpkg_-l").read_text()
    assert "/usr/bin/nova-compute" in (top / "sos_commands/process/ps_auxwww").read_text()
    shut = [g for g in h.guests if not g.active][0]
    transient = h.guests[-1]
    etc = {p.name for p in (top / "etc/libvirt/qemu").glob("*.xml")}
    run = {p.name for p in (top / "run/libvirt/qemu").glob("*.xml")}
    assert shut.domain_name + ".xml" in etc and shut.domain_name + ".xml" not in run
    assert transient.domain_name + ".xml" in run and transient.domain_name + ".xml" not in etc
    assert not (top / f"sos_commands/virsh/virsh_-r_dumpxml_{shut.domain_name}").exists()
    listing = (top / "sos_commands/virsh/virsh_-r_list_--all").read_text()
    assert f" -    {shut.domain_name}   shut off" in listing
    summary = json.loads((top / "sos_commands/libvirt_guests/summary.json").read_text())
    doms = {d["uuid"]: d for d in summary["sources"][0]["domains"]}
    assert set(doms) == {g.uuid for g in h.guests}
    assert doms[transient.uuid]["nova"] is None and "inactive" not in doms[transient.uuid]["files"]
    for rel in (f for d in doms.values() for f in d["files"].values()):
        assert (top / rel).is_file(), rel
    # every XML document is well-formed; the network definition is not a domain
    for p in list(top.rglob("*.xml")) + list((top / "sos_commands/virsh").glob("virsh_-r_dumpxml_*")):
        xml.dom.minidom.parse(str(p))
    assert "<network>" in (top / "etc/libvirt/qemu/networks/default.xml").read_text()


def test_live_overrides_change_live_documents_only(tmp_path: Path) -> None:
    h = _host()
    g = h.guests[0]
    top = sb.write_tree(h, tmp_path)
    live = "<memory unit='KiB'>4194304</memory>"
    assert live in (top / f"run/libvirt/qemu/{g.domain_name}.xml").read_text()
    assert live in (top / f"sos_commands/virsh/virsh_-r_dumpxml_{g.domain_name}").read_text()
    assert live in (top / f"sos_commands/libvirt_guests/host/domains/{g.uuid}.live.xml").read_text()
    assert live not in (top / f"etc/libvirt/qemu/{g.domain_name}.xml").read_text()
    assert live not in (top / f"sos_commands/libvirt_guests/host/domains/{g.uuid}.inactive.xml").read_text()


def test_schema_variants() -> None:
    g = sb.make_guest(1, nova_ns="1.0", schema="juno")
    x = sb.domain_xml(g, live=False)
    assert "nova/1.0" in x and "<nova:ports" not in x and "id=" not in x.splitlines()[0]
    g = sb.make_guest(1, schema="2025.2", root=("volume", ""))
    x = sb.domain_xml(g, live=True)
    assert 'nova:root type="volume" uuid=""' in x and "<nova:extraSpecs>" in x and "<alias " in x
    s = sb.status_xml(sb.make_guest(2, state="paused", state_reason="user"))
    assert "<domstatus state='paused' reason='user'" in s and s.lstrip().startswith("<!--")


@pytest.mark.parametrize("compression,ext,magic", [("xz", ".tar.xz", b"\xfd7zXZ"),
                                                   ("gz", ".tar.gz", b"\x1f\x8b"),
                                                   ("bz2", ".tar.bz2", b"BZh"),
                                                   ("none", ".tar", None)])
def test_tarball_lists_the_tree(tmp_path: Path, compression: str, ext: str, magic) -> None:
    h = _host(padding_files=40)
    arc = sb.write_tarball(h, tmp_path, compression)
    assert arc.name.endswith(ext) and Path(str(arc) + ".sha256").is_file()
    if magic:
        assert arc.read_bytes()[:len(magic)] == magic
    names = subprocess.run(["tar", "tf", str(arc)], check=True, capture_output=True, text=True).stdout.split()
    top = sb.report_name(h)
    assert names[0] == top + "/" and all(n.startswith(top + "/") or n == top + "/" for n in names)
    tree = sb.write_tree(h, tmp_path / "tree")
    on_disk = {str(p.relative_to(tree.parent)) for p in tree.rglob("*") if p.is_file() or p.is_symlink()}
    in_tar = {n for n in names if not n.endswith("/")}
    assert on_disk == in_tar
    # deterministic: the same spec gives the same bytes
    again = sb.write_tarball(h, tmp_path / "again", compression)
    assert again.read_bytes() == arc.read_bytes()


def test_multiblock_xz_really_has_several_blocks(tmp_path: Path) -> None:
    arc = sb.write_tarball(_host(padding_files=200), tmp_path, "xz-multiblock")
    single = sb.write_tarball(_host(padding_files=200), tmp_path / "one", "xz")

    def blocks(p: Path) -> int:
        out = subprocess.run(["xz", "--robot", "-lv", str(p)], check=True, capture_output=True, text=True).stdout
        return int([ln for ln in out.splitlines() if ln.startswith("file\t")][0].split("\t")[2])

    assert blocks(arc) > 1
    assert blocks(single) == 1
    with tarfile.open(arc) as tf:
        assert any(n.endswith("/sos_commands/virsh/virsh_-r_list_--all") for n in tf.getnames())


def test_collect_bundle_holds_node_tarballs(tmp_path: Path) -> None:
    hosts = [sb.default_host(2, hostname=f"compute-{i}") for i in range(3)]
    bundle = sb.write_collect_bundle(hosts, tmp_path)
    assert bundle.name.startswith("sos-collector-2026-11-20-") and bundle.suffix == ".tar"
    with tarfile.open(bundle) as tf:
        names = tf.getnames()
        top = names[0]
        nodes = [n for n in names if n.endswith(".tar.xz")]
        assert sorted(Path(n).name for n in nodes) == sorted(sb.report_name(h) + ".tar.xz" for h in hosts)
        assert all(Path(n).parent.name == top for n in nodes)
        assert f"{top}/sos_reports/manifest.json" in names and f"{top}/sos_logs/sos.log" in names
        inner = tf.extractfile(nodes[0]).read()
    assert inner[:6] == b"\xfd7zXZ\x00"


def test_generated_uuids_differ_in_their_first_eight_hex_digits() -> None:
    h = sb.default_host(50)
    assert len({g.uuid[:8] for g in h.guests}) == 50
    assert len({g.ports[0][0][:8] for g in h.guests}) == 50


def test_rpm_host_lists_packages_like_the_rpm_plugin(tmp_path: Path) -> None:
    h = sb.default_host(1, package_format="rpm", sos_version="4.3",
                        packages={"nova": "27.1.0-1.el9ost", "libvirt": "9.0.0-10.el9", "qemu": "7.2.0-14.el9"})
    top = sb.write_tree(h, tmp_path)
    assert (top / "installed-rpms").resolve() == (top / sb.RPM_QA_OLD).resolve()
    lines = (top / "installed-rpms").read_text().splitlines()
    assert any(ln.startswith("openstack-nova-compute-27.1.0-1.el9ost.noarch ") for ln in lines)
    assert any(ln.startswith("libvirt-daemon-9.0.0-10.el9.x86_64 ") for ln in lines)
    assert any(ln.startswith("qemu-kvm-7.2.0-14.el9.x86_64 ") for ln in lines)
    assert all(ln[59] == " " for ln in lines)
    assert (top / "sos_commands/rpm/package-data").read_text().count("\t") == 6 * len(lines)
    assert (top / "etc/redhat-release").is_file() and not (top / "sos_commands/dpkg").exists()


def test_containerized_host_keeps_persistent_copies_under_config_data(tmp_path: Path) -> None:
    h = sb.default_host(3, containerized=True)
    top = sb.write_tree(h, tmp_path)
    cd = top / "var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu"
    assert {p.name for p in cd.glob("instance-*.xml")} == {g.domain_name + ".xml" for g in h.guests}
    assert not (top / "etc/libvirt/qemu").exists()


def test_vnc_passwords_where_real_reports_have_them(tmp_path: Path) -> None:
    h = sb.default_host(1)
    h.guests[0].vnc_password = "s3cret"
    g = h.guests[0]
    top = sb.write_tree(h, tmp_path / "plain")
    assert "passwd='******'" in (top / f"etc/libvirt/qemu/{g.domain_name}.xml").read_text()
    assert "passwd='******'" in (top / f"run/libvirt/qemu/{g.domain_name}.xml").read_text()
    assert "passwd" not in (top / f"sos_commands/virsh/virsh_-r_dumpxml_{g.domain_name}").read_text()
    assert not [p for p in top.rglob("*") if p.is_file() and "s3cret" in p.read_text(errors="replace")]
    # sos's scrub only knows /etc/libvirt and /run/libvirt: TripleO's config-data copy leaks it
    h.containerized = True
    top = sb.write_tree(h, tmp_path / "tripleo")
    leaked = [p.relative_to(top).as_posix() for p in top.rglob("*.xml") if "s3cret" in p.read_text()]
    assert leaked == [f"var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu/{g.domain_name}.xml"]
    summary = json.loads((top / "sos_commands/libvirt_guests/summary.json").read_text())
    assert summary["sources"][0]["name"] == "container_nova_libvirt"
    assert (top / "var/log/containers/nova/nova-compute.log").is_file()


def test_virsh_plugin_files_like_sos(tmp_path: Path) -> None:
    h = sb.default_host(3, virsh_dumpxml_all=True)
    shut = [g for g in h.guests if not g.active][0]
    top = sb.write_tree(h, tmp_path)
    v = top / "sos_commands/virsh"
    inactive = (v / f"virsh_-r_dumpxml_{shut.domain_name}").read_text()
    assert inactive.startswith("<domain type='kvm'>")  # no id: a shut-off domain's definition
    assert "Id:             -\n" in (v / f"virsh_-r_dominfo_{shut.domain_name}").read_text()
    assert "State:          shut off\n" in (v / f"virsh_-r_dominfo_{shut.domain_name}").read_text()
    blk = (v / f"virsh_-r_domblklist_{shut.domain_name}").read_text().splitlines()
    assert blk[0] == " Target   Source" and len(blk[1]) == len(blk[2]) + 2 and blk[2].startswith(" vda      /")
