/*
 * synthetic_sock32.h -- a synthetic 32-bit guest for the socket layout
 * inference (os/linux/sock32.c): socket files (struct file, socket_alloc
 * with its inode, struct sock) for a TCP listener, an established TCP pair
 * hashed in a 64-bucket established hash with a kernel-only socket, a UDP
 * socket and two UNIX sockets (one bound), all in one struct net, at
 * offsets that are not Debian's. Shared by tests/unit/test_sock32.c and
 * tests/fuzz/fuzz_sock32.c.
 */
#ifndef XA_TEST_SYNTHETIC_SOCK32_H
#define XA_TEST_SYNTHETIC_SOCK32_H

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "os/linux/sock32.h"

#define SS_BASE 0xC1000000u
#define SS_PAGE_OFFSET 0xC0000000u
#define SS_ARENA (1u << 20)
#define SS_BUCKETS 64u
#define SS_INUM 0xF0000123u
#define SS_LBUCKETS 32u /* lhash2: {lock, nulls_head} */
#define SS_USLOTS 16u   /* udp_table.hash: {head, count, lock, pad} */

/* The synthetic kernel's offsets (not Debian's: nothing is assumed). */
enum {
    F_PRIVATE = 0x94,                                          /* struct file */
    SO_TYPE = 4, SO_FILE = 0x10, SO_SK = 0x14, SO_INODE = 0xa0, /* socket_alloc */
    I_MODE = 0, I_INO = 0x2c,                                  /* inode */
    SK_B = 4, SK_NET = 0x2c, SK_NODE = 0x5c,                   /* sock_common */
    SK_TYPE = 0x17a, SK_SOCKET = 0x1e0, SK_UNIX_ADDR = 0x22c,  /* sock, unix_sock */
    NET_INUM = 0x60,                                           /* struct net: ops before */
};

#define SS_FILES 16u /* 8 at least: one damaged is 15/16, past 7/8 */
static struct arena A;
static uint32_t ss_file[SS_FILES], ss_inode[SS_FILES], ss_sock[SS_FILES], ss_sk[SS_FILES];
static uint32_t ss_orphan, ss_ehash, ss_net, ss_lhash, ss_lorphan;
static uint32_t ss_udp_table, ss_uhash, ss_uorphan;
static struct s32_file ss_files[SS_FILES];

static uint32_t ss_get32(uint32_t va)
{
    uint32_t v;
    memcpy(&v, arena_at(&A, va, 4), 4);
    return v;
}

static void ss_sockaddr(uint32_t sk, uint32_t daddr, uint32_t saddr, uint16_t dport_be,
                        uint16_t num)
{
    arena_put32(&A, sk + SK_B, daddr);
    arena_put32(&A, sk + SK_B + 4, saddr);
    arena_put16(&A, sk + SK_B + 12, dport_be);
    arena_put16(&A, sk + SK_B + 14, num);
}

static uint32_t ss_sock_alloc(uint16_t family, uint8_t state, uint16_t type, uint16_t proto)
{
    uint32_t sk = (uint32_t)arena_alloc(&A, 0x300);
    arena_put16(&A, sk + SK_B + 16, family);
    arena_put8(&A, sk + SK_B + 18, state);
    arena_put32(&A, sk + SK_NET, ss_net);
    arena_put16(&A, sk + SK_TYPE, type);
    arena_put16(&A, sk + SK_TYPE + 2, proto);
    return sk;
}

/* Link @sk's nulls node first in ehash bucket @b. */
static void ss_hash(uint32_t sk, unsigned b)
{
    uint32_t head = ss_ehash + 4 * b, first = ss_get32(head), node = sk + SK_NODE;
    arena_put32(&A, node, first);
    arena_put32(&A, node + 4, head);
    if (!(first & 1))
        arena_put32(&A, first + 4, node);
    arena_put32(&A, head, node);
}

/* Link listener @sk's nulls node first in lhash2 bucket @b. */
static void ss_listen(uint32_t sk, unsigned b)
{
    uint32_t head = ss_lhash + 8 * b + 4, first = ss_get32(head), node = sk + SK_NODE;
    arena_put32(&A, node, first);
    arena_put32(&A, node + 4, head);
    if (!(first & 1))
        arena_put32(&A, first + 4, node);
    arena_put32(&A, head, node);
}

/* Link UDP socket @sk's node first in udp hash slot @b, counting it. */
static void ss_udp(uint32_t sk, unsigned b)
{
    uint32_t head = ss_uhash + 16 * b, first = ss_get32(head), node = sk + SK_NODE;
    arena_put32(&A, node, first);
    arena_put32(&A, node + 4, head);
    if (first)
        arena_put32(&A, first + 4, node);
    arena_put32(&A, head, node);
    arena_put32(&A, head + 4, ss_get32(head + 4) + 1);
}

