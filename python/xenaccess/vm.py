"""The VM object: one open target (dump, live QEMU guest, Xen domain)."""
import contextlib
import ctypes
import dataclasses
import operator
import os
import threading

from . import _lib
from ._handle import Handle
from .errors import (EFAULT, EINVAL, ENOTSUP, ERANGE, NotSupported, PartialResult,
                     XenaccessError, error_for)

SCHEMES = ("file", "qemu", "xen", "libvirt")
MAX_READ = 256 << 20          # one read: larger sizes are a caller bug, not a request
MAX_STR = 1 << 20
PF_KTHREAD = 0x00200000
PAGE_SIZE = 4096

CACHE_V2P, CACHE_PAGES, CACHE_OS, CACHE_ALL = 1, 2, 4, 7
_CACHE_NAMES = {"v2p": CACHE_V2P, "pages": CACHE_PAGES, "os": CACHE_OS, "all": CACHE_ALL}

INIT_WRITE, INIT_NO_OS = 1, 2


@dataclasses.dataclass(frozen=True, slots=True)
class Process:
    pid: int
    tgid: int
    ppid: int
    uid: int
    gid: int
    euid: int
    egid: int
    comm: str
    state: str
    flags: int
    task: int
    mm: int
    dtb: int
    start_time: int
    kthread: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Module:
    name: str
    base: int
    size: int
    module: int
    refcount: int
    state: int


@dataclasses.dataclass(frozen=True, slots=True)
class Mapping:
    start: int
    end: int
    flags: int
    pgoff: int
    vma: int
    path: str
    perms: str  # "r-xp" as /proc/PID/maps shows it


@dataclasses.dataclass(frozen=True, slots=True)
class Thread:
    tid: int
    tgid: int
    comm: str
    state: str
    cpu: int    # the CPU it last ran on
    task: int


@dataclasses.dataclass(frozen=True, slots=True)
class OpenFile:
    """One open file of a process, as /proc/PID/fd and fdinfo show it."""
    pid: int
    fd: int
    type: str        # "REG", "DIR", "CHR", "BLK", "FIFO", "SOCK", "LNK", "anon"
    path: str        # readlink /proc/PID/fd/N ("pipe:[N]", "... (deleted)")
    raw_path: bytes  # the same, the guest's bytes
    inode: int
    pos: int
    flags: int       # fdinfo's flags (O_CLOEXEC included)
    dev: tuple       # (major, minor)
    mode: int
    file: int        # struct file address
    name_unknown: bool  # a pseudo file xenaccess cannot name: path "?"


@dataclasses.dataclass(frozen=True, slots=True)
class Mount:
    """One mount, as a line of /proc/PID/mountinfo shows it."""
    mnt_id: int
    parent_id: int
    dev: tuple       # (major, minor)
    root: str
    mount_point: str
    options: str     # "rw,nosuid,relatime"
    shared_id: int   # 0 unless shared
    master_id: int   # 0 unless a slave
    fstype: str
    source: str
    super_ro: bool
    mount: int       # struct mount address


@dataclasses.dataclass(frozen=True, slots=True)
class Socket:
    """A socket as /proc/net shows it (see xa_socket in xenaccess_os.h)."""
    proto: str      # "tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet"
    state: str      # "ESTABLISHED", "LISTEN", "CLOSE", ...
    local: bytes    # "127.0.0.1:7001", "[::1]:7003", a UNIX path or "@abstract"
    remote: bytes
    inode: int      # 0 when no file holds it
    pids: tuple     # processes holding it
    rx_queue: int   # None when unknown (a 32-bit kernel without BTF)
    tx_queue: int   # likewise
    uid: int
    family: int
    type: int
    protocol: int   # a packet socket's: None when unknown (likewise)
    ifindex: int    # likewise
    in_table: bool  # found in a kernel table (False: only in an fd table)
    sk: int
    netns: int = 0  # its network namespace's inode number ("net:[N]"), 0 unreadable


@dataclasses.dataclass(frozen=True, slots=True)
class KmsgRecord:
    """One record of the kernel log (the printk ring buffer)."""
    seq: int
    ts_ns: int      # ns since boot
    level: int      # 0 emerg .. 7 debug
    facility: int   # 0 kernel, 1 user, ...
    text: bytes
    dropped: int    # records lost just before this one
    truncated: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Creds:
    """A process's credentials (its real_cred, as /proc/PID/status shows)."""
    uid: int
    euid: int
    suid: int
    fsuid: int
    gid: int
    egid: int
    sgid: int
    fsgid: int
    groups: tuple
    cap_effective: int
    cap_permitted: int


