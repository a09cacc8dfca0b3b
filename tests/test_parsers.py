"""The domain XML and Nova metadata parsers, on documents shaped like real ones (tests/data) and on
hostile ones."""

import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.model import ParseError
from analyzer.parsers.domain_xml import MAX_DEPTH, parse_domain, parse_xml, to_mib
from analyzer.parsers.nova import find_nova, nova_version_of
from tests.conftest import DATA

DATA_DIR = pathlib.Path(DATA)
NS = "http://openstack.org/xmlns/libvirt/nova/"
UUID = "972b2c48-f957-4284-9f27-87425af93850"  # the Ussuri guest, live and persistent


def _data(name):
    return (DATA_DIR / name).read_bytes()


def _domains():
    return sorted(p for p in DATA_DIR.glob("*.xml") if not p.name.startswith("head-"))


def test_the_data_readme_lists_every_file_and_only_those():
    readme = (DATA_DIR / "README.md").read_text()
    listed = set(re.findall(r"^\| `([^`]+\.xml)` \|", readme, re.M))
    assert listed == {p.name for p in DATA_DIR.glob("*.xml")}


def test_every_domain_parses_with_its_nova_block():
    files = _domains()
    assert len(files) >= 6
    for p in files:
        d = parse_domain(p.read_bytes(), p.name)
        assert d.name and d.uuid and d.nova is not None, p.name
        assert d.nova.display_name and d.nova.flavor and d.nova.flavor.memory_mb, p.name
        assert d.memory_mb and d.vcpus and d.disks and d.interfaces, p.name
        assert d.nova.owner.project.uuid and d.nova.root.type == "image", p.name


def test_every_current_nova_metadata_block_parses():
    files = sorted(DATA_DIR.glob("head-*.xml"))
    assert len(files) == 3
    for p in files:
        meta, _ = find_nova(parse_xml(p.read_bytes()))
        assert meta is not None and meta.display_name == "api-gw-7", p.name
        assert meta.flavor.id == "17" and meta.owner.user.name == "carol"
        assert meta.extra == {}, "a known current element landed in extra: %s" % meta.extra


def test_run_status_file_gives_state_and_live_domain():
    d = parse_domain(_data("ussuri-run-domstatus.xml"), "run/libvirt/qemu/instance-0000002a.xml")
    assert (d.status_state, d.status_reason, d.status_pid) == ("running", "booted", 48213)
    assert d.id == 7 and d.uuid == UUID
    assert d.disks[0].source == "rbd:vms/%s_disk" % UUID
    assert d.nova.creation_time == "2023-06-19T08:41:05Z"


def test_zed_namespace_1_1_with_ports_and_sriov():
    d = parse_domain(_data("zed-ns1.1-ports-sriov.xml"), "x")
    n = d.nova
    assert n.namespace == NS + "1.1" and n.package_version == "25.1.0"
    assert n.ports[0].uuid == "e8c41b27-3a5d-4f60-9b1e-7d2c6a0f8e93"
    assert (n.ports[0].ips[0].address, n.ports[0].ips[0].version) == ("10.20.30.44", 4)
    assert n.owner.project.uuid == "ac5e3a8673ae499ba58cc54dc6d7f19e"  # its start tag spans two lines
    assert d.memory_mb == 128 and d.vcpus == 1
    assert d.interfaces[0].type == "hostdev" and d.interfaces[0].source == "0000:3b:02.3"


def test_iscsi_volume_disk_keeps_cinder_serial():
    d = parse_domain(_data("ocata-rdo-iscsi-root-swap-configdrive.xml"), "x")
    assert d.disks[0].serial == "d9d6c43d-6bc5-485d-bfa6-bb503adf9df5"
    assert "iscsi-iqn.2010-10.org.openstack:volume-d9d6c43d" in d.disks[0].source
    assert d.disks[0].source_type == "block"


def test_vendor_package_version_kept_verbatim():
    d = parse_domain(_data("newton-rhosp10-pinned-numa-multipath.xml"), "x")
    assert d.nova.package_version.endswith("el7ost")


