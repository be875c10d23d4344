"""xa-net and xa-dmesg on a live QEMU guest (qemu: target), against what the
guest says of itself at the same moment (truth.sh xa_truth_net); xa-dmesg
--follow sees a line the guest writes to /dev/kmsg."""
import json
import queue
import subprocess
import threading
import time
import uuid

import pytest

from net_truth import expected, kmsg_records, sections
from views_compare import check_kmsg, check_sockets
from xatest import json_lines, run_tool, tool_path


@pytest.fixture(scope="module")
def live():
    from harness import Guest
    g = Guest("net-live", nproc=30, mem_mb=384)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def guest_truth(g):
    return sections(g.run(". /xa/truth.sh; xa_truth_net; xa_truth_netns", timeout=300))


def test_net_matches_guest(live):
    g, tgt = live
    for _attempt in range(3):  # the guest's own sockets are still; a race is retried
        before = guest_truth(g)
        rows = json_lines(run_tool("xa-net", tgt, "--json").stdout)
        after = guest_truth(g)
        if expected(before) == expected(after):
            break
    want = expected(before)
    assert want == expected(after), "the guest's sockets kept changing"
    check_sockets(before, rows)


def test_dmesg_matches_guest(live):
    g, tgt = live
    want = kmsg_records(guest_truth(g)["kmsg"])
    check_kmsg(want, json_lines(run_tool("xa-dmesg", tgt, "--json").stdout))


def test_dmesg_follow_sees_a_new_line(live):
    g, tgt = live
    w = subprocess.Popen([tool_path("xa-dmesg"), tgt, "--follow", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, errors = queue.Queue(), []
    threading.Thread(target=lambda: [lines.put(l) for l in w.stdout], daemon=True).start()
    threading.Thread(target=lambda: errors.extend(w.stderr), daemon=True).start()

    def wait_for(pred, what, timeout=180):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"xa-dmesg --follow printed no {what} within {timeout} s: {errors}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            r = json.loads(line)
            if pred(r):
                return r

    try:
        # the log as it is: the last record the guest had before we started
        last = max(kmsg_records(guest_truth(g)["kmsg"]))
        wait_for(lambda r: r["seq"] >= last, f"record {last}")
        tag = "xa-follow-" + uuid.uuid4().hex[:8]
        g.run(f"echo '<12>{tag}' > /dev/kmsg")
        r = wait_for(lambda r: r["text"] == tag, tag)
        assert (r["facility"], r["level"]) == (1, 4) and r["seq"] > last
    finally:
        w.terminate()  # --follow ends on SIGTERM with status 0
        w.wait(timeout=120)
    assert w.returncode == 0, "".join(errors)
