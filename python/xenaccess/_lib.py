"""Finding and loading libxenaccess.so / libxadisk.so, and their C prototypes.

Search order (the first that exists wins):
  1. $XA_LIBRARY (libxenaccess) / $XADISK_LIBRARY (libxadisk): a file path
  2. the build tree: $XA_BUILD, else (running from the source tree)
     <repo>/build-test, else <repo>/build
  3. installed by `meson install`: the soname through the dynamic loader's
     search (LD_LIBRARY_PATH, ld.so.cache), then the libdir it was installed to
  4. pkg-config's libdir for xenaccess / xadisk
  5. ctypes.util.find_library
Loading is lazy: importing the package never fails for want of the library.
"""
import ctypes
import ctypes.util
import os
import subprocess
import threading

from .errors import LibraryNotFound

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    from ._installed import LIBDIR as INSTALLED_LIBDIR  # only in an installed package
except ImportError:
    INSTALLED_LIBDIR = None

_lock = threading.Lock()
_loaded = {}

u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
i32, size_t, cint = ctypes.c_int32, ctypes.c_size_t, ctypes.c_int
P, S = ctypes.c_void_p, ctypes.c_char_p
PU64, PU32, PSIZE = ctypes.POINTER(u64), ctypes.POINTER(u32), ctypes.POINTER(size_t)

# ---------------------------------------------------------------- structs ---


class InitOpts(ctypes.Structure):
    _fields_ = [("sz", size_t), ("target", S), ("flags", u32), ("sysmap", S), ("btf", S),
                ("v2p_cache_entries", size_t), ("page_cache_entries", size_t),
                ("progress", ctypes.c_void_p), ("progress_ctx", ctypes.c_void_p)]  # not used


class Regs(ctypes.Structure):
    _fields_ = [(n, u64) for n in (
        "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip rflags "
        "cr0 cr2 cr3 cr4 efer fs_base gs_base kernel_gs_base").split()] + \
        [("cs", u16), ("ss", u16)]


class MemRange(ctypes.Structure):
    _fields_ = [("start", u64), ("size", u64)]


class CacheStats(ctypes.Structure):
    _fields_ = [(n, u64) for n in (
        "v2p_hits v2p_misses v2p_entries v2p_capacity "
        "page_hits page_misses page_entries page_capacity").split()]


class OsStats(ctypes.Structure):
    _fields_ = [("process_walks", u64), ("os_flushes", u64)]


class OsInfo(ctypes.Structure):
    _fields_ = [("type", cint), ("version", S), ("release", S), ("kaslr_slide", u64),
                ("phys_base", u64), ("kernel_dtb", u64), ("text_start", u64),
                ("page_offset", u64), ("page_mode", cint), ("num_symbols", size_t),
                ("num_btf_types", size_t), ("symbols_from", S), ("types_from", S)]


COMM_LEN, MODULE_NAME_LEN, PATH_MAX = 16, 56, 4096


class Process(ctypes.Structure):
    _fields_ = [("pid", i32), ("tgid", i32), ("ppid", i32), ("uid", u32), ("gid", u32),
                ("euid", u32), ("egid", u32), ("comm", ctypes.c_char * (COMM_LEN + 1)),
                ("state", ctypes.c_char), ("flags", u32), ("task", u64), ("mm", u64),
                ("dtb", u64), ("start_time", u64)]


class Module(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * (MODULE_NAME_LEN + 1)), ("base", u64), ("size", u64),
                ("module", u64), ("refcount", i32), ("state", u32)]


class Vma(ctypes.Structure):
    _fields_ = [("start", u64), ("end", u64), ("flags", u32), ("pgoff", u64), ("vma", u64),
                ("path", ctypes.c_char * PATH_MAX)]


class Thread(ctypes.Structure):
    _fields_ = [("tid", i32), ("tgid", i32), ("comm", ctypes.c_char * (COMM_LEN + 1)),
                ("state", ctypes.c_char), ("cpu", i32), ("task", u64)]


class Creds(ctypes.Structure):
    _fields_ = [("uid", u32), ("euid", u32), ("suid", u32), ("fsuid", u32),
                ("gid", u32), ("egid", u32), ("sgid", u32), ("fsgid", u32),
                ("cap_effective", u64), ("cap_permitted", u64), ("ngroups", u32)]


class OpenFile(ctypes.Structure):
    _fields_ = [("pid", i32), ("fd", i32), ("flags", u32), ("pos", ctypes.c_int64),
                ("dev_major", u32), ("dev_minor", u32), ("inode", u64), ("mode", u32),
                ("state", u32), ("file", u64), ("path", ctypes.c_char * PATH_MAX)]


FSTYPE_LEN, MOUNT_SOURCE_LEN = 64, 1024


