"""The guest views (xa-files, xa-mounts, xa-net, xa-dmesg --json) compared
with the guest's own view of itself (tests/guest/truth.sh: xa_truth_files,
xa_truth_net), on every target kind: dumps (tests/tools), live QEMU and
libvirt guests, and Xen domUs (tests/xen). One place, so a fix to a
comparison holds for all of them."""
import re

from net_truth import expected, observed, socket_owners, text_bytes


# ---- open files ------------------------------------------------------------

def got_path(row):
    return bytes.fromhex(row["path_hex"]) if "path_hex" in row else row["path"].encode()


def command_server(truth):
    """The QEMU guest's command server (init.sh serve: fds 3 and 4 on ttyS1).
    It ran the truth's command (stdin from /dev/null) and waits in `read <&3`
    (stdin from ttyS1) at the dump; busybox sh keeps saved copies of
    redirected fds at 10 and above. So its fd 0 and fds from 10 on differ
    between the two moments and are left out; 1 to 9 must match."""
    links = {(f["pid"], f["fd"]): bytes.fromhex(f["path_hex"]) for f in truth["files"]["fds"]}
    return {pid for (pid, fd), path in links.items()
            if fd == 3 and path == b"/dev/ttyS1" and links.get((pid, 4)) == b"/dev/ttyS1"}


def compared(truth, pid, fd):
    return not (pid in command_server(truth) and (fd == 0 or fd >= 10))


def file_facts(f):
    """What is compared of one fd of the truth (harness.parse_files)."""
    return (bytes.fromhex(f["path_hex"]), f["inode"], f["pos"], f["flags"], f["dev"], f["mode"])


def row_facts(r):
    """The same of one xa-files --json row."""
    return (got_path(r), r["inode"], r["pos"], r["flags"], r["dev"], r["mode"])


def files_truth(truth, pids):
    """{(pid, fd): facts} of the truth's fds of @pids."""
    return {(f["pid"], f["fd"]): file_facts(f) for f in truth["files"]["fds"]
            if f["pid"] in pids and compared(truth, f["pid"], f["fd"])}


def check_files(truth, rows, pids, want):
    """xa-files rows of @pids equal @want exactly: no fd missing, none extra."""
    rows = [r for r in rows if r["pid"] in pids and compared(truth, r["pid"], r["fd"])]
    got = {(r["pid"], r["fd"]): row_facts(r) for r in rows}
    assert len(got) == len(rows)  # no fd twice
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing and not extra, (missing[:10], extra[:10])
    wrong = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not wrong, wrong[:10]


def files_pid(truth):
    """The xa-files process (its own mount namespace): the mountinfo pid not 1."""
    return int([p for p in truth["files"]["mountinfo"] if p != "1"][0])


def check_workload_files(rows, fp):
    """The workload's xa-files process (workload.c files_run): every kind of
    file there, named as /proc names them."""
    mine = {r["fd"]: r for r in rows if r["pid"] == fp}
    kinds = {r["type"] for r in mine.values()}
    assert {"REG", "FIFO", "anon", "CHR"} <= kinds, kinds
    paths = [r["path"] for r in mine.values()]
    assert "/tmp/xa-files/deleted.txt (deleted)" in paths
    assert "/tmp/xa-files/ns/inside.txt" in paths  # on the namespace's own tmpfs
    assert "anon_inode:[eventfd]" in paths
    assert sum(1 for x in paths if re.fullmatch(r"pipe:\[\d+\]", x)) == 2


# ---- mounts ----------------------------------------------------------------

def unescape(field):
    """mountinfo's octal escapes (space, tab, newline, backslash) undone."""
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)


def parse_mountinfo(lines_hex):
    out = []
    for h in lines_hex:
        f = bytes.fromhex(h).split(b" ")
        sep = f.index(b"-")
        out.append({"mnt_id": int(f[0]), "parent_id": int(f[1]), "dev": f[2].decode(),
                    "root": unescape(f[3]), "mount_point": unescape(f[4]),
                    "options": f[5].decode(), "propagation": b" ".join(f[6:sep]).decode(),
                    "fstype": f[sep + 1].decode(), "source": unescape(f[sep + 2]),
                    "super_ro": f[sep + 3].split(b",")[0] == b"ro"})
    return out


def as_mountinfo(rows):
    keys = ("mnt_id", "parent_id", "dev", "options", "propagation", "fstype", "super_ro")
    out = []
    for r in rows:
        m = {k: r[k] for k in keys}
        for k in ("root", "mount_point", "source"):
            m[k] = bytes.fromhex(r[k + "_hex"]) if k + "_hex" in r else r[k].encode()
        out.append(m)
    return out


def check_mounts(rows, mountinfo_hex, what):
    """xa-mounts --json rows equal a /proc/PID/mountinfo (truth lines, hex)."""
    got, want = as_mountinfo(rows), parse_mountinfo(mountinfo_hex)
    assert got == want, (what, [m for m in got if m not in want][:3],
                         [m for m in want if m not in got][:3])


# ---- sockets and the kernel log ----------------------------------------------

def netns_view(sec):
    """The truth's network namespaces (truth.sh xa_truth_netns): (inode of
    pid 1's, {pid: inode} of the workload's second one); (None, {}) when
    the truth has no netns section."""
    init, others = None, {}
    for line in sec.get("netns", "").splitlines():
        m = re.match(r"^(init|pid (\d+)) net:\[(\d+)\]$", line)
        if m and m.group(1) == "init":
            init = int(m.group(3))
        elif m:
            others[int(m.group(2))] = int(m.group(3))
    return init, others


def check_sockets(sec, rows):
    """xa-net --json rows of the initial network namespace equal the truth's
    /proc/net/* (net_truth.expected), each socket held by the pids its
    socket:[INODE] fd links name, and the server end of the workload's
    unaccepted connection (only the kernel holds it) is there. A truth
    without the netns section comes from a guest with one namespace."""
    init, _ = netns_view(sec)
    if init is None:
        assert len({r.get("netns") for r in rows}) <= 1, "sockets of several namespaces"
    else:
        assert init in {r["netns"] for r in rows}, "no socket of pid 1's namespace %d" % init
        rows = [r for r in rows if r["netns"] == init]
    want, got = expected(sec), observed(rows)
    for proto in want:
        assert got[proto] == want[proto], proto
    owners = socket_owners(sec["net_fds"])
    for r in rows:
        assert r["pids"] == owners.get(r["inode"], []), r
    assert any(r["inode"] == 0 and r["pids"] == [] for r in rows if r["proto"] == "tcp")


def check_kmsg(want, rows):
    """Every /dev/kmsg record of the truth (net_truth.kmsg_records) is among
    the xa-dmesg --json rows with the same priority, time and text (the log
    may have grown since: later records are not compared)."""
    got = {r["seq"]: r for r in rows}
    assert len(want) > 100
    for seq, (prio, usec, text) in want.items():
        r = got.get(seq)
        assert r is not None, "record %d missing" % seq
        assert (r["facility"] << 3 | r["level"], r["ts_ns"] // 1000, text_bytes(r)) == \
            (prio, usec, text), seq