static void ss_build(void)
{
    arena_init(&A, SS_BASE, SS_ARENA, 64);
    ss_net = (uint32_t)arena_alloc(&A, 0x100);
    arena_put32(&A, ss_net + NET_INUM - 4, SS_BASE + 0x80000); /* ns.ops */
    arena_put32(&A, ss_net + NET_INUM, SS_INUM);
    ss_ehash = (uint32_t)arena_alloc(&A, 4 * SS_BUCKETS);
    for (unsigned b = 0; b < SS_BUCKETS; b++)
        arena_put32(&A, ss_ehash + 4 * b, b << 1 | 1);
    /* the first 6 as named; the rest unhashed listeners, UDP and UNIX */
    static const struct { uint16_t fam, type, proto; uint8_t state; } kinds[10] = {
        {2, 1, 6, 10}, {2, 1, 6, 1}, {2, 1, 6, 1}, {2, 2, 17, 7}, {1, 1, 0, 10}, {1, 2, 0, 7},
        {2, 1, 6, 10}, {2, 2, 17, 7}, {1, 1, 0, 10}, {1, 2, 0, 7},
    };
    for (unsigned j = 0; j < SS_FILES; j++) {
        const unsigned i = j, k = j < 6 ? j : 6 + (j - 6) % 4;
        ss_file[i] = (uint32_t)arena_alloc(&A, 0x100);
        ss_sock[i] = (uint32_t)arena_alloc(&A, 0x200);
        ss_inode[i] = ss_sock[i] + SO_INODE;
        ss_sk[i] = ss_sock_alloc(kinds[k].fam, kinds[k].state, kinds[k].type, kinds[k].proto);
        arena_put32(&A, ss_file[i] + F_PRIVATE, ss_sock[i]);
        arena_put32(&A, ss_sock[i], 1); /* SS_UNCONNECTED */
        arena_put16(&A, ss_sock[i] + SO_TYPE, kinds[k].type);
        arena_put32(&A, ss_sock[i] + SO_FILE, ss_file[i]);
        arena_put32(&A, ss_sock[i] + SO_SK, ss_sk[i]);
        arena_put16(&A, ss_inode[i] + I_MODE, 0140777);
        arena_put32(&A, ss_inode[i] + I_INO, 5000 + i);
        arena_put32(&A, ss_sk[i] + SK_SOCKET, ss_sock[i]);
        ss_files[i] = (struct s32_file){ss_file[i], ss_inode[i]};
    }
    const uint32_t lo = 0x0100007f;
    ss_sockaddr(ss_sk[0], 0, lo, 0, 7001);
    ss_sockaddr(ss_sk[1], lo, lo, 0x591b /* 7001 */, 40000);
    ss_sockaddr(ss_sk[2], lo, lo, 0x409c /* 40000 */, 7001);
    ss_sockaddr(ss_sk[3], 0, lo, 0, 7004);
    ss_hash(ss_sk[1], 5);
    ss_hash(ss_sk[2], 9);
    ss_orphan = ss_sock_alloc(2, 1, 1, 6); /* only the kernel holds it */
    ss_sockaddr(ss_orphan, lo, lo, 0x5a1b, 40001);
    ss_hash(ss_orphan, 5);
    /* the listening hash: the held listener and one no fd holds */
    ss_lhash = (uint32_t)arena_alloc(&A, 8 * SS_LBUCKETS);
    for (unsigned b = 0; b < SS_LBUCKETS; b++)
        arena_put32(&A, ss_lhash + 8 * b + 4, ((1u << 29) + b) << 1 | 1);
    ss_listen(ss_sk[0], 3);
    ss_lorphan = ss_sock_alloc(2, 10, 1, 6);
    ss_sockaddr(ss_lorphan, 0, 0, 0, 7009);
    ss_listen(ss_lorphan, 3);
    /* udp_table {hash, hash2, mask, log}, hash2 right after hash: the held
     * bound UDP socket and one no fd holds */
    ss_udp_table = (uint32_t)arena_alloc(&A, 16);
    ss_uhash = (uint32_t)arena_alloc(&A, 2 * 16 * SS_USLOTS);
    arena_put32(&A, ss_udp_table, ss_uhash);
    arena_put32(&A, ss_udp_table + 4, ss_uhash + 16 * SS_USLOTS);
    arena_put32(&A, ss_udp_table + 8, SS_USLOTS - 1);
    arena_put32(&A, ss_udp_table + 12, 4);
    ss_udp(ss_sk[3], 5);
    ss_uorphan = ss_sock_alloc(2, 7, 2, 17);
    ss_sockaddr(ss_uorphan, 0, 0x0100007f, 0, 7008);
    ss_udp(ss_uorphan, 5);
    /* the bound UNIX socket: unix_address {refcnt, len, sun_family, path} */
    uint32_t ua = (uint32_t)arena_alloc(&A, 64);
    arena_put32(&A, ua + 4, 2 + 6 + 1); /* the path, its NUL */
    arena_put16(&A, ua + 8, 1);
    arena_put(&A, ua + 10, "/tmp/x", 7);
    arena_put32(&A, ss_sk[4] + SK_UNIX_ADDR, ua);
}

#endif /* XA_TEST_SYNTHETIC_SOCK32_H */
