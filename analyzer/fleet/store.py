"""The fleet store: a folder (or fsspec URL) of Parquet files, one folder per table.

    STORE/fleet.json                     marks a store: {"format": "analyze-sos-fleet", "version": 1}
    STORE/<table>/part-<sha256>-<write>.parquet   one report's rows, written by one ingest task
    STORE/<table>/batch-<write>.parquet           many reports' rows, merged by `compact`
    STORE/_tmp/                                   files being written (never read as rows)

Every file is written under _tmp/ and renamed into place, so a reader never sees half a file.
A report's rows span four tables, and four renames are not one: the `reports` file is renamed
last and is the commit. The views (`views()`) keep, per report sha256, only its newest committed
write, and from the other tables only the rows of that same write (same sha256 and same file
stem). So a task killed half-way leaves invisible rows, a re-ingest replaces (the newer write
wins, never both), and a compaction interrupted between its rename and its deletes duplicates
nothing. Plain readers (Spark, Trino, pandas) see the same facts through `compact`ed stores; the
README says how to dedupe the raw files the same way.
"""

from __future__ import annotations

import json
import os
import posixpath
import time
import uuid as uuidlib
from typing import Any, Optional

FORMAT = "analyze-sos-fleet"
VERSION = 1
MARKER = "fleet.json"
TMP = "_tmp"


class StoreError(Exception):
    """The store cannot be used: one line for the user (exit status 2)."""


# Columns per table: (name, type). "s" string, "b" bool, "i" int64, "ls" list of strings.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "reports": [
        ("sha256", "s"), ("path", "s"), ("host", "s"),
        ("collected_at", "s"), ("collected_at_is_utc", "b"), ("utc_offset", "s"),
        ("sos_version", "s"), ("os", "s"),
        ("nova_version", "s"), ("libvirt_version", "s"), ("qemu_version", "s"),
        ("nova_compute", "b"), ("guest_count", "i"), ("problem_count", "i"),
        ("schema_version", "i"), ("analyzer_version", "s"),
        ("ingested_at", "s"), ("write_id", "s"),
    ],
    "guests": [
        ("sha256", "s"), ("uuid", "s"), ("domain_name", "s"), ("display_name", "s"),
        ("project", "s"), ("project_id", "s"), ("user", "s"), ("user_id", "s"),
        ("host", "s"), ("state", "s"), ("state_reason", "s"), ("persistent", "b"),
        ("flavor", "s"), ("vcpus", "i"), ("memory_mb", "i"),
        ("nova_version", "s"), ("creation_time", "s"), ("write_id", "s"),
    ],
    "events": [
        ("sha256", "s"), ("uuid", "s"), ("time", "s"), ("time_is_utc", "b"), ("host", "s"),
        ("kind", "s"), ("peer_host", "s"), ("message", "s"),
        ("evidence_path", "s"), ("evidence_line", "i"), ("write_id", "s"),
    ],
    "findings": [
        ("sha256", "s"), ("code", "s"), ("severity", "s"), ("host", "s"),
        ("guests", "ls"), ("message", "s"), ("write_id", "s"),
    ],
    "errors": [
        ("path", "s"), ("sha256", "s"), ("reason", "s"), ("ingested_at", "s"), ("write_id", "s"),
    ],
}
_SQL_TYPES = {"s": "VARCHAR", "b": "BOOLEAN", "i": "BIGINT", "ls": "VARCHAR[]"}


def schema(table: str):
    """The table's Arrow schema (pyarrow is imported only by what reads or writes Parquet)."""
    import pyarrow as pa
    types = {"s": pa.string(), "b": pa.bool_(), "i": pa.int64(), "ls": pa.list_(pa.string())}
    return pa.schema([(n, types[t]) for n, t in COLUMNS[table]])


TABLES = tuple(COLUMNS)
CHILDREN = ("guests", "events", "findings")


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_write_id() -> str:
    # time first: file names sort by write time, which is how a newer write wins ties
    return "%d%s" % (time.time_ns(), uuidlib.uuid4().hex[:12])


