"""An attacker's mutants of the real l4 dump, every tool of the mutant's
area run on each, in text and in --json.

The held-out, whole-tool view of the hostile-input contract (the fuzz
targets feed one parser each on synthetic input): a copy of the l4 raw dump
is rewritten the way a compromised kernel could rewrite its own memory (a
task list that cycles back a few nodes, a next pointer that is not
canonical, a comm with control bytes and no NUL, a module list whose back
link lies, a module name with no NUL, a process page table that maps itself,
the kernel's direct map pointed past RAM, printk text with escapes), and
each tool must:

- end within its timeout, with no signal and no sanitizer report;
- exit 0, 1 with a one-line error, or 3 with its reason on stderr
  (xa-check: 4 is "something found");
- print no control byte but newline and tab, and only valid UTF-8;
- in --json, print lines that json.loads (strictly: no raw control bytes).

Addresses come from the tools' own JSON and tests/hostile/hostile_helper.c
(offsets, kernel virtual -> physical) on the clean copy. Each mutant is
undone before the next. About 30 s under ASan + UBSan.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from xatest import DumpImage, dump_set, helper_path, tool_path

TIMEOUT = 60
# ESC sequence, quote, backslash, invalid UTF-8, BEL, CR, C1 CSI, a lone lead byte
HOSTILE = b"\x1b[31m\"\\\xff\x07\r\x9b\xc3"


def sanitizer_env():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"
    return env


def contract(name, args, p):
    """The hostile-input contract on one finished run (stdout in bytes)."""
    where = f"{name} {' '.join(map(str, args[1:]))}"
    err = p.stderr.decode(errors="replace")
    assert "Sanitizer" not in err and "runtime error" not in err, f"{where}:\n{err[-3000:]}"
    allowed = (0, 1, 3, 4) if name == "xa-check" else (0, 1, 3)
    assert p.returncode in allowed, f"{where}: exit {p.returncode}\n{err[-2000:]}"
    lines = [line for line in err.splitlines() if line.strip()]
    if p.returncode == 1:
        assert len(lines) == 1, f"{where}: an error of {len(lines)} lines:\n{err[:2000]}"
    if p.returncode == 3:
        assert lines, f"{where}: a partial result without its reason"
    for line in lines:
        assert not any(ord(c) < 0x20 and c != "\t" for c in line), f"{where}: {line!r}"
    if "--raw" in args:
        return  # the guest's bytes as they are, on purpose
    ctl = [b for b in p.stdout if (b < 0x20 and b not in b"\n\t") or b == 0x7f]
    assert not ctl, f"{where}: control byte {ctl[0]:#x} in stdout"
    text = p.stdout.decode("utf-8")  # raises on invalid UTF-8
    assert not any(0x80 <= ord(c) <= 0x9f for c in text), f"{where}: C1 control in stdout"
    if "--json" in args:
        for line in text.splitlines():
            if line.strip():
                json.loads(line)


def run(name, *args):
    args = [str(a) for a in args]
    try:
        p = subprocess.run([tool_path(name), *args], capture_output=True, timeout=TIMEOUT,
                           env=sanitizer_env())
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} {' '.join(args)} did not end within {TIMEOUT} s")
    contract(name, args, p)
    return p


class Dump(DumpImage):
    """A writable copy of the l4 raw dump (file offset = physical address)."""

    def __init__(self, path):
        super().__init__(path, helper_path())

    def json(self, name, *args):
        p = run(name, self.target, *args, "--json")
        assert p.returncode == 0, p.stderr
        return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dump(dumps):
    src = os.path.join(dump_set(dumps, "l4")["dir"], "raw.img")
    tmp = tempfile.mkdtemp(prefix="xa-attack-", dir="/var/tmp")
    try:
        path = os.path.join(tmp, "raw.img")
        shutil.copyfile(src, path)
        d = Dump(path)
        procs = [p for p in d.json("xa-ps") if "pid" in p]
        users = [p for p in procs if not p["kthread"] and p["pid"] > 1]
        d.procs, d.victim = procs, users[len(users) // 2]
        d.vi = procs.index(d.victim)
        d.mods = [m for m in d.json("xa-modules") if "name" in m]
        assert len(procs) > 100 and len(d.mods) > 6
        yield d
        d.f.close()
    finally:
        shutil.rmtree(tmp)


def every(d, tools):
    """Each tool in text and in --json."""
    pid = d.victim["pid"]
    argsets = {"xa-ps": [[], ["--tree"]], "xa-maps": [["--pid", pid]],
               "xa-files": [["--pid", pid]], "xa-read": [["--pid", pid, "--va", 0x400000,
                                                          "--len", 64]],
               "xa-sym": [["init_task"], ["--list"]]}
    for name in tools:
        for extra in argsets.get(name, [[]]):
            for js in ([], ["--json"]):
                run(name, d.target, *extra, *js)


def task(d, i):
    return int(d.procs[i]["task"], 16)


def u64(v):
    return struct.pack("<Q", v)


def test_task_list_cycles_back(dump):
    """A task's tasks.next points three nodes back: the walks stop; xa-net,
    whose fd walk then found no socket owner, sorted a NULL array (UBSan)."""
    d, toff = dump, dump.q("off:task_struct.tasks")
    at = d.q(f"pa:{task(d, d.vi) + toff:#x}")
    with d.patched({at: u64(task(d, d.vi - 3) + toff)}):
        every(d, ["xa-ps", "xa-net", "xa-files", "xa-check", "xa-mounts"])


def test_task_next_not_canonical(dump):
    d, toff = dump, dump.q("off:task_struct.tasks")
    at = d.q(f"pa:{task(d, d.vi) + toff:#x}")
    with d.patched({at: u64(0x8000000000001000)}):
        every(d, ["xa-ps", "xa-check", "xa-net"])


def test_comm_with_control_bytes_and_no_nul(dump):
    d = dump
    at = d.q(f"pa:{task(d, d.vi) + d.q('off:task_struct.comm'):#x}")
    with d.patched({at: (HOSTILE + b"\n\t\x01\x1b")[:16]}):
        every(d, ["xa-ps", "xa-files", "xa-net", "xa-check"])


def module_list(d):
    ms = [int(m["module"], 16) for m in d.mods]
    return ms, d.q("off:module.list")


def test_module_back_link_lies(dump):
    d = dump
    ms, loff = module_list(d)
    at = d.q(f"pa:{ms[3] + loff + 8:#x}")
    with d.patched({at: u64(ms[5] + loff)}):
        every(d, ["xa-modules", "xa-check", "xa-info"])


def test_module_name_hostile_no_nul(dump):
    d = dump
    ms, _ = module_list(d)
    at = d.q(f"pa:{ms[3] + d.q('off:module.name'):#x}")
    with d.patched({at: (b"\x1b]0;pwn\x07" + HOSTILE * 8)[:56]}):
        every(d, ["xa-modules", "xa-check", "xa-sym"])


def test_process_page_table_maps_itself(dump):
    """Every user entry of the victim's root points at the root itself."""
    d = dump
    root = d.q(f"dtb:{d.victim['pid']}") & ~0xfff
    with d.patched({root + 8 * i: u64(root | 0x67) for i in range(256)}):
        every(d, ["xa-maps", "xa-read", "xa-files"])