class Mount(ctypes.Structure):
    _fields_ = [("mnt_id", i32), ("parent_id", i32), ("dev_major", u32), ("dev_minor", u32),
                ("mnt_flags", u32), ("sb_flags", u64), ("shared_id", i32), ("master_id", i32),
                ("mount", u64), ("root", ctypes.c_char * PATH_MAX),
                ("mount_point", ctypes.c_char * PATH_MAX), ("options", ctypes.c_char * 96),
                ("fstype", ctypes.c_char * FSTYPE_LEN),
                ("source", ctypes.c_char * MOUNT_SOURCE_LEN)]


NGROUPS_MAX, ARGS_MAX = 65536, 128 << 10
ARGS_ABSENT, ARGS_TRUNCATED = 1, 2
PROC_EXE, PROC_CWD, PROC_ROOT = 0, 1, 2


NET_PIDS_MAX, NET_ADDR_LEN, KMSG_TEXT_MAX = 16, 128, 4096


class Socket(ctypes.Structure):
    _fields_ = [("proto", ctypes.c_char * 8), ("family", cint), ("type", cint),
                ("protocol", cint), ("state", cint), ("state_name", S),
                ("local", ctypes.c_char * NET_ADDR_LEN), ("remote", ctypes.c_char * NET_ADDR_LEN),
                ("inode", u64), ("rx_queue", u32), ("tx_queue", u32), ("uid", u32),
                ("ifindex", cint), ("sk", u64), ("flags", u32), ("npids", u32),
                ("pids", i32 * NET_PIDS_MAX), ("netns", u32)]


class Kmsg(ctypes.Structure):
    _fields_ = [("seq", u64), ("ts_ns", u64), ("level", ctypes.c_uint8),
                ("facility", ctypes.c_uint8), ("caller_id", u32), ("flags", u32),
                ("dropped", u64), ("text_len", size_t),
                ("text", ctypes.c_char * (KMSG_TEXT_MAX + 1))]


SYM_FN = ctypes.CFUNCTYPE(cint, S, u64, ctypes.c_char, P)


class DiskOpts(ctypes.Structure):
    _fields_ = [("sz", size_t), ("target", S), ("flags", u32), ("nbd_socket", S),
                ("event_socket", S), ("ring_bytes", u64)]


class DiskRange(ctypes.Structure):
    _fields_ = [("offset", u64), ("length", u64)]


class DiskEvent(ctypes.Structure):
    _fields_ = [("type", u32), ("file_type", u32), ("path", S), ("old_path", S),
                ("inode", u64), ("size", u64), ("old_size", u64), ("mode", u32),
                ("old_mode", u32), ("uid", u32), ("gid", u32), ("old_uid", u32),
                ("old_gid", u32), ("nlink", u32), ("transaction", u64),
                ("ranges", ctypes.POINTER(DiskRange)), ("nranges", size_t), ("dropped", u64)]


class DiskStats(ctypes.Structure):
    _fields_ = [(n, u64) for n in (
        "records bytes transactions resyncs dropped events bad_journal inodes").split()]


