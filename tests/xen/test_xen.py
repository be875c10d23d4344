"""The Xen backend against a real Xen 4.17 booted inside QEMU (TCG).

One boot (module fixture; tests/conftest.py starts it early, beside the
tests before this one: docs/xen.md): dom0 starts a PV and a PVH domU running
tests/guest's workload, runs the xa-* tools on xen:NAME targets, and prints
the results on the serial log (tests/xen/dom0-run.sh); each domU printed its
own view (ps, modules, symbols, markers, maps, open files, mounts, sockets,
kernel log) on its console first. Here both are compared. QEMU exits 0 even
when Xen panics, so everything is judged from what dom0 printed.

Skipped (with the reason) when not root, without qemu-system-x86_64 or
libxen-dev, or with XA_XEN_TESTS=0. About 3-4 minutes.
"""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import xenbed  # noqa: E402
import views_compare as vc  # noqa: E402
from harness import parse_files  # noqa: E402
from net_truth import kmsg_records, sections  # noqa: E402
from xatest import skip_or_fail  # noqa: E402

KINDS = xenbed.KINDS


@pytest.fixture(scope="module")
def bed():
    reason = xenbed.skip_reason()
    if reason:
        skip_or_fail("Xen test bed: " + reason)
    try:
        # started beside the earlier tests by tests/conftest.py, or run now
        res, logfile = xenbed.take_early() or xenbed.run_bed()
    except xenbed.BedError as e:
        skip_or_fail("Xen test bed cannot be built here: %s" % e)
    markers = dict(res["markers"])
    assert "XA-DOM0-UP" in markers, "dom0 never started; see %s" % logfile
    assert "XA-TOOLSTACK-UP" in markers, "toolstack did not start; see %s" % logfile
    assert "XA-DOM0-DONE" in markers, "dom0 did not finish its run; see %s" % logfile
    res["log"] = logfile
    return res


def blob(bed, name):
    b = bed["blobs"].get(name)
    assert b is not None, "no result '%s' on the serial log (%s)" % (name, bed["log"])
    assert b["error"] is None, "result '%s' damaged on the serial line: %s" % (name, b["error"])
    return b


def ok_json(bed, name):
    b = blob(bed, name)
    assert b["rc"] == 0, "%s exited %d: %s" % (name, b["rc"], b["text"][-800:])
    return [json.loads(line) for line in b["text"].splitlines() if line.startswith("{")]


def truth(bed, dom):
    b = blob(bed, "create-" + dom)
    assert b["rc"] == 0, "xl create %s failed: %s" % (dom, b["text"])
    t = xenbed.domu_truth(blob(bed, "console-" + dom)["text"])
    assert t is not None, "%s printed no truth on its console" % dom
    return t


def kworker(comm):
    return comm.startswith("kworker/")


@pytest.mark.parametrize("dom", KINDS)
def test_ps_matches_domu(bed, dom):
    t = truth(bed, dom)
    got = {p["pid"]: p for p in ok_json(bed, dom + ".ps")}
    want = {p["pid"]: p for p in t["procs"]}
    assert len(want) > 80, "the domU's workload did not come up"
    # Kernel workers come and go between the domU's ps and ours; nothing else may.
    only_want = {p for p in set(want) - set(got) if not kworker(want[p]["comm"])}
    only_got = {p for p in set(got) - set(want) - {0} if not kworker(got[p]["comm"])}
    assert not only_want, "missed by xa-ps: %s" % sorted(only_want)
    assert not only_got, "not in the domU: %s" % sorted(only_got)
    for pid, w in want.items():
        if pid not in got:
            continue
        g = got[pid]
        assert (g["ppid"], g["comm"], g["uid"], g["gid"]) == \
               (w["ppid"], w["kcomm"], w["uid"], w["gid"]), pid
    assert len({p["uid"] for p in got.values()}) >= 5
    user = [g for g in got.values() if not g["kthread"]]
    assert len({g["dtb"] for g in user}) == len(user), "processes share page tables"


@pytest.mark.parametrize("dom", KINDS)
def test_procview_matches_domu(bed, dom):
    """Command lines, start times and threads on a xen: target equal what
    the domU's /proc said (its truth's procview section)."""
    pv = truth(bed, dom)["procview"]
    assert len(pv["procs"]) >= 3, "the domU printed no process views"
    ps = {p["pid"]: p for p in ok_json(bed, dom + ".ps")}
    threads = ok_json(bed, dom + ".threads")
    for key, w in pv["procs"].items():
        g = ps.get(int(key))
        assert g is not None, "pid %s missing" % key
        raw = bytes.fromhex(w["cmdline"]).rstrip(b"\0").replace(b"\0", b" ")
        assert g["cmdline"] == raw.decode("utf-8", "replace"), key
        assert g["start_boot_ns"] // 10**7 == w["start_ticks"], key
        got = sorted((t["tid"], t["comm"]) for t in threads if t["pid"] == int(key))
        assert got == [(t["tid"], t["comm"]) for t in w["threads"]], key
    assert max(len(w["threads"]) for w in pv["procs"].values()) > 1, "no multi-threaded process"


