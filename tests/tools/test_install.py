"""`meson install` into a DESTDIR gives a working system: tools that run
(with the installed library), man pages `man -l` renders, pkg-config files
that work alone and with --define-prefix, bash completion, the examples and a
Python package that imports and loads the installed library."""
import glob
import json
import os
import subprocess

import pytest

from xatest import BUILD, DUMPS, skip_or_fail


def build_options():
    p = subprocess.run(["meson", "introspect", BUILD, "--buildoptions"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return {o["name"]: o["value"] for o in json.loads(p.stdout)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("destdir"))
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                        "--destdir", dest], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    o = build_options()
    root = dest + o["prefix"]
    return {
        "dest": dest, "root": root, "opts": o,
        "bin": os.path.join(root, o["bindir"]),
        "lib": os.path.join(root, o["libdir"]),
        "man": os.path.join(root, o["mandir"]),
        "share": os.path.join(root, o["datadir"]),
    }


def env_for(inst, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XA_", "PKG_CONFIG"))}
    env["LD_LIBRARY_PATH"] = inst["lib"]
    env.update(extra)
    return env


def test_installed_tool_runs(installed):
    for tool in ("xa-info", "xa-ps", "xa-sym", "xa-read", "xa-modules", "xa-maps", "xa-files",
                 "xa-mounts"):
        path = os.path.join(installed["bin"], tool)
        p = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60,
                           env=env_for(installed))
        assert p.returncode == 0 and p.stdout.startswith(tool + " (xenaccess) "), p.stderr
    # It uses the installed library, not the build tree's.
    ldd = subprocess.run(["ldd", os.path.join(installed["bin"], "xa-ps")], capture_output=True,
                         text=True, env=env_for(installed), timeout=60).stdout
    assert os.path.join(installed["lib"], "libxenaccess.so.0") in ldd, ldd
    raw = os.path.join(DUMPS, "l4", "raw.img")
    if os.path.exists(raw):
        p = subprocess.run([os.path.join(installed["bin"], "xa-sym"), "file:" + raw,
                            "init_task"], capture_output=True, text=True, timeout=120,
                           env=env_for(installed))
        assert p.returncode == 0 and p.stdout.endswith(" init_task\n"), p.stderr


def test_backend_modules_installed(installed):
    """libvirt and Xen modules go to <libdir>/xenaccess/backends, where the
    installed library looks for them (without XA_BACKEND_DIR)."""
    built = [m for m in ("xen", "libvirt")
             if os.path.exists(os.path.join(BUILD, "backends", "backend-%s.so" % m))]
    for m in built:
        rel = os.path.join(installed["opts"]["prefix"], installed["opts"]["libdir"], "xenaccess",
                           "backends", "backend-%s.so" % m)
        assert os.path.exists(installed["dest"] + rel), rel
        # Installed under DESTDIR, not at the prefix: the tool names the path it wanted.
        p = subprocess.run([os.path.join(installed["bin"], "xa-ps"), "%s:guest" % m],
                           capture_output=True, text=True, timeout=60, env=env_for(installed))
        if not os.path.exists(rel):
            assert p.returncode != 0 and ("backend not installed: " + rel) in p.stderr, p.stderr


@pytest.mark.parametrize("page", ["man1/xa-ps.1", "man1/xa-read.1", "man3/xenaccess.3",
                                  "man7/xenaccess-targets.7"])
def test_man_page_installed(installed, page):
    path = os.path.join(installed["man"], page)
    p = subprocess.run(["man", "-l", "-P", "cat", path], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "MANWIDTH": "100"})
    assert p.returncode == 0, p.stderr
    name = os.path.basename(page).rsplit(".", 1)[0]
    assert "NAME" in p.stdout and name in p.stdout


