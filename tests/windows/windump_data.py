"""Where the real Windows dumps are (../shared/data/windows/, see its README)."""
import os
import subprocess

from xatest import ROOT, require


def _origin_checkout():
    """The checkout this one was cloned from, when that is a local path (a
    clean clone made for a test run lives elsewhere; ../shared is beside the
    original)."""
    try:
        url = subprocess.run(["git", "-C", ROOT, "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return url if url.startswith("/") and os.path.isdir(url) else None


def windows_data():
    env = os.environ.get("XA_WINDOWS_DUMPS")
    if env:
        cands = [env]
    else:
        bases = [ROOT, os.path.join(ROOT, "..")]
        origin = _origin_checkout()
        if origin:
            bases += [origin, os.path.join(origin, "..")]
        cands = [os.path.join(b, "..", "shared", "data", "windows") for b in bases]
    for d in cands:
        if d and os.path.exists(os.path.join(d, "triage_x64.dmp")):
            return os.path.abspath(d)
    require(False, "no Windows triage dumps (set XA_WINDOWS_DUMPS to the directory holding "
            "triage_x64.dmp and triage_arm64.dmp; looked in %s)" % ", ".join(
                os.path.abspath(c) for c in cands if c))
