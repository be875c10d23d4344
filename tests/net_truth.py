"""The guest's own view of its sockets and kernel log (truth.sh xa_truth_net:
/proc/net/*, socket fds, /dev/kmsg), parsed into what xa-net and xa-dmesg
--json must print."""
import re
import socket
import struct

TCP_STATES = ["UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
              "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"]
_SECTION = re.compile(r"^=== BEGIN (\S+) ===\n(.*?)^=== END \1 ===$", re.M | re.S)


def sections(text):
    return {m.group(1): m.group(2) for m in _SECTION.finditer(text)}


def _inet(hexaddr, v6):
    ip, port = hexaddr.split(":")
    raw = bytes.fromhex(ip)
    # /proc prints each 32-bit word in host (little-endian) order
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    addr = socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, b"".join(words))
    return ("[%s]:%d" if v6 else "%s:%d") % (addr, int(port, 16))


def inet_sockets(text, proto):
    """(proto, state, local, remote, inode, rx_queue, tx_queue) of /proc/net/{tcp,udp,raw}[6]."""
    out = []
    v6 = proto.endswith("6")
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        tx, rx = (int(x, 16) for x in f[4].split(":"))
        out.append((proto, TCP_STATES[int(f[3], 16)], _inet(f[1], v6), _inet(f[2], v6),
                    int(f[9]), rx, tx))
    return out


def unix_sockets(text):
    """(state, inode, type, path) of /proc/net/unix; state as sk_state names it."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split(None, 7)
        if len(f) < 7:
            continue
        flags, typ, st = int(f[3], 16), int(f[4], 16), int(f[5], 16)
        state = "LISTEN" if flags & 0x10000 else "ESTABLISHED" if st == 3 else "CLOSE"
        out.append((state, int(f[6]), typ, f[7] if len(f) > 7 else ""))
    return out


def packet_sockets(text):
    """(inode, protocol, ifindex, rmem) of /proc/net/packet."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) >= 9:
            out.append((int(f[8]), int(f[3], 16), int(f[4]), int(f[6])))
    return out


def socket_owners(text):
    """inode -> sorted pids, from `ls -l /proc/*/fd/` lines."""
    owners, pid = {}, None
    for line in text.splitlines():
        m = re.match(r"^/proc/(\d+)/fd/:$", line)
        if m:
            pid = int(m.group(1))
            continue
        m = re.search(r"socket:\[(\d+)\]$", line)
        if m and pid is not None:
            owners.setdefault(int(m.group(1)), set()).add(pid)
    return {k: sorted(v) for k, v in owners.items()}


def kmsg_records(text):
    """seq -> (prio, usec, text bytes) of /dev/kmsg lines ("prio,seq,usec,flags;text",
    the text with \\xHH escapes)."""
    recs = {}
    for line in text.splitlines():
        head, sep, body = line.partition(";")
        f = head.split(",")
        if not sep or len(f) < 3 or not f[0].isdigit():
            continue
        raw = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                     body.encode("utf-8", "surrogateescape"))
        recs[int(f[1])] = (int(f[0]), int(f[2]), raw)
    return recs


def expected(sec):
    """What xa-net --json must show, per proto, from the truth's sections."""
    want = {}
    for proto in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        want[proto] = sorted(inet_sockets(sec.get("net_" + proto, ""), proto))
    want["unix"] = sorted(unix_sockets(sec.get("net_unix", "")))
    want["packet"] = sorted(packet_sockets(sec.get("net_packet", "")))
    return want


def observed(rows):
    """The same tuples from xa-net --json rows."""
    got = {p: [] for p in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet")}
    for r in rows:
        p = r["proto"]
        if p in ("unix",):
            got[p].append((r["state"], r["inode"], r["type"], r["local"]))
        elif p == "packet":
            got[p].append((r["inode"], r["protocol"], r["ifindex"], r["rx_queue"]))
        elif p in got:
            got[p].append((p, r["state"], r["local"], r["remote"], r["inode"], r["rx_queue"],
                           r["tx_queue"]))
    return {p: sorted(v) for p, v in got.items()}


def text_bytes(row):
    return bytes.fromhex(row["text_hex"]) if "text_hex" in row else row["text"].encode()