@dataclasses.dataclass(frozen=True, slots=True)
class StartTime:
    boot_ns: int          # since boot (boot clock), as /proc/PID/stat's starttime
    wall_ns: int | None   # since the epoch; None when the timekeeper cannot be read


@dataclasses.dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    addr: int
    type: str


@dataclasses.dataclass(frozen=True)
class Info:
    backend: str
    access_method: str
    live: bool
    memory_size: int
    max_pa: int
    vcpus: int
    page_mode: str
    dtb: int
    os: str              # "linux", or None when no OS was recognised
    version: str = None
    release: str = None
    kaslr_slide: int = None
    phys_base: int = None
    text_start: int = None
    page_offset: int = None
    symbols: int = 0
    btf_types: int = 0
    symbols_from: str = None
    types_from: str = None
    os_error: str = None  # why no OS was recognised

    def as_dict(self):
        return dataclasses.asdict(self)


def _u64(value, what):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__)) from None
    if not 0 <= value < 1 << 64:
        raise ValueError("%s out of range: %#x" % (what, value) if value >= 0 else
                         "%s is negative: %d" % (what, value))
    return value


def _size(value, limit, what="size"):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__)) from None
    if value < 0:
        raise ValueError("%s is negative: %d" % (what, value))
    if value > limit:
        raise ValueError("%s %d is larger than the limit %d" % (what, value, limit))
    return value


def _label(pid):
    return pid.pid if isinstance(pid, Process) else pid


def _pid(pid):
    if pid is None:
        return 0
    try:
        pid = operator.index(pid)
    except TypeError:
        raise TypeError("pid must be an int, not %s" % type(pid).__name__) from None
    if not 0 <= pid < 1 << 31:
        raise ValueError("pid out of range: %d" % pid)
    return pid


def _perms(flags):
    return "".join((c if flags & bit else "-") for c, bit in (("r", 1), ("w", 2), ("x", 4))) + \
        ("s" if flags & 8 else "p")


def _c_process(p):
    """A Process a walk handed out, back as the C struct for the *_new_proc
    calls (they re-read p.task and check it is still process p.pid)."""
    c = _lib.Process()
    c.pid, c.tgid, c.ppid = p.pid, p.tgid, p.ppid
    c.uid, c.gid, c.euid, c.egid = p.uid, p.gid, p.euid, p.egid
    c.comm = p.comm.encode("utf-8", "surrogateescape")[:_lib.COMM_LEN]
    c.state = p.state.encode()[:1] or b"?"
    c.flags, c.task, c.mm, c.dtb, c.start_time = p.flags, p.task, p.mm, p.dtb, p.start_time
    return c


def _per_process(pid, new_by_pid, new_by_proc):
    """(new function, its argument) for a pid or a Process: a Process from
    processes() or process() is used as found, with no walk and no flush."""
    if isinstance(pid, Process):
        return new_by_proc, ctypes.byref(_c_process(pid))
    return new_by_pid, _pid(pid)


def _process(p):
    return Process(pid=p.pid, tgid=p.tgid, ppid=p.ppid, uid=p.uid, gid=p.gid, euid=p.euid,
                   egid=p.egid, comm=_lib.text(p.comm), state=_lib.text(p.state) or "?",
                   flags=p.flags, task=p.task, mm=p.mm, dtb=p.dtb, start_time=p.start_time,
                   kthread=bool(p.flags & PF_KTHREAD))


def _module(m):
    return Module(name=_lib.text(m.name), base=m.base, size=m.size, module=m.module,
                  refcount=m.refcount, state=m.state)


def _thread(t):
    return Thread(tid=t.tid, tgid=t.tgid, comm=_lib.text(t.comm),
                  state=_lib.text(t.state) or "?", cpu=t.cpu, task=t.task)


def _open_file(f):
    return OpenFile(pid=f.pid, fd=f.fd, type=_lib.text(_lib.xa().xa_file_type_name(f.mode)),
                    path=_lib.text(f.path), raw_path=bytes(f.path), inode=f.inode, pos=f.pos,
                    flags=f.flags, dev=(f.dev_major, f.dev_minor), mode=f.mode, file=f.file,
                    name_unknown=bool(f.state & 1))


