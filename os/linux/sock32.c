/*
 * sock32.c -- a 32-bit kernel's socket layout without BTF, from the sockets
 * its processes hold (see sock32.h). Every step keeps the one offset all
 * sampled sockets agree with, under constraints that do not depend on what
 * the guest runs (back-pointers, the families and states the kernel can
 * hold, a namespace inode number's range); none or several refuse.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/sock32.h"

#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define TCP_ESTABLISHED_ 1
#define PROC_NS_INUM_LO 0xEFFFFFF0u /* the fixed init inodes sit just below */
#define PROC_NS_INUM_HI 0xF1000000u /* dynamic ones from 0xF0000000 */
#define LISTENING_NULLS 0u          /* ehash buckets end in their index */

struct sample {
    uint64_t file, inode, sock, sk;
    uint8_t sockb[S32_SOCKET_SPAN];
    uint8_t skb[S32_SOCK_SPAN];
};

struct ctx32 {
    lx_mem_fn read;
    void *ctx;
    uint64_t kmin;
};

static bool kp(const struct ctx32 *c, uint64_t v)
{
    return v >= c->kmin && v <= 0xFFFFFFFFull && (v & 3) == 0;
}

static uint32_t w32(const uint8_t *b, uint32_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}

static uint16_t w16(const uint8_t *b, uint32_t off)
{
    uint16_t v;
    memcpy(&v, b + off, 2);
    return v;
}

static int rd32(const struct ctx32 *c, uint64_t va, uint32_t *v)
{
    return c->read(c->ctx, va, v, 4);
}

#define AF_MAX_ 46 /* 6.1 */

/* A family and state a socket file can hold: an inet socket a TCP state
 * (1..12), another family's (netlink's may be 0) at most 12. */
static bool kind_ok(uint16_t family, uint8_t state)
{
    bool inet = family == AF_INET_ || family == AF_INET6_;
    return family >= 1 && family < AF_MAX_ && state <= 12 && (!inet || state >= 1);
}

#define REFUSE(...)                                                                               \
    do {                                                                                          \
        snprintf(why, LX_WHY_LEN, "32-bit kernel without BTF: " __VA_ARGS__);                     \
        return XA_EBADDATA;                                                                       \
    } while (0)

/* struct file.private_data: the struct socket whose vfs_inode (a constant
 * distance on) is the file's inode, and which points back at the file. */
static int find_private(const struct ctx32 *c, struct sample *s, size_t n, struct s32_layout *o,
                        uint32_t *sock_file, char *why)
{
    int found = 0;
    for (uint32_t p = 0; p + 4 <= S32_FILE_SPAN; p += 4) {
        uint64_t gap = 0;
        uint32_t back = UINT32_MAX;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            uint32_t v;
            if (rd32(c, s[i].file + p, &v) < 0 || !kp(c, v) || s[i].inode <= v ||
                s[i].inode - v > S32_INODE_GAP || (i && s[i].inode - v != gap)) {
                ok = false;
                break;
            }
            gap = s[i].inode - v;
            s[i].sock = v;
        }
        if (!ok)
            continue;
        /* struct socket.file: the same offset in every socket */
        int backs = 0;
        for (uint32_t f = 0; f + 4 <= S32_SOCKET_SPAN && f < gap; f += 4) {
            bool all = true;
            for (size_t i = 0; i < n && all; i++) {
                uint32_t v;
                all = rd32(c, s[i].sock + f, &v) == 0 && v == s[i].file;
            }
            if (all)
                backs++, back = f;
        }
        if (backs != 1)
            continue;
        found++;
        o->file_private = p;
        o->sk.socket_alloc_inode = gap;
        *sock_file = back;
    }
    if (found != 1)
        REFUSE("%d candidates for struct file.private_data", found);
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        if (rd32(c, s[i].file + o->file_private, &v) < 0 ||
            c->read(c->ctx, v, s[i].sockb, S32_SOCKET_SPAN) < 0)
            REFUSE("a struct socket is unreadable");
        s[i].sock = v;
    }
    return 0;
}

