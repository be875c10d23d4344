/*
 * test_netread.c -- the printk ring reader and the socket readers
 * (os/linux/netread.h) on synthetic memory: a flat kernel-address arena.
 *
 * Ring: records across a wrap of the data ring, a reusable descriptor (a
 * gap), then hostile headers (descriptor counts out of range, tail and head
 * that disagree, unreadable arrays) and hostile records (positions outside
 * the ring, a block owned by another descriptor, a text length beyond its
 * block). Sockets: chains in order, a cycle, a chain past its cap, a bad
 * link, tables with no or too many buckets, UNIX names (path, abstract
 * with NULs, too long), addresses, TIME_WAIT socks.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "os/linux/netread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define ARENA (4u << 20)

static struct arena A;

/* ---- printk ring ------------------------------------------------------- */

static const struct lx_prb_layout PL = {
    .word = 8, .kptr_min = 0xff00000000000000ULL,
    .desc_ring = 0, .text_ring = 0x40,
    .count_bits = 0, .descs = 8, .infos = 0x10, .head_id = 0x18, .tail_id = 0x20,
    .size_bits = 0, .data = 8,
    .desc_size = 24, .state_var = 0, .text_begin = 8, .text_next = 16,
    .info_size = 0x58, .seq = 0, .ts_nsec = 8, .text_len = 0x10, .facility = 0x12,
    .level_byte = 0x13, .level_shift = 5, .caller_id = 0x14,
};

#define CBITS 3u
#define SBITS 8u
#define ID_BASE 800u /* ids are congruent to seqs modulo the count */
#define FINALIZED (2ULL << 62)
#define REUSABLE (3ULL << 62)

struct ring {
    uint64_t rb, descs, infos, data, lpos;
    int wrapped; /* blocks stored from the ring's start */
};

static void ring_init(struct ring *r)
{
    r->rb = arena_alloc(&A, 0x80);
    r->descs = arena_alloc(&A, 24u << CBITS);
    r->infos = arena_alloc(&A, 0x58u << CBITS);
    r->data = arena_alloc(&A, 1u << SBITS);
    arena_put32(&A, r->rb + PL.desc_ring + PL.count_bits, CBITS);
    arena_put64(&A, r->rb + PL.desc_ring + PL.descs, r->descs);
    arena_put64(&A, r->rb + PL.desc_ring + PL.infos, r->infos);
    arena_put32(&A, r->rb + PL.text_ring + PL.size_bits, SBITS);
    arena_put64(&A, r->rb + PL.text_ring + PL.data, r->data);
}

/* As the kernel's data_alloc: a block that would cross the ring's end goes
 * to its start, its begin staying in the previous wrap. */
static void ring_write(struct ring *r, uint64_t seq, const char *text, unsigned level)
{
    const uint64_t size = 1u << SBITS, len = strlen(text), blk = (8 + len + 7) & ~7ULL;
    uint64_t begin = r->lpos, next = begin + blk, at = begin % size;
    if (begin / size != (next - 1) / size) {
        next = (begin / size + 1) * size + blk;
        at = 0;
        r->wrapped++;
    }
    r->lpos = next;
    const uint64_t idx = seq & ((1u << CBITS) - 1), id = seq + ID_BASE;
    const uint64_t d = r->descs + idx * 24, i = r->infos + idx * 0x58;
    arena_put64(&A, r->data + at, id);
    arena_put(&A, r->data + at + 8, text, len);
    arena_put64(&A, d, FINALIZED | id);
    arena_put64(&A, d + 8, begin);
    arena_put64(&A, d + 16, next);
    arena_put64(&A, i + PL.seq, seq);
    arena_put64(&A, i + PL.ts_nsec, 1000000ULL * seq + 7);
    arena_put16(&A, i + PL.text_len, (uint16_t)len);
    arena_put8(&A, i + PL.facility, seq == 9 ? 1 : 0);
    arena_put8(&A, i + PL.level_byte, (uint8_t)(level << 5 | 0x3));
    arena_put32(&A, i + PL.caller_id, 0x80000000u | (uint32_t)seq);
    arena_put64(&A, r->rb + PL.desc_ring + PL.head_id, id);
}