def _mount(m):
    return Mount(mnt_id=m.mnt_id, parent_id=m.parent_id, dev=(m.dev_major, m.dev_minor),
                 root=_lib.text(m.root), mount_point=_lib.text(m.mount_point),
                 options=_lib.text(m.options), shared_id=m.shared_id, master_id=m.master_id,
                 fstype=_lib.text(m.fstype), source=_lib.text(m.source),
                 super_ro=bool(m.sb_flags & 1), mount=m.mount)


def _mapping(v):
    return Mapping(start=v.start, end=v.end, flags=v.flags, pgoff=v.pgoff, vma=v.vma,
                   path=_lib.text(v.path), perms=_perms(v.flags))


NET_NO_QUEUES = 1 << 3  # XA_NET_NO_QUEUES


def _socket(s):
    known = not s.flags & NET_NO_QUEUES
    proto = s.proto.decode()
    pk = known or proto != "packet"
    return Socket(proto=proto, state=_lib.text(s.state_name), local=s.local,
                  remote=s.remote, inode=s.inode,
                  pids=tuple(s.pids[:min(s.npids, _lib.NET_PIDS_MAX)]),
                  rx_queue=s.rx_queue if known else None,
                  tx_queue=s.tx_queue if known else None, uid=s.uid, family=s.family,
                  type=s.type, protocol=s.protocol if pk else None,
                  ifindex=s.ifindex if pk else None, in_table=bool(s.flags & 1), sk=s.sk,
                  netns=s.netns)


def _kmsg(r):
    return KmsgRecord(seq=r.seq, ts_ns=r.ts_ns, level=r.level, facility=r.facility,
                      text=ctypes.string_at(ctypes.addressof(r) + _lib.Kmsg.text.offset,
                                            min(r.text_len, _lib.KMSG_TEXT_MAX)),
                      dropped=r.dropped, truncated=bool(r.flags & 1))


class _Walk:
    """Iterator over a C walk (processes, modules, maps).  Yields items, then
    stops, or raises PartialResult when the walk over guest data broke off."""

    def __init__(self, vm, what, new, nxt, free, ctype, convert, *args):
        self._vm, self._what, self._next, self._free = vm, what, nxt, free
        self._buf, self._convert, self.count = ctype(), convert, 0
        self._cut_by_close = False
        it = ctypes.c_void_p()
        with vm._lock:
            h = vm._handle()
            vm._check(new(h, *args, ctypes.byref(it)), what)
            self._it = it
            vm._walks.add(self)

    def __iter__(self):
        return self

    def __next__(self):
        vm = self._vm
        with vm._lock:
            if self._it is None:
                if self._cut_by_close:
                    # Ending quietly would pass a cut walk off as a complete one.
                    raise ValueError("%s used after its VM was closed (stopped after %d)"
                                     % (self._what, self.count))
                raise StopIteration
            rc = self._next(self._it, ctypes.byref(self._buf))
            if rc == 1:
                self.count += 1
                return self._convert(self._buf)
            msg = vm._errmsg() if rc < 0 else None
            self.close()
        if rc == 0:
            raise StopIteration
        err = PartialResult("%s stopped after %d: %s" % (self._what, self.count, msg), rc)
        err.count = err.items = self.count
        raise err

    def close(self, cut_by_vm_close=False):
        with self._vm._lock:
            if self._it is not None:
                self._cut_by_close = cut_by_vm_close
                self._free(self._it)
                self._it = None
                self._vm._walks.discard(self)

    def __del__(self):
        if getattr(self, "_it", None) is not None:
            self.close()


