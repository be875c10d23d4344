"""32-bit x86 Linux guests (issue 18): Debian's 686 (2-level paging) and
686-pae (PAE) kernels, dumped by tests/guest/harness.py (make-dumps --arch
i386 / i386pae; scripts/test.sh makes them), read with no configuration.

Debian's i386 kernels have no BTF (CONFIG_DEBUG_INFO_BTF is off) and
kallsyms without data symbols (CONFIG_KALLSYMS_ALL is off): what the guest
itself holds is its text symbols, its page tables and its memory, and that
is what is compared here with the guest's own /proc/kallsyms, /proc/version
and registers. Processes and modules are found from memory
(test_i386_procs.py, test_i386_modules.py), and so are memory maps
(test_i386_maps.py).
"""
import json
import os
import time

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

KINDS = {"i386": "32-bit legacy", "i386pae": "PAE"}
PAGE_OFFSET = 0xC0000000


@pytest.fixture(scope="module", params=[(k, f) for k in sorted(KINDS)
                                        for f in ("raw.img", "core.elf")],
                ids=lambda p: "%s-%s" % (p[0], p[1].split(".")[1]))
def guest32(request):
    """One dump of a 32-bit guest: the raw image (no registers) or QEMU's
    ELF core of the same moment (registers, firmware ROM as a second range)."""
    kind, fname = request.param
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "truth.json")),
            f"no {kind} dump set in {DUMPS} (make it: python3 tests/guest/harness.py "
            f"make-dumps --arch {kind} --out {DUMPS}/{kind})")
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    return {"kind": kind, "dir": d, "truth": truth, "target": "file:" + os.path.join(d, fname)}


def info(target):
    [out] = json_lines(run_tool("xa-info", target, "--json").stdout)
    return out


def test_info_matches_guest(guest32):
    t = guest32["truth"]
    out = info(guest32["target"])
    assert out["os"] == "linux"
    assert out["release"] == t["kernel_release"]
    assert out["version"] == t["version"]  # /proc/version, build number and all
    assert out["paging"] == KINDS[guest32["kind"]]
    # the guest's CR4.PAE says which walker is right
    assert (out["paging"] == "PAE") == t["dump"]["pae"]
    assert int(out["text"], 16) == int(t["symbols"]["_text"], 16)
    assert int(out["page_offset"], 16) == PAGE_OFFSET
    assert out["symbols_from"].startswith("kallsyms in guest memory")


def test_kernel_root_is_swapper_pg_dir(guest32):
    """The root found maps no user address and is one the guest's CPUs use:
    an idle vCPU runs on swapper_pg_dir (the harness boots two; one at
    least idles at the dump)."""
    out = info(guest32["target"])
    cr3s = {int(c["CR3"], 16) for c in guest32["truth"]["dump"]["cpus"].values()}
    assert int(out["dtb"], 16) in cr3s, (out["dtb"], sorted(map(hex, cr3s)))


def test_elf_core_registers(guest32):
    """An i386 ELF core's QEMU notes give each vCPU's control registers
    (as the guest's `info registers` said); a raw image has none."""
    cpus = guest32["truth"]["dump"]["cpus"]
    with xenaccess.open(guest32["target"]) as vm:
        if guest32["target"].endswith("raw.img"):
            with pytest.raises(xenaccess.XenaccessError):
                vm.regs(0)
            return
        for i, c in cpus.items():
            r = vm.regs(int(i))
            # (QEMU's notes carry no EFER: its NXE bit is not known from them)
            assert (r["cr0"], r["cr3"], r["cr4"]) == \
                tuple(int(c[k], 16) for k in ("CR0", "CR3", "CR4")), i


def test_symbols_match_proc_kallsyms(guest32):
    """Every core-kernel line of the guest's /proc/kallsyms sample is in the
    symbol table found in memory, at the same address."""
    t = guest32["truth"]
    found = {}
    for s in json_lines(run_tool("xa-sym", guest32["target"], "--list", "--json").stdout):
        found.setdefault(s["symbol"], set()).add(int(s["address"], 16))
    sample = [k for k in t["kallsyms"] if "module" not in k]
    assert len(sample) > 300
    missing = [k for k in sample if int(k["addr"], 16) not in found.get(k["name"], ())]
    assert not missing, missing[:10]
    assert len(found) > 40000  # the whole table, not a few names


