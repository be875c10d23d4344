"""libvirt: targets on real libvirt domains (a private libvirtd, TCG guests from
tests/guest/harness.py), one with <source type='file'/>, one with memfd.

What the tools see is compared with what the guest says about itself
(/proc through ttyS1) and with what libvirt/QEMU say (virsh, HMP)."""

import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from lvcommon import build_dir, domain_xml, tool  # noqa: E402
from xatest import (copy_for_anyone, json_lines, libvirt_preload, run_tool,  # noqa: E402
                    skip_or_fail, tool_env)

XA_ENOENT, XA_EACCES, XA_ENOTSUP, XA_EGONE = -2, -13, -95, -1007
XML_FIX = "<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>"


def helper_env(lib=None):
    """Environment for lv_pause.py: our library, the ASan runtime if it needs one
    (and libtirpc: xatest.libvirt_preload)."""
    lib = lib or os.path.join(build_dir(), "libxenaccess.so")
    env = dict(os.environ, XA_LIBRARY=lib, HOME="/tmp")
    env.setdefault("XA_BACKEND_DIR", os.path.join(build_dir(), "backends"))
    preload = libvirt_preload(lib)
    if preload:
        env["LD_PRELOAD"] = preload
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def helper(*args, user=None, timeout=120):
    if not user:
        cmd = [sys.executable, os.path.join(HERE, "lv_pause.py")] + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, env=helper_env(), cwd="/")
    # Another user may not reach the checkout: run copies of the helper, the
    # bindings and the library.
    pkg = os.path.join(ROOT, "python", "xenaccess")
    files = {"tests/libvirt/lv_pause.py": os.path.join(HERE, "lv_pause.py"),
             "libxenaccess.so.0": os.path.join(build_dir(), "libxenaccess.so.0"),
             "backends/backend-libvirt.so": os.path.join(build_dir(), "backends",
                                                         "backend-libvirt.so")}
    for f in os.listdir(pkg):
        if f.endswith(".py"):
            files["python/xenaccess/" + f] = os.path.join(pkg, f)
    public = copy_for_anyone(files)
    try:
        env = helper_env(os.path.join(public, "libxenaccess.so.0"))
        env["XA_BACKEND_DIR"] = os.path.join(public, "backends")
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups",
               sys.executable, os.path.join(public, "tests/libvirt/lv_pause.py")] + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, env=env, cwd="/")
    finally:
        shutil.rmtree(public, ignore_errors=True)


def open_result(target, **kw):
    out = helper("--open", target, **kw).stdout
    for line in out.splitlines():
        if line.startswith("open ok "):
            return 0, line[8:]
        if line.startswith("open_error "):
            _, code, msg = line.split(" ", 2)
            return int(code), msg
    raise AssertionError("lv_pause.py --open printed no result: %s" % out)


# ------------------------------------------------------------ on a domain ---

def test_info_says_which_ram_path(domain):
    info = json.loads(run_tool("xa-info", domain.target, "--json").stdout)
    pid = domain.qemu_pid()
    assert info["backend"] == "libvirt"
    if domain.backing == "file":
        # the file libvirt made under memory_backing_dir, mapped by name
        want = "shared RAM file %s/libvirt/qemu/" % domain.daemon.shm
        ram_file = info["access"].split("shared RAM file ", 1)[1].split(";")[0]
        assert os.path.getsize(ram_file) == domain.mem_mb << 20
    else:
        want = "shared RAM /proc/%d/map_files (pc.ram)" % pid
    assert info["access"].startswith(want), info["access"]
    assert "QMP via libvirt " + domain.daemon.uri in info["access"]
    assert info["vcpus"] == domain.smp and info["live"] is True
    assert info["release"] == domain.truth["kernel_release"]
    assert info["version"] == domain.truth["version"]
    assert info["memory_bytes"] <= domain.mem_mb << 20
    assert info["memory_bytes"] >= (domain.mem_mb - 1) << 20


def test_xa_ps_matches_guest_ps(domain):
    out = run_tool("xa-ps", domain.target, "--json").stdout
    ours = {}
    for line in out.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("{"):
            o = json.loads(line)
            ours[o["pid"]] = o
    truth = {p["pid"]: p for p in domain.refresh_procs()}
    assert len(truth) >= 40, "the workload did not start"
    missing = set(truth) - set(ours)
    extra = set(ours) - set(truth) - {0}
    # only the short-lived helpers of g.run() may differ
    assert len(missing) <= 3 and len(extra) <= 3, (missing, extra)
    for pid in set(truth) & set(ours):
        t, o = truth[pid], ours[pid]
        assert t["kcomm"] == o["comm"], (pid, t, o)
        assert t["ppid"] == o["ppid"] and t["uid"] == o["uid"], (pid, t, o)