# (name, restype, argtypes)
XA_PROTOS = [
    ("xa_init", cint, [S, u32, ctypes.POINTER(P)]),
    ("xa_init_opts", cint, [ctypes.POINTER(InitOpts), ctypes.POINTER(P)]),
    ("xa_destroy", None, [P]),
    ("xa_strerror", S, [cint]),
    ("xa_errmsg", S, [P]),
    ("xa_last_init_error", S, []),
    ("xa_backend_name", S, [P]),
    ("xa_access_method", S, [P]),
    ("xa_memsize", u64, [P]),
    ("xa_max_pa", u64, [P]),
    ("xa_mem_ranges", ctypes.POINTER(MemRange), [P, PSIZE]),
    ("xa_vcpu_count", ctypes.c_uint, [P]),
    ("xa_get_vcpu_regs", cint, [P, ctypes.c_uint, ctypes.POINTER(Regs)]),
    ("xa_get_page_mode", cint, [P]),
    ("xa_page_mode_name", S, [cint]),
    ("xa_kernel_dtb", u64, [P]),
    ("xa_set_kernel_paging", cint, [P, cint, u64]),
    ("xa_pause", cint, [P]),
    ("xa_resume", cint, [P]),
    ("xa_is_live", cint, [P]),
    ("xa_read_pa", cint, [P, u64, P, size_t]),
    ("xa_write_pa", cint, [P, u64, P, size_t]),
    ("xa_translate", cint, [P, u64, u64, PU64]),
    ("xa_translate_kv", cint, [P, u64, PU64]),
    ("xa_read_va", cint, [P, u64, u64, P, size_t, PSIZE]),
    ("xa_write_va", cint, [P, u64, u64, P, size_t, PSIZE]),
    ("xa_read_kva_u64", cint, [P, u64, PU64]),
    ("xa_read_kva_u32", cint, [P, u64, PU32]),
    ("xa_read_va_str", cint, [P, u64, u64, P, size_t]),
    ("xa_access_virtual_address", P, [P, u64, PU32]),
    ("xa_access_dtb_virtual_address", P, [P, u64, u64, PU32]),
    ("xa_access_physical_address", P, [P, u64, PU32]),
    ("xa_release_page", None, [P, P]),
    ("xa_cache_flush", None, [P, ctypes.c_uint]),
    ("xa_cache_stats", None, [P, ctypes.POINTER(CacheStats)]),
    ("xa_os_stats", None, [P, ctypes.POINTER(OsStats)]),
    ("xa_os_get_info", cint, [P, ctypes.POINTER(OsInfo)]),
    ("xa_sym_lookup", cint, [P, S, PU64]),
    ("xa_sym_at", cint, [P, u64, ctypes.POINTER(S), PU64]),
    ("xa_access_kernel_symbol", P, [P, S, PU32]),
    ("xa_read_ksym", cint, [P, S, P, size_t]),
    ("xa_sym_foreach", cint, [P, SYM_FN, P]),
    ("xa_type_offset", cint, [P, S, S, PU64]),
    ("xa_type_size", cint, [P, S, PU64]),
    ("xa_process_iter_new", cint, [P, ctypes.POINTER(P)]),
    ("xa_process_iter_next", cint, [P, ctypes.POINTER(Process)]),
    ("xa_process_iter_free", None, [P]),
    ("xa_process_by_pid", cint, [P, i32, ctypes.POINTER(Process)]),
    ("xa_pid_to_dtb", cint, [P, i32, PU64]),
    ("xa_read_pid_va", cint, [P, i32, u64, P, size_t, PSIZE]),
    ("xa_access_user_virtual_address", P, [P, u64, PU32, i32]),
    ("xa_module_iter_new", cint, [P, ctypes.POINTER(P)]),
    ("xa_module_iter_next", cint, [P, ctypes.POINTER(Module)]),
    ("xa_module_iter_free", None, [P]),
    ("xa_vma_iter_new", cint, [P, i32, ctypes.POINTER(P)]),
    ("xa_vma_iter_next", cint, [P, ctypes.POINTER(Vma)]),
    ("xa_vma_iter_free", None, [P]),
    ("xa_thread_iter_new", cint, [P, i32, ctypes.POINTER(P)]),
    ("xa_thread_iter_new_proc", cint, [P, ctypes.POINTER(Process), ctypes.POINTER(P)]),
    ("xa_thread_iter_next", cint, [P, ctypes.POINTER(Thread)]),
    ("xa_thread_iter_free", None, [P]),
    ("xa_process_creds", cint, [P, i32, ctypes.POINTER(Creds), PU32, size_t]),
    ("xa_process_start_time", cint, [P, i32, PU64, ctypes.POINTER(ctypes.c_int64)]),
    ("xa_boot_time", cint, [P, ctypes.POINTER(ctypes.c_int64)]),
    ("xa_process_cmdline", cint, [P, i32, P, size_t, PSIZE, PU32]),
    ("xa_process_environ", cint, [P, i32, P, size_t, PSIZE, PU32]),
    ("xa_process_path", cint, [P, i32, cint, ctypes.c_char_p, size_t]),
    ("xa_file_type_name", S, [u32]),
    ("xa_file_iter_new", cint, [P, i32, ctypes.POINTER(P)]),
    ("xa_file_iter_new_proc", cint, [P, ctypes.POINTER(Process), ctypes.POINTER(P)]),
    ("xa_file_iter_next", cint, [P, ctypes.POINTER(OpenFile)]),
    ("xa_file_iter_free", None, [P]),
    ("xa_mount_iter_new", cint, [P, i32, ctypes.POINTER(P)]),
    ("xa_mount_iter_new_proc", cint, [P, ctypes.POINTER(Process), ctypes.POINTER(P)]),
    ("xa_mount_iter_next", cint, [P, ctypes.POINTER(Mount)]),
    ("xa_mount_iter_free", None, [P]),
    ("xa_net_iter_new", cint, [P, ctypes.POINTER(P)]),
    ("xa_net_iter_next", cint, [P, ctypes.POINTER(Socket)]),
    ("xa_net_iter_free", None, [P]),
    ("xa_kmsg_iter_new", cint, [P, u64, ctypes.POINTER(P)]),
    ("xa_kmsg_iter_next", cint, [P, ctypes.POINTER(Kmsg)]),
    ("xa_kmsg_iter_next_seq", u64, [P]),
    ("xa_kmsg_iter_free", None, [P]),
]

