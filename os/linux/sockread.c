/*
 * sockread.c -- sockets read from outside: one walk over a hash chain (plain
 * or "nulls" hlist) and one socket's fields as /proc/net/{tcp,udp,raw,
 * unix,packet} prints them (net/ipv4/tcp_ipv4.c get_tcp4_sock and friends).
 *
 * The guest owns every pointer, length and byte here: chain links are
 * checked both ways (a node's pprev must point at the link that led to it,
 * which also ends any cycle), chains are capped, a UNIX name's length is
 * checked against sun_path.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "os/linux/netread.h"

#define SUN_PATH_MAX 108u
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define AF_PACKET_ 17
#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12
#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define SOCK_RAW_ 3
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* The layout's word: 4 bytes on a 32-bit kernel, else 8. */
static unsigned word_of(const struct lx_sock_layout *l)
{
    return l->word == 4 ? 4 : 8;
}

/* A pointer to a kernel object: word-aligned, in the kernel's half. */
static bool kptr(const struct lx_sock_layout *l, uint64_t va)
{
    if (word_of(l) == 4)
        return va >= l->kptr_min && va <= 0xFFFFFFFFull && (va & 3) == 0;
    return va >= 0xff00000000000000ULL && (va & 7) == 0;
}

/* A kernel word (pointer, unsigned long) at @va. */
static int rdword(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t va,
                  uint64_t *out)
{
    if (word_of(l) == 8)
        return read(ctx, va, out, 8);
    uint32_t v = 0;
    int rc = read(ctx, va, &v, 4);
    *out = v;
    return rc;
}

const char *lx_tcp_state_name(int state)
{
    static const char *const names[] = {
        "UNKNOWN",    "ESTABLISHED", "SYN_SENT", "SYN_RECV",   "FIN_WAIT1",
        "FIN_WAIT2",  "TIME_WAIT",   "CLOSE",    "CLOSE_WAIT", "LAST_ACK",
        "LISTEN",     "CLOSING",     "NEW_SYN_RECV",
    };
    return state > 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state]
                                                                          : "UNKNOWN";
}

int lx_sock_chain(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t head,
                  bool nulls, uint64_t node_off, lx_sock_fn fn, void *arg, char *why)
{
    const unsigned w = word_of(l);
    uint64_t link = head, node;
    if (rdword(l, read, ctx, head, &node) < 0) {
        snprintf(why, LX_WHY_LEN, "hash bucket 0x%llx unreadable", (unsigned long long)head);
        return XA_EFAULT;
    }
    for (unsigned n = 0;; n++) {
        if (node == 0 || (nulls && (node & 1)))
            return 0;
        if (n >= LX_SK_CHAIN_MAX) {
            snprintf(why, LX_WHY_LEN, "hash chain at 0x%llx longer than %u (a cycle?)",
                     (unsigned long long)head, LX_SK_CHAIN_MAX);
            return XA_ELIMIT;
        }
        uint64_t links[2]; /* next, pprev */
        if (!kptr(l, node) || node < node_off) {
            snprintf(why, LX_WHY_LEN, "hash chain at 0x%llx: bad link 0x%llx",
                     (unsigned long long)head, (unsigned long long)node);
            return XA_EBADDATA;
        }
        if (rdword(l, read, ctx, node, &links[0]) < 0 ||
            rdword(l, read, ctx, node + w, &links[1]) < 0) {
            snprintf(why, LX_WHY_LEN, "hash chain node 0x%llx unreadable",
                     (unsigned long long)node);
            return XA_EFAULT;
        }
        if (links[1] != link) {
            snprintf(why, LX_WHY_LEN,
                     "hash chain at 0x%llx: node 0x%llx does not point back (a cycle or a "
                     "torn list)",
                     (unsigned long long)head, (unsigned long long)node);
            return XA_ELIMIT;
        }
        int rc = fn(arg, node - node_off);
        if (rc)
            return rc;
        link = node; /* next is the node's first member */
        node = links[0];
    }
}

