"""How long the libvirt_guests plugin takes inside real sos with N guests (root, after `make rig`).

    python3 bench/plugin_time.py [-n 100] [--sos 4.9.1]

Defines N persistent Nova guests (3 running), runs `sos report -o libvirt_guests`, and prints the
plugin's own run time from sos's manifest and the time per guest. Redefines the test guests after.
"""

import argparse
import json
import os
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.rig import guests as rig  # noqa: E402
from tests.rig import sosrun  # noqa: E402


def plugin_seconds(archive):
    with tarfile.open(archive) as tar:
        m = next(x for x in tar.getmembers() if x.name.endswith("sos_reports/manifest.json"))
        manifest = json.load(tar.extractfile(m))
    plug = manifest["components"]["report"]["plugins"]["libvirt_guests"]
    return _seconds(plug.get("run_time")), plug


def _seconds(text):
    """sos writes durations as str(timedelta): '0:00:05.290899'."""
    h, m, s = (text or "0:0:0").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--sos", default="4.9.1", choices=sorted(sosrun.SOS_TREES))
    args = ap.parse_args()
    rig.define_many(args.n)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            path, _ = sosrun.run_sos(args.sos, tmp, plugins="libvirt_guests")
            wall = time.monotonic() - t0
            run_time, plug = plugin_seconds(path)
            setup = _seconds(plug.get("setup_time"))
            post = _seconds(plug.get("postproc_time"))
            with tarfile.open(path) as tar:
                xml = [m for m in tar.getmembers() if m.name.endswith(".xml") and "/domains/" in m.name]
    finally:
        rig.define(rig.GUESTS)
    total = setup + run_time + post
    print("sos %s, %d guests: plugin %.1f s (setup %.1f + collect %.1f + postproc %.1f), %.0f ms per "
          "guest, plugin timeout %s s, whole sos run %.1f s, %d XML files"
          % (args.sos, args.n, total, setup, run_time, post, 1000 * total / args.n, plug.get("timeout"),
             wall, len(xml)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
