/*
 * sock32.c -- a 32-bit kernel's socket layout without BTF, from the sockets
 * its processes hold (see sock32.h). Every step keeps the one offset 7/8
 * of the sampled sockets agree with, under constraints that do not depend
 * on what the guest runs (back-pointers, the families and states the
 * kernel can hold, a namespace inode number's range); none or several
 * refuse. A socket that does not fit is left out of the later steps, and
 * 7/8 must fit them all.
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

/* inet_hashinfo.ehash: heads 4 bytes apart, bucket i's chain ends in i;
 * .lhash2 (5.19+): inet_listen_hashbucket {spinlock_t lock; nulls_head},
 * bucket i's in LISTENING_NULLS_BASE + i. */
const struct s32_table S32_EHASH = {4, 0, 0, "established hash"};
const struct s32_table S32_LHASH2 = {8, 4, 1u << 29, "listening hash"};

struct sample {
    uint64_t file, inode, sock, sk;
    bool out; /* did not fit a step's answer: left out of the later ones */
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

/* A candidate fits 7/8 of the sockets tried (proc32.c's rule): one damaged
 * or odd socket does not hide the layout; it is left out instead. */
static bool mostly(size_t fits, size_t tried)
{
    return tried > 0 && fits * 8 >= tried * 7;
}

static size_t tried_of(const struct sample *s, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += !s[i].out;
    return t;
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

/* The distance from the struct socket private_data points at (@v) to the
 * file's inode, or 0 when it is none. */
static uint64_t inode_gap(const struct ctx32 *c, const struct sample *s, uint32_t v)
{
    return kp(c, v) && s->inode > v && s->inode - v <= S32_INODE_GAP ? s->inode - v : 0;
}

/* The gap most sockets have (0: none), its count in *@most. */
static uint64_t common_gap(const uint64_t *gap, size_t n, size_t *most)
{
    uint64_t best = 0;
    *most = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; gap[i] && j < n; j++)
            k += gap[j] == gap[i];
        if (k > *most)
            *most = k, best = gap[i];
    }
    return best;
}

/* struct file.private_data: the struct socket whose vfs_inode (a constant
 * distance on) is the file's inode, and which points back at the file. */
static int find_private(const struct ctx32 *c, struct sample *s, size_t n, struct s32_layout *o,
                        char *why)
{
    const size_t tried = tried_of(s, n);
    int found = 0;
    uint64_t *gap = calloc(n, sizeof(*gap));
    uint32_t *priv = calloc(n, sizeof(*priv));
    if (!gap || !priv) {
        free(gap);
        free(priv);
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (uint32_t p = 0; p + 4 <= S32_FILE_SPAN; p += 4) {
        for (size_t i = 0; i < n; i++)
            gap[i] = !s[i].out && rd32(c, s[i].file + p, &priv[i]) == 0
                         ? inode_gap(c, &s[i], priv[i]) : 0;
        size_t most;
        const uint64_t g = common_gap(gap, n, &most);
        if (!mostly(most, tried))
            continue;
        /* struct socket.file: a word pointing back at the file */
        for (uint32_t f = 0; f + 4 <= S32_SOCKET_SPAN && f < g; f += 4) {
            size_t fits = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t v;
                fits += gap[i] == g && rd32(c, priv[i] + f, &v) == 0 && v == s[i].file;
            }
            if (mostly(fits, tried)) {
                found++;
                o->file_private = p;
                o->sk.socket_alloc_inode = g;
                o->socket_file = f;
            }
        }
    }
    free(gap);
    free(priv);
    if (found != 1)
        REFUSE("%d candidates for struct file.private_data", found);
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        if (s[i].out || rd32(c, s[i].file + o->file_private, &v) < 0 ||
            inode_gap(c, &s[i], v) != o->sk.socket_alloc_inode ||
            c->read(c->ctx, v, s[i].sockb, S32_SOCKET_SPAN) < 0 ||
            w32(s[i].sockb, o->socket_file) != s[i].file) {
            s[i].out = true;
            continue;
        }
        s[i].sock = v;
    }
    return 0;
}

/* struct socket.sk and struct sock.sk_socket: a pointer whose target
 * points back, at one offset in (nearly) every socket. Each candidate's
 * targets are read once, S32_SOCK_SPAN bytes each. */