static void test_ring(void)
{
    struct ring r = {0};
    char why[LX_WHY_LEN], text[32];
    ring_init(&r);
    for (uint64_t s = 0; s < 12; s++) {
        snprintf(text, sizeof(text), "record number %02llu", (unsigned long long)s);
        ring_write(&r, s, text, (unsigned)(s % 8));
    }
    CHECK(r.wrapped >= 1, "the data ring wrapped");
    arena_put64(&A, r.rb + PL.desc_ring + PL.tail_id, 4 + ID_BASE);
    arena_put64(&A, r.descs + (6 & 7) * 24, REUSABLE | (6 + ID_BASE)); /* seq 6: overwritten */

    struct lx_prb rb;
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), 0);
    CHECK_EQ(rb.first_seq, 4);
    CHECK_EQ(rb.end_seq, 12);
    static struct xa_kmsg m;
    for (uint64_t s = 4; s < 12; s++) {
        int rc = lx_prb_record(&PL, arena_read, &A, &rb, s, &m, why);
        if (s == 6) {
            CHECK_EQ(rc, 0);
            continue;
        }
        CHECK_EQ(rc, 1);
        snprintf(text, sizeof(text), "record number %02llu", (unsigned long long)s);
        CHECK(strcmp(m.text, text) == 0, m.text);
        CHECK_EQ(m.text_len, strlen(text));
        CHECK_EQ(m.seq, s);
        CHECK_EQ(m.ts_ns, 1000000ULL * s + 7);
        CHECK_EQ(m.level, s % 8);
        CHECK_EQ(m.facility, s == 9 ? 1 : 0);
        CHECK_EQ(m.flags, 0);
    }
    /* a seq whose slot now holds another record */
    CHECK_EQ(lx_prb_record(&PL, arena_read, &A, &rb, 3, &m, why), 0);

    /* hostile records: positions outside the ring, a block of another
     * descriptor, a text longer than its block */
    const uint64_t d5 = r.descs + 5 * 24, i7 = r.infos + 7 * 0x58, d8 = r.descs + 0 * 24;
    uint64_t saved = arena_get64(&A, d5 + 16);
    arena_put64(&A, d5 + 16, saved + (1u << SBITS) * 5);
    CHECK_EQ(lx_prb_record(&PL, arena_read, &A, &rb, 5, &m, why), 0);
    arena_put64(&A, d5 + 16, saved);
    arena_put64(&A, d8, FINALIZED | (8 + ID_BASE + 8)); /* the block still says 808 */
    CHECK_EQ(lx_prb_record(&PL, arena_read, &A, &rb, 8, &m, why), 0);
    arena_put64(&A, d8, FINALIZED | (8 + ID_BASE));
    arena_put16(&A, i7 + PL.text_len, 4000);
    CHECK_EQ(lx_prb_record(&PL, arena_read, &A, &rb, 7, &m, why), 1);
    CHECK(m.flags & XA_KMSG_TRUNCATED);
    CHECK(m.text_len <= 24 - 8 && strncmp(m.text, "record number 07", m.text_len) == 0);

    /* hostile headers */
    arena_put32(&A, r.rb + PL.desc_ring + PL.count_bits, 40);
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
    arena_put32(&A, r.rb + PL.desc_ring + PL.count_bits, 0);
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
    arena_put32(&A, r.rb + PL.desc_ring + PL.count_bits, CBITS);
    arena_put32(&A, r.rb + PL.text_ring + PL.size_bits, 63);
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
    arena_put32(&A, r.rb + PL.text_ring + PL.size_bits, SBITS);
    arena_put64(&A, r.rb + PL.desc_ring + PL.tail_id, 11 + ID_BASE); /* the tail after the head */
    arena_put64(&A, r.rb + PL.desc_ring + PL.head_id, 4 + ID_BASE);
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
    CHECK(strstr(why, "disagree") != NULL, why);
    arena_put64(&A, r.rb + PL.desc_ring + PL.tail_id, 4 + ID_BASE);
    arena_put64(&A, r.rb + PL.desc_ring + PL.head_id, 11 + ID_BASE);
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), 0);
    arena_put64(&A, r.infos + 3 * 0x58, 1ULL << 40); /* seqs further apart than the ring holds */
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
    arena_put64(&A, r.rb + PL.desc_ring + PL.infos, BASE + ARENA + 4096); /* outside memory */
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EFAULT);
    arena_put64(&A, r.rb + PL.desc_ring + PL.infos, 0x1000); /* a user address */
    CHECK_EQ(lx_prb_open(&PL, arena_read, &A, r.rb, &rb, why), XA_EBADDATA);
}

