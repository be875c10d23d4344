"""qemu: target errors: clear one-line messages, bounded time, no hang."""

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from livecommon import binary, build_dir, parse_kv, qemu_can_run, skip_or_fail
from xatest import copy_for_anyone


def open_only(path, env=None, preexec_fn=None, timeout=60, exe=None):
    # timeout: a hang fails the test (subprocess.TimeoutExpired)
    p = subprocess.run([exe or binary("tests/live/live_attach"), path, "--open-only"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=env, preexec_fn=preexec_fn)
    return p.returncode, parse_kv(p.stdout), p.stdout


def open_error(path, **kw):
    rc, kv, out = open_only(path, **kw)
    assert rc == 1, out
    code, _, msg = kv["open_error"][0].partition(" ")
    assert "\n" not in msg
    return int(code), msg


def test_no_such_file(tmp_path):
    code, msg = open_error(str(tmp_path / "nope.sock"))
    assert code == -2 and "no such file" in msg


def test_not_a_socket(tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    code, msg = open_error(str(f))
    assert code == -22 and "not a socket" in msg


def test_connection_refused(tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # bound, never listening: a stale socket
    code, msg = open_error(path)
    assert code == -1007 and "connection refused" in msg


def _server(path, greeting):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    conns = []

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        conns.append(c)
        if greeting is not None:
            c.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    return srv, conns


def test_silent_peer_times_out(tmp_path):
    path = str(tmp_path / "silent.sock")
    srv, conns = _server(path, None)
    try:
        env = dict(os.environ, XA_QMP_TIMEOUT_MS="1000")
        code, msg = open_error(path, env=env)
        # the configured timeout, not the default, ended the wait
        assert code == -110 and "not speaking QMP" in msg and "within 1000 ms" in msg, msg
    finally:
        srv.close()


def test_not_qmp(tmp_path):
    path = str(tmp_path / "junk.sock")
    srv, conns = _server(path, b"SSH-2.0-OpenSSH_9.2\r\n")
    try:
        code, msg = open_error(path)
        assert code == -1001 and "not speaking QMP" in msg
    finally:
        srv.close()


def test_not_qmp_json(tmp_path):
    path = str(tmp_path / "json.sock")
    srv, conns = _server(path, b'{"hello": 1}\r\n')
    try:
        code, msg = open_error(path)
        assert code == -1001 and "greeting" in msg
    finally:
        srv.close()


@pytest.fixture
def bare_qemu():
    """A QEMU with a QMP socket and no guest RAM (-machine none), the socket
    in a directory anyone may enter."""
    if not qemu_can_run():
        skip_or_fail("qemu-system-x86_64 cannot run here")
    d = copy_for_anyone({})  # an empty directory anyone may enter
    sock = os.path.join(d, "qmp.sock")
    p = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-machine", "none",
                          "-nodefaults", "-display", "none", "-S",
                          "-qmp", "unix:%s,server=on,wait=off" % sock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(sock):
            assert p.poll() is None, "qemu exited with %s" % p.returncode
            assert time.monotonic() < deadline, "qemu made no QMP socket in 120 s"
            time.sleep(0.05)
        yield sock
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def test_busy_socket_and_no_ram(bare_qemu):
    # QEMU serves one QMP client at a time: a second one gets no greeting.
    holder = socket.socket(socket.AF_UNIX)
    holder.connect(bare_qemu)
    holder.recv(4096)
    env = dict(os.environ, XA_QMP_TIMEOUT_MS="1000")
    code, msg = open_error(bare_qemu, env=env)
    assert code == -110 and "another client" in msg and "within 1000 ms" in msg, msg
    holder.close()
    # Free again once QEMU has seen the holder go: QMP works, but this
    # machine has no guest RAM.
    deadline = time.monotonic() + 60
    while True:
        code, msg = open_error(bare_qemu)
        if "another client" not in msg or time.monotonic() > deadline:
            break
    assert msg.endswith("QEMU reports no memory backends"), msg


def test_permission_denied(bare_qemu, tmp_path):
    os.chmod(bare_qemu, 0o600)
    if os.getuid() == 0:
        # nobody cannot enter a checkout under a 0700 directory: run a copy
        rel = "tests/live/live_attach"  # finds the library at $ORIGIN/../..
        public = copy_for_anyone({rel: binary(rel),
                                  "libxenaccess.so.0": os.path.join(build_dir(),
                                                                    "libxenaccess.so.0")})
        try:
            exe = os.path.join(public, rel)

            def drop():
                os.setgid(65534)
                os.setuid(65534)
            code, msg = open_error(bare_qemu, preexec_fn=drop, exe=exe)
        finally:
            shutil.rmtree(public, ignore_errors=True)
    else:
        os.chmod(bare_qemu, 0)
        code, msg = open_error(bare_qemu)
    assert code == -13 and "permission denied" in msg, msg
