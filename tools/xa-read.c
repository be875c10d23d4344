/*
 * xa-read -- dump guest memory.
 *   xa-read TARGET (--va ADDR [--pid PID] | --pa ADDR | --sym NAME) --len N [--raw] [--pad]
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "tool.h"

/* Bound on one read, so a typo cannot ask for terabytes. */
#define XA_READ_MAX ((uint64_t)1 << 30)

/* Reads go in chunks, so that progress can be shown; holes are skipped by page. */
#define CHUNK ((size_t)1 << 20)
#define PAGE ((uint64_t)4096)

static void hexdump(uint64_t addr, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        printf("%016" PRIx64 "  ", addr + i);
        for (size_t j = 0; j < 16; j++) {
            if (i + j < n)
                printf("%02x ", buf[i + j]);
            else
                printf("   ");
            if (j == 7)
                putchar(' ');
        }
        printf(" |");
        /* Printable ASCII only (the C locale's isprint): guest bytes never reach the terminal. */
        for (size_t j = 0; j < 16 && i + j < n; j++)
            putchar(buf[i + j] >= 0x20 && buf[i + j] < 0x7f ? buf[i + j] : '.');
        printf("|\n");
    }
}

/* --json: one object per 16-byte row, as the hexdump's rows:
 * {"address": "0x...", "hex": "..."} (the bytes as lower-case hex). */
static void json_rows(uint64_t addr, const uint8_t *buf, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char hex[2 * 16 + 1];
    for (size_t i = 0; i < n; i += 16) {
        size_t row = n - i < 16 ? n - i : 16;
        for (size_t j = 0; j < row; j++) {
            hex[2 * j] = digits[buf[i + j] >> 4];
            hex[2 * j + 1] = digits[buf[i + j] & 0xf];
        }
        hex[2 * row] = '\0';
        json_object *o = json_object_new_object();
        tool_json_hex(o, "address", addr + i);
        json_object_object_add(o, "hex", json_object_new_string(hex));
        tool_json_line(o);
    }
}

/* Where to read: a physical address, or a virtual one of @pid (0: the kernel). */
struct source {
    struct xa_instance *xa;
    bool phys;
    int32_t pid;
};

/* Read up to @n bytes at @addr; *got says how many are valid (the rest
 * failed from *got on). */
static int read_some(const struct source *src, uint64_t addr, uint8_t *buf, size_t n,
                     size_t *got)
{
    if (!src->phys)
        return xa_read_pid_va(src->xa, src->pid, addr, buf, n, got);
    *got = 0;
    if (xa_read_pa(src->xa, addr, buf, n) == 0) {
        *got = n;
        return 0;
    }
    /* Somewhere in the range is not memory: find where, page by page. */
    while (*got < n) {
        size_t piece = (size_t)(PAGE - ((addr + *got) & (PAGE - 1)));
        if (piece > n - *got)
            piece = n - *got;
        int rc = xa_read_pa(src->xa, addr + *got, buf + *got, piece);
        if (rc < 0)
            return rc;
        *got += piece;
    }
    return 0;
}

/* Holes met by --pad, merged while they touch; reported when one ends. */
struct hole {
    uint64_t start, len;
    char why[256];
    bool json;
};

static void hole_report(struct hole *h)
{
    if (h->len == 0)
        return;
    uint64_t end = h->start + h->len;
    if (h->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "hole", json_object_new_boolean(1));
        tool_json_hex(j, "start", h->start);
        tool_json_hex(j, "end", end);
        json_object_object_add(j, "bytes", json_object_new_int64((int64_t)h->len));
        tool_json_str(j, "error", h->why);
        fprintf(stderr, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
        json_object_put(j);
    } else {
        tool_warn("hole at 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes) read as zeros: %s",
                  h->start, end, h->len, h->why);
    }
    h->len = 0;
}