/* struct socket.sk and struct sock.sk_socket: a pointer whose target
 * points back, at one offset in every socket. Each candidate's targets are
 * read once, S32_SOCK_SPAN bytes each. */
static int find_sk(const struct ctx32 *c, struct sample *s, size_t n, uint32_t sock_file,
                   struct s32_layout *o, char *why)
{
    int found = 0;
    uint8_t *buf = malloc(n * S32_SOCK_SPAN);
    if (!buf) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (uint32_t k = 0; k + 4 <= S32_SOCKET_SPAN; k += 4) {
        if (k == sock_file)
            continue;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++)
            ok = kp(c, w32(s[i].sockb, k)) &&
                 c->read(c->ctx, w32(s[i].sockb, k), buf + i * S32_SOCK_SPAN, S32_SOCK_SPAN) == 0;
        for (uint32_t b = 0; ok && b + 4 <= S32_SOCK_SPAN; b += 4) {
            bool all = true;
            for (size_t i = 0; i < n && all; i++)
                all = w32(buf + i * S32_SOCK_SPAN, b) == s[i].sock;
            if (all) {
                found++;
                o->socket_sk = k;
                o->sk.sk_socket = b;
            }
        }
    }
    free(buf);
    if (found != 1)
        REFUSE("%d candidates for struct socket.sk", found);
    for (size_t i = 0; i < n; i++) {
        s[i].sk = w32(s[i].sockb, o->socket_sk);
        if (c->read(c->ctx, s[i].sk, s[i].skb, S32_SOCK_SPAN) < 0)
            REFUSE("a struct sock is unreadable");
    }
    return 0;
}

/* sock_common's head (daddr, rcv_saddr, hash, dport, num, family, state,
 * in this order since 2.6.39): every family and state one a socket file
 * can hold, a UNIX socket's inet fields zero. */
static int find_common(const struct sample *s, size_t n, struct s32_layout *o, char *why)
{
    int found = 0;
    for (uint32_t b = 0; b + 20 <= 64; b += 4) {
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            uint16_t fam = w16(s[i].skb, b + 16);
            uint8_t st = s[i].skb[b + 18];
            ok = kind_ok(fam, st) &&
                 (fam != AF_UNIX_ || (w32(s[i].skb, b) == 0 && w32(s[i].skb, b + 4) == 0 &&
                                      w32(s[i].skb, b + 12) == 0));
        }
        if (ok) {
            found++;
            struct lx_sock_layout *l = &o->sk;
            l->daddr = b, l->rcv_saddr = b + 4, l->dport = b + 12, l->num = b + 14;
            l->family = b + 16, l->state = b + 18;
        }
    }
    if (found != 1)
        REFUSE("%d candidates for struct sock_common", found);
    return 0;
}

/* The protocols an inet stream socket can have: TCP, SCTP, MPTCP. */
static bool inet_stream_proto(uint16_t p)
{
    return p == 6 || p == 132 || p == 262;
}

/* ... and an inet datagram socket: UDP, UDP-Lite, ping (ICMP, ICMPv6). */
static bool inet_dgram_proto(uint16_t p)
{
    return p == 17 || p == 136 || p == 1 || p == 58;
}

/* struct socket.type and struct sock.sk_type (sk_protocol next to it):
 * equal in every socket, the protocol one its family and type allow. */
