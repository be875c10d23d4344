"""Windows crash dumps and the Windows OS layer.

Real Windows data: the two rizin triage dumps in ../shared/data/windows/
(README there); their facts are read here from their own headers, by this
test's own parsing, never copied. Full and bitmap containers are built by
the test (windump.py) around the Linux raw dump of the guest harness and
must read back equal to it, with the Linux OS layer working on them."""
import hashlib
import os
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import windump  # noqa: E402
from windump_data import windows_data  # noqa: E402
from xatest import dump_set, json_lines, run_tool  # noqa: E402

PARTIAL = 3  # TOOL_PARTIAL


@pytest.fixture(scope="module")
def triage():
    path = os.path.join(windows_data(), "triage_x64.dmp")
    data = open(path, "rb").read()
    head = {name: struct.unpack_from("<Q", data, off)[0]
            for name, off in [("dtb", 0x10), ("PsLoadedModuleList", 0x20),
                              ("PsActiveProcessHead", 0x28), ("KdDebuggerDataBlock", 0x80)]}
    return path, data, head


def test_triage_header_is_parsed(triage):
    path, data, head = triage
    assert data[:8] == b"PAGEDU64" and struct.unpack_from("<I", data, 0xF98)[0] == 4
    out = run_tool("xa-info", path, "--json")
    info = json_lines(out.stdout)[0]
    assert "triage" in info["access"] and "by kernel virtual address" in info["access"]
    assert info["os"] == "windows"


def test_discovery_finds_what_the_header_states(triage):
    """The layer reads no header: it finds KDBG in memory, the lists from it,
    and the page-table root from System's KPROCESS."""
    path, _, head = triage
    info = json_lines(run_tool("xa-info", path, "--json").stdout)[0]
    assert int(info["dtb"], 16) == head["dtb"]
    for name in ("PsActiveProcessHead", "PsLoadedModuleList", "KdDebuggerDataBlock"):
        out = run_tool("xa-sym", path, name, "--json")
        got = json_lines(out.stdout)[0]
        assert int(got["address"], 16) == head[name], (name, got)


def test_process_walk(triage):
    """System (4), the entry whose PID is not in the dump (flagged: pid -1),
    180, 588, 612, then back at the head; the run says it is partial."""
    path, _, _ = triage
    p = run_tool("xa-ps", path, "--json", check=False)
    assert p.returncode == PARTIAL, p.stderr
    lines = json_lines(p.stdout)
    procs = [line for line in lines if "pid" in line and "partial" not in line]
    assert [q["pid"] for q in procs] == [4, -1, 180, 588, 612]
    assert procs[0]["comm"] == "System" and int(procs[0]["dtb"], 16) != 0
    assert [q["ppid"] for q in procs] == [0, 4, 4, 4, 588]
    tail = [line for line in lines if line.get("partial")]
    assert tail and "walked back to its head" in tail[0]["error"], lines[-1]
    assert "not wholly in the dump" in tail[0]["error"]


def test_process_create_times(triage):
    path, _, _ = triage
    p = run_tool("xa-ps", path, "--json", check=False)
    procs = {q["pid"]: q for q in json_lines(p.stdout) if "pid" in q}
    # 2021-02-21, when the dump was taken early in boot; System first.
    assert procs[4]["start_time"].startswith("2021-02-21T")
    assert procs[180]["start_time"] < procs[588]["start_time"] < procs[612]["start_time"]


