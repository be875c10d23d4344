"""xenaccess: virtual machine introspection from Python (ctypes over libxenaccess).

    import xenaccess
    with xenaccess.open("file:/var/tmp/guest.elf") as vm:
        for p in vm.processes():
            print(p.pid, p.comm)

See docs/python.md for a tour.
"""
from . import disk  # noqa: F401  (xenaccess.disk.open)
from .errors import (BadFormat, BadGuestData, LibraryNotFound, NoOS, NotFound, NotMapped,  # noqa
                     NotPermitted, NotSupported, OutOfRange, PartialResult, TargetGone, Timeout,
                     XenaccessError)
from .vm import (CACHE_ALL, CACHE_OS, CACHE_PAGES, CACHE_V2P, VM, Creds, Info, Mapping,  # noqa
                 Module, Process, StartTime, Symbol, Thread, open)
from .vm import KmsgRecord, Socket  # noqa: F401
from .vm import Mount, OpenFile  # noqa: F401


def collect(walk):
    """Run a walk to its end: (items, PartialResult or None).  For monitors that
    want what could be read even when a guest list is broken."""
    items = []
    try:
        for item in walk:
            items.append(item)
    except PartialResult as e:
        return items, e
    return items, None


def library_path():
    """Path of the libxenaccess in use (loads it)."""
    from . import _lib
    return _lib.xa().path


__version__ = "0.1.0"
__all__ = ["open", "VM", "Info", "Process", "Module", "Mapping", "Symbol", "Thread", "Creds",
           "StartTime", "collect", "disk", "Socket", "KmsgRecord", "OpenFile", "Mount",
           "XenaccessError", "PartialResult", "NotFound", "NotMapped", "OutOfRange",
           "NotSupported", "BadFormat", "NoOS", "BadGuestData", "NotPermitted", "Timeout",
           "TargetGone", "LibraryNotFound", "library_path"]
