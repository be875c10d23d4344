/*
 * fuzz_sock32.c -- the 32-bit socket layout inference (os/linux/sock32.c),
 * the established-, listening- and UDP-hash searches and sockread.c's 4-byte walk and decode over
 * the synthetic guest of tests/unit/synthetic_sock32.h, which the input
 * rewrites.
 *
 * Input: byte 0 picks how many socket files are sampled (3 + its value
 * modulo SS_FILES - 2); then records of 8 bytes, at most 64:
 *   u24 offset into the guest's memory used (modulo its size, rounded down
 *   to 4), u8 kind, u32 value
 * kind 0: write value; 1: a pointer into the memory used (value modulo its
 * size); 2: a pointer to the same word (a self-pointing slot); 3: write the
 * value's low byte. The patches are undone after each input.
 *
 * Oracles beyond the sanitizers: every call ends (libFuzzer's timeout) and
 * returns 0 (1) or a negative XA_E* with one terminated line; an inferred
 * layout lies within the windows searched and 7/8 of the sockets fit it, a
 * socket s32_sock_of accepts points back at its struct socket; a hash found is a power of two
 * of buckets inside 4 GiB, and its walk ends.
 */
#include "fuzz_common.h"
#include "patch32.h"

#include "synthetic_sock32.h"

#define MAX_PATCHES 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ss_build();
    return 0;
}

static void check_why(int rc, const char *why)
{
    if (rc < 0 && (!memchr(why, '\0', LX_WHY_LEN) || !why[0] || strchr(why, '\n')))
        abort();
}

static void check_layout(const struct s32_layout *l)
{
    const struct lx_sock_layout *s = &l->sk;
    if (l->file_private >= S32_FILE_SPAN || s->socket_alloc_inode > S32_INODE_GAP ||
        l->socket_sk >= S32_SOCKET_SPAN || s->sk_socket >= S32_SOCK_SPAN ||
        l->socket_file >= S32_SOCKET_SPAN || l->socket_type >= 16 || l->nfit > l->nsocks ||
        l->nfit * 8 < l->nsocks * 7 ||
        s->state >= 64 || s->sk_type >= S32_SOCK_SPAN || l->net_inum >= S32_NET_SPAN ||
        (s->node != LX_SK_NONE && s->node >= 160) ||
        (s->unix_addr != LX_SK_NONE && s->unix_addr >= S32_SOCK_SPAN) || s->word != 4)
        abort();
}

static int count(void *arg, uint64_t sk)
{
    (void)sk;
    if (++*(unsigned long *)arg > 4u * LX_SK_CHAIN_MAX)
        abort();
    return 0;
}

static void walk_all(const struct s32_layout *l)
{
    char why[LX_WHY_LEN];
    static struct xa_socket s;
    for (unsigned i = 0; i < SS_FILES; i++) {
        uint64_t base = 0, n = 0;
        int rc = s32_ehash_of(&l->sk, arena_read, &A, ss_sk[i], &base, &n, why);
        check_why(rc, why);
        if (rc == 1) {
            if (n == 0 || (n & (n - 1)) || base + 4 * n > 0x100000000ull)
                abort();
            unsigned long seen = 0;
            rc = lx_sock_buckets(&l->sk, arena_read, &A, base, n, 4, 0, true, l->sk.node, count,
                                 &seen, why);
            check_why(rc, why);
        }
        /* a socket said to fit points back at its struct socket */
        uint64_t sk = 0;
        uint32_t sock = 0, back = 0;
        if (s32_sock_of(l, arena_read, &A, ss_file[i], ss_inode[i], &sk) == 0 && sk &&
            (arena_read(&A, ss_file[i] + l->file_private, &sock, 4) < 0 ||
             arena_read(&A, sk + l->sk.sk_socket, &back, 4) < 0 || back != sock))
            abort();
        rc = s32_hash_base(&l->sk, &S32_LHASH2, arena_read, &A, ss_sk[i], &base, why);
        check_why(rc, why);
        if (rc == 1 && s32_hash_count(&l->sk, &S32_LHASH2, arena_read, &A, base, &n, why) == 0) {
            if (n == 0 || (n & (n - 1)) || base + 8 * n > 0x100000000ull)
                abort();
            unsigned long seen = 0;
            rc = lx_sock_buckets(&l->sk, arena_read, &A, base, n, 8, 4, true, l->sk.node, count,
                                 &seen, why);
            check_why(rc, why);
        }
        rc = lx_sock_decode(&l->sk, arena_read, &A, ss_sk[i], NULL, &s, why);
        check_why(rc, why);
        if (rc == 0 && (!memchr(s.local, '\0', sizeof(s.local)) ||
                        !memchr(s.remote, '\0', sizeof(s.remote))))
            abort();
    }
}

/* The UDP hash from the first bound socket: a table found holds the slot,
 * and a checked one is walked to its end. */
static void walk_udp(const struct s32_layout *l)
{
    char why[LX_WHY_LEN];
    for (unsigned i = 0; i < SS_FILES; i++) {
        uint64_t slot = 0, base = 0, n = 0;
        int rc = s32_udp_slot(&l->sk, arena_read, &A, ss_sk[i], &slot, why);
        check_why(rc, why);
        if (rc != 1)
            continue;
        rc = s32_udp_table(&l->sk, arena_read, &A, SS_BASE, A.top, slot, &base, &n, why);
        check_why(rc, why);
        if (rc == 1 && (slot < base || slot >= base + 16 * n || n == 0 || (n & (n - 1))))
            abort();
        if (rc == 1 && s32_udp_check(&l->sk, arena_read, &A, base, n, why) == 0) {
            unsigned long seen = 0;
            rc = lx_sock_buckets(&l->sk, arena_read, &A, base, n, 16, 0, false, l->sk.node,
                                 count, &seen, why);
            check_why(rc, why);
        }
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t nfiles = 3 + data[0] % (SS_FILES - 2);
    const uint64_t used = (A.top - SS_BASE) & ~3ull;
    struct patch32_undo undo[MAX_PATCHES];
    size_t n = patch32_apply(&A, SS_BASE, used, data, size, undo, MAX_PATCHES);
    struct s32_layout l;
    char why[LX_WHY_LEN];
    int rc = s32_infer(arena_read, &A, SS_PAGE_OFFSET, ss_files, nfiles, I_INO, I_MODE, &l, why);
    check_why(rc, why);
    if (rc > 0)
        abort();
    if (rc == 0) {
        check_layout(&l);
        walk_all(&l);
        walk_udp(&l);
    }
    patch32_undo(&A, undo, n);
    return 0;
}
