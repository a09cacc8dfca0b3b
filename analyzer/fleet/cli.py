"""`analyze-sos-fleet ingest|where|sql|findings|compact`: the command line. Orchestration only.

Exit status: 0 ok; 1 `where` matched nothing; 2 bad usage, an unreadable store or a failed query
(one line on stderr); 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Optional

from analyzer import __version__
from analyzer.cli import _positive as cli_positive, _safe, guarded

EXIT_OK, EXIT_NO_MATCH, EXIT_BAD = 0, 1, 2
PROG = "analyze-sos-fleet"


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit status is 2 as well
        raise _Usage("%s (see %s --help)" % (message, self.prog))


_positive = cli_positive(int)


def _since(text: str) -> str:
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d(?::\d\d)?)Z?)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError("not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): %r" % text)
    return m.group(1) + ("T" + m.group(2) if m.group(2) else "")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Every sosreport of a support organisation in one Parquet store: "
                                       "ingest them on Dask, ask across all of them with DuckDB.")
    p.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    i = sub.add_parser("ingest", help="analyse reports and add their facts to STORE")
    i.add_argument("store", metavar="STORE", help="a folder (made if missing) or an fsspec URL")
    i.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="sosreport tarballs, extracted reports, collect bundles, or folders of them")
    i.add_argument("--scheduler", metavar="ADDRESS",
                   help="a Dask distributed scheduler (tcp://HOST:8786); default: a local cluster")
    i.add_argument("--jobs", "-j", type=_positive, default=0, metavar="N",
                   help="local workers without --scheduler (default: all cores)")
    i.add_argument("--max-member-size", type=_positive, default=64, metavar="MIB")
    i.add_argument("--max-total-size", type=_positive, default=64, metavar="GIB")
    i.add_argument("--max-depth", type=_positive, default=3, metavar="N")
    i.add_argument("--no-compact", action="store_true",
                   help="leave one file per report and table (compact later)")
    i.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    w = sub.add_parser("where", help="every sighting and event of the instances matching QUERY")
    w.add_argument("store", metavar="STORE")
    w.add_argument("query", metavar="QUERY",
                   help="UUID, UUID prefix (8+ hex), domain name, display name or glob")
    w.add_argument("--format", choices=("text", "json"), default="text")

    s = sub.add_parser("sql", help="a DuckDB query over the tables")
    s.add_argument("store", metavar="STORE")
    s.add_argument("query", metavar="SQL")
    s.add_argument("--format", choices=("text", "json", "csv"), default="text")

    f = sub.add_parser("findings", help="findings across the fleet, by code, host and Nova version")
    f.add_argument("store", metavar="STORE")
    f.add_argument("--code", metavar="C")
    f.add_argument("--since", type=_since, metavar="DATE", help="reports collected on or after DATE")
    f.add_argument("--severity", choices=("critical", "warning", "info"))
    f.add_argument("--format", choices=("text", "json", "csv"), default="text")

    c = sub.add_parser("compact", help="merge the store's files into one per table")
    c.add_argument("store", metavar="STORE")
    return p


def _err(text: str) -> None:
    sys.stderr.write("%s: %s\n" % (PROG, _safe(text)))


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def run(argv: Optional[list[str]] = None) -> int:
    try:
        args = parser().parse_args(argv)
    except _Usage as e:
        _err(str(e))
        return EXIT_BAD
    try:
        from analyzer.fleet.store import Store
    except ImportError as e:
        _err("the fleet extra is not installed (pip install 'analyze-sos[fleet]'): %s" % e)
        return EXIT_BAD
    from analyzer.fleet.store import StoreError
    store = Store(args.store)
    try:
        if args.command == "ingest":
            return _ingest(args, store)
        store.check()
        if args.command == "where":
            return _where(args, store)
        if args.command == "sql":
            from analyzer.fleet import query
            cols, rows = query.sql(store, args.query)
            _out(query.render(cols, rows, args.format))
            return EXIT_OK
        if args.command == "findings":
            from analyzer.fleet import query
            cols, rows = query.findings(store, args.code, args.since, args.severity)
            _out(query.render(cols, rows, args.format))
            return EXIT_OK
        if args.command == "compact":
            from analyzer.fleet.ingest import compact
            n = compact(store)
            _err("compacted %s: %d files merged" % (store.url, n))
            return EXIT_OK
    except StoreError as e:
        _err(str(e))
        return EXIT_BAD
    except _duckdb_error() as e:
        _err("query failed: %s" % (str(e).splitlines() or [""])[0])
        return EXIT_BAD
    return EXIT_BAD


def _duckdb_error():
    try:
        import duckdb
        return duckdb.Error
    except ImportError:  # pragma: no cover
        return ()


def _ingest(args, store) -> int:
    from analyzer.fleet.ingest import run_ingest
    limits = (args.max_member_size << 20, args.max_total_size << 30, args.max_depth, None)
    s = run_ingest(store, args.inputs, scheduler=args.scheduler, jobs=args.jobs, limits=limits,
                   progress=not args.quiet, compact_after=not args.no_compact)
    for path, reason in s.errors:
        _err("%s: %s" % (path, reason))
    dup = ", %d duplicate%s" % (s.duplicates, "" if s.duplicates == 1 else "s") if s.duplicates else ""
    _out("%d reports ingested (%d replaced)%s, %d failed -> %s (%.1f s)"
         % (s.ingested, s.replaced, dup, s.failed, store.url, s.seconds))
    return EXIT_OK


def _where(args, store) -> int:
    import json
    from analyzer.fleet import query
    result = query.where(store, args.query)
    if not result["sightings"]:
        near = ", ".join(result["suggestions"])
        _err("no instance matches %r%s" % (args.query, "; nearest: " + near if near else ""))
        if args.format == "json":
            _out(json.dumps(_public(result), ensure_ascii=False))
        return EXIT_NO_MATCH
    if args.format == "json":
        _out(json.dumps(_public(result), ensure_ascii=False))
    else:
        _out(query.where_text(result))
    return EXIT_OK


def _public(result: dict) -> dict:
    return {"query": result["query"], "matched_by": result["matched_by"],
            "sightings": result["sightings"], "events": result["events"]}


def main(argv: Optional[list[str]] = None) -> int:
    return guarded(run, argv, _err, "error: %s: %s (rerun with ANALYZE_SOS_DEBUG=1 for details)")
