"""Hostile names: a guest chooses the bytes of its process names (prctl), its
file names and (as root) its module names and kernel strings. A copy of a
real dump is patched so that such names hold a newline, an ESC sequence, a
backslash, 0xff and valid multibyte UTF-8; then every tool must

- in text: print no forged line (each line has the tool's own shape, and as
  many lines as there are items), no control byte, only valid UTF-8, with the
  name escaped as /proc does (\\ooo octal) so that it can be undone exactly;
- in JSON: print lines Python's json module parses, where a name that was
  not valid UTF-8 comes with NAME_hex holding the raw bytes.

Where the patches go is found through the tools themselves (task, module and
VMA addresses in their JSON) and tests/hostile/hostile_helper.c (offsets,
kernel virtual -> physical) on the working copy.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

import pytest

from test_hostile import Image, find_num_syms, helper_path, sanitizer_env
from xatest import tool_path, skip_or_fail

TOOL_TIMEOUT = 120

# Bytes a terminal would act on, or that forge lines; then an invalid UTF-8
# byte, a backslash (the escape character itself) and a valid "é".
HOSTILE = b"\n\x1b[2J\xff\\\xc3\xa9"


def run(name, *args):
    """Run a tool; bytes out. Exit 0, 1 or 3 only, no sanitizer report."""
    try:
        p = subprocess.run([tool_path(name), *map(str, args)], capture_output=True,
                           timeout=TOOL_TIMEOUT, env=sanitizer_env())
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} did not end within {TOOL_TIMEOUT} s")
    err = p.stderr.decode(errors="replace")
    assert "Sanitizer" not in err and "runtime error" not in err, err[-3000:]
    assert p.returncode in (0, 1, 3), f"{name} {args}: exit {p.returncode}: {err}"
    return p


def unescape(text):
    """Undo the tools' text escaping (\\ooo -> the byte)."""
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), text)


def safe_text_lines(out):
    """Text output: valid UTF-8, no control byte but the line ends, no C1 or
    bidi control. Returns the lines (bytes)."""
    text = out.decode("utf-8")  # raises on invalid UTF-8
    for ch in text:
        cp = ord(ch)
        assert ch == "\n" or not (cp < 0x20 or cp == 0x7f or 0x80 <= cp <= 0x9f), repr(text)
        assert not (0x202a <= cp <= 0x202e or 0x2066 <= cp <= 0x2069), repr(text)
    return out.splitlines()


def json_objects(out):
    """Every line is a JSON object (json rejects invalid UTF-8 when decoding bytes)."""
    objs = []
    for line in out.splitlines():
        obj = json.loads(line.decode("utf-8"))
        assert isinstance(obj, dict), line
        objs.append(obj)
    return objs


def check_json_name(obj, key, want):
    """obj[key] is @want as valid UTF-8; key_hex holds @want's bytes when they
    are not valid UTF-8 (and only then)."""
    try:
        want.decode("utf-8")
        assert obj[key] == want.decode("utf-8"), (obj, want)
        assert key + "_hex" not in obj, obj
    except UnicodeDecodeError:
        assert obj[key] == want.decode("utf-8", errors="replace"), (obj, want)
        assert bytes.fromhex(obj[key + "_hex"]) == want, (obj, want)


def as_shown(raw):
    """What the library may pass on for @raw: the bytes, or, where it
    sanitises names itself, control bytes (comm) or all but printable ASCII
    (the kernel version) shown as '?'. The tools must be safe for each."""
    return (raw, bytes(b if b >= 0x20 and b != 0x7f else 0x3f for b in raw),
            bytes(b if 0x20 <= b < 0x7f else 0x3f for b in raw))


def pa_run(img, va, n):
    """Physical address of n bytes at kernel VA, checked to be contiguous."""
    first, last = img.q(f"pa:{va:#x}", f"pa:{va + n - 1:#x}")
    assert last - first == n - 1, "name crosses a physical page boundary"
    return first


@pytest.fixture(scope="module")
def image(dumps):
    if "l4" not in dumps:
        skip_or_fail("no l4 dump")
    src = os.path.join(dumps["l4"]["dir"], "raw.img")
    tmp = tempfile.mkdtemp(prefix="xa-names-", dir="/var/tmp")
    path = os.path.join(tmp, "raw.img")
    shutil.copyfile(src, path)
    img = Image(path, helper_path())
    yield img
    img.f.close()
    shutil.rmtree(tmp)


def processes(img):
    return [p for p in json_objects(run("xa-ps", img.target, "--json").stdout) if "pid" in p]


# ---- xa-ps: a process name ----

# PID PPID UID GID S COMM DTB START CMD (CMD last: may hold spaces)
PS_LINE = re.compile(rb"^ *\d+ +\d+ +\d+ +\d+ \S +\S+ +0x[0-9a-f]+ +\S+ +\S.*$")


