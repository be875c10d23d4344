"""The disk tools as a user meets them (issue 17): the shared option parser
with strict numbers, --help/--version, and `xa-disk-monitor image:IMG` run
again after an earlier run left its sockets behind or left its tap serving
the image. No VM: a small ext4 image made here."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from xatest import run_tool, skip_or_fail, tool_path


@pytest.fixture
def ext4_image(tmp_path):
    if not shutil.which("mkfs.ext4"):
        skip_or_fail("mkfs.ext4 not installed (package e2fsprogs)")
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True)
    return img


def monitor_image(img, *args):
    return run_tool("xa-disk-monitor", f"image:{img}", "--timeout", "0.5", *args, check=False,
                    timeout=60)


def sockets_of(img):
    return sorted(p.name for p in img.parent.iterdir() if p.name.startswith(img.name + "."))


@pytest.mark.parametrize("args", [
    ["xa-disk-monitor", "tap:/nowhere", "--count", "abc"],
    ["xa-disk-monitor", "tap:/nowhere", "--count", "0"],
    ["xa-disk-monitor", "tap:/nowhere", "--count", "-1"],
    ["xa-disk-monitor", "tap:/nowhere", "--timeout", "1e3"],
    ["xa-disk-monitor", "tap:/nowhere", "--timeout", ""],
    ["xa-disk-monitor", "tap:/nowhere", "--mask", "write,nosuch"],
    ["xa-disk-monitor", "tap:/nowhere", "--json", "--json"],
    ["xa-disk-monitor", "tap:/nowhere", "--sysmap", "x"],
    ["xa-disk-tap", "disk.img", "--socket", "/tmp/s", "--ring", "512K"],
    ["xa-disk-tap", "disk.img", "--socket", "/tmp/s", "--ring", "64Q"],
    ["xa-disk-tap", "disk.img", "--socket", "/tmp/s", "--ring", "17G"],
    ["xa-disk-tap", "disk.img"],
    ["xa-disk-tap", "disk.img", "--socket", "/tmp/s", "--json"],
])
def test_disk_tool_usage_errors(args):
    p = run_tool(args[0], *args[1:], check=False)
    assert p.returncode == 2, p
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert p.stderr.startswith(args[0] + ": "), p.stderr


@pytest.mark.parametrize("tool", ["xa-disk-monitor", "xa-disk-tap"])
def test_disk_tool_help_and_version(tool):
    h = run_tool(tool, "--help")
    for word in ("usage:", "TARGET:", "exit codes", "example:", "--version"):
        assert word in h.stdout, word
    v = run_tool(tool, "--version")
    assert v.stdout.startswith(tool + " (xenaccess) "), v.stdout


def test_watch_that_cannot_be_set_is_an_error_not_usage(ext4_image):
    p = monitor_image(ext4_image, "--watch", "relative/path")
    assert p.returncode == 1, p
    assert p.stderr.strip().splitlines()[-1].startswith("xa-disk-monitor: "), p.stderr
    assert sockets_of(ext4_image) == [], "the tap it started is gone, and so are its sockets"


def test_second_run_after_stale_sockets(ext4_image):
    """An earlier run killed hard leaves socket files nobody listens on: the
    next run removes them and starts its tap (it used to fail with
    'Address already in use' until the files were deleted)."""
    for name in (".nbd.sock", ".events.sock", ".nbd.sock.pid"):
        with open(str(ext4_image) + name, "w") as f:
            f.write("stale\n")
    p = monitor_image(ext4_image)
    assert p.returncode == 0, p.stderr
    assert "active" in p.stderr
    assert sockets_of(ext4_image) == [], sockets_of(ext4_image)
    p = monitor_image(ext4_image)
    assert p.returncode == 0, p.stderr


def test_tap_left_serving_the_image_is_reused(ext4_image):
    """A monitor that died leaves its tap serving the guest's disk: the next
    monitor attaches to it, and does not stop it when it exits."""
    sock = str(ext4_image) + ".nbd.sock"
    events = str(ext4_image) + ".events.sock"
    out = run_tool("xa-disk-tap", str(ext4_image), "--socket", sock, "--events", events,
                   "--background").stdout
    pid = int(next(line.split()[1] for line in out.splitlines() if line.startswith("PID:")))
    try:
        p = monitor_image(ext4_image)
        assert p.returncode == 0, p.stderr
        assert "active" in p.stderr
        os.kill(pid, 0)  # still serving
    finally:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def test_not_a_file_system_says_so(tmp_path):
    img = tmp_path / "text.img"
    img.write_text("not a disk image\n" * 1000)
    p = monitor_image(img)
    assert p.returncode == 1 and p.stdout == ""
    # one line: the error alone (the QEMU options came first, once)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("xa-disk-monitor: ") and "ext2/3/4" in lines[0], p.stderr
    assert sockets_of(img) == [], sockets_of(img)


def test_image_too_small_for_a_superblock_says_so(tmp_path):
    """1000 bytes end before the superblock at 1024: the monitor said
    "xa-disk-monitor: " and nothing more."""
    img = tmp_path / "small.img"
    img.write_bytes(os.urandom(1000))
    p = monitor_image(img)
    assert p.returncode == 1 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert lines == [f"xa-disk-monitor: {img}: no ext2/3/4 superblock (the image ends before it)"], \
        p.stderr


def not_a_disk(kind, tmp_path):
    """A path that is no disk image: (path, what the error says it is)."""
    if kind == "directory":
        return tmp_path, "is a directory"
    if kind == "device":
        return "/dev/null", "is a character device"
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    return empty, "is empty"


@pytest.mark.parametrize("kind", ["directory", "device", "empty"])
@pytest.mark.parametrize("tool", ["xa-disk-monitor", "xa-disk-tap"])
def test_not_a_disk_image_is_one_line(tool, kind, tmp_path):
    """The tools used to start nbdkit on it anyway: nbdkit's own error, then
    theirs (or, for an empty file, a tap serving a disk of no bytes)."""
    path, what = not_a_disk(kind, tmp_path)
    if tool == "xa-disk-tap":
        p = run_tool(tool, str(path), "--socket", str(tmp_path / "t.sock"), check=False,
                     timeout=60)
    else:
        p = monitor_image(path)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0] == f"{tool}: {path}: {what}, not a disk image (a file or a block device)"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(("sock", ".pid"))]


@pytest.mark.parametrize("where", ["missing", "file", "long"])
def test_socket_that_cannot_be_made_is_one_line(where, tmp_path):
    """nbdkit used to say it first, in a line of its own, then the tap."""
    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * 65536)
    sock, want = {
        "missing": (tmp_path / "no" / "t.sock", "directory %s: No such file or directory"
                    % (tmp_path / "no")),
        "file": (img / "t.sock", "%s is not a directory" % img),
        "long": (tmp_path / ("s" * 120), "longer than the 107 bytes"),
    }[where]
    p = run_tool("xa-disk-tap", str(img), "--socket", str(sock), check=False, timeout=60)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"xa-disk-tap: socket {sock}: "), p.stderr
    assert want in lines[0], p.stderr
    assert sorted(os.listdir(tmp_path)) == ["disk.img"]


def test_disk_tools_are_built_with_the_others():
    for tool in ("xa-disk-monitor", "xa-disk-tap"):
        assert os.access(tool_path(tool), os.X_OK)