class VM(Handle):
    """An open target.  Use as a context manager or call close().

    One thread at a time touches the C handle (a lock serialises calls)."""

    def __init__(self, target, write=False, sysmap=None, btf=None, no_os=False,
                 v2p_cache=0, page_cache=0):
        self._h = None
        self._lock = threading.RLock()
        self._walks = set()
        self._lib = _lib.xa()
        if isinstance(target, os.PathLike):
            target = "file:" + os.fspath(target)
        if isinstance(target, str) and target.split(":", 1)[0] not in SCHEMES \
                and os.path.exists(target):
            target = "file:" + target
        self.target = target
        keep = [_lib.cstr(target, "target")]  # keep the bytes alive across the call
        opts = _lib.InitOpts(sz=ctypes.sizeof(_lib.InitOpts), target=keep[0])
        opts.flags = (INIT_WRITE if write else 0) | (INIT_NO_OS if no_os else 0)
        if sysmap is not None:
            keep.append(_lib.cstr(sysmap, "sysmap"))
            opts.sysmap = keep[-1]
        if btf is not None:
            keep.append(_lib.cstr(btf, "btf"))
            opts.btf = keep[-1]
        opts.v2p_cache_entries = _size(v2p_cache, 1 << 26, "v2p_cache")
        opts.page_cache_entries = _size(page_cache, 1 << 22, "page_cache")
        h = ctypes.c_void_p()
        rc = self._lib.xa_init_opts(ctypes.byref(opts), ctypes.byref(h))
        if rc < 0:
            raise error_for(rc, _lib.text(self._lib.xa_last_init_error()) or
                            _lib.text(self._lib.xa_strerror(rc)))
        if not h.value:
            raise XenaccessError("xa_init_opts returned no handle", EINVAL)
        self._h = h
        self.writable = bool(write)

    # -- plumbing --
    def _handle(self):
        if self._h is None:
            raise ValueError("operation on a closed VM")
        return self._h

    def _errmsg(self):
        return _lib.text(self._lib.xa_errmsg(self._h)) if self._h is not None else None

    def _check(self, rc, what=None):
        if rc < 0:
            msg = self._errmsg() or _lib.text(self._lib.xa_strerror(rc))
            raise error_for(rc, msg)
        return rc

    def close(self):
        """Release the target (idempotent).  Open iterators are ended first."""
        with self._lock:
            for w in list(self._walks):
                w.close(cut_by_vm_close=True)
            if self._h is not None:
                self._lib.xa_destroy(self._h)
                self._h = None

    def __repr__(self):
        return "<xenaccess.VM %r%s>" % (self.target, " closed" if self.closed else "")

    # -- target facts --
    @property
    def live(self):
        with self._lock:
            return bool(self._lib.xa_is_live(self._handle()))

    @property
    def info(self):
        """Target and OS facts (an Info; .as_dict() for a dict)."""
        L = self._lib
        with self._lock:
            h = self._handle()
            base = dict(backend=_lib.text(L.xa_backend_name(h)),
                        access_method=_lib.text(L.xa_access_method(h)),
                        live=bool(L.xa_is_live(h)), memory_size=L.xa_memsize(h),
                        max_pa=L.xa_max_pa(h), vcpus=L.xa_vcpu_count(h),
                        page_mode=_lib.text(L.xa_page_mode_name(L.xa_get_page_mode(h))),
                        dtb=L.xa_kernel_dtb(h), os=None)
            oi = _lib.OsInfo()
            if L.xa_os_get_info(h, ctypes.byref(oi)) == 0:
                base.update(os={1: "linux", 2: "windows"}.get(oi.type, "unknown"),
                            version=_lib.text(oi.version), release=_lib.text(oi.release),
                            kaslr_slide=oi.kaslr_slide, phys_base=oi.phys_base,
                            text_start=oi.text_start, page_offset=oi.page_offset,
                            symbols=oi.num_symbols, btf_types=oi.num_btf_types,
                            symbols_from=_lib.text(oi.symbols_from),
                            types_from=_lib.text(oi.types_from))
            else:
                base.update(os_error=self._errmsg())
            return Info(**base)

    def mem_ranges(self):
        """Guest-physical RAM as [(start, size), ...]."""
        with self._lock:
            n = ctypes.c_size_t()
            p = self._lib.xa_mem_ranges(self._handle(), ctypes.byref(n))
            if not p:
                return []
            return [(p[i].start, p[i].size) for i in range(min(n.value, 1 << 16))]

    def regs(self, vcpu=0):
        """Registers of a vCPU as a dict (asks the hypervisor on live targets)."""
        vcpu = _size(vcpu, 0xffffffff, "vcpu")
        r = _lib.Regs()
        with self._lock:
            self._check(self._lib.xa_get_vcpu_regs(self._handle(), vcpu, ctypes.byref(r)))
        return {name: getattr(r, name) for name, _ in r._fields_}

    def set_kernel_paging(self, mode, dtb):
        """Set paging mode (1 none .. 5 LA57, 6 AArch64, as enum xa_page_mode) and kernel root by hand."""
        mode = _size(mode, 5, "mode")
        with self._lock:
            self._check(self._lib.xa_set_kernel_paging(self._handle(), mode, _u64(dtb, "dtb")))

    # -- live control and caches --
    def pause(self):
        """Pause a live guest (NotSupported on dumps).  Flushes caches."""
        with self._lock:
            self._check(self._lib.xa_pause(self._handle()))

    def resume(self):
        with self._lock:
            self._check(self._lib.xa_resume(self._handle()))

    @contextlib.contextmanager
    def paused(self):
        """`with vm.paused():` a consistent view of a live guest; nothing on dumps."""
        if not self.live:
            yield self
            return
        self.pause()
        try:
            yield self
        finally:
            if not self.closed:
                self.resume()

    def flush(self, kinds="all"):
        """Drop cached translations/pages/OS data: "all", "v2p", "pages", "os" or a mask."""
        if isinstance(kinds, str):
            try:
                mask = _CACHE_NAMES[kinds]
            except KeyError:
                raise ValueError("unknown cache %r (one of %s)" % (kinds, ", ".join(_CACHE_NAMES)))
        else:
            mask = _size(kinds, CACHE_ALL, "cache mask")
        with self._lock:
            self._lib.xa_cache_flush(self._handle(), mask)

    def cache_stats(self):
        st = _lib.CacheStats()
        with self._lock:
            self._lib.xa_cache_stats(self._handle(), ctypes.byref(st))
        return {name: getattr(st, name) for name, _ in st._fields_}

    # -- symbols and types --
    def symbol(self, name):
        """Address of a kernel symbol (KASLR applied); NotFound if unknown."""
        out = ctypes.c_uint64()
        with self._lock:
            self._check(self._lib.xa_sym_lookup(self._handle(), _lib.cstr(name, "name"),
                                                ctypes.byref(out)))
        return out.value

    def symbol_at(self, addr):
        """(name, offset) of the nearest kernel symbol at or below addr."""
        name, off = ctypes.c_char_p(), ctypes.c_uint64()
        with self._lock:
            self._check(self._lib.xa_sym_at(self._handle(), _u64(addr, "addr"),
                                            ctypes.byref(name), ctypes.byref(off)))
            return _lib.text(name.value), off.value

    def symbols(self):
        """All kernel symbols, in address order, as a list of Symbol."""
        out = []

        def each(name, addr, typ, _ctx):
            out.append(Symbol(_lib.text(name), addr, _lib.text(typ)))
            return 0

        cb = _lib.SYM_FN(each)
        with self._lock:
            self._check(self._lib.xa_sym_foreach(self._handle(), cb, None))
        return out

    def type_offset(self, struct, member):
        """Byte offset of member in struct (BTF); NotFound if unknown."""
        out = ctypes.c_uint64()
        with self._lock:
            self._check(self._lib.xa_type_offset(self._handle(), _lib.cstr(struct, "struct"),
                                                 _lib.cstr(member, "member"), ctypes.byref(out)))
        return out.value

    def type_size(self, struct):
        out = ctypes.c_uint64()
        with self._lock:
            self._check(self._lib.xa_type_size(self._handle(), _lib.cstr(struct, "struct"),
                                               ctypes.byref(out)))
        return out.value

    # -- OS objects --
    def processes(self):
        """Iterate processes (thread-group leaders); PartialResult if the walk broke off."""
        L = self._lib
        return _Walk(self, "process list", L.xa_process_iter_new, L.xa_process_iter_next,
                     L.xa_process_iter_free, _lib.Process, _process)

    def process(self, pid):
        """One process by pid; NotFound if absent."""
        p = _lib.Process()
        with self._lock:
            self._check(self._lib.xa_process_by_pid(self._handle(), _pid(pid), ctypes.byref(p)))
        return _process(p)

    def modules(self):
        L = self._lib
        return _Walk(self, "module list", L.xa_module_iter_new, L.xa_module_iter_next,
                     L.xa_module_iter_free, _lib.Module, _module)

    def maps(self, pid):
        """Iterate the memory map of process pid (Mapping objects, address order)."""
        L = self._lib
        return _Walk(self, "memory map of %s" % pid, L.xa_vma_iter_new, L.xa_vma_iter_next,
                     L.xa_vma_iter_free, _lib.Vma, _mapping, _pid(pid))

    # threads(), files() and mounts() take a pid or a Process. A Process from
    # processes() is used as that walk found it: a listing over every process
    # is one snapshot, with no walk and (live) no cache flush per process.
    def threads(self, pid):
        """Iterate the threads of process pid, or of a Process (Thread objects)."""
        L = self._lib
        new, arg = _per_process(pid, L.xa_thread_iter_new, L.xa_thread_iter_new_proc)
        return _Walk(self, "thread list of %s" % _label(pid), new, L.xa_thread_iter_next,
                     L.xa_thread_iter_free, _lib.Thread, _thread, arg)

    def files(self, pid):
        """Iterate the open files of process pid, or of a Process (OpenFile
        objects, fd order)."""
        L = self._lib
        new, arg = _per_process(pid, L.xa_file_iter_new, L.xa_file_iter_new_proc)
        return _Walk(self, "open files of %s" % _label(pid), new, L.xa_file_iter_next,
                     L.xa_file_iter_free, _lib.OpenFile, _open_file, arg)

    def mounts(self, pid=0):
        """Iterate the mounts of process pid's (or a Process's) mount
        namespace, seen from its root (Mount objects); pid 0: the initial
        namespace, from its top."""
        L = self._lib
        new, arg = _per_process(pid, L.xa_mount_iter_new, L.xa_mount_iter_new_proc)
        return _Walk(self, "mounts of %s" % _label(pid), new, L.xa_mount_iter_next,
                     L.xa_mount_iter_free, _lib.Mount, _mount, arg)

    def os_stats(self):
        """{"process_walks", "os_flushes"}: the OS layer's work since open."""
        st = _lib.OsStats()
        with self._lock:
            self._lib.xa_os_stats(self._handle(), ctypes.byref(st))
        return {name: getattr(st, name) for name, _ in st._fields_}

    def sockets(self):
        """Iterate the guest's sockets (Socket objects), from the kernel's tables
        and the processes' fd tables, each once, with the pids holding it."""
        L = self._lib
        return _Walk(self, "socket list", L.xa_net_iter_new, L.xa_net_iter_next,
                     L.xa_net_iter_free, _lib.Socket, _socket)

    def kmsg(self, from_seq=0):
        """Iterate the kernel log (KmsgRecord objects) from sequence number
        from_seq (0: the oldest record kept)."""
        L = self._lib
        return _Walk(self, "kernel log", L.xa_kmsg_iter_new, L.xa_kmsg_iter_next,
                     L.xa_kmsg_iter_free, _lib.Kmsg, _kmsg, _u64(from_seq, "from_seq"))

    def creds(self, pid):
        """Credentials of process pid, supplementary groups included."""
        c = _lib.Creds()
        cap = 64
        while True:
            groups = (ctypes.c_uint32 * cap)()
            with self._lock:
                self._check(self._lib.xa_process_creds(self._handle(), _pid(pid),
                                                       ctypes.byref(c), groups, cap))
            if c.ngroups <= cap:
                break
            cap = min(c.ngroups, _lib.NGROUPS_MAX)
        return Creds(uid=c.uid, euid=c.euid, suid=c.suid, fsuid=c.fsuid, gid=c.gid,
                     egid=c.egid, sgid=c.sgid, fsgid=c.fsgid,
                     groups=tuple(groups[:c.ngroups]), cap_effective=c.cap_effective,
                     cap_permitted=c.cap_permitted)

    def boot_time(self):
        """Wall-clock time of the guest's boot, ns since the epoch."""
        out = ctypes.c_int64()
        with self._lock:
            self._check(self._lib.xa_boot_time(self._handle(), ctypes.byref(out)))
        return out.value

    def start_time(self, pid):
        """When process pid started (StartTime: boot_ns, wall_ns)."""
        boot, wall = ctypes.c_uint64(), ctypes.c_int64()
        with self._lock:
            h = self._handle()
            rc = self._lib.xa_process_start_time(h, _pid(pid), ctypes.byref(boot),
                                                 ctypes.byref(wall))
            if rc == ENOTSUP:  # no timekeeper: the boot-relative time still counts
                rc = self._lib.xa_process_start_time(h, _pid(pid), ctypes.byref(boot), None)
                if rc == 0:
                    return StartTime(boot_ns=boot.value, wall_ns=None)
            self._check(rc)
        return StartTime(boot_ns=boot.value, wall_ns=wall.value)

    def _args(self, fn, pid, what, partial):
        buf = ctypes.create_string_buffer(_lib.ARGS_MAX)
        n, flags = ctypes.c_size_t(), ctypes.c_uint32()
        with self._lock:
            self._check(fn(self._handle(), _pid(pid), buf, _lib.ARGS_MAX, ctypes.byref(n),
                           ctypes.byref(flags)))
            msg = self._errmsg()
        data = buf.raw[:n.value]
        if flags.value and not partial:
            why = msg if flags.value & _lib.ARGS_ABSENT else "longer than %d bytes" % \
                _lib.ARGS_MAX
            err = PartialResult("%s of %s is partial (%d bytes): %s" % (what, pid, len(data),
                                                                        why),
                                EFAULT if flags.value & _lib.ARGS_ABSENT else ERANGE)
            err.data = data
            raise err
        return data

    def cmdline(self, pid, partial=False):
        """Command line of process pid as /proc/PID/cmdline gives it (bytes,
        NUL-separated), read from the process's memory.  When a page is absent
        (or it is over 128 KiB) raises PartialResult with .data holding the
        bytes read; with partial=True returns them instead."""
        return self._args(self._lib.xa_process_cmdline, pid, "command line", partial)

    def environ(self, pid, partial=False):
        """Environment of process pid (bytes, NUL-separated), as cmdline()."""
        return self._args(self._lib.xa_process_environ, pid, "environment", partial)

    def _path(self, pid, which):
        buf = ctypes.create_string_buffer(_lib.PATH_MAX)
        with self._lock:
            self._check(self._lib.xa_process_path(self._handle(), _pid(pid), which, buf,
                                                  _lib.PATH_MAX))
        return _lib.text(buf.value)

    def exe(self, pid):
        """Path of process pid's executable; NotFound for a kernel thread."""
        return self._path(pid, _lib.PROC_EXE)

    def cwd(self, pid):
        """Current directory of process pid."""
        return self._path(pid, _lib.PROC_CWD)

    def root(self, pid):
        """Root directory of process pid."""
        return self._path(pid, _lib.PROC_ROOT)

    def dtb_of(self, pid):
        """Page-table root (physical) of process pid."""
        out = ctypes.c_uint64()
        with self._lock:
            self._check(self._lib.xa_pid_to_dtb(self._handle(), _pid(pid), ctypes.byref(out)))
        return out.value

    def _root(self, pid, dtb):
        if dtb is not None:
            if pid is not None:
                raise ValueError("give pid or dtb, not both")
            return _u64(dtb, "dtb")
        return self.dtb_of(pid) if _pid(pid) else 0

    # -- memory --
    def read(self, addr, size, pid=None, dtb=None, partial=False):
        """Read virtual memory: the kernel's (pid None or 0), process pid's, or
        through page-table root dtb.  Raises on the first unreadable byte;
        with partial=True returns the bytes read before it instead."""
        addr, size = _u64(addr, "addr"), _size(size, MAX_READ)
        if size == 0:
            return b""
        buf = ctypes.create_string_buffer(size)
        n = ctypes.c_size_t()
        with self._lock:
            h = self._handle()
            if dtb is None and pid:
                rc = self._lib.xa_read_pid_va(h, _pid(pid), addr, buf, size, ctypes.byref(n))
            else:
                rc = self._lib.xa_read_va(h, self._root(pid, dtb), addr, buf, size,
                                          ctypes.byref(n))
            if rc < 0 and not partial:
                self._check(rc)
        got = min(n.value, size) if rc < 0 else size
        return buf.raw[:got] if got < size else buf.raw

    def _int(self, addr, width, pid, dtb):
        return int.from_bytes(self.read(addr, width, pid=pid, dtb=dtb), "little")

    def read_u8(self, addr, pid=None, dtb=None):
        return self._int(addr, 1, pid, dtb)

    def read_u16(self, addr, pid=None, dtb=None):
        return self._int(addr, 2, pid, dtb)

    def _kva(self, fn, ctype, addr):
        out = ctype()
        with self._lock:
            self._check(fn(self._handle(), _u64(addr, "addr"), ctypes.byref(out)))
        return out.value

    def read_u32(self, addr, pid=None, dtb=None):
        if pid is None and dtb is None:  # one C call, no buffer
            return self._kva(self._lib.xa_read_kva_u32, ctypes.c_uint32, addr)
        return self._int(addr, 4, pid, dtb)

    def read_u64(self, addr, pid=None, dtb=None):
        if pid is None and dtb is None:
            return self._kva(self._lib.xa_read_kva_u64, ctypes.c_uint64, addr)
        return self._int(addr, 8, pid, dtb)

    def read_str(self, addr, max_len=256, pid=None, dtb=None, encoding="utf-8"):
        """A NUL-terminated string of at most max_len bytes (decoded; bytes if encoding=None)."""
        addr, max_len = _u64(addr, "addr"), _size(max_len, MAX_STR, "max_len")
        buf = ctypes.create_string_buffer(max_len + 1)
        with self._lock:
            root = self._root(pid, dtb)
            self._check(self._lib.xa_read_va_str(self._handle(), root, addr, buf, max_len + 1))
        return buf.value if encoding is None else buf.value.decode(encoding, "replace")

    def read_symbol(self, name, size):
        """size bytes at kernel symbol name."""
        size = _size(size, MAX_READ)
        buf = ctypes.create_string_buffer(max(size, 1))
        with self._lock:
            self._check(self._lib.xa_read_ksym(self._handle(), _lib.cstr(name, "name"), buf, size))
        return buf.raw[:size]

    def read_pa(self, pa, size):
        """Read guest-physical memory; OutOfRange if any byte is outside RAM."""
        pa, size = _u64(pa, "pa"), _size(size, MAX_READ)
        if size == 0:
            return b""
        buf = ctypes.create_string_buffer(size)
        with self._lock:
            self._check(self._lib.xa_read_pa(self._handle(), pa, buf, size))
        return buf.raw

    def write(self, addr, data, pid=None, dtb=None):
        """Write virtual memory (open with write=True); returns bytes written."""
        addr, data = _u64(addr, "addr"), bytes(data)
        _size(len(data), MAX_READ, "data length")
        if not data:
            return 0
        buf = ctypes.create_string_buffer(data, len(data))
        n = ctypes.c_size_t()
        with self._lock:
            root = self._root(pid, dtb)
            self._check(self._lib.xa_write_va(self._handle(), root, addr, buf, len(data),
                                              ctypes.byref(n)))
        return n.value

    def write_pa(self, pa, data):
        pa, data = _u64(pa, "pa"), bytes(data)
        _size(len(data), MAX_READ, "data length")
        buf = ctypes.create_string_buffer(data, max(len(data), 1))
        with self._lock:
            self._check(self._lib.xa_write_pa(self._handle(), pa, buf, len(data)))

    def translate(self, va, pid=None, dtb=None):
        """Virtual -> physical through the kernel's, pid's or dtb's page tables."""
        va, pa = _u64(va, "va"), ctypes.c_uint64()
        with self._lock:
            root = self._root(pid, dtb)
            self._check(self._lib.xa_translate(self._handle(), root, va, ctypes.byref(pa)))
        return pa.value

    def page(self, addr, pid=None, physical=False):
        """The paper's xa_access_*_address: (copy of the 4 KiB page holding addr,
        offset of addr in it).  physical=True takes addr as guest-physical."""
        addr, off = _u64(addr, "addr"), ctypes.c_uint32()
        L = self._lib
        with self._lock:
            h = self._handle()
            if physical:
                ptr, code = L.xa_access_physical_address(h, addr, ctypes.byref(off)), ERANGE
            else:
                root = self._root(pid, None)
                ptr = L.xa_access_dtb_virtual_address(h, root, addr, ctypes.byref(off))
                code = EFAULT
            if not ptr:
                raise error_for(code, self._errmsg())
            try:
                data = ctypes.string_at(ptr, PAGE_SIZE)
            finally:
                L.xa_release_page(h, ptr)
        return data, off.value


def open(target, write=False, sysmap=None, btf=None, no_os=False, v2p_cache=0, page_cache=0):
    """Open a target: "file:PATH" (raw image or QEMU ELF core), "qemu:QMP_SOCKET",
    "xen:DOMAIN", "libvirt:NAME" (a plain existing path means file:).  Returns a
    VM, usable as a context manager."""
    return VM(target, write=write, sysmap=sysmap, btf=btf, no_os=no_os, v2p_cache=v2p_cache,
              page_cache=page_cache)
