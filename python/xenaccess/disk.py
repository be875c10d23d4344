"""Disk monitoring: file events from a VM disk tap (thin over include/xadisk.h).

    with xenaccess.disk.open("tap:/run/xa/disk.events") as d:
        d.watch("/etc", recursive=True)
        d.activate()
        for ev in d.events(timeout=10):
            print(ev.type, ev.path)
"""
import ctypes
import dataclasses
import operator
import threading

from . import _lib
from ._handle import Handle
from .errors import EINVAL, ETIMEDOUT, XenaccessError, error_for

CREATE, DELETE, RENAME, WRITE, TRUNCATE, ATTRIB, LINK, RESYNC = (1 << i for i in range(8))
ALL = 0xff
EVENT_BITS = {"create": CREATE, "delete": DELETE, "rename": RENAME, "write": WRITE,
              "truncate": TRUNCATE, "attrib": ATTRIB, "link": LINK, "resync": RESYNC}
WATCH_RECURSIVE = 1
LOSSLESS = 1
MAX_RANGES = 1 << 20


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    type: str           # "create", "delete", "rename", "write", ...
    file_type: str      # "file", "dir", "symlink", ...
    path: str
    old_path: str       # rename: the previous path; else None
    inode: int
    size: int
    old_size: int
    mode: int
    old_mode: int
    uid: int
    gid: int
    old_uid: int
    old_gid: int
    nlink: int
    transaction: int
    ranges: tuple       # write: ((offset, length), ...)
    dropped: int
    type_bit: int


def _mask(mask):
    if isinstance(mask, str):
        mask = mask.replace(",", " ").split()
    if isinstance(mask, (list, tuple, set, frozenset)):
        bits = 0
        for name in mask:
            if name not in EVENT_BITS:
                raise ValueError("unknown event type %r (one of %s)" % (name, ", ".join(EVENT_BITS)))
            bits |= EVENT_BITS[name]
        return bits
    mask = operator.index(mask)
    if not 0 <= mask <= ALL:
        raise ValueError("event mask out of range: %#x" % mask)
    return mask


def _timeout_ms(timeout):
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError("timeout is negative: %r" % timeout)
    return int(min(timeout * 1000, 2 ** 31 - 1))


class Disk(Handle):
    """A monitored disk.  Set watches, activate(), then read events."""

    def __init__(self, target, lossless=False, nbd_socket=None, event_socket=None, ring_bytes=0):
        self._h = None
        self._lock = threading.RLock()
        self._lib = _lib.xadisk()
        keep = [_lib.cstr(target, "target")]
        opts = _lib.DiskOpts(sz=ctypes.sizeof(_lib.DiskOpts), target=keep[0],
                             flags=LOSSLESS if lossless else 0)
        if nbd_socket is not None:
            keep.append(_lib.cstr(nbd_socket, "nbd_socket"))
            opts.nbd_socket = keep[-1]
        if event_socket is not None:
            keep.append(_lib.cstr(event_socket, "event_socket"))
            opts.event_socket = keep[-1]
        ring_bytes = operator.index(ring_bytes)
        if not 0 <= ring_bytes < 1 << 40:
            raise ValueError("ring_bytes out of range: %d" % ring_bytes)
        opts.ring_bytes = ring_bytes
        h = ctypes.c_void_p()
        rc = self._lib.xadisk_init(ctypes.byref(opts), ctypes.byref(h))
        if rc < 0:
            raise error_for(rc, _lib.text(self._lib.xadisk_last_init_error()) or
                            "xadisk_init failed (%d)" % rc)
        if not h.value:
            raise XenaccessError("xadisk_init returned no handle", EINVAL)
        self._h = h
        self.target = target
        self.active = False

    def _handle(self):
        if self._h is None:
            raise ValueError("operation on a closed disk monitor")
        return self._h

    def _check(self, rc):
        if rc < 0:
            raise error_for(rc, _lib.text(self._lib.xadisk_errmsg(self._h)))
        return rc

    def close(self):
        with self._lock:
            if self._h is not None:
                self._lib.xadisk_destroy(self._h)
                self._h = None
                self.active = False

    def __repr__(self):
        return "<xenaccess.disk.Disk %r%s>" % (self.target, " closed" if self.closed else "")

    def watch(self, path, recursive=False, mask=ALL):
        """Watch a file or directory (need not exist yet).  mask: int bits or
        event names ("create,delete" or a list).  With no watch, all is reported."""
        flags = WATCH_RECURSIVE if recursive else 0
        with self._lock:
            self._check(self._lib.xadisk_set_watch(self._handle(), _lib.cstr(path, "path"),
                                                   flags, _mask(mask)))

    def unwatch(self, path):
        with self._lock:
            self._check(self._lib.xadisk_unset_watch(self._handle(), _lib.cstr(path, "path")))

    def activate(self):
        """Subscribe to the tap and build the shadow state; events flow from now on."""
        with self._lock:
            self._check(self._lib.xadisk_activate(self._handle()))
            self.active = True

    def deactivate(self):
        with self._lock:
            self._check(self._lib.xadisk_deactivate(self._handle()))
            self.active = False

    def fileno(self):
        """A descriptor that becomes readable when records arrive (for select/poll);
        then call next_event(0) until it returns None."""
        with self._lock:
            fd = self._lib.xadisk_get_fd(self._handle())
        if fd < 0:
            raise ValueError("no descriptor: the monitor is not active")
        return fd

    @property
    def qemu_args(self):
        """For image: targets, the QEMU options for this disk (a string), else None."""
        with self._lock:
            return _lib.text(self._lib.xadisk_qemu_args(self._handle()))

    def stats(self):
        st = _lib.DiskStats()
        with self._lock:
            self._lib.xadisk_get_stats(self._handle(), ctypes.byref(st))
        return {name: getattr(st, name) for name, _ in st._fields_}

    def next_event(self, timeout=None):
        """The next event, or None when nothing came within timeout seconds
        (None waits forever, 0 polls).  TargetGone when the tap went away."""
        ms = _timeout_ms(timeout)
        ev = ctypes.POINTER(_lib.DiskEvent)()
        with self._lock:
            rc = self._lib.xadisk_next_event(self._handle(), ms, ctypes.byref(ev))
            if rc == ETIMEDOUT:
                return None
            self._check(rc)
            return self._convert(ev.contents)

    def events(self, timeout=None):
        """Iterate events; stops when none came within timeout seconds (None: never)."""
        while True:
            ev = self.next_event(timeout)
            if ev is None:
                return
            yield ev

    def _convert(self, e):
        L = self._lib
        n = min(e.nranges, MAX_RANGES) if e.ranges else 0
        return Event(type=_lib.text(L.xadisk_event_name(e.type)),
                     file_type=_lib.text(L.xadisk_file_type_name(e.file_type)),
                     path=_lib.text(e.path) or "", old_path=_lib.text(e.old_path),
                     inode=e.inode, size=e.size, old_size=e.old_size, mode=e.mode,
                     old_mode=e.old_mode, uid=e.uid, gid=e.gid, old_uid=e.old_uid,
                     old_gid=e.old_gid, nlink=e.nlink, transaction=e.transaction,
                     ranges=tuple((e.ranges[i].offset, e.ranges[i].length) for i in range(n)),
                     dropped=e.dropped, type_bit=e.type)


def open(target, **kw):
    """Open a disk for monitoring: "tap:EVENT_SOCKET" (a running xa-disk-tap) or
    "image:PATH" (start a tap on the image).  Nothing flows until activate()."""
    return Disk(target, **kw)
