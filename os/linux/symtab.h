/*
 * symtab.h -- kernel symbol table: lookups by name (hash) and by address
 * (binary search). Filled by kallsyms.c or sysmap.c, then frozen; or lazy
 * (symtab_set_lazy): only a small set of names is known until a lookup
 * outside it, an address lookup or a walk over all symbols builds the table.
 */
#ifndef XA_OS_LINUX_SYMTAB_H
#define XA_OS_LINUX_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linux_sym {
    uint64_t addr;
    uint32_t name; /* offset into names */
    char type;     /* nm-style type letter, '?' when unknown */
};

struct linux_symtab {
    struct linux_sym *syms; /* sorted by address after symtab_freeze() */
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    uint32_t *buckets; /* name hash tag | index + 1 into syms; 0 = empty (symtab.c) */
    size_t nbuckets;
    /* Not NULL: the table is lazy, the fields above are empty until
     * symtab_complete() builds it (symtab.c). */
    struct symtab_lazy *lazy;
};

/* What a lazy table knows of one name of its set. */
struct symtab_pick {
    uint64_t addr;
    char type;
    bool found; /* false: the name is not in the table */
};

/* Where a lazy table's symbols come from: fill() adds every one of them to
 * the empty table it is given (symtab_add*, not frozen), at most once;
 * release() frees @arg (also when fill() was never called). */
struct symtab_source {
    int (*fill)(void *arg, struct linux_symtab *t);
    void (*release)(void *arg);
    void *arg;
};

/* Cap on the number of symbols, against a hostile count (a 6.x kernel has ~200k). */
#define LINUX_SYMTAB_MAX 4000000

int symtab_add(struct linux_symtab *t, const char *name, size_t len, uint64_t addr, char type);
/* For a decoder that writes names where they are kept (no copy): room for
 * @max bytes at the end of the names, or NULL (no memory, past the limits,
 * frozen). Valid until the next call on @t. */
char *symtab_names_tail(struct linux_symtab *t, size_t max);
/* Add the name written there: @len bytes @skip bytes in (the @skip before it
 * stay unused). The caller guarantees the name holds no NUL byte. */
int symtab_add_written(struct linux_symtab *t, size_t skip, size_t len, uint64_t addr, char type);
/* Room for @nsyms symbols and @name_bytes of names (a hint: adding more
 * still grows the arrays), so that a known count is not copied as it grows. */
int symtab_reserve(struct linux_symtab *t, size_t nsyms, size_t name_bytes);
/* Sort by address and index names; call once, after the last add. */
int symtab_freeze(struct linux_symtab *t);
/* Make the empty table @t lazy: it knows the @n names of @set (sorted by
 * strcmp, no two equal; static storage) as @picks says (picks[i] for
 * set[i]: the first added of that name, as the full table would answer),
 * holds @count symbols, and builds the rest from @src on first need. On
 * error @src is released. */
int symtab_set_lazy(struct linux_symtab *t, const char *const *set, size_t n,
                    const struct symtab_pick *picks, size_t count,
                    const struct symtab_source *src);
/* Build a lazy table now (a no-op on a full one): 0, or the error of the
 * build (kept: returned again by every later call that needs the table). */
int symtab_complete(const struct linux_symtab *t);
/* Number of symbols, without building a lazy table. */
size_t symtab_count(const struct linux_symtab *t);
/* 0 or XA_ENOENT. When a name occurs more than once, the first added wins.
 * On a lazy table a name outside its set builds the table first: that
 * build's error if it fails. */
int symtab_lookup(const struct linux_symtab *t, const char *name, uint64_t *addr);
/* Nearest symbol at or below @addr: 0 or XA_ENOENT (or a lazy table's
 * build error). */
int symtab_at(const struct linux_symtab *t, uint64_t addr, const char **name, uint64_t *off);
/* t->syms and t->names are only there on a full table: symtab_complete()
 * before walking them. */
static inline const char *symtab_name(const struct linux_symtab *t, const struct linux_sym *s)
{
    return t->names + s->name;
}
void symtab_free(struct linux_symtab *t);

#endif /* XA_OS_LINUX_SYMTAB_H */