def test_procview_matches_guest(domain):
    """Command lines, start times and threads on a libvirt: target equal what
    the guest's /proc said at boot (its truth's procview section)."""
    pv = domain.truth["procview"]
    assert len(pv["procs"]) >= 4, "the guest printed no process views"
    for key, w in pv["procs"].items():
        got = json_lines(run_tool("xa-ps", domain.target, "--json", "--pid", key).stdout)
        assert len(got) == 1 and got[0]["pid"] == int(key)
        raw = bytes.fromhex(w["cmdline"]).rstrip(b"\0").replace(b"\0", b" ")
        assert got[0]["cmdline"] == raw.decode("utf-8", "replace"), key
        assert got[0]["start_boot_ns"] // 10**7 == w["start_ticks"], key
        threads = json_lines(run_tool("xa-ps", domain.target, "--json", "--threads",
                                      "--pid", key).stdout)
        assert sorted((t["tid"], t["comm"]) for t in threads) == \
            [(t["tid"], t["comm"]) for t in w["threads"]], key


def _live_checks():
    """The qemu: live checks of tests/tools, run here on a libvirt: target
    (xatest.run_tool preloads what such a target needs)."""
    sys.path.insert(0, os.path.join(HERE, "..", "tools"))
    import test_tools_live
    import test_tools_net_live
    return test_tools_live, test_tools_net_live


def test_sockets_match_guest(domain):
    """xa-net on a libvirt: target against the guest's /proc/net at the same
    moment (issue 14: every target type)."""
    _live_checks()[1].test_net_matches_guest((domain, domain.target))


def test_kernel_log_matches_guest(domain):
    _live_checks()[1].test_dmesg_matches_guest((domain, domain.target))


def test_files_and_mounts_match_guest(domain):
    _live_checks()[0].test_files_and_mounts_live((domain, domain.target))


def test_conformance(domain):
    # the backend conformance cases (tests/conformance), with this guest's facts
    sys.path.insert(0, os.path.join(HERE, "..", "conformance"))
    import conformance_facts as cf
    cf.run_libvirt(domain, os.path.join(build_dir(), "tests", "conformance", "conformance"),
                   env=tool_env(domain.target))


def test_watch_sees_start_and_exit(domain):
    import queue
    import threading
    p = subprocess.Popen([tool("xa-ps"), domain.target, "--watch", "0.5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                         env=tool_env(domain.target))
    lines = queue.Queue()

    def reader():
        for line in p.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    try:
        # the first list is written in one go (one flush): once its first
        # line is here, the list is out; then only events come
        first = lines.get(timeout=180)
        assert first is not None, "xa-ps --watch ended: %s" % p.stderr.read()
        child = int(domain.run("sleep 4242 >/dev/null 2>&1 </dev/null & echo $!").split()[-1])
        seen = [first]
        got_start = got_exit = False
        deadline = time.time() + 60
        while time.time() < deadline and not got_exit:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            f = line.split()
            if len(f) >= 5 and f[1] == str(child) and f[-1] == "sleep":
                if f[0] == "START":
                    got_start = True
                    domain.run("kill %d" % child)
                elif f[0] == "EXIT":
                    got_exit = True
        assert got_start and got_exit, (child, seen[-10:])
        listed = [l for l in seen if l.split()[:1] not in (["START"], ["EXIT"])]
        assert len(listed) > 40, listed
    finally:
        p.terminate()
        p.wait(timeout=30)


def test_pause_registers_resume(domain):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "lv_pause.py"), domain.target],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1, env=helper_env())

    def step(until):
        p.stdin.write("\n")
        p.stdin.flush()
        lines = []
        for line in p.stdout:
            lines.append(line.rstrip())
            if line.strip() == until:
                return lines
        raise AssertionError("lv_pause.py ended: %s" % lines)

    try:
        lines = step("regs-end")
        assert "paused" in lines, lines
        assert domain.state() == "paused"  # libvirt's own view
        truth = {}
        import harness
        truth = harness.parse_regs(domain.hmp("info registers -a"))
        regs = [l.split() for l in lines if l.startswith("regs ")]
        assert len(regs) == domain.smp, lines
        for _, cpu, rip, cr3, cr4, efer in regs:
            want = truth[int(cpu)]
            assert (int(rip, 16), int(cr3, 16), int(cr4, 16), int(efer, 16)) == \
                (want["RIP"], want["CR3"], want["CR4"], want["EFER"]), (cpu, want)
        step("resumed")
        assert domain.state() == "running"
        # paused by someone else: our pause/resume must leave it paused
        domain.daemon.virsh("suspend", domain.domain)
        step("done")
        assert domain.state() == "paused"
    finally:
        domain.daemon.virsh("resume", domain.domain, check=False)
        p.stdin.close()
        p.wait(timeout=60)
    assert p.returncode == 0


