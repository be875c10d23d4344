"""Manual pages and --help agree: every option a tool's --help lists has an
entry in its man page, and (for the tools whose help comes from their option
table) every option the page describes is one the tool has. The pages are
the ones meson built from docs/man/*.scd."""
import os
import re
import subprocess

import pytest

from xatest import BUILD, tool_path, skip_or_fail

MEMORY_TOOLS = ["xa-info", "xa-ps", "xa-sym", "xa-read", "xa-modules", "xa-maps"]
MEMORY_TOOLS += ["xa-net", "xa-dmesg"]
MEMORY_TOOLS += ["xa-files", "xa-mounts"]
MEMORY_TOOLS += ["xa-check"]
DISK_TOOLS = ["xa-disk-tap", "xa-disk-monitor"]
PAGES = [t + ".1" for t in MEMORY_TOOLS + DISK_TOOLS] + ["xenaccess.3", "xadisk.3",
                                                       "xenaccess-targets.7"]


def built_page(page):
    path = os.path.join(BUILD, "docs", "man", page)
    if not os.path.exists(path):
        if page.startswith("xa-disk") or page.startswith("xadisk"):
            skip_or_fail(f"{page}: disk monitoring not built")
        pytest.fail(f"{path} not built (scdoc missing?)")
    return path


def disk_tool(name):
    path = os.path.join(BUILD, "tools", name)
    if not os.path.exists(path):
        skip_or_fail(f"{name} not built")
    return path


def help_options(path):
    p = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", p.stdout))
    assert "--help" in opts and "--version" in opts
    return opts, p.stdout


def man_entries(path):
    """Options that have an entry of their own in the page's OPTIONS section
    (a line of roff starting with the option in bold)."""
    with open(path) as f:
        roff = f.read()
    return set(re.findall(r"^\\fB(?:-h\\fR, \\fB)?(--[a-z][a-z-]*)\\fR", roff, re.M)), roff


def rendered(path):
    p = subprocess.run(["man", "-l", "-P", "cat", path], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "MANWIDTH": "100", "LC_ALL": "C.UTF-8"})
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("tool", MEMORY_TOOLS)
def test_help_and_man_agree(tool):
    helped, text = help_options(tool_path(tool))
    entries, _ = man_entries(built_page(tool + ".1"))
    assert helped - entries == set(), f"in --help, not in the man page: {helped - entries}"
    assert entries - helped == set(), f"in the man page, not in --help: {entries - helped}"
    # --help says what the page says in short: targets, exit codes, an example.
    for word in ("file:", "qemu:", "xen:", "libvirt:", "exit codes", "example:"):
        assert word in text, word


@pytest.mark.parametrize("tool", DISK_TOOLS)
def test_disk_help_and_man_agree(tool):
    helped, text = help_options(disk_tool(tool))
    entries, _ = man_entries(built_page(tool + ".1"))
    assert helped - entries == set(), f"in --help, not in the man page: {helped - entries}"
    assert entries - helped == set(), f"in the man page, not in --help: {entries - helped}"
    for word in ("exit codes", "example:"):
        assert word in text, word


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page):
    text = rendered(built_page(page))
    name = page.rsplit(".", 1)[0]
    assert "NAME" in text and name in text
    assert "SEE ALSO" in text
    # scdoc would have refused a malformed source; make sure nothing leaked.
    assert "\\f" not in text and "*--" not in text


@pytest.mark.parametrize("tool,codes", [("xa-info", "0 fine, 1 error, 2 usage"),
                                        ("xa-read", "3 the read stopped early")])
def test_exit_codes_as_the_tool_has_them(tool, codes):
    """xa-info walks no list and never exits 3; xa-read's 3 is a read cut
    short. Both used to list the walking tools' "3 partial result"."""
    _, text = help_options(tool_path(tool))
    line = next(ln for ln in text.splitlines() if ln.startswith("exit codes: "))
    assert codes in line and "walk over guest data" not in line, line
    page = " ".join(rendered(built_page(tool + ".1")).split())
    assert "walk over guest data stopped early" not in page, tool
