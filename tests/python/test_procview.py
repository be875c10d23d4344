"""Inside processes through the Python bindings, on real guest dumps: threads,
credentials, start time, command line, environment and exe/cwd/root must equal
what the guest's /proc said (the truth's "procview" section, see init.sh)."""
import os

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from xatest import dump_set

pytest_plugins = ["xa_py"]

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


@pytest.mark.parametrize("kind,fname", KINDS)
def test_procview_matches_guest(dumps, kind, fname):
    d = dump_set(dumps, kind)
    pv = d["truth"].get("procview")
    assert pv, "truth has no procview section: remake the dumps"
    threaded = 0
    with xenaccess.open("file:" + os.path.join(d["dir"], fname)) as vm:
        assert vm.boot_time() // 10**9 == pv["btime"]
        for key, w in pv["procs"].items():
            pid = int(key)
            got = sorted(vm.threads(pid), key=lambda t: t.tid)
            assert [(t.tid, t.comm, t.state) for t in got] == \
                [(t["tid"], t["comm"], t["state"]) for t in w["threads"]], pid
            if pid != 1:  # init wakes every second and may change CPU after the truth
                assert [t.cpu for t in got] == [t["cpu"] for t in w["threads"]], pid
            threaded += len(got) > 1
            c = vm.creds(pid)
            assert [c.uid, c.euid, c.suid, c.fsuid] == w["uid"], pid
            assert [c.gid, c.egid, c.sgid, c.fsgid] == w["gid"], pid
            assert list(c.groups) == w["groups"], pid
            assert (c.cap_effective, c.cap_permitted) == (w["capeff"], w["capprm"]), pid
            st = vm.start_time(pid)
            assert st.boot_ns // 10**7 == w["start_ticks"], pid  # USER_HZ 100
            assert st.wall_ns == vm.boot_time() + st.boot_ns
            assert vm.cmdline(pid) == bytes.fromhex(w["cmdline"]), pid
            assert vm.environ(pid) == bytes.fromhex(w["environ"]), pid
            for what in ("exe", "cwd", "root"):
                if w[what]:
                    assert getattr(vm, what)(pid) == w[what], (pid, what)
                else:
                    with pytest.raises(xenaccess.NotFound):
                        getattr(vm, what)(pid)
    assert threaded >= 1, "no multi-threaded process in the truth"
