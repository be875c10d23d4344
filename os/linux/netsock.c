/*
 * netsock.c -- the guest's sockets: the kernel's tables (TCP established
 * and listening hashes, UDP, raw, and the UNIX and packet lists of every
 * network namespace on net_namespace_list) and every process's fd table,
 * merged by struct sock address, each socket with the pids holding it and
 * its namespace's inode number.
 *
 * Layouts come from BTF (resolved once), table addresses from kallsyms.
 * Bucket arrays are read in bulk, capped (LX_NET_BUCKETS_MAX); chains are
 * walked by sockread.c (links checked both ways, capped). A table that
 * cannot be walked to its end does not stop the others: the sockets found
 * come out, then its error (a partial result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "os/linux/fileread.h"
#include "os/linux/files.h"
#include "os/linux/lxpriv.h"
#include "os/linux/netlog.h"
#include "os/linux/netread.h"
#include "os/linux/sock32.h"

#define LX_NETNS_MAX 16384u /* network namespaces walked at most */
#define PF_KTHREAD 0x00200000u

struct lx_net_offsets {
    struct lx_sock_layout sk;
    /* hash tables */
    uint64_t ih_ehash, ih_ehash_mask, ih_lhash2, ih_lhash2_mask, ih_listening_hash;
    uint64_t ilb_size, ilb_nulls_head, listening_count;
    uint64_t ut_hash, ut_mask, hslot_size, hslot_head;
    uint64_t raw_ht, raw_count, raw_elem;
    bool raw_nulls;
    uint64_t net_unix_buckets, net_packet_sklist;
    /* network namespaces: the list, each one's inode number, the per-netns
     * TCP ehash (6.1+) and UDP table (6.2+) when a sysctl asked for them,
     * and a socket's namespace */
    uint64_t net_list, net_inum, net_tcp_hashinfo, net_udp_table, skc_net;
    /* fd tables */
    uint64_t task_files, files_fdt, file_f_op, file_private, socket_sk;
    struct lx_file_layout fdt; /* only its fdtable offsets: walked by fileread.c */
    /* a 32-bit kernel without BTF (sock32.c): sockets from the fd tables
     * (socket files told by their d_dname) and the established hashes they
     * lead to; fdt is the whole open-file layout then */
    bool inferred32;
    struct s32_layout s32;
    char missing[XA_ERRMSG_LEN];
};

struct want {
    uint64_t *dst;
    const char *type;
    const char *paths[2];
    bool optional;
};

static const char *btf_member_type_name(const struct btf *btf, const char *type,
                                        const char *member)
{
    int32_t id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
    const struct btf_type *t = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
    if (!t)
        return NULL;
    const struct btf_member *m = btf_members(t);
    for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
        if (strcmp(btf__name_by_offset(btf, m->name_off), member) != 0)
            continue;
        const struct btf_type *mt = btf__type_by_id(btf, m->type);
        if (mt && btf_is_array(mt))
            mt = btf__type_by_id(btf, btf_array(mt)->type);
        return mt ? btf__name_by_offset(btf, mt->name_off) : NULL;
    }
    return NULL;
}

