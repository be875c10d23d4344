"""xa-net and xa-dmesg on a live QEMU guest (qemu: target), against what the
guest says of itself at the same moment (truth.sh xa_truth_net); xa-dmesg
--follow sees a line the guest writes to /dev/kmsg."""
import uuid

from net_truth import expected, kmsg_records, sections
from views_compare import check_kmsg, check_sockets
from xatest import ToolStream, json_lines, run_tool


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
    w = ToolStream("xa-dmesg", tgt, "--follow", "--json")
    try:
        # the log as it is: the last record the guest had before we started
        last = max(kmsg_records(guest_truth(g)["kmsg"]))
        w.wait_for(lambda r: r["seq"] >= last, f"record {last}")
        tag = "xa-follow-" + uuid.uuid4().hex[:8]
        g.run(f"echo '<12>{tag}' > /dev/kmsg")
        r = w.wait_for(lambda r: r["text"] == tag, tag)
        assert (r["facility"], r["level"]) == (1, 4) and r["seq"] > last
    finally:
        rc, errors = w.stop()
    assert rc == 0, errors