/* ---- a 32-bit kernel's ring, found by its shape (kmsg32.c) --------------- */

#define BASE32 0xC1000000ULL
#define CBITS32 4u /* below the search's floor of 5: the too-small decoy */

/* A ring in the i386 layout of 6.1 (text ring at +24) at @rb: 2^cbits
 * descriptors, records 0..n-1, each "r32 <seq> <tag>". */
static void ring32(struct arena *a, uint64_t rb, unsigned cbits, unsigned n, char tag,
                   unsigned text_ring)
{
    const unsigned sbits = cbits + 5, count = 1u << cbits;
    const uint64_t descs = arena_alloc(a, 12u * count), infos = arena_alloc(a, 88u * count);
    const uint64_t data = arena_alloc(a, 1u << sbits);
    arena_put32(a, rb, cbits);
    arena_put32(a, rb + 4, (uint32_t)descs);
    arena_put32(a, rb + 8, (uint32_t)infos);
    arena_put32(a, rb + text_ring, sbits);
    arena_put32(a, rb + text_ring + 4, (uint32_t)data);
    uint32_t lpos = 0;
    for (unsigned s = 0; s < n; s++) {
        char text[32];
        int len = snprintf(text, sizeof(text), "r32 %u %c", s, tag);
        const uint32_t blk = (4u + (uint32_t)len + 3u) & ~3u, id = s + 0x100;
        const uint64_t d = descs + (s % count) * 12, i = infos + (s % count) * 88;
        arena_put32(a, data + lpos, id);
        arena_put(a, data + lpos + 4, text, (size_t)len);
        arena_put32(a, d, (2u << 30) | id); /* finalized */
        arena_put32(a, d + 4, lpos);
        arena_put32(a, d + 8, lpos + blk);
        arena_put64(a, i, s);
        arena_put64(a, i + 8, 1000ULL * s);
        arena_put16(a, i + 16, (uint16_t)len);
        arena_put8(a, i + 19, 6u << 5);
        lpos += blk;
    }
    arena_put32(a, rb + 12, n - 1 + 0x100); /* head */
    arena_put32(a, rb + 16, 0x100);         /* tail */
}

