"""Run the real CLI as a child process in a sealed directory, and measure it.

Each run gets a fresh directory holding its cwd, HOME and TMPDIR; the output file is written there.
The child starts its own session, so every process it starts (workers, xz) is found by session id:
memory is the peak of their summed RSS, sampled every 50 ms, or the largest single process's
ru_maxrss when that is higher (a short peak between two samples). A run past its time limit is
killed with its whole session.

    python tests/hostile/runner.py DEST [CASE...]    build the corpus, run each case, print figures
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
TIME_LIMIT = 60.0
_WRAPPER = ("import os, resource, subprocess, sys\n"
            "rc = subprocess.call(sys.argv[2:])\n"
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(rc)\n")
MEMORY_LIMIT = 1 << 30


@dataclass
class Run:
    status: Optional[int]  # None: killed at the time limit
    stdout: bytes
    stderr: bytes
    seconds: float
    peak_rss: int  # bytes
    output: Optional[bytes]  # the output file, if written
    home: Path  # the run's directory (cwd)
    tmpdir: Path

    @property
    def err_lines(self) -> list:
        return [line for line in self.stderr.decode("utf-8", "replace").splitlines() if line.strip()]


def _session_rss(sid: int) -> int:
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[3]) != sid:  # after ")": state ppid pgrp session
                continue
            with open("/proc/%s/status" % pid, "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def snapshot(path: Path) -> dict:
    """Every entry under path (not following links): relative name -> (type, size, sha256)."""
    out = {}
    path = Path(path)
    if not os.path.lexists(path):
        return out
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return {".": _entry(path, st)}
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            try:
                out[os.path.relpath(full, path)] = _entry(Path(full), os.lstat(full))
            except OSError as e:
                out[os.path.relpath(full, path)] = ("error", e.errno, None)
    return out


def _entry(p: Path, st: os.stat_result) -> tuple:
    if stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        try:
            with open(p, "rb") as f:
                for b in iter(lambda: f.read(1 << 20), b""):
                    h.update(b)
            digest = h.hexdigest()
        except OSError:
            digest = None
        return ("file", st.st_size, digest, stat.S_IMODE(st.st_mode))
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(p), None)
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), None)


def _python_for_others() -> str:
    want = "python%d.%d" % sys.version_info[:2]
    for cand in ("/usr/bin/" + want, "/usr/local/bin/" + want):
        if os.path.exists(cand):
            return cand
    raise RuntimeError("no %s that another user can run" % want)


def _code_for_others(where: Path) -> Path:
    """The analyzer and the packages it imports, copied where any user can read them.

    The checkout and its venv may sit below a directory only its owner can enter (a clone made in
    `mktemp -d`), so another user cannot import them from there.
    """
    dest = where / "code"
    if dest.exists():
        return dest
    import jinja2
    import markupsafe

    skip = shutil.ignore_patterns("__pycache__")
    tmp = where / "code.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(ROOT / "analyzer", tmp / "analyzer", ignore=skip)
    shutil.copytree(ROOT / "templates", tmp / "analyzer" / "templates", ignore=skip)
    for mod in (jinja2, markupsafe):
        pkg = Path(mod.__file__).parent
        shutil.copytree(pkg, tmp / pkg.name, ignore=skip)
    for d, _, files in os.walk(tmp):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    os.chmod(where, 0o755)
    tmp.rename(dest)
    return dest


def run_cli(args: list, base: Path, *, output: Optional[str] = None, user: Optional[str] = None,
            timeout: float = TIME_LIMIT) -> Run:
    """Run `python -m analyzer ARGS [-o OUTPUT]` in a fresh directory under base."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    n = len(list(base.iterdir()))
    home = base / ("run-%d" % n)
    tmpdir = home / "tmp"
    tmpdir.mkdir(parents=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TMPDIR": str(tmpdir),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    python, wrapper_python = PYTHON, sys.executable
    if user:
        # The venv's interpreter may live where only root can go (/root/.pyenv): the other user
        # runs the system's Python of the same version on a readable copy of the code.
        python = wrapper_python = _python_for_others()
    cmd = [python, "-m", "analyzer", *args]
    if user:
        code = _code_for_others(base.parent)
        cmd[1:3] = ["-c", "import runpy, sys\nsys.path.insert(0, %r)\n"
                    "runpy.run_module('analyzer', run_name='__main__', alter_sys=True)" % str(code)]
    if output:
        cmd += ["-o", output]
    # ru_maxrss of a child starts at its parent's RSS when it execs (Linux keeps the high-water
    # mark across exec), and this test process may be big: a small wrapper is the parent instead,
    # and reports the largest process below it.
    rss_file = home.parent / (home.name + ".maxrss")
    cmd = [wrapper_python, "-c", _WRAPPER, str(rss_file)] + cmd
    if user:
        pw = pwd.getpwnam(user)
        rss_file.touch()
        for p in (home, tmpdir, rss_file):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o755)
        cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups", "--"] + cmd
    out_f = open(home.parent / (home.name + ".stdout"), "w+b")
    err_f = open(home.parent / (home.name + ".stderr"), "w+b")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=str(home), env=env, stdin=subprocess.DEVNULL, stdout=out_f,
                            stderr=err_f, start_new_session=True)
    peak = 0
    status: Optional[int] = None
    ru_maxrss = 0
    while True:
        pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(wstatus)
            proc.returncode = status
            try:
                ru_maxrss = int(rss_file.read_text()) * 1024
            except (OSError, ValueError):
                pass
            break
        peak = max(peak, _session_rss(proc.pid))
        if time.monotonic() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            proc.returncode = -9
            break
        time.sleep(0.05)
    seconds = time.monotonic() - start
    # Whatever the child left running in its session (it should be nothing) is stopped here.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out_f.seek(0)
    err_f.seek(0)
    stdout, stderr = out_f.read(), err_f.read()
    out_f.close()
    err_f.close()
    data = None
    if output:
        p = Path(output) if os.path.isabs(output) else home / output
        if p.exists():
            data = p.read_bytes()
    return Run(status, stdout, stderr, seconds, max(peak, ru_maxrss), data, home, tmpdir)


def main(argv: list) -> int:
    from tests.hostile.corpus import Corpus, all_names

    if not argv:
        print("usage: runner.py DEST [CASE...]")
        return 2
    dest = Path(argv[0])
    corpus = Corpus(dest / "corpus")
    print("%-20s %-6s %5s %8s %9s  %s" % ("case", "format", "exit", "seconds", "peak MiB", "stderr"))
    try:
        for name in argv[1:] or all_names():
            case = corpus.get(name)
            for fmt in case.formats:
                r = run_cli(["--format", fmt, "-q", *case.args, *case.inputs], dest / "runs" / name,
                            output="out." + fmt, user=case.user)
                print("%-20s %-6s %5s %8.2f %9.1f  %s" % (name, fmt, r.status, r.seconds, r.peak_rss / 2**20,
                                                          " | ".join(r.err_lines)[:100]))
    finally:
        shutil.rmtree(corpus.public, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