class Store:
    """A store at a local path or an fsspec URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        if "://" in url:
            import fsspec
            self.fs, self.root = fsspec.core.url_to_fs(url)
            self.local = False
        else:
            self.fs, self.root, self.local = None, os.path.abspath(url), True

    # -- paths and small file operations (local: os; otherwise fsspec) --------------------------
    def path(self, *parts: str) -> str:
        return (os.path.join if self.local else posixpath.join)(self.root, *parts)

    def exists(self, p: str) -> bool:
        return os.path.exists(p) if self.local else self.fs.exists(p)

    def listdir(self, p: str) -> list[str]:
        if self.local:
            try:
                return sorted(os.listdir(p))
            except FileNotFoundError:
                return []
        try:
            return sorted(posixpath.basename(x.rstrip("/")) for x in self.fs.ls(p, detail=False))
        except FileNotFoundError:
            return []

    def makedirs(self, p: str) -> None:
        if self.local:
            os.makedirs(p, exist_ok=True)
        else:
            self.fs.makedirs(p, exist_ok=True)

    def remove(self, p: str) -> None:
        try:
            if self.local:
                os.remove(p)
            else:
                self.fs.rm(p)
        except FileNotFoundError:
            pass

    def mtime(self, p: str) -> float:
        if self.local:
            return os.path.getmtime(p)
        m = self.fs.modified(p)
        return m.timestamp()

    # -- the store itself -----------------------------------------------------------------------
    def check(self) -> None:
        """A readable store, or StoreError."""
        marker = self.path(MARKER)
        try:
            if self.local:
                if not os.path.isdir(self.root):
                    raise StoreError("%s: not a fleet store (no such directory)" % self.url)
                with open(marker, encoding="utf-8") as f:
                    meta = json.load(f)
            else:
                with self.fs.open(marker, "rb") as f:
                    meta = json.load(f)
        except FileNotFoundError:
            raise StoreError("%s: not a fleet store (no %s; make one with `analyze-sos-fleet ingest`)"
                             % (self.url, MARKER))
        except (OSError, ValueError) as e:
            raise StoreError("%s: cannot read %s: %s" % (self.url, MARKER, getattr(e, "strerror", None) or e))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise StoreError("%s: %s is not an analyze-sos-fleet marker" % (self.url, MARKER))
        if meta.get("version") != VERSION:
            raise StoreError("%s: store format version %r, this analyze-sos-fleet reads version %d"
                             % (self.url, meta.get("version"), VERSION))

    def create(self) -> None:
        """Make the store (or check the existing one). A non-empty folder that is not a store is
        refused: ingest must never scatter files into someone's case folder."""
        if self.exists(self.path(MARKER)):
            self.check()
        else:
            if self.local and os.path.exists(self.root) and not os.path.isdir(self.root):
                raise StoreError("%s: exists and is not a directory" % self.url)
            if self.listdir(self.root):
                raise StoreError("%s: not empty and not a fleet store; give a new or empty folder" % self.url)
            self.makedirs(self.root)
            self._put_bytes(MARKER, json.dumps({"format": FORMAT, "version": VERSION}).encode())
        for t in TABLES + (TMP,):
            self.makedirs(self.path(t))

    def _put_bytes(self, name: str, data: bytes) -> None:
        self.makedirs(self.path(TMP))
        tmp = self.path(TMP, uuidlib.uuid4().hex)
        if self.local:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        else:
            with self.fs.open(tmp, "wb") as f:
                f.write(data)
        self._rename(tmp, self.path(name))

    def _rename(self, src: str, dst: str) -> None:
        if self.local:
            os.replace(src, dst)  # atomic on one filesystem: a reader sees the old or the new file
        else:
            self.fs.mv(src, dst)

    def write_table(self, table: str, stem: str, rows: list[dict[str, Any]]) -> str:
        """rows -> TABLE/STEM.parquet, written under _tmp/ and renamed into place."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        data = pa.Table.from_pylist(rows, schema=schema(table))
        tmp = self.path(TMP, "%s-%s.parquet" % (table, uuidlib.uuid4().hex))
        if self.local:
            with open(tmp, "wb") as f:
                pq.write_table(data, f)
                f.flush()
                os.fsync(f.fileno())
        else:
            with self.fs.open(tmp, "wb") as f:
                pq.write_table(data, f)
        final = self.path(table, stem + ".parquet")
        self._rename(tmp, final)
        return final

    def files(self, table: str) -> list[str]:
        return [self.path(table, n) for n in self.listdir(self.path(table))
                if n.endswith(".parquet") and not n.startswith((".", "_"))]


def stem_of(path: str) -> str:
    return posixpath.basename(path.replace("\\", "/"))[: -len(".parquet")]


def connect(store: Store, tables: Optional[tuple] = None):
    """A DuckDB connection with one view per table, named as the table (deduplicated, committed
    rows only; see the module docstring)."""
    import duckdb
    con = duckdb.connect()
    if not store.local:
        con.register_filesystem(store.fs)
    for t in TABLES:
        files = store.files(t)
        if files:
            src = ("read_parquet(%s, filename=true, union_by_name=true)"
                   % _sql_list(files if len(files) < 64 else [store.path(t, "*.parquet")]))
        else:
            src = "(SELECT %s, NULL::VARCHAR AS filename WHERE false)" % ", ".join(
                'NULL::%s AS "%s"' % (_SQL_TYPES[k], n) for n, k in COLUMNS[t])
        con.execute("CREATE VIEW _raw_%s AS SELECT * EXCLUDE (filename), "
                    "regexp_extract(filename, '([^/\\\\]+)\\.parquet$', 1) AS _stem FROM %s" % (t, src))
    # The newest committed write of each report; ties (the same write in a part and in a batch
    # during a compaction) go to one file, and the children follow that file.
    con.execute("""CREATE VIEW _live AS SELECT sha256, write_id, _stem FROM _raw_reports
                   QUALIFY row_number() OVER (PARTITION BY sha256 ORDER BY write_id DESC, _stem DESC) = 1""")
    cols = {t: ", ".join('"%s"' % n for n, _ in COLUMNS[t]) for t in TABLES}
    con.execute("CREATE VIEW reports AS SELECT %s FROM _raw_reports r SEMI JOIN _live l "
                "USING (sha256, write_id, _stem)" % cols["reports"])
    for t in CHILDREN:
        con.execute("CREATE VIEW %s AS SELECT %s FROM _raw_%s c SEMI JOIN _live l "
                    "USING (sha256, write_id, _stem)" % (t, cols[t], t))
    # An error row is replaced by a newer one for the same key (sha256, else path).
    con.execute("""CREATE VIEW errors AS SELECT %s FROM _raw_errors
                   QUALIFY row_number() OVER (PARTITION BY coalesce(sha256, path), path
                                              ORDER BY write_id DESC, _stem DESC) = 1""" % cols["errors"])
    return con


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'%s'" % x.replace("'", "''") for x in items) + "]"
