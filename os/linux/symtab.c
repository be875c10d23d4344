/*
 * symtab.c -- kernel symbol table: growable arrays while filling, then a
 * frozen form sorted by address with an open-addressing name hash. A lazy
 * table answers for a small set of names until anything else is asked.
 */
#include "os/linux/symtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xenaccess.h"

/* Longest name kept; kallsyms names are at most 512 bytes (KSYM_NAME_LEN). */
#define SYMTAB_NAME_MAX 1024

/* Eight bytes a step (the table of a distribution kernel hashes ~150k
 * names at start-up), a multiply-xorshift mix per word. */
static uint32_t name_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, sizeof(w));
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)(uint8_t)s[i] << (8 * i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

#define HUGE_ALIGN ((size_t)2 << 20)
#define HUGE_MIN HUGE_ALIGN

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return XA_ENOMEM;
        ncap *= 2;
    }
    void *p;
    if (!*arr && ncap * elem >= HUGE_MIN) {
        /* A distribution kernel's table: 2 MiB pages where the system
         * offers them (madvise mode), a fault each instead of 512. */
        if (posix_memalign(&p, HUGE_ALIGN, ncap * elem) != 0)
            return XA_ENOMEM;
        (void)madvise(p, ncap * elem & ~(HUGE_ALIGN - 1), MADV_HUGEPAGE);
    } else if (!(p = realloc(*arr, ncap * elem))) {
        return XA_ENOMEM;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

int symtab_reserve(struct linux_symtab *t, size_t nsyms, size_t name_bytes)
{
    if (t->buckets || t->lazy)
        return XA_EINVAL;
    if (nsyms > LINUX_SYMTAB_MAX || name_bytes > UINT32_MAX)
        return XA_ELIMIT;
    void *syms = t->syms, *names = t->names;
    int rc = grow(&syms, &t->cap, nsyms, sizeof(*t->syms));
    t->syms = syms;
    if (rc == 0)
        rc = grow(&names, &t->names_cap, name_bytes, 1);
    t->names = names;
    return rc;
}

int symtab_add(struct linux_symtab *t, const char *name, size_t len, uint64_t addr, char type)
{
    if (t->buckets || t->lazy)
        return XA_EINVAL; /* frozen */
    if (t->n >= LINUX_SYMTAB_MAX)
        return XA_ELIMIT;
    if (len == 0 || len > SYMTAB_NAME_MAX || memchr(name, '\0', len))
        return XA_EINVAL;
    if (t->names_len + len + 1 > UINT32_MAX)
        return XA_ELIMIT;
    void *syms = t->syms, *names = t->names;
    if (grow(&syms, &t->cap, t->n + 1, sizeof(*t->syms)) < 0)
        return XA_ENOMEM;
    t->syms = syms;
    if (grow(&names, &t->names_cap, t->names_len + len + 1, 1) < 0)
        return XA_ENOMEM;
    t->names = names;

    struct linux_sym *s = &t->syms[t->n++];
    s->addr = addr;
    s->name = (uint32_t)t->names_len;
    s->type = type ? type : '?';
    memcpy(t->names + t->names_len, name, len);
    t->names[t->names_len + len] = '\0';
    t->names_len += len + 1;
    return 0;
}

char *symtab_names_tail(struct linux_symtab *t, size_t max)
{
    if (t->buckets || t->lazy || max > UINT32_MAX - t->names_len)
        return NULL;
    void *names = t->names;
    if (grow(&names, &t->names_cap, t->names_len + max, 1) < 0)
        return NULL;
    t->names = names;
    return t->names + t->names_len;
}

int symtab_add_written(struct linux_symtab *t, size_t skip, size_t len, uint64_t addr, char type)
{
    if (t->buckets || t->lazy)
        return XA_EINVAL; /* frozen */
    if (t->n >= LINUX_SYMTAB_MAX)
        return XA_ELIMIT;
    if (len == 0 || len > SYMTAB_NAME_MAX)
        return XA_EINVAL;
    /* What symtab_names_tail() gave room for. */
    if (skip > t->names_cap - t->names_len || len + 1 > t->names_cap - t->names_len - skip ||
        t->names_len + skip + len + 1 > UINT32_MAX)
        return XA_EINVAL;
    if (t->n == t->cap) {
        void *syms = t->syms;
        if (grow(&syms, &t->cap, t->n + 1, sizeof(*t->syms)) < 0)
            return XA_ENOMEM;
        t->syms = syms;
    }
    struct linux_sym *s = &t->syms[t->n++];
    s->addr = addr;
    s->name = (uint32_t)(t->names_len + skip);
    s->type = type ? type : '?';
    t->names[t->names_len + skip + len] = '\0';
    t->names_len += skip + len + 1;
    return 0;
}

/* Sorting key that keeps insertion order among equal addresses, so that the
 * first-added symbol of a name can still be found after sorting. */
struct sym_sort {
    struct linux_sym sym;
    uint32_t seq;
};

static int cmp_sym(const void *a, const void *b)
{
    const struct sym_sort *x = a, *y = b;
    if (x->sym.addr != y->sym.addr)
        return x->sym.addr < y->sym.addr ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A bucket holds index + 1 in its low bits and the top bits of the name's
 * hash above them: a probe that meets another name almost always tells by
 * the tag, without a strcmp on a name far away in memory. */
#define BUCKET_INDEX_BITS 22
#define BUCKET_INDEX_MASK ((1u << BUCKET_INDEX_BITS) - 1)
#define BUCKET_TAG_MASK (~BUCKET_INDEX_MASK)
_Static_assert(LINUX_SYMTAB_MAX < (1u << BUCKET_INDEX_BITS), "symbol index fits a bucket");

/* Sorts by address (when needed: kallsyms and System.map list symbols in
 * address order already) and returns each symbol's insertion rank in
 * *@seq, or NULL for "the same as its index". */
static int sort_syms(struct linux_symtab *t, uint32_t **seq)
{
    *seq = NULL;
    bool sorted = true;
    for (size_t i = 1; i < t->n && sorted; i++)
        sorted = t->syms[i].addr >= t->syms[i - 1].addr;
    if (sorted)
        return 0;
    struct sym_sort *tmp = malloc(t->n * sizeof(*tmp));
    uint32_t *rank = malloc(t->n * sizeof(*rank));
    if (!tmp || !rank) {
        free(tmp);
        free(rank);
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < t->n; i++) {
        tmp[i].sym = t->syms[i];
        tmp[i].seq = (uint32_t)i;
    }
    qsort(tmp, t->n, sizeof(*tmp), cmp_sym);
    for (size_t i = 0; i < t->n; i++) {
        t->syms[i] = tmp[i].sym;
        rank[i] = tmp[i].seq;
    }
    free(tmp);
    *seq = rank;
    return 0;
}

#define FREEZE_BATCH 16
#if defined(__GNUC__)
#define PREFETCH_WRITE(p) __builtin_prefetch((p), 1)
#else
#define PREFETCH_WRITE(p) ((void)(p))
#endif

int symtab_freeze(struct linux_symtab *t)
{
    if (t->buckets || t->lazy)
        return XA_EINVAL;
    /* At most half full. (3/4 full was not faster: glibc then served the
     * smaller table from the heap, and the process faulted more pages.) */
    size_t nb = 16;
    while (nb < t->n * 2)
        nb *= 2;
    /* Zeroed by writing: calloc's fresh pages would be read first (the
     * probe) and so fault twice, once for the zero page, once to copy it. */
    uint32_t *buckets = malloc(nb * sizeof(*buckets));
    if (buckets)
        memset(buckets, 0, nb * sizeof(*buckets));
    uint32_t *seq = NULL;
    if (!buckets || sort_syms(t, &seq) < 0) {
        free(buckets);
        return XA_ENOMEM;
    }
    /* Hashes a batch ahead, each bucket fetched while the others hash: the
     * fill is bound by cache misses on the buckets, not by the hashing. */
    uint32_t batch[FREEZE_BATCH];
    for (size_t i = 0; i < t->n; i++) {
        size_t k = i % FREEZE_BATCH;
        if (k == 0) {
            for (size_t m = 0; m < FREEZE_BATCH && i + m < t->n; m++) {
                batch[m] = name_hash(t->names + t->syms[i + m].name);
                PREFETCH_WRITE(&buckets[batch[m] & (nb - 1)]);
            }
        }
        const char *name = t->names + t->syms[i].name;
        uint32_t h = batch[k], tag = h & BUCKET_TAG_MASK;
        size_t b = h & (nb - 1);
        /* Linear probing; nb >= 2n so an empty slot always exists. */
        for (;;) {
            uint32_t cur = buckets[b];
            if (cur == 0) {
                buckets[b] = tag | (uint32_t)(i + 1);
                break;
            }
            size_t j = (cur & BUCKET_INDEX_MASK) - 1;
            if ((cur & BUCKET_TAG_MASK) == tag && strcmp(t->names + t->syms[j].name, name) == 0) {
                /* The first added wins; in address order that is the lower index. */
                if (seq && seq[i] < seq[j])
                    buckets[b] = tag | (uint32_t)(i + 1);
                break;
            }
            b = (b + 1) & (nb - 1);
        }
    }
    free(seq);
    t->buckets = buckets;
    t->nbuckets = nb;
    return 0;
}

/* A lazy table: what its set says until the full table is built (or its
 * build failed, @failed). */
struct symtab_lazy {
    const char *const *set;
    size_t nset, count;
    struct symtab_source src;
    int failed;
    struct symtab_pick picks[];
};

int symtab_set_lazy(struct linux_symtab *t, const char *const *set, size_t n,
                    const struct symtab_pick *picks, size_t count,
                    const struct symtab_source *src)
{
    int rc = 0;
    if (t->n || t->buckets || t->lazy || count > LINUX_SYMTAB_MAX)
        rc = XA_EINVAL;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(set[i - 1], set[i]) >= 0)
            rc = XA_EINVAL; /* bsearch needs the order */
    struct symtab_lazy *z = NULL;
    if (rc == 0 && !(z = malloc(sizeof(*z) + n * sizeof(z->picks[0]))))
        rc = XA_ENOMEM;
    if (rc < 0) {
        if (src->release)
            src->release(src->arg);
        return rc;
    }
    z->set = set;
    z->nset = n;
    z->count = count;
    z->src = *src;
    z->failed = 0;
    memcpy(z->picks, picks, n * sizeof(z->picks[0]));
    t->lazy = z;
    return 0;
}

int symtab_complete(const struct linux_symtab *ct)
{
    /* The table is logically const: building it is a cache fill (one
     * thread at a time per handle), so the cast is on purpose. */
    struct linux_symtab *t = (struct linux_symtab *)ct;
    struct symtab_lazy *z = t->lazy;
    if (!z)
        return 0;
    if (z->failed)
        return z->failed;
    t->lazy = NULL; /* fill() sees a plain empty table */
    int rc = z->src.fill(z->src.arg, t);
    if (rc == 0 && t->n != z->count)
        rc = XA_EBADDATA; /* not what the pass over the same tables counted */
    if (rc == 0)
        rc = symtab_freeze(t);
    if (rc < 0) {
        symtab_free(t);
        z->failed = rc;
        t->lazy = z; /* the set still answers; the rest says why not */
        return rc;
    }
    if (z->src.release)
        z->src.release(z->src.arg);
    free(z);
    return 0;
}

size_t symtab_count(const struct linux_symtab *t)
{
    return t->lazy ? t->lazy->count : t->n;
}

static int cmp_set_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int symtab_lookup(const struct linux_symtab *t, const char *name, uint64_t *addr)
{
    if (!name)
        return XA_ENOENT;
    if (t->lazy) {
        const struct symtab_lazy *z = t->lazy;
        const char *const *hit = bsearch(name, z->set, z->nset, sizeof(*z->set), cmp_set_name);
        if (hit) {
            const struct symtab_pick *p = &z->picks[hit - z->set];
            if (!p->found)
                return XA_ENOENT;
            if (addr)
                *addr = p->addr;
            return 0;
        }
        int rc = symtab_complete(t);
        if (rc < 0)
            return rc;
    }
    if (!t->buckets)
        return XA_ENOENT;
    size_t mask = t->nbuckets - 1;
    uint32_t h = name_hash(name), tag = h & BUCKET_TAG_MASK;
    for (size_t b = h & mask, probes = 0; probes < t->nbuckets; b = (b + 1) & mask, probes++) {
        uint32_t cur = t->buckets[b];
        if (cur == 0)
            return XA_ENOENT;
        if ((cur & BUCKET_TAG_MASK) != tag)
            continue;
        const struct linux_sym *s = &t->syms[(cur & BUCKET_INDEX_MASK) - 1];
        if (strcmp(symtab_name(t, s), name) == 0) {
            if (addr)
                *addr = s->addr;
            return 0;
        }
    }
    return XA_ENOENT;
}

static bool is_absolute(const struct linux_sym *s)
{
    return s->type == 'a' || s->type == 'A';
}

int symtab_at(const struct linux_symtab *t, uint64_t addr, const char **name, uint64_t *off)
{
    int rc = symtab_complete(t);
    if (rc < 0)
        return rc;
    if (!t->buckets || t->n == 0 || t->syms[0].addr > addr)
        return XA_ENOENT;
    /* Last index with syms[i].addr <= addr. */
    size_t lo = 0, hi = t->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    /* Absolute symbols (per-cpu offsets, constants) name no code or data
     * here; skip back to a real one. Among equal addresses the last added
     * sorts last, so prefer the first of the run for a stable answer. */
    size_t i = lo + 1;
    while (i > 0 && is_absolute(&t->syms[i - 1]))
        i--;
    if (i == 0)
        return XA_ENOENT;
    i--;
    while (i > 0 && t->syms[i - 1].addr == t->syms[i].addr && !is_absolute(&t->syms[i - 1]))
        i--;
    if (name)
        *name = symtab_name(t, &t->syms[i]);
    if (off)
        *off = addr - t->syms[i].addr;
    return 0;
}

void symtab_free(struct linux_symtab *t)
{
    if (!t)
        return;
    if (t->lazy) {
        if (t->lazy->src.release)
            t->lazy->src.release(t->lazy->src.arg);
        free(t->lazy);
    }
    free(t->syms);
    free(t->names);
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}
