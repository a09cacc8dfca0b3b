"""How light is the HTML page on a big report? Prints its size, the DOM after load, the load time
and the filter and sort times, measured in headless Chromium (Debian's /usr/bin/chromium, driven
by Playwright), median of several runs.

    .venv/bin/python bench/page.py                          # generates an 800-guest report first
    .venv/bin/python bench/page.py --out /tmp/b             # ... into another folder
    .venv/bin/python bench/page.py --input REPORT.tar.xz    # any report, case folder or JSON document

Targets: page <= 8 MB, <= 25,000 elements after load, DOMContentLoaded < 1 s, filter and clear
< 100 ms, a column sort < 200 ms.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Runs inside the page: type a term into the filter, then clear it, each timed up to the layout
# that follows the filter's animation frame; then sort by a column.
MEASURE = """async ([term, column]) => {
  const box = document.getElementById("guest-filter");
  const frame = () => new Promise(r => requestAnimationFrame(() => { void document.body.offsetHeight; r(); }));
  const type = async (value) => {
    const t0 = performance.now();
    box.value = value;
    box.dispatchEvent(new Event("input"));
    await frame();  // the filter runs in the next animation frame, ours right after it
    return performance.now() - t0;
  };
  const shown = () => document.querySelectorAll("#guest-table tbody tr:not([hidden])").length;
  const filter = await type(term);
  const matched = shown();
  const clear = await type("");
  const th = [...document.querySelectorAll("#guest-table th")].find(h => h.textContent.trim() === column);
  const t0 = performance.now();
  th.click();
  void document.body.offsetHeight;
  const sort = performance.now() - t0;
  return {filter, clear, sort, matched, rows: shown()};
}"""


def _document(args: argparse.Namespace) -> dict:
    src = args.input
    if src is None:
        found = sorted(glob.glob(os.path.join(args.out, "single", "*.tar.xz")))
        if not found:
            print("generating an %d-guest report into %s ..." % (args.guests, args.out), flush=True)
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "generate.py"), "--out", args.out,
                            "--only", "single", "--guests", str(args.guests), "--log-mib", str(args.log_mib),
                            "--members", "3000"], check=True)
            found = sorted(glob.glob(os.path.join(args.out, "single", "*.tar.xz")))
        src = found[0]
    if src.endswith(".json"):
        with open(src, encoding="utf-8") as f:
            return json.load(f)
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        subprocess.run([sys.executable, "-m", "analyzer", src, "--format", "json", "-o", out, "-q"],
                       check=False, cwd=ROOT)
        with open(out, encoding="utf-8") as f:
            return json.load(f)
    finally:
        os.unlink(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", help="a report, case folder or analyze-sos JSON document")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "html"),
                    help="where the generated report goes (default bench/out/html)")
    ap.add_argument("--guests", type=int, default=800)
    ap.add_argument("--log-mib", type=int, default=80)
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--term", default="instance-0000700", help="what the filter is given")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from analyzer.render import html

    doc = _document(args)
    page_path = os.path.join(tempfile.mkdtemp(prefix="analyze-sos-html-bench-"), "report.html")
    with open(page_path, "w", encoding="utf-8") as f:
        f.write(html.render(doc))
    size = os.path.getsize(page_path)
    loads, filters, clears, sorts = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for i in range(args.runs):
                ctx = browser.new_context(viewport={"width": 1366, "height": 900})
                page = ctx.new_page()
                page.goto("file://" + page_path, wait_until="load")
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
                loads.append(nav["domContentLoadedEventEnd"])
                if i == 0:
                    elements = page.evaluate("document.getElementsByTagName('*').length")
                    nodes = page.evaluate("""(() => { let n = 0; const w = document.createTreeWalker(document);
                                             while (w.nextNode()) n++; return n; })()""")
                    height = page.evaluate("document.documentElement.scrollHeight")
                got = page.evaluate(MEASURE, [args.term, "Memory" if i % 2 else "Name"])
                filters.append(got["filter"])
                clears.append(got["clear"])
                sorts.append(got["sort"])
                ctx.close()
        finally:
            browser.close()
    guests = len(doc.get("guests") or [])
    print("guests %d, instances %d, findings %d (filter term %r matched %d rows)"
          % (guests, len(doc.get("instances") or []), len(doc.get("findings") or []), args.term, got["matched"]))
    print("HTML size            %.2f MB           (target <= 8 MB)" % (size / 1e6))
    print("elements after load  %d               (target <= 25,000; all nodes, text included: %d)" % (elements, nodes))
    print("page height          %d px" % height)
    med = statistics.median
    print("DOMContentLoaded     %.0f ms (runs %s)   (target < 1000 ms)" % (med(loads), ", ".join("%.0f" % x for x in loads)))
    print("filter               %.1f ms (runs %s)" % (med(filters), ", ".join("%.0f" % x for x in filters)))
    print("clear                %.1f ms (runs %s)" % (med(clears), ", ".join("%.0f" % x for x in clears)))
    print("filter + clear       %.1f ms           (target < 100 ms each)" % (med(filters) + med(clears)))
    print("column sort          %.1f ms (runs %s)   (target < 200 ms)" % (med(sorts), ", ".join("%.0f" % x for x in sorts)))
    print("load average         %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