int lx_sock_buckets(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                    uint64_t count, uint64_t stride, uint64_t head_off, bool nulls,
                    uint64_t node_off, lx_sock_fn fn, void *arg, char *why)
{
    enum { CHUNK = 512 };
    const unsigned w = word_of(l);
    if (count == 0 || count > LX_SK_BUCKETS_MAX || stride < w || head_off > stride - w ||
        !kptr(l, base) || base + count * stride < base ||
        (w == 4 && base + count * stride > 0x100000000ull)) {
        snprintf(why, LX_WHY_LEN, "implausible table: %llu buckets of %llu bytes at 0x%llx",
                 (unsigned long long)count, (unsigned long long)stride,
                 (unsigned long long)base);
        return XA_EBADDATA;
    }
    const bool packed = stride == w && head_off == 0;
    uint64_t first[CHUNK];
    uint32_t first32[CHUNK];
    for (uint64_t i = 0; i < count; i++) {
        uint64_t head = base + i * stride + head_off;
        if (packed) { /* an array of heads: read many at once, skip the empty */
            if (i % CHUNK == 0) {
                uint64_t n = count - i < CHUNK ? count - i : CHUNK;
                if (read(ctx, head, w == 8 ? (void *)first : (void *)first32, n * w) < 0) {
                    snprintf(why, LX_WHY_LEN, "buckets at 0x%llx unreadable",
                             (unsigned long long)head);
                    return XA_EFAULT;
                }
            }
            uint64_t f = w == 8 ? first[i % CHUNK] : first32[i % CHUNK];
            if (f == 0 || (nulls && (f & 1)))
                continue;
        }
        int rc = lx_sock_chain(l, read, ctx, head, nulls, node_off, fn, arg, why);
        if (rc)
            return rc;
    }
    return 0;
}

static int rd(lx_mem_fn read, void *ctx, uint64_t base, uint64_t off, void *buf, size_t len)
{
    if (off == LX_SK_NONE)
        return XA_ENOENT;
    return read(ctx, base + off, buf, len);
}

static void format_inet(int family, const uint8_t *a, uint16_t port, char *out)
{
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(family == AF_INET6_ ? AF_INET6 : AF_INET, a, ip, sizeof(ip)))
        snprintf(ip, sizeof(ip), "?");
    if (family == AF_INET6_)
        snprintf(out, XA_NET_ADDR_LEN, "[%s]:%u", ip, port);
    else
        snprintf(out, XA_NET_ADDR_LEN, "%s:%u", ip, port);
}

/* The name /proc/net/unix prints (af_unix.c unix_seq_show). */
static int unix_name(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                     struct xa_socket *out, char *why)
{
    uint64_t addr;
    if (l->unix_addr == LX_SK_NONE || rdword(l, read, ctx, sk + l->unix_addr, &addr) < 0) {
        snprintf(why, LX_WHY_LEN, "unix_sock 0x%llx unreadable", (unsigned long long)sk);
        return XA_EFAULT;
    }
    if (addr == 0)
        return 0; /* unbound */
    int32_t len;
    char path[SUN_PATH_MAX];
    if (!kptr(l, addr) || read(ctx, addr + l->unix_addr_len, &len, 4) < 0) {
        snprintf(why, LX_WHY_LEN, "bad unix_address 0x%llx", (unsigned long long)addr);
        return XA_EBADDATA;
    }
    /* sun_family first: checked before taking it off (len is the guest's) */
    if (len < 3 || len > (int32_t)SUN_PATH_MAX + 2) {
        snprintf(why, LX_WHY_LEN, "unix_address 0x%llx: name length %d", (unsigned long long)addr,
                 (int)len);
        return XA_EBADDATA;
    }
    len -= 2;
    if (read(ctx, addr + l->unix_addr_name + 2, path, (size_t)len) < 0) {
        snprintf(why, LX_WHY_LEN, "unix_address 0x%llx unreadable", (unsigned long long)addr);
        return XA_EFAULT;
    }
    int i = 0, o = 0;
    if (path[0])
        len--; /* a path: its terminating NUL is counted */
    else
        out->local[o++] = '@', i = 1;
    for (; i < len && o < XA_NET_ADDR_LEN - 1; i++)
        out->local[o++] = path[i] ? path[i] : '@';
    if (i < len)
        out->flags |= XA_NET_ADDR_CUT;
    out->local[o] = '\0';
    return 0;
}