def test_linux_only_tool_says_so(triage):
    path, _, _ = triage
    p = run_tool("xa-maps", path, "--pid", "180", check=False)
    assert p.returncode != 0 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "Windows" in p.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_threads_on_windows_are_one_error_naming_the_target(triage, json_flag):
    """No thread walk for Windows: one line naming the target, as every
    other error of the tools does (it began with the library's function)."""
    path, _, _ = triage
    p = run_tool("xa-ps", path, "--threads", *json_flag, check=False)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"xa-ps: {path}: "), p.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_drivers_not_in_the_dump_are_one_error(triage, json_flag):
    """The triage dump holds not even the list head's Flink: no driver is
    listed, so this is an error (exit 1, one line, nothing on stdout), not
    a table header and a partial list of none (exit 3)."""
    path, _, _ = triage
    p = run_tool("xa-modules", path, *json_flag, check=False)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "PsLoadedModuleList" in lines[0], p.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_check_on_windows_is_one_error(triage, json_flag):
    """The rootkit checks are Linux's: xa-check on a Windows dump said
    "the windows layer has no rootkit checks" nine times, printed nine
    "stopped early" sections and exited 3. One line, exit 1, empty stdout."""
    path, _, _ = triage
    p = run_tool("xa-check", path, *json_flag, check=False)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].endswith("the checks are for Linux guests; this one runs Windows"), lines


def test_arm64_header_parsed():
    path = os.path.join(windows_data(), "triage_arm64.dmp")
    p = run_tool("xa-info", path, check=False)
    # arm64 page tables and layouts are not here: the header is read, the OS is not.
    assert p.returncode != 0
    assert "Windows" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    kdbg = struct.unpack_from("<Q", open(path, "rb").read(), 0x80)[0]
    assert "ARM64" in p.stderr and "debugger data block at 0x%x" % kdbg in p.stderr


@pytest.mark.parametrize("cut,what", [
    (0x1000, "truncated in its"),                  # inside the 0x2000-byte header
    (0x2050, "truncated in its triage header"),
    (0x19438 + 0x100, "past the end of the file"),  # inside the data-block table
])
def test_truncated_triage(triage, tmp_path, cut, what):
    _, data, _ = triage
    bad = tmp_path / "cut.dmp"
    bad.write_bytes(data[:cut])
    p = run_tool("xa-info", bad, check=False)
    assert p.returncode != 0 and what in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("patch,what", [
    ((0x30, b"\x00\x02\x00\x00"), "machine type 0x200"),
    ((0xF98, b"\x09\x00\x00\x00"), "type 9 is not supported"),
    ((0x2000 + 0x7C, b"\xff\xff\xff\x7f"), "data blocks"),
])
def test_bad_triage_header(triage, tmp_path, patch, what):
    _, data, _ = triage
    off, b = patch
    bad = bytearray(data)
    bad[off:off + len(b)] = b
    f = tmp_path / "bad.dmp"
    f.write_bytes(bytes(bad))
    p = run_tool("xa-info", f, check=False)
    assert p.returncode != 0 and what in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


# ---- the synthetic Windows guest (tests/unit/synthetic_windows.h) through the tools ----

@pytest.fixture(scope="module", params=["0", "5 encoded"], ids=["win10", "win7-encoded"])
def synthetic(request, tmp_path_factory):
    from xatest import BUILD
    maker = os.path.join(BUILD, "tests", "unit", "make_windows_guest")
    assert os.path.exists(maker), f"{maker} not built"
    out = str(tmp_path_factory.mktemp("synthetic") / "guest.dmp")
    subprocess.run([maker, out, *request.param.split()], check=True)
    return out


def test_tools_on_synthetic_windows(synthetic):
    ps = json_lines(run_tool("xa-ps", synthetic, "--json").stdout)
    assert [(q["pid"], q["ppid"], q["comm"], q["cmdline"]) for q in ps] == [
        (4, 0, "System", ""), (300, 4, "smss.exe", ""), (1236, 300, "user.exe", "user.exe -x")]
    assert ps[0]["kthread"] and not ps[2]["kthread"]
    assert ps[2]["start_time"].startswith("2021-02-21T")
    mods = json_lines(run_tool("xa-modules", synthetic, "--json").stdout)
    assert [m["name"] for m in mods] == ["ntoskrnl.exe", "hal.dll"]
    info = json_lines(run_tool("xa-info", synthetic, "--json").stdout)[0]
    assert info["os"] == "windows" and "full" in info["access"] and info["dtb"] == "0x1000"
    p = run_tool("xa-maps", synthetic, "--pid", "1236", check=False)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "Windows" in p.stderr


