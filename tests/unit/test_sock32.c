/*
 * test_sock32.c -- the 32-bit socket layout inference (os/linux/sock32.c)
 * and sockread.c's 4-byte reads over synthetic 32-bit structures
 * (synthetic_sock32.h): the layout is found exactly, sockets decode as
 * /proc shows them, the established hash is found from one of its sockets
 * and walked to its kernel-only socket; a second back-pointer to every
 * struct socket, or too few sockets, is refused in one line; a chain that
 * loops damages the hash: found and walked neither. One damaged socket of
 * 16 leaves the layout found (7/8 fit) and is told apart; three refuse.
 */
#include <string.h>

#include "check.h"
#include "os/linux/netread.h"
#include "synthetic_sock32.h"

static int infer(struct s32_layout *l, size_t n, char *why)
{
    return s32_infer(arena_read, &A, SS_PAGE_OFFSET, ss_files, n, I_INO, I_MODE, l, why);
}

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

static void test_layout_and_decode(void)
{
    ss_build();
    struct s32_layout l;
    char why[LX_WHY_LEN];
    CHECK(infer(&l, SS_FILES, why) == 0, "%s", why);
    CHECK(l.file_private == F_PRIVATE && l.socket_sk == SO_SK && l.sk.socket_alloc_inode == SO_INODE);
    CHECK(l.sk.sk_socket == SK_SOCKET && l.sk.family == SK_B + 16 && l.sk.state == SK_B + 18 &&
          l.sk.daddr == SK_B && l.sk.num == SK_B + 14);
    CHECK(l.sk.sk_type == SK_TYPE && l.sk.sk_protocol == SK_TYPE + 2);
    CHECK(l.sk.nulls_node == SK_NODE && l.skc_net == SK_NET && l.net_inum == NET_INUM);
    CHECK(l.sk.unix_addr == SK_UNIX_ADDR && l.sk.word == 4 && l.nsocks == SS_FILES);
    CHECK(l.sk.rmem_alloc == LX_SK_NONE && l.sk.rcv_nxt == LX_SK_NONE);

    struct xa_socket s;
    CHECK(lx_sock_decode(&l.sk, arena_read, &A, ss_sk[1], NULL, &s, why) == 0, "%s", why);
    CHECK(!strcmp(s.proto, "tcp") && !strcmp(s.local, "127.0.0.1:40000") &&
          !strcmp(s.remote, "127.0.0.1:7001") && s.inode == 5001 && s.state == 1, "%s %s %s",
          s.proto, s.local, s.remote);
    CHECK(lx_sock_decode(&l.sk, arena_read, &A, ss_sk[4], NULL, &s, why) == 0, "%s", why);
    CHECK(!strcmp(s.proto, "unix") && !strcmp(s.local, "/tmp/x") && s.inode == 5004, "%s",
          s.local);
    CHECK(lx_sock_decode(&l.sk, arena_read, &A, ss_sk[3], NULL, &s, why) == 0 &&
              !strcmp(s.proto, "udp") && s.state == 7,
          "%s", why);

    /* the established hash, from either of its sockets, with the orphan */
    uint64_t base = 0, count = 0;
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[2], &base, &count, why) == 1, "%s", why);
    CHECK(base == ss_ehash && count == SS_BUCKETS, "0x%llx %llu", (unsigned long long)base,
          (unsigned long long)count);
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[1], &base, &count, why) == 1 &&
          base == ss_ehash);
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[0], &base, &count, why) == 0); /* unhashed */
    struct seen got = {0};
    CHECK(lx_sock_buckets(&l.sk, arena_read, &A, base, count, 4, 0, true, SK_NODE, collect, &got,
                          why) == 0,
          "%s", why);
    CHECK(got.n == 3 && got.sk[0] == ss_orphan && got.sk[1] == ss_sk[1] && got.sk[2] == ss_sk[2]);

    /* a loop: the orphan's node points at itself */
    arena_put32(&A, ss_orphan + SK_NODE, ss_orphan + SK_NODE);
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[2], &base, &count, why) == XA_EBADDATA);
    CHECK(strstr(why, "damaged") && strstr(why, "32-bit kernel without BTF"), "%s", why);
    got.n = 0;
    CHECK(lx_sock_buckets(&l.sk, arena_read, &A, ss_ehash, SS_BUCKETS, 4, 0, true, SK_NODE,
                          collect, &got, why) == XA_ELIMIT);
    /* ... also in bucket 32, where the buckets before it are a power of two */
    arena_put32(&A, ss_orphan + SK_NODE, ss_sk[1] + SK_NODE);
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[2], &base, &count, why) == 1);
    uint32_t looped = ss_sock_alloc(2, 1, 1, 6);
    ss_hash(looped, 32);
    arena_put32(&A, looped + SK_NODE, looped + SK_NODE);
    CHECK(s32_ehash_of(&l.sk, arena_read, &A, ss_sk[2], &base, &count, why) == XA_EBADDATA,
          "%llu buckets", (unsigned long long)count);
    arena_free(&A);
}

