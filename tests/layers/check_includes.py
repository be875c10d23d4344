#!/usr/bin/env python3
"""Fail when a layer of the library includes a header it may not.

Each layer (a directory) may include only the headers its rule allows
(scripts/layers.py; docs/architecture.md explains them).  The build
enforces the rules for root-relative includes; this also catches relative
ones ("../backends/x.h"), which the compiler finds beside the file.  Only the project's own headers
("..." includes) are checked.  A name found next to the including file is
taken as that directory's header.

Usage: check_includes.py SOURCE_ROOT
"""
import fnmatch
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from layers import RULES  # noqa: E402  (one list of rules for this check and the build)

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    for layer in sorted(RULES, key=len, reverse=True):
        if path == layer or path.startswith(layer + "/"):
            return layer
    return None


def main():
    root = sys.argv[1]
    bad = checked = 0
    for layer in RULES:
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                if layer_of(rel) != layer:
                    continue
                with open(full, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        beside = os.path.join(os.path.dirname(rel), inc)
                        if os.path.exists(os.path.join(root, beside)):
                            inc = os.path.normpath(beside)
                        checked += 1
                        if not any(fnmatch.fnmatchcase(inc, p) for p in RULES[layer]):
                            print("%s:%d: %s may not include %s" % (rel, lineno, layer, inc),
                                  file=sys.stderr)
                            bad += 1
    if checked == 0:
        print("check_includes: no includes found under %s" % root, file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