def test_ps_hostile_comm(image):
    procs = processes(image)
    victim = next(p for p in procs if p["comm"].startswith("xaw-"))
    comm = b"ps" + HOSTILE  # 13 bytes: fits comm[16] with its NUL
    at = pa_run(image, int(victim["task"], 16) + image.q("off:task_struct.comm"), 16)
    with image.patched({at: comm + b"\0" * (16 - len(comm))}):
        text = run("xa-ps", image.target)
        assert text.returncode == 0, text.stderr
        lines = safe_text_lines(text.stdout)
        assert len(lines) == len(procs) + 1  # the header, then one line per process
        for line in lines[1:]:
            assert PS_LINE.match(line), line
        mine = [l for l in lines if l.split()[0] == str(victim["pid"]).encode()]
        assert len(mine) == 1
        shown = unescape(mine[0].split()[5])
        # The library may show control bytes as '?'; the others must come through.
        assert shown in as_shown(comm), shown

        js = run("xa-ps", image.target, "--json")
        objs = json_objects(js.stdout)
        assert [o["pid"] for o in objs] == [p["pid"] for p in procs]
        got = next(o for o in objs if o["pid"] == victim["pid"])
        raw = bytes.fromhex(got["comm_hex"])  # 0xff: not valid UTF-8, so the hex is there
        assert raw == shown
        check_json_name(got, "comm", raw)

        # xa-read's hexdump of the same bytes: printable ASCII or '.', nothing else.
        r = run("xa-read", image.target, "--pa", hex(at), "--len", 16)
        assert r.returncode == 0, r.stderr
        lines = safe_text_lines(r.stdout)
        assert len(lines) == 1
        chars = lines[0].split(b"|")[1]
        assert chars == bytes(b if 0x20 <= b < 0x7f else 0x2e for b in comm.ljust(16, b"\0"))


def test_ps_hostile_cmdline(image):
    """A process writes what it likes into its argument area: the CMD column
    shows it escaped, JSON gives cmdline (and cmdline_hex when not UTF-8)."""
    procs = processes(image)
    victim = next(p for p in procs if p["comm"] == "xa-marker")
    pid = victim["pid"]
    mm = image.q(f"u64:{int(victim['task'], 16) + image.q('off:task_struct.mm'):#x}")
    start = image.q(f"u64:{mm + image.q('off:mm_struct.arg_start'):#x}")
    args = b"evil" + HOSTILE + b"\0x\0"
    at = image.q(f"upa:{pid}:{start:#x}")
    assert image.q(f"upa:{pid}:{start + len(args) - 1:#x}") - at == len(args) - 1
    # the end too, so that exactly these bytes are the command line
    end_at = pa_run(image, mm + image.q("off:mm_struct.arg_end"), 8)
    with image.patched({at: args, end_at: struct.pack("<Q", start + len(args))}):
        text = run("xa-ps", image.target, "--pid", pid)
        assert text.returncode == 0, text.stderr
        lines = safe_text_lines(text.stdout)
        assert len(lines) == 2 and PS_LINE.match(lines[1]), lines
        assert lines[1].endswith(b" evil\\012\\033[2J\\377\\134\xc3\xa9 x"), lines[1]
        obj = json_objects(run("xa-ps", image.target, "--pid", pid, "--json").stdout)[0]
        check_json_name(obj, "cmdline", b"evil" + HOSTILE + b" x")


# ---- xa-maps: a file name (dentry) ----

MAPS_LINE = re.compile(rb"^[0-9a-f]{8,16}-[0-9a-f]{8,16} [r-][w-][x-][sp] [0-9a-f]{8,} ?(.*)$")


def dentry_name(img, vma):
    """(kernel VA, length) of the name of the file mapped by vm_area_struct @vma."""
    file = img.q(f"u64:{vma + img.q('off:vm_area_struct.vm_file'):#x}")
    dentry = img.q(f"u64:{file + img.q('off:file.f_path') + img.q('off:path.dentry'):#x}")
    qstr = dentry + img.q("off:dentry.d_name")
    name = img.q(f"u64:{qstr + img.q('off:qstr.name'):#x}")
    length = img.q(f"u64:{qstr + img.q('off:qstr.len'):#x}") & 0xffffffff
    return name, length