def test_boot_from_volume_2024_2_root_has_no_uuid():
    meta, _ = find_nova(parse_xml(_data("head-metadata-volume-blank.xml")))
    assert meta.root.type == "volume" and meta.root.uuid is None


@pytest.mark.parametrize("value,unit,mib", [
    ("2097152", None, 2048), ("2097152", "KiB", 2048), ("2097152", "k", 2048), ("2048", "MiB", 2048),
    ("2", "GiB", 2048), ("2", "G", 2048), ("2147483648", "bytes", 2048), ("2147483648", "b", 2048),
    ("2000", "MB", 1907), ("1", "TiB", 1048576), ("x", "KiB", None), ("1", "parsec", None),
])
def test_memory_in_any_unit_becomes_mib(value, unit, mib):
    assert to_mib(value, unit) == mib


def _domain(metadata="", extra=""):
    return ("<domain type='kvm'><name>i-1</name><uuid>AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE</uuid>"
            "<metadata>%s</metadata><memory unit='GiB'>4</memory><vcpu>2</vcpu>%s</domain>"
            % (metadata, extra)).encode()


def _nova(version, body):
    return "<n:instance xmlns:n='%s%s'>%s</n:instance>" % (NS, version, body)


def test_uuid_canonical_lower_case():
    assert parse_domain(_domain(), "x").uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    no_dash = _domain().replace(b"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", b"AAAAAAAABBBB4CCC8DDDEEEEEEEEEEEE")
    assert parse_domain(no_dash, "x").uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def test_newest_nova_namespace_wins_and_others_are_listed():
    md = (_nova("1.0", "<n:name>old</n:name>") + _nova("1.1", "<n:name>new</n:name>")
          + "<o:vm xmlns:o='http://ovirt.org/vm/1.0'/>")
    d = parse_domain(_domain(md), "x")
    assert d.nova.display_name == "new" and d.nova.namespace == NS + "1.1"
    assert d.other_metadata == ["http://ovirt.org/vm/1.0"]
    md2 = _nova("2.0", "<n:name>future</n:name>") + _nova("1.1", "<n:name>new</n:name>")
    assert parse_domain(_domain(md2), "x").nova.display_name == "future"


def test_any_prefix_any_later_version_and_unknown_fields_kept():
    body = ("<zz:name>web 01</zz:name><zz:flavor name='m1' id='7'><zz:memory>512</zz:memory>"
            "<zz:vcpus>many</zz:vcpus><zz:pci count='2'>x</zz:pci></zz:flavor>"
            "<zz:shareFS tag='t'/><zz:creationTime>yesterday</zz:creationTime>")
    md = "<zz:instance xmlns:zz='%s1.7' since='x'>%s</zz:instance>" % (NS, body)
    n = parse_domain(_domain(md), "x").nova
    assert n.display_name == "web 01" and n.flavor.memory_mb == 512 and n.flavor.vcpus is None
    assert n.extra["flavor/vcpus"] == "many"
    assert n.extra["flavor/pci"] == {"@count": "2", "#text": "x"}
    assert n.extra["shareFS"] == {"@tag": "t"} and n.extra["@since"] == "x"
    assert n.creation_time is None and n.extra["creationTime"] == "yesterday"
    assert nova_version_of(NS + "1.7") == (1, 7) and nova_version_of(NS + "beta") == (-1,)


