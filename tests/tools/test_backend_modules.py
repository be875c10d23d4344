"""Heavy backends are loadable modules (backends/module.h): libxenaccess.so
needs no libvirt or Xen library, a tool on a dump loads none, a xen: or
libvirt: target loads its module from XA_BACKEND_DIR, and a missing module
is one clear line (issue 13, item 3)."""
import os
import re
import subprocess

from xatest import BUILD, DUMPS, require, tool_path

HEAVY = re.compile(r"lib(virt|xen(?!access))")


def needed(path):
    p = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def loaded_libs(args, **env):
    """The shared objects the dynamic linker initialised while running a tool."""
    e = dict(os.environ, LD_DEBUG="libs", **env)
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, env=e)
    libs = set(re.findall(r"calling init: (\S+)", p.stderr))
    return p, libs


def built_modules():
    d = os.path.join(BUILD, "backends")
    return [m for m in ("xen", "libvirt") if os.path.exists(os.path.join(d, "backend-%s.so" % m))]


def test_library_needs_no_heavy_backend():
    lib = os.path.join(BUILD, "libxenaccess.so")
    deps = needed(lib)
    assert deps and not [d for d in deps if HEAVY.search(d)], deps
    # ... while the modules do: the check above could see them.
    for m in built_modules():
        mdeps = needed(os.path.join(BUILD, "backends", "backend-%s.so" % m))
        assert [d for d in mdeps if HEAVY.search(d)], (m, mdeps)
        assert "libxenaccess.so.0" not in mdeps, mdeps  # the host table, not links


def test_tool_on_dump_loads_no_heavy_library():
    raw = os.path.join(DUMPS, "l4", "raw.img")
    require(os.path.exists(raw), "no l4 dump in " + DUMPS)
    p, libs = loaded_libs([tool_path("xa-sym"), "file:" + raw, "init_task"])
    assert p.returncode == 0, p.stderr[-2000:]
    assert libs and not [lib for lib in libs if HEAVY.search(lib)], sorted(libs)
    # Release builds load 7 (docs/architecture.md); sanitizers add their runtimes.
    sanitizers = [lib for lib in libs if re.search(r"lib(asan|ubsan|stdc\+\+|gcc_s|m)\.so", lib)]
    assert len(libs) - len(sanitizers) <= 12, sorted(libs)


def test_xen_target_loads_its_module():
    require("xen" in built_modules(), "the Xen backend module is not built")
    p, libs = loaded_libs([tool_path("xa-ps"), "xen:no-such-domain"],
                          XA_BACKEND_DIR=os.path.join(BUILD, "backends"))
    assert p.returncode != 0
    assert [lib for lib in libs if "backend-xen.so" in lib], sorted(libs)
    assert [lib for lib in libs if "libxenctrl" in lib], sorted(libs)
    assert "not installed" not in p.stderr and "not built" not in p.stderr, p.stderr


def test_missing_module_is_one_clear_line(tmp_path):
    for m in built_modules():
        p = subprocess.run([tool_path("xa-ps"), "%s:guest" % m], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, XA_BACKEND_DIR=str(tmp_path)))
        assert p.returncode != 0
        want = "%s backend not installed: %s" % (m, os.path.join(str(tmp_path),
                                                                "backend-%s.so" % m))
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and want in lines[0], p.stderr


def test_broken_module_is_refused(tmp_path):
    require(built_modules(), "no backend module is built")
    m = built_modules()[0]
    # A shared object without the entry point (the library itself) is no module.
    os.symlink(os.path.join(BUILD, "libxenaccess.so"), tmp_path / ("backend-%s.so" % m))
    p = subprocess.run([tool_path("xa-ps"), "%s:guest" % m], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, XA_BACKEND_DIR=str(tmp_path)))
    assert p.returncode != 0
    assert "is not a %s backend module" % m in p.stderr, p.stderr


def test_module_exports_only_its_entry():
    for m in built_modules():
        p = subprocess.run(["nm", "-D", "--defined-only",
                            os.path.join(BUILD, "backends", "backend-%s.so" % m)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        names = {ln.split()[-1] for ln in p.stdout.splitlines() if ln.strip()}
        assert names == {"xa_backend_module_entry"}, (m, sorted(names))