def test_kernel_memory_reads(guest32):
    """A kernel virtual address reads what the raw image holds at va -
    PAGE_OFFSET (through the page tables found, not by arithmetic): the
    kernel's first text page and a high page of low memory."""
    t = guest32["truth"]
    raw = os.path.join(guest32["dir"], "raw.img")
    text = int(t["symbols"]["_text"], 16)
    for va in (text, PAGE_OFFSET + (400 << 20) + 0x1230):
        with open(raw, "rb") as f:
            f.seek(va - PAGE_OFFSET)
            want = f.read(64)
        got = run_tool_bytes("xa-read", guest32["target"], "--va", hex(va), "--len", 64, "--raw")
        assert got == want, hex(va)


def test_user_address_is_not_mapped_in_kernel_root(guest32):
    """swapper_pg_dir maps nothing below PAGE_OFFSET: a user address read
    through it fails with a message, not zeros."""
    p = run_tool("xa-read", guest32["target"], "--va", "0x08048000", "--len", 16, check=False)
    assert p.returncode == 1 and p.stdout == "" and "xa-read" in p.stderr


def run_tool_bytes(name, *args):
    import subprocess
    from xatest import tool_path
    p = subprocess.run([tool_path(name), *map(str, args)], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


# ---- live: a 686-pae guest under qemu-system-i386 -------------------------

@pytest.fixture(scope="module")
def live32(tmp_path_factory):
    """A booted 686-pae guest with a QMP socket of our own (QEMU serves one
    client per socket; the harness keeps its own)."""
    import shutil
    require(shutil.which("qemu-system-i386") is not None,
            "qemu-system-i386 not installed (package qemu-system-x86)")
    from harness import Guest32  # tests/conftest.py puts tests/guest on sys.path
    sock = str(tmp_path_factory.mktemp("live32") / "xa.qmp")
    with Guest32("live32", arch="i386pae", nproc=20, mem_mb=384,
                 extra_qemu_args=["-qmp", "unix:%s,server=on,wait=off" % sock]) as g:
        yield {"guest": g, "target": "qemu:" + sock}


def test_live_pae_guest(live32):
    """Zero configuration on the running guest: its release, PAE paging,
    the symbols of its own /proc/kallsyms, and kernel text read through the
    page tables equal to the shared RAM at __pa()."""
    g, target = live32["guest"], live32["target"]
    out = info(target)
    assert out["live"] is True
    assert out["release"] == g.run("uname -r").strip()
    assert out["paging"] == "PAE"
    lines = g.run("awk '$2 ~ /^[Tt]$/ && $4 == \"\" && NR % 997 == 0' /proc/kallsyms")
    sample = [line.split() for line in lines.splitlines() if len(line.split()) == 3]
    assert len(sample) > 20
    found = {}
    for s in json_lines(run_tool("xa-sym", target, "--list", "--json").stdout):
        found.setdefault(s["symbol"], set()).add(int(s["address"], 16))
    missing = [s for s in sample if int(s[0], 16) not in found.get(s[2], ())]
    assert not missing, missing[:10]
    text = int(out["text"], 16)
    got = run_tool_bytes("xa-read", target, "--va", hex(text), "--len", 256, "--raw")
    with open(g.ram_path, "rb") as f:
        f.seek(text - PAGE_OFFSET)
        assert got == f.read(256)


def guest_ps(g):
    """pid -> (ppid, comm) from the guest's /proc/<pid>/stat."""
    out = {}
    for line in g.run("cat /proc/[0-9]*/stat 2>/dev/null").splitlines():
        head, _, rest = line.rpartition(")")
        pid, _, comm = head.partition(" (")
        fields = rest.split()
        if pid.strip().isdigit() and len(fields) > 2:
            out[int(pid)] = (int(fields[1]), comm)
    return out


def start_sleep(g):
    """A sleep started in the guest, once it runs: its pid."""
    pid = int(g.run("sleep 600 >/dev/null 2>&1 & echo $!").strip())
    deadline = time.monotonic() + 120
    while guest_ps(g).get(pid, (0, ""))[1] != "sleep":  # the shell's child execs sleep
        assert time.monotonic() < deadline, "sleep did not start"
        time.sleep(0.5)
    return pid


def test_live_pae_processes(live32):
    """Processes of the running guest with no configuration (the task
    layout inferred from its memory): every process the guest shows before
    and after the walk is listed with its parent and name, nothing listed is
    unknown to the guest, and a process's own memory is read by pid."""
    g, target = live32["guest"], live32["target"]
    pid = start_sleep(g)
    before = guest_ps(g)
    rows = [r for r in json_lines(run_tool("xa-ps", target, "--json").stdout)]
    after = guest_ps(g)
    assert all("partial" not in r for r in rows)
    got = {r["pid"]: (r["ppid"], r["comm"]) for r in rows}
    stable = {p: v for p, v in before.items() if after.get(p) == v}
    assert len(stable) > 20
    # /proc shows a kernel thread's full name and a worker's current work
    # ("kworker/0:0-events"); the task's comm is the first 15 bytes of it
    def same(ours, theirs):
        return ours is not None and ours[0] == theirs[0] and theirs[1].startswith(ours[1]) and (
            ours[1] == theirs[1] or len(ours[1]) == 15 or theirs[1][len(ours[1])] == "-")
    wrong = {p: (got.get(p), v) for p, v in stable.items() if not same(got.get(p), v)}
    assert not wrong
    assert set(got) - {0} <= set(before) | set(after)
    # the sleep's executable mapping starts with its ELF header
    start = g.run("head -1 /proc/%d/maps" % pid).split("-")[0]
    data = run_tool_bytes("xa-read", target, "--pid", pid, "--va", "0x" + start, "--len", 4, "--raw")
    assert data == b"\x7fELF"
    g.run("kill %d" % pid)


def check_modules(g, target):
    """xa-modules on the running guest: its /proc/modules, in its order,
    with sizes and addresses."""
    want = [line.split() for line in g.run("cat /proc/modules").splitlines() if line.strip()]
    assert len(want) >= 3
    rows = json_lines(run_tool("xa-modules", target, "--json").stdout)
    assert all("partial" not in r for r in rows)
    assert [(r["name"], r["size"], int(r["base"], 16)) for r in rows] == \
        [(w[0], int(w[1]), int(w[-1], 16)) for w in want]


def test_live_pae_modules(live32):
    """Modules of the running guest with no configuration (the list and
    struct module's layout found in its memory): the guest's /proc/modules,
    in its order, with sizes and addresses."""
    g, target = live32["guest"], live32["target"]
    check_modules(g, target)


def test_live_pae_kernel_log(live32):
    """The kernel log of the running guest with no configuration (the
    printk ring found by its shape, os/linux/kmsg32.c): every record its
    /dev/kmsg gives, a line the test writes there among them."""
    from net_truth import kmsg_records
    from views_compare import check_kmsg
    g, target = live32["guest"], live32["target"]
    marker = "xa-kmsg32-marker-%d" % time.monotonic_ns()
    g.run("echo %s > /dev/kmsg" % marker)
    want = kmsg_records(g.run("/xa/workload kmsg"))
    rows = json_lines(run_tool("xa-dmesg", target, "--json").stdout)
    check_kmsg(want, rows)
    assert any(r["text"] == marker for r in rows)


def test_live_pae_cmdlines_threads(live32):
    """Command lines and threads of the running guest with no configuration
    (their offsets inferred from its memory, os/linux/proc32.c): each
    process's /proc/PID/cmdline and /proc/PID/task as the guest shows them
    before and after the walk."""
    g, target = live32["guest"], live32["target"]
    script = ("for p in /proc/[0-9]*; do n=${p#/proc/}; "
              "echo \"$n $(od -An -tx1 -v $p/cmdline | tr -d ' \\n') $(ls $p/task | tr '\\n' ,)\"; "
              "done 2>/dev/null")

    def guest_view():
        out = {}
        for line in g.run(script).splitlines():
            f = line.split(" ")
            if len(f) == 3 and f[0].isdigit():
                out[int(f[0])] = (bytes.fromhex(f[1]), sorted(int(t) for t in f[2].split(",") if t))
        return out
    before = guest_view()
    rows = json_lines(run_tool("xa-ps", target, "--json").stdout)
    threads = {}
    for r in json_lines(run_tool("xa-ps", target, "--threads", "--json").stdout):
        threads.setdefault(r["pid"], []).append(r["tid"])
    after = guest_view()
    stable = {p: v for p, v in before.items() if after.get(p) == v}
    got = {r["pid"]: r["cmdline"] for r in rows}
    checked = 0
    for pid, (args, tids) in stable.items():
        if pid not in got:
            continue
        assert sorted(threads.get(pid, [])) == tids, pid
        if args.isascii():  # the tool shows other bytes escaped
            assert got[pid] == args.rstrip(b"\0").replace(b"\0", b" ").decode(), pid
            checked += bool(args)
    assert checked >= 20
    assert any(len(t) > 1 for t in threads.values())  # the workload's procview threads


def test_live_pae_creds_paths(live32):
    """Credentials and exe/cwd/root of the running guest with no
    configuration (os/linux/procview32.c), through the bindings: equal to
    /proc/PID/status and the links, for every process stable across the
    read; the workload's processes with their own ids, capabilities and a
    deep working directory among them."""
    g, target = live32["guest"], live32["target"]
    script = ("for p in /proc/[0-9]*; do n=${p#/proc/}; "
              "u=$(grep -E '^(Uid|Gid|CapEff):' $p/status | tr -s '\t ' ' ' | tr '\n' ' '); "
              "echo \"$n|$(readlink $p/exe)|$(readlink $p/cwd)|$(readlink $p/root)|$u\"; "
              "done 2>/dev/null")

    def guest_view():
        out = {}
        for line in g.run(script).splitlines():
            f = line.split("|")
            if len(f) == 5 and f[0].isdigit():
                out[int(f[0])] = tuple(f[1:])
        return out
    before = guest_view()
    got = {}
    with xenaccess.open(target) as vm:
        for p in vm.processes():
            try:
                c = vm.creds(p.pid)
                paths = []
                for what in ("exe", "cwd", "root"):
                    try:
                        paths.append(getattr(vm, what)(p.pid))
                    except xenaccess.NotFound:
                        paths.append("")
            except xenaccess.NotFound:
                continue  # exited meanwhile
            ids = "Uid: %d %d %d %d Gid: %d %d %d %d CapEff: %016x " % (
                c.uid, c.euid, c.suid, c.fsuid, c.gid, c.egid, c.sgid, c.fsgid, c.cap_effective)
            got[p.pid] = (*paths, ids)
    after = guest_view()
    stable = {p: v for p, v in before.items() if after.get(p) == v and p in got}
    assert len(stable) >= 20
    for pid, want in stable.items():
        assert got[pid] == want, pid
    # the workload's procview part: a deep cwd with a space, its own ids
    assert any(v[1].endswith("/dir with space/deeper") and "CapEff: 0000000000002020" in v[3]
               for v in stable.values())
    assert any("Uid: 1001 " in v[3] for v in stable.values())


def test_live_pae_mounts(live32):
    """Mounts of the running guest with no configuration (their offsets
    inferred from its memory, os/linux/mounts32.c): xa-mounts --pid 1 equals
    the guest's /proc/1/mountinfo, a tmpfs the test mounts among them."""
    from views_compare import check_mounts
    g, target = live32["guest"], live32["target"]
    g.run("mkdir -p /tmp/xa-m32 && mount -t tmpfs -o nosuid,size=64k xa-m32 /tmp/xa-m32")
    want = [line for line in g.run("cat /proc/1/mountinfo").splitlines() if line.strip()]
    rows = json_lines(run_tool("xa-mounts", target, "--pid", 1, "--json").stdout)
    g.run("umount /tmp/xa-m32")
    assert any(" /tmp/xa-m32 " in line for line in want), want
    check_mounts(rows, [line.strip().encode().hex() for line in want], "live pid 1")


# The maps and open-files checks of the live guest live with their dump
# tests; they run here, on this module's guest (one boot, not three).

def test_live_pae_maps(live32):
    from test_i386_maps import check_live_pae_maps
    check_live_pae_maps(live32)


def test_live_pae_open_files(live32):
    from test_i386_files import check_live_pae_open_files
    check_live_pae_open_files(live32)


def test_live_pae_sockets(live32):
    from test_i386_net import check_live_pae_sockets
    check_live_pae_sockets(live32)


def test_live_pae_table_checks(live32):
    from test_i386_check import check_live_pae_tables
    check_live_pae_tables(live32)

# ---- live: the kernel loaded high in physical memory ------------------------

@pytest.fixture(scope="module")
def live32_high(tmp_path_factory):
    """A 686-pae guest whose kernel physical KASLR had to place high: the
    first 300 MiB above 16 MiB are reserved (memmap=), so _text lies past
    0xd4000000 and image + 64 MiB reaches over the direct map into vmalloc,
    where modules live. KASLR put it there now and then in CI (the module
    list search took a module for the list head)."""
    import shutil
    require(shutil.which("qemu-system-i386") is not None,
            "qemu-system-i386 not installed (package qemu-system-x86)")
    from harness import Guest32

    class HighKernel(Guest32):
        def qemu_cmdline(self, kernel, initrd):
            args = super().qemu_cmdline(kernel, initrd)
            args[args.index("-append") + 1] += " memmap=300M$16M"
            return args

    sock = str(tmp_path_factory.mktemp("live32high") / "xa.qmp")
    with HighKernel("live32high", arch="i386pae", nproc=10, mem_mb=384,
                    extra_qemu_args=["-qmp", "unix:%s,server=on,wait=off" % sock]) as g:
        yield {"guest": g, "target": "qemu:" + sock}


def test_live_high_kernel_modules(live32_high):
    g, target = live32_high["guest"], live32_high["target"]
    text = int(g.run("awk '$3 == \"_text\" {print $1}' /proc/kallsyms").strip(), 16)
    assert text >= 0xd4000000, hex(text)  # else the scenario is not there
    assert int(info(target)["text"], 16) == text
    check_modules(g, target)


def test_live_high_kernel_views(live32_high):
    """The other searches bounded by the image's span (the task layout, the
    kernel log) hold with the kernel loaded high too."""
    g, target = live32_high["guest"], live32_high["target"]
    before = guest_ps(g)
    rows = json_lines(run_tool("xa-ps", target, "--json").stdout)
    after = guest_ps(g)  # the readers of /proc list themselves: only pids in both count
    got = {r["pid"] for r in rows}
    stable = {p for p, v in before.items() if after.get(p) == v}
    assert len(stable) > 20 and stable - got == set()
    marker = "xa-high-kernel-%d" % time.monotonic_ns()
    g.run("echo %s > /dev/kmsg" % marker)
    log = json_lines(run_tool("xa-dmesg", target, "--json").stdout)
    assert log[0]["text"].startswith("Linux version ") and any(r["text"] == marker for r in log)


def test_live_pae_check(live32):
    """xa-check's processes, modules and user checks on the running 686-pae
    guest (test_i386_check_views.py: the views on dumps): every check
    complete, nothing found."""
    p = run_tool("xa-check", live32["target"], "--json", "--check", "processes", "--check",
                 "modules", "--check", "user", check=False)
    rows = json_lines(p.stdout)
    assert p.returncode == 0 and [r for r in rows if "technique" in r] == [], (rows, p.stderr)
    summary = [r for r in rows if "complete" in r]
    assert [r["check"] for r in summary] == ["processes", "modules", "user"]
    assert all(r["complete"] for r in summary), summary
