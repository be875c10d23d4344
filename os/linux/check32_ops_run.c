/*
 * check32_ops_run.c -- the ops check of a 32-bit x86 kernel whose kallsyms
 * lists no data symbols (Debian's 686): the operation tables of
 * check_tables.c's list found by their shape (check32_ops.c) from the
 * handlers their 6.1 source puts in them, then every slot judged as on
 * amd64 (4-byte slots: a kernel pointer outside the core text is a hook).
 * The terminals part reads lists (tty_drivers, input_handler_list) that
 * have no shape to find: it refuses.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_ops.h"

/* Slots (4 bytes) of the structs of Debian's 6.1 (6.1.1xx: splice_eof
 * backported into file_operations) on i386: their indices in
 * include/linux/fs.h and seq_file.h, checked against the BTF of the amd64
 * build of the same kernel. tty_fops's show_fdinfo anchor witnesses the
 * file_operations layout: without splice_eof it is one slot lower and
 * tty_fops is refused. */
#define FOPS_SLOTS 35u  /* struct file_operations, owner .. uring_cmd_iopoll */
#define IOPS_SLOTS 23u  /* struct inode_operations, lookup .. fileattr_get */
#define SEQ_SLOTS 4u    /* struct seq_operations: start, stop, next, show */

enum { F_LLSEEK = 1, F_READ = 2, F_READ_ITER = 4, F_WRITE_ITER = 5, F_ITERATE_SHARED = 8,
       F_POLL = 9, F_IOCTL = 10, F_OPEN = 14, F_RELEASE = 16, F_FASYNC = 18,
       F_SPLICE_WRITE = 24, F_SPLICE_READ = 25, F_SHOW_FDINFO = 29 };
enum { I_LOOKUP = 0, I_GETATTR = 14 };
enum { S_START = 0, S_STOP = 1, S_NEXT = 2, S_SHOW = 3 };

struct anchor_name {
    uint32_t slot;
    const char *handler;
};

/* The first anchor is the table's own handler: without its symbol the
 * table is not in the kernel's image (a module not loaded, a feature not
 * built), as a missing table symbol means on amd64. */
static const struct {
    const char *symbol, *type;
    uint32_t slots;
    struct anchor_name anchors[C32_OPS_MAX_ANCHORS];
} tables32[] = {
    {"proc_root_operations", "file_operations", FOPS_SLOTS,
     {{F_ITERATE_SHARED, "proc_root_readdir"}, {F_READ, "generic_read_dir"},
      {F_LLSEEK, "generic_file_llseek"}}},
    {"proc_root_inode_operations", "inode_operations", IOPS_SLOTS,
     {{I_LOOKUP, "proc_root_lookup"}, {I_GETATTR, "proc_root_getattr"}}},
#define SEQ(table, show, prefix)                                                              \
    {table, "seq_operations", SEQ_SLOTS,                                                       \
     {{S_SHOW, show}, {S_START, prefix "_start"}, {S_STOP, prefix "_stop"},                   \
      {S_NEXT, prefix "_next"}}}
    SEQ("tcp4_seq_ops", "tcp4_seq_show", "tcp_seq"),
    SEQ("tcp6_seq_ops", "tcp6_seq_show", "tcp_seq"),
    SEQ("udp_seq_ops", "udp4_seq_show", "udp_seq"),
    SEQ("udp6_seq_ops", "udp6_seq_show", "udp_seq"),
    SEQ("raw_seq_ops", "raw_seq_show", "raw_seq"),
    SEQ("packet_seq_ops", "packet_seq_show", "packet_seq"),
#undef SEQ
    /* tty_fops and console_fops differ in write_iter (console_fops
     * redirects writes) and show_fdinfo */
    {"tty_fops", "file_operations", FOPS_SLOTS,
     {{F_WRITE_ITER, "tty_write"}, {F_READ_ITER, "tty_read"}, {F_POLL, "tty_poll"},
      {F_IOCTL, "tty_ioctl"}, {F_OPEN, "tty_open"}, {F_RELEASE, "tty_release"},
      {F_FASYNC, "tty_fasync"}, {F_SPLICE_WRITE, "iter_file_splice_write"},
      {F_SPLICE_READ, "generic_file_splice_read"}, {F_SHOW_FDINFO, "tty_show_fdinfo"}}},
    {"console_fops", "file_operations", FOPS_SLOTS,
     {{F_WRITE_ITER, "redirected_tty_write"}, {F_READ_ITER, "tty_read"}, {F_POLL, "tty_poll"},
      {F_IOCTL, "tty_ioctl"}, {F_OPEN, "tty_open"}, {F_RELEASE, "tty_release"},
      {F_FASYNC, "tty_fasync"}, {F_SPLICE_WRITE, "iter_file_splice_write"},
      {F_SPLICE_READ, "generic_file_splice_read"}}},
    {"hung_up_tty_fops", "file_operations", FOPS_SLOTS,
     {{F_READ_ITER, "hung_up_tty_read"},
      {F_WRITE_ITER, "hung_up_tty_write"}, {F_POLL, "hung_up_tty_poll"},
      {F_IOCTL, "hung_up_tty_ioctl"}, {F_RELEASE, "tty_release"},
      {F_FASYNC, "hung_up_tty_fasync"}}},
};

#define NR_TABLES32 (sizeof(tables32) / sizeof(tables32[0]))

/* The layouts above are 6.1's: another release may move or add slots. */
static bool layouts_known(const struct linux_os *lx)
{
    return strncmp(lx->release, "6.1.", 4) == 0;
}

