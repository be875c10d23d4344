/*
 * fuzz_kallsyms.c -- kallsyms table discovery and decoding on a fuzzed
 * buffer of guest memory, the way discovery scans a window: every 4-aligned
 * token-index candidate (64-bit kernels align it to 8, 32-bit ones to 4), its token table, then num_syms / names / markers /
 * offsets / relative_base around them, then every name decoded into a
 * symbol table that is frozen and queried.
 *
 * Oracles beyond the sanitizers: an accepted layout lies inside the buffer
 * and is aligned as its pointer size says; decoding never yields more
 * symbols than num_syms, and a 32-bit layout's addresses fit in 32 bits;
 * the one-pass pick of a few names (the lazy table's start) fails where
 * the full decode fails and otherwise gives the full table's answers.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "os/linux/kallsyms_tables.h"
#include "os/linux/symtab.h"
#include "xenaccess.h"

#define KSYM_FUZZ_MAX_INPUT (4u << 20)
#define KSYM_FUZZ_MAX_CANDIDATES 64

static void check_layout(const struct ksym_layout *l, size_t len)
{
    if (l->token_table >= l->token_index || l->token_index > len ||
        len - l->token_index < KSYM_TOKEN_INDEX_SIZE || l->names > len ||
        l->names_size > len - l->names || l->num_syms == 0 || l->num_syms > LINUX_SYMTAB_MAX ||
        l->num_syms_at > len - 8)
        abort();
    if ((l->ptr_size != 4 && l->ptr_size != 8) || l->token_table % l->ptr_size ||
        l->names % l->ptr_size || l->markers % l->ptr_size)
        abort();
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ksym_pick of fixed names and one decoded name against the frozen table
 * @t (@rc: what decoding and freezing it returned). */
static void pick_agrees(const uint8_t *buf, size_t len, const struct ksym_layout *l,
                        const struct linux_symtab *t, int rc)
{
    const char *want[4] = {"_text", "init_task", "linux_banner", NULL};
    size_t n = 3;
    if (rc == 0 && t->n) {
        const char *mid = symtab_name(t, &t->syms[t->n / 2]);
        if (strcmp(mid, want[0]) && strcmp(mid, want[1]) && strcmp(mid, want[2]))
            want[n++] = mid;
    }
    qsort(want, n, sizeof(want[0]), cmp_name);
    struct symtab_pick picks[4];
    int prc = ksym_pick(buf, len, l, want, n, picks);
    if (prc != rc)
        abort();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t a = 0;
        int found = symtab_lookup(t, want[i], &a) == 0;
        if (found != picks[i].found || (found && a != picks[i].addr))
            abort();
    }
}

static void decode_and_query(const uint8_t *buf, size_t len, const struct ksym_layout *l)
{
    struct linux_symtab t = {0};
    int rc = ksym_decode(buf, len, l, &t);
    if (rc == 0 && t.n != l->num_syms)
        abort();
    if (t.n > l->num_syms)
        abort();
    for (size_t i = 0; l->ptr_size == 4 && i < t.n; i++)
        if (t.syms[i].addr > UINT32_MAX)
            abort();
    int frozen = rc == 0 ? symtab_freeze(&t) : rc;
    pick_agrees(buf, len, l, &t, frozen);
    if (frozen == 0 && t.n) {
        uint64_t addr;
        const char *name;
        uint64_t off;
        (void)symtab_lookup(&t, "_text", &addr);
        (void)symtab_lookup(&t, symtab_name(&t, &t.syms[t.n / 2]), &addr);
        if (symtab_at(&t, t.syms[t.n - 1].addr, &name, &off) == 0 && !name)
            abort();
        (void)symtab_at(&t, 0, &name, &off);
    }
    symtab_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KSYM_FUZZ_MAX_INPUT)
        return 0;
    int candidates = 0;
    /* 4-byte steps: 32-bit kernels align the index to 4 only. */
    for (size_t off = 0; off + KSYM_TOKEN_INDEX_SIZE <= size; off += 4) {
        if (!ksym_looks_like_token_index(data + off, size - off))
            continue;
        if (++candidates > KSYM_FUZZ_MAX_CANDIDATES)
            break;
        size_t table;
        if (ksym_find_token_table(data, size, off, &table) < 0)
            continue;
        if (table >= off || (table & 3))
            abort();
        struct ksym_layout l = {.token_table = table, .token_index = off};
        if (ksym_find_tables(data, size, &l) < 0)
            continue;
        check_layout(&l, size);
        decode_and_query(data, size, &l);
        break;
    }
    return 0;
}
