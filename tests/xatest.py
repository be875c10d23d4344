"""Helpers shared by the Python tests: where the build and the dumps are, and
how to run the xa-* tools. (A module of its own: each test folder may have a
conftest.py, and `from conftest import` would pick whichever came first.)"""
import contextlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))

BUILD = os.environ.get("XA_BUILD", os.path.join(ROOT, "build-test"))
CACHE = os.environ.get("XA_CACHE") or "/var/tmp/xenaccess-cache"
DUMPS = os.environ.get("XA_TEST_DUMPS") or os.path.join(CACHE, "dumps")
# The tools run uninstalled: loadable backends (libvirt, Xen) from the build.
os.environ.setdefault("XA_BACKEND_DIR", os.path.join(BUILD, "backends"))


def strict():
    """CI=true or XA_REQUIRE=all: every test must run; one that cannot fails."""
    return (os.environ.get("CI", "").lower() in ("true", "1", "yes")
            or os.environ.get("XA_REQUIRE", "") == "all")


def skip_or_fail(reason):
    """The one way a test says it cannot run: a skip with its reason, or a
    failure under CI=true / XA_REQUIRE=all (where nothing may be left out)."""
    import pytest
    if strict():
        pytest.fail("cannot run (a failure under CI=true / XA_REQUIRE=all): " + reason,
                    pytrace=False)
    pytest.skip(reason)


def require(cond, reason):
    """skip_or_fail(reason) unless cond holds."""
    if not cond:
        skip_or_fail(reason)


def tool_path(name):
    import pytest
    path = os.path.join(BUILD, "tools", name)
    if not os.path.exists(path):
        pytest.fail(f"{path} not built (set XA_BUILD to the build directory)")
    return path


def libvirt_preload(lib):
    """LD_PRELOAD for a program that loads the libvirt backend with an ASan
    build of @lib, else None. The backend is a module, dlopen()ed after
    start-up: ASan's xdr_* interceptors, resolved at start-up, would call
    NULL in libvirt's RPC unless libtirpc is preloaded (after the ASan
    runtime, which must come first)."""
    import glob
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from xenaccess import _lib
    if not _lib.needs_asan(lib):
        return None
    tirpc = sorted(glob.glob("/lib/x86_64-linux-gnu/libtirpc.so.*") +
                   glob.glob("/usr/lib/*/libtirpc.so.*"))
    return " ".join(p for p in (_lib.asan_runtime(lib), tirpc[0] if tirpc else None) if p)


def on_libvirt(args):
    """A tool's arguments name a libvirt: target."""
    return any(str(a).startswith("libvirt:") for a in args)


