"""The Python bindings on real guest dumps, checked against what the guest said."""
import ctypes
import os
import re
import shutil
import subprocess
import sys

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from xenaccess import _lib
from xatest import dump_set, require

pytest_plugins = ["xa_py"]

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    return "file:" + os.path.join(d["dir"], fname), d["truth"]


@pytest.fixture(scope="module")
def l4(dumps):
    tgt, truth = target(dumps, "l4", "raw.img")
    with xenaccess.open(tgt) as vm:
        yield vm, truth


@pytest.mark.parametrize("kind,fname", KINDS)
def test_processes_match_guest(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    with xenaccess.open(tgt) as vm:
        got = {p.pid: p for p in vm.processes()}
        kernel_dtb = vm.info.dtb
        want = {p["pid"]: p for p in truth["procs"]}
        assert len(want) > 300
        assert set(got) - {0} == set(want)
        for pid, w in want.items():
            g = got[pid]
            assert (g.ppid, g.comm, g.uid, g.gid) == (w["ppid"], w["kcomm"], w["uid"], w["gid"])
            assert g.tgid == pid and g.state in "RSDTtZXI" and g.task > 1 << 63
        user = [p for p in got.values() if not p.kthread]
        kthreads = [p for p in got.values() if p.kthread]
        assert len({p.dtb for p in user}) == len(user) > 300
        assert all(p.mm == 0 and p.dtb == kernel_dtb for p in kthreads) and kthreads
        assert len({p.uid for p in got.values()}) >= 5
        # by pid: the same as the walk
        for pid in list(want)[::40]:
            assert vm.process(pid) == got[pid]
            assert vm.dtb_of(pid) == got[pid].dtb


@pytest.mark.parametrize("kind,fname", KINDS)
def test_info(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    with xenaccess.open(tgt) as vm:
        info = vm.info
    assert info.version == truth["version"].strip()
    assert info.release == truth["kernel_release"]
    assert info.page_mode == ("IA-32e 5-level (LA57)" if kind == "l5" else "IA-32e 4-level")
    assert info.kaslr_slide == int(truth["kaslr"]["slide"], 16)
    assert info.text_start == int(truth["kaslr"]["_text"], 16)
    assert info.symbols > 50000 and info.btf_types > 50000
    assert (info.backend, info.live, info.os) == ("file", False, "linux")
    assert abs(info.memory_size - truth["dump"]["ram_bytes"]) < 4 << 20
    assert ("ELF" in info.access_method) == fname.endswith(".elf")
    assert info.as_dict()["release"] == info.release


def test_symbols_both_ways(l4):
    vm, truth = l4
    for name, addr in truth["symbols"].items():
        if name in ("swapper_pg_dir", "kallsyms_num_syms"):
            continue  # not in the guest's /proc/kallsyms either
        assert vm.symbol(name) == int(addr, 16), name
    # Reverse lookups, every one exact: aliases share an address, and the
    # answer must be one of the names the guest gives that address.
    aliases = truth["kallsyms_aliases"]
    sample = [s for s in truth["kallsyms"] if "module" not in s and s["type"] not in "aA"][::10]
    assert len(sample) > 40
    for s in sample:
        name, off = vm.symbol_at(int(s["addr"], 16))
        assert off == 0 and name in aliases[s["addr"]], (s, name, aliases.get(s["addr"]))
    name, off = vm.symbol_at(vm.symbol("linux_banner") + 5)
    assert (name, off) == ("linux_banner", 5)
    syms = vm.symbols()
    assert len(syms) == vm.info.symbols
    assert [s.addr for s in syms] == sorted(s.addr for s in syms)
    banner = [s for s in syms if s.name == "linux_banner"]
    assert banner and banner[0].addr == vm.symbol("linux_banner")


@pytest.mark.parametrize("kind,fname", KINDS)
def test_user_memory_markers(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    with xenaccess.open(tgt) as vm:
        for m in truth["markers"]:
            va, want = int(m["va"], 16), m["str"].encode()
            assert vm.read(va, len(want), pid=m["pid"]) == want, m["kind"]
            assert vm.read_str(va, len(want), pid=m["pid"]) == m["str"]
            # the same bytes through translation and a physical read
            n = min(len(want), 4096 - va % 4096)
            pa = vm.translate(va, pid=m["pid"])
            assert vm.read_pa(pa, n) == want[:n]
            assert vm.read(va, n, dtb=vm.dtb_of(m["pid"])) == want[:n]
            page, off = vm.page(va, pid=m["pid"])
            assert off == va % 4096 and page[off:off + n] == want[:n]


def test_kernel_reads(l4):
    vm, truth = l4
    banner = vm.symbol("linux_banner")
    raw = vm.read(banner, 64)
    assert truth["version"].startswith(raw.split(b"\0")[0].decode()[:60])
    assert vm.read_symbol("linux_banner", 64) == raw
    assert vm.read_str(banner, 300).strip() == truth["version"].strip()
    assert vm.read_u64(banner) == int.from_bytes(raw[:8], "little")
    assert vm.read_u32(banner + 4) == int.from_bytes(raw[4:8], "little")
    assert vm.read_u16(banner) == int.from_bytes(raw[:2], "little")
    assert vm.read_u8(banner) == ord("L")
    page, off = vm.page(banner)
    assert page[off:off + 8] == raw[:8]
    pa = vm.translate(banner)
    assert vm.read_pa(pa, 8) == raw[:8]
    ppage, poff = vm.page(pa, physical=True)
    assert ppage == page and poff == off
    # init_task.comm through BTF offsets
    comm = vm.type_offset("task_struct", "comm")
    assert vm.read_str(vm.symbol("init_task") + comm, 16) == "swapper/0"
    assert vm.type_size("task_struct") > comm
    big = vm.read(vm.symbol("_stext"), 1 << 20)
    assert len(big) == 1 << 20 and big[:4096] == vm.read(vm.symbol("_stext"), 4096)


def test_modules_and_maps(l4):
    vm, truth = l4
    got = {m.name: m for m in vm.modules()}
    want = {m["name"]: m for m in truth["modules"]}
    assert set(got) == set(want)
    for name, w in want.items():
        assert got[name].refcount == w["refcount"] and got[name].base == int(w["addr"], 16)
    maps = list(vm.maps(truth["maps"]["pid"]))
    want = truth["maps"]["regions"]
    assert [(m.start, m.end, m.perms, m.path) for m in maps] == \
        [(int(w["start"], 16), int(w["end"], 16), w["perms"], w["path"]) for w in want]


def test_partial_read_at_end_of_mapping(l4):
    vm, truth = l4
    pid = truth["maps"]["pid"]
    maps = list(vm.maps(pid))
    gap = next(m for m, n in zip(maps, maps[1:]) if m.end != n.start)
    data = vm.read(gap.end - 16, 64, pid=pid, partial=True)
    assert len(data) == 16 and data == vm.read(gap.end - 16, 16, pid=pid)
    with pytest.raises(xenaccess.NotMapped):
        vm.read(gap.end - 16, 64, pid=pid)
    assert vm.read(gap.end, 64, pid=pid, partial=True) == b""


def test_caches_and_live_calls_on_a_dump(l4):
    vm, _ = l4
    vm.read(vm.symbol("init_task"), 4096)
    st = vm.cache_stats()
    assert st["v2p_entries"] > 0 and st["v2p_capacity"] > 0
    vm.flush()
    assert vm.cache_stats()["v2p_entries"] == 0
    vm.flush("os")
    with pytest.raises(ValueError):
        vm.flush("bogus")
    with pytest.raises(xenaccess.NotSupported):
        vm.pause()
    with vm.paused():  # nothing to pause on a dump
        assert vm.live is False
    assert vm.mem_ranges() and sum(s for _, s in vm.mem_ranges()) == vm.info.memory_size


# ---- bad input: exceptions with the C message, never a crash ----

def test_open_errors(tmp_path):
    with pytest.raises(xenaccess.XenaccessError) as e:
        xenaccess.open("file:/nonexistent/guest.img")
    assert "/nonexistent/guest.img" in str(e.value) and e.value.code < 0
    f = tmp_path / "disk.qcow2"
    f.write_bytes(b"QFI\xfb" + b"\0" * 8192)
    with pytest.raises(xenaccess.BadFormat, match="qcow2"):
        xenaccess.open(f"file:{f}")
    z = tmp_path / "zeros.img"
    with open(z, "wb") as fh:
        fh.truncate(64 << 20)
    with xenaccess.open(z) as vm:  # memory access works; the OS layer says why it is absent
        assert vm.read_pa(4096, 16) == b"\0" * 16
        assert vm.info.os is None and "Linux" in vm.info.os_error
        with pytest.raises(xenaccess.NoOS, match="Linux|kernel"):
            list(vm.processes())
        with pytest.raises(xenaccess.NoOS):
            vm.symbol("init_task")
    with xenaccess.open(z, no_os=True) as vm:
        assert vm.info.os is None and vm.info.page_mode == "unknown"
    with pytest.raises(xenaccess.XenaccessError, match="floppy"):
        xenaccess.open("floppy:/dev/fd0")
    with pytest.raises(ValueError):
        xenaccess.open("file:/tmp/a\0b")
    with pytest.raises(TypeError):
        xenaccess.open(42)


def test_lookup_errors(l4):
    vm, _ = l4
    with pytest.raises(xenaccess.NotFound, match="99999"):
        vm.process(99999)
    with pytest.raises(xenaccess.NotFound, match="99999"):
        vm.read(0x400000, 8, pid=99999)
    with pytest.raises(xenaccess.NotFound, match="99999"):
        list(vm.maps(99999))
    with pytest.raises(xenaccess.NotFound, match="no_such_symbol_xyz"):
        vm.symbol("no_such_symbol_xyz")
    with pytest.raises(xenaccess.NotFound):
        vm.symbol_at(0x1000)
    with pytest.raises(xenaccess.NotFound):
        vm.type_offset("task_struct", "no_such_member")
    with pytest.raises(xenaccess.NotMapped) as e:
        vm.read(0x10, 8)
    assert e.value.code == -14 and e.value.message
    with pytest.raises(xenaccess.NotMapped):
        vm.translate(0xffff800000000000 - 4096 * 1000)
    with pytest.raises(xenaccess.OutOfRange):
        vm.read_pa(vm.info.max_pa + (1 << 30), 8)
    with pytest.raises(xenaccess.NotPermitted):
        vm.write(vm.symbol("linux_banner"), b"x")
    with pytest.raises(xenaccess.NotPermitted):
        vm.write_pa(0x1000, b"x")


@pytest.mark.parametrize("call", [
    lambda vm: vm.read(-1, 8), lambda vm: vm.read(0, -8), lambda vm: vm.read(0, 1 << 40),
    lambda vm: vm.read(1 << 64, 8), lambda vm: vm.read_pa(0, -1), lambda vm: vm.read_pa(-5, 1),
    lambda vm: vm.read(0, 8, pid=-3), lambda vm: vm.read(0, 8, pid=1 << 40),
    lambda vm: vm.translate(-1), lambda vm: vm.symbol_at(-1), lambda vm: vm.symbol("a\0b"),
    lambda vm: vm.read_str(0, -1), lambda vm: vm.read_str(0, 1 << 40), lambda vm: vm.regs(-1),
    lambda vm: vm.read(0, 8, pid=1, dtb=0), lambda vm: vm.process(-1),
])
def test_bad_arguments_raise_value_error(l4, call):
    with pytest.raises(ValueError):
        call(l4[0])


@pytest.mark.parametrize("call", [
    lambda vm: vm.read("x", 8), lambda vm: vm.read(0, 1.5), lambda vm: vm.symbol(None),
    lambda vm: vm.process("1"),
])
def test_bad_types_raise_type_error(l4, call):
    with pytest.raises(TypeError):
        call(l4[0])


def vm_walk_to_end(tgt):
    vm = xenaccess.open(tgt)
    walk = vm.modules()
    assert list(walk)
    vm.close()
    return walk


def test_closed_handle(dumps):
    tgt, _ = target(dumps, "l4", "core.elf")
    vm = xenaccess.open(tgt)
    walk = vm.processes()
    first = next(walk)
    assert first.pid in (0, 1)
    vm.close()
    vm.close()  # idempotent
    # The C walk was freed with the handle: no crash, and no quiet end that
    # would look like a complete list.
    with pytest.raises(ValueError, match="process list used after its VM was closed"):
        next(walk)
    done = vm_walk_to_end(tgt)
    with pytest.raises(StopIteration):
        next(done)  # a walk that had ended before the close still just ends
    for call in (lambda: vm.info, lambda: vm.read(0, 8), lambda: vm.symbol("init_task"),
                 lambda: list(vm.processes()), lambda: vm.process(1), lambda: vm.flush(),
                 lambda: vm.cache_stats(), lambda: vm.pause(), lambda: vm.translate(0),
                 lambda: vm.read_pa(0, 1), lambda: vm.live, lambda: vm.symbols()):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(vm)


def test_struct_layouts_match_the_headers(tmp_path):
    """ctypes structures against the C compiler's view of include/*.h."""
    structs = {"xa_init_opts": _lib.InitOpts, "xa_regs": _lib.Regs,
               "xa_mem_range": _lib.MemRange, "xa_cache_stats": _lib.CacheStats,
               "xa_os_info": _lib.OsInfo, "xa_process": _lib.Process, "xa_module": _lib.Module,
               "xa_vma": _lib.Vma, "xadisk_opts": _lib.DiskOpts, "xadisk_range": _lib.DiskRange,
               "xadisk_event": _lib.DiskEvent, "xadisk_stats": _lib.DiskStats,
               "xa_socket": _lib.Socket}
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "xenaccess.h"',
             '#include "xadisk.h"',
             "int main(void) {"]
    want = []
    for cname, ct in structs.items():
        lines.append('printf("%%zu\\n", sizeof(struct %s));' % cname)
        want.append(ctypes.sizeof(ct))
        for field, _ in ct._fields_:
            lines.append('printf("%%zu\\n", offsetof(struct %s, %s));' % (cname, field))
            want.append(getattr(ct, field).offset)
    lines.append("return 0; }")
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines))
    subprocess.run(["cc", "-std=c11", "-I", os.path.join(xa_py.ROOT, "include"), "-o", str(exe),
                    str(src)], check=True)
    got = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True,
                                          check=True).stdout.split()]
    assert got == want


