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

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    struct tool_opts o = {0};
    uint64_t va = 0, pa = 0, pid_arg = 0, len = 0;
    const char *sym = NULL;
    bool raw = false;
    struct tool_opt opts[] = {
        {"--va", OPT_UINT, &va, "ADDR", "a virtual address (kernel, or of --pid)", 0, UINT64_MAX,
         false},
        {"--pid", OPT_UINT, &pid_arg, "PID", "with --va: the process (0: the kernel)", 0,
         TOOL_PID_MAX, false},
        {"--pa", OPT_UINT, &pa, "ADDR", "a physical address", 0, UINT64_MAX, false},
        {"--sym", OPT_STRING, &sym, "NAME", "a kernel symbol's address", 0, 0, false},
        {"--len", OPT_UINT, &len, "N", "bytes to read", 1, XA_READ_MAX, false},
        {"--raw", OPT_FLAG, &raw, NULL, "the bytes as they are, not a hexdump", 0, 0, false},
        {0},
    };
    enum { O_VA, O_PID, O_PA, O_SYM, O_LEN };
    const char *pos[1];
    const char *usage = "TARGET (--va ADDR [--pid PID] | --pa ADDR | --sym NAME) --len N [--raw]";
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
    uint64_t addr = 0;
    size_t got = 0;
    uint8_t *buf = malloc(len);
    if (!buf)
        tool_die(TOOL_ERR, "out of memory");
    int rc;
    if (opts[O_PA].seen) {
        addr = pa;
        rc = xa_read_pa(xa, addr, buf, len);
        got = rc == 0 ? len : 0;
    } else {
        if (sym) {
            if (xa_sym_lookup(xa, sym, &addr) < 0)
                tool_die(TOOL_ERR, "%s: no kernel symbol '%s'", o.target, sym);
        } else {
            addr = va;
        }
        int32_t pid = (int32_t)pid_arg; /* bounded by TOOL_PID_MAX */
        if (pid) {
            struct xa_process p;
            if (xa_process_by_pid(xa, pid, &p) < 0)
                tool_die(TOOL_ERR, "%s: no process with pid %d", o.target, pid);
        }
        rc = xa_read_pid_va(xa, pid, addr, buf, len, &got);
    }
    if (got > 0) {
        if (raw)
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