# ---- containers built around the Linux raw dump --------------------------------

@pytest.fixture(scope="module")
def built(dumps, tmp_path_factory):
    d = dump_set(dumps, "l4")
    raw = os.path.join(d["dir"], "raw.img")
    regs = windump.regs_from(os.path.join(d["dir"], "regs.txt"))
    assert regs["cr3"], "no CR3 in regs.txt"
    out = tmp_path_factory.mktemp("windump")
    pages = os.path.getsize(raw) // windump.PAGE
    runs = [(0, 0xA0), (0x100, pages - 0x100)]  # a hole where the PC has its ROMs
    full = str(out / "full.dmp")
    windump.write_full(raw, full, regs, runs)
    bitmap = str(out / "bitmap.dmp")
    # Left out: the ROM hole and the last page (a bitmap ends where RAM does).
    kept = windump.write_bitmap(raw, bitmap, regs,
                                keep=lambda p, page: not (0xA0 <= p < 0x100) and p != pages - 1)
    return {"raw": raw, "regs": regs, "full": full, "runs": runs, "bitmap": bitmap,
            "kept": kept}


def read_pa(target, pa, length, pad=False):
    args = [target, "--pa", hex(pa), "--len", str(length), "--raw"] + (["--pad"] if pad else [])
    from xatest import tool_path
    return subprocess.run([tool_path("xa-read"), *args], capture_output=True, timeout=300)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def test_full_dump_reads_back_as_raw(built):
    raw = open(built["raw"], "rb")
    info = json_lines(run_tool("xa-info", built["full"], "--json").stdout)[0]
    assert "full" in info["access"]
    assert [(int(r["start"], 16), int(r["size"], 16)) for r in info["ranges"]] == \
        [(b * 4096, n * 4096) for b, n in built["runs"]]
    for base, count in built["runs"]:
        p = read_pa(built["full"], base * 4096, count * 4096)
        assert p.returncode == 0, p.stderr
        raw.seek(base * 4096)
        assert sha(p.stdout) == sha(raw.read(count * 4096))
    hole = read_pa(built["full"], 0xA0 * 4096, 4096)
    assert hole.returncode != 0 and (b"not in the dump" in hole.stderr or b"outside" in hole.stderr)


def test_bitmap_dump_reads_back_as_raw(built):
    """Pages left out are holes; the rest is equal, page for page."""
    size = os.path.getsize(built["raw"])
    p = read_pa(built["bitmap"], 0, size, pad=True)
    assert p.returncode == 0, p.stderr
    data = open(built["raw"], "rb").read()
    kept = sorted(built["kept"])
    assert len(kept) == size // 4096 - 0x61
    got = b"".join(p.stdout[q * 4096:(q + 1) * 4096] for q in kept)
    assert sha(got) == sha(b"".join(data[q * 4096:(q + 1) * 4096] for q in kept))
    for absent in (0xA0, size // 4096 - 1):
        hole = read_pa(built["bitmap"], absent * 4096, 8)
        assert hole.returncode != 0


def test_registers_and_root_from_the_header(built):
    info = json_lines(run_tool("xa-info", built["full"], "--json").stdout)[0]
    assert info["vcpus"] == 1 and info["paging"].startswith("IA-32e")


@pytest.mark.parametrize("which", ["full", "bitmap"])
def test_linux_layer_on_windows_containers(built, which):
    want = sorted((q["pid"], q["comm"]) for q in
                  json_lines(run_tool("xa-ps", built["raw"], "--json").stdout) if "pid" in q)
    got = sorted((q["pid"], q["comm"]) for q in
                 json_lines(run_tool("xa-ps", built[which], "--json").stdout) if "pid" in q)
    assert len(want) > 100 and got == want


def test_truncated_full_dump(built, tmp_path):
    cut = tmp_path / "cut.dmp"
    with open(built["full"], "rb") as f:
        cut.write_bytes(f.read(0x2000 + 0x50000))
    p = run_tool("xa-info", cut, check=False)
    assert p.returncode != 0 and "truncated dump?" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