def test_direct_map_past_ram(dump):
    """The kernel root's entry for the direct map (where tasks live) points
    at a table past the end of RAM."""
    d = dump
    kroot = d.q("dtb:0") & ~0xfff
    at = kroot + 8 * ((task(d, d.vi) >> 39) & 0x1ff)
    entry = struct.unpack("<Q", d.read(at, 8))[0]
    with d.patched({at: u64((entry & 0xfff) | (1 << 44))}):
        every(d, ["xa-ps", "xa-modules", "xa-info", "xa-net", "xa-dmesg", "xa-mounts"])


def test_printk_text_with_escapes(dump):
    d = dump
    msgs = [m["text"] for m in d.json("xa-dmesg") if len(m.get("text", "")) > 30]
    needle = msgs[len(msgs) // 2].encode()[:30]
    d.f.seek(0)
    data = d.f.read()
    at = data.find(needle)
    patches = {}
    while at >= 0 and len(patches) < 8:
        patches[at] = HOSTILE + b"\n[    0.000000] forged"
        at = data.find(needle, at + 1)
    del data
    assert patches
    with d.patched(patches):
        every(d, ["xa-dmesg"])


def test_read_json_is_json(dump):
    """xa-read --json printed its hexdump (found by the page-table mutant):
    now one row object per 16 bytes, and a read cut by an unmapped page ends
    with the partial line, like every other tool."""
    d = dump
    pid = d.victim["pid"]
    maps = d.json("xa-maps", "--pid", pid)
    # the last page of a mapping followed by a gap: the read must stop there
    ends = {int(m["start"], 16) for m in maps}
    last = next(int(m["end"], 16) for m in maps if int(m["end"], 16) not in ends)
    args = [d.target, "--pid", pid, "--va", hex(last - 40), "--len", 100]
    raw = run("xa-read", *args, "--raw")
    js = run("xa-read", *args, "--json")
    assert raw.returncode == js.returncode == 3
    lines = [json.loads(line) for line in js.stdout.decode().splitlines()]
    rows, tail = lines[:-1], lines[-1]
    assert [r["address"] for r in rows] == [hex(last - 40 + 16 * i) for i in range(3)]
    assert bytes.fromhex("".join(r["hex"] for r in rows)) == raw.stdout
    assert len(raw.stdout) == 40
    assert tail["partial"] is True and tail["code"] < 0 and tail["error"]


def test_two_tasks_claim_one_pid(dump):
    """A task's pid and tgid rewritten to another process's: the list shows
    the pid twice, and a lookup by that pid is refused (it picked the first
    task on the list silently, and the pid index either one)."""
    d = dump
    users = [p for p in d.procs if not p["kthread"] and p["pid"] > 1]
    a, b = users[2], users[3]
    at = d.q(f"pa:{int(b['task'], 16) + d.q('off:task_struct.pid'):#x}")
    with d.patched({at: struct.pack("<ii", a["pid"], a["pid"])}):
        claim = f"pid {a['pid']} is claimed by two tasks ({a['task']} and {b['task']})"
        ps = run("xa-ps", d.target, "--json")
        lines = [json.loads(line) for line in ps.stdout.decode().splitlines()]
        listed = [p for p in lines if p.get("pid") == a["pid"]]
        assert [p["task"] for p in listed] == [a["task"], b["task"]]
        # Their details (by pid) are refused: a partial list whose last line
        # says why (it said "no error": the message of a later call).
        assert ps.returncode == 3 and lines[-1]["partial"] is True
        assert claim in lines[-1]["error"], lines[-1]
        for tool, extra in (("xa-maps", []), ("xa-files", []), ("xa-ps", ["--threads"])):
            p = run(tool, d.target, "--pid", a["pid"], *extra)
            assert p.returncode == 1, (tool, p.returncode)
            assert claim in p.stderr.decode(), p.stderr
