#!/usr/bin/python3
"""Regenerate the seed corpora of the fuzz targets in tests/fuzz/corpus/.

    /usr/bin/python3 tests/fuzz/make_seeds.py BUILD_DIR [DUMPS_DIR]

Seeds come from the project's own builders and real guests:
  kallsyms  tables in every layout (tests/unit/test_kallsyms.c's builder,
            through BUILD_DIR/tests/fuzz/make_seeds_kallsyms)
  discovery memory tiled with fake kallsyms token tables (a lone table, one
            with a seqs_of_names tail below it, one with a markers tail), and
            the kallsyms layouts above placed once
  btf, walks the synthetic guest of tests/unit/synthetic_guest.h (its BTF
            blobs, and patch lists that each make one hostile change)
  dump      the header and vCPU notes of the real QEMU ELF cores in DUMPS_DIR
            (default $XA_TEST_DUMPS, else $XA_CACHE/dumps; l4 and l5) with their
            PT_LOADs shrunk to a few pages, plus LiME, raw and broken ELF
            layouts
  x86       page tables for every paging mode, built here
  arm64     AArch64 tables (39/48/52-bit, blocks, both halves): make_seeds_arm64.py
  jbd2      small ext4 journals (plain, 64-bit csum v3, revoke), built here
  procread  dentry/mount arenas for the path builder and argument areas
  fileread  fd tables, files and mounts (fuzz_fileread.c)
            (a mount crossing, a deleted file, a d_parent cycle), built here
  windows   tiny Windows crash dumps (full, 32-bit, bitmap, triage, truncated)
            and patch lists for the synthetic Windows guest of
            tests/unit/synthetic_windows.h (a loop, a bad Blink, a wild PID)
  disk      tap records over fuzz_disk's ext4 image (made the same way here:
            fixed UUID, hash seed and time): the blocks debugfs changes, written
            in place and as a jbd2 transaction in the image's own journal
Files named regress-* are crash reproducers kept by hand: never deleted.
The whole corpus stays small (< 2 MiB; checked at the end).
"""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_seeds_arm64 import arm64_seeds  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MAX_TOTAL = 2 << 20


def reset(name):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("regress-"):
            os.unlink(os.path.join(d, f))
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- dump headers -----------------------------------------------------------

def elf_seed_from_core(path):
    """Header, program headers and notes of a real core; PT_LOADs shrunk."""
    with open(path, "rb") as f:
        head = bytearray(f.read(1 << 16))
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", head, phoff + i * phentsize))
             for i in range(phnum)]
    data_start = max(p[2] + p[5] for p in phdrs if p[0] == 4)  # end of the notes
    data_start = (data_start + 7) & ~7
    out = bytearray(head[:data_start])
    pos = data_start
    sizes = [(0x2000, 0x3000), (0x1000, 0x1000)]  # file, memory (zero-filled tail)
    k = 0
    for i, p in enumerate(phdrs):
        if p[0] != 1:
            continue
        filesz, memsz = sizes[min(k, len(sizes) - 1)]
        k += 1
        p[2], p[5], p[6] = pos, filesz, memsz
        struct.pack_into("<IIQQQQQQ", out, phoff + i * phentsize, *p)
        pos += filesz
    out += bytes(range(256)) * ((pos - data_start) // 256)
    return bytes(out), phoff, phentsize


def elf_header(phdrs):
    """A minimal ELF64 x86-64 core with the given (type, offset, paddr, filesz, memsz)."""
    eh = bytearray(64)
    eh[0:4] = b"\x7fELF"
    eh[4], eh[5], eh[6] = 2, 1, 1
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 4, 62, 1, 0, 64, 0, 0, 64, 56, len(phdrs), 0, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", t, 0, off, pa, pa, fs, ms, 0)
                  for t, off, pa, fs, ms in phdrs)
    return bytes(eh) + ph


def lime(ranges):
    out = b""
    for start, data in ranges:
        out += struct.pack("<IIQQQ", 0x4C694D45, 1, start, start + len(data) - 1, 0) + data
    return out


