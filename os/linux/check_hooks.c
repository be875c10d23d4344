/*
 * check_hooks.c -- hooks placed through the kernel's own instrumentation:
 *   ftrace: every ftrace_ops on ftrace_ops_list whose callback lies outside
 *   the core kernel's text (a module's hook, often with IPMODIFY to divert
 *   the traced function), with the functions it filters on;
 *   kprobes: every registered kprobe (kprobe_table, 64 hash chains), with
 *   the probed address and the module of its handlers.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_hooks.h"

#define MAX_FTRACE_OPS 4096u
#define MAX_HASH_BITS 12u /* FTRACE_HASH_MAX_BITS */
#define MAX_SHOWN_IPS 4u
#define MAX_CHAIN 65536u
#define KPROBE_TABLE_SIZE 64u
#define MAX_AGGR 1024u
#define FTRACE_OPS_FL_IPMODIFY (1ull << 12)

void check_hash_functions(struct check_ctx *c, uint64_t hash, uint64_t bits_off,
                          uint64_t buckets_off, uint64_t ip_off, char *buf, size_t cap)
{
    buf[0] = '\0';
    uint64_t bits, buckets, word = lx_ptr_size(c->xa);
    if (bits_off == LX_NO_OFFSET || buckets_off == LX_NO_OFFSET || ip_off == LX_NO_OFFSET ||
        !lx_kptr(c->xa, hash) || lx_ptr(c->xa, hash + bits_off, &bits) < 0 ||
        lx_ptr(c->xa, hash + buckets_off, &buckets) < 0 || bits > MAX_HASH_BITS ||
        !lx_kptr(c->xa, buckets))
        return;
    unsigned shown = 0;
    size_t len = 0;
    for (uint64_t b = 0; b < (1ull << bits) && shown < MAX_SHOWN_IPS; b++) {
        uint64_t node;
        if (lx_ptr(c->xa, buckets + word * b, &node) < 0)
            return;
        for (unsigned n = 0; node && n < MAX_CHAIN && shown < MAX_SHOWN_IPS; n++) {
            uint64_t ip;
            if (!lx_kptr(c->xa, node) || lx_ptr(c->xa, node + ip_off, &ip) < 0)
                return;
            char where[128];
            check_describe(c, ip, where, sizeof(where));
            int w = snprintf(buf + len, cap - len, "%s%s", shown ? ", " : "", where);
            if (w < 0 || (size_t)w >= cap - len)
                return;
            len += (size_t)w;
            shown++;
            if (lx_ptr(c->xa, node, &node) < 0) /* hlist_node.next */
                return;
        }
    }
}

