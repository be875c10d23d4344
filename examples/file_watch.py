#!/usr/bin/env python3
"""File watcher on a VM's disk tap: prints file events below a directory.

    examples/file_watch.py tap:/path/to/events.sock /etc [--timeout 60] [--count N]

Start the tap with xa-disk-tap (it prints the event socket and QEMU options).
Events arrive when the guest commits its journal (at most ~5 s, at once on sync).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import xenaccess  # noqa: E402


def describe(ev):
    if ev.type == "rename":
        return "rename %s -> %s" % (ev.old_path, ev.path)
    if ev.type == "write":
        spans = ", ".join("%d+%d" % r for r in ev.ranges[:4])
        return "write %s (%d bytes%s)" % (ev.path, ev.size, "; " + spans if spans else "")
    if ev.type == "attrib":
        return "attrib %s mode %o uid %d gid %d" % (ev.path, ev.mode & 0o7777, ev.uid, ev.gid)
    if ev.type == "resync":
        return "resync (%d records lost; rescanned)" % ev.dropped
    return "%s %s (%s)" % (ev.type, ev.path, ev.file_type)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="tap:EVENT_SOCKET or image:PATH")
    ap.add_argument("directory", help="guest path, relative to the file system's root")
    ap.add_argument("--timeout", type=float, default=None, help="stop after S idle seconds")
    ap.add_argument("--count", type=int, default=0, help="stop after N events")
    a = ap.parse_args()
    with xenaccess.disk.open(a.target) as disk:
        disk.watch(a.directory, recursive=True)
        disk.activate()
        print("watching %s on %s" % (a.directory, a.target), flush=True)
        for n, ev in enumerate(disk.events(timeout=a.timeout), 1):
            print(describe(ev), flush=True)
            if n == a.count:
                break


if __name__ == "__main__":
    try:
        main()
    except xenaccess.XenaccessError as e:
        sys.exit("file_watch: %s" % e)
    except KeyboardInterrupt:
        pass