static void test_ring32(void)
{
    struct arena a;
    char why[LX_WHY_LEN];
    struct lx_prb_layout l;
    uint64_t rb;
    arena_init(&a, BASE32, 1u << 20, 16);
    const uint64_t lo = BASE32, hi = BASE32 + (1u << 20), kmin = 0xC0000000ULL;
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), XA_ENOENT);
    CHECK(strstr(why, "no printk ring") != NULL, why);

    /* the static ring, then the dynamic copy that took over with more records */
    const uint64_t stat = arena_alloc(&a, 64), dyn = arena_alloc(&a, 64);
    ring32(&a, stat, 5, 20, 's', 24);
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), 0);
    CHECK_EQ(rb, stat);
    CHECK_EQ(l.word, 4);
    CHECK_EQ(l.text_ring, 24);
    ring32(&a, dyn, 6, 40, 'd', 20); /* a kernel before 5.19: the text ring at +20 */
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), 0);
    CHECK_EQ(rb, dyn);
    CHECK_EQ(l.text_ring, 20);
    struct lx_prb r;
    static struct xa_kmsg m;
    CHECK_EQ(lx_prb_open(&l, arena_read, &a, rb, &r, why), 0);
    CHECK_EQ(r.first_seq, 0);
    CHECK_EQ(r.end_seq, 40);
    CHECK_EQ(lx_prb_record(&l, arena_read, &a, &r, 39, &m, why), 1);
    CHECK(strcmp(m.text, "r32 39 d") == 0, m.text);
    CHECK_EQ(m.level, 6);
    CHECK_EQ(m.ts_ns, 39000);

    /* shapes that are not a ring: the text ring's size not count_bits + 5,
     * records whose info seqs are not in place, too small a ring */
    arena_put32(&a, dyn + 20, 6 + 4);
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), 0);
    CHECK_EQ(rb, stat);
    arena_put32(&a, dyn + 20, 6 + 5);
    const uint64_t dyn_infos = arena_get64(&a, dyn + 8) & 0xffffffffu;
    for (unsigned i = 0; i < 40; i++)
        arena_put64(&a, dyn_infos + i * 88, 1000 + i);
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), 0);
    CHECK_EQ(rb, stat);
    arena_put32(&a, stat, CBITS32);
    CHECK_EQ(lx_prb32_find(arena_read, &a, lo, hi, kmin, &l, &rb, why), XA_ENOENT);
    CHECK(strstr(why, "candidates") != NULL, why); /* the dynamic one was tried and refused */
    arena_free(&a);
}

/* ---- sockets ------------------------------------------------------------ */

#define NODE 0x10 /* skc_node / skc_nulls_node in our sock */
static const struct lx_sock_layout SL = {
    .daddr = 0, .rcv_saddr = 4, .dport = 8, .num = 10, .family = 12, .state = 14,
    .nulls_node = NODE, .node = NODE, .v6_daddr = 0x20, .v6_rcv_saddr = 0x30,
    .sk_socket = 0x40, .sk_type = 0x48, .sk_protocol = 0x4a, .ack_backlog = 0x4c,
    .max_ack_backlog = 0x50, .rmem_alloc = 0x54, .wmem_alloc = 0x58,
    .socket_alloc_inode = 0x40, .inode_ino = 0x8, .inode_uid = 0x10, .socket_state = 0,
    .rcv_nxt = 0x60, .copied_seq = 0x64, .write_seq = 0x68, .snd_una = 0x6c,
    .udp_forward_deficit = LX_SK_NONE, .unix_addr = 0x70, .unix_addr_len = 4,
    .unix_addr_name = 8, .packet_num = 0x78, .packet_ifindex = 0x7c,
};

struct seen {
    uint64_t sk[8];
    int n;
};

static int collect(void *arg, uint64_t sk)
{
    struct seen *s = arg;
    if (s->n < 8)
        s->sk[s->n] = sk;
    s->n++;
    return 0;
}

/* A chain head followed by @n socks linked in order; returns the head. */
static uint64_t chain(uint64_t *socks, int n, bool nulls)
{
    uint64_t head = arena_alloc(&A, 8), link = head;
    for (int i = 0; i < n; i++) {
        socks[i] = arena_alloc(&A, 0x100);
        arena_put64(&A, link, socks[i] + NODE);      /* *pprev = node */
        arena_put64(&A, socks[i] + NODE + 8, link);  /* node.pprev */
        link = socks[i] + NODE;
    }
    arena_put64(&A, link, nulls ? 0x2b : 0); /* a nulls end is odd */
    return head;
}