def test_maps_hostile_file_name(image, dumps):
    pid = dumps["l4"]["truth"]["maps"]["pid"]
    clean = json_objects(run("xa-maps", image.target, "--pid", pid, "--json").stdout)
    filed = [v for v in clean if v["path"].startswith("/")]
    assert filed, clean
    old_path = filed[0]["path"].encode()
    va, n = dentry_name(image, int(filed[0]["vma"], 16))
    assert old_path.endswith(b"/" + image.read(pa_run(image, va, n), n))
    assert n >= 3
    new = (HOSTILE + b"x" * n)[:n]  # the same length: only the bytes change
    new_path = old_path[:len(old_path) - n] + new
    with image.patched({pa_run(image, va, n): new}):
        text = run("xa-maps", image.target, "--pid", pid)
        assert text.returncode == 0, text.stderr
        lines = safe_text_lines(text.stdout)
        assert len(lines) == len(clean), lines  # no forged line
        paths = []
        for line in lines:
            m = MAPS_LINE.match(line)
            assert m, line
            paths.append(unescape(m.group(1)))
        want = [new_path if v["path"].encode() == old_path else v["path"].encode() for v in clean]
        assert paths == want

        objs = json_objects(run("xa-maps", image.target, "--pid", pid, "--json").stdout)
        assert len(objs) == len(clean)
        for o, w in zip(objs, want):
            check_json_name(o, "path", w)
        assert sum("path_hex" in o for o in objs) == sum(w == new_path for w in want) > 0


# ---- xa-modules: a module name ----

MOD_LINE = re.compile(rb"^\S+ +\d+ +-?\d+ +\S+ +0x[0-9a-f]+$")