def dump_seeds(dumps):
    d = reset("dump")
    for kind in ("l4", "l5"):
        core = os.path.join(dumps, kind, "core.elf")
        if os.path.exists(core):
            seed, phoff, phentsize = elf_seed_from_core(core)
            write(d, f"qemu-core-{kind}", seed)
            # The same with the first PT_LOAD running past the end of the file.
            bad = bytearray(seed)
            for i in range(struct.unpack_from("<H", bad, 56)[0]):
                at = phoff + i * phentsize
                if struct.unpack_from("<I", bad, at)[0] == 1:
                    struct.pack_into("<Q", bad, at + 32, 1 << 40)
                    break
            write(d, f"qemu-core-{kind}-exceeds-file", bytes(bad))
    hdr = 64 + 56 * 3
    body = bytes(range(256)) * 48
    write(d, "elf-three-loads", elf_header([(1, hdr, 0, 0x1000, 0x1000),
                                            (1, hdr + 0x1000, 0x1800, 0x800, 0x2000),
                                            (1, hdr + 0x1800, 0x100000, 0x1000, 0x1000)]) + body)
    write(d, "elf-overlapping", elf_header([(1, hdr, 0, 0x2000, 0x2000),
                                            (1, hdr + 0x800, 0x1000, 0x2000, 0x2000),
                                            (1, hdr, 0x1000, 0x1000, 0x1000)]) + body)
    write(d, "lime-two-ranges", lime([(0, body[:0x2000]), (0x100000, body[:0x1000])]))
    write(d, "lime-unaligned", lime([(0x123, body[:0x1801])]))
    write(d, "raw-one-page", body[:4096])


# ---- page tables ------------------------------------------------------------

def x86_seed(mode, flags, cr3, vas, mem, phy=0):
    return struct.pack("<BBBQ4Q", mode, flags, phy, cr3, *vas) + bytes(mem)


def put(mem, at, fmt, v):
    struct.pack_into(fmt, mem, at, v)


def x86_seeds():
    d = reset("x86")
    P, RW, US, PS = 1, 2, 4, 0x80
    NX = 1 << 63
    kva = 0xffffffff81000000
    # 4-level: 4 KiB page, a 2 MiB page, a 1 GiB page.
    mem = bytearray(0x8000)
    put(mem, 0x1000 + 511 * 8, "<Q", 0x2000 | P | RW)
    put(mem, 0x2000 + 510 * 8, "<Q", 0x3000 | P | RW)
    put(mem, 0x3000 + 8 * 8, "<Q", 0x4000 | P | RW)
    put(mem, 0x4000, "<Q", 0x5000 | P | RW | NX)
    put(mem, 0x3000 + 9 * 8, "<Q", 0x200000 | P | PS)
    put(mem, 0x2000 + 511 * 8, "<Q", 0x40000000 | P | PS)
    put(mem, 0x1000, "<Q", 0x6000 | P | RW | US)  # user half
    put(mem, 0x6000, "<Q", 0x7000 | P | RW | US)
    vas = [kva, kva + 0x201234, 0xffffffffc0001000, 0x1000]
    write(d, "ia32e", x86_seed(4, 1, 0x1000, vas, mem))
    write(d, "ia32e-wrap", x86_seed(4, 1 | 4 | 8, 0x1000 | 0x5, vas, mem))
    write(d, "ia32e-no-nx", x86_seed(4, 0, 0x1000, vas, mem))
    # 5-level: one more table on top.
    mem5 = bytearray(mem) + bytearray(0x1000)
    put(mem5, 0x8000 + 511 * 8, "<Q", 0x1000 | P | RW)
    write(d, "la57", x86_seed(5, 1, 0x8000, [0xffffffffff000000 | (kva & 0xffffff), kva,
                                              0xff11000000000000, 0], mem5))
    # A table that maps itself at every level.
    selfmap = bytearray(0x2000)
    for i in range(512):
        put(selfmap, 0x1000 + i * 8, "<Q", 0x1000 | P | RW)
    write(d, "self-map", x86_seed(4, 1, 0x1000, [kva, 0xffffff7fbfdfe000, 0, 0x7fffffffe000],
                                  selfmap))
    # PAE: PDPT of 4 entries at 0x20, PD at 0x1000, PT at 0x2000.
    pae = bytearray(0x4000)
    put(pae, 0x20 + 3 * 8, "<Q", 0x1000 | P)
    put(pae, 0x1000 + 8 * 8, "<Q", 0x2000 | P | RW)
    put(pae, 0x1000 + 9 * 8, "<Q", 0x400000 | P | PS)
    put(pae, 0x2000, "<Q", 0x3000 | P | RW | NX)
    write(d, "pae", x86_seed(3, 1, 0x20, [0xc1000000, 0xc1201000, 0xc0000000, 0], pae))
    # 32-bit legacy: PD at 0x1000, PT at 0x2000, a 4 MiB page with PSE-36 bits.
    leg = bytearray(0x3000)
    put(leg, 0x1000 + 0x300 * 4, "<I", 0x2000 | P | RW)
    put(leg, 0x1000 + 0x301 * 4, "<I", 0x400000 | (0x3 << 13) | P | PS)
    put(leg, 0x2000, "<I", 0x3000 | P)
    write(d, "legacy", x86_seed(2, 2, 0x1000, [0xc0000000, 0xc0400123, 0xc0000fff, 0x1000],
                                leg, phy=0x80 | 40))
    write(d, "none", x86_seed(1, 0, 0, [0x1234, 0, 0xffffffffffffffff, 1 << 52], b""))