static void test_chains(void)
{
    char why[LX_WHY_LEN];
    uint64_t socks[3];
    struct seen s = {0};
    uint64_t head = chain(socks, 3, true);
    CHECK_EQ(lx_sock_chain(&SL, arena_read, &A, head, true, NODE, collect, &s, why), 0);
    CHECK(s.n == 3 && s.sk[0] == socks[0] && s.sk[2] == socks[2]);

    /* a cycle: the last node leads back to the first */
    arena_put64(&A, socks[2] + NODE, socks[0] + NODE);
    s.n = 0;
    CHECK_EQ(lx_sock_chain(&SL, arena_read, &A, head, true, NODE, collect, &s, why), XA_ELIMIT);
    CHECK_EQ(s.n, 3); /* each socket once, then the error */
    /* ... even when the first node's back link is forged to match */
    arena_put64(&A, socks[0] + NODE + 8, socks[2] + NODE);
    CHECK_EQ(lx_sock_chain(&SL, arena_read, &A, head, true, NODE, collect, &s, why), XA_ELIMIT);

    /* a bad link */
    head = chain(socks, 2, false);
    arena_put64(&A, socks[1] + NODE, 0x7fff00001000ULL);
    CHECK_EQ(lx_sock_chain(&SL, arena_read, &A, head, false, NODE, collect, &s, why), XA_EBADDATA);

    /* a consistent chain longer than the cap */
    const unsigned n = LX_SK_CHAIN_MAX + 2;
    uint64_t base = arena_alloc(&A, (size_t)n * 16 + 16), link = base;
    for (unsigned i = 0; i < n; i++) {
        uint64_t node = base + 16 + (uint64_t)i * 16;
        arena_put64(&A, link, node);
        arena_put64(&A, node + 8, link);
        link = node;
    }
    arena_put64(&A, link, 0);
    s.n = 0;
    CHECK_EQ(lx_sock_chain(&SL, arena_read, &A, base, false, 0, collect, &s, why), XA_ELIMIT);
    CHECK_EQ(s.n, LX_SK_CHAIN_MAX);

    /* tables: none, too many or unreadable buckets */
    CHECK_EQ(lx_sock_buckets(&SL, arena_read, &A, BASE, 0, 8, 0, true, NODE, collect, &s, why),
             XA_EBADDATA);
    CHECK_EQ(lx_sock_buckets(&SL, arena_read, &A, BASE, 1ULL << 40, 8, 0, true, NODE, collect, &s,
                             why),
             XA_EBADDATA);
    CHECK_EQ(lx_sock_buckets(&SL, arena_read, &A, BASE, 16, 4, 0, true, NODE, collect, &s, why),
             XA_EBADDATA);
    CHECK_EQ(lx_sock_buckets(&SL, arena_read, &A, BASE + ARENA - 64, 1024, 8, 0, true, NODE, collect,
                             &s, why),
             XA_EFAULT);
    /* a table of nulls heads: empty ones skipped, chains walked */
    uint64_t table = arena_alloc(&A, 8 * 600);
    for (int i = 0; i < 600; i++)
        arena_put64(&A, table + 8 * (uint64_t)i, 1 | ((uint64_t)i << 1));
    uint64_t one[3];
    uint64_t h = chain(one, 2, true);
    arena_put64(&A, table + 8 * 517, one[0] + NODE);
    arena_put64(&A, one[0] + NODE + 8, table + 8 * 517);
    (void)h;
    s.n = 0;
    CHECK_EQ(lx_sock_buckets(&SL, arena_read, &A, table, 600, 8, 0, true, NODE, collect, &s, why), 0);
    CHECK(s.n == 2 && s.sk[0] == one[0] && s.sk[1] == one[1]);
}

static uint64_t sock(uint16_t family, uint8_t state, uint16_t type, uint16_t proto)
{
    uint64_t sk = arena_alloc(&A, 0x100);
    arena_put16(&A, sk + SL.family, family);
    arena_put8(&A, sk + SL.state, state);
    arena_put16(&A, sk + SL.sk_type, type);
    arena_put16(&A, sk + SL.sk_protocol, proto);
    return sk;
}

