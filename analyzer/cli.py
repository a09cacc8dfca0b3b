"""`analyze-sos [options] INPUT...`: the command line. Orchestration only; no analysis here.

Exit status: 0 ok; 1 a --guest query matched nothing; 2 bad usage or an input that could not be
read (the others are still analyzed and written); 3 a finding at or above --fail-on.

Standard error, one line each, `analyze-sos: ` first: errors (an input not read, a query without
match, the findings behind exit 3) always; `warning: ` (a report read only in part, a file of a
folder skipped) and `note: ` lines unless --quiet.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from typing import Callable, Optional

from analyzer import __version__
from analyzer.archive.collect import Limits
from analyzer.model import Document, Finding, Report
from analyzer.render.text import plural, short_uuid_prefix

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


def _error(text: str) -> None:
    """Never silenced: what made the exit status non-zero."""
    sys.stderr.write("analyze-sos: %s\n" % _safe(text))


def _warn(args, text: str) -> None:
    if not args.quiet:
        sys.stderr.write("analyze-sos: warning: %s\n" % _safe(text))


def _say(args, text: str) -> None:
    if not args.quiet:
        sys.stderr.write("analyze-sos: %s\n" % _safe(text))


def _safe(text: object) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def run(argv: Optional[list[str]] = None) -> int:
    args = parser().parse_args(argv)
    from analyzer import analysis, findings
    from analyzer.run import analyze, tune_gc
    tune_gc()

    limits = Limits(max_member=args.max_member_size << 20, max_total=args.max_total_size << 30,
                    max_depth=args.max_depth)
    outcome = analyze(args.inputs, limits, jobs=args.jobs, progress=not args.quiet)
    for e in outcome.errors:
        _error("%s: %s" % (e.path, e.reason))
    for n in outcome.notes:  # files of a folder skipped, problems of collect bundles
        partly = "read only in part: " if n.reason.startswith("stopped reading") else ""
        _warn(args, "%s: %s%s" % (n.path, partly, n.reason))
    if not outcome.reports:
        if not outcome.errors:
            _error("no sosreport found in the input")
        return EXIT_BAD_INPUT

    doc = analysis.document(outcome)
    _tell_reports(args, doc)
    matched = _select(doc, args.guest) if args.guest else True
    _write(args, doc)

    if outcome.errors:
        return EXIT_BAD_INPUT
    if not matched:
        return EXIT_NO_MATCH
    if args.fail_on and findings.at_or_above(doc.findings, args.fail_on):
        _tell_failing(doc, args.fail_on)
        return EXIT_FINDINGS
    return EXIT_OK


def read_in_part(r: Report) -> Optional[str]:
    """Why a report was read only in part, in one line (None: it was read whole). Where reading
    stopped early comes first: it costs the most."""
    if not r.problems:
        return None
    stop = next((p for p in r.problems if p.reason.startswith("stopped reading")), None)
    first = stop or r.problems[0]
    total = 0
    for p in r.problems:
        folded = re.match(r"^\((\d+) more\)$", p.path)
        total += int(folded.group(1)) if folded else 1
    why = first.reason if stop else "%s: %s" % (first.path, first.reason)
    if total > 1:
        why += " (and %d more %s: see the report's problems in the output)" % (
            total - 1, "problem" if total == 2 else "problems")
    return why


def _tell_reports(args, doc: Document) -> None:
    """One warning per report read only in part; a note per report given twice and per thing to
    know about how reports were grouped into hosts."""
    by_id = {r.id: r for r in doc.reports}
    for r in doc.reports:
        why = read_in_part(r)
        if why:
            _warn(args, "%s (%s, %s): read only in part: %s" % (r.path, r.id, r.host or "host unknown", why))
        if r.duplicate_of:
            first = by_id.get(r.duplicate_of)
            if first is not None and first.path == r.path:
                _say(args, "note: %s is given twice: counted once" % r.path)
            else:
                _say(args, "note: %s is the same report as %s (%s): counted once"
                     % (r.path, first.path if first else r.duplicate_of, r.duplicate_of))
    for e in doc.errors:
        if e.path == "(case)":
            _say(args, "note: " + e.reason)


def _tell_failing(doc: Document, severity: str) -> None:
    """The findings behind exit status 3, one line each: a script's log must say why it failed."""
    from analyzer.model import SEVERITIES

    names = {g.uuid: g.display_name or g.domain_name for g in doc.guests}
    limit = SEVERITIES.index(severity)
    for f in doc.findings:
        if f.severity in SEVERITIES and SEVERITIES.index(f.severity) <= limit:
            _error("--fail-on %s: %s" % (severity, _finding_line(f, names)))