static struct lx_net_offsets *resolve(struct linux_os *lx)
{
    struct lx_net_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    struct lx_sock_layout *s = &o->sk;
    uint64_t sa_sock = LX_NO_OFFSET, unused;
    if (lx_is32(lx)) { /* a 32-bit kernel with BTF: 4-byte words */
        s->word = 4;
        s->kptr_min = lx->page_offset;
    }
    const struct want w[] = {
        {&s->family, "sock_common", {"skc_family"}, false},
        {&s->state, "sock_common", {"skc_state"}, false},
        {&s->daddr, "sock_common", {"skc_daddr"}, false},
        {&s->rcv_saddr, "sock_common", {"skc_rcv_saddr"}, false},
        {&s->dport, "sock_common", {"skc_dport"}, false},
        {&s->num, "sock_common", {"skc_num"}, false},
        {&s->v6_daddr, "sock_common", {"skc_v6_daddr"}, true},
        {&s->v6_rcv_saddr, "sock_common", {"skc_v6_rcv_saddr"}, true},
        {&s->nulls_node, "sock_common", {"skc_nulls_node"}, false},
        {&s->node, "sock_common", {"skc_node"}, false},
        {&s->sk_socket, "sock", {"sk_socket"}, false},
        {&s->sk_type, "sock", {"sk_type"}, false},
        {&s->sk_protocol, "sock", {"sk_protocol"}, false},
        {&s->ack_backlog, "sock", {"sk_ack_backlog"}, false},
        {&s->max_ack_backlog, "sock", {"sk_max_ack_backlog"}, false},
        {&s->rmem_alloc, "sock", {"sk_backlog.rmem_alloc"}, false},
        {&s->wmem_alloc, "sock", {"sk_wmem_alloc"}, false},
        {&sa_sock, "socket_alloc", {"socket"}, false},
        {&s->socket_alloc_inode, "socket_alloc", {"vfs_inode"}, false},
        {&s->inode_ino, "inode", {"i_ino"}, false},
        {&s->inode_uid, "inode", {"i_uid"}, false},
        {&s->socket_state, "socket", {"state"}, false},
        {&s->rcv_nxt, "tcp_sock", {"rcv_nxt"}, false},
        {&s->copied_seq, "tcp_sock", {"copied_seq"}, false},
        {&s->write_seq, "tcp_sock", {"write_seq"}, false},
        {&s->snd_una, "tcp_sock", {"snd_una"}, false},
        {&s->udp_forward_deficit, "udp_sock", {"forward_deficit"}, true},
        {&s->unix_addr, "unix_sock", {"addr"}, false},
        {&s->unix_addr_len, "unix_address", {"len"}, false},
        {&s->unix_addr_name, "unix_address", {"name"}, false},
        {&s->packet_num, "packet_sock", {"num"}, true},
        {&s->packet_ifindex, "packet_sock", {"ifindex"}, true},
        {&o->ih_ehash, "inet_hashinfo", {"ehash"}, false},
        {&o->ih_ehash_mask, "inet_hashinfo", {"ehash_mask"}, false},
        {&o->ih_lhash2, "inet_hashinfo", {"lhash2"}, true},
        {&o->ih_lhash2_mask, "inet_hashinfo", {"lhash2_mask"}, true},
        {&o->ih_listening_hash, "inet_hashinfo", {"listening_hash"}, true},
        {&o->ilb_nulls_head, "inet_listen_hashbucket", {"nulls_head"}, false},
        {&o->ut_hash, "udp_table", {"hash"}, false},
        {&o->ut_mask, "udp_table", {"mask"}, false},
        {&o->hslot_head, "udp_hslot", {"head"}, false},
        {&o->net_unix_buckets, "net", {"unx.table.buckets"}, true},
        {&o->net_packet_sklist, "net", {"packet.sklist"}, true},
        {&o->net_list, "net", {"list"}, true},
        {&o->net_inum, "net", {"ns.inum"}, true},
        {&o->net_tcp_hashinfo, "net", {"ipv4.tcp_death_row.hashinfo"}, true},
        {&o->net_udp_table, "net", {"ipv4.udp_table"}, true},
        {&o->skc_net, "sock_common", {"skc_net.net"}, true}, /* CONFIG_NET_NS */
        {&o->task_files, "task_struct", {"files"}, false},
        {&o->files_fdt, "files_struct", {"fdt"}, false},
        {&o->fdt.fdt_max_fds, "fdtable", {"max_fds"}, false},
        {&o->fdt.fdt_fd, "fdtable", {"fd"}, false},
        {&o->fdt.fdt_open_fds, "fdtable", {"open_fds"}, false},
        {&o->fdt.fdt_close_on_exec, "fdtable", {"close_on_exec"}, false},
        {&o->file_f_op, "file", {"f_op"}, false},
        {&o->file_private, "file", {"private_data"}, false},
        {&o->socket_sk, "socket", {"sk"}, false},
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        *w[i].dst = LX_NO_OFFSET;
        for (size_t k = 0; k < 2 && w[i].paths[k]; k++)
            if (linux_btf_member(lx, w[i].type, w[i].paths[k], w[i].dst) == 0)
                break;
        if (*w[i].dst == LX_NO_OFFSET && !w[i].optional && !o->missing[0])
            snprintf(o->missing, sizeof(o->missing), "the kernel's BTF has no %s.%s",
                     w[i].type, w[i].paths[0]);
    }
    if (sa_sock != 0 && !o->missing[0])
        snprintf(o->missing, sizeof(o->missing), "socket_alloc.socket is not first");
    int64_t sz = btf__find_by_name_kind(lx->btf, "inet_listen_hashbucket", BTF_KIND_STRUCT);
    o->ilb_size = sz > 0 ? (uint64_t)btf__resolve_size(lx->btf, (uint32_t)sz) : 0;
    sz = btf__find_by_name_kind(lx->btf, "udp_hslot", BTF_KIND_STRUCT);
    o->hslot_size = sz > 0 ? (uint64_t)btf__resolve_size(lx->btf, (uint32_t)sz) : 0;
    if (linux_btf_array(lx, "inet_hashinfo", "listening_hash", &o->listening_count, &unused) < 0)
        o->listening_count = 0;
    if (linux_btf_array(lx, "raw_hashinfo", "ht", &o->raw_count, &o->raw_elem) < 0 ||
        linux_btf_member(lx, "raw_hashinfo", "ht", &o->raw_ht) < 0)
        o->raw_count = 0;
    const char *ht = btf_member_type_name(lx->btf, "raw_hashinfo", "ht");
    o->raw_nulls = ht && strcmp(ht, "hlist_nulls_head") == 0;
    if (!o->missing[0] && (!o->ilb_size || !o->hslot_size))
        snprintf(o->missing, sizeof(o->missing), "the kernel's BTF lacks hash bucket sizes");
    return o;
}

static int read_kernel(void *ctx, uint64_t va, void *buf, size_t len);
static bool sym(struct xa_instance *xa, const char *name, uint64_t *addr);

/* Whether @file is a socket: its dentry's d_op names it with sockfs_dname. */
static bool is_socket_file(struct xa_instance *xa, const struct lx_file_layout *f, uint64_t file)
{
    uint64_t dentry, dop, dname;
    return f->fn_socket && lx_ptr(xa, file + f->f_path_dentry, &dentry) == 0 &&
           lx_kptr(xa, dentry) && lx_ptr(xa, dentry + f->d_op, &dop) == 0 && lx_kptr(xa, dop) &&
           lx_ptr(xa, dop + f->dop_d_dname, &dname) == 0 && dname == f->fn_socket;
}

