"""Rough edges of the xa-* tools on real guest dumps (issue 17): a dump cut
short, --watch on a dump, xa-read --pad and its progress line, xa-sym
patterns and --list, xa-maps on a kernel thread."""
import fnmatch
import os
import pty
import select
import subprocess
import time

import pytest

from xatest import DUMPS, json_lines, require, run_tool, tool_path, skip_or_fail


def raw_dump(dumps):
    if "l4" not in dumps:
        skip_or_fail("no l4 dump")
    return os.path.join(dumps["l4"]["dir"], "raw.img"), dumps["l4"]["truth"]


def cut_copy(src, dst, nbytes):
    """The first @nbytes of @src, as an interrupted download leaves it."""
    with open(src, "rb") as f, open(dst, "wb") as g:
        left = nbytes
        while left:
            chunk = f.read(min(left, 8 << 20))
            assert chunk, "source shorter than asked"
            g.write(chunk)
            left -= len(chunk)
    return dst


def kernel_span(truth):
    """Physical [start, end) of the kernel image (code to bss) in the guest's
    own /proc/iomem: physical KASLR puts it anywhere in RAM."""
    phys = truth["phys"]
    start = int(phys["Kernel code"][0][0], 16)
    end = int(phys["Kernel bss"][0][1], 16) + 1
    return start, end


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# ------------------------------------------------------------ cut short ---

def test_cut_image_names_its_shortness(dumps, tmp_path):
    """Cut past the kernel but before the end of RAM: the kernel is found,
    then lists break. The warning must say the file is shorter than the
    memory the kernel had (max_pfn: 512 MiB in the test guest)."""
    # The kernel whole, the rest of RAM cut off: a set whose kernel lies at
    # the very top of RAM (a rare KASLR draw) has nothing after it to cut.
    fits = []
    for kind in sorted(dumps):
        img = os.path.join(dumps[kind]["dir"], "raw.img")
        full = os.path.getsize(img)
        cut_mib = (kernel_span(dumps[kind]["truth"])[1] >> 20) + 2
        if (cut_mib << 20) < full:
            fits.append((img, full, cut_mib))
    assert fits, "in every dump set the kernel lies too high to cut after it"
    img, full, cut_mib = fits[0]
    cut = cut_copy(img, tmp_path / "cut.img", cut_mib << 20)
    p = run_tool("xa-ps", f"file:{cut}", check=False)
    warn = [line for line in p.stderr.splitlines() if "shorter than the guest's memory" in line]
    assert len(warn) == 1, p.stderr
    assert f"ends at {cut_mib} MiB" in warn[0] and f"had {full >> 20} MiB" in warn[0], warn[0]
    # The whole image says nothing of the kind.
    assert "shorter" not in run_tool("xa-ps", f"file:{img}").stderr


def test_cut_image_without_kernel_gets_a_hint(dumps, tmp_path):
    """Cut before the kernel (and not at a MiB boundary, as a download
    stops): "no Linux kernel found" comes with the reason it may be so."""
    img, truth = raw_dump(dumps)
    kernel_start, _ = kernel_span(truth)
    size = min(48 << 20, kernel_start - (1 << 20)) + 4096 + 17
    cut = cut_copy(img, tmp_path / "cut.img", size)
    p = run_tool("xa-ps", f"file:{cut}", check=False)
    assert p.returncode == 1 and p.stdout == ""
    msg = one_line(p.stderr)
    assert "no Linux kernel found" in msg, msg
    assert f"{size} bytes" in msg and "cut short" in msg, msg


# ------------------------------------------------- --sysmap, --btf files ---

def bad_file(kind, tmp_path):
    if kind == "missing":
        return tmp_path / "nosuch", "No such file or directory"
    if kind == "directory":
        return tmp_path, "directory"
    path = tmp_path / kind
    path.write_bytes(os.urandom(4096) if kind == "random" else b"")
    return path, {"random": "", "empty": ""}[kind]