def _finding_line(f: Finding, names: dict) -> str:
    """`critical uuid-on-multiple-hosts: guest web-01 (3f1c...), hosts compute-1, compute-2`."""
    guests = ", ".join("%s (%s)" % (names[u], u) if names.get(u) else u for u in f.guests) or "-"
    return "%s %s: %s %s, %s %s" % (f.severity, f.code, "guest" if len(f.guests) <= 1 else "guests", guests,
                                    "host" if len(f.hosts) <= 1 else "hosts", ", ".join(f.hosts) or "-")


def _select(doc: Document, terms: list[str]) -> bool:
    """Keep the guests the --guest terms match and the findings about them; False when a term
    matched nothing (said on stderr with the nearest names)."""
    from analyzer import analysis

    analysis.restrict(doc, terms)
    for term, near in analysis.unmatched(doc):
        hint = "; a UUID prefix needs at least 8 hex digits" if short_uuid_prefix(term) else ""
        _error("no guest matches %s%s%s" % (repr(term), hint, "; nearest: " + near if near else ""))
    return not analysis.unmatched(doc)


def _write(args: argparse.Namespace, doc: Document) -> None:
    target = args.output or ("report.html" if args.format == "html" else "-")
    to_terminal = target == "-" and sys.stdout.isatty()
    if args.format == "json" and not to_terminal:
        from analyzer.render import json_out
        pieces = json_out.render_document(doc)
    else:
        pieces = [_render(args.format, doc.to_dict())]
    # A file name whose bytes are no UTF-8 is held as surrogates (surrogateescape): written as its
    # \udcXX escape, valid inside a JSON string and readable in a page, rather than a crash.
    if target == "-":
        raw = getattr(sys.stdout, "buffer", None)
        if args.format == "json" and raw is not None:  # JSON is UTF-8 whatever the locale
            sys.stdout.flush()
            for piece in pieces:
                raw.write(piece.encode("utf-8", "backslashreplace"))
            raw.flush()
            return
        try:
            sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
        sys.stdout.writelines(pieces)
        sys.stdout.flush()
        return
    with open(target, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.writelines(pieces)
    _say(args, "wrote %s (%s, %s, %s)" % (target, plural(len(doc.reports), "report"),
                                          plural(len(doc.guests), "guest"), plural(len(doc.findings), "finding")))


def _render(fmt: str, doc: dict) -> str:
    """Text, HTML, or JSON indented for a terminal (JSON for a file or a pipe: render_document)."""
    if fmt == "json":
        from analyzer.render import json_out
        return json_out.render(doc)
    if fmt == "text":
        from analyzer.render import text
        return text.render(doc)
    from analyzer.render import html
    return html.render(doc)


class _Terminated(BaseException):
    """SIGTERM (`timeout`, `kill`): unwinds like Ctrl-C, so temporary files are removed."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def guarded(run: Callable[[Optional[list[str]]], int], argv: Optional[list[str]], say: Callable[[str], None],
            unexpected: str) -> int:
    """Run a command so that every way out is one line and an exit status, never a traceback:
    Ctrl-C 130, SIGTERM 143, a closed pipe 0, an OS error or a bug 2 (`unexpected` % (type, text))."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run(argv)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except _Terminated:
        say("terminated")
        return 143
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except OSError as e:
        say("%s: %s" % (_safe(str(e.filename or "")), e.strerror or e))
        return EXIT_BAD_INPUT
    except Exception as e:
        if os.environ.get("ANALYZE_SOS_DEBUG"):
            raise
        say(unexpected % (e.__class__.__name__, _safe(str(e))[:200]))
        return EXIT_BAD_INPUT


def main(argv: Optional[list[str]] = None) -> int:
    return guarded(run, argv, lambda text: sys.stderr.write("analyze-sos: %s\n" % text),
                   "internal error: %s: %s (rerun with ANALYZE_SOS_DEBUG=1 for details, and please report it)")