def test_ram_without_a_visible_qemu(domain):
    """In a pid namespace of its own the monitor cannot see QEMU (as on a
    remote host): a RAM file still works by its name; memfd RAM cannot be
    reached, and the error names the XML setting that fixes it."""
    p = subprocess.run(["unshare", "-p", "-f", "--mount-proc", sys.executable,
                        os.path.join(HERE, "lv_pause.py"), "--open", domain.target],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
                       env=helper_env())
    if "unshare failed" in p.stdout:
        skip_or_fail("no pid namespaces here: %s" % p.stdout.strip())
    line = [l for l in p.stdout.splitlines() if l.startswith("open")]
    assert line, p.stdout
    if domain.backing == "file":
        assert line[0].startswith("open ok shared RAM file "), line
    else:
        code, msg = line[0].split(" ", 2)[1:]
        assert int(code) == XA_ENOTSUP, line
        assert XML_FIX in msg and "no local QEMU process" in msg, msg


def test_permission_denied(domain):
    nobody = 65534
    # the read-write socket is root's (0700)
    code, msg = open_result(domain.target, user=nobody)
    assert code == XA_EACCES and "Permission denied" in msg, (code, msg)
    # the read-only socket lets anyone in, but not to the monitor
    ro = "libvirt:%s?uri=%s" % (domain.domain, domain.daemon.ro_uri)
    code, msg = open_result(ro, user=nobody)
    assert code == XA_EACCES and "read only" in msg, (code, msg)


def test_domain_destroyed_while_attached(domain):
    """Last test on each domain: it ends it. Monitor calls then fail with
    XA_EGONE; a mapped RAM file stays readable (its last state), memfd RAM
    mapped through /proc/PID/map_files too (the mapping keeps it)."""
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "lv_pause.py"), "--until-gone",
                          domain.target], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1, env=helper_env())
    try:
        assert p.stdout.readline().strip() == "ready"
        assert p.stdout.readline().strip() == "reading"  # destroyed while it reads
        domain.daemon.virsh("destroy", domain.domain)
        out = p.communicate(timeout=150)[0]
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, out
    gone = [l for l in out.splitlines() if l.startswith("gone ")]
    assert gone and int(gone[0].split()[1]) == XA_EGONE, out
    assert "no longer running" in gone[0] or "went away" in gone[0], out
    assert "read_after 0" in out, out


# --------------------------------------------------------------- errors ---

def test_no_such_domain(libvirtd):
    code, msg = open_result("libvirt:xa-nosuch?uri=" + libvirtd.uri)
    assert code == XA_ENOENT, (code, msg)
    assert "xa-nosuch: no such domain" in msg, msg
    p = run_tool("xa-ps", "libvirt:xa-nosuch?uri=" + libvirtd.uri, check=False)
    assert p.returncode == 1 and "no such domain" in p.stderr, p.stderr


def test_domain_not_running(libvirtd, tmp_path):
    xml = domain_xml("xa-stopped", "file", "/nonexistent/vmlinuz", "/nonexistent/initrd", "",
                     128, 1, str(tmp_path / "c.log"), str(tmp_path / "s.sock"))
    (tmp_path / "d.xml").write_text(xml)
    libvirtd.virsh("define", str(tmp_path / "d.xml"))
    try:
        code, msg = open_result("libvirt:xa-stopped?uri=" + libvirtd.uri)
    finally:
        libvirtd.virsh("undefine", "xa-stopped", check=False)
    assert code == XA_EGONE, (code, msg)
    assert "not running (shut off" in msg and "start xa-stopped" in msg, msg


def test_no_libvirtd(tmp_path):
    uri = "qemu:///system?socket=%s/none-sock" % tmp_path
    p = subprocess.run([tool("xa-info"), "libvirt:x?uri=" + uri], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, env=tool_env("libvirt:"))
    if "not built" in p.stderr:
        skip_or_fail("this build has no libvirt backend")
    assert p.returncode == 1 and "is libvirtd running?" in p.stderr, p.stderr


def test_bad_specs():
    for spec, want in (("libvirt:", None), ("libvirt:?uri=test:///default", "no domain name"),
                       ("libvirt:x?uri=", "URI")):
        p = subprocess.run([tool("xa-info"), spec], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60, env=tool_env(spec))
        if "not built" in p.stderr:
            skip_or_fail("this build has no libvirt backend")
        assert p.returncode in (1, 2), (spec, p.stderr)
        if want:
            assert want in p.stderr, (spec, p.stderr)


