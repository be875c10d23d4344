"""Which kernel package each other-kernel dump set was made from (the
newest of its series when it was made): printed after the tests."""
import json
import os

import kernels  # tests/guest (on the path from xatest)
from xatest import DUMPS


def pytest_terminal_summary(terminalreporter):
    for series in sorted(kernels.SERIES):
        tj = os.path.join(DUMPS, kernels.dump_kind(series), "truth.json")
        try:
            with open(tj) as f:
                t = json.load(f)
        except (OSError, ValueError):
            continue
        terminalreporter.write_line("other kernels: %s dumps are %s (%s)" % (
            kernels.dump_kind(series), t["boot"]["kernel_pkg"], t["version"].split(" (")[0]))
