#!/usr/bin/env python3
"""Kernel integrity checker: hashes the system call table and the kernel text
(_stext.._etext) in two snapshots and reports what changed.

    examples/kernel_integrity.py BEFORE AFTER          # two dumps (same boot)
    examples/kernel_integrity.py qemu:SOCK --interval 10   # a live guest, twice

Syscall entries are compared by the symbol they point to (so hooks show as
"sys_call_table[59] __x64_sys_execve+0x0 -> evil_hook+0x10"); text is
compared page by page (SHA-256).  Exit status: 0 unchanged, 1 changed, 2 error.
"""
import argparse
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import xenaccess  # noqa: E402

PAGE, MAX_SYSCALLS = 4096, 4096


def where(vm, addr):
    try:
        name, off = vm.symbol_at(addr)
        return "%s+%#x" % (name, off)
    except xenaccess.XenaccessError:
        return "%#x" % addr


def snapshot(vm):
    """{"sys_call_table[N]": target, "text page ADDR": sha256}."""
    vm.flush()
    with vm.paused():
        table, snap = vm.symbol("sys_call_table"), {}
        entries = []
        for i in range(MAX_SYSCALLS):          # the table ends where the next symbol starts
            if vm.symbol_at(table + 8 * i)[0] != "sys_call_table":
                break
            entries.append(vm.read_u64(table + 8 * i))
        while entries and entries[-1] == 0:    # alignment padding before the next symbol
            entries.pop()
        for i, target in enumerate(entries):
            snap["sys_call_table[%d]" % i] = where(vm, target)
        start, end = vm.symbol("_stext"), vm.symbol("_etext")
        for page in range(start & ~(PAGE - 1), end, PAGE):
            data = vm.read(page, PAGE, partial=True)
            snap["text %s" % where(vm, page)] = hashlib.sha256(data).hexdigest()
    return snap


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after", nargs="?", help="second target (default: BEFORE again)")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between snapshots")
    a = ap.parse_args()
    with xenaccess.open(a.before) as vm:
        old = snapshot(vm)
        if not a.after:
            time.sleep(a.interval)
            new = snapshot(vm)
    if a.after:
        with xenaccess.open(a.after) as vm:
            new = snapshot(vm)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    for key in changed:
        print("CHANGED %s: %s -> %s" % (key, old.get(key, "absent"), new.get(key, "absent")))
    nsys = sum(k.startswith("sys_call_table") for k in old)
    for what, n, prefix in (("syscall table", nsys, "sys_call_table"),
                            ("kernel text", len(old) - nsys, "text")):
        bad = sum(k.startswith(prefix) for k in changed)
        print("%s: %d %s, %s" % (what, n, "entries" if prefix != "text" else "pages",
                                 "%d changed" % bad if bad else "unchanged"))
    return 1 if changed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except xenaccess.XenaccessError as e:
        print("kernel_integrity: %s" % e, file=sys.stderr)
        sys.exit(2)