static int read_mem(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* Judge every slot of the table @what (of tables32[@t]'s type) at @at. */
static int judge_table(struct check_ctx *c, size_t t, const char *what, uint64_t at)
{
    uint32_t slots[C32_OPS_MAX_SLOTS];
    if (lx_read(c->xa, at, slots, 4ull * tables32[t].slots) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s at 0x%llx unreadable", what,
                             (unsigned long long)at);
    for (uint32_t i = 0; i < tables32[t].slots; i++) {
        uint64_t v = slots[i];
        /* code pointers only: NULL, flags and counters are not */
        if (!lx_kptr(c->xa, v) || check_in_core_text(c, v))
            continue;
        char where[128];
        check_describe(c, v, where, sizeof(where));
        const char *owner = check_owner_of(c, v);
        int rc = check_report(c, "ops-hook", owner ? owner : "", -1, v,
                              "%s+0x%x (struct %s) -> %s, outside the kernel's text", what, 4 * i,
                              tables32[t].type, where);
        if (rc)
            return rc;
    }
    return 0;
}

/* Judge the place(s) of shape @i: its own, or those its group of sibling
 * tables shares (judged once, by the group's first table, under the name
 * "tcp4_seq_ops or tcp6_seq_ops at 0x..."). */
static int judge_found(struct check_ctx *c, const struct c32_ops_shape *shapes, size_t n,
                       const size_t *index, const struct c32_ops_found *f, size_t i)
{
    if (f->nr_places == 1) {
        int rc = check_note(c, "%s found by its shape at 0x%llx (%u of %u slots at their "
                            "handlers)", shapes[i].name, (unsigned long long)f->at[0],
                            f->anchored[0], shapes[i].nr_anchors);
        return rc ? rc : judge_table(c, index[i], shapes[i].name, f->at[0]);
    }
    if ((f->group & ((1u << i) - 1)) != 0)
        return 0; /* judged with the group's first table */
    char names[256] = "";
    size_t len = 0;
    for (size_t o = 0; o < n && len + 1 < sizeof(names); o++)
        if (f->group & (1u << o))
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                    len ? " or " : "", shapes[o].name);
    for (uint32_t j = 0; j < f->nr_places && j < C32_OPS_MAX_FOUND; j++) {
        char what[300];
        snprintf(what, sizeof(what), "%s at 0x%llx", names, (unsigned long long)f->at[j]);
        int rc = check_note(c, "%s found by its shape (%u of %u slots at their handlers; "
                            "which table of them is there is unknown: they are hooked alike)",
                            what, f->anchored[j], shapes[i].nr_anchors);
        if (rc == 0)
            rc = judge_table(c, index[i], what, f->at[j]);
        if (rc)
            return rc;
    }
    return 0;
}

int check_ops32(struct check_ctx *c)
{
    const struct linux_os *lx = linux_os(c->xa);
    if (!layouts_known(lx))
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "ops: the operation tables' 32-bit layouts known are 6.1's (kernel "
                             "%s): no shape to find them by", lx->release[0] ? lx->release : "?");
    uint64_t data_end = check_sym(c, "__init_begin");
    if (data_end <= c->text_end)
        return xa__set_error(c->xa, XA_ENOTSUP, "ops: no __init_begin symbol: where the "
                                                "kernel's data ends is unknown");
    struct c32_ops_shape shapes[NR_TABLES32];
    size_t index[NR_TABLES32], n = 0; /* tables32[] entry of each shape */
    for (size_t t = 0; t < NR_TABLES32; t++) {
        if (!check_sym(c, tables32[t].anchors[0].handler))
            continue; /* not in this kernel's image */
        struct c32_ops_shape *s = &shapes[n];
        memset(s, 0, sizeof(*s));
        s->name = tables32[t].symbol;
        s->slots = tables32[t].slots;
        for (uint32_t a = 0; a < C32_OPS_MAX_ANCHORS && tables32[t].anchors[a].handler; a++) {
            s->anchor_slot[a] = tables32[t].anchors[a].slot;
            s->anchor[a] = check_sym(c, tables32[t].anchors[a].handler);
            if (!s->anchor[a] || !check_in_core_text(c, s->anchor[a]))
                return xa__set_error(c->xa, XA_ENOTSUP, "ops: %s's handler %s is not in the "
                                     "kernel's text: no shape to find it by",
                                     tables32[t].symbol, tables32[t].anchors[a].handler);
            s->nr_anchors = a + 1;
        }
        index[n++] = t;
    }
    struct c32_mem m = {.read = read_mem, .ctx = c->xa, .page_offset = lx->page_offset};
    struct c32_ops_found found[NR_TABLES32];
    char why[256];
    int rc = c32_find_ops(&m, c->text_end, data_end, c->text_start, c->text_end, shapes, n,
                          found, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(c->xa, rc, "ops: %s", why);
    /* judge every table found, then refuse for the first one not found */
    const struct c32_ops_found *refused = NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (found[i].rc < 0) {
            refused = refused ? refused : &found[i];
            continue;
        }
        rc = judge_found(c, shapes, n, index, &found[i], i);
    }
    if (rc)
        return rc;
    if (refused)
        return xa__set_error(c->xa, refused->rc, "ops: %s", refused->why);
    return xa__set_error(c->xa, XA_ENOTSUP,
                         "ops: tables judged; terminals not (tty_ldiscs, tty_drivers and "
                         "input_handler_list are lists with no data symbol and no shape to "
                         "find them by)");
}