def domu_views(bed, dom):
    """The domU's own files, mountinfo, sockets, network namespace and kernel
    log (truth.sh xa_truth_files, xa_truth_net, xa_truth_netns; domu-init.sh):
    (harness.parse_files dict, net_truth.sections dict)."""
    truth(bed, dom)
    text = xenbed.domu_truth_text(blob(bed, "console-" + dom)["text"])
    files, sec = parse_files(text), sections(text)
    assert files["fds"] and len(files["mountinfo"]) == 2, "%s printed no files truth" % dom
    assert "net_tcp" in sec and "kmsg" in sec, "%s printed no net truth" % dom
    return files, sec


@pytest.mark.parametrize("dom", KINDS)
def test_files_match_domu(bed, dom):
    """xa-files on a xen: target: every fd of every process equals what the
    domU's /proc said (link, inode, position, flags, device, mode)."""
    files, _ = domu_views(bed, dom)
    t = {"files": files}
    # the programs that printed the truth are gone: compare the processes
    # xa-ps saw in the same run (test_ps_matches_domu holds those to the truth)
    pids = {p["pid"] for p in ok_json(bed, dom + ".ps")} & {f["pid"] for f in files["fds"]}
    assert 1 in pids and len(pids) > 40, sorted(pids)
    rows = ok_json(bed, dom + ".files")
    assert not any(r.get("partial") for r in rows)
    vc.check_files(t, rows, pids, vc.files_truth(t, pids))
    vc.check_workload_files(rows, vc.files_pid(t))


@pytest.mark.parametrize("dom", KINDS)
def test_mounts_match_domu(bed, dom):
    """xa-mounts --pid of the workload's process with a mount namespace of
    its own equals its /proc/PID/mountinfo in the domU."""
    files, _ = domu_views(bed, dom)
    fp = vc.files_pid({"files": files})
    rows = ok_json(bed, dom + ".mounts")
    vc.check_mounts(rows, files["mountinfo"][str(fp)], fp)
    assert any(m["mount_point"] == "/tmp/xa-files/ns" for m in rows)


@pytest.mark.parametrize("dom", KINDS)
def test_sockets_match_domu(bed, dom):
    """xa-net on a xen: target equals the domU's /proc/net/* and its
    socket fds."""
    _, sec = domu_views(bed, dom)
    vc.check_sockets(sec, ok_json(bed, dom + ".net"))


@pytest.mark.parametrize("dom", KINDS)
def test_kernel_log_matches_domu(bed, dom):
    """xa-dmesg on a xen: target holds every record the domU's /dev/kmsg gave."""
    _, sec = domu_views(bed, dom)
    vc.check_kmsg(kmsg_records(sec["kmsg"]), ok_json(bed, dom + ".dmesg"))


@pytest.mark.parametrize("dom", KINDS)
def test_ps_by_domain_id(bed, dom):
    by_name = {p["pid"] for p in ok_json(bed, dom + ".ps")}
    by_id = {p["pid"] for p in ok_json(bed, dom + ".ps-byid")}
    assert len(by_id ^ by_name) <= 4  # a kworker or two may change in between


@pytest.mark.parametrize("dom", KINDS)
def test_info(bed, dom):
    t = truth(bed, dom)
    info = ok_json(bed, dom + ".info")[0]
    assert info["version"] == t["version"].strip()
    assert info["release"] == t["kernel_release"]
    assert info["paging"] == "IA-32e 4-level"
    assert int(info["text"], 16) == int(t["symbols"]["_text"], 16)


@pytest.mark.parametrize("dom", KINDS)
def test_symbol_and_banner(bed, dom):
    t = truth(bed, dom)
    sym = ok_json(bed, dom + ".sym-banner")[0]
    assert int(sym["address"], 16) == int(t["symbols"]["linux_banner"], 16)
    b = blob(bed, dom + ".read-banner")
    assert b["rc"] == 0
    assert t["version"].startswith(b["text"].split("\0")[0][:60])


@pytest.mark.parametrize("dom", KINDS)
def test_user_memory_markers(bed, dom):
    t = truth(bed, dom)
    assert len(t["markers"]) >= 3
    for i, m in enumerate(t["markers"]):
        b = blob(bed, "%s.marker%d" % (dom, i))
        assert b["rc"] == 0, b["text"]
        assert b["text"] == m["str"], m["kind"]


@pytest.mark.parametrize("dom", KINDS)
def test_modules(bed, dom):
    t = truth(bed, dom)
    got = {m["name"]: m for m in ok_json(bed, dom + ".modules")}
    want = {m["name"]: m for m in t["modules"]}
    assert want and set(got) == set(want)
    for name, w in want.items():
        assert got[name]["refcount"] == w["refcount"], name
        assert int(got[name]["base"], 16) == int(w["addr"], 16), name


@pytest.mark.parametrize("dom", KINDS)
def test_maps(bed, dom):
    t = truth(bed, dom)
    got = ok_json(bed, dom + ".maps")
    want = t["maps"]["regions"]
    assert want
    assert [(int(g["start"], 16), int(g["end"], 16), g["perms"], g["path"]) for g in got] == \
           [(int(w["start"], 16), int(w["end"], 16), w["perms"], w["path"]) for w in want]