def test_headers_and_pkgconfig(installed):
    root = installed["root"]
    assert os.path.exists(os.path.join(root, "include", "xenaccess.h"))
    pcs = glob.glob(os.path.join(root, "**", "xenaccess.pc"), recursive=True)
    assert len(pcs) == 1, pcs
    pcdir = os.path.dirname(pcs[0])
    # Only this directory: the .pc files of libbpf, json-c, Xen, libvirt are
    # "missing", as on a machine without their -dev packages.
    env = env_for(installed, PKG_CONFIG_LIBDIR=pcdir)
    p = subprocess.run(["pkg-config", "--cflags", "--libs", "xenaccess"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "-lxenaccess" in p.stdout
    # --define-prefix: the paths where the files really are (the DESTDIR).
    p = subprocess.run(["pkg-config", "--define-prefix", "--cflags", "--libs", "xenaccess"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    flags = p.stdout.split()
    assert "-I" + os.path.join(root, "include") in flags, flags
    assert "-L" + installed["lib"] in flags, flags
    # And a program builds against the installed copy with those flags.
    src = os.path.join(installed["dest"], "t.c")
    with open(src, "w") as f:
        f.write('#include <xenaccess.h>\nint main(void){return xa_strerror(XA_ENOENT)==0;}\n')
    exe = os.path.join(installed["dest"], "t")
    cc = subprocess.run(["cc", "-o", exe, src, *flags, "-fsanitize=address,undefined"]
                        if "address" in installed["opts"]["b_sanitize"]
                        else ["cc", "-o", exe, src, *flags], capture_output=True, text=True,
                        timeout=120)
    assert cc.returncode == 0, cc.stderr
    assert subprocess.run([exe], env=env, timeout=60).returncode == 0


def test_xadisk_pkgconfig(installed):
    """xadisk.pc too: no Requires.private naming ext2fs (missing here, as on
    a machine without libext2fs-dev), and paths right with --define-prefix."""
    root = installed["root"]
    pcs = glob.glob(os.path.join(root, "**", "xadisk.pc"), recursive=True)
    assert len(pcs) == 1, pcs
    env = env_for(installed, PKG_CONFIG_LIBDIR=os.path.dirname(pcs[0]))
    p = subprocess.run(["pkg-config", "--define-prefix", "--cflags", "--libs", "xadisk"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    flags = p.stdout.split()
    assert "-I" + os.path.join(root, "include") in flags and "-lxadisk" in flags, flags
    assert "-L" + installed["lib"] in flags, flags


def test_completion_and_examples(installed):
    comp = os.path.join(installed["share"], "bash-completion", "completions")
    for tool in ("xa-ps", "xa-read", "xa-info"):
        assert os.path.exists(os.path.join(comp, tool)), tool
    ex = os.path.join(installed["share"], "doc", "xenaccess", "examples")
    assert os.path.exists(os.path.join(ex, "ps_watch.py"))


def python_dir(installed):
    inits = glob.glob(os.path.join(installed["root"], "lib", "python3*", "*-packages",
                                   "xenaccess", "__init__.py"))
    assert len(inits) == 1, inits
    return os.path.dirname(os.path.dirname(inits[0]))


def test_python_package(installed):
    pydir = python_dir(installed)
    if installed["opts"]["prefix"] == "/usr":
        # Where Debian's python3 looks.
        assert pydir == os.path.join(installed["root"], "lib", "python3", "dist-packages")
    env = env_for(installed, PYTHONPATH=pydir)
    lib = os.path.join(installed["lib"], "libxenaccess.so.0")
    if "address" in installed["opts"]["b_sanitize"]:
        # The library was built with ASan: its runtime must come first.
        asan = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True,
                              text=True).stdout.strip()
        env.update(LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0")
    code = ("import os, xenaccess\n"
            "print(xenaccess.__file__)\n"
            "xenaccess.library_path()\n"
            "print([l.split()[-1] for l in open('/proc/self/maps') if 'libxenaccess' in l][0])\n")
    # Debian's python3, from a directory that is not the source tree.
    p = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       env=env, cwd=installed["dest"], timeout=120)
    assert p.returncode == 0, p.stderr
    mod, loaded = p.stdout.split()
    assert mod == os.path.join(pydir, "xenaccess", "__init__.py")
    assert os.path.realpath(loaded) == os.path.realpath(lib)


def test_demo_says_why_its_build_failed(tmp_path):
    """The README's first command builds quietly: a failing build must still
    say why (meson and ninja print it on stdout, which demo.sh used to send
    to /dev/null: it then ended with exit 1 and not a word)."""
    if os.geteuid() != 0:
        skip_or_fail("scripts/demo.sh runs scripts/deps.sh, which wants root")
    build = tmp_path / "build"
    build.mkdir()
    (build / "build.ninja").write_text(
        "rule broken\n  command = echo 'cc: error: the reason the build failed'; false\n"
        "build all: broken\ndefault all\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, XA_BUILD=str(build))
    p = subprocess.run(["bash", os.path.join(root, "scripts", "demo.sh")], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "cc: error: the reason the build failed" in p.stderr, p.stderr
    assert "demo: the build failed" in p.stderr and str(build) in p.stderr, p.stderr
    assert "booting" not in p.stdout  # it stopped there