def test_domain_without_any_metadata():
    d = parse_domain(b"<domain type='qemu'><name>plain</name><uuid>x</uuid></domain>", "x")
    assert d.nova is None and d.uuid == "x" and d.memory_mb is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<domain><name>&lol3;</name></domain>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<domain><name>&x;</name></domain>"""


def test_nesting_up_to_the_bound_is_read():
    root = parse_xml(b"<domain>" + b"<a>" * (MAX_DEPTH - 1) + b"</a>" * (MAX_DEPTH - 1) + b"</domain>")
    assert root.tag == "domain" and len(list(root.iter())) == MAX_DEPTH


@pytest.mark.parametrize("data,reason", [
    (BILLION_LAUGHS, "rejected"), (XXE, "rejected"),
    (b"<!DOCTYPE domain><domain/>", "DTD"),
    (XXE.decode().encode("utf-16"), "DTD"),  # no b"<!" in the bytes: expat still sees the DTD
    (b'<!DOCTYPE d SYSTEM "http://198.51.100.1/x.dtd"><domain/>', "DTD"),
    (b'<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><domain/>', "DTD"),
    (b"<domain>" * 200000, "deeper than %d" % MAX_DEPTH),
    (b"<domain>" * 65 + b"</domain>" * 65, "deeper than %d" % MAX_DEPTH),  # small: checked after building
    (b"<domain>" + b"<a/>" * 200_000 + b"</domain>", "more than 100,000 XML elements"),
    (b"", "empty"), (b"   \n", "empty"),
    (b"<domain><name>caf\xe9</name></domain>", "malformed"),
    (b"<domain><name>x</name>", "malformed"),
    (b"\x00\xff\xfe garbage", "malformed"),
    (b"<metadata/>", "not a libvirt domain"),
    (b"<domstatus state='running'/>", "without a <domain>"),
])
def test_hostile_documents_are_one_parse_error(data, reason):
    with pytest.raises(ParseError) as e:
        parse_domain(data, "etc/libvirt/qemu/x.xml")
    assert reason in str(e.value)
    assert "root:" not in str(e.value)  # /etc/passwd never leaks into the message


# defusedxml is the oracle: whatever it refuses (it runs the slow pure-Python parser, so the
# analyzer does not use it), the analyzer's parser refuses too.
_DTD_PIECES = [b'<!DOCTYPE domain>', b'<!DOCTYPE d [<!ENTITY x "y">]>', b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
               b'<!DOCTYPE d SYSTEM "x.dtd">', b'<!DOCTYPE d PUBLIC "-//x//y" "http://x/y">',
               b'<!DOCTYPE d [<!ENTITY % p "x">]>', b'<!DOCTYPE d [<!ATTLIST domain a CDATA "v">]>',
               b'<!DOCTYPE d [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "x" NDATA n>]>']


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_DTD_PIECES), st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
       st.booleans(), st.sampled_from([b"", b"&x;", b"&lol;", b"<!-- c -->", b"<![CDATA[<!DOCTYPE x>]]>"]))
def test_whatever_defusedxml_refuses_is_refused(dtd, encoding, declare, body):
    import defusedxml
    import defusedxml.ElementTree as DET
    head = ('<?xml version="1.0" encoding="%s"?>\n' % encoding).encode() if declare else b""
    text = (head + dtd + b"<domain><name>n" + body + b"</name></domain>").decode("latin-1")
    data = text.encode(encoding)
    if encoding.startswith("utf-16") and encoding != "utf-16" and not declare:
        data = ("\ufeff" + text).encode(encoding)
    try:
        DET.fromstring(data, forbid_dtd=True)
        refused = False
    except (defusedxml.DefusedXmlException, Exception):
        refused = True
    assert refused  # every sample holds a DTD
    with pytest.raises(ParseError):
        parse_domain(data, "x")


def test_declared_latin1_document_is_valid_xml():
    d = parse_domain(b"<?xml version='1.0' encoding='ISO-8859-1'?><domain><name>caf\xe9</name></domain>", "x")
    assert d.name == "caf\u00e9"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_parse_error(data):
    try:
        parse_domain(data, "x")
    except ParseError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(DATA_DIR.glob("*.xml"))), st.data())
def test_mutated_documents_never_raise_anything_but_parse_error(path, data):
    doc = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(("flip", "cut", "dup", "insert")))
        i = data.draw(st.integers(0, max(0, len(doc) - 1)))
        if op == "flip" and doc:
            doc[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del doc[i:i + data.draw(st.integers(1, 200))]
        elif op == "dup":
            doc[i:i] = doc[i:i + data.draw(st.integers(1, 200))]
        else:
            doc[i:i] = data.draw(st.sampled_from([b"<", b">", b"&", b"'", b"<x>", b"</domain>", b"&lol;",
                                                  b"<memory unit='EiB'>99999999999999999999</memory>",
                                                  b"<vcpu>-1</vcpu>", b"<uuid/>", b"<!DOCTYPE x>"]))
    try:
        parse_domain(bytes(doc), "x")
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_display_name_round_trips(name):
    from xml.sax.saxutils import escape
    clean = "".join(c for c in name if c in "\t\n" or (0x20 <= ord(c) < 0xd800) or 0xe000 <= ord(c) < 0xfffe)
    clean = clean.replace("\r", "")
    d = parse_domain(_domain(_nova("1.1", "<n:name>%s</n:name>" % escape(clean))), "x")
    assert d.nova.display_name == clean


def test_each_data_file_gives_what_its_readme_describes():
    live = parse_domain(_data("ussuri-run-domstatus.xml"), "x")
    assert live.id == 7 and live.nova.package_version == "21.2.4" and live.nova.namespace == NS + "1.0"
    persistent = parse_domain(_data("ussuri-etc-persistent.xml"), "x")
    assert persistent.id is None and persistent.status_state is None  # persistent: no id, no state
    assert persistent.uuid == live.uuid and persistent.nova == live.nova

    d = parse_domain(_data("newton-rhosp10-pinned-numa-multipath.xml"), "x")
    assert d.nova.package_version == "14.0.3-8.el7ost"
    assert d.uuid == "41862ccf-7baa-4ce9-9a11-93c730a36adc7"  # malformed: kept verbatim
    (volume,) = [k for k in d.disks if k.serial]
    assert volume.source_type == "block" and "dm-uuid-mpath-" in volume.source
    assert volume.serial == "6ca6cefd-2439-4453-8b4a-a7e4ee507910" and len(d.disks) == 2

    d = parse_domain(_data("ocata-rdo-iscsi-root-swap-configdrive.xml"), "x")
    assert d.nova.package_version == "15.1.0-1.el7" and d.nova.flavor.swap_mb == 512
    assert d.nova.root.type == "image" and [k.target for k in d.disks if k.kind == "cdrom"] == ["hda"]
    assert d.disks[1].source.endswith("/disk.swap")

    d = parse_domain(_data("ocata-devstack-realtime-live-dumpxml.xml"), "x")
    assert d.id == 11 and d.nova.package_version == "15.0.8" and d.status_state is None
    assert (d.disks[0].driver_type, d.disks[0].source) == (
        "qcow2", "/opt/stack/data/nova/instances/af53d414-babd-40bf-b056-016887e1b001/disk")

    meta, _ = find_nova(parse_xml(_data("head-metadata-image-boot.xml")))
    assert meta.flavor.extra_specs == {"hw:mem_page_size": "large", "hw:numa_nodes": "1"}
    assert meta.image.uuid == meta.root.uuid == "b7e2d4a1-58c3-4f9e-a016-3d2c8e5f7a90"
    assert meta.image.properties == {"hw_disk_bus": "scsi", "os_distro": "debian"}
    assert meta.root.type == "image" and [ip.type for ip in meta.ports[0].ips] == ["fixed", "floating"]
    meta, _ = find_nova(parse_xml(_data("head-metadata-volume-from-image.xml")))
    assert meta.image.uuid is None and meta.image.properties == {"os_distro": "rocky"}
    assert meta.image.min_disk == 4 and meta.image.disk_format == "raw"
    assert (meta.root.type, meta.root.uuid) == ("volume", None)
    assert len(meta.ports[0].ips) == 3 and {ip.version for ip in meta.ports[0].ips} == {4, 6}
    meta, _ = find_nova(parse_xml(_data("head-metadata-volume-blank.xml")))
    assert meta.image.uuid is None and meta.image.properties == {} and meta.image.disk_format is None
