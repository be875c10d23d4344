/*
 * symtab.h -- kernel symbol table: lookups by name (hash) and by address
 * (binary search). Filled by kallsyms.c or sysmap.c, then frozen.
 */
#ifndef XA_OS_LINUX_SYMTAB_H
#define XA_OS_LINUX_SYMTAB_H

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
/* 0 or XA_ENOENT. When a name occurs more than once, the first added wins. */
int symtab_lookup(const struct linux_symtab *t, const char *name, uint64_t *addr);
/* Nearest symbol at or below @addr: 0 or XA_ENOENT. */
int symtab_at(const struct linux_symtab *t, uint64_t addr, const char **name, uint64_t *off);
static inline const char *symtab_name(const struct linux_symtab *t, const struct linux_sym *s)
{
    return t->names + s->name;
}
void symtab_free(struct linux_symtab *t);

#endif /* XA_OS_LINUX_SYMTAB_H */
