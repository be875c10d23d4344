"""Other amd64 kernels (issue 14) live: the newest Debian 5.10 and 6.12
booted under QEMU (tests/guest/kernels.py), one at a time, and xa-ps and
xa-files/xa-mounts on the qemu: target checked against the running guest
by tests/tools' live checks.

Not in CI (so not named test_*.py; run it by naming it:
`python3 -m pytest tests/kernels/live_other_kernels.py`): the two boots
cost 45-60 s (here, with other work on the machine: setups 15-28 s,
checks 5-6 s each)
in a suite already near its 20 minutes, for little the CI run does not
check otherwise: these kernels' structures are checked on their dumps
(test_other_kernels.py), the qemu: backend live on 6.1. Both passed here."""
import os
import sys

import pytest

from xatest import skip_or_fail

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
import kernels  # noqa: E402
import test_tools_live as live_checks  # noqa: E402


@pytest.fixture(scope="module", params=sorted(kernels.SERIES))
def kernel_live(request):
    """(guest, "qemu:<monitor socket>") of the newest @param kernel."""
    try:
        kernels.fetch_kernel(request.param)
    except kernels.HarnessError as e:
        skip_or_fail("no %s kernel: %s" % (request.param, e))
    g = kernels.guest_class(request.param)("live-" + kernels.dump_kind(request.param),
                                           nproc=30, mem_mb=384)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def test_ps_and_files_live(kernel_live):
    g, _ = kernel_live
    assert g.run("uname -r").startswith(g.kernel["KVER"])
    live_checks.test_ps_matches_guest(kernel_live)
    live_checks.test_files_and_mounts_live(kernel_live)