XADISK_PROTOS = [
    ("xadisk_init", cint, [ctypes.POINTER(DiskOpts), ctypes.POINTER(P)]),
    ("xadisk_last_init_error", S, []),
    ("xadisk_destroy", None, [P]),
    ("xadisk_activate", cint, [P]),
    ("xadisk_deactivate", cint, [P]),
    ("xadisk_qemu_args", S, [P]),
    ("xadisk_errmsg", S, [P]),
    ("xadisk_set_watch", cint, [P, S, u32, u32]),
    ("xadisk_unset_watch", cint, [P, S]),
    ("xadisk_next_event", cint, [P, cint, ctypes.POINTER(ctypes.POINTER(DiskEvent))]),
    ("xadisk_get_fd", cint, [P]),
    ("xadisk_get_stats", None, [P, ctypes.POINTER(DiskStats)]),
    ("xadisk_event_name", S, [u32]),
    ("xadisk_file_type_name", S, [u32]),
]

# ---------------------------------------------------------------- finding ---


def _pkgconfig_libdir(pkg):
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", pkg], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def candidates(kind):
    """Paths to try for kind 'xenaccess' or 'xadisk', in order."""
    env = os.environ.get("XA_LIBRARY" if kind == "xenaccess" else "XADISK_LIBRARY")
    if env:
        return [env]  # an explicit choice is never silently replaced
    sub = "" if kind == "xenaccess" else os.path.join("disk", "lib")
    if os.environ.get("XA_BUILD"):
        builds = [os.environ["XA_BUILD"]]
    elif INSTALLED_LIBDIR is None:
        builds = [os.path.join(REPO, "build-test"), os.path.join(REPO, "build")]
    else:
        builds = []  # installed: REPO is site-packages, not a source tree
    out = [os.path.join(b, sub, "lib%s.so" % kind) for b in builds]
    if INSTALLED_LIBDIR is not None:
        out.append("lib%s.so.0" % kind)
        out.append(os.path.join(INSTALLED_LIBDIR, "lib%s.so.0" % kind))
    libdir = _pkgconfig_libdir(kind)
    if libdir:
        out.append(os.path.join(libdir, "lib%s.so.0" % kind))
        out.append(os.path.join(libdir, "lib%s.so" % kind))
    found = ctypes.util.find_library(kind)
    if found:
        out.append(found)
    return out


def needs_asan(path):
    """True if the library was built with AddressSanitizer (it names libasan)."""
    try:
        with open(path, "rb") as f:
            return b"libasan.so" in f.read()
    except OSError:
        return False


def asan_loaded():
    try:
        with open("/proc/self/maps") as f:
            return "libasan.so" in f.read()
    except OSError:
        return False


def asan_runtime(path):
    """Path of the libasan the library links against (for LD_PRELOAD), or None."""
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libasan.so") and len(parts) >= 3:
            return parts[2]
    return None


def _load(kind, protos):
    tried = []
    for path in candidates(kind):
        is_file = os.sep in path
        if is_file and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        if is_file and needs_asan(path) and not asan_loaded():
            raise LibraryNotFound(
                "%s was built with AddressSanitizer; run Python with LD_PRELOAD=%s "
                "ASAN_OPTIONS=detect_leaks=0, or point XA_BUILD at a build without "
                "sanitizers" % (path, asan_runtime(path) or "$(gcc -print-file-name=libasan.so)"))
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        try:
            for name, res, args in protos:
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = res, args
        except AttributeError as e:
            tried.append("%s (missing %s)" % (path, e))
            continue
        lib.path = path
        return lib
    raise LibraryNotFound("lib%s.so not found; tried: %s (set XA_LIBRARY or XA_BUILD)"
                          % (kind, "; ".join(tried) or "nothing"))


def xa():
    """The loaded libxenaccess (raises LibraryNotFound)."""
    with _lock:
        if "xa" not in _loaded:
            _loaded["xa"] = _load("xenaccess", XA_PROTOS)
        return _loaded["xa"]


def xadisk():
    """The loaded libxadisk (raises LibraryNotFound)."""
    with _lock:
        if "xadisk" not in _loaded:
            _loaded["xadisk"] = _load("xadisk", XADISK_PROTOS)
        return _loaded["xadisk"]


def cstr(value, what):
    """str/bytes/PathLike -> bytes for a const char * argument; NUL inside is refused."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if not isinstance(value, bytes):
        raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))
    if b"\0" in value:
        raise ValueError("%s contains a NUL byte" % what)
    return value


def text(b):
    """C string (bytes or None) -> str; guest bytes never fail to decode."""
    return None if b is None else b.decode("utf-8", "replace")