static void proto_from_kind(struct xa_socket *out)
{
    const char *p = NULL;
    bool v6 = out->family == AF_INET6_;
    if (out->family == AF_UNIX_)
        p = "unix";
    else if (out->family == AF_PACKET_)
        p = "packet";
    else if (out->family == AF_INET_ || v6) {
        if (out->type == SOCK_STREAM_ && out->protocol == IPPROTO_TCP_)
            p = v6 ? "tcp6" : "tcp";
        else if (out->type == SOCK_DGRAM_ && out->protocol == IPPROTO_UDP_)
            p = v6 ? "udp6" : "udp";
        else if (out->type == SOCK_RAW_)
            p = v6 ? "raw6" : "raw";
    }
    if (p)
        snprintf(out->proto, sizeof(out->proto), "%s", p);
    else
        snprintf(out->proto, sizeof(out->proto), "af%d", out->family & 0xffff);
}

int lx_sock_decode(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                   const char *proto, struct xa_socket *out, char *why)
{
    why[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->sk = sk;
    uint16_t family, dport, num;
    uint8_t state;
    if (!kptr(l, sk) || rd(read, ctx, sk, l->family, &family, 2) < 0 ||
        rd(read, ctx, sk, l->state, &state, 1) < 0 || rd(read, ctx, sk, l->dport, &dport, 2) < 0 ||
        rd(read, ctx, sk, l->num, &num, 2) < 0) {
        snprintf(why, LX_WHY_LEN, "socket 0x%llx unreadable", (unsigned long long)sk);
        return XA_EFAULT;
    }
    out->family = family;
    out->state = state == TCP_NEW_SYN_RECV ? TCP_SYN_RECV : state; /* as /proc shows it */
    out->state_name = lx_tcp_state_name(out->state);
    const bool full = state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
    uint16_t type = 0, protocol = 0;
    if (full && (rd(read, ctx, sk, l->sk_type, &type, 2) < 0 ||
                 rd(read, ctx, sk, l->sk_protocol, &protocol, 2) < 0)) {
        snprintf(why, LX_WHY_LEN, "socket 0x%llx unreadable", (unsigned long long)sk);
        return XA_EFAULT;
    }
    out->type = full ? type : SOCK_STREAM_;
    out->protocol = full ? protocol : IPPROTO_TCP_;
    if (proto) {
        bool v6 = family == AF_INET6_ && strcmp(proto, "unix") && strcmp(proto, "packet");
        snprintf(out->proto, sizeof(out->proto), "%s%s", proto, v6 ? "6" : "");
    } else {
        proto_from_kind(out);
    }

    if (family == AF_INET_ || family == AF_INET6_) {
        uint8_t src[16], dst[16];
        size_t n = family == AF_INET6_ ? 16 : 4;
        uint64_t so = family == AF_INET6_ ? l->v6_rcv_saddr : l->rcv_saddr;
        uint64_t dof = family == AF_INET6_ ? l->v6_daddr : l->daddr;
        if (so == LX_SK_NONE || dof == LX_SK_NONE) {
            snprintf(why, LX_WHY_LEN, "socket 0x%llx: IPv6, but the kernel's BTF has no "
                     "skc_v6_daddr", (unsigned long long)sk);
            return XA_ENOTSUP;
        }
        if (rd(read, ctx, sk, so, src, n) < 0 || rd(read, ctx, sk, dof, dst, n) < 0) {
            snprintf(why, LX_WHY_LEN, "socket 0x%llx: addresses unreadable",
                     (unsigned long long)sk);
            return XA_EFAULT;
        }
        format_inet(family, src, num, out->local);
        format_inet(family, dst, ntohs(dport), out->remote);
    }
    if (!full)
        return 0; /* TIME_WAIT and request socks: no inode, no queues */

    uint64_t sock = 0;
    if (l->sk_socket == LX_SK_NONE || rdword(l, read, ctx, sk + l->sk_socket, &sock) < 0) {
        snprintf(why, LX_WHY_LEN, "socket 0x%llx unreadable", (unsigned long long)sk);
        return XA_EFAULT;
    }
    int32_t sock_state = 0;
    if (sock) {
        uint64_t ino = 0;
        uint32_t uid = 0;
        if (!kptr(l, sock) || rdword(l, read, ctx, sock + l->socket_alloc_inode + l->inode_ino, &ino) < 0 ||
            rd(read, ctx, sock, l->socket_alloc_inode + l->inode_uid, &uid, 4) < 0 ||
            rd(read, ctx, sock, l->socket_state, &sock_state, 4) < 0) {
            snprintf(why, LX_WHY_LEN, "socket 0x%llx: struct socket 0x%llx unreadable",
                     (unsigned long long)sk, (unsigned long long)sock);
            return XA_EBADDATA;
        }
        out->inode = ino;
        out->uid = uid;
    }
    int32_t rmem = 0, wmem = 1;
    uint32_t a = 0, b = 0;
    if (l->rmem_alloc != LX_SK_NONE && /* unknown on an inferred layout: no queues */
        (rd(read, ctx, sk, l->rmem_alloc, &rmem, 4) < 0 ||
         rd(read, ctx, sk, l->wmem_alloc, &wmem, 4) < 0)) {
        snprintf(why, LX_WHY_LEN, "socket 0x%llx: queues unreadable", (unsigned long long)sk);
        return XA_EFAULT;
    }
    const char *p = out->proto;
    if (!strncmp(p, "tcp", 3)) {
        if (state == TCP_LISTEN)
            rd(read, ctx, sk, l->ack_backlog, &a, 4);
        else if (rd(read, ctx, sk, l->rcv_nxt, &a, 4) == 0 &&
                 rd(read, ctx, sk, l->copied_seq, &b, 4) == 0)
            a = (int32_t)(a - b) > 0 ? a - b : 0;
        out->rx_queue = a;
        if (rd(read, ctx, sk, l->write_seq, &a, 4) == 0 &&
            rd(read, ctx, sk, l->snd_una, &b, 4) == 0)
            out->tx_queue = a - b;
    } else if (!strncmp(p, "udp", 3) || !strncmp(p, "raw", 3)) {
        int32_t deficit = 0;
        if (p[0] == 'u')
            rd(read, ctx, sk, l->udp_forward_deficit, &deficit, 4);
        /* the guest's counters may be anything: wrap as the kernel's %X of
         * an int would print them, without signed overflow here */
        out->rx_queue = (uint32_t)rmem - (uint32_t)deficit;
        out->tx_queue = (uint32_t)wmem - 1u;
    } else if (!strcmp(p, "unix")) {
        /* /proc/net/unix's St is the socket's SS_* state; LISTEN comes from sk_state */
        (void)sock_state;
        int rc = unix_name(l, read, ctx, sk, out, why);
        if (rc < 0)
            return rc;
    } else if (!strcmp(p, "packet")) {
        uint16_t pnum = 0;
        int32_t ifindex = 0;
        if (l->packet_num != LX_SK_NONE && /* unknown when AF_PACKET is a module */
            (rd(read, ctx, sk, l->packet_num, &pnum, 2) < 0 ||
             rd(read, ctx, sk, l->packet_ifindex, &ifindex, 4) < 0)) {
            snprintf(why, LX_WHY_LEN, "packet socket 0x%llx unreadable", (unsigned long long)sk);
            return XA_EFAULT;
        }
        out->protocol = ntohs(pnum);
        out->ifindex = ifindex;
        out->rx_queue = (uint32_t)rmem;
    }
    return 0;
}