def test_library_found_through_env(tmp_path):
    """XA_LIBRARY wins and is never silently replaced; a bad one says what it tried."""
    code = ("import xenaccess, sys\n"
            "try:\n    xenaccess.open('file:/x')\n"
            "except xenaccess.LibraryNotFound as e:\n    print('LNF', e)\n")
    env = dict(xa_py.example_env(), XA_LIBRARY="/nonexistent/libxenaccess.so",
               PYTHONPATH=os.path.join(xa_py.ROOT, "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.startswith("LNF") and "/nonexistent/libxenaccess.so" in out.stdout
    env["XA_LIBRARY"] = xenaccess.library_path()
    out = subprocess.run([sys.executable, "-c", "import xenaccess; print(xenaccess.library_path())"],
                         capture_output=True, text=True, env=env)
    assert out.stdout.strip() == xenaccess.library_path()


# ---- a copy of the l4 image with a hooked syscall, patched text and a broken task list ----

@pytest.fixture(scope="module")
def tampered(dumps, tmp_path_factory):
    tgt, truth = target(dumps, "l4", "raw.img")
    copy = tmp_path_factory.mktemp("tampered") / "raw.img"
    shutil.copyfile(tgt[len("file:"):], copy)
    with xenaccess.open(tgt) as vm:
        table = vm.symbol("sys_call_table")
        hook = vm.symbol("__x64_sys_getpid")
        text = vm.symbol("_stext") + 0x12345
        procs = list(vm.processes())
        victim = procs[20]
        tasks_next = victim.task + vm.type_offset("task_struct", "tasks")
        patches = [(vm.translate(table + 8 * 59), hook.to_bytes(8, "little")),
                   (vm.translate(text), bytes([vm.read_u8(text) ^ 0xff])),
                   (vm.translate(tasks_next), (0xffffc90000dead00).to_bytes(8, "little"))]
    with open(copy, "r+b") as f:
        for pa, data in patches:
            f.seek(pa)
            f.write(data)
    yield {"orig": tgt, "copy": "file:%s" % copy, "text": text, "nprocs": len(procs),
           "victim": victim}
    os.unlink(copy)


def test_partial_walk_raises_after_items(tampered):
    with xenaccess.open(tampered["copy"]) as vm:
        seen = []
        with pytest.raises(xenaccess.PartialResult) as e:
            for p in vm.processes():
                seen.append(p.pid)
        assert isinstance(e.value, xenaccess.XenaccessError) and e.value.code < 0
        assert tampered["victim"].pid in seen and 20 <= len(seen) < tampered["nprocs"]
        assert e.value.count == len(seen) and e.value.message
        items, err = xenaccess.collect(vm.processes())
        assert [p.pid for p in items] == seen and isinstance(err, xenaccess.PartialResult)


def test_integrity_example_same_guest_two_formats(dumps):
    tgt, _ = target(dumps, "l4", "raw.img")
    p = xa_py.run_example("kernel_integrity.py", tgt, tgt.replace("raw.img", "core.elf"))
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert any(l.startswith("syscall table: ") and l.endswith("entries, unchanged") for l in lines)
    assert any(l.startswith("kernel text: ") and l.endswith("pages, unchanged") for l in lines)
    n = int(lines[0].split()[2])
    assert 300 < n < 1000


def test_integrity_example_finds_hook_and_patch(tampered):
    p = xa_py.run_example("kernel_integrity.py", tampered["orig"], tampered["copy"])
    assert p.returncode == 1, p.stdout + p.stderr
    changed = [l for l in p.stdout.splitlines() if l.startswith("CHANGED")]
    assert len(changed) == 2, p.stdout
    # (__x64_sys_getpid and __do_sys_getpid share an address: either name is right)
    assert any("sys_call_table[59]: __x64_sys_execve+0x0 -> " in l and "sys_getpid+0x0" in l
               for l in changed), changed
    # The table's size is the guest's (451 on 6.1, 441 on 5.10): the same as
    # an untampered comparison counts.
    m = re.search(r"^syscall table: (\d+) entries, 1 changed$", p.stdout, re.M)
    assert m, p.stdout
    same = xa_py.run_example("kernel_integrity.py", tampered["orig"], tampered["orig"])
    assert same.returncode == 0, same.stdout + same.stderr
    assert "syscall table: %s entries, unchanged" % m.group(1) in same.stdout, same.stdout
    assert "pages, 1 changed" in p.stdout


def test_integrity_example_error(tmp_path):
    p = xa_py.run_example("kernel_integrity.py", "file:/nonexistent/a.img", "file:/b.img")
    assert p.returncode == 2 and "/nonexistent/a.img" in p.stderr


# ---- the C example of README.md (and xenaccess(3)), compiled as a newcomer would ----

def readme_c_example():
    with open(os.path.join(xa_py.ROOT, "README.md")) as f:
        text = f.read()
    return re.search(r"^## Using the library\n\n```c\n(.*?)^```", text, re.M | re.S).group(1)


def build_c_example(tmp_path, body, headers, lib, name):
    """A documented C snippet in a main() (argv[1] available), built with the
    project's warning flags against the library the bindings use."""
    src = tmp_path / (name + ".c")
    src.write_text("".join("#include <%s>\n" % h for h in headers) +
                   "\nint main(int argc, char **argv)\n{\n    (void)argc;\n    (void)argv;\n"
                   "%s    return 0;\n}\n" % body)
    exe = tmp_path / name
    libdir = os.path.dirname(lib)
    lib_name = re.match(r"lib(\w+)\.so", os.path.basename(lib))[1]
    cmd = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror",
           "-I" + os.path.join(xa_py.ROOT, "include"), str(src), "-o", str(exe),
           "-L" + libdir, "-l" + lib_name, "-Wl,-rpath," + libdir]
    if _lib.needs_asan(lib):
        cmd.append("-fsanitize=address,undefined")
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return exe


def example_env():
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1")
    env.pop("LD_PRELOAD", None)
    return env


def build_readme_example(tmp_path):
    """The README's snippet, its target from argv[1]."""
    body = readme_c_example().replace("#include <xenaccess.h>\n", "")
    body = body.replace('"file:/var/tmp/guest.elf"', "argv[1]")
    return build_c_example(tmp_path, body, ["stdio.h", "xenaccess.h"], xenaccess.library_path(),
                           "readme")


def test_readme_c_example(tampered, tmp_path):
    """It lists the processes, and says so when a broken task list cut the
    walk short instead of printing a partial list as if it were whole."""
    exe = build_readme_example(tmp_path)
    env = example_env()
    with xenaccess.open(tampered["orig"]) as vm:
        want = ["%d %s" % (p.pid, p.comm) for p in vm.processes()]
    whole = subprocess.run([exe, tampered["orig"]], capture_output=True, text=True, env=env)
    assert (whole.returncode, whole.stderr) == (0, "")
    assert whole.stdout.splitlines() == want
    cut = subprocess.run([exe, tampered["copy"]], capture_output=True, text=True, env=env)
    assert cut.returncode == 0, cut.stderr
    assert len(cut.stdout.splitlines()) < len(want)
    assert re.fullmatch(r"process list: task list broken at 0x[0-9a-f]+: .+\n", cut.stderr), \
        cut.stderr


def test_man_page_example_is_the_readme_one():
    with open(os.path.join(xa_py.ROOT, "docs", "man", "xenaccess.3.scd")) as f:
        man = re.search(r"^# EXAMPLE\n\n```\n(.*?)^```", f.read(), re.M | re.S).group(1)
    readme = readme_c_example().replace("#include <xenaccess.h>\n\n", "")
    assert man.replace("\\\\n", "\\n") == readme.replace("/var/tmp/guest.elf", "guest.img")


def test_disk_md_c_example(tmp_path):
    """docs/disk.md's library snippet builds with -Wall -Wextra -Werror (it
    ignored the results the header marks must be used) and, with no tap,
    fails with one line."""
    with open(os.path.join(xa_py.ROOT, "docs", "disk.md")) as f:
        body = re.search(r"^## Library\n\n```c\n(.*?)^```", f.read(), re.M | re.S).group(1)
    assert '"tap:/tmp/vm.nbd.events"' in body
    body = body.replace('"tap:/tmp/vm.nbd.events"', "argv[1]")
    lib = next((p for p in _lib.candidates("xadisk") if os.sep in p and os.path.exists(p)), None)
    require(lib, "libxadisk.so is not built (meson -Ddisk=disabled?)")
    exe = build_c_example(tmp_path, body, ["err.h", "stdio.h", "xadisk.h"], lib, "disk")
    missing = tmp_path / "none.events"
    out = subprocess.run([exe, "tap:%s" % missing], capture_output=True, text=True,
                         env=example_env())
    assert out.returncode == 1
    assert out.stderr == \
        "disk: cannot connect to the tap at %s: No such file or directory\n" % missing


def test_disk_error_on_a_tiny_image_is_words(tmp_path):
    """A file too small to be a disk: libxadisk failed activate() with ERANGE
    and no message, and the exception said "-34"."""
    require(shutil.which("nbdkit"), "nbdkit is not installed")
    img = tmp_path / "small.img"
    img.write_bytes(b"not a disk\n" * 80)
    with xenaccess.disk.open("image:%s" % img) as d:
        with pytest.raises(xenaccess.XenaccessError) as e:
            d.activate()
    assert str(e.value) == "%s: no ext2/3/4 superblock (the image ends before it)" % img


def test_error_without_a_message_says_its_code_in_words():
    """A C failure that comes back with no message still says what it is."""
    e = xenaccess.errors.error_for(xenaccess.errors.ERANGE, "")
    assert isinstance(e, xenaccess.XenaccessError)
    assert str(e) == "physical address outside guest memory (XA_ERANGE)", str(e)
    assert str(xenaccess.errors.error_for(xenaccess.errors.EIO, "it broke")) == "it broke"


def test_undecodable_guest_names(dumps, tmp_path):
    """comm and module names the guest chose that are not UTF-8 come back as
    str with U+FFFD (docs/python.md), never an exception."""
    tgt, _ = target(dumps, "l4", "raw.img")
    copy = tmp_path / "raw.img"
    shutil.copyfile(tgt[len("file:"):], copy)
    with xenaccess.open(tgt) as vm:
        victim = [p for p in vm.processes() if not p.kthread][5]
        comm_pa = vm.translate(victim.task + vm.type_offset("task_struct", "comm"))
        mod = next(iter(vm.modules()))
        name_pa = vm.translate(mod.module + vm.type_offset("module", "name"))
    with open(copy, "r+b") as f:
        f.seek(comm_pa)
        f.write(b"ev\xffil\xc3(\0")
        f.seek(name_pa)
        f.write(b"m\xfe\x80od\0")
    with xenaccess.open("file:%s" % copy) as vm:
        want = b"ev\xffil\xc3(".decode("utf-8", "replace")
        assert vm.process(victim.pid).comm == want
        assert [t.comm for t in vm.threads(victim.pid)] == [want]
        assert [p.comm for p in vm.processes() if p.pid == victim.pid] == [want]
        assert next(iter(vm.modules())).name == "m\ufffd\ufffdod"
        assert list(vm.files(vm.process(victim.pid)))  # a Process with such a comm goes back to C