# ---- ext4 journal -----------------------------------------------------------

JBD2_MAGIC = 0xC03B3998


def be32(v):
    return struct.pack(">I", v & 0xffffffff)


def jbd2_journal(bsize=1024, incompat=0, revoke=False):
    nblocks = 10
    sb = bytearray(bsize)
    sb[0:12] = be32(JBD2_MAGIC) + be32(4) + be32(0)
    struct.pack_into(">IIIII", sb, 0x0c, bsize, 1024, 1, 5, 1)
    struct.pack_into(">I", sb, 0x28, incompat)
    sb[0x30:0x40] = bytes(range(16))
    is64, v3 = incompat & 2, incompat & 0x10
    blocks = [bytes(sb)]
    # transaction 5: descriptor with two tags, two data blocks, commit
    desc = bytearray(bsize)
    desc[0:12] = be32(JBD2_MAGIC) + be32(1) + be32(5)
    off = 12
    for i, fsblk in enumerate((100, 101)):
        last = i == 1
        flags = (8 if last else 0) | (2 if i else 0) | (1 if i == 0 else 0)  # escape, same uuid, last
        if v3:
            tag = be32(fsblk) + be32(flags) + be32(0) + be32(0)
        else:
            tag = be32(fsblk) + struct.pack(">HH", 0, flags) + (be32(0) if is64 else b"")
        desc[off:off + len(tag)] = tag
        off += len(tag)
        if not flags & 2:
            desc[off:off + 16] = bytes(range(16))
            off += 16
    blocks.append(bytes(desc))
    blocks.append(b"\x00\x00\x00\x00" + b"D" * (bsize - 4))  # escaped: magic restored
    blocks.append(b"E" * bsize)
    commit = bytearray(bsize)
    commit[0:12] = be32(JBD2_MAGIC) + be32(2) + be32(5)
    blocks.append(bytes(commit))
    if revoke:  # transaction 6: a revoke block and a commit
        rv = bytearray(bsize)
        rv[0:12] = be32(JBD2_MAGIC) + be32(5) + be32(6)
        recs = (struct.pack(">Q", 100) + struct.pack(">Q", 7)) if is64 else be32(100) + be32(7)
        struct.pack_into(">I", rv, 12, 16 + len(recs))
        rv[16:16 + len(recs)] = recs
        blocks.append(bytes(rv))
        commit = bytearray(bsize)
        commit[0:12] = be32(JBD2_MAGIC) + be32(2) + be32(6)
        blocks.append(bytes(commit))
    while len(blocks) < nblocks:
        blocks.append(bytes(bsize))
    return b"".join(blocks)


def jbd2_seeds():
    d = reset("jbd2")
    write(d, "plain", b"\x00" + jbd2_journal())
    write(d, "plain-revoke", b"\x00" + jbd2_journal(revoke=True))
    write(d, "64bit-revoke", b"\x00" + jbd2_journal(incompat=0x3, revoke=True))
    write(d, "csum-v3-64bit", b"\x01" + jbd2_journal(incompat=0x13, revoke=True))
    write(d, "csum-v2", b"\x01" + jbd2_journal(incompat=0x9))
    write(d, "fast-commit", b"\x00" + jbd2_journal(incompat=0x21))


# ---- disk engine -------------------------------------------------------------