static int find_type(const struct sample *s, size_t n, struct s32_layout *o, char *why)
{
    int found = 0;
    const uint32_t from = (uint32_t)o->sk.state + 2;
    for (uint32_t t = 0; t + 2 <= 16; t += 2)
        for (uint32_t x = from; x + 4 <= S32_SOCK_SPAN; x += 2) {
            bool ok = true;
            for (size_t i = 0; i < n && ok; i++) {
                uint16_t ty = w16(s[i].skb, x), pr = w16(s[i].skb, x + 2);
                uint16_t fam = w16(s[i].skb, (uint32_t)o->sk.family);
                bool inet = fam == AF_INET_ || fam == AF_INET6_;
                ok = ty == w16(s[i].sockb, t) && ty >= 1 && ty <= 10 &&
                     (!inet || ty != 1 || inet_stream_proto(pr)) &&
                     (!inet || ty != 2 || inet_dgram_proto(pr)) && (fam != AF_UNIX_ || pr == 0);
            }
            if (ok) {
                found++;
                o->sk.sk_type = x;
                o->sk.sk_protocol = x + 2;
            }
        }
    if (found != 1)
        REFUSE("%d candidates for struct sock.sk_type", found);
    return 0;
}

/* skc_nulls_node: in every established TCP socket a node whose pprev
 * points back at it, and at least one chain ending in a nulls value (odd),
 * which tells it from the plain bind list node. Unknown (LX_SK_NONE) when
 * no process holds an established TCP socket. */
static void find_node(const struct ctx32 *c, const struct sample *s, size_t n,
                      struct s32_layout *o)
{
    int found = 0, tcp = 0;
    uint32_t at = 0;
    for (uint32_t nd = (uint32_t)o->sk.state + 2; nd + 8 <= 160; nd += 4) {
        bool ok = true, odd = false;
        tcp = 0;
        for (size_t i = 0; i < n && ok; i++) {
            uint16_t fam = w16(s[i].skb, (uint32_t)o->sk.family);
            if ((fam != AF_INET_ && fam != AF_INET6_) || w16(s[i].skb, (uint32_t)o->sk.sk_type) != 1 ||
                s[i].skb[o->sk.state] != TCP_ESTABLISHED_)
                continue;
            tcp++;
            uint32_t next = w32(s[i].skb, nd), pprev = w32(s[i].skb, nd + 4), v;
            ok = (next & 1 || kp(c, next)) && kp(c, pprev) && rd32(c, pprev, &v) == 0 &&
                 v == s[i].sk + nd;
            odd |= next & 1;
        }
        if (ok && odd && tcp) {
            found++;
            at = nd;
        }
    }
    o->sk.node = o->sk.nulls_node = found == 1 ? at : LX_SK_NONE;
}

/* The distinct targets of the pointer at @g in every socket, at most
 * S32_NETS, each read once (S32_NET_SPAN bytes); *@more when there were
 * more (the sockets beyond are not compared). false when one is no kernel
 * pointer or unreadable. */
static bool net_targets(const struct ctx32 *c, const struct sample *s, size_t n, uint32_t g,
                        uint32_t *net, uint8_t (*span)[S32_NET_SPAN], size_t *nn, bool *more)
{
    *nn = 0;
    *more = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = w32(s[i].skb, g);
        size_t k = 0;
        if (!kp(c, v))
            return false;
        while (k < *nn && net[k] != v)
            k++;
        if (k < *nn)
            continue;
        if (*nn == S32_NETS) {
            *more = true;
            continue;
        }
        if (c->read(c->ctx, v, span[*nn], S32_NET_SPAN) < 0)
            return false;
        net[(*nn)++] = v;
    }
    return true;
}

/* sock_common.skc_net and net.ns.inum: a pointer in every socket to a
 * struct net whose inode number is in the namespace range, with the same
 * ns.ops before it in every namespace and distinct numbers. */
