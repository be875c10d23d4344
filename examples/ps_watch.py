#!/usr/bin/env python3
"""Process watcher for a live guest: prints processes as they start and exit.

    examples/ps_watch.py qemu:/path/to/qmp.sock [--interval 1.0] [--count N]

Lines: "+ PID PPID UID COMM" for a start, "- PID PPID UID COMM" for an exit,
"~ PID PPID UID COMM (was OLD)" when a process exec'd another program.
A pid reused by a new process shows as an exit and a start (keyed by start time).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import xenaccess  # noqa: E402


def snapshot(vm):
    vm.flush()                         # the guest ran since the last look
    with vm.paused():                  # a consistent list (no-op on dumps)
        procs, err = xenaccess.collect(vm.processes())
    if err:
        print("warning: %s" % err, file=sys.stderr)
    # zombies have exited: only their exit status is left for the parent to reap
    return {(p.pid, p.start_time): p for p in procs if p.state not in "ZX"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--count", type=int, default=0, help="stop after N rounds (0: never)")
    a = ap.parse_args()
    with xenaccess.open(a.target) as vm:
        before = snapshot(vm)
        print("watching %d processes on %s" % (len(before), vm.info.release), flush=True)
        rounds = 0
        while not a.count or rounds < a.count:
            time.sleep(a.interval)
            now = snapshot(vm)
            for sign, keys, procs in (("-", before.keys() - now.keys(), before),
                                      ("+", now.keys() - before.keys(), now),
                                      ("~", {k for k in now.keys() & before.keys()
                                             if now[k].comm != before[k].comm}, now)):
                for key in sorted(keys):
                    p = procs[key]
                    was = " (was %s)" % before[key].comm if sign == "~" else ""
                    print("%s %d %d %d %s%s" % (sign, p.pid, p.ppid, p.uid, p.comm, was),
                          flush=True)
            before, rounds = now, rounds + 1


if __name__ == "__main__":
    try:
        main()
    except xenaccess.XenaccessError as e:
        sys.exit("ps_watch: %s" % e)
    except KeyboardInterrupt:
        pass
