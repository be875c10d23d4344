/*
 * xa-read -- dump guest memory.
 *   xa-read TARGET (--va ADDR [--pid PID] | --pa ADDR | --sym NAME) --len N [--raw]
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* Bound on one read, so a typo cannot ask for terabytes. */
#define XA_READ_MAX ((uint64_t)1 << 30)

struct read_args {
    const char *va, *pa, *sym, *pid, *len;
    bool raw;
};

static int read_extra(int argc, char **argv, int *i, void *ctx)
{
    struct read_args *a = ctx;
    const char **slot = NULL;
    if (!strcmp(argv[*i], "--raw")) {
        a->raw = true;
        return 1;
    }
    if (!strcmp(argv[*i], "--va"))
        slot = &a->va;
    else if (!strcmp(argv[*i], "--pa"))
        slot = &a->pa;
    else if (!strcmp(argv[*i], "--sym"))
        slot = &a->sym;
    else if (!strcmp(argv[*i], "--pid"))
        slot = &a->pid;
    else if (!strcmp(argv[*i], "--len"))
        slot = &a->len;
    if (!slot)
        return 0;
    if (*i + 1 >= argc)
        tool_die(TOOL_USAGE, "%s needs a value", argv[*i]);
    *slot = argv[++*i];
    return 1;
}

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
        for (size_t j = 0; j < 16 && i + j < n; j++)
            putchar(isprint(buf[i + j]) ? buf[i + j] : '.');
        printf("|\n");
    }
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    struct tool_opts o = {0};
    struct read_args a = {0};
    const char *pos[1];
    const char *usage = "TARGET (--va ADDR [--pid PID] | --pa ADDR | --sym NAME) --len N [--raw]";
    tool_parse(argc, argv, &o, read_extra, &a, pos, 1, usage);
    if (!!a.va + !!a.pa + !!a.sym != 1)
        tool_die(TOOL_USAGE, "give exactly one of --va, --pa, --sym (usage: %s %s)", tool_name,
                 usage);
    if (!a.len)
        tool_die(TOOL_USAGE, "give --len N");
    if (a.pid && !a.va)
        tool_die(TOOL_USAGE, "--pid goes with --va");
    uint64_t len = tool_parse_u64(a.len, "length");
    if (len == 0 || len > XA_READ_MAX)
        tool_die(TOOL_USAGE, "--len must be between 1 and %" PRIu64, XA_READ_MAX);
    /* Physical reads need no OS knowledge; they also work on non-Linux images. */
    o.no_os = a.pa != NULL;
    struct xa_instance *xa = tool_open(&o);
    uint64_t addr = 0;
    size_t got = 0;
    uint8_t *buf = NULL;
    int rc;
    if (a.pa) {
        addr = tool_parse_u64(a.pa, "address");
        buf = malloc(len);
        if (!buf)
            tool_die(TOOL_ERR, "out of memory");
        rc = xa_read_pa(xa, addr, buf, len);
        got = rc == 0 ? len : 0;
    } else {
        if (a.sym) {
            if (xa_sym_lookup(xa, a.sym, &addr) < 0)
                tool_die(TOOL_ERR, "%s: no kernel symbol '%s'", o.target, a.sym);
        } else {
            addr = tool_parse_u64(a.va, "address");
        }
        int32_t pid = a.pid ? (int32_t)tool_parse_u64(a.pid, "pid") : 0;
        if (pid) {
            struct xa_process p;
            if (xa_process_by_pid(xa, pid, &p) < 0)
                tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
        }
        buf = malloc(len);
        if (!buf)
            tool_die(TOOL_ERR, "out of memory");
        rc = xa_read_pid_va(xa, pid, addr, buf, len, &got);
    }
    if (got > 0) {
        if (a.raw)
            fwrite(buf, 1, got, stdout);
        else
            hexdump(addr, buf, got);
    }
    int code = TOOL_OK;
    if (rc < 0) {
        if (got == 0)
            tool_warn("%s: cannot read 0x%" PRIx64 ": %s", o.target, addr, xa_errmsg(xa));
        else
            tool_warn("%s: read stopped after %zu of %" PRIu64 " bytes: %s", o.target, got, len,
                      xa_errmsg(xa));
        code = got ? TOOL_PARTIAL : TOOL_ERR;
    }
    free(buf);
    xa_destroy(xa);
    return code;
}