static int find_net(const struct ctx32 *c, const struct sample *s, size_t n, struct s32_layout *o,
                    char *why)
{
    int found = 0;
    const uint32_t from = (uint32_t)o->sk.state + 2;
    uint32_t net[S32_NETS];
    uint8_t (*span)[S32_NET_SPAN] = malloc(S32_NETS * S32_NET_SPAN);
    if (!span) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (uint32_t g = from; g + 4 <= from + 64; g += 4) {
        size_t nn;
        bool more;
        if (!net_targets(c, s, n, g, net, span, &nn, &more))
            continue;
        for (uint32_t in = 4; in + 4 <= S32_NET_SPAN; in += 4) {
            bool all = true;
            for (size_t k = 0; k < nn && all; k++) {
                uint32_t inum = w32(span[k], in), op = w32(span[k], in - 4);
                all = inum >= PROC_NS_INUM_LO && inum < PROC_NS_INUM_HI && kp(c, op) &&
                      op == w32(span[0], in - 4);
                for (size_t j = 0; j < k && all; j++)
                    all = w32(span[j], in) != inum;
            }
            if (all) {
                found++;
                o->skc_net = g;
                o->net_inum = in;
            }
        }
    }
    free(span);
    if (found != 1)
        REFUSE("%d candidates for sock_common.skc_net", found);
    return 0;
}

/* unix_sock.addr: 0 or a unix_address {refcnt; len; sun_family, path}
 * whose length fits and whose family is AF_UNIX, in every UNIX socket,
 * non-zero in one at least. Unknown when no UNIX socket is bound. */
static void find_unix_addr(const struct ctx32 *c, const struct sample *s, size_t n,
                           struct s32_layout *o)
{
    int found = 0;
    uint32_t at = 0;
    for (uint32_t u = ((uint32_t)o->sk.sk_type + 7) & ~3u; u + 4 <= S32_SOCK_SPAN; u += 4) {
        bool ok = true;
        int bound = 0;
        for (size_t i = 0; i < n && ok; i++) {
            if (w16(s[i].skb, (uint32_t)o->sk.family) != AF_UNIX_)
                continue;
            uint32_t a = w32(s[i].skb, u), len;
            uint16_t fam;
            if (a == 0)
                continue;
            ok = kp(c, a) && rd32(c, a + 4, &len) == 0 && len >= 3 && len <= 110 &&
                 c->read(c->ctx, a + 8, &fam, 2) == 0 && fam == AF_UNIX_;
            bound++;
        }
        if (ok && bound) {
            found++;
            at = u;
        }
    }
    o->sk.unix_addr = found == 1 ? at : LX_SK_NONE;
}

int s32_infer(lx_mem_fn read, void *ctx, uint64_t kptr_min, const struct s32_file *f, size_t n,
              uint32_t i_ino, uint32_t i_mode, struct s32_layout *out, char *why)
{
    why[0] = '\0';
    if (n < 3)
        REFUSE("fewer than 3 sockets held by processes to infer the socket layout from");
    if (n > S32_SOCKS)
        n = S32_SOCKS;
    const struct ctx32 c = {read, ctx, kptr_min};
    struct s32_layout o;
    memset(&o, 0xff, sizeof(o)); /* every offset LX_SK_NONE / UINT32_MAX */
    o.sk.word = 4;
    o.sk.kptr_min = kptr_min;
    o.sk.unix_addr_len = 4;  /* unix_address: refcnt, len, name */
    o.sk.unix_addr_name = 8;
    o.sk.socket_state = 0;   /* struct socket starts with its state */
    o.sk.inode_ino = i_ino;
    o.sk.inode_uid = i_mode + 4; /* i_mode, i_opflags, i_uid */
    struct sample *s = calloc(n, sizeof(*s));
    if (!s) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        s[i].file = f[i].file, s[i].inode = f[i].inode;
    uint32_t sock_file = 0;
    int rc = find_private(&c, s, n, &o, &sock_file, why);
    if (rc == 0)
        rc = find_sk(&c, s, n, sock_file, &o, why);
    if (rc == 0)
        rc = find_common(s, n, &o, why);
    if (rc == 0)
        rc = find_type(s, n, &o, why);
    if (rc == 0)
        rc = find_net(&c, s, n, &o, why);
    if (rc == 0) {
        find_node(&c, s, n, &o);
        find_unix_addr(&c, s, n, &o);
        o.nsocks = n;
        *out = o;
    }
    free(s);
    return rc;
}