@pytest.mark.parametrize("kind", ["missing", "directory", "random", "empty"])
@pytest.mark.parametrize("option", ["--sysmap", "--btf"])
def test_bad_kernel_file_is_one_line_about_it(dumps, tmp_path, option, kind):
    """A System.map or BTF file that is not one: one line naming it in words.
    It used to come with libbpf's own line, "Unknown error 4001" or a bare
    "Input/output error", and a hint that the dump may be cut short."""
    img, _ = raw_dump(dumps)
    path, words = bad_file(kind, tmp_path)
    p = run_tool("xa-ps", f"file:{img}", option, path, check=False)
    assert p.returncode == 1 and p.stdout == "", p.stderr
    msg = one_line(p.stderr)
    assert str(path) in msg and words in msg, msg
    assert "cut short" not in msg and "Unknown error" not in msg, msg
    if option == "--btf" and kind in ("directory", "empty"):
        assert msg.endswith(f"BTF file {path} is {'empty' if kind == 'empty' else 'a directory'}")
    if option == "--btf" and kind == "random":
        assert "neither raw BTF nor an ELF file" in msg, msg


@pytest.mark.parametrize("size", [4096, 100000])
def test_tiny_file_is_not_called_a_cut_dump(tmp_path, size):
    """A few KiB of random bytes is no guest's memory: the error says so,
    not that the dump "looks cut short" (it said so, for any size)."""
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(size))
    for extra in ([], ["--json"]):
        p = run_tool("xa-ps", f"file:{junk}", *extra, check=False)
        assert p.returncode == 1 and p.stdout == "", p.stderr
        msg = one_line(p.stderr)
        assert "no Linux kernel found" in msg and "cut short" not in msg, msg
        assert f"only {size} bytes of memory: too small to be a guest's" in msg, msg


# ---------------------------------------------------------- --watch -------