DISK_ENV = {"E2FSPROGS_FAKE_TIME": "1700000000", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
DISK_MKFS = ["mkfs.ext4", "-q", "-F", "-b", "1024", "-O", "^metadata_csum",
             "-U", "6d1b0f3e-1c5a-4e2b-9a53-0f5e2b7c9d11",
             "-E", "hash_seed=0b7c3a52-8f1e-4d6a-b2c4-5e9f1a3d7b60"]
DISK_SETUP = "mkdir d\nmkdir d/e\nsymlink d/l /d/e\n"  # as fuzz_disk.c's DISK_FUZZ_MKFS
DISK_OPS = "mkdir x\nsymlink d/l2 /x\nrmdir d/e\n"


def debugfs(img, cmds, tmp):
    path = os.path.join(tmp, "cmds")
    with open(path, "w") as f:
        f.write(cmds.replace("\\n", "\n"))
    subprocess.run(["debugfs", "-w", "-f", path, img], env=DISK_ENV, check=True,
                   capture_output=True)


def disk_record(kind, blk, data=b"", count=0):
    return struct.pack("<BHB", kind, blk, count) + data


def disk_seeds():
    import tempfile
    d = reset("disk")
    with tempfile.TemporaryDirectory() as tmp:
        base, after = os.path.join(tmp, "base.img"), os.path.join(tmp, "after.img")
        subprocess.run(DISK_MKFS + [base, "4M"], env=DISK_ENV, check=True, capture_output=True)
        debugfs(base, DISK_SETUP, tmp)
        shutil.copyfile(base, after)
        debugfs(after, DISK_OPS, tmp)
        a, b = open(base, "rb").read(), open(after, "rb").read()
        bs = 1024
        changed = [i for i in range(len(a) // bs) if a[i * bs:(i + 1) * bs] != b[i * bs:(i + 1) * bs]]
        # In place (as without a journal), then a flush and an idle round.
        recs = b"".join(disk_record(0, i, b[i * bs:(i + 1) * bs]) for i in changed)
        write(d, "in-place", recs + disk_record(4, 0) + disk_record(7, 0))
        # As a jbd2 transaction in the image's journal (inode 8): descriptor,
        # the changed blocks, commit; written where the log blocks live.
        out = subprocess.run(["debugfs", "-R", "stat <8>", base], env=DISK_ENV, check=True,
                             capture_output=True, text=True).stdout
        jblocks = []
        for part in out.split("EXTENTS:")[1].split(","):
            rng = part.strip().split(":")[1].strip() if ":" in part else ""
            if "-" in rng:
                lo, hi = map(int, rng.split("-"))
                jblocks += range(lo, hi + 1)
            elif rng.isdigit():
                jblocks.append(int(rng))
        jsb = a[jblocks[0] * bs:(jblocks[0] + 1) * bs]
        first, seq = struct.unpack_from(">I", jsb, 0x14)[0], struct.unpack_from(">I", jsb, 0x18)[0]
        desc = bytearray(bs)
        desc[0:12] = be32(JBD2_MAGIC) + be32(1) + be32(seq)
        off = 12
        for k, blk in enumerate(changed):
            flags = (2 if k else 0) | (8 if k == len(changed) - 1 else 0)
            desc[off:off + 8] = be32(blk) + struct.pack(">HH", 0, flags)
            off += 8
            if not k:
                desc[off:off + 16] = jsb[0x30:0x40]
                off += 16
        commit = bytearray(bs)
        commit[0:12] = be32(JBD2_MAGIC) + be32(2) + be32(seq)
        log = [bytes(desc)] + [b[i * bs:(i + 1) * bs] for i in changed] + [bytes(commit)]
        recs = b"".join(disk_record(0, jblocks[first + k], blk) for k, blk in enumerate(log))
        write(d, "journal-transaction", recs + disk_record(4, 0))
        write(d, "journal-then-idle", recs + disk_record(4, 0) + disk_record(7, 0) +
              disk_record(5, changed[0], count=1))


# ---- from the C builders ----------------------------------------------------

def c_seeds(build):
    gen = os.path.join(build, "tests", "fuzz")
    subprocess.run([os.path.join(gen, "make_seeds_kallsyms"), reset("kallsyms")], check=True)
    btf, walks = reset("btf"), reset("walks")
    subprocess.run([os.path.join(gen, "make_seeds_guest"), btf, walks], check=True)
    write(btf, "too-short", b"\x9f\xeb\x01\x00" + bytes(20))
    write(btf, "bad-magic", b"\x00\x00\x01\x00" + bytes(60))


def procread_seeds():
    """Arenas for fuzz_procread.c: a path across a mount, a deleted file, a
    d_parent cycle, an argument area with an absent page."""
    d = reset("procread")
    base = 0xffff888000000000

    def arena_with(objs, size=0x3000):
        a = bytearray(size)
        for off, data in objs:
            a[off:off + len(data)] = data
        return a

    def dentry(off, parent, name_off, name_len, hashed=True):
        return [(off + 0x8, struct.pack("<Q", base + 0x1000 if hashed else 0)),
                (off + 0x18, struct.pack("<Q", base + parent)),
                (off + 0x24, struct.pack("<I", name_len)),
                (off + 0x28, struct.pack("<Q", base + name_off))]

    def mount(off, parent, mountpoint, root):
        return [(off + 0x10, struct.pack("<Q", base + parent)),
                (off + 0x18, struct.pack("<Q", base + mountpoint)),
                (off + 0x20, struct.pack("<Q", base + root))]

    names = [(0x800, b"tmp"), (0x810, b"dir with space"), (0x830, b"f\xe9")]
    objs = names + dentry(0x100, 0x100, 0x800, 1) + dentry(0x140, 0x100, 0x800, 3) + \
        mount(0x200, 0x200, 0x100, 0x100) + dentry(0x300, 0x300, 0x800, 1) + \
        mount(0x280, 0x200, 0x140, 0x300) + dentry(0x340, 0x300, 0x810, 14) + \
        dentry(0x380, 0x340, 0x830, 2) + dentry(0x3c0, 0x340, 0x830, 2, hashed=False) + \
        dentry(0x400, 0x440, 0x800, 3) + dentry(0x440, 0x400, 0x810, 14) + \
        [(0x1000 + i, bytes([i % 251])) for i in range(0x1800)]

    def header(flags, dent, mnt, root, root_mnt, cap, absent, astart, alen, acap):
        return struct.pack("<BHHHHHHIII", flags, dent, mnt, root, root_mnt, cap, absent,
                           astart, alen, acap)

    arena = bytes(arena_with(objs))
    write(d, "mount-crossing", header(1, 0x380, 0x2a0, 0, 0, 4096, 0, 0x1000, 0x1800, 0x2000)
          + arena)
    write(d, "deleted", header(1, 0x3c0, 0x2a0, 0, 0, 4096, 0, 0x1000, 0x1800, 0x10) + arena)
    write(d, "no-mounts", header(0, 0x380, 0x2a0, 0x340, 0x2a0, 4096, 0, 0x1080, 0x1000, 0x2000)
          + arena)
    write(d, "parent-cycle", header(1, 0x400, 0xffff, 0, 0, 64, 0x2, 0x1000, 0x1800, 0x2000)
          + arena)


def fileread_seeds():
    """Arenas for fuzz_fileread.c (layout of tests/unit/test_fileread.c): an fd
    table with a regular file, a pipe and an eventfd, a mount with a subtype;
    a table claiming 2^31 fds; a dentry loop; a mount parent cycle."""
    d = reset("fileread")
    base = 0xffff888000000000
    q = lambda v: struct.pack("<Q", v)  # noqa: E731

    def build(max_fds=64, loop=False, cycle=False):
        a = bytearray(0x2000)

        def put(off, data):
            a[off:off + len(data)] = data
        put(0x1800, b"ext4\0tmpfs\0sub\0/dev/sda1\0[eventfd]\0a b\0tmp\0/\0")
        name = {"ext4": 0x1800, "tmpfs": 0x1805, "sub": 0x180b, "sda": 0x180f,
                "evt": 0x1819, "ab": 0x1823, "tmp": 0x1827, "root": 0x182b}

        def dentry(off, parent, n, ln, op=0):
            put(off + 0x8, q(base + 0x1000))
            put(off + 0x18, q(base + parent))
            put(off + 0x24, struct.pack("<I", ln))
            put(off + 0x28, q(base + name[n]))
            put(off + 0x30, q(base + op if op else 0))
        put(0x1900, q(base + name["ext4"]))  # file_system_type
        put(0x1908, q(base + name["tmpfs"]))
        put(0x1a00, struct.pack("<I", (8 << 20) | 1) + bytes(4) + q(base + 0x1900))  # sb
        put(0x1a20, struct.pack("<I", 22) + bytes(4) + q(base + 0x1908) + q(0) +
            q(base + name["sub"]))
        dentry(0x100, 0x100, "root", 1)
        dentry(0x180, 0x100, "tmp", 3)
        dentry(0x200, 0x180 if not loop else 0x280, "ab", 3)
        dentry(0x280, 0x200, "tmp", 3)
        put(0x1b00, q(0) + q(0) + q(0xffffffff81000100))  # pipe d_op
        put(0x1b20, q(0) + q(0) + q(0xffffffff81000300))  # anon d_op
        dentry(0x300, 0x300, "root", 1, 0x1b00)
        dentry(0x380, 0x380, "evt", 9, 0x1b20)
        # mounts: m0 at 0x400 (root), m1 at 0x480 on /tmp
        put(0x400 + 0x10, q(base + (0x480 if cycle else 0x400)))
        put(0x400 + 0x18, q(base + 0x100))
        put(0x400 + 0x20, q(base + 0x100) + q(base + 0x1a00) + struct.pack("<I", 0x20))
        put(0x400 + 0x40, struct.pack("<II", 1, 0) + q(base + name["sda"]) + q(0))
        put(0x480 + 0x10, q(base + 0x400))
        put(0x480 + 0x18, q(base + 0x180))
        put(0x480 + 0x20, q(base + 0x100) + q(base + 0x1a20) + struct.pack("<I", 0x1043))
        put(0x480 + 0x40, struct.pack("<II", 7, 5) + q(0) + q(0))
        # inodes and files
        for i, (mode, ino, dent, mnt) in enumerate([(0o100644, 42, 0x200, 0x420),
                                                   (0o10600, 1190, 0x300, 0x420),
                                                   (0o600, 9, 0x380, 0x420)]):
            ino_off, f_off = 0xa00 + i * 0x20, 0xc00 + i * 0x40
            put(ino_off, struct.pack("<H", mode) + bytes(6) + q(base + 0x1a00) + q(ino))
            put(f_off, q(base + mnt) + q(base + dent) + q(base + ino_off) +
                struct.pack("<I", 0o2) + bytes(4) + q(7))
            put(0xe00 + [0, 1, 9][i] * 8, q(base + f_off))  # fd array
        put(0x600, struct.pack("<I", max_fds) + bytes(4) + q(base + 0xe00) + q(base + 0x700) +
            q(base + 0x708))
        put(0x700, q(1 << 9))  # close_on_exec: fd 9
        put(0x708, q(1 | 2 | 1 << 9))  # open: 0, 1, 9
        return bytes(a)

    def header(fdt, mount, root, root_mnt):
        return struct.pack("<HHHH", fdt, mount, root, root_mnt)
    write(d, "files-and-mount", header(0x600, 0x480, 0xffff, 0) + build())
    write(d, "from-root", header(0x600, 0x480, 0x100, 0x420) + build())
    write(d, "huge-max-fds", header(0x600, 0x400, 0xffff, 0) + build(max_fds=1 << 31))
    write(d, "dentry-loop", header(0x600, 0x400, 0xffff, 0) + build(loop=True))
    write(d, "mount-cycle", header(0x600, 0x480, 0xffff, 0) + build(cycle=True))
    fd32_seeds(d, header)


def fd32_seeds(d, header):
    """The 32-bit walk of fuzz_fileread.c (walk32: the arena at 0xC1000000,
    4-byte pointers and bitmap words): a table with a regular file, a pipe
    and a close-on-exec fd 33 (second bitmap word); one claiming 2^30 fds;
    one whose fd array is the table itself."""
    base = 0xC1000000
    w = lambda v: struct.pack("<I", v)  # noqa: E731

    def build(max_fds=64, self_array=False):
        a = bytearray(0x2000)

        def put(off, data):
            a[off:off + len(data)] = data
        put(0x1800, b"/\0a.txt\0")
        put(0x1a00, w(22))  # super_block: s_dev 0:22
        put(0x1b00, w(0) + w(0) + w(0xC1F00100))  # pipefs d_op: d_dname @8
        for off, parent, name, ln, op in [(0x100, 0x100, 0x1800, 1, 0),
                                          (0x180, 0x100, 0x1802, 5, 0),
                                          (0x200, 0x200, 0x1800, 1, 0x1b00)]:
            put(off + 0x4, w(base + 0x1000))  # d_hash.pprev: hashed (not deleted)
            put(off + 0x10, w(base + parent))
            put(off + 0x18, w(ln) + w(base + name))
            put(off + 0x20, w(base + op if op else 0))
        # mount at 0x400: parent itself, vfsmount at +0x10 (mnt_root /)
        put(0x400 + 0x8, w(base + 0x400) + w(base + 0x100) + w(base + 0x100))
        for i, (mode, ino, dent) in enumerate([(0o100644, 42, 0x180), (0o10600, 1190, 0x200)]):
            ino_off, f_off = 0xa00 + i * 0x20, 0xc00 + i * 0x40
            put(ino_off, struct.pack("<H", mode) + bytes(2) + w(base + 0x1a00) + w(ino))
            put(f_off, w(base + 0x410) + w(base + dent) + w(base + ino_off) + w(0o2) +
                struct.pack("<Q", 7))
        put(0xe00 + 0 * 4, w(base + 0xc00))  # fd 0: a.txt
        put(0xe00 + 33 * 4, w(base + 0xc40))  # fd 33: the pipe
        array = 0x600 if self_array else 0xe00
        put(0x600, w(max_fds) + w(base + array) + w(base + 0x700) + w(base + 0x708))
        put(0x700, w(0) + w(1 << 1))  # close_on_exec: fd 33
        put(0x708, w(1) + w(1 << 1))  # open: 0, 33
        return bytes(a)
    write(d, "fd32-files", header(0x600, 0x400, 0xffff, 0) + build())
    write(d, "fd32-huge-max-fds", header(0x600, 0x400, 0xffff, 0) + build(max_fds=1 << 30))
    write(d, "fd32-array-is-table", header(0x600, 0x400, 0xffff, 0) + build(self_array=True))


# ---- kernel discovery over fake token tables --------------------------------

def fake_token_tables(below):
    """A token table (256 short printable tokens) and its index, with
    @below (a multiple of 8 bytes) just under the table."""
    table, idx = b"", []
    for i in range(256):
        idx.append(len(table))
        table += bytes([0x21 + i % 90]) * (1 + i % 3) + b"\0"
    table += bytes(-len(table) % 8)
    return below + table + struct.pack("<256H", *idx)


def discovery_seed(copies, stride, first, blob):
    return struct.pack("<HII", copies, stride, first) + blob


def discovery_seeds():
    d = reset("discovery")
    seqs = bytes(8) + b"".join(struct.pack(">I", 1000 + 7 * i)[1:] for i in range(64))
    markers = bytes(240) + struct.pack("<4I", 0, 600, 1200, 1800)
    write(d, "empty", discovery_seed(0, 0, 0, b""))
    write(d, "one-lone-table", discovery_seed(1, 0, 0x300000, fake_token_tables(bytes(256))))
    # What a guest can do to its free memory: thousands of tables.
    write(d, "regress-lone-tables-x2000",
          discovery_seed(2000, 4096, 0x1000, fake_token_tables(bytes(256))))
    write(d, "regress-seqs-tail-tables-x2000",
          discovery_seed(2000, 4096, 0x1000, fake_token_tables(seqs)))
    write(d, "regress-markers-tail-tables-x2000",
          discovery_seed(2000, 4096, 0x1000, fake_token_tables(markers)))
    layouts = os.path.join(CORPUS, "kallsyms")
    for name in ("layout-01", "layout-02"):
        with open(os.path.join(layouts, name), "rb") as f:
            write(d, "kallsyms-" + name, discovery_seed(1, 0, 0x400000, f.read()))


# ---- Windows crash dumps and walks (fuzz_windows.c) -------------------------

def windows_header(dump_type, runs=(), is64=True):
    """A DUMP_HEADER64 (or 32) filled with "PAGE", as Windows writes it."""
    size = 0x2000 if is64 else 0x1000
    h = bytearray(b"PAGE" * (size // 4))
    h[0:8] = b"PAGEDU64" if is64 else b"PAGEDUMP"
    if is64:
        struct.pack_into("<Q", h, 0x10, 0x1000)
        struct.pack_into("<II", h, 0x30, 0x8664, 1)
        struct.pack_into("<Q", h, 0x80, 0xfffff80000010100)
        struct.pack_into("<IIQ", h, 0x88, len(runs), 0, sum(n for _, n in runs))
        for i, (b, n) in enumerate(runs):
            struct.pack_into("<QQ", h, 0x98 + 16 * i, b, n)
        h[0x348:0x348 + 0x4d0] = bytes(0x4d0)
        struct.pack_into("<I", h, 0xF98, dump_type)
    else:
        struct.pack_into("<I", h, 0x10, 0x1000)
        struct.pack_into("<II", h, 0x20, 0x14c, 1)
        struct.pack_into("<II", h, 0x64, len(runs), sum(n for _, n in runs))
        for i, (b, n) in enumerate(runs):
            struct.pack_into("<II", h, 0x6c + 8 * i, b, n)
        h[0x320:0x320 + 1200] = bytes(1200)
        struct.pack_into("<I", h, 0xF88, dump_type)
    return h


def windows_seeds():
    d = reset("windows")
    page = bytes(range(256)) * 16
    full = windows_header(1, [(0, 1), (4, 2)]) + page * 3
    write(d, "full-two-runs", b"\x00" + full)
    write(d, "full-truncated", b"\x00" + full[:0x2000 + 0x1800])
    write(d, "full32", b"\x00" + windows_header(1, [(1, 1)], is64=False) + page)
    bitmap = bytearray(0x38)
    bitmap[0:8] = b"SDMPDUMP"
    struct.pack_into("<QQQ", bitmap, 0x20, 0x3000, 3, 12)
    bm = windows_header(5) + bitmap + bytes([0b1011, 0]) + bytes(0x1000 - 0x3a) + page * 3
    write(d, "bitmap", b"\x00" + bm)
    tri = bytearray(windows_header(4))
    th = bytearray(0x80)
    blocks = struct.pack("<QIIQII", 0xfffff80000020000, 0x2100, 0x100,
                         0xfffff80000030000, 0x2200, 0x80)
    struct.pack_into("<II", th, 0x70, 0x2300, 0x58)        # debugger data
    struct.pack_into("<II", th, 0x78, 0x2080, 2)           # data blocks
    struct.pack_into("<I", th, 0x20, 0x2100)               # a process copy
    tri += th + blocks + bytes(0x2100 - 0x2080 - len(blocks)) + page[:0x300]
    write(d, "triage-two-blocks", b"\x00" + tri)
    # Walks: b"\x01", a selector (layout, 0x80 = encoded KDBG), then patches.
    kb = 0xfffff80000000000
    ep = [0x20000 + i * 0x1000 for i in range(3)]

    def patches(*pairs):
        return b"".join(struct.pack("<IQ", o, v) for o, v in pairs)
    write(d, "walk-clean", b"\x01\x00")
    write(d, "walk-encoded", b"\x01\x80")
    write(d, "walk-win7", b"\x01\x05")
    write(d, "walk-loop", b"\x01\x00" + patches((ep[2] + 0x448, kb + ep[1] + 0x448),
                                                 (ep[1] + 0x450, kb + ep[2] + 0x448)))
    write(d, "walk-bad-blink", b"\x01\x00" + patches((ep[2] + 0x450, kb + ep[0] + 0x448)))
    write(d, "walk-huge-pid", b"\x01\x00" + patches((ep[1] + 0x440, 0xfffffffffffffff0)))
    write(d, "walk-unmapped-next", b"\x01\x00" + patches((ep[1] + 0x448, 0xffff900000000000)))
    write(d, "walk-module-self", b"\x01\x00" + patches((0x30000, kb + 0x30000),
                                                        (0x30008, kb + 0x30000)))
    write(d, "walk-peb-wild", b"\x01\x00" + patches((ep[2] + 0x550, 0x7ffffffff000)))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build = sys.argv[1]
    dumps = sys.argv[2] if len(sys.argv) == 3 else (
        os.environ.get("XA_TEST_DUMPS") or
        os.path.join(os.environ.get("XA_CACHE") or "/var/tmp/xenaccess-cache", "dumps"))
    dump_seeds(dumps)
    x86_seeds()
    arm64_seeds(reset("arm64"))
    jbd2_seeds()
    procread_seeds()
    fileread_seeds()
    disk_seeds()
    c_seeds(build)
    discovery_seeds()
    windows_seeds()
    total = sum(os.path.getsize(os.path.join(r, f))
                for r, _, fs in os.walk(CORPUS) for f in fs)
    for name in sorted(os.listdir(CORPUS)):
        print(f"{name:10} {len(os.listdir(os.path.join(CORPUS, name)))} seeds")
    print(f"total {total} bytes")
    if total > MAX_TOTAL:
        sys.exit(f"corpus is {total} bytes, more than {MAX_TOTAL}: keep it small")


if __name__ == "__main__":
    main()
