"""Hostile guests: real dumps patched the way a compromised guest could
rewrite its own memory, then every tool is run on them.

Each scenario copies nothing but the bytes it changes: one working copy of
the l4 raw dump is made per session; a scenario patches it, runs the tools,
and puts the original bytes back. Addresses and offsets come from the
library itself (tests/hostile/hostile_helper.c, public API only) on the
clean dump.

What must hold for every tool on every hostile image: it ends within its
timeout; exit 0, 1 (a one-line error) or 3 (a partial result, with the
reason on stderr); no signal, no sanitizer report; the largest child RSS
stays bounded.
"""
import os
import resource
import shutil
import struct
import subprocess
import tempfile

import pytest

from xatest import BUILD, DumpImage as Image, dump_set, helper_path, json_lines, skip_or_fail, tool_path

TOOL_TIMEOUT = 90  # seconds; a clean run of any tool takes a few
RSS_LIMIT_KIB = 3 << 20  # the 512 MiB dump is mapped; ASan adds shadow


def sanitizer_env():
    env = dict(os.environ)
    # A sanitizer finding must show as a signal, not as an ordinary exit 1.
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"
    return env


def run_bounded(name, *args):
    """Run a tool on a hostile image and check the hostile-input contract."""
    try:
        p = subprocess.run([tool_path(name), *map(str, args)], capture_output=True,
                           timeout=TOOL_TIMEOUT, env=sanitizer_env())
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} {' '.join(map(str, args))} did not end within {TOOL_TIMEOUT} s")
    where = f"{name} {' '.join(map(str, args))}"
    # xa-read --raw writes guest bytes; messages are text.
    p.stdout = p.stdout.decode(errors="replace")
    p.stderr = p.stderr.decode(errors="replace")
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, \
        f"{where}: sanitizer report\n{p.stderr[-3000:]}"
    # xa-check: 4 is "found something" (a damaged list is a cross-view mismatch)
    allowed = (0, 1, 3, 4) if name == "xa-check" else (0, 1, 3)
    assert p.returncode in allowed, f"{where}: exit {p.returncode}\n{p.stderr[-3000:]}"
    if p.returncode not in (0, 4):
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert lines, f"{where}: exit {p.returncode} without a message"
        assert all(len(l) < 1024 for l in lines), f"{where}: message too long"
    if os.environ.get("XA_HOSTILE_VERBOSE"):  # for docs/fuzzing.md
        first = (p.stderr.strip().splitlines() or [""])[0]
        print(f"\n  {name} {args[-1] if args else ''}: exit {p.returncode}: {first[:200]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert rss < RSS_LIMIT_KIB, f"{where}: a child used {rss} KiB"
    return p


@pytest.fixture(scope="module")
def image(dumps):
    src = os.path.join(dump_set(dumps, "l4")["dir"], "raw.img")
    tmp = tempfile.mkdtemp(prefix="xa-hostile-", dir="/var/tmp")
    path = os.path.join(tmp, "raw.img")
    shutil.copyfile(src, path)
    img = Image(path, helper_path())
    yield img
    if os.environ.get("XA_HOSTILE_VERBOSE"):
        print(f"\n  largest child RSS so far: "
              f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MiB")
    img.f.close()
    shutil.rmtree(tmp)


def all_tools(img, pid):
    """Every read-only tool on the image; returns {name: CompletedProcess}."""
    return {
        "ps": run_bounded("xa-ps", img.target, "--json"),
        "modules": run_bounded("xa-modules", img.target, "--json"),
        "maps": run_bounded("xa-maps", img.target, "--pid", pid, "--json"),
        "info": run_bounded("xa-info", img.target, "--json"),
        "check": run_bounded("xa-check", img.target, "--json"),
        "sym": run_bounded("xa-sym", img.target, "init_task"),
        "read": run_bounded("xa-read", img.target, "--pid", pid, "--va", "0x400000", "--len",
                            "64", "--raw"),
    }


def processes(img):
    return [p for p in json_lines(run_bounded("xa-ps", img.target, "--json").stdout) if "pid" in p]


def user_pid_with_tree(img, procs, mt_off, root_off):
    """A user process whose maple tree root is an internal node (several VMAs deep)."""
    mm_off = img.q("off:task_struct.mm")
    # In two helper runs, not two per process: on 6.12 the first multi-level
    # tree may be a few hundred processes in (a run costs ~0.2 s).
    users = [p for p in procs if not p["kthread"] and p["pid"] >= 2]
    mms = img.q(*(f"u64:{int(p['task'], 16) + mm_off:#x}" for p in users)) if users else []
    mms = mms if isinstance(mms, list) else [mms]
    users = [(p, mm) for p, mm in zip(users, mms) if mm]  # not a zombie
    roots = img.q(*(f"u64:{mm + mt_off + root_off:#x}" for _, mm in users)) if users else []
    roots = roots if isinstance(roots, list) else [roots]
    for (p, mm), root in zip(users, roots):
        if root & 2 and (root >> 3) & 0xf in (2, 3):  # maple_range_64 / maple_arange_64
            return p, mm, root
    skip_or_fail("no process with a multi-level maple tree: the scenario has no target")


def test_clean_image_baseline(image):
    """The unpatched copy works (so that failures below are the patches' doing)."""
    procs = processes(image)
    assert len(procs) > 100
    r = run_bounded("xa-modules", image.target, "--json")
    assert r.returncode == 0 and json_lines(r.stdout)


def test_task_list_loops_back(image):
    procs = processes(image)
    tasks_off = image.q("off:task_struct.tasks")
    a, b = procs[50], procs[10]  # the 50th points back at the 10th
    at = image.q(f"pa:{int(a['task'], 16) + tasks_off:#x}")
    target = int(b["task"], 16) + tasks_off
    with image.patched({at: struct.pack("<Q", target)}):
        r = run_bounded("xa-ps", image.target, "--json")
        assert r.returncode == 3, r.stderr
        assert "loop" in r.stderr
        got = [p for p in json_lines(r.stdout) if "pid" in p]
        # The walk stops at the first task seen twice (on a dump its back
        # link refuses it: os/linux/listwalk.c), so the partial list is
        # exactly the first 51 processes, none repeated.
        assert [p["pid"] for p in got] == [p["pid"] for p in procs[:51]]
        all_tools(image, a["pid"])


def test_task_pointer_into_unmapped_memory(image):
    procs = processes(image)
    info = subprocess.run([image.helper, image.target, "info"], capture_output=True,
                          text=True, check=True).stdout
    page_offset = int(info.split("page_offset=")[1].split()[0], 16)
    tasks_off = image.q("off:task_struct.tasks")
    a = procs[30]
    at = image.q(f"pa:{int(a['task'], 16) + tasks_off:#x}")
    nowhere = page_offset + (64 << 30)  # 64 GiB into the direct map: no RAM there
    with image.patched({at: struct.pack("<Q", nowhere)}):
        r = run_bounded("xa-ps", image.target, "--json")
        assert r.returncode == 3, r.stderr
        assert "broken" in r.stderr, r.stderr
        assert len([p for p in json_lines(r.stdout) if "pid" in p]) == 31
        all_tools(image, procs[5]["pid"])


def test_page_table_maps_itself_at_every_level(image):
    procs = processes(image)
    victim = next(p for p in procs if not p["kthread"] and p["pid"] > 1)
    kdtb, udtb = image.q("dtb:0", f"dtb:{victim['pid']}")
    selfref = lambda t: struct.pack("<Q", t | 0x67) * 512  # present, rw, user, A, D
    with image.patched({udtb: selfref(udtb)}):
        r = run_bounded("xa-read", image.target, "--pid", victim["pid"], "--va", "0x400000",
                        "--len", "4096", "--raw")
        # as the MMU would: every level leads back to the table, so the
        # page at 0x400000 is the table itself
        assert r.returncode == 0 and r.stdout == selfref(udtb).decode(errors="replace"), r.stderr
        run_bounded("xa-maps", image.target, "--pid", victim["pid"], "--json")
        all_tools(image, victim["pid"])
    # The kernel's own top table too: then nothing maps sensibly.
    with image.patched({kdtb: selfref(kdtb)}):
        all_tools(image, victim["pid"])


def optional_query(img, query):
    """The helper's answer to one query, or None where it answers '?'."""
    out = subprocess.run([img.helper, img.target, query], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    return None if out == ["?"] else int(out[0], 0)


def find_num_syms(image, count):
    """kallsyms_num_syms: the 8-aligned (count, 0) word just after relative_base."""
    # 6.2+ kallsyms lists its own tables; there kallsyms_num_syms comes
    # before kallsyms_names, away from relative_base (Debian's 6.12).
    va = optional_query(image, "sym:kallsyms_num_syms")
    if va is not None:
        at = image.q(f"pa:{va:#x}")
        assert struct.unpack("<Q", image.read(at, 8))[0] == count
        return at
    needle = struct.pack("<Q", count)
    image.f.seek(0)
    data = image.f.read()
    at = data.find(needle)
    while at >= 0:
        if at % 8 == 0 and at >= 8 and struct.unpack_from("<Q", data, at - 8)[0] >> 40 == 0xffffff:
            return at
        at = data.find(needle, at + 1)
    skip_or_fail("kallsyms_num_syms not found in the image: the scenario has no target")


def test_kallsyms_count_2_pow_31(image):
    info = subprocess.run([image.helper, image.target, "info"], capture_output=True,
                          text=True, check=True).stdout
    count = int(info.split("symbols=")[1].split()[0])
    at = find_num_syms(image, count)
    with image.patched({at: struct.pack("<I", 1 << 31)}):
        r = run_bounded("xa-info", image.target, "--json")
        # No consistent set of tables: the kernel is not found, said in one line.
        assert r.returncode == 1 and "not recognised" in r.stderr, r.stderr
        all_tools(image, 1)


BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF = 4, 5, 8


def btf_types(blob):
    """(id, offset in blob, kind, vlen, name_off) of every type of a raw BTF blob."""
    hdr_len, type_off, type_len = struct.unpack_from("<III", blob, 4)
    pos, end, tid, out = hdr_len + type_off, hdr_len + type_off + type_len, 1, []
    extra = {1: 4, 3: 12, 14: 4, 17: 4}
    per_member = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    while pos + 12 <= end:
        name_off, info, _ = struct.unpack_from("<III", blob, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        out.append((tid, pos, kind, vlen, name_off))
        pos += 12 + extra.get(kind, 0) + per_member.get(kind, 0) * vlen
        tid += 1
    return out


def btf_name(blob, name_off):
    hdr_len, _, _, str_off = struct.unpack_from("<IIII", blob, 4)
    s = hdr_len + str_off + name_off
    return blob[s:blob.index(b"\0", s)].decode()


@pytest.mark.parametrize("how", ["anonymous-members-self", "all-members-anonymous-self"])
def test_btf_type_loop(image, how):
    start, stop = image.q("sym:__start_BTF", "sym:__stop_BTF")
    # The BTF is in the kernel image: physically contiguous.
    pa = image.q(f"pa:{start:#x}")
    blob = image.read(pa, stop - start)
    assert struct.unpack_from("<H", blob, 0)[0] == 0xEB9F
    types = btf_types(blob)
    by_name = {}
    for tid, pos, kind, vlen, name_off in types:
        if kind in (BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF) and name_off:
            by_name.setdefault(btf_name(blob, name_off), (tid, pos, kind, vlen))
    task_id, task_pos, _, task_vlen = by_name["task_struct"]
    patches = {}
    # Every anonymous member of task_struct (and of its anonymous members'
    # types) becomes task_struct itself: a struct that contains itself, many
    # times over, on the path every member lookup takes.
    for i in range(task_vlen):
        m = task_pos + 12 + 12 * i
        name_off, mtype, _ = struct.unpack_from("<III", blob, m)
        if how == "all-members-anonymous-self":
            patches[pa + m] = struct.pack("<II", 0, task_id)
        elif name_off == 0:
            patches[pa + m + 4] = struct.pack("<I", task_id)
    # A typedef that names itself (kuid_t, the type of cred.uid).
    if "kuid_t" in by_name:
        tid, pos, _, _ = by_name["kuid_t"]
        patches[pa + pos + 8] = struct.pack("<I", tid)
    assert patches
    with image.patched(patches):
        r = all_tools(image, 1)
        assert r["ps"].returncode in (0, 1, 3)
        # A member that is not there: the search must give up, not explore
        # every path through the self-containing members.
        try:
            out = subprocess.run([image.helper, image.target, "off:task_struct.no_such_member",
                                  "off:task_struct.pid"], capture_output=True, text=True,
                                 timeout=TOOL_TIMEOUT, env=sanitizer_env())
        except subprocess.TimeoutExpired:
            pytest.fail("a member lookup in a self-containing struct did not end")
        assert out.returncode == 0 and out.stdout.split()[0] == "?", out.stderr


def has_member(img, member):
    """Whether the guest's BTF has STRUCT.MEMBER."""
    return optional_query(img, f"off:{member}") is not None


def test_maple_nodes_point_at_each_other(image):
    if not has_member(image, "mm_struct.mm_mt"):  # 5.10 to 6.0: the mm->mmap list
        vma_list_loops_back(image)
        return
    procs = processes(image)
    mt_off = image.q("off:mm_struct.mm_mt")
    root_off = image.q("off:maple_tree.ma_root")
    victim, mm, root = user_pid_with_tree(image, procs, mt_off, root_off)
    node = root & ~0xff
    kind = (root >> 3) & 0xf
    slot_off = image.q("off:maple_arange_64.slot" if kind == 3 else "off:maple_range_64.slot")
    child = image.q(f"u64:{node + slot_off:#x}")
    # root.slot[1] -> root itself; an internal child's slot[0] -> root too.
    p_root = image.q(f"pa:{node + slot_off + 8:#x}")
    patches = {p_root: struct.pack("<Q", root)}
    if child & 0xff and (child >> 3) & 0xf in (2, 3):
        cnode = child & ~0xff
        ckind = (child >> 3) & 0xf
        cslot = image.q("off:maple_arange_64.slot" if ckind == 3 else "off:maple_range_64.slot")
        patches[image.q(f"pa:{cnode + cslot:#x}")] = struct.pack("<Q", root)
    with image.patched(patches):
        r = run_bounded("xa-maps", image.target, "--pid", victim["pid"], "--json")
        assert r.returncode in (1, 3), r.stderr
        assert "maple tree loops" in r.stderr, r.stderr
        all_tools(image, victim["pid"])


def vma_list_loops_back(image):
    """Kernels before 6.1 (Debian 11's 5.10) link VMAs in mm->mmap / vm_next."""
    procs = processes(image)
    mm_off, mmap_off, next_off = image.q("off:task_struct.mm", "off:mm_struct.mmap",
                                         "off:vm_area_struct.vm_next")
    for victim in (p for p in procs if not p["kthread"] and p["pid"] > 1):
        mm = image.q(f"u64:{int(victim['task'], 16) + mm_off:#x}")
        first = image.q(f"u64:{mm + mmap_off:#x}")
        second = image.q(f"u64:{first + next_off:#x}")
        third = image.q(f"u64:{second + next_off:#x}")
        if third:
            break
    else:
        skip_or_fail("no process with three VMAs: the scenario has no target")
    # the second VMA's vm_next -> the first again
    with image.patched({image.q(f"pa:{second + next_off:#x}"): struct.pack("<Q", first)}):
        r = run_bounded("xa-maps", image.target, "--pid", victim["pid"], "--json")
        assert r.returncode in (1, 3), r.stderr
        assert "VMA list" in r.stderr, r.stderr
        all_tools(image, victim["pid"])


def elf_core_parts(dumps):
    core = os.path.join(dumps["l4"]["dir"], "core.elf")
    with open(core, "rb") as f:
        head = bytearray(f.read(1 << 20))
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    return head, phoff, phentsize, phnum


@pytest.mark.parametrize("how", ["exceeds-file", "overlap", "huge-phnum", "note-overflow"])
def test_elf_core_segments(dumps, tmp_path, how):
    dump_set(dumps, "l4")
    head, phoff, phentsize, phnum = elf_core_parts(dumps)
    loads = [phoff + i * phentsize for i in range(phnum)
             if struct.unpack_from("<I", head, phoff + i * phentsize)[0] == 1]
    notes = [phoff + i * phentsize for i in range(phnum)
             if struct.unpack_from("<I", head, phoff + i * phentsize)[0] == 4]
    if how == "exceeds-file":
        pass  # the first MiB of a 512 MiB core: every PT_LOAD runs past the end
    elif how in ("overlap", "note-overflow"):
        # Shrink the loads into the MiB we keep; for "overlap" the second
        # lies over the first, otherwise they are side by side.
        step = 0x8000 if how == "overlap" else 0x100000
        for i, at in enumerate(loads):
            struct.pack_into("<Q", head, at + 8, 0x10000)            # p_offset
            struct.pack_into("<QQ", head, at + 16, i * step, i * step)  # vaddr, paddr
            struct.pack_into("<QQ", head, at + 32, 0x10000, 0x10000)  # filesz, memsz
    elif how == "huge-phnum":
        struct.pack_into("<H", head, 56, 0xffff)
    if how == "note-overflow":  # a PT_NOTE whose size wraps the offset around
        struct.pack_into("<QQ", head, notes[0] + 32, (1 << 64) - 16, (1 << 64) - 16)
    path = tmp_path / "core.elf"
    path.write_bytes(bytes(head))
    target = f"file:{path}"
    r = run_bounded("xa-info", target, "--json")
    assert r.returncode == 1, r.stdout
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr  # one clear line
    for tool in ("xa-ps", "xa-modules"):
        assert run_bounded(tool, target).returncode == 1