def test_watch_on_a_dump_stops_at_once(dumps):
    img, _ = raw_dump(dumps)
    p = run_tool("xa-ps", f"file:{img}", "--watch", "1", check=False, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stdout == ""
    msg = one_line(p.stderr)
    assert "--watch" in msg and "live" in msg, msg


# ------------------------------------------------------------- xa-maps ----

def test_maps_of_a_kernel_thread(dumps):
    img, _ = raw_dump(dumps)
    procs = json_lines(run_tool("xa-ps", f"file:{img}", "--json").stdout)
    kthread = next(p for p in procs if p["kthread"] and p["pid"] > 0)
    p = run_tool("xa-maps", f"file:{img}", "--pid", kthread["pid"])
    assert p.stdout == ""
    msg = one_line(p.stderr)
    assert f"pid {kthread['pid']}" in msg and "kernel thread" in msg, msg
    assert "no user memory" in msg, msg
    # A user process still gets its map.
    user = next(p for p in procs if not p["kthread"])
    assert run_tool("xa-maps", f"file:{img}", "--pid", user["pid"]).stdout.count("\n") > 3


# -------------------------------------------------------------- xa-sym ----

def core_symbols(truth):
    return [s for s in truth["kallsyms"] if "module" not in s]


def sample_patterns(truth):
    """Glob patterns of each kind, built from names the guest listed."""
    names = [s["name"] for s in core_symbols(truth)
             if s["type"] in "Tt" and "_" in s["name"].strip("_") and s["name"].isascii()]
    assert len(names) > 10
    a, b, c, d = names[0], names[len(names) // 3], names[len(names) // 2], names[-1]
    return [a.split("_")[0] + "_*", "*" + b[3:], c[:-1] + "?", "[" + d[0] + "]" + d[1:]]


@pytest.mark.parametrize("which", range(4))
def test_sym_pattern(dumps, which):
    img, truth = raw_dump(dumps)
    pattern = sample_patterns(truth)[which]
    got = json_lines(run_tool("xa-sym", f"file:{img}", pattern, "--json").stdout)
    want = {(s["name"], int(s["addr"], 16)) for s in core_symbols(truth)
            if fnmatch.fnmatchcase(s["name"], pattern)}
    assert want, pattern
    have = {(g["symbol"], int(g["address"], 16)) for g in got}
    assert all(fnmatch.fnmatchcase(name, pattern) for name, _ in have), pattern
    # Every match in the guest's /proc/kallsyms (the sample the harness kept,
    # core part) is found, at its address.
    assert want <= have, (pattern, sorted(want - have)[:5])
    # Text output: address, type letter, name.
    text = run_tool("xa-sym", f"file:{img}", pattern).stdout.splitlines()
    assert len(text) == len(got)
    assert all(len(line.split()[1]) == 1 for line in text)


def test_sym_pattern_without_match(dumps):
    img, _ = raw_dump(dumps)
    p = run_tool("xa-sym", f"file:{img}", "no_such_symbol_*", check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert "no kernel symbol matches" in one_line(p.stderr)


def test_sym_list(dumps):
    img, truth = raw_dump(dumps)
    lines = run_tool("xa-sym", f"file:{img}", "--list").stdout.splitlines()
    want = core_symbols(truth)
    info = json_lines(run_tool("xa-info", f"file:{img}", "--json").stdout)[0]
    assert len(lines) == info["symbols"] > 50000
    addrs = [int(line.split()[0], 16) for line in lines]
    assert addrs == sorted(addrs), "not in address order"
    listed = {(line.split(" ", 2)[2], int(line.split()[0], 16)) for line in lines}
    assert {(s["name"], int(s["addr"], 16)) for s in want} <= listed
    # Type letters as /proc/kallsyms has them.
    types = {(line.split(" ", 2)[2], int(line.split()[0], 16)): line.split()[1]
             for line in lines}
    same = sum(types[(s["name"], int(s["addr"], 16))] == s["type"] for s in want)
    assert same == len(want)
    bad = run_tool("xa-sym", f"file:{img}", "--list", "init_task", check=False)
    assert bad.returncode == 2


# ------------------------------------------------------------- xa-read ----

def gap_before_first_area(img, pid):
    """(start of a process's first mapping, page size): the page below it is a hole."""
    first = run_tool("xa-maps", f"file:{img}", "--pid", pid).stdout.splitlines()[0]
    return int(first.split("-")[0], 16)


def test_read_pad_across_a_hole(dumps):
    img, truth = raw_dump(dumps)
    pid = 1
    start = gap_before_first_area(img, pid)
    hole = start - 0x2000
    args = [f"file:{img}", "--pid", pid, "--va", hex(hole), "--len", 0x3000, "--raw"]
    # Without --pad the read stops at once.
    plain = run_tool("xa-read", *args, check=False)
    assert plain.returncode == 1 and plain.stdout == ""
    # With --pad: two pages of zeros, then the mapped page as it is.
    padded = subprocess.run([tool_path("xa-read"), *map(str, args), "--pad"],
                            capture_output=True, timeout=120)
    assert padded.returncode == 0, padded.stderr
    assert len(padded.stdout) == 0x3000
    assert padded.stdout[:0x2000] == bytes(0x2000)
    mapped = subprocess.run([tool_path("xa-read"), f"file:{img}", "--pid", str(pid), "--va",
                             hex(start), "--len", "4096", "--raw"], capture_output=True,
                            timeout=120)
    assert mapped.returncode == 0 and padded.stdout[0x2000:] == mapped.stdout
    msg = one_line(padded.stderr.decode())
    assert f"hole at {hex(hole)}-{hex(start)} (8192 bytes)" in msg, msg
    # The same in JSON, one object per hole on stderr.
    js = run_tool("xa-read", *args[:-1], "--pad", "--json")
    holes = json_lines(js.stderr)
    assert holes == [{"hole": True, "start": hex(hole), "end": hex(start), "bytes": 8192,
                      "error": holes[0]["error"]}]


def test_read_pad_nothing_readable(dumps):
    img, _ = raw_dump(dumps)
    hole = gap_before_first_area(img, 1) - 0x2000
    p = run_tool("xa-read", f"file:{img}", "--pid", 1, "--va", hex(hole), "--len", 0x2000,
                 "--pad", check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert "nothing readable" in p.stderr.splitlines()[-1]


def test_read_pad_physical_past_the_end(dumps):
    img, _ = raw_dump(dumps)
    end = os.path.getsize(img)
    p = subprocess.run([tool_path("xa-read"), f"file:{img}", "--pa", hex(end - 100), "--len",
                        "300", "--raw", "--pad"], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with open(img, "rb") as f:
        f.seek(end - 100)
        assert p.stdout == f.read(100) + bytes(200)
    assert f"hole at {hex(end)}-{hex(end + 200)} (200 bytes)".encode() in p.stderr


def read_with_stderr_on_a_tty(args, tool="xa-read"):
    """Run a tool (xa-read) with stderr on a pseudo-terminal; (exit code, what
    the terminal got)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([tool_path(tool), *map(str, args)], stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    got = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if not r:
            if p.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other side closed: the tool ended
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    return p.wait(timeout=60), got


def test_read_progress_only_on_a_terminal(dumps):
    img, _ = raw_dump(dumps)
    big = [f"file:{img}", "--pa", "0", "--len", 64 << 20, "--raw"]
    code, tty = read_with_stderr_on_a_tty(big)
    assert code == 0
    assert b"read" in tty and b"of 64 MiB" in tty, tty
    assert tty.endswith(b"\r\x1b[K"), tty  # the line is erased at the end
    # A small read shows nothing, even on a terminal.
    code, tty = read_with_stderr_on_a_tty([f"file:{img}", "--pa", "0", "--len", 4096, "--raw"])
    assert code == 0 and tty == b""
    # Not a terminal: never.
    p = subprocess.run([tool_path("xa-read"), *map(str, big)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0 and p.stderr == b""


def test_kernel_search_progress_only_on_a_terminal(dumps):
    """A raw image has no registers to say where the kernel is: the library
    searches guest memory, and a terminal sees how far it got."""
    img, _ = raw_dump(dumps)
    code, tty = read_with_stderr_on_a_tty([f"file:{img}"], tool="xa-info")
    assert code == 0
    assert b"searching memory for the kernel" in tty and b" MiB (" in tty, tty
    assert tty.endswith(b"\r\x1b[K"), tty  # erased before the tool goes on
    p = subprocess.run([tool_path("xa-info"), f"file:{img}"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0 and p.stderr == b"", p.stderr


# ------------------------------------------------------------ xa-files ----

@pytest.mark.parametrize("tool", ["xa-files", "xa-maps"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_no_such_pid_prints_no_table_and_says_it_once(dumps, tool, json_flag):
    """A listing that fails before its first row prints no table header:
    stdout stays empty, one line on stderr, naming the pid once (it said
    "pid 99999: no process with pid 99999 (...)")."""
    img, _ = raw_dump(dumps)
    p = run_tool(tool, f"file:{img}", "--pid", 99999, *json_flag, check=False)
    assert p.returncode == 1 and p.stdout == "", p.stdout
    msg = one_line(p.stderr)
    assert msg.count("pid 99999") == 1 and "no process with pid 99999" in msg, msg


def test_no_symbol_below_an_address_said_once(dumps):
    """xa-sym 0x10 said "no symbol at or below 0x10: no kernel symbol at or
    below 0x10"."""
    img, _ = raw_dump(dumps)
    p = run_tool("xa-sym", f"file:{img}", "0x10", check=False)
    assert p.returncode == 1 and p.stdout == "", p.stdout
    msg = one_line(p.stderr)
    assert msg.count("at or below 0x10") == 1 and "no kernel symbol" in msg, msg


# ------------------------------------------- a view the guest cannot give --

def arm64_core():
    path = os.path.join(DUMPS, "arm64", "core.elf")
    require(os.path.exists(path), f"no arm64 dump set in {DUMPS} (make it: python3 "
            f"tests/guest/arm64.py make-dumps --out {DUMPS}/arm64)")
    return "file:" + path


@pytest.mark.parametrize("tool,missing", [("xa-net", "init_net"), ("xa-dmesg", "prb")])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_view_without_its_symbols_is_one_error(tool, missing, json_flag):
    """Debian's arm64 kernel lists no data symbols in kallsyms, so neither the
    socket tables nor the printk ring can be found: an error (exit 1, one
    line naming what is missing), not a table header on stdout, not an empty
    "partial" list, and no sanitizer report on the way (xa-net once sorted a
    NULL array of no sockets)."""
    p = run_tool(tool, arm64_core(), *json_flag, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stdout == "", p.stdout
    msg = one_line(p.stderr)
    assert msg.startswith(f"{tool}: file:") and f"no {missing} symbol" in msg, msg


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_check_that_stops_before_saying_anything_is_an_error(json_flag):
    """The ftrace check alone on the arm64 dump (no data symbols) stops before
    any finding: that is an error (exit 1, one line, empty stdout), not a
    report of one "stopped early" section with exit 3."""
    p = run_tool("xa-check", arm64_core(), "--check", "ftrace", *json_flag, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stdout == "", p.stdout
    msg = one_line(p.stderr)
    assert "ftrace check stopped early" in msg and "no data symbols" in msg, msg


def test_check_stopped_section_still_shown_beside_a_finished_one():
    """With a check that finishes, the one that stopped keeps its section
    (exit 3): held back only while nothing else was printed."""
    p = run_tool("xa-check", arm64_core(), "--check", "idt", "--check", "user", check=False)
    assert p.returncode in (3, 4), (p.returncode, p.stderr)
    lines = p.stdout.splitlines()
    assert lines[:2] == ["idt:", "  stopped early (see stderr)"], lines
    assert "user:" in lines, lines