int check_ftrace_chain(struct check_ctx *c, uint64_t list, uint64_t end,
                       const struct check_ftrace_layout *l)
{
    struct lx_ptrset seen = {0};
    uint64_t ops;
    int rc = 0;
    if (lx_ptr(c->xa, list, &ops) < 0)
        rc = xa__set_error(c->xa, XA_EFAULT, "ftrace_ops_list unreadable");
    for (unsigned n = 0; rc == 0 && ops != end; n++) {
        if (n >= MAX_FTRACE_OPS || !lx_kptr(c->xa, ops)) {
            rc = xa__set_error(c->xa, XA_EBADDATA, "ftrace_ops_list broken after %u entries", n);
            break;
        }
        int added = lx_ptrset_add(&seen, ops);
        if (added <= 0) {
            rc = added < 0 ? xa__set_error(c->xa, XA_ENOMEM, "out of memory")
                           : xa__set_error(c->xa, XA_ELIMIT, "ftrace_ops_list loops");
            break;
        }
        uint64_t func, saved = 0, flags, hash = 0, filter = 0;
        if (lx_ptr(c->xa, ops + l->func, &func) < 0 || lx_ptr(c->xa, ops + l->flags, &flags) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "ftrace_ops 0x%llx unreadable",
                               (unsigned long long)ops);
            break;
        }
        if (l->saved_func != LX_NO_OFFSET)
            (void)lx_ptr(c->xa, ops + l->saved_func, &saved);
        uint64_t hook = !check_in_core_text(c, func) ? func
                        : (saved && !check_in_core_text(c, saved)) ? saved : 0;
        if (hook) {
            char where[128], targets[512];
            check_describe(c, hook, where, sizeof(where));
            targets[0] = '\0';
            if (l->func_hash != LX_NO_OFFSET && l->filter_hash != LX_NO_OFFSET &&
                lx_ptr(c->xa, ops + l->func_hash, &hash) == 0 && lx_kptr(c->xa, hash) &&
                lx_ptr(c->xa, hash + l->filter_hash, &filter) == 0)
                check_hash_functions(c, filter, l->hash_bits, l->hash_buckets, l->entry_ip,
                                     targets, sizeof(targets));
            const char *owner = check_owner_of(c, hook);
            rc = check_report(c, "ftrace-hook", owner ? owner : "", -1, hook,
                              "ftrace_ops 0x%llx calls %s%s on %s", (unsigned long long)ops,
                              where, (flags & FTRACE_OPS_FL_IPMODIFY) ? " (IPMODIFY: diverts)" : "",
                              targets[0] ? targets : "every function");
            if (rc)
                break;
        }
        if (lx_ptr(c->xa, ops + l->next, &ops) < 0)
            rc = xa__set_error(c->xa, XA_EFAULT, "ftrace_ops_list broken after %u entries", n);
    }
    lx_ptrset_free(&seen);
    return rc;
}

int check_ftrace(struct check_ctx *c)
{
    if (lx_is32(linux_os(c->xa)))
        return check_ftrace32(c); /* 4-byte layout; by shape without data symbols */
    uint64_t list = check_sym(c, "ftrace_ops_list"), end = check_sym(c, "ftrace_list_end");
    const struct check_ftrace_layout l = {
        .next = check_off(c, "ftrace_ops", "next"),
        .func = check_off(c, "ftrace_ops", "func"),
        .saved_func = check_off(c, "ftrace_ops", "saved_func"),
        .flags = check_off(c, "ftrace_ops", "flags"),
        .func_hash = check_off(c, "ftrace_ops", "func_hash"),
        .filter_hash = check_off(c, "ftrace_ops_hash", "filter_hash"),
        .hash_bits = check_off(c, "ftrace_hash", "size_bits"),
        .hash_buckets = check_off(c, "ftrace_hash", "buckets"),
        .entry_ip = check_off(c, "ftrace_func_entry", "ip"),
    };
    if (!list || !end)
        return 0; /* a kernel without function tracing */
    if (l.next == LX_NO_OFFSET || l.func == LX_NO_OFFSET || l.flags == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "ftrace: no BTF for struct ftrace_ops");
    return check_ftrace_chain(c, list, end, &l);
}

struct kp_offs {
    uint64_t list, addr, pre, post, flags, rp_kp, rp_handler, rp_entry;
    uint64_t aggr_pre, kretprobe_pre;
};

static int report_kprobe(struct check_ctx *c, const struct kp_offs *o, uint64_t kp)
{
    uint64_t addr, pre, post;
    uint32_t flags = 0;
    if (lx_ptr(c->xa, kp + o->addr, &addr) < 0 || lx_ptr(c->xa, kp + o->pre, &pre) < 0 ||
        lx_ptr(c->xa, kp + o->post, &post) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "kprobe 0x%llx unreadable", (unsigned long long)kp);
    if (o->flags != LX_NO_OFFSET)
        (void)lx_u32(c->xa, kp + o->flags, &flags);
    uint64_t handlers[4] = {pre, post, 0, 0};
    if (pre && pre == o->kretprobe_pre && o->rp_kp != LX_NO_OFFSET) {
        /* a kretprobe: its own handlers are in the struct kretprobe around it */
        uint64_t rp = kp - o->rp_kp;
        (void)lx_ptr(c->xa, rp + o->rp_handler, &handlers[2]);
        if (o->rp_entry != LX_NO_OFFSET)
            (void)lx_ptr(c->xa, rp + o->rp_entry, &handlers[3]);
    }
    uint64_t hook = 0;
    for (unsigned i = 0; i < 4 && !hook; i++)
        if (handlers[i] && !check_in_core_text(c, handlers[i]))
            hook = handlers[i];
    char at[128], by[128];
    check_describe(c, addr, at, sizeof(at));
    check_describe(c, hook ? hook : pre, by, sizeof(by));
    const char *owner = hook ? check_owner_of(c, hook) : "kernel";
    return check_report(c, "kprobe", owner ? owner : "", -1, hook ? hook : kp,
                        "kprobe 0x%llx on %s, handler %s%s", (unsigned long long)kp, at, by,
                        (flags & 2) ? " (disabled)" : "");
}

