"""Exceptions: every negative XA_E* code from the C library becomes one of these."""

# Codes from include/xa_errors.h (XA_ERRNO_MAP).
OK = 0
ENOENT = -2
EIO = -5
ENOMEM = -12
EACCES = -13
EFAULT = -14
EBUSY = -16
EINVAL = -22
ERANGE = -34
ENOTSUP = -95
ETIMEDOUT = -110
EBADDATA = -1001
ENOTBUILT = -1002
EFORMAT = -1003
ENOOS = -1004
ELIMIT = -1005
EPERM = -1006
EGONE = -1007

CODE_NAMES = {
    ENOENT: "XA_ENOENT", EIO: "XA_EIO", ENOMEM: "XA_ENOMEM", EACCES: "XA_EACCES",
    EFAULT: "XA_EFAULT", EBUSY: "XA_EBUSY", EINVAL: "XA_EINVAL", ERANGE: "XA_ERANGE",
    ENOTSUP: "XA_ENOTSUP", ETIMEDOUT: "XA_ETIMEDOUT", EBADDATA: "XA_EBADDATA",
    ENOTBUILT: "XA_ENOTBUILT", EFORMAT: "XA_EFORMAT", ENOOS: "XA_ENOOS",
    ELIMIT: "XA_ELIMIT", EPERM: "XA_EPERM", EGONE: "XA_EGONE",
}


class XenaccessError(Exception):
    """A failed call.  .code is the negative XA_E* code, .message the C message."""

    def __init__(self, message, code=EINVAL):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def code_name(self):
        return CODE_NAMES.get(self.code, str(self.code))


class LibraryNotFound(XenaccessError):
    """libxenaccess.so (or libxadisk.so) could not be found or loaded."""


class NotFound(XenaccessError):
    """XA_ENOENT: no such symbol, process, file, watch, type or member."""


class NotMapped(XenaccessError):
    """XA_EFAULT: a virtual address is not mapped in the page tables."""


class OutOfRange(XenaccessError):
    """XA_ERANGE: a physical address lies outside guest RAM."""


class NotSupported(XenaccessError):
    """XA_ENOTSUP / XA_ENOTBUILT: the target or build cannot do this."""


class BadFormat(XenaccessError):
    """XA_EFORMAT: the target is not a memory image / disk this library knows."""


class NoOS(XenaccessError):
    """XA_ENOOS: no guest operating system was recognised."""


class BadGuestData(XenaccessError):
    """XA_EBADDATA / XA_ELIMIT: guest data is corrupt, implausible or looping."""


class NotPermitted(XenaccessError):
    """XA_EPERM / XA_EACCES: writes not enabled, or no permission."""


class Timeout(XenaccessError):
    """XA_ETIMEDOUT."""


class TargetGone(XenaccessError):
    """XA_EGONE: the guest or the tap went away."""


class PartialResult(XenaccessError):
    """A walk over guest data (processes, modules, maps) stopped early.

    Raised by the iterator after the items read before the failure were
    yielded; .code is the error that stopped the walk (XA_ELIMIT on a cycle
    or too long a list, XA_EFAULT on a bad pointer)."""


_BY_CODE = {
    ENOENT: NotFound, EFAULT: NotMapped, ERANGE: OutOfRange, ENOTSUP: NotSupported,
    ENOTBUILT: NotSupported, EFORMAT: BadFormat, ENOOS: NoOS, EBADDATA: BadGuestData,
    ELIMIT: BadGuestData, EPERM: NotPermitted, EACCES: NotPermitted, ETIMEDOUT: Timeout,
    EGONE: TargetGone,
}


def error_for(code, message):
    """The exception for a negative C return code (message: the C message;
    when empty, the code's words)."""
    if not message:  # never just "-34": the C library's words for the code
        from . import _lib
        message = "%s (%s)" % (_lib.text(_lib.xa().xa_strerror(code)), CODE_NAMES.get(code, code))
    return _BY_CODE.get(code, XenaccessError)(message, code)