/* The listening hash (lhash2) from the held listener: its base and size,
 * both listeners in it; neither kind of table taken for the other; a
 * bucket whose chain ends in another bucket's value damages it. */
static void test_listening_hash(void)
{
    ss_build();
    struct s32_layout l;
    char why[LX_WHY_LEN];
    CHECK(infer(&l, SS_FILES, why) == 0, "%s", why);
    uint64_t base = 0, count = 0;
    CHECK(s32_hash_base(&l.sk, &S32_LHASH2, arena_read, &A, ss_sk[0], &base, why) == 1 &&
              base == ss_lhash,
          "0x%llx", (unsigned long long)base);
    CHECK(s32_hash_count(&l.sk, &S32_LHASH2, arena_read, &A, base, &count, why) == 0 &&
              count == SS_LBUCKETS,
          "%llu: %s", (unsigned long long)count, why);
    struct seen got = {0};
    CHECK(lx_sock_buckets(&l.sk, arena_read, &A, base, count, 8, 4, true, SK_NODE, collect, &got,
                          why) == 0,
          "%s", why);
    CHECK(got.n == 2 && got.sk[0] == ss_lorphan && got.sk[1] == ss_sk[0], "%d", got.n);
    CHECK(s32_hash_base(&l.sk, &S32_EHASH, arena_read, &A, ss_sk[0], &base, why) == 0);
    CHECK(s32_hash_base(&l.sk, &S32_LHASH2, arena_read, &A, ss_sk[1], &base, why) == 0);
    arena_put32(&A, ss_lhash + 8 * 9 + 4, ((1u << 29) + 10) << 1 | 1);
    CHECK(s32_hash_count(&l.sk, &S32_LHASH2, arena_read, &A, ss_lhash, &count, why) ==
              XA_EBADDATA && strstr(why, "listening hash"),
          "%s", why);
    arena_free(&A);
}

/* The UDP hash from the held bound socket: its slot, the udp_table in the
 * data around it, every slot's chain and count, both sockets walked; a
 * wrong count, or a second copy of the table, refuses. */
static void test_udp_hash(void)
{
    ss_build();
    struct s32_layout l;
    char why[LX_WHY_LEN];
    CHECK(infer(&l, SS_FILES, why) == 0, "%s", why);
    uint64_t slot = 0, base = 0, count = 0;
    CHECK(s32_udp_slot(&l.sk, arena_read, &A, ss_sk[3], &slot, why) == 1 &&
              slot == ss_uhash + 16 * 5,
          "0x%llx", (unsigned long long)slot);
    CHECK(s32_udp_slot(&l.sk, arena_read, &A, ss_sk[5], &slot, why) == 0); /* not bound */
    slot = ss_uhash + 16 * 5;
    CHECK(s32_udp_table(&l.sk, arena_read, &A, SS_BASE, A.top, slot, &base, &count, why) == 1 &&
              base == ss_uhash && count == SS_USLOTS,
          "0x%llx %llu: %s", (unsigned long long)base, (unsigned long long)count, why);
    CHECK(s32_udp_check(&l.sk, arena_read, &A, base, count, why) == 0, "%s", why);
    struct seen got = {0};
    CHECK(lx_sock_buckets(&l.sk, arena_read, &A, base, count, 16, 0, false, SK_NODE, collect,
                          &got, why) == 0,
          "%s", why);
    CHECK(got.n == 2 && got.sk[0] == ss_uorphan && got.sk[1] == ss_sk[3], "%d", got.n);
    /* a slot outside every table: none */
    CHECK(s32_udp_table(&l.sk, arena_read, &A, SS_BASE, A.top, ss_ehash, &base, &count, why) == 0);
    /* a count that is not the chain's */
    arena_put32(&A, ss_uhash + 16 * 5 + 4, 1);
    CHECK(s32_udp_check(&l.sk, arena_read, &A, ss_uhash, SS_USLOTS, why) == XA_EBADDATA &&
              strstr(why, "slot 5"),
          "%s", why);
    arena_put32(&A, ss_uhash + 16 * 5 + 4, 2);
    /* a second udp_table around the same slot */
    uint32_t copy = (uint32_t)arena_alloc(&A, 16);
    for (unsigned k = 0; k < 16; k += 4)
        arena_put32(&A, copy + k, ss_get32(ss_udp_table + k));
    CHECK(s32_udp_table(&l.sk, arena_read, &A, SS_BASE, A.top, slot, &base, &count, why) ==
              XA_EBADDATA && strstr(why, "2 places"),
          "%s", why);
    arena_free(&A);
}