static void test_decode(void)
{
    char why[LX_WHY_LEN];
    struct xa_socket out;
    /* tcp6 established, [::1]:7003 -> [::1]:40000, owned by inode 4242 */
    uint64_t sk = sock(10, 1, 1, 6), sa = arena_alloc(&A, 0x100);
    uint8_t lo6[16] = {0};
    lo6[15] = 1;
    arena_put(&A, sk + SL.v6_rcv_saddr, lo6, 16);
    arena_put(&A, sk + SL.v6_daddr, lo6, 16);
    arena_put16(&A, sk + SL.num, 7003);
    arena_put16(&A, sk + SL.dport, htons(40000));
    arena_put64(&A, sk + SL.sk_socket, sa);
    arena_put64(&A, sa + SL.socket_alloc_inode + SL.inode_ino, 4242);
    arena_put32(&A, sk + SL.rcv_nxt, 110);
    arena_put32(&A, sk + SL.copied_seq, 100);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "tcp", &out, why), 0);
    CHECK(strcmp(out.proto, "tcp6") == 0 && strcmp(out.state_name, "ESTABLISHED") == 0);
    CHECK(strcmp(out.local, "[::1]:7003") == 0, out.local);
    CHECK(strcmp(out.remote, "[::1]:40000") == 0, out.remote);
    CHECK_EQ(out.inode, 4242);
    CHECK_EQ(out.rx_queue, 10);
    /* TIME_WAIT: only sock_common; a garbage sk_socket is not followed */
    sk = sock(2, 6, 0, 0);
    arena_put64(&A, sk + SL.sk_socket, 0xdead);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "tcp", &out, why), 0);
    CHECK(strcmp(out.state_name, "TIME_WAIT") == 0 && out.inode == 0);
    /* a bad struct socket pointer in a full sock */
    sk = sock(2, 1, 1, 6);
    arena_put64(&A, sk + SL.sk_socket, 0x1000);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "tcp", &out, why), XA_EBADDATA);
    /* UNIX: a path (its NUL counted), an abstract name with NULs, too long */
    sk = sock(1, 10, 1, 0);
    uint64_t ua = arena_alloc(&A, 0x100);
    arena_put64(&A, sk + SL.unix_addr, ua);
    arena_put32(&A, ua + SL.unix_addr_len, 2 + 7);
    arena_put(&A, ua + SL.unix_addr_name + 2, "/tmp/x", 7);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "unix", &out, why), 0);
    CHECK(strcmp(out.local, "/tmp/x") == 0 && strcmp(out.state_name, "LISTEN") == 0, out.local);
    arena_put32(&A, ua + SL.unix_addr_len, 2 + 6);
    arena_put(&A, ua + SL.unix_addr_name + 2, "\0ab\0c\n", 6);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, NULL, &out, why), 0);
    CHECK(strcmp(out.proto, "unix") == 0 && strcmp(out.local, "@ab@c\n") == 0, out.local);
    arena_put32(&A, ua + SL.unix_addr_len, 2 + 200);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "unix", &out, why), XA_EBADDATA);
    arena_put32(&A, ua + SL.unix_addr_len, (uint32_t)-5);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, "unix", &out, why), XA_EBADDATA);
    /* a socket only an fd holds: its kind from family, type, protocol */
    sk = sock(2, 7, 2, 17);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, NULL, &out, why), 0);
    CHECK(strcmp(out.proto, "udp") == 0);
    sk = sock(16, 7, 3, 0);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, sk, NULL, &out, why), 0);
    CHECK(strcmp(out.proto, "af16") == 0, out.proto);
    CHECK_EQ(lx_sock_decode(&SL, arena_read, &A, 0x1234, "tcp", &out, why), XA_EFAULT);
}

int main(void)
{
    arena_init(&A, BASE, ARENA, 16);
    test_ring();
    test_ring32();
    test_chains();
    test_decode();
    arena_free(&A);
    CHECK_DONE();
}
