"""`analyze-sos [options] INPUT...`: the command line. Orchestration only; no analysis here.

Exit status: 0 ok; 1 a --guest query matched nothing; 2 bad usage or an input that could not be
read (the others are still analyzed and written); 3 a finding at or above --fail-on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Optional

from analyzer import __version__
from analyzer.archive.collect import Limits
from analyzer.model import Document

EXIT_OK, EXIT_NO_MATCH, EXIT_BAD_INPUT, EXIT_FINDINGS = 0, 1, 2, 3


def _positive(kind):
    def parse(text: str) -> int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive: %r" % text)
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="analyze-sos",
        description="Find, correlate and explain the libvirt/Nova guests in sosreports.",
        epilog="INPUT: a sosreport tarball (xz, gzip, bzip2, plain tar), an extracted sosreport "
               "directory, a `sos collect` bundle, or a directory holding several of them.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--format", choices=("html", "json", "text"), default="html",
                   help="output format (default: html)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here (default: report.html for html, standard output otherwise; '-' for standard output)")
    p.add_argument("--guest", action="append", default=[], metavar="QUERY",
                   help="only guests matching: UUID, UUID prefix (8+ hex), domain name, display name or glob; repeatable")
    p.add_argument("--fail-on", choices=("warning", "critical"),
                   help="exit 3 when a finding at or above this severity exists")
    p.add_argument("--jobs", "-j", type=_positive(int), default=0, metavar="N",
                   help="reports read in parallel (default: all cores)")
    p.add_argument("--max-member-size", type=_positive(int), default=64, metavar="MIB",
                   help="largest single file kept in memory from a report (default: 64 MiB)")
    p.add_argument("--max-total-size", type=_positive(int), default=64, metavar="GIB",
                   help="stop reading a report after this much decompressed data (default: 64 GiB)")
    p.add_argument("--max-depth", type=_positive(int), default=3, metavar="N",
                   help="how many collect bundles deep reports are searched (default: 3)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or notes on standard error")
    p.add_argument("--version", action="version", version="analyze-sos %s" % __version__)
    return p


def _say(args, text: str) -> None:
    if not args.quiet:
        sys.stderr.write("analyze-sos: %s\n" % _safe(text))


def _safe(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def run(argv: Optional[list[str]] = None) -> int:
    args = parser().parse_args(argv)
    from analyzer import analysis, findings
    from analyzer.run import analyze

    limits = Limits(max_member=args.max_member_size << 20, max_total=args.max_total_size << 30,
                    max_depth=args.max_depth)
    outcome = analyze(args.inputs, limits, jobs=args.jobs, progress=not args.quiet)
    for e in outcome.errors:
        sys.stderr.write("analyze-sos: %s: %s\n" % (_safe(e.path), _safe(e.reason)))
    if not outcome.reports:
        if not outcome.errors:
            sys.stderr.write("analyze-sos: no sosreport found in the input\n")
        return EXIT_BAD_INPUT

    doc = analysis.document(outcome)
    matched = _select(doc, args.guest) if args.guest else True
    _write(args, doc)

    if outcome.errors:
        return EXIT_BAD_INPUT
    if not matched:
        return EXIT_NO_MATCH
    if args.fail_on and findings.at_or_above(doc.findings, args.fail_on):
        return EXIT_FINDINGS
    return EXIT_OK


def _select(doc: Document, terms: list[str]) -> bool:
    """Keep the guests the --guest terms match and the findings about them; False when a term
    matched nothing (said on stderr with the nearest names)."""
    from analyzer import analysis

    analysis.restrict(doc, terms)
    for term, near in analysis.unmatched(doc):
        sys.stderr.write("analyze-sos: no guest matches %s%s\n"
                         % (_safe(repr(term)), "; nearest: " + _safe(near) if near else ""))
    return not analysis.unmatched(doc)


def _write(args: argparse.Namespace, doc: Document) -> None:
    target = args.output or ("report.html" if args.format == "html" else "-")
    out_text = _render(args.format, doc.to_dict(), target == "-" and sys.stdout.isatty())
    if target == "-":
        sys.stdout.write(out_text)
        sys.stdout.flush()
        return
    with open(target, "w", encoding="utf-8") as f:
        f.write(out_text)
    _say(args, "wrote %s (%d reports, %d guests, %d findings)"
         % (target, len(doc.reports), len(doc.guests), len(doc.findings)))


def _render(fmt: str, doc: dict, to_terminal: bool = False) -> str:
    if fmt == "json":
        from analyzer.render import json_out
        return json_out.render(doc, indent=to_terminal)
    if fmt == "text":
        from analyzer.render import text
        return text.render(doc)
    from analyzer.render import html
    return html.render(doc)


class _Terminated(BaseException):
    """SIGTERM (`timeout`, `kill`): unwinds like Ctrl-C, so temporary files are removed."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def main(argv: Optional[list[str]] = None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run(argv)
    except KeyboardInterrupt:
        sys.stderr.write("analyze-sos: interrupted\n")
        return 130
    except _Terminated:
        sys.stderr.write("analyze-sos: terminated\n")
        return 143
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except OSError as e:
        sys.stderr.write("analyze-sos: %s: %s\n" % (_safe(str(e.filename or "")), e.strerror or e))
        return EXIT_BAD_INPUT
    except Exception as e:  # a bug: one line, not a traceback (ANALYZE_SOS_DEBUG=1 shows it)
        if os.environ.get("ANALYZE_SOS_DEBUG"):
            raise
        sys.stderr.write("analyze-sos: internal error: %s: %s (rerun with ANALYZE_SOS_DEBUG=1 "
                         "for details, and please report it)\n" % (e.__class__.__name__, _safe(str(e))[:200]))
        return EXIT_BAD_INPUT
