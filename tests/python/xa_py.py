"""Helpers for the Python-binding tests (a pytest plugin: test modules list it
in pytest_plugins).  PYTEST_DONT_REWRITE (the test modules import it first).

The package under test is <repo>/python; the library is the one it finds
($XA_LIBRARY, $XA_BUILD, build-test, build ...).  When that library was built
with AddressSanitizer (scripts/test.sh builds build-test so), ctypes can load
it only into a process that has the ASan runtime loaded first; this plugin then
re-executes the pytest run once, after collection and before any test runs,
with LD_PRELOAD=libasan (leak checks off: the interpreter's own allocations
are not ours).  Child processes get the original environment back, except
the examples, which are run with the same preload (example_env()).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from xenaccess import _lib  # noqa: E402

_REEXEC = "XA_PY_ASAN_REEXEC"


def _library_file():
    for path in _lib.candidates("xenaccess"):
        if os.sep in path and os.path.exists(path):
            return path
    return None


def _asan_preload():
    """libasan path when the library needs it, else None."""
    path = _library_file()
    if path and _lib.needs_asan(path):
        return _lib.asan_runtime(path)
    return None


def _asan_options(current):
    return (current + ":" if current else "") + "detect_leaks=0"


if os.environ.get(_REEXEC):
    # We are the re-executed run: children (tools, QEMU) get the caller's env back.
    for var in ("LD_PRELOAD", "ASAN_OPTIONS"):
        saved = os.environ.pop("XA_PY_SAVED_" + var, None)
        if saved:
            os.environ[var] = saved
        else:
            os.environ.pop(var, None)


def pytest_collection_modifyitems(session, config, items):
    preload = _asan_preload()
    if not preload or _lib.asan_loaded() or os.environ.get(_REEXEC):
        return
    if not any("tests/python" in str(getattr(i, "fspath", "")) for i in items):
        return
    env = dict(os.environ)
    env[_REEXEC] = "1"
    for var in ("LD_PRELOAD", "ASAN_OPTIONS"):
        if var in os.environ:
            env["XA_PY_SAVED_" + var] = os.environ[var]
    env["LD_PRELOAD"] = preload + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env["ASAN_OPTIONS"] = _asan_options(os.environ.get("ASAN_OPTIONS", ""))
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.suspend_global_capture(in_=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "pytest"] + sys.argv[1:], env)


def example_env():
    """Environment for running examples/*.py as child processes."""
    env = dict(os.environ)
    preload = _asan_preload()
    if preload:
        env["LD_PRELOAD"] = preload
        env["ASAN_OPTIONS"] = _asan_options(os.environ.get("ASAN_OPTIONS", ""))
    return env


def example(name):
    return os.path.join(ROOT, "examples", name)


def run_example(name, *args, timeout=300):
    return subprocess.run([sys.executable, example(name), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=example_env())


def check_process_view(vm, pid, w):
    """One process of the truth's "procview" section (init.sh) against the
    bindings: threads (and their CPUs, but init's, which wakes every second),
    credentials, start time, command line, environment and exe/cwd/root (a
    path the guest had none of must raise NotFound). Returns the threads."""
    import pytest
    import xenaccess
    got = sorted(vm.threads(pid), key=lambda t: t.tid)
    assert [(t.tid, t.comm, t.state) for t in got] == \
        [(t["tid"], t["comm"], t["state"]) for t in w["threads"]], pid
    if pid != 1:
        assert [t.cpu for t in got] == [t["cpu"] for t in w["threads"]], pid
    c = vm.creds(pid)
    assert [c.uid, c.euid, c.suid, c.fsuid] == w["uid"], pid
    assert [c.gid, c.egid, c.sgid, c.fsgid] == w["gid"], pid
    assert list(c.groups) == w["groups"], pid
    assert (c.cap_effective, c.cap_permitted) == (w["capeff"], w["capprm"]), pid
    assert vm.start_time(pid).boot_ns // 10**7 == w["start_ticks"], pid  # USER_HZ 100
    assert vm.cmdline(pid) == bytes.fromhex(w["cmdline"]), pid
    assert vm.environ(pid) == bytes.fromhex(w["environ"]), pid
    for what in ("exe", "cwd", "root"):
        if w[what]:
            assert getattr(vm, what)(pid) == w[what], (pid, what)
        else:
            with pytest.raises(xenaccess.NotFound):
                getattr(vm, what)(pid)
    return got