/* ---- the established hash --------------------------------------------- */

/* The nulls value a chain from @head ends with, the chain checked both
 * ways; 0 when it is not a well-formed nulls chain. */
static uint32_t chain_end(const struct ctx32 *c, uint64_t head, uint32_t node)
{
    uint32_t next, link = (uint32_t)head, pprev;
    if (rd32(c, head, &next) < 0)
        return 0;
    for (unsigned k = 0; k < LX_SK_CHAIN_MAX; k++) {
        if (next & 1)
            return next;
        if (!kp(c, next) || next < node || rd32(c, next + 4, &pprev) < 0 || pprev != link)
            return 0;
        link = next;
        if (rd32(c, next, &next) < 0)
            return 0;
    }
    return 0;
}

int s32_ehash_base(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                   uint64_t *base, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    if (l->nulls_node == LX_SK_NONE)
        return 0;
    const uint32_t nd = (uint32_t)l->nulls_node;
    uint32_t end = chain_end(&c, sk + nd, nd); /* from the socket's own node */
    uint32_t pprev;
    if (end == 0 || rd32(&c, sk + nd + 4, &pprev) < 0 || !kp(&c, pprev))
        return 0;
    const uint32_t idx = end >> 1;
    /* back along pprev to the bucket: the first link that is no node */
    uint32_t link = pprev;
    for (unsigned k = 0;; k++) {
        uint32_t pp, v;
        if (k >= LX_SK_CHAIN_MAX) {
            snprintf(why, LX_WHY_LEN, "hash chain of socket 0x%llx loops",
                     (unsigned long long)sk);
            return XA_ELIMIT;
        }
        if (rd32(&c, link + 4, &pp) < 0 || !kp(&c, pp) || rd32(&c, pp, &v) < 0 || v != link)
            break; /* @link is a bucket head */
        link = pp;
    }
    if ((uint64_t)idx * 4 > link || link - (uint64_t)idx * 4 < c.kmin)
        return 0;
    *base = link - (uint64_t)idx * 4;
    return 1;
}

int s32_ehash_count(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                    uint64_t *count, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    const uint32_t nd = (uint32_t)l->nulls_node;
    /* every bucket from the base on: its chain ends in its own index */
    uint64_t nb = 0;
    while (nb < LX_SK_BUCKETS_MAX && base + nb * 4 + 4 <= 0x100000000ull &&
           chain_end(&c, base + nb * 4, nd) == (uint32_t)((nb << 1) | 1))
        nb++;
    /* the table ends where a word is no bucket of it; a chain linked to the
     * slot there is a bucket whose chain is damaged (whatever its index) */
    uint32_t first, back;
    bool linked = nb < LX_SK_BUCKETS_MAX && rd32(&c, base + nb * 4, &first) == 0 &&
                  kp(&c, first) && rd32(&c, first + 4, &back) == 0 && back == base + nb * 4;
    if (nb == 0 || (nb & (nb - 1)) != 0 || linked) {
        snprintf(why, LX_WHY_LEN,
                 "32-bit kernel without BTF: the hash chain in bucket %llu of the established "
                 "hash at 0x%llx is damaged (a cycle or a torn list)",
                 (unsigned long long)nb, (unsigned long long)base);
        return XA_EBADDATA;
    }
    *count = nb;
    return 0;
}

int s32_ehash_of(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                 uint64_t *base, uint64_t *count, char *why)
{
    uint64_t b = 0, n = 0;
    int rc = s32_ehash_base(l, read, ctx, sk, &b, why);
    if (rc <= 0)
        return rc;
    if ((rc = s32_ehash_count(l, read, ctx, b, &n, why)) < 0)
        return rc;
    *base = b;
    *count = n;
    return 1;
}
