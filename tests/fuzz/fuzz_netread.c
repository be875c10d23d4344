/*
 * fuzz_netread.c -- the printk ring reader and the socket readers
 * (os/linux/netread.h) over a fuzzed kernel-address arena.
 *
 * Input: a 9-byte header, then the arena (at most 64 KiB, mapped at BASE;
 * reads outside it fail):
 *   u8 mode (0 ring, 1 chain, 2 one socket, 3 a bucket table; mode 0 with
 *   bit 7 set: a 32-bit kernel's ring searched by its shape, kmsg32.c, in
 *   the arena mapped at BASE32)
 *   u16 where (arena offset of the ring, chain head, sock or table)
 *   u16 extra (mode 3: the head's offset in a bucket)
 *   u16 count (mode 3: buckets), u8 stride (mode 3), u8 kind (mode 1: bit
 *   0 nulls; mode 2: the table it came from, or none)
 * Layouts as tests/unit/test_netread.c.
 *
 * Oracles beyond the sanitizers: documented result codes only, each error
 * with a one-line reason; a record is the seq asked for, its level within
 * 3 bits, its text within its length and NUL-terminated; a chain never
 * calls back more than LX_SK_CHAIN_MAX times; a decoded socket's strings
 * are terminated within their arrays.
 */
#include "fuzz_common.h"

#include "arena.h"

#include "os/linux/netread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define BASE32 0xC1000000ULL
#define ARENA_MAX (64u << 10)
#define HEADER 9 /* the fields below, 1+2+2+2+1+1 bytes */
#define RECORDS_MAX 2048u /* records read per input: time, not coverage */

static void fail(const char *what)
{
    fprintf(stderr, "oracle: %s\n", what);
    abort();
}

static void check_why(int rc, const char *why)
{
    if (rc != XA_EFAULT && rc != XA_EBADDATA && rc != XA_ELIMIT)
        fail("unexpected error code");
    if (!why[0] || strchr(why, '\n'))
        fail("error without a one-line reason");
}

static const struct lx_prb_layout PL = {
    .word = 8, .kptr_min = 0xff00000000000000ULL,
    .desc_ring = 0, .text_ring = 0x40,
    .count_bits = 0, .descs = 8, .infos = 0x10, .head_id = 0x18, .tail_id = 0x20,
    .size_bits = 0, .data = 8,
    .desc_size = 24, .state_var = 0, .text_begin = 8, .text_next = 16,
    .info_size = 0x58, .seq = 0, .ts_nsec = 8, .text_len = 0x10, .facility = 0x12,
    .level_byte = 0x13, .level_shift = 5, .caller_id = 0x14,
};

#define NODE 0x10
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

static unsigned long calls;

static int count_sock(void *arg, uint64_t sk)
{
    (void)arg;
    (void)sk;
    if (++calls > LX_SK_CHAIN_MAX * 4u)
        fail("a walk went on past its caps");
    return 0;
}

static void fuzz_ring(const struct lx_prb_layout *pl, struct arena *a, uint64_t rb)
{
    char why[LX_WHY_LEN];
    struct lx_prb p;
    int rc = lx_prb_open(pl, arena_read, a, rb, &p, why);
    if (rc < 0) {
        check_why(rc, why);
        return;
    }
    if (p.end_seq <= p.first_seq || p.end_seq - p.first_seq > (1ULL << p.count_bits))
        fail("ring bounds beyond its descriptors");
    static struct xa_kmsg m;
    for (uint64_t s = p.first_seq; s < p.end_seq && s - p.first_seq < RECORDS_MAX; s++) {
        memset(m.text, 0x7f, sizeof(m.text));
        rc = lx_prb_record(pl, arena_read, a, &p, s, &m, why);
        if (rc < 0) {
            check_why(rc, why);
            return;
        }
        if (rc == 1 && (m.seq != s || m.level > 7 || m.text_len > XA_KMSG_TEXT_MAX ||
                        m.text[m.text_len] != '\0'))
            fail("a record out of its bounds");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size < HEADER ? size : HEADER};
    unsigned raw_mode = (unsigned)fz_take(&r, 1), mode = raw_mode % 4;
    uint64_t where = BASE + fz_take(&r, 2), extra = fz_take(&r, 2), count = fz_take(&r, 2);
    unsigned stride = (unsigned)fz_take(&r, 1), kind = (unsigned)fz_take(&r, 1);
    struct arena a = arena_of_input(data, size, HEADER, ARENA_MAX, BASE);
    char why[LX_WHY_LEN] = "";
    calls = 0;
    int rc = 0;
    switch (mode) {
    case 0:
        if (raw_mode & 0x80) {
            struct lx_prb_layout l;
            uint64_t rb;
            a.base = BASE32;
            rc = lx_prb32_find(arena_read, &a, BASE32, BASE32 + a.len, 0xC0000000ULL, &l, &rb, why);
            if (rc == XA_ENOENT)
                return 0;
            if (rc < 0)
                fail("a search error other than none found");
            if (l.word != 4 || rb < BASE32 || rb >= BASE32 + a.len)
                fail("a ring outside the searched range");
            fuzz_ring(&l, &a, rb);
            return 0;
        }
        fuzz_ring(&PL, &a, where);
        return 0;
    case 1:
        rc = lx_sock_chain(&SL, arena_read, &a, where, kind & 1, NODE, count_sock, NULL, why);
        break;
    case 2: {
        static const char *const tables[] = {NULL, "tcp", "udp", "raw", "unix", "packet"};
        struct xa_socket s;
        memset(&s, 0x7f, sizeof(s));
        rc = lx_sock_decode(&SL, arena_read, &a, where, tables[kind % 6], &s, why);
        if (rc == 0 && (!memchr(s.local, 0, sizeof(s.local)) ||
                        !memchr(s.remote, 0, sizeof(s.remote)) ||
                        !memchr(s.proto, 0, sizeof(s.proto)) || !s.state_name))
            fail("a socket's strings unterminated");
        break;
    }
    default:
        rc = lx_sock_buckets(&SL, arena_read, &a, where, count, stride, stride ? extra % stride : 0,
                             kind & 1, NODE, count_sock, NULL, why);
        break;
    }
    if (rc < 0)
        check_why(rc, why);
    else if (rc > 0)
        fail("a positive code from a walk whose callback never stops it");
    return 0;
}
