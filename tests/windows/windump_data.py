"""Where the real Windows dumps are (../shared/data/windows/, see its README)."""
import os

from xatest import ROOT, require


def windows_data():
    env = os.environ.get("XA_WINDOWS_DUMPS")
    cands = [env] if env else [os.path.join(ROOT, "..", "shared", "data", "windows"),
                               os.path.join(ROOT, "..", "..", "shared", "data", "windows")]
    for d in cands:
        if d and os.path.exists(os.path.join(d, "triage_x64.dmp")):
            return os.path.abspath(d)
    require(False, "no Windows triage dumps (set XA_WINDOWS_DUMPS to the directory holding "
            "triage_x64.dmp and triage_arm64.dmp)")