@pytest.mark.parametrize("dom", KINDS)
def test_backend_facts_registers_pause(bed, dom):
    lines = ok_json(bed, dom + ".check")
    facts = next(x["facts"] for x in lines if "facts" in x)
    assert facts["backend"] == "xen"
    assert ("(PV," in facts["method"]) == (dom == "xa-pv"), facts["method"]
    mib = facts["memsize"] >> 20
    assert xenbed.DOMU_MEM_MB - 16 <= mib <= xenbed.DOMU_MEM_MB + 16, facts
    assert facts["vcpus"] == 1
    regs = facts["regs0"]
    # The kernel runs in the upper half; paging is on; CR3 is a guest-physical
    # page (for PV: the mfn was turned into a pfn) inside guest RAM.
    assert int(regs["cr0"], 16) & 0x80000001 == 0x80000001
    assert int(regs["efer"], 16) & 0x500 == 0x500  # LME | LMA
    cr3 = int(regs["cr3"], 16) & ~0xfff
    assert 0 < cr3 < facts["memsize"] + (1 << 30)
    assert int(regs["gs_base"], 16) >= 0xffff800000000000 or \
        int(regs["kernel_gs_base"], 16) >= 0xffff800000000000
    p = next(x["pause"] for x in lines if "pause" in x)
    assert p["pause_rc"] == 0 and p["resume_rc"] == 0 and p["regs_rc"] == [0, 0]
    assert p["rip"][0] == p["rip"][1] and p["rsp"][0] == p["rsp"][1], "vCPU moved while paused"
    state = blob(bed, "state-" + dom)["text"].splitlines()[-1].split()
    assert state[0] == dom and "p" not in state[4], "left paused: %s" % state


@pytest.mark.parametrize("dom", KINDS)
def test_conformance(bed, dom):
    """The backend conformance cases (tests/conformance), run in dom0."""
    b = blob(bed, dom + ".conformance")
    assert b["rc"] == 0, "conformance on %s failed: %s" % (dom, b["text"][-1500:])
    passed = [line.split()[1] for line in b["text"].splitlines() if line.startswith("ok ")]
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "conformance"))
    import conformance_facts
    assert passed == conformance_facts.CASES, b["text"]


@pytest.mark.parametrize("dom", KINDS)
def test_dump_through_backend_matches(bed, dom):
    """A raw image read through the backend (guest paused) is a dump of the
    same guest: xa-ps on it lists the same processes."""
    live = {p["pid"]: (p["ppid"], p["comm"]) for p in ok_json(bed, dom + ".ps")}
    dump = {p["pid"]: (p["ppid"], p["comm"]) for p in ok_json(bed, dom + ".dump-ps")}
    common = set(live) & set(dump)
    assert len(common) >= len(live) - 4
    assert all(live[p] == dump[p] for p in common)


def test_bench_figures(bed):
    """The paper's figures on Xen next to a dump of the same guest; saved to
    $XA_CACHE/xen/bench.json (docs/xen.md quotes a run)."""
    table = {}
    for dom in KINDS:
        for src in ("check", "dump-check"):
            names = set()
            for x in ok_json(bed, "%s.%s" % (dom, src)):
                if "bench" in x:
                    assert x["failures"] == 0, (dom, src, x)
                    table.setdefault(x["bench"], {})["%s %s" % (dom, src)] = x["ns"]
                    names.add(x["bench"])
            assert {"kernel symbol miss", "kernel virtual address hit",
                    "user virtual address miss", "user virtual address hit",
                    "read 4000 bytes of a mapped page"} <= names, (dom, src, names)
    with open(os.path.join(xenbed.CACHE, "bench.json"), "w") as f:
        json.dump(table, f, indent=1)
    for name, row in table.items():
        print("%-40s %s" % (name, "  ".join("%s=%dns" % kv for kv in sorted(row.items()))))


def one_line_error(b):
    assert b["rc"] != 0
    lines = [line for line in b["text"].strip().splitlines() if line]
    assert len(lines) == 1, b["text"]
    return lines[0]


def test_signals_reported(bed):
    """A tool killed by a signal was run again (dom0-run.sh run()); say so."""
    text = blob(bed, "signals")["text"].strip()
    if text:
        print("tools killed by a signal in dom0 and run again:\n" + text)
    # the same tool twice in a row would be ours, not the emulator's
    names = [l.split()[0] for l in text.splitlines() if " rc=" in l]
    assert len(names) <= 2, "more than two tools killed by signals:\n" + text


def test_unknown_domain(bed):
    msg = one_line_error(blob(bed, "bad-domain"))
    assert "no-such-domain" in msg and "no such domain" in msg
    assert "xa-pv" in msg and "xa-pvh" in msg  # lists the domains there are


def test_dom0_refused(bed):
    msg = one_line_error(blob(bed, "dom0"))
    assert "domain 0" in msg