int check_kprobes(struct check_ctx *c)
{
    uint64_t table = check_sym(c, "kprobe_table");
    if (!table)
        return 0; /* a kernel without kprobes */
    struct kp_offs o = {
        .list = check_off(c, "kprobe", "list"),
        .addr = check_off(c, "kprobe", "addr"),
        .pre = check_off(c, "kprobe", "pre_handler"),
        .post = check_off(c, "kprobe", "post_handler"),
        .flags = check_off(c, "kprobe", "flags"),
        .rp_kp = check_off(c, "kretprobe", "kp"),
        .rp_handler = check_off(c, "kretprobe", "handler"),
        .rp_entry = check_off(c, "kretprobe", "entry_handler"),
        .aggr_pre = check_sym(c, "aggr_pre_handler"),
        .kretprobe_pre = check_sym(c, "pre_handler_kretprobe"),
    };
    uint64_t hlist = check_off(c, "kprobe", "hlist");
    if (o.list == LX_NO_OFFSET || o.addr == LX_NO_OFFSET || o.pre == LX_NO_OFFSET ||
        o.post == LX_NO_OFFSET || hlist == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "kprobes: no BTF for struct kprobe");
    struct lx_ptrset seen = {0};
    int rc = 0;
    for (unsigned b = 0; rc == 0 && b < KPROBE_TABLE_SIZE; b++) {
        uint64_t node;
        /* kprobe_table[]: hlist_heads, one kernel word each */
        if (lx_ptr(c->xa, table + lx_ptr_size(c->xa) * b, &node) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "kprobe_table unreadable");
            break;
        }
        for (unsigned n = 0; rc == 0 && node; n++) {
            int added = n < MAX_CHAIN && lx_kptr(c->xa, node) ? lx_ptrset_add(&seen, node) : 0;
            if (added <= 0) {
                rc = added < 0 ? xa__set_error(c->xa, XA_ENOMEM, "out of memory")
                               : xa__set_error(c->xa, XA_EBADDATA,
                                               "kprobe_table chain %u broken or looping", b);
                break;
            }
            uint64_t kp = node - hlist, pre;
            if (lx_ptr(c->xa, kp + o.pre, &pre) < 0) {
                rc = xa__set_error(c->xa, XA_EFAULT, "kprobe 0x%llx unreadable",
                                   (unsigned long long)kp);
                break;
            }
            if (pre && pre == o.aggr_pre) {
                /* several probes on one address: the aggregate lists them */
                struct lx_list_walk w;
                lx_list_init(&w, kp + o.list, MAX_AGGR, "aggregated kprobes");
                uint64_t member;
                while ((rc = lx_list_next(c->xa, &w, &member)) == 1) {
                    rc = report_kprobe(c, &o, member - o.list);
                    if (rc)
                        break;
                }
                lx_list_free(&w);
            } else {
                rc = report_kprobe(c, &o, kp);
            }
            if (rc == 0 && lx_ptr(c->xa, node, &node) < 0)
                rc = xa__set_error(c->xa, XA_EFAULT, "kprobe_table chain %u broken", b);
        }
    }
    lx_ptrset_free(&seen);
    return rc;
}
