"""Sockets and the kernel log through the Python bindings, on real guest
dumps: they must equal the guest's own /proc/net/*, socket fds and /dev/kmsg
(truth.sh xa_truth_net)."""
import os

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from net_truth import kmsg_records, sections
from views_compare import check_sockets
from xatest import dump_set, require

pytest_plugins = ["xa_py"]

KINDS = [("l4", "raw.img"), ("l5", "core.elf")]


def as_row(s):
    return {"proto": s.proto, "state": s.state, "local": s.local.decode("utf-8", "replace"),
            "remote": s.remote.decode(), "inode": s.inode, "rx_queue": s.rx_queue,
            "tx_queue": s.tx_queue, "type": s.type, "protocol": s.protocol,
            "ifindex": s.ifindex, "pids": list(s.pids), "netns": s.netns}


@pytest.mark.parametrize("kind,fname", KINDS)
def test_sockets_and_kmsg_match_guest(dumps, kind, fname):
    d = dump_set(dumps, kind)
    with open(os.path.join(d["dir"], "truth.txt"), errors="surrogateescape") as f:
        sec = sections(f.read())
    require("net_tcp" in sec, f"the {kind} dump set predates the net truth (remake it)")
    with xenaccess.open("file:" + os.path.join(d["dir"], fname)) as vm:
        socks = list(vm.sockets())
        check_sockets(sec, [as_row(s) for s in socks])
        recs = list(vm.kmsg())
        want = kmsg_records(sec["kmsg"])
        got = {r.seq: r for r in recs}
        for seq, (prio, usec, text) in want.items():
            r = got[seq]
            assert (r.facility << 3 | r.level, r.ts_ns // 1000, r.text) == (prio, usec, text)
        # from a later seq: only the records from there, none counted lost
        tail = list(vm.kmsg(recs[-3].seq))
        assert [r.seq for r in tail] == [r.seq for r in recs[-3:]]
        assert tail[0].dropped == 0
        with pytest.raises(ValueError):
            vm.kmsg(-1)