def test_modules_hostile_name(image):
    clean = json_objects(run("xa-modules", image.target, "--json").stdout)
    victim = clean[len(clean) // 2]
    # The library refuses module names with spaces and control bytes (the kernel
    # never makes them); what it passes on must still be escaped.
    name = b"mod\xff\\\xc3\xa9\xe2\x80\xae\xc2\x9b"
    at = pa_run(image, int(victim["module"], 16) + image.q("off:module.name"), len(name) + 1)
    with image.patched({at: name + b"\0"}):
        text = run("xa-modules", image.target)
        assert text.returncode == 0, text.stderr
        lines = safe_text_lines(text.stdout)
        assert len(lines) == len(clean) + 1
        for line in lines[1:]:
            assert MOD_LINE.match(line), line
        assert [unescape(l.split()[0]) for l in lines[1:]] == \
               [name if m is victim else m["name"].encode() for m in clean]

        objs = json_objects(run("xa-modules", image.target, "--json").stdout)
        assert len(objs) == len(clean)
        got = next(o for o in objs if o["module"] == victim["module"])
        check_json_name(got, "name", name)


def test_modules_partial_line(image):
    """A module the library rejects (a newline in its name) ends the walk:
    exit 3, the reason on stderr and, with --json, a last "partial" line."""
    clean = json_objects(run("xa-modules", image.target, "--json").stdout)
    k = len(clean) // 2
    victim = clean[k]
    at = pa_run(image, int(victim["module"], 16) + image.q("off:module.name"), 8)
    with image.patched({at: b"a\nb\x1b[2J\0"}):
        r = run("xa-modules", image.target, "--json")
        assert r.returncode == 3, r.stderr
        objs = json_objects(r.stdout)
        assert [o["name"] for o in objs[:-1]] == [m["name"] for m in clean[:k]]
        last = objs[-1]
        assert last["partial"] is True and last["code"] < 0 and last["error"], last
        err = r.stderr.decode()
        assert len(err.strip().splitlines()) == 1 and "partial" in err, err
        text = run("xa-modules", image.target)
        assert text.returncode == 3
        assert len(safe_text_lines(text.stdout)) == k + 1


def test_maps_partial_line(image, dumps):
    """A VMA whose file cannot be read ends the walk: exit 3 and a last
    "partial" JSON line after the areas before it."""
    pid = dumps["l4"]["truth"]["maps"]["pid"]
    clean = json_objects(run("xa-maps", image.target, "--pid", pid, "--json").stdout)
    k = next(i for i, v in enumerate(clean) if v["path"].startswith("/") and i > 0)
    info = subprocess.run([image.helper, image.target, "info"], capture_output=True,
                          text=True, check=True).stdout
    nowhere = int(info.split("page_offset=")[1].split()[0], 16) + (64 << 30)  # no RAM there
    vm_file = int(clean[k]["vma"], 16) + image.q("off:vm_area_struct.vm_file")
    with image.patched({pa_run(image, vm_file, 8): struct.pack("<Q", nowhere)}):
        r = run("xa-maps", image.target, "--pid", pid, "--json")
        assert r.returncode == 3, r.stderr
        objs = json_objects(r.stdout)
        assert [o["start"] for o in objs[:-1]] == [v["start"] for v in clean[:k]]
        last = objs[-1]
        assert last["partial"] is True and last["code"] < 0 and last["error"], last
        err = r.stderr.decode()
        assert len(err.strip().splitlines()) == 1 and "partial" in err, err


# ---- xa-info: the kernel's version string ----

def test_info_hostile_version(image):
    # The version ends at the banner's newline: here a carriage return (which
    # would let a later part overwrite the line on a terminal) and DEL instead.
    hostile = HOSTILE.replace(b"\n", b"\r") + b"\x7f"
    clean_text = run("xa-info", image.target).stdout.splitlines()
    clean = json_objects(run("xa-info", image.target, "--json").stdout)[0]
    banner_va = image.q("sym:linux_banner")
    banner_pa = pa_run(image, banner_va, 256)
    banner = image.read(banner_pa, 256)
    at = banner.index(b"(", len(b"Linux version ")) + 1  # past the release
    want = clean["version"].encode()
    want = want[:at] + hostile + want[at + len(hostile):]
    with image.patched({banner_pa + at: hostile}):
        text = run("xa-info", image.target)
        assert text.returncode == 0, text.stderr
        lines = safe_text_lines(text.stdout)
        assert len(lines) == len(clean_text)
        assert [l.split(b":")[0] for l in lines] == [l.split(b":")[0] for l in clean_text]
        kernel = next(l for l in lines if l.startswith(b"kernel:"))
        shown = unescape(kernel)[len(b"kernel:       "):]
        assert shown in as_shown(want), shown

        j = json_objects(run("xa-info", image.target, "--json").stdout)
        assert len(j) == 1
        check_json_name(j[0], "version", shown)
        assert j[0]["release"] == clean["release"]


# ---- xa-sym: kernel symbol names ----

def token_table(img):
    """(physical address, size) of kallsyms_token_table: after kallsyms_num_syms
    come the names (num_syms entries: a length, 7 bits per byte, then that many
    bytes), the markers (and, in newer kernels, the name order), then the 256
    NUL-terminated tokens followed by their u16 index. (The kallsyms_*
    symbols are not in kallsyms itself.)"""
    info = subprocess.run([img.helper, img.target, "info"], capture_output=True,
                          text=True, check=True).stdout
    count = int(info.split("symbols=")[1].split()[0])
    at = find_num_syms(img, count)
    data = img.read(at, 8 << 20)
    pos = 8
    for _ in range(count):
        n = data[pos]
        if n & 0x80:
            n, pos = (n & 0x7f) | (data[pos + 1] << 7), pos + 2
        else:
            pos += 1
        pos += n
    for p in range((pos + 7) & ~7, pos + (1 << 20), 8):
        offs, q = [], p
        for _ in range(256):
            end = data.find(b"\0", q, q + 64)
            if end <= q or not all(0x20 <= b < 0x7f for b in data[q:end]):
                break
            offs.append(q - p)
            q = end + 1
        if len(offs) < 256:
            continue
        idx = (q + 7) & ~7
        if list(struct.unpack_from("<256H", data, idx)) == offs:
            return at + p, q - p
    skip_or_fail("kallsyms_token_table not found")


def test_sym_hostile_names(image, dumps):
    """Symbol names are made of the kallsyms token table's characters, which
    the library accepts when printable ASCII: a guest that rewrites 'q' as a
    backslash and 'z' as a space in every token renames its symbols so."""
    truth = dumps["l4"]["truth"]["kallsyms"]
    per_addr = {}
    for s in truth:
        per_addr[s["addr"]] = per_addr.get(s["addr"], 0) + 1
    picks = [s for s in truth if "module" not in s and per_addr[s["addr"]] == 1
             and "q" in s["name"] and "z" in s["name"]][:2]
    assert picks, "no symbol with both a 'q' and a 'z' in the sample"
    pa, size = token_table(image)
    tokens = image.read(pa, size)
    patched = tokens.replace(b"q", b"\\").replace(b"z", b" ")
    assert patched != tokens
    with image.patched({pa: patched}):
        for s in picks:
            want = s["name"].replace("q", "\\").replace("z", " ")
            text = run("xa-sym", image.target, s["addr"])
            assert text.returncode == 0, text.stderr
            lines = safe_text_lines(text.stdout)
            assert len(lines) == 1
            addr, name = lines[0].split(b" ")  # the name's space is escaped: two fields
            assert int(addr, 16) == int(s["addr"], 16)
            assert unescape(name) == want.encode() + b"+0x0", name

            js = json_objects(run("xa-sym", image.target, s["addr"], "--json").stdout)
            assert len(js) == 1 and js[0]["offset"] == 0
            check_json_name(js[0], "symbol", want.encode())

            # And back: the new name (as given on the command line) is found.
            back = run("xa-sym", image.target, want)
            assert back.returncode == 0, back.stderr
            lines = safe_text_lines(back.stdout)
            assert len(lines) == 1 and int(lines[0].split(b" ")[0], 16) == int(s["addr"], 16)