static void hole_add(struct hole *h, uint64_t start, uint64_t len, const char *why)
{
    if (h->len && h->start + h->len == start) {
        h->len += len;
        return;
    }
    hole_report(h);
    h->start = start;
    h->len = len;
    snprintf(h->why, sizeof(h->why), "%s", why);
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --sym linux_banner --len 64";
    tool_exit_codes = "0 fine, 1 error (nothing read), 2 usage, 3 the read stopped early "
                      "(the bytes before it are printed)";
    struct tool_opts o = {0};
    uint64_t va = 0, pa = 0, pid_arg = 0, len = 0;
    const char *sym = NULL;
    bool raw = false, pad = false;
    struct tool_opt opts[] = {
        {"--va", OPT_UINT, &va, "ADDR", "a virtual address (kernel, or of --pid)", 0, UINT64_MAX,
         false},
        {"--pid", OPT_UINT, &pid_arg, "PID", "with --va: the process (0: the kernel)", 0,
         TOOL_PID_MAX, false},
        {"--pa", OPT_UINT, &pa, "ADDR", "a physical address", 0, UINT64_MAX, false},
        {"--sym", OPT_STRING, &sym, "NAME", "a kernel symbol's address", 0, 0, false},
        {"--len", OPT_UINT, &len, "N", "bytes to read", 1, XA_READ_MAX, false},
        {"--raw", OPT_FLAG, &raw, NULL, "the bytes as they are, not a hexdump", 0, 0, false},
        {"--pad", OPT_FLAG, &pad, NULL, "read holes as zeros and go on (holes listed on stderr)",
         0, 0, false},
        {0},
    };
    enum { O_VA, O_PID, O_PA, O_SYM, O_LEN };
    const char *pos[1];
    const char *usage =
        "TARGET (--va ADDR [--pid PID] | --pa ADDR | --sym NAME) --len N [--raw] [--pad]";
    tool_parse(argc, argv, &o, opts, pos, 1, usage);
    if (opts[O_VA].seen + opts[O_PA].seen + opts[O_SYM].seen != 1)
        tool_die(TOOL_USAGE, "give exactly one of --va, --pa, --sym (usage: %s %s)", tool_name,
                 usage);
    if (!opts[O_LEN].seen)
        tool_die(TOOL_USAGE, "give --len N");
    if (opts[O_PID].seen && !opts[O_VA].seen)
        tool_die(TOOL_USAGE, "--pid goes with --va");
    /* Physical reads need no OS knowledge; they also work on non-Linux images. */
    o.no_os = opts[O_PA].seen;
    struct xa_instance *xa = tool_open(&o);
    struct source src = {xa, opts[O_PA].seen, (int32_t)pid_arg}; /* bounded by TOOL_PID_MAX */
    uint64_t addr = 0;
    uint8_t *buf = malloc(len);
    if (!buf)
        tool_die(TOOL_ERR, "out of memory");
    if (src.phys) {
        addr = pa;
    } else {
        if (sym) {
            if (xa_sym_lookup(xa, sym, &addr) < 0)
                tool_die(TOOL_ERR, "%s: no kernel symbol '%s'", o.target, sym);
        } else {
            addr = va;
        }
        if (src.pid) {
            struct xa_process p;
            if (xa_process_by_pid(xa, src.pid, &p) < 0)
                tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
        }
    }
    struct progress prog;
    progress_start(&prog, "read", len);
    struct hole hole = {.json = o.json};
    size_t off = 0, holes = 0;
    int rc = 0;
    while (off < len) {
        size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK, got = 0;
        rc = read_some(&src, addr + off, buf + off, n, &got);
        off += got;
        if (rc < 0) {
            if (!pad)
                break;
            /* Zeros up to the next page: the rest of the page is as unreadable. */
            size_t skip = (size_t)(PAGE - ((addr + off) & (PAGE - 1)));
            if (skip > len - off)
                skip = (size_t)(len - off);
            memset(buf + off, 0, skip);
            hole_add(&hole, addr + off, skip, xa_errmsg(xa));
            off += skip;
            holes += skip;
            rc = 0;
        }
        progress_update(&prog, off);
    }
    progress_end(&prog);
    hole_report(&hole);
    size_t got = off;
    if (got > 0 && holes < got) {
        if (raw)
            fwrite(buf, 1, got, stdout);
        else if (o.json)
            json_rows(addr, buf, got);
        else
            hexdump(addr, buf, got);
    }
    int code = TOOL_OK;
    if (pad && holes == got) {
        tool_warn("%s: nothing readable in 0x%" PRIx64 "-0x%" PRIx64, o.target, addr,
                  addr + len);
        code = TOOL_ERR;
    } else if (rc < 0 && got == 0) {
        tool_warn("%s: cannot read 0x%" PRIx64 ": %s", o.target, addr, xa_errmsg(xa));
        code = TOOL_ERR;
    } else if (rc < 0) {
        char what[512];
        snprintf(what, sizeof(what), "%s: read stopped after %zu of %" PRIu64 " bytes", o.target,
                 got, len);
        /* --raw writes guest bytes: no JSON line is mixed into them. */
        code = tool_partial_msg(rc, o.json && !raw, what, xa_errmsg(xa));
    }
    free(buf);
    xa_destroy(xa);
    return code;
}
