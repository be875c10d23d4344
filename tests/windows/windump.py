"""Write Windows crash-dump containers (PAGEDU64) around a raw image of guest
RAM, for the tests: the container does not care which OS is inside, so a
Linux guest's raw dump becomes a Windows full dump (physical-memory runs) or
a bitmap dump, which the library must read back byte for byte.

Layout facts (DUMP_HEADER64, the "SDMP" bitmap header) are those of the
public descriptions the parser names (backends/file/windmp.c)."""
import re
import struct

PAGE = 4096
HEADER = 0x2000
ZERO_PAGE = bytes(PAGE)


def regs_from(path):
    """CR3, RIP, RSP of CPU#0 from a QEMU `info registers` dump (regs.txt)."""
    text = open(path).read().split("CPU#1")[0]

    def reg(name):
        m = re.search(r"\b%s\s*=\s*([0-9a-fA-F]+)" % name, text)
        return int(m.group(1), 16) if m else 0
    return {"cr3": reg("CR3") & ~0xfff, "rip": reg("RIP"), "rsp": reg("RSP")}


def header(dtb, dump_type, regs, runs=None):
    """The 0x2000-byte DUMP_HEADER64, unused bytes filled with "PAGE" as Windows does."""
    h = bytearray(b"PAGE" * (HEADER // 4))
    h[0:8] = b"PAGEDU64"
    struct.pack_into("<II", h, 0x08, 15, 19041)             # MajorVersion, MinorVersion
    struct.pack_into("<Q", h, 0x10, dtb)                     # DirectoryTableBase
    struct.pack_into("<II", h, 0x30, 0x8664, 1)              # MachineImageType, NumberProcessors
    struct.pack_into("<I", h, 0x38, 0xE2)                    # BugCheckCode: MANUALLY_INITIATED_CRASH
    if runs is not None:
        struct.pack_into("<IIQ", h, 0x88, len(runs), 0, sum(n for _, n in runs))
        for i, (base, count) in enumerate(runs):
            struct.pack_into("<QQ", h, 0x98 + 16 * i, base, count)
    ctx = 0x348                                              # CONTEXT (x64)
    h[ctx:ctx + 0x4d0] = bytes(0x4d0)
    struct.pack_into("<Q", h, ctx + 0x98, regs.get("rsp", 0))
    struct.pack_into("<Q", h, ctx + 0xf8, regs.get("rip", 0))
    struct.pack_into("<I", h, 0xF98, dump_type)              # DumpType
    return h


def write_full(raw_path, out_path, regs, runs):
    """A full dump (DumpType 1) holding the pages of @runs [(first page, count)]."""
    with open(raw_path, "rb") as raw, open(out_path, "wb") as out:
        out.write(header(regs["cr3"], 1, regs, runs))
        for base, count in runs:
            raw.seek(base * PAGE)
            left = count * PAGE
            while left:
                chunk = raw.read(min(left, 16 << 20))
                assert chunk, "raw image shorter than the runs"
                out.write(chunk)
                left -= len(chunk)


def write_bitmap(raw_path, out_path, regs, keep=lambda pfn, page: page != ZERO_PAGE,
                 signature=b"SDMP", dump_type=5):
    """A bitmap dump (DumpType 5) of the pages @keep says to store; returns
    the set of page numbers stored."""
    with open(raw_path, "rb") as raw:
        data = raw.read()
    npages = len(data) // PAGE
    kept = [p for p in range(npages) if keep(p, data[p * PAGE:(p + 1) * PAGE])]
    bitmap = bytearray((npages + 7) // 8)
    for p in kept:
        bitmap[p >> 3] |= 1 << (p & 7)
    first = (HEADER + 0x38 + len(bitmap) + PAGE - 1) // PAGE * PAGE
    bh = bytearray(0x38)
    bh[0:8] = signature + b"DUMP"
    struct.pack_into("<QQQ", bh, 0x20, first, len(kept), npages)
    with open(out_path, "wb") as out:
        out.write(header(regs["cr3"], dump_type, regs))
        out.write(bh)
        out.write(bitmap)
        out.write(bytes(first - out.tell()))
        for p in kept:
            out.write(data[p * PAGE:(p + 1) * PAGE])
    return set(kept)