static void test_refusals(void)
{
    struct s32_layout l;
    char why[LX_WHY_LEN];
    ss_build();
    CHECK(infer(&l, 2, why) == XA_EBADDATA && strstr(why, "fewer than 3"), "%s", why);
    /* a second pointer back to every struct socket: sk_socket undecided */
    for (unsigned i = 0; i < SS_FILES; i++)
        arena_put32(&A, ss_sk[i] + 0x2a0, ss_sock[i]);
    CHECK(infer(&l, SS_FILES, why) == XA_EBADDATA && strstr(why, "2 candidates for struct socket.sk"),
          "%s", why);
    CHECK(strchr(why, '\n') == NULL);
    arena_free(&A);
    /* three sockets of 16 whose family no kernel has: fewer than 7/8 fit */
    ss_build();
    for (unsigned i = 3; i < 6; i++)
        arena_put16(&A, ss_sk[i] + SK_B + 16, 99);
    CHECK(infer(&l, SS_FILES, why) == XA_EBADDATA && strstr(why, "0 candidates for struct sock_common"),
          "%s", why);
    arena_free(&A);
}

/* One damaged socket of 16 (7/8 fit the rest): the layout is found from
 * the others, and that socket alone is told not to fit it. */
static void check_one_damaged(unsigned bad, const char *what)
{
    struct s32_layout l;
    char why[LX_WHY_LEN];
    if (infer(&l, SS_FILES, why) != 0) {
        CHECK(0, "%s: %s", what, why);
        return;
    }
    CHECK(l.file_private == F_PRIVATE && l.socket_sk == SO_SK && l.sk.sk_socket == SK_SOCKET &&
              l.sk.family == SK_B + 16 && l.sk.sk_type == SK_TYPE && l.skc_net == SK_NET &&
              l.net_inum == NET_INUM && l.sk.nulls_node == SK_NODE,
          "%s", what);
    CHECK(l.nsocks == SS_FILES && l.nfit == SS_FILES - 1, "%s: %zu fit", what, l.nfit);
    for (unsigned i = 0; i < SS_FILES; i++) {
        uint64_t sk = 0;
        int rc = s32_sock_of(&l, arena_read, &A, ss_file[i], ss_inode[i], &sk);
        if (i == bad)
            CHECK(rc == XA_EBADDATA, "%s: socket %u fits", what, i);
        else
            CHECK(rc == 0 && sk == ss_sk[i], "%s: socket %u: %d", what, i, rc);
    }
}

static void test_one_damaged(void)
{
    ss_build();
    arena_put16(&A, ss_sk[3] + SK_B + 16, 99); /* a family no kernel has */
    check_one_damaged(3, "family");
    arena_free(&A);
    ss_build();
    arena_put32(&A, ss_sk[1] + SK_SOCKET, 0); /* no back-link to its struct socket */
    check_one_damaged(1, "sk_socket");
    arena_free(&A);
    ss_build();
    arena_put32(&A, ss_file[7] + F_PRIVATE, ss_sock[8]); /* another file's socket */
    check_one_damaged(7, "private_data");
    arena_free(&A);
    ss_build();
    arena_put16(&A, ss_sk[9] + SK_TYPE, 5); /* a type its struct socket does not have */
    check_one_damaged(9, "sk_type");
    arena_free(&A);
}

int main(void)
{
    test_layout_and_decode();
    test_listening_hash();
    test_udp_hash();
    test_refusals();
    test_one_damaged();
    CHECK_DONE();
}