/* The socket files of the first processes' fd tables, at most S32_SOCKS. */
static int sample_sockets(struct xa_instance *xa, const struct lx_net_offsets *o,
                          struct s32_file *out, size_t *n, char *why)
{
    struct xa_process_iter *pi = NULL;
    struct xa_process pr;
    *n = 0;
    int rc = linux_process_iter_new(xa, &pi);
    while (rc == 0 && *n < S32_SOCKS && (rc = linux_process_iter_next(pi, &pr)) == 1) {
        rc = 0;
        uint64_t files, fdt, file, inode;
        if (pr.flags & PF_KTHREAD || lx_ptr(xa, pr.task + o->task_files, &files) < 0 ||
            !lx_kptr(xa, files) || lx_ptr(xa, files + o->files_fdt, &fdt) < 0)
            continue;
        struct lx_fd_cursor cur;
        int32_t fd;
        bool cloexec;
        int r = lx_fdt_open(&o->fdt, read_kernel, xa, fdt, &cur, why);
        while (r == 0 && *n < S32_SOCKS &&
               (r = lx_fdt_next(&o->fdt, read_kernel, xa, &cur, &fd, &file, &cloexec, why)) == 1) {
            r = 0;
            if (is_socket_file(xa, &o->fdt, file) &&
                lx_ptr(xa, file + o->fdt.f_inode, &inode) == 0 && lx_kptr(xa, inode))
                out[(*n)++] = (struct s32_file){file, inode};
        }
    }
    if (pi)
        linux_process_iter_free(pi);
    xa__clear_error(xa);
    return rc < 0 ? rc : 0;
}

/* A 32-bit kernel without BTF: the open-file layout (files32_layout.c),
 * then the socket layout from the sockets it finds (sock32.c). */
static struct lx_net_offsets *resolve32(struct xa_instance *xa, struct linux_priv *p)
{
    struct lx_net_offsets *o = calloc(1, sizeof(*o));
    struct s32_file *f = calloc(S32_SOCKS, sizeof(*f));
    char why[LX_WHY_LEN] = "";
    if (!o || !f) {
        free(o);
        free(f);
        return NULL;
    }
    o->inferred32 = true;
    uint64_t *none[] = {&o->ih_ehash, &o->ih_ehash_mask, &o->ih_lhash2, &o->ih_lhash2_mask,
                        &o->ih_listening_hash, &o->ut_hash, &o->ut_mask, &o->net_unix_buckets,
                        &o->net_packet_sklist, &o->net_list, &o->net_tcp_hashinfo,
                        &o->net_udp_table, &o->file_f_op};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        *none[i] = LX_NO_OFFSET;
    size_t n = 0;
    struct s32_layout l;
    if (linux_files32_layout(xa, p, &o->fdt, &o->task_files, &o->files_fdt, why) < 0)
        snprintf(o->missing, sizeof(o->missing), "%s", why);
    else if (!sym(xa, "sockfs_dname", &o->fdt.fn_socket))
        snprintf(o->missing, sizeof(o->missing), "no sockfs_dname symbol");
    else if (sample_sockets(xa, o, f, &n, why) < 0 ||
             s32_infer(read_kernel, xa, p->lx.page_offset, f, n, (uint32_t)o->fdt.i_ino,
                       (uint32_t)o->fdt.i_mode, &l, why) < 0)
        snprintf(o->missing, sizeof(o->missing), "%s", why);
    else {
        o->s32 = l;
        o->sk = l.sk;
        o->file_private = l.file_private;
        o->socket_sk = l.socket_sk;
        o->skc_net = l.skc_net;
        o->net_inum = l.net_inum;
        /* CONFIG_IPV6: the v6 addresses follow skc_net (since 3.13) */
        o->sk.v6_daddr = l.skc_net + 4;
        o->sk.v6_rcv_saddr = l.skc_net + 20;
    }
    free(f);
    return o;
}