static int find_sk(const struct ctx32 *c, struct sample *s, size_t n, struct s32_layout *o,
                   char *why)
{
    const size_t tried = tried_of(s, n);
    int found = 0;
    uint8_t *buf = malloc(n * S32_SOCK_SPAN);
    bool *got = malloc(n);
    if (!buf || !got) {
        free(buf);
        free(got);
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (uint32_t k = 0; k + 4 <= S32_SOCKET_SPAN; k += 4) {
        if (k == o->socket_file)
            continue;
        size_t nread = 0;
        for (size_t i = 0; i < n; i++) {
            got[i] = !s[i].out && kp(c, w32(s[i].sockb, k)) &&
                      c->read(c->ctx, w32(s[i].sockb, k), buf + i * S32_SOCK_SPAN,
                              S32_SOCK_SPAN) == 0;
            nread += got[i];
        }
        if (!mostly(nread, tried))
            continue;
        for (uint32_t b = 0; b + 4 <= S32_SOCK_SPAN; b += 4) {
            size_t fits = 0;
            for (size_t i = 0; i < n; i++)
                fits += got[i] && w32(buf + i * S32_SOCK_SPAN, b) == s[i].sock;
            if (mostly(fits, tried)) {
                found++;
                o->socket_sk = k;
                o->sk.sk_socket = b;
            }
        }
    }
    free(buf);
    free(got);
    if (found != 1)
        REFUSE("%d candidates for struct socket.sk", found);
    for (size_t i = 0; i < n; i++) {
        if (s[i].out)
            continue;
        s[i].sk = w32(s[i].sockb, o->socket_sk);
        s[i].out = !kp(c, s[i].sk) || c->read(c->ctx, s[i].sk, s[i].skb, S32_SOCK_SPAN) < 0 ||
                   w32(s[i].skb, (uint32_t)o->sk.sk_socket) != s[i].sock;
    }
    return 0;
}

/* Whether sock_common's head at @b holds a family and state a socket file
 * can have, a UNIX socket's inet fields zero. */
static bool common_fits(const uint8_t *skb, uint32_t b)
{
    uint16_t fam = w16(skb, b + 16);
    return kind_ok(fam, skb[b + 18]) &&
           (fam != AF_UNIX_ || (w32(skb, b) == 0 && w32(skb, b + 4) == 0 && w32(skb, b + 12) == 0));
}

/* sock_common's head (daddr, rcv_saddr, hash, dport, num, family, state,
 * in this order since 2.6.39). */
static int find_common(struct sample *s, size_t n, struct s32_layout *o, char *why)
{
    const size_t tried = tried_of(s, n);
    int found = 0;
    uint32_t at = 0;
    for (uint32_t b = 0; b + 20 <= 64; b += 4) {
        size_t fits = 0;
        for (size_t i = 0; i < n; i++)
            fits += !s[i].out && common_fits(s[i].skb, b);
        if (mostly(fits, tried))
            found++, at = b;
    }
    if (found != 1)
        REFUSE("%d candidates for struct sock_common", found);
    struct lx_sock_layout *l = &o->sk;
    l->daddr = at, l->rcv_saddr = at + 4, l->dport = at + 12, l->num = at + 14;
    l->family = at + 16, l->state = at + 18;
    for (size_t i = 0; i < n; i++)
        s[i].out = s[i].out || !common_fits(s[i].skb, at);
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

/* Whether sk_type at @x equals socket.type at @t, with a protocol the
 * socket's family (at @fam) and type allow. */
static bool type_fits(const uint8_t *sockb, const uint8_t *skb, uint32_t t, uint32_t x,
                      uint32_t fam_at)
{
    uint16_t ty = w16(skb, x), pr = w16(skb, x + 2), fam = w16(skb, fam_at);
    bool inet = fam == AF_INET_ || fam == AF_INET6_;
    return ty == w16(sockb, t) && ty >= 1 && ty <= 10 &&
           (!inet || ty != 1 || inet_stream_proto(pr)) &&
           (!inet || ty != 2 || inet_dgram_proto(pr)) && (fam != AF_UNIX_ || pr == 0);
}

/* struct socket.type and struct sock.sk_type (sk_protocol next to it). */
static int find_type(struct sample *s, size_t n, struct s32_layout *o, char *why)
{
    const size_t tried = tried_of(s, n);
    int found = 0;
    const uint32_t from = (uint32_t)o->sk.state + 2, fam = (uint32_t)o->sk.family;
    for (uint32_t t = 0; t + 2 <= 16; t += 2)
        for (uint32_t x = from; x + 4 <= S32_SOCK_SPAN; x += 2) {
            size_t fits = 0;
            for (size_t i = 0; i < n; i++)
                fits += !s[i].out && type_fits(s[i].sockb, s[i].skb, t, x, fam);
            if (mostly(fits, tried)) {
                found++;
                o->socket_type = t;
                o->sk.sk_type = x;
                o->sk.sk_protocol = x + 2;
            }
        }
    if (found != 1)
        REFUSE("%d candidates for struct sock.sk_type", found);
    for (size_t i = 0; i < n; i++)
        s[i].out = s[i].out ||
                   !type_fits(s[i].sockb, s[i].skb, o->socket_type, (uint32_t)o->sk.sk_type, fam);
    return 0;
}

static bool tcp_established(const uint8_t *skb, const struct s32_layout *o)
{
    uint16_t fam = w16(skb, (uint32_t)o->sk.family);
    return (fam == AF_INET_ || fam == AF_INET6_) && w16(skb, (uint32_t)o->sk.sk_type) == 1 &&
           skb[o->sk.state] == TCP_ESTABLISHED_;
}

/* skc_nulls_node: in (nearly) every established TCP socket a node whose
 * pprev points back at it, and at least one chain ending in a nulls value
 * (odd), which tells it from the plain bind list node. Unknown
 * (LX_SK_NONE) when no process holds an established TCP socket. */
static void find_node(const struct ctx32 *c, const struct sample *s, size_t n,
                      struct s32_layout *o)
{
    int found = 0;
    uint32_t at = 0;
    for (uint32_t nd = (uint32_t)o->sk.state + 2; nd + 8 <= 160; nd += 4) {
        size_t tcp = 0, fits = 0;
        bool odd = false;
        for (size_t i = 0; i < n; i++) {
            if (s[i].out || !tcp_established(s[i].skb, o))
                continue;
            tcp++;
            uint32_t next = w32(s[i].skb, nd), pprev = w32(s[i].skb, nd + 4), v;
            bool ok = (next & 1 || kp(c, next)) && kp(c, pprev) && rd32(c, pprev, &v) == 0 &&
                      v == s[i].sk + nd;
            fits += ok;
            odd |= ok && next & 1;
        }
        if (mostly(fits, tcp) && odd) {
            found++;
            at = nd;
        }
    }
    o->sk.node = o->sk.nulls_node = found == 1 ? at : LX_SK_NONE;
}

/* The distinct targets of the pointer at @g in the sockets, at most
 * S32_NETS, each read once (S32_NET_SPAN bytes); @of[i] the index of
 * socket i's, -1 when it is no kernel pointer, unreadable or one past
 * S32_NETS (not compared). */
static void net_targets(const struct ctx32 *c, const struct sample *s, size_t n, uint32_t g,
                        uint32_t *net, uint8_t (*span)[S32_NET_SPAN], size_t *nn, int *of)
{
    *nn = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = w32(s[i].skb, g);
        size_t k = 0;
        of[i] = -1;
        if (s[i].out || !kp(c, v))
            continue;
        while (k < *nn && net[k] != v)
            k++;
        if (k == *nn) {
            if (*nn == S32_NETS || c->read(c->ctx, v, span[*nn], S32_NET_SPAN) < 0)
                continue;
            net[(*nn)++] = v;
        }
        of[i] = (int)k;
    }
}

/* Whether namespace @k's word at @in is a namespace inode number, with
 * the ns.ops @op before it, and no other namespace has that number. */
static bool inum_fits(const struct ctx32 *c, uint8_t (*span)[S32_NET_SPAN], size_t nn, size_t k,
                      uint32_t in, uint32_t op)
{
    uint32_t inum = w32(span[k], in);
    if (inum < PROC_NS_INUM_LO || inum >= PROC_NS_INUM_HI || !kp(c, op) ||
        w32(span[k], in - 4) != op)
        return false;
    for (size_t j = 0; j < nn; j++)
        if (j != k && w32(span[j], in) == inum)
            return false;
    return true;
}

/* sock_common.skc_net and net.ns.inum: a pointer in (nearly) every socket
 * to a struct net whose inode number is in the namespace range, with the
 * same ns.ops before it in every namespace (the one most sockets' has) and
 * distinct numbers. */
static int find_net(const struct ctx32 *c, const struct sample *s, size_t n, struct s32_layout *o,
                    char *why)
{
    const size_t tried = tried_of(s, n);
    int found = 0;
    const uint32_t from = (uint32_t)o->sk.state + 2;
    uint32_t net[S32_NETS];
    size_t users[S32_NETS];
    bool fits_ns[S32_NETS];
    uint8_t (*span)[S32_NET_SPAN] = malloc(S32_NETS * S32_NET_SPAN);
    int *of = malloc(n * sizeof(*of));
    if (!span || !of) {
        free(span);
        free(of);
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (uint32_t g = from; g + 4 <= from + 64; g += 4) {
        size_t nn;
        net_targets(c, s, n, g, net, span, &nn, of);
        if (nn == 0)
            continue;
        size_t most = 0;
        memset(users, 0, sizeof(users));
        for (size_t i = 0; i < n; i++)
            if (of[i] >= 0 && ++users[of[i]] > users[most])
                most = (size_t)of[i];
        for (uint32_t in = 4; in + 4 <= S32_NET_SPAN; in += 4) {
            const uint32_t op = w32(span[most], in - 4);
            for (size_t k = 0; k < nn; k++)
                fits_ns[k] = inum_fits(c, span, nn, k, in, op);
            size_t fits = 0;
            for (size_t i = 0; i < n; i++)
                fits += of[i] >= 0 && fits_ns[of[i]];
            if (mostly(fits, tried)) {
                found++;
                o->skc_net = g;
                o->net_inum = in;
            }
        }
    }
    free(span);
    free(of);
    if (found != 1)
        REFUSE("%d candidates for sock_common.skc_net", found);
    return 0;
}

/* unix_sock.addr: 0 or a unix_address {refcnt; len; sun_family, path}
 * whose length fits and whose family is AF_UNIX, in (nearly) every UNIX
 * socket, non-zero in one at least. Unknown when no UNIX socket is bound. */
static void find_unix_addr(const struct ctx32 *c, const struct sample *s, size_t n,
                           struct s32_layout *o)
{
    int found = 0;
    uint32_t at = 0;
    for (uint32_t u = ((uint32_t)o->sk.sk_type + 7) & ~3u; u + 4 <= S32_SOCK_SPAN; u += 4) {
        size_t unix_ = 0, fits = 0, bound = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i].out || w16(s[i].skb, (uint32_t)o->sk.family) != AF_UNIX_)
                continue;
            uint32_t a = w32(s[i].skb, u), len;
            uint16_t fam;
            unix_++;
            if (a == 0) {
                fits++;
                continue;
            }
            bool ok = kp(c, a) && rd32(c, a + 4, &len) == 0 && len >= 3 && len <= 110 &&
                      c->read(c->ctx, a + 8, &fam, 2) == 0 && fam == AF_UNIX_;
            fits += ok;
            bound += ok;
        }
        if (mostly(fits, unix_) && bound) {
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
    int rc = find_private(&c, s, n, &o, why);
    if (rc == 0)
        rc = find_sk(&c, s, n, &o, why);
    if (rc == 0)
        rc = find_common(s, n, &o, why);
    if (rc == 0)
        rc = find_type(s, n, &o, why);
    if (rc == 0)
        rc = find_net(&c, s, n, &o, why);
    if (rc == 0 && !mostly(tried_of(s, n), n)) {
        snprintf(why, LX_WHY_LEN, "32-bit kernel without BTF: %zu of %zu sockets fit the socket "
                 "layout inferred", tried_of(s, n), n);
        rc = XA_EBADDATA;
    }
    if (rc == 0) {
        find_node(&c, s, n, &o);
        find_unix_addr(&c, s, n, &o);
        o.nsocks = n;
        o.nfit = tried_of(s, n);
        *out = o;
    }
    free(s);
    return rc;
}

int s32_sock_of(const struct s32_layout *o, lx_mem_fn read, void *ctx, uint64_t file,
                uint64_t inode, uint64_t *sk)
{
    const struct ctx32 c = {read, ctx, o->sk.kptr_min};
    struct sample s = {.file = file, .inode = inode};
    uint32_t v;
    if (rd32(&c, file + o->file_private, &v) < 0 ||
        inode_gap(&c, &s, v) != o->sk.socket_alloc_inode ||
        c.read(c.ctx, v, s.sockb, S32_SOCKET_SPAN) < 0 || w32(s.sockb, o->socket_file) != file)
        return XA_EBADDATA;
    s.sock = v;
    s.sk = w32(s.sockb, o->socket_sk);
    if (s.sk == 0) {
        *sk = 0; /* being released */
        return 0;
    }
    if (!kp(&c, s.sk) || c.read(c.ctx, s.sk, s.skb, S32_SOCK_SPAN) < 0 ||
        w32(s.skb, (uint32_t)o->sk.sk_socket) != s.sock || !common_fits(s.skb, (uint32_t)o->sk.daddr) ||
        !type_fits(s.sockb, s.skb, o->socket_type, (uint32_t)o->sk.sk_type, (uint32_t)o->sk.family))
        return XA_EBADDATA;
    *sk = s.sk;
    return 0;
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

/* Back along pprev links from @pprev to the bucket head: the first link
 * that is no node (whose own pprev does not lead back to it). */
static int chain_head(const struct ctx32 *c, uint32_t pprev, uint64_t sk, uint32_t *head,
                      char *why)
{
    uint32_t link = pprev;
    for (unsigned k = 0;; k++) {
        uint32_t pp, v;
        if (k >= LX_SK_CHAIN_MAX) {
            snprintf(why, LX_WHY_LEN, "hash chain of socket 0x%llx loops",
                     (unsigned long long)sk);
            return XA_ELIMIT;
        }
        if (rd32(c, link + 4, &pp) < 0 || !kp(c, pp) || rd32(c, pp, &v) < 0 || v != link)
            break; /* @link is a bucket head */
        link = pp;
    }
    *head = link;
    return 0;
}

int s32_hash_base(const struct lx_sock_layout *l, const struct s32_table *t, lx_mem_fn read,
                  void *ctx, uint64_t sk, uint64_t *base, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    if (l->nulls_node == LX_SK_NONE)
        return 0;
    const uint32_t nd = (uint32_t)l->nulls_node;
    uint32_t end = chain_end(&c, sk + nd, nd); /* from the socket's own node */
    uint32_t pprev;
    if (end == 0 || rd32(&c, sk + nd + 4, &pprev) < 0 || !kp(&c, pprev) ||
        end >> 1 < t->nulls_base || (end >> 1) - t->nulls_base >= LX_SK_BUCKETS_MAX)
        return 0; /* unhashed, or in a table of another kind */
    const uint64_t idx = (end >> 1) - t->nulls_base;
    uint32_t link;
    int rc = chain_head(&c, pprev, sk, &link, why);
    if (rc < 0)
        return rc;
    const uint64_t below = idx * t->stride + t->head_off;
    if (below > link || link - below < c.kmin)
        return 0;
    *base = link - below;
    return 1;
}

int s32_hash_count(const struct lx_sock_layout *l, const struct s32_table *t, lx_mem_fn read,
                   void *ctx, uint64_t base, uint64_t *count, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    const uint32_t nd = (uint32_t)l->nulls_node;
    /* every bucket from the base on: its chain ends in its own index */
    uint64_t nb = 0;
    while (nb < LX_SK_BUCKETS_MAX && base + (nb + 1) * t->stride <= 0x100000000ull &&
           chain_end(&c, base + nb * t->stride + t->head_off, nd) ==
               (uint32_t)(((t->nulls_base + nb) << 1) | 1))
        nb++;
    /* the table ends where a slot is no bucket of it; a chain linked to the
     * slot there is a bucket whose chain is damaged (whatever its index) */
    const uint64_t next = base + nb * t->stride + t->head_off;
    uint32_t first, back;
    bool linked = nb < LX_SK_BUCKETS_MAX && next + 4 <= 0x100000000ull &&
                  rd32(&c, next, &first) == 0 && kp(&c, first) &&
                  rd32(&c, first + 4, &back) == 0 && back == next;
    if (nb == 0 || (nb & (nb - 1)) != 0 || linked) {
        snprintf(why, LX_WHY_LEN,
                 "32-bit kernel without BTF: the hash chain in bucket %llu of the %s at 0x%llx "
                 "is damaged (a cycle or a torn list)",
                 (unsigned long long)nb, t->what, (unsigned long long)base);
        return XA_EBADDATA;
    }
    *count = nb;
    return 0;
}

int s32_ehash_base(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                   uint64_t *base, char *why)
{
    return s32_hash_base(l, &S32_EHASH, read, ctx, sk, base, why);
}

int s32_ehash_count(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                    uint64_t *count, char *why)
{
    return s32_hash_count(l, &S32_EHASH, read, ctx, base, count, why);
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

/* ---- the UDP hash ------------------------------------------------------- */

#define UDP_HSLOT 16u /* struct udp_hslot {head, count, lock}, 2 * sizeof(long) aligned */
#define UDP_LOG_MIN 4u
#define UDP_LOG_MAX 16u /* UDP_HTABLE_SIZE_MAX: 65536 slots */
#define SCAN_CHUNK 65536u

int s32_udp_slot(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                 uint64_t *slot, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    uint32_t pprev, head;
    if (l->node == LX_SK_NONE || rd32(&c, sk + l->node + 4, &pprev) < 0 || !kp(&c, pprev))
        return 0; /* not bound */
    int rc = chain_head(&c, pprev, sk, &head, why);
    if (rc < 0)
        return rc;
    *slot = head;
    return 1;
}

/* Whether the 16 bytes at @w are a udp_table {hash, hash2, mask, log}
 * whose hash array holds @slot. */
static bool udp_table_at(const struct ctx32 *c, const uint8_t *w, uint64_t slot, uint64_t *base,
                         uint64_t *count)
{
    uint32_t hash = w32(w, 0), hash2 = w32(w, 4), mask = w32(w, 8), log = w32(w, 12);
    if (log < UDP_LOG_MIN || log > UDP_LOG_MAX || mask != (1u << log) - 1 || !kp(c, hash))
        return false;
    uint64_t end = (uint64_t)hash + ((uint64_t)mask + 1) * UDP_HSLOT;
    if (end > 0xFFFFFFFFull || hash2 != end || slot < hash || slot >= end ||
        (slot - hash) % UDP_HSLOT != 0)
        return false;
    *base = hash;
    *count = (uint64_t)mask + 1;
    return true;
}

int s32_udp_table(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t lo,
                  uint64_t hi, uint64_t slot, uint64_t *base, uint64_t *count, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    uint8_t *buf = malloc(SCAN_CHUNK + 16);
    int found = 0;
    if (!buf) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    lo &= ~3ull;
    for (uint64_t at = lo; at < hi; at += SCAN_CHUNK) {
        uint64_t len = hi - at < SCAN_CHUNK ? hi - at : SCAN_CHUNK;
        /* page by page: a page that does not read is skipped */
        for (uint64_t pg = 0; pg < len + 16; pg += 4096) {
            uint64_t n = len + 16 - pg < 4096 ? len + 16 - pg : 4096;
            if (read(ctx, at + pg, buf + pg, n) < 0)
                memset(buf + pg, 0, n);
        }
        for (uint64_t off = 0; off < len; off += 4) {
            uint64_t b, n;
            if (udp_table_at(&c, buf + off, slot, &b, &n) && found++ == 0)
                *base = b, *count = n; /* a second place, even a copy, refuses */
        }
    }
    free(buf);
    if (found > 1) {
        snprintf(why, LX_WHY_LEN, "32-bit kernel without BTF: %d places hold a udp_table "
                 "around the UDP hash slot 0x%llx", found, (unsigned long long)slot);
        return XA_EBADDATA;
    }
    return found;
}

int s32_udp_check(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                  uint64_t count, char *why)
{
    const struct ctx32 c = {read, ctx, l->kptr_min};
    const uint32_t nd = (uint32_t)l->node;
    for (uint64_t i = 0; i < count; i++) {
        const uint64_t head = base + i * UDP_HSLOT;
        uint32_t w[2], link = (uint32_t)head, next, pprev, len = 0;
        bool ok = read(ctx, head, w, 8) == 0;
        for (next = w[0]; ok && next != 0 && len <= w[1]; len++) {
            ok = kp(&c, next) && next >= nd && rd32(&c, next + 4, &pprev) == 0 &&
                 pprev == link && len < LX_SK_CHAIN_MAX;
            link = next;
            ok = ok && rd32(&c, next, &next) == 0;
        }
        if (!ok || len != w[1]) {
            snprintf(why, LX_WHY_LEN,
                     "32-bit kernel without BTF: the chain in slot %llu of the UDP hash at 0x%llx "
                     "is damaged (its links, or not its count of sockets)",
                     (unsigned long long)i, (unsigned long long)base);
            return XA_EBADDATA;
        }
    }
    return 0;
}
