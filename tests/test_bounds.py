"""Over-long values from a report are cut where they are read, and the cut is a listed problem."""

from analyzer.bounds import MAX_VALUE, MAX_XML, bound_observation, clip, xml_text
from analyzer.model import Observation, Source
from analyzer.parsers.domain_xml import parse_domain
from analyzer.sources.plugin import nova_from_dict
from tests.sosbuilder import GuestSpec, domain_xml

UUID = "c0ffee00-0000-4000-8000-000000000001"


def _obs(name: str, *, pad: int = 0) -> Observation:
    g = GuestSpec(uuid=UUID, domain_name="instance-c0f", display_name=name)
    doc = domain_xml(g, live=True)
    if pad:  # a big document (the parser cuts while building) with a huge attribute too
        doc = doc.replace("<devices>", "<devices><disk type='file' device='disk'><source file='/%s'/>"
                          "<target dev='vdz' bus='virtio'/></disk>" % ("p" * pad), 1)
    data = doc.encode()
    return Observation(source=Source("etc-persistent", "etc/libvirt/qemu/instance-c0f.xml"), uuid=UUID,
                       definition=parse_domain(data, "x"), xml=data)


def test_an_ordinary_guest_is_untouched():
    o = _obs("web-01")
    assert bound_observation(o) is None
    assert o.definition.nova.display_name == "web-01"


def test_a_long_name_in_a_small_document_is_cut_after_parsing():
    o = _obs("n" * 10_000)
    p = bound_observation(o)
    name = o.definition.nova.display_name
    assert len(name) == MAX_VALUE and name.startswith("nnnn") and name.endswith("[cut by analyze-sos: 10,000 characters]")
    assert p.path == "etc/libvirt/qemu/instance-c0f.xml"
    assert p.reason == "over-long values cut: display_name (10,000 characters, 4,096 kept)"


def test_a_big_document_is_cut_while_parsing_values_and_raw_view():
    o = _obs("huge-" + "\u6570" * 300_000, pad=MAX_XML)
    assert [k for k, _ in o.definition.clipped] == ["name", "source@file"]
    assert len(o.definition.nova.display_name) == MAX_VALUE
    assert len(o.definition.disks[0].source) == MAX_VALUE
    p = bound_observation(o)
    assert "name (300,005 characters, 4,096 kept)" in p.reason
    assert "source@file (%s characters" % format(MAX_XML + 1, ",") in p.reason
    assert "raw XML view (" in p.reason
    text, cut = xml_text(o.xml)
    assert cut and len(text) < MAX_XML + 100 and text.rstrip().endswith("bytes -->")


def test_values_from_the_plugin_summary_are_cut_too():
    meta = nova_from_dict({"display_name": "d" * 50_000, "flavor": {"name": "f", "extra_specs": {"k" * 9000: "v"}}})
    o = Observation(source=Source("plugin-summary", "sos_commands/libvirt_guests/summary.json"), uuid=UUID,
                    summary_nova=meta)
    p = bound_observation(o)
    assert len(meta.display_name) == MAX_VALUE
    assert all(len(k) <= MAX_VALUE for k in meta.flavor.extra_specs)
    assert "display_name (50,000 characters" in p.reason and "extra_specs (9,000 characters" in p.reason


def test_clip_keeps_short_text_and_marks_the_rest():
    assert clip("abc") == "abc"
    assert clip("x" * 100, 60) == "x" * 22 + "… [cut by analyze-sos: 100 characters]"
    assert len(clip("x" * 100, 60)) == 60


def test_host_facts_are_cut_too():
    from analyzer.bounds import bound_report
    from analyzer.model import Problem, Report
    r = Report(id="r", path="p", hostname="h" * 20_000, problems=[Problem("x", "y" * 5000)])
    p = bound_report(r)
    assert len(r.hostname) == MAX_VALUE and p.reason == "over-long values cut: hostname (20,000 characters, 4,096 kept)"
    assert r.problems[0].reason == "y" * 5000  # the analyzer's own messages are not data
