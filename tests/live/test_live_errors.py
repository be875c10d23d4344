"""qemu: target errors: clear one-line messages, bounded time, no hang."""

import os
import socket
import subprocess
import threading
import time

import pytest

from livecommon import binary, parse_kv, qemu_can_run, skip_or_fail


def open_only(path, env=None, preexec_fn=None, timeout=30):
    t = time.time()
    p = subprocess.run([binary("tests/live/live_attach"), path, "--open-only"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=env, preexec_fn=preexec_fn)
    return p.returncode, parse_kv(p.stdout), time.time() - t, p.stdout


def open_error(path, **kw):
    rc, kv, secs, out = open_only(path, **kw)
    assert rc == 1, out
    code, _, msg = kv["open_error"][0].partition(" ")
    assert "\n" not in msg
    return int(code), msg, secs


def test_no_such_file(tmp_path):
    code, msg, _ = open_error(str(tmp_path / "nope.sock"))
    assert code == -2 and "no such file" in msg


def test_not_a_socket(tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    code, msg, _ = open_error(str(f))
    assert code == -22 and "not a socket" in msg


def test_connection_refused(tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # bound, never listening: a stale socket
    code, msg, _ = open_error(path)
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
        code, msg, secs = open_error(path, env=env)
        assert code == -110 and "not speaking QMP" in msg
        assert secs < 5
    finally:
        srv.close()


def test_not_qmp(tmp_path):
    path = str(tmp_path / "junk.sock")
    srv, conns = _server(path, b"SSH-2.0-OpenSSH_9.2\r\n")
    try:
        code, msg, _ = open_error(path)
        assert code == -1001 and "not speaking QMP" in msg
    finally:
        srv.close()


def test_not_qmp_json(tmp_path):
    path = str(tmp_path / "json.sock")
    srv, conns = _server(path, b'{"hello": 1}\r\n')
    try:
        code, msg, _ = open_error(path)
        assert code == -1001 and "greeting" in msg
    finally:
        srv.close()


@pytest.fixture
def bare_qemu(tmp_path):
    """A QEMU with a QMP socket and no guest RAM (-machine none)."""
    if not qemu_can_run():
        skip_or_fail("qemu-system-x86_64 cannot run here")
    sock = str(tmp_path / "qmp.sock")
    p = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-machine", "none",
                          "-nodefaults", "-display", "none", "-S",
                          "-qmp", "unix:%s,server=on,wait=off" % sock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    yield sock
    p.kill()
    p.wait()


def test_busy_socket_and_no_ram(bare_qemu):
    # QEMU serves one QMP client at a time: a second one gets no greeting.
    holder = socket.socket(socket.AF_UNIX)
    holder.connect(bare_qemu)
    holder.recv(4096)
    env = dict(os.environ, XA_QMP_TIMEOUT_MS="1000")
    code, msg, secs = open_error(bare_qemu, env=env)
    assert code == -110 and "another client" in msg and secs < 5
    holder.close()
    time.sleep(0.2)
    # Free again: QMP works, but this machine has no guest RAM.
    code, msg, _ = open_error(bare_qemu)
    assert "no memory backends" in msg or "no usable memory" in msg, msg


def test_permission_denied(bare_qemu):
    os.chmod(bare_qemu, 0o600)
    if os.getuid() == 0:
        def drop():
            os.setgid(65534)
            os.setuid(65534)
        code, msg, _ = open_error(bare_qemu, preexec_fn=drop)
    else:
        os.chmod(bare_qemu, 0)
        code, msg, _ = open_error(bare_qemu)
    assert code == -13 and "permission denied" in msg
