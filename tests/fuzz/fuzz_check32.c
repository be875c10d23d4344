/*
 * fuzz_check32.c -- the i386 sys_call_table and IDT searches
 * (os/linux/check32_tables.c) over a synthetic kernel image
 * (tests/unit/synthetic_check32.h) that the input rewrites.
 *
 * Input: records of 8 bytes, at most 256:
 *   u24 offset into the 512 KiB image (rounded down to 4), u8 kind, u32 value
 * kind 0: write value; 1: a system call handler (value % 1100); 2: a module
 * address (a hook); 3: an interrupt gate (offset rounded down to 8) to the
 * entry code of vector value % 256; 4: a whole table at the offset (a
 * decoy); 5: a whole IDT at the offset rounded down to a page.
 * The image is rebuilt after each input.
 *
 * Oracles beyond the sanitizers: both searches end (libFuzzer's timeout),
 * return 0 or a negative XA_E*, the reason is one terminated line, and an
 * answer lies where the search looked: a 4-byte aligned table of 256..1024
 * entries inside the searched data, a page-aligned IDT; the operation-table
 * search (check32_ops.c, synthetic_check32_ops.h) gives each table one
 * place or a group of as many places as tables, 4-byte aligned in the data;
 * the ftrace search (check32_hooks.c) a list end in the data and a list
 * pointer near it with a bounded chain.
 */
#include "fuzz_common.h"

#include "os/linux/check32_hooks.h"
#include "synthetic_check32_ops.h"

#define MAX_PATCHES 256
#define FT_STUB (S32_TEXT + 0x5000u)
#define FT_END 0xC1044020u
#define FT_OPS 0xC1045000u

static struct s32_guest work, pristine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s32_build_ops(&pristine); /* the tables, and two sibling operation tables */
    /* ftrace_list_end, and ftrace_ops_list -> one ops (in a module) -> it */
    s32_put(&pristine, FT_END + C32_FT_FUNC, FT_STUB);
    s32_put(&pristine, FT_END + C32_FT_FLAGS, C32_FT_FL_STUB);
    s32_put(&pristine, FT_END + C32_FT_WAIT_LIST, FT_END + C32_FT_WAIT_LIST);
    s32_put(&pristine, FT_END + C32_FT_WAIT_LIST + 4, FT_END + C32_FT_WAIT_LIST);
    s32_put(&pristine, FT_END + C32_FT_FUNC_HASH, FT_END + C32_FT_LOCAL_HASH);
    s32_put(&pristine, FT_OPS + C32_FT_FUNC, s32_handler(9));
    s32_put(&pristine, FT_OPS + C32_FT_NEXT, FT_END);
    s32_put(&pristine, FT_END - 0x40, FT_OPS);
    return 0;
}

static void check_why(int rc, const char *why, size_t cap)
{
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', cap) || strchr(why, '\n') || !why[0])))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    memcpy(&work, &pristine, sizeof(work));
    for (unsigned i = 0; i < MAX_PATCHES && r.left >= 8; i++) {
        uint32_t off = ((uint32_t)fz_take(&r, 3) % S32_SIZE) & ~3u;
        unsigned kind = (unsigned)fz_take(&r, 1) % 6;
        uint32_t v = (uint32_t)fz_take(&r, 4);
        uint32_t va = S32_TEXT + off;
        switch (kind) {
        case 0: s32_put(&work, va, v); break;
        case 1: s32_put(&work, va, s32_handler(v % 1100)); break;
        case 2: s32_put(&work, va, S32_MODULE + v % 0x100000); break;
        case 3:
            if (off + 8 <= S32_SIZE)
                s32_put_gate(&work, va & ~7u, 0, s32_vector_handler(v % 256),
                             (v >> 8) & 1 ? 0xee00 : 0x8e00);
            break;
        case 4:
            if (off + 4 * S32_NR <= S32_SIZE)
                s32_put_table(&work, va);
            break;
        default:
            if ((off & ~0xfffu) + C32_IDT_BYTES <= S32_SIZE)
                s32_put_idt(&work, va & ~0xfffu);
            break;
        }
    }

    struct c32_mem m = s32_mem(&work);
    char why[256];
    uint64_t sys_anchors[C32_SYS_ANCHORS], table = 0;
    uint32_t n = 0;
    s32_sys_anchors(sys_anchors);
    memset(why, 'x', sizeof(why));
    int rc = c32_find_syscalls(&m, S32_ETEXT, S32_INIT, sys_anchors, &table, &n, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (table < S32_ETEXT || table >= S32_INIT || table % 4 || n < C32_MIN_SYSCALLS ||
                    n > C32_MAX_SYSCALLS))
        abort();

    static uint64_t idt_anchors[C32_IDT_ENTRIES];
    uint64_t idt = 0;
    s32_idt_anchors(idt_anchors);
    memset(why, 'x', sizeof(why));
    rc = c32_find_idt(&m, S32_ETEXT, S32_TEXT + S32_SIZE, idt_anchors, &idt, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (idt < S32_ETEXT || idt + C32_IDT_BYTES > S32_TEXT + S32_SIZE || idt % 4096))
        abort();

    struct c32_ops_found found[2];
    memset(why, 'x', sizeof(why));
    rc = s32_find_ops(&work, found, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    for (unsigned t = 0; rc == 0 && t < 2; t++) {
        const struct c32_ops_found *f = &found[t];
        check_why(f->rc, f->why, sizeof(f->why));
        if (f->rc < 0)
            continue;
        unsigned members = (unsigned)__builtin_popcount(f->group);
        if (f->nr_places == 0 || f->nr_places > C32_OPS_MAX_FOUND ||
            (f->nr_places > 1 && (members != f->nr_places || !(f->group & (1u << t)))))
            abort();
        for (uint32_t j = 0; j < f->nr_places; j++)
            if (f->at[j] < S32_ETEXT || f->at[j] + 4 * S32_SEQ_SLOTS > S32_INIT || f->at[j] % 4)
                abort();
    }

    struct c32_ftrace ft = {0};
    memset(why, 'x', sizeof(why));
    rc = c32_find_ftrace(&m, S32_ETEXT, S32_INIT, FT_STUB, &ft, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (ft.list_end < S32_ETEXT || ft.list_end >= S32_INIT || ft.list_end % 4 ||
                    ft.head % 4 || ft.head + C32_FT_WINDOW < ft.list_end ||
                    ft.head > ft.list_end + C32_FT_WINDOW || ft.nr_ops > C32_FT_MAX_OPS))
        abort();
    return 0;
}