def tool_env(*args):
    """The environment an xa-* tool runs in, given its arguments: a libvirt:
    target gets libvirt_preload()."""
    env = dict(os.environ)
    preload = on_libvirt(args) and libvirt_preload(os.path.join(BUILD, "libxenaccess.so"))
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def run_tool(name, *args, check=True, timeout=None):
    """Run an xa-* tool; returns CompletedProcess with text output. Timeout:
    120 s, 300 s on a libvirt: target (RPC through a private libvirtd)."""
    if timeout is None:
        timeout = 300 if on_libvirt(args) else 120
    p = subprocess.run([tool_path(name), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=tool_env(*args))
    if check and p.returncode != 0:
        raise AssertionError(f"{name} {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


class ToolStream:
    """An xa-* tool that keeps printing JSON lines (--watch, --follow), read
    as it goes: wait_for() the line you expect, then stop() it."""

    def __init__(self, name, *args):
        import queue
        import threading
        self.name = name
        self.proc = subprocess.Popen([tool_path(name), *map(str, args)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=tool_env(*args))
        self.lines, self.errors = queue.Queue(), []
        threading.Thread(target=lambda: [self.lines.put(l) for l in self.proc.stdout],
                         daemon=True).start()
        threading.Thread(target=lambda: self.errors.extend(self.proc.stderr), daemon=True).start()

    def wait_for(self, pred, what, timeout=180):
        """The first line (parsed) for which pred holds, within timeout seconds."""
        import queue
        import time
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, (f"{self.name} printed no {what} within {timeout} s: "
                              f"{''.join(self.errors)}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            row = json.loads(line) if line.strip() else None
            if row is not None and pred(row):
                return row

    def stop(self):
        """SIGTERM (a watch or follow ends on it with status 0); its stderr."""
        self.proc.terminate()
        self.proc.wait(timeout=120)
        return self.proc.returncode, "".join(self.errors)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_dumps():
    """{kind: {"dir": ..., "truth": {...}}} for the dump sets that exist."""
    sets = {}
    for kind in ("l4", "l5"):
        d = os.path.join(DUMPS, kind)
        if os.path.exists(os.path.join(d, "truth.json")):
            with open(os.path.join(d, "truth.json")) as f:
                sets[kind] = {"dir": d, "truth": json.load(f)}
    return sets


def dump_set(dumps, kind):
    """dumps[kind] ({"dir", "truth"}); a missing set is skip_or_fail()."""
    require(kind in dumps, f"no {kind} dump set in {DUMPS} (make it: python3 tests/guest/harness.py"
            f" make-dumps --out {DUMPS}/{kind}{' --la57' if kind == 'l5' else ''})")
    return dumps[kind]


def copy_for_anyone(files):
    """A test that drops privileges runs copies: the checkout may sit where
    an unprivileged user cannot go (a 0700 directory, root's home).
    files: {relative destination: source}; returns a fresh directory (0755,
    the caller removes it) holding them, directories 0755, files readable
    (executables 0755). Shared libraries keep working when placed where
    their users' $ORIGIN runpath looks."""
    import shutil
    import tempfile
    top = tempfile.mkdtemp(prefix="xa-public-", dir=tempfile.gettempdir())
    os.chmod(top, 0o755)
    for rel, src in files.items():
        dst = os.path.join(top, rel)
        d = os.path.dirname(dst)
        os.makedirs(d, exist_ok=True)
        while d != top:
            os.chmod(d, 0o755)
            d = os.path.dirname(d)
        shutil.copy(src, dst)  # follows symlinks (libxenaccess.so.0)
        os.chmod(dst, 0o755 if os.access(src, os.X_OK) else 0o644)
    return top


def helper_path():
    """tests/fuzz/hostile_helper: answers where a dump's structures are."""
    import pytest
    p = os.path.join(BUILD, "tests", "fuzz", "hostile_helper")
    if not os.path.exists(p):
        pytest.fail(f"{p} not built")
    return p


class DumpImage:
    """A writable copy of a raw dump (file offset = physical address), its
    addresses found by hostile_helper (helper_path()); patched() undoes
    itself."""

    def __init__(self, path, helper):
        self.path = path
        self.target = f"file:{path}"
        self.helper = helper
        self.f = open(path, "r+b")

    def q(self, *queries):
        out = subprocess.run([self.helper, self.target, *queries], capture_output=True,
                             text=True, timeout=120, check=True).stdout.split()
        assert len(out) == len(queries), out
        vals = []
        for query, v in zip(queries, out):
            assert v != "?", f"helper could not answer {query}"
            vals.append(int(v, 0))
        return vals if len(vals) > 1 else vals[0]

    def read(self, pa, n):
        self.f.seek(pa)
        return self.f.read(n)

    @contextlib.contextmanager
    def patched(self, patches):
        """patches: {physical address: bytes}; undone on exit."""
        saved = {pa: self.read(pa, len(b)) for pa, b in patches.items()}
        try:
            for pa, b in patches.items():
                self.f.seek(pa)
                self.f.write(b)
            self.f.flush()
            yield
        finally:
            for pa, b in saved.items():
                self.f.seek(pa)
                self.f.write(b)
            self.f.flush()
