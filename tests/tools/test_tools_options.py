"""Option parsing of the xa-* tools: one parser, strict numbers. A bad value
is a usage error (exit 2, one line on stderr, nothing on stdout) found before
the target is opened, so no dump is needed: the target does not exist."""
import subprocess

import pytest

from xatest import run_tool, tool_path

NOWHERE = "file:/nonexistent/guest.img"

BAD_NUMBERS = ["4294967296", "4294967379", "2147483648", "-1", "", "12x", " 1", "1 ", "+1",
               "0x", "1.5", "1e3", "0x1g", "99999999999999999999", "0o17", "٣"]


def usage_error(p):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("tool,args", [
    ("xa-maps", ["--pid"]),
    ("xa-files", ["--pid"]),
    ("xa-mounts", ["--pid"]),
    ("xa-read", ["--va", "0x400000", "--len", "8", "--pid"]),
])
def test_bad_pid(tool, args, value):
    msg = usage_error(run_tool(tool, NOWHERE, *args, value, check=False))
    assert "--pid" in msg and "2147483647" in msg, msg


@pytest.mark.parametrize("args", [
    ["--va", "0x400000", "--len"],                  # --len: 1 .. 1 GiB
    ["--len", "8", "--va"],
    ["--len", "8", "--pa"],
])
@pytest.mark.parametrize("value", ["", "-1", "1x", "0x", " 8", "18446744073709551616", "1.0"])
def test_bad_read_numbers(args, value):
    usage_error(run_tool("xa-read", NOWHERE, *args, value, check=False))


@pytest.mark.parametrize("value", ["0", "1073741825", "0x40000001"])
def test_read_len_range(value):
    msg = usage_error(run_tool("xa-read", NOWHERE, "--pa", "0", "--len", value, check=False))
    assert "--len" in msg


@pytest.mark.parametrize("value", ["", "0", "-1", "abc", "nan", "inf", "1e3", "0x10", " 1",
                                   "86401", "1.5s"])
def test_bad_watch(value):
    msg = usage_error(run_tool("xa-ps", NOWHERE, "--watch", value, check=False))
    assert "--watch" in msg


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "x", ""])
def test_bad_count(value):
    usage_error(run_tool("xa-ps", NOWHERE, "--watch", "1", "--count", value, check=False))


@pytest.mark.parametrize("value", ["0x", "0x1g", "0x1ffffffffffffffff", "99999999999999999999"])
def test_bad_sym_address(value):
    # A query that looks like an address (0x..., or all digits) must be one.
    usage_error(run_tool("xa-sym", NOWHERE, value, check=False))


@pytest.mark.parametrize("argv", [
    ["xa-maps", NOWHERE, "--pid", "1", "--pid", "2"],    # given twice
    ["xa-maps", NOWHERE, "--pid"],                       # value missing
    ["xa-maps", NOWHERE],                                # --pid missing
    ["xa-ps", NOWHERE, "--json=yes"],                    # a flag takes no value
    ["xa-ps", NOWHERE, "--bogus"],
    ["xa-ps", NOWHERE, NOWHERE],                         # too many arguments
    ["xa-ps"],                                           # no target
    ["xa-ps", NOWHERE, "--count", "3"],                  # --count without --watch
    ["xa-read", NOWHERE, "--va", "1", "--pa", "1", "--len", "8"],
    ["xa-read", NOWHERE, "--pa", "1", "--pid", "1", "--len", "8"],
    ["xa-info", NOWHERE, "--sysmap", ""],
])
def test_usage_errors(argv):
    usage_error(run_tool(argv[0], *argv[1:], check=False))


def test_check_unknown_name_lists_the_checks():
    msg = usage_error(run_tool("xa-check", NOWHERE, "--check", "kprobe", check=False))
    assert "unknown check 'kprobe'" in msg, msg
    # the names --help gives, so that the typo can be mended from the message alone
    assert "(the checks: processes, modules, syscalls, idt, ftrace, kprobes, bpf, user, ops)" \
        in msg, msg


def test_sym_empty_name():
    # "" is all digits of none: it was taken for an address ("bad address ''")
    msg = usage_error(run_tool("xa-sym", NOWHERE, "", check=False))
    assert "empty NAME" in msg and "address ''" not in msg, msg


@pytest.mark.parametrize("argv", [
    ["xa-maps", NOWHERE, "--pid", "0x10"],
    ["xa-maps", NOWHERE, "--pid=2147483647"],
    ["xa-read", NOWHERE, "--va=0xffffffffffffffff", "--len", "0x40000000", "--pid", "007"],
    ["xa-ps", NOWHERE, "--watch", "0.25", "--count", "2"],
    ["xa-sym", NOWHERE, "18446744073709551615"],
])
def test_good_numbers_reach_the_target(argv):
    # Parsed fine: the error is now the missing file (exit 1), not usage.
    p = run_tool(argv[0], *argv[1:], check=False)
    assert p.returncode == 1, p.stderr
    assert "/nonexistent/guest.img" in p.stderr


@pytest.mark.parametrize("tool", ["xa-ps", "xa-maps", "xa-modules", "xa-info", "xa-sym",
                                  "xa-read",
                                  "xa-net", "xa-dmesg", "xa-files", "xa-mounts"])
def test_help_and_version(tool):
    h = run_tool(tool, "--help")
    assert h.stdout.startswith(f"usage: {tool} ") and "exit codes" in h.stdout
    assert "--json" in h.stdout and "file:" in h.stdout
    v = run_tool(tool, "--version")
    assert v.stdout.startswith(tool) and v.stdout.count("\n") == 1


def test_write_error_is_an_error(dumps):
    """Output that cannot be written (a full disk) is exit 1, not a silent 0."""
    import os
    tgt = "file:" + os.path.join(dumps[next(iter(dumps))]["dir"], "raw.img")
    with open("/dev/full", "w") as full:
        p = subprocess.run([tool_path("xa-ps"), tgt], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    assert p.returncode == 1
    assert "cannot write" in p.stderr and len(p.stderr.strip().splitlines()) == 1