static int need(struct xa_instance *xa, const struct lx_net_offsets **out)
{
    struct linux_priv *p = linux_priv(xa);
    if (!p->lx.btf && !lx_is32(&p->lx))
        return xa__set_error(xa, XA_ENOTSUP, "cannot list sockets: no kernel types (BTF)");
    if (!p->net && !(p->net = p->lx.btf ? resolve(&p->lx) : resolve32(xa, p)))
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    if (p->net->missing[0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot list sockets: %s", p->net->missing);
    *out = p->net;
    return 0;
}

void linux_net_free(struct linux_priv *p)
{
    free(p->net);
    p->net = NULL;
}

/* A 32-bit layout that refused is inferred again after a flush: on a live
 * guest the sockets it needs (three at least, or an undamaged majority)
 * may be there now. One that was found stays, as the open-file layout. */
void linux_net_flush(struct linux_priv *p)
{
    if (p->net && p->net->inferred32 && p->net->missing[0])
        linux_net_free(p);
}

/* ---- the walk ------------------------------------------------------------ */

struct sk_owner {
    uint64_t sk;
    int32_t pid;
};

/* A network namespace: its struct net and inode number. */
struct netns {
    uint64_t net;
    uint32_t inum;
};

struct xa_net_iter {
    struct xa_instance *xa; /* first member: the public glue dispatches through it */
    struct xa_socket *socks;
    size_t n, cap, pos;
    struct sk_owner *owners;
    size_t nowners, owners_cap;
    struct lx_ptrset seen; /* sk addresses collected */
    int deferred_err;
    char deferred_msg[XA_ERRMSG_LEN];
    const struct lx_net_offsets *o;
    struct netns *nets; /* init_net first, then net_namespace_list's order */
    size_t nnets;
    struct netns *nets_by_addr; /* the same, sorted by struct net address */
    const char *table; /* proto of the table being walked */
    char why[LX_WHY_LEN];
};

_Static_assert(offsetof(struct xa_net_iter, xa) == 0, "xa first (os/os.h, struct xa_os_iter)");

static int read_kernel(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

static void defer(struct xa_net_iter *it, int rc, const char *what, const char *why)
{
    if (it->deferred_err)
        return;
    it->deferred_err = rc;
    snprintf(it->deferred_msg, sizeof(it->deferred_msg), "%s: %s", what, why);
}

static struct xa_socket *grow(struct xa_net_iter *it)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 64;
        struct xa_socket *s = cap <= LX_SK_TOTAL_MAX ? realloc(it->socks, cap * sizeof(*s)) : NULL;
        if (!s)
            return NULL;
        it->socks = s;
        it->cap = cap;
    }
    return &it->socks[it->n];
}

static int cmp_netns(const void *a, const void *b)
{
    const struct netns *x = a, *y = b;
    return (x->net > y->net) - (x->net < y->net);
}

/* The inode number of namespace @net: from the walked list, else (a
 * namespace being torn down, or off the list) read from it; 0 unreadable. */
static uint32_t netns_inum(struct xa_net_iter *it, uint64_t net)
{
    struct netns key = {.net = net};
    const struct netns *found =
        it->nnets ? bsearch(&key, it->nets_by_addr, it->nnets, sizeof(key), cmp_netns) : NULL;
    uint32_t inum;
    if (found)
        return found->inum;
    if (it->o->net_inum == LX_NO_OFFSET || !lx_kptr(it->xa, net) ||
        lx_u32(it->xa, net + it->o->net_inum, &inum) < 0)
        return 0;
    return inum;
}

/* Socket @sk's namespace (without CONFIG_NET_NS there is only init_net). */
static uint32_t sock_netns(struct xa_net_iter *it, uint64_t sk)
{
    uint64_t net;
    if (it->o->skc_net == LX_NO_OFFSET)
        return it->nnets ? it->nets[0].inum : 0;
    if (lx_ptr(it->xa, sk + it->o->skc_net, &net) < 0)
        return 0;
    return netns_inum(it, net);
}

/* Add socket @sk found in table it->table (or an fd when it->table is NULL). */
static int add_sock(void *arg, uint64_t sk)
{
    struct xa_net_iter *it = arg;
    int fresh = lx_ptrset_add(&it->seen, sk);
    if (fresh < 0)
        return XA_ENOMEM;
    if (fresh == 0)
        return 0; /* in two tables, or held twice: once is enough */
    struct xa_socket *s = grow(it);
    if (!s) {
        snprintf(it->why, sizeof(it->why), "more than %u sockets", LX_SK_TOTAL_MAX);
        return XA_ELIMIT;
    }
    int rc = lx_sock_decode(&it->o->sk, read_kernel, it->xa, sk, it->table, s, it->why);
    if (rc < 0)
        return rc;
    s->netns = sock_netns(it, sk);
    s->flags |= it->table ? XA_NET_FROM_TABLE : XA_NET_FROM_FD;
    if (it->o->inferred32)
        s->flags |= XA_NET_NO_QUEUES;
    it->n++;
    return 0;
}

static void walk_buckets(struct xa_net_iter *it, const char *what, uint64_t base, uint64_t count,
                         uint64_t stride, uint64_t head_off, bool nulls)
{
    int rc = lx_sock_buckets(&it->o->sk, read_kernel, it->xa, base, count, stride, head_off, nulls,
                             it->o->sk.node, add_sock, it, it->why);
    if (rc)
        defer(it, rc < 0 ? rc : XA_EBADDATA, what, it->why);
}

static bool sym(struct xa_instance *xa, const char *name, uint64_t *addr)
{
    return symtab_lookup(&linux_os(xa)->syms, name, addr) == 0;
}

static int u32_at(struct xa_instance *xa, uint64_t va, uint64_t *out)
{
    uint32_t v;
    int rc = lx_u32(xa, va, &v);
    *out = v;
    return rc;
}

static void walk_tcp(struct xa_net_iter *it)
{
    const struct lx_net_offsets *o = it->o;
    struct xa_instance *xa = it->xa;
    uint64_t hi, ehash, mask;
    it->table = "tcp";
    if (!sym(xa, "tcp_hashinfo", &hi)) {
        defer(it, XA_ENOENT, "tcp", "no tcp_hashinfo symbol");
        return;
    }
    if (lx_ptr(xa, hi + o->ih_ehash, &ehash) < 0 || u32_at(xa, hi + o->ih_ehash_mask, &mask) < 0) {
        defer(it, XA_EFAULT, "tcp", "tcp_hashinfo unreadable");
        return;
    }
    if (o->listening_count) /* before 5.19: a fixed array of listening buckets */
        walk_buckets(it, "tcp listening hash", hi + o->ih_listening_hash, o->listening_count,
                     o->ilb_size, o->ilb_nulls_head, true);
    else if (o->ih_lhash2 != LX_NO_OFFSET) {
        uint64_t lh, lmask;
        if (lx_ptr(xa, hi + o->ih_lhash2, &lh) < 0 ||
            u32_at(xa, hi + o->ih_lhash2_mask, &lmask) < 0)
            defer(it, XA_EFAULT, "tcp", "tcp_hashinfo unreadable");
        else
            walk_buckets(it, "tcp listening hash", lh, lmask + 1, o->ilb_size, o->ilb_nulls_head,
                         true);
    }
    walk_buckets(it, "tcp established hash", ehash, mask + 1, lx_ptr_size(it->xa), 0, true);
    /* 6.1+: a namespace may have an established hash of its own
     * (net.ipv4.tcp_child_ehash_entries); its listeners stay in the global
     * one (the namespace's hashinfo shares lhash2). */
    struct lx_ptrset walked = {0}; /* each namespace's table once */
    for (size_t i = 0; o->net_tcp_hashinfo != LX_NO_OFFSET && i < it->nnets; i++) {
        uint64_t own;
        if (lx_ptr(xa, it->nets[i].net + o->net_tcp_hashinfo, &own) < 0) {
            defer(it, XA_EFAULT, "tcp", "a network namespace is unreadable");
            continue;
        }
        if (own == hi || own == 0)
            continue;
        int fresh = lx_ptrset_add(&walked, own);
        if (fresh < 0)
            defer(it, XA_ENOMEM, "tcp", "out of memory");
        if (fresh <= 0)
            continue;
        if (!lx_kptr(it->xa, own) || lx_ptr(xa, own + o->ih_ehash, &ehash) < 0 ||
            u32_at(xa, own + o->ih_ehash_mask, &mask) < 0)
            defer(it, XA_EBADDATA, "tcp", "a network namespace's tcp hashinfo is unreadable");
        else
            walk_buckets(it, "tcp established hash", ehash, mask + 1, lx_ptr_size(it->xa), 0, true);
    }
    lx_ptrset_free(&walked);
}

static void walk_udp(struct xa_net_iter *it)
{
    const struct lx_net_offsets *o = it->o;
    uint64_t ut, hash, mask;
    it->table = "udp";
    if (!sym(it->xa, "udp_table", &ut)) {
        defer(it, XA_ENOENT, "udp", "no udp_table symbol");
        return;
    }
    if (lx_ptr(it->xa, ut + o->ut_hash, &hash) < 0 || u32_at(it->xa, ut + o->ut_mask, &mask) < 0) {
        defer(it, XA_EFAULT, "udp", "udp_table unreadable");
        return;
    }
    walk_buckets(it, "udp hash", hash, mask + 1, o->hslot_size, o->hslot_head, false);
    /* 6.2+: a namespace may have a table of its own (udp_child_hash_entries) */
    struct lx_ptrset walked = {0}; /* each namespace's table once */
    for (size_t i = 0; o->net_udp_table != LX_NO_OFFSET && i < it->nnets; i++) {
        uint64_t own;
        if (lx_ptr(it->xa, it->nets[i].net + o->net_udp_table, &own) < 0) {
            defer(it, XA_EFAULT, "udp", "a network namespace is unreadable");
            continue;
        }
        if (own == ut || own == 0)
            continue;
        int fresh = lx_ptrset_add(&walked, own);
        if (fresh < 0)
            defer(it, XA_ENOMEM, "udp", "out of memory");
        if (fresh <= 0)
            continue;
        if (!lx_kptr(it->xa, own) || lx_ptr(it->xa, own + o->ut_hash, &hash) < 0 ||
            u32_at(it->xa, own + o->ut_mask, &mask) < 0)
            defer(it, XA_EBADDATA, "udp", "a network namespace's udp table is unreadable");
        else
            walk_buckets(it, "udp hash", hash, mask + 1, o->hslot_size, o->hslot_head, false);
    }
    lx_ptrset_free(&walked);
}

static void walk_raw(struct xa_net_iter *it)
{
    const struct lx_net_offsets *o = it->o;
    static const char *const syms[] = {"raw_v4_hashinfo", "raw_v6_hashinfo"};
    it->table = "raw";
    if (!o->raw_count) {
        defer(it, XA_ENOTSUP, "raw", "the kernel's BTF has no raw_hashinfo.ht");
        return;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t hi;
        if (sym(it->xa, syms[i], &hi)) /* raw6 may be a module: then absent */
            walk_buckets(it, syms[i], hi + o->raw_ht, o->raw_count, o->raw_elem, 0, o->raw_nulls);
    }
}

/* Each namespace's UNIX table (5.19+; before, one global table) and
 * packet list. */
static void walk_unix_and_packet(struct xa_net_iter *it)
{
    const struct lx_net_offsets *o = it->o;
    uint64_t table;
    it->table = "unix";
    if (sym(it->xa, "unix_socket_table", &table)) /* before 5.19: one global table */
        walk_buckets(it, "unix table", table, 512, lx_ptr_size(it->xa), 0, false);
    else if (o->net_unix_buckets == LX_NO_OFFSET)
        defer(it, XA_ENOTSUP, "unix", "neither unix_socket_table nor net.unx.table");
    else
        for (size_t i = 0; i < it->nnets; i++) {
            if (lx_ptr(it->xa, it->nets[i].net + o->net_unix_buckets, &table) < 0)
                defer(it, XA_EFAULT, "unix", "a network namespace is unreadable");
            else
                walk_buckets(it, "unix table", table, 512, lx_ptr_size(it->xa), 0, false); /* UNIX_HASH_SIZE */
        }
    it->table = "packet";
    for (size_t i = 0; o->net_packet_sklist != LX_NO_OFFSET && i < it->nnets; i++)
        walk_buckets(it, "packet list", it->nets[i].net + o->net_packet_sklist, 1, lx_ptr_size(it->xa), 0, false);
}

/* ---- network namespaces --------------------------------------------------- */

static int add_netns(struct xa_net_iter *it, uint64_t net)
{
    uint32_t inum = 0;
    if (it->o->net_inum != LX_NO_OFFSET && lx_u32(it->xa, net + it->o->net_inum, &inum) < 0) {
        defer(it, XA_EFAULT, "network namespaces", "a struct net is unreadable");
        return 0; /* left out: its tables cannot be read either */
    }
    if (it->nnets % 64 == 0) {
        struct netns *n = realloc(it->nets, (it->nnets + 64) * sizeof(*n));
        if (!n)
            return XA_ENOMEM;
        it->nets = n;
    }
    it->nets[it->nnets++] = (struct netns){net, inum};
    return 0;
}

/* init_net, then every other namespace on net_namespace_list: at most
 * LX_NETNS_MAX, links checked both ways (listwalk.c); a broken list keeps
 * the namespaces met before the break (a partial result). */
static int walk_namespaces(struct xa_net_iter *it)
{
    const struct lx_net_offsets *o = it->o;
    uint64_t init, head, node;
    int rc = 0;
    if (!sym(it->xa, "init_net", &init)) {
        defer(it, XA_ENOENT, "network namespaces", "no init_net symbol");
        return 0;
    }
    if (add_netns(it, init) < 0)
        return XA_ENOMEM;
    if (o->net_list != LX_NO_OFFSET && sym(it->xa, "net_namespace_list", &head)) {
        struct lx_list_walk w;
        lx_list_init(&w, head, LX_NETNS_MAX, "network namespace list");
        while ((rc = lx_list_next(it->xa, &w, &node)) == 1) {
            uint64_t net = node - o->net_list;
            if (net != init && (rc = add_netns(it, net)) < 0)
                break;
        }
        lx_list_free(&w);
        if (rc == XA_ENOMEM)
            return rc;
        if (rc < 0)
            defer(it, rc, "network namespaces", xa__errmsg(it->xa));
    }
    it->nets_by_addr = malloc(it->nnets * sizeof(*it->nets));
    if (!it->nets_by_addr)
        return XA_ENOMEM;
    memcpy(it->nets_by_addr, it->nets, it->nnets * sizeof(*it->nets));
    qsort(it->nets_by_addr, it->nnets, sizeof(*it->nets), cmp_netns);
    return 0;
}

/* ---- owners: every process's fd table ------------------------------------ */

static int add_owner(struct xa_net_iter *it, uint64_t sk, int32_t pid)
{
    if (it->nowners == it->owners_cap) {
        size_t cap = it->owners_cap ? it->owners_cap * 2 : 256;
        struct sk_owner *n = cap <= 4 * LX_SK_TOTAL_MAX ? realloc(it->owners, cap * sizeof(*n))
                                                        : NULL;
        if (!n)
            return XA_ENOMEM;
        it->owners = n;
        it->owners_cap = cap;
    }
    it->owners[it->nowners++] = (struct sk_owner){sk, pid};
    return 0;
}

/* The sockets in the fd table of the process whose task is @task. */
static int scan_fds(struct xa_net_iter *it, uint64_t task, int32_t pid, uint64_t sock_fops)
{
    const struct lx_net_offsets *o = it->o;
    struct xa_instance *xa = it->xa;
    uint64_t files, fdt;
    if (lx_ptr(xa, task + o->task_files, &files) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: task unreadable", (int)pid);
    if (files == 0)
        return 0; /* exiting */
    if (!lx_kptr(it->xa, files) || lx_ptr(xa, files + o->files_fdt, &fdt) < 0)
        return xa__set_error(xa, XA_EBADDATA, "process %d: bad fd table (files 0x%llx)",
                             (int)pid, (unsigned long long)files);
    struct lx_fd_cursor cur;
    int32_t fd;
    uint64_t file, fop, sock, sk;
    bool cloexec;
    char why[LX_WHY_LEN];
    int rc = lx_fdt_open(&o->fdt, read_kernel, xa, fdt, &cur, why);
    while (rc == 0 &&
           (rc = lx_fdt_next(&o->fdt, read_kernel, xa, &cur, &fd, &file, &cloexec, why)) == 1) {
        rc = 0;
        if (o->inferred32) {
            uint64_t inode;
            if (!is_socket_file(xa, &o->fdt, file))
                continue;
            /* one that does not fit the layout the others gave is left out */
            if (lx_ptr(xa, file + o->fdt.f_inode, &inode) < 0 ||
                s32_sock_of(&o->s32, read_kernel, xa, file, inode, &sk) < 0) {
                snprintf(why, sizeof(why),
                         "process %d: fd %d: socket file 0x%llx does not fit the inferred "
                         "32-bit socket layout (left out)",
                         (int)pid, (int)fd, (unsigned long long)file);
                defer(it, XA_EBADDATA, "fd tables", why);
                continue;
            }
            if (sk && (rc = add_owner(it, sk, pid)) < 0)
                return xa__set_error(xa, rc, "out of memory");
            continue;
        } else if (lx_ptr(xa, file + o->file_f_op, &fop) < 0) {
            return xa__set_error(xa, XA_EBADDATA, "process %d: fd %d: bad file 0x%llx", (int)pid,
                                 (int)fd, (unsigned long long)file);
        } else if (fop != sock_fops) {
            continue;
        }
        if (lx_ptr(xa, file + o->file_private, &sock) < 0 || !lx_kptr(it->xa, sock) ||
            lx_ptr(xa, sock + o->socket_sk, &sk) < 0)
            return xa__set_error(xa, XA_EBADDATA, "process %d: fd %d: bad socket", (int)pid,
                                 (int)fd);
        if (sk == 0)
            continue; /* being released */
        if ((rc = add_owner(it, sk, pid)) < 0)
            return xa__set_error(xa, rc, "out of memory");
    }
    if (rc < 0)
        return xa__set_error(xa, rc, "process %d: %s", (int)pid, why);
    return 0;
}

static void walk_fds(struct xa_net_iter *it)
{
    struct xa_instance *xa = it->xa;
    uint64_t sock_fops = 0;
    if (!it->o->inferred32 && !sym(xa, "socket_file_ops", &sock_fops)) {
        defer(it, XA_ENOENT, "fd tables", "no socket_file_ops symbol");
        return;
    }
    struct xa_process_iter *pi = NULL;
    struct xa_process p;
    int rc = linux_process_iter_new(xa, &pi);
    while (rc == 0 && (rc = linux_process_iter_next(pi, &p)) == 1) {
        rc = 0;
        if (!(p.flags & PF_KTHREAD))
            rc = scan_fds(it, p.task, p.pid, sock_fops);
    }
    if (pi)
        linux_process_iter_free(pi);
    if (rc < 0)
        defer(it, rc, "fd tables", xa__errmsg(xa));
}

static int cmp_owner(const void *a, const void *b)
{
    const struct sk_owner *x = a, *y = b;
    if (x->sk != y->sk)
        return x->sk < y->sk ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_sock(const void *a, const void *b)
{
    static const char *const order[] = {"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix",
                                        "packet"};
    const struct xa_socket *x = a, *y = b;
    int rx = 8, ry = 8;
    for (int i = 0; i < 8; i++) {
        if (!strcmp(x->proto, order[i]))
            rx = i;
        if (!strcmp(y->proto, order[i]))
            ry = i;
    }
    if (rx != ry)
        return rx - ry;
    if (rx == 8 && strcmp(x->proto, y->proto))
        return strcmp(x->proto, y->proto);
    if (x->inode != y->inode)
        return x->inode < y->inode ? -1 : 1;
    return (x->sk > y->sk) - (x->sk < y->sk);
}

static int cmp_sk(const void *a, const void *b)
{
    const struct xa_socket *x = a, *y = b;
    return (x->sk > y->sk) - (x->sk < y->sk);
}

/* The socket @sk among the first @n (sorted by sk), or NULL. */
static struct xa_socket *find_sock(struct xa_net_iter *it, size_t n, uint64_t sk)
{
    struct xa_socket key = {.sk = sk};
    /* No socket yet: it->socks may still be NULL, which bsearch must not get. */
    return n ? bsearch(&key, it->socks, n, sizeof(key), cmp_sk) : NULL;
}

/* Sockets only an fd holds are decoded; owners attached to each socket. */
static void merge_owners(struct xa_net_iter *it)
{
    /* A walk that found nothing (a task list broken at its start) leaves
     * these arrays NULL; qsort must not be given NULL even with 0 items. */
    if (it->n > 1)
        qsort(it->socks, it->n, sizeof(*it->socks), cmp_sk);
    if (it->nowners > 1)
        qsort(it->owners, it->nowners, sizeof(*it->owners), cmp_owner);
    const size_t in_tables = it->n;
    it->table = NULL;
    size_t cur = SIZE_MAX; /* index of the socket of the current sk, SIZE_MAX: none */
    for (size_t i = 0; i < it->nowners; i++) {
        const struct sk_owner *w = &it->owners[i];
        if (i > 0 && w->sk == it->owners[i - 1].sk) {
            if (w->pid == it->owners[i - 1].pid || cur == SIZE_MAX)
                continue;
        } else {
            struct xa_socket *found = find_sock(it, in_tables, w->sk);
            cur = SIZE_MAX;
            if (found) {
                cur = (size_t)(found - it->socks);
            } else {
                size_t before = it->n;
                int rc = add_sock(it, w->sk);
                if (rc)
                    defer(it, rc < 0 ? rc : XA_EBADDATA, "fd tables", it->why);
                if (rc || it->n == before)
                    continue; /* not decoded: its owners are dropped with it */
                cur = before;
            }
            it->socks[cur].flags |= XA_NET_FROM_FD;
        }
        struct xa_socket *s = &it->socks[cur];
        if (s->npids < XA_NET_PIDS_MAX)
            s->pids[s->npids] = w->pid;
        s->npids++;
    }
}

/* A 32-bit kernel without BTF: the TCP hashes the fd tables' TCP sockets
 * are in, each walked once: the established hashes (each namespace's own
 * when it has one) from connected sockets, the listening hash (lhash2) from
 * listeners. They add the sockets only the kernel holds (an unaccepted
 * connection, a listener no fd holds) and mark the others in_table. */
static void walk_hashes32(struct xa_net_iter *it)
{
    struct lx_ptrset bases = {0}, tried = {0}; /* each socket and each table once */
    it->table = "tcp";
    for (size_t i = 0; i < it->nowners; i++) {
        uint64_t sk = it->owners[i].sk, base = 0, count = 0;
        uint16_t family, type;
        uint8_t state;
        int seen = lx_ptrset_add(&tried, sk);
        if (seen < 0)
            defer(it, XA_ENOMEM, "tcp hashes", "out of memory");
        if (seen <= 0 || lx_read(it->xa, sk + it->o->sk.family, &family, 2) < 0 ||
            lx_read(it->xa, sk + it->o->sk.state, &state, 1) < 0 ||
            lx_read(it->xa, sk + it->o->sk.sk_type, &type, 2) < 0 || (family != 2 && family != 10) ||
            type != 1)
            continue;
        const struct s32_table *t = state == 10 /* TCP_LISTEN */ ? &S32_LHASH2 : &S32_EHASH;
        char what[64];
        snprintf(what, sizeof(what), "tcp %s", t->what);
        int rc = s32_hash_base(&it->o->sk, t, read_kernel, it->xa, sk, &base, it->why);
        if (rc < 0)
            defer(it, rc, what, it->why);
        int fresh = rc > 0 ? lx_ptrset_add(&bases, base) : 0;
        if (fresh < 0)
            defer(it, XA_ENOMEM, what, "out of memory");
        if (fresh <= 0)
            continue;
        rc = s32_hash_count(&it->o->sk, t, read_kernel, it->xa, base, &count, it->why);
        if (rc < 0)
            defer(it, rc, what, it->why);
        else
            walk_buckets(it, what, base, count, t->stride, t->head_off, true);
    }
    lx_ptrset_free(&bases);
    lx_ptrset_free(&tried);
}

/* A 32-bit kernel without BTF: the UDP hash (udp_table.hash; 6.1 has one
 * for every namespace) found from the first bound UDP socket an fd holds: the
 * udp_table in the kernel's data (_etext .. __init_begin) whose hash array
 * holds that socket's slot, every slot checked, then walked. */
static void walk_udp32(struct xa_net_iter *it)
{
    uint64_t lo, hi, base = 0, count = 0;
    bool found = false;
    it->table = "udp";
    for (size_t i = 0; i < it->nowners; i++) {
        uint64_t sk = it->owners[i].sk, slot = 0;
        uint16_t family, type, proto;
        if (lx_read(it->xa, sk + it->o->sk.family, &family, 2) < 0 ||
            lx_read(it->xa, sk + it->o->sk.sk_type, &type, 2) < 0 ||
            lx_read(it->xa, sk + it->o->sk.sk_protocol, &proto, 2) < 0 ||
            (family != 2 && family != 10) || type != 2 || proto != 17)
            continue;
        int rc = s32_udp_slot(&it->o->sk, read_kernel, it->xa, sk, &slot, it->why);
        if (rc < 0)
            defer(it, rc, "udp hash", it->why);
        if (rc <= 0)
            continue;
        if (!sym(it->xa, "_etext", &lo) || !sym(it->xa, "__init_begin", &hi) || hi <= lo ||
            hi - lo > S32_DATA_SPAN) {
            defer(it, XA_ENOENT, "udp hash", "no _etext .. __init_begin span to search");
            return;
        }
        /* one search a listing: 6.1's one table holds every bound socket
         * (a 6.2+ namespace's own is allocated, not in the data) */
        rc = s32_udp_table(&it->o->sk, read_kernel, it->xa, lo, hi, slot, &base, &count, it->why);
        if (rc < 0)
            defer(it, rc, "udp hash", it->why);
        if (rc == 0) {
            snprintf(it->why, sizeof(it->why),
                     "32-bit kernel without BTF: no udp_table in the kernel's data holds the "
                     "hash slot 0x%llx of UDP socket 0x%llx",
                     (unsigned long long)slot, (unsigned long long)sk);
            defer(it, XA_ENOENT, "udp hash", it->why);
        }
        found = rc > 0;
        break;
    }
    if (!found)
        return; /* no bound UDP socket held, or said why: UDP from the fds only */
    int rc = s32_udp_check(&it->o->sk, read_kernel, it->xa, base, count, it->why);
    if (rc < 0)
        defer(it, rc, "udp hash", it->why);
    else
        walk_buckets(it, "udp hash", base, count, 16, 0, false);
}

int linux_net_iter_new(struct xa_instance *xa, struct xa_net_iter **out)
{
    const struct lx_net_offsets *o = NULL;
    int rc = need(xa, &o);
    if (rc < 0)
        return rc;
    struct xa_net_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    it->o = o;
    if (!o->inferred32 && walk_namespaces(it) < 0) {
        linux_net_iter_free(it);
        return xa__set_error(xa, XA_ENOMEM, "out of memory listing network namespaces");
    }
    if (o->inferred32) {
        walk_fds(it);
        walk_hashes32(it);
        walk_udp32(it);
    } else {
        walk_tcp(it);
        walk_udp(it);
        walk_raw(it);
        walk_unix_and_packet(it);
        walk_fds(it);
    }
    merge_owners(it);
    lx_ptrset_free(&it->seen);
    free(it->owners);
    it->owners = NULL;
    free(it->nets);
    free(it->nets_by_addr);
    it->nets = it->nets_by_addr = NULL;
    it->nnets = 0;
    if (it->n > 1)
        qsort(it->socks, it->n, sizeof(*it->socks), cmp_sock);
    if (it->deferred_err == XA_ENOMEM) {
        linux_net_iter_free(it);
        return xa__set_error(xa, XA_ENOMEM, "out of memory listing sockets");
    }
    xa__clear_error(xa);
    *out = it;
    return 0;
}

int linux_net_iter_next(struct xa_net_iter *it, struct xa_socket *out)
{
    if (it->pos < it->n) {
        *out = it->socks[it->pos++];
        return 1;
    }
    if (it->deferred_err)
        return xa__set_error(it->xa, it->deferred_err, "sockets: %s", it->deferred_msg);
    return 0;
}

void linux_net_iter_free(struct xa_net_iter *it)
{
    if (!it)
        return;
    lx_ptrset_free(&it->seen);
    free(it->owners);
    free(it->nets);
    free(it->nets_by_addr);
    free(it->socks);
    free(it);
}
