/*
 * btf.c -- kernel type information: the kernel's own BTF, read from guest
 * memory between __start_BTF and __stop_BTF, or a BTF file (raw or ELF);
 * parsed with libbpf. Member offsets are resolved by name, so one binary
 * follows the layout of whatever kernel it looks at.
 *
 * The BTF in guest memory is hostile input: its size is capped, its magic
 * checked, libbpf validates the type section, and our own searches bound
 * their recursion (a struct may claim to contain itself).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

/* A 6.x distribution kernel carries ~5 MiB of BTF. */
#define BTF_MAX_BYTES (64u << 20)
#define BTF_MAGIC 0xeB9F
/* Anonymous struct/union nesting we follow; real kernels use 3 or 4. */
#define BTF_MAX_NESTING 16
/* Typedef/const/volatile chains we follow. */
#define BTF_MAX_MODIFIERS 32
#define MEMBER_NAME_MAX 128
/* Members examined by one lookup, across all anonymous members searched: a
 * struct made of anonymous members that are itself would otherwise cost
 * (members ^ BTF_MAX_NESTING). task_struct with its nested members is ~1000. */
#define BTF_MAX_MEMBER_VISITS (1u << 16)

/* Struct, union and typedef names -> the first id of each kind, built in
 * one pass over the types at the first lookup: btf__find_by_name_kind() is
 * itself such a pass, and start-up looks up a few dozen names in the ~100k
 * types of a distribution kernel. A BTF with more names than this is
 * searched instead (hostile input: the index stays small). */
#define BTF_INDEX_MAX_NAMES (256u << 10)
enum { IDX_STRUCT, IDX_UNION, IDX_TYPEDEF };
/* A name's entry, filled in type order (written once, in sequence). */
struct btf_name_entry {
    const char *name; /* in the BTF's strings */
    uint32_t id[3];   /* first id of each kind, 0: none */
};
/* The hash table holds 8 bytes a slot, so that the ~2x names of random
 * probes stay in the cache while the table is built (24-byte slots with
 * the entry inside missed it on nearly every insert). */
struct btf_name_slot {
    uint32_t hash;  /* btf_name_hash(name): most probes end here, no strcmp */
    uint32_t entry; /* index + 1 into entries; 0: empty */
};
struct linux_btf_memo {
    bool tried; /* the index was built, or could not be */
    uint32_t mask;
    struct btf_name_slot *slots;
    struct btf_name_entry *entries;
};

static uint32_t btf_name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a; names are short */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int kind_slot(const struct btf_type *t)
{
    switch (btf_kind(t)) {
    case BTF_KIND_STRUCT:
        return IDX_STRUCT;
    case BTF_KIND_UNION:
        return IDX_UNION;
    case BTF_KIND_TYPEDEF:
        return IDX_TYPEDEF;
    default:
        return -1;
    }
}

static struct btf_name_slot *index_slot(const struct linux_btf_memo *m, const char *name,
                                        uint32_t hash)
{
    for (uint32_t i = hash & m->mask;; i = (i + 1) & m->mask) {
        struct btf_name_slot *sl = &m->slots[i];
        if (!sl->entry ||
            (sl->hash == hash && strcmp(m->entries[sl->entry - 1].name, name) == 0))
            return sl; /* the table is never full: 2x the names */
    }
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
/* How far ahead the index build fetches names and slots: the BTF's strings
 * and the slots are read in random order, and each miss waited alone. */
#define INDEX_AHEAD 16

/* The named struct, union and typedef types of @btf, in id order: ids,
 * names (possibly empty) and kinds (arrays of room n). Returns how many. */
static uint32_t named_types(const struct btf *btf, uint32_t n, uint32_t *ids,
                            const char **names, uint8_t *kinds)
{
    uint32_t k = 0;
    for (uint32_t id = 1; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        int kind = t && t->name_off ? kind_slot(t) : -1;
        if (kind < 0)
            continue;
        const char *name = btf__name_by_offset(btf, t->name_off);
        if (!name)
            continue;
        ids[k] = id; /* the name is not read yet: it is fetched ahead */
        names[k] = name;
        kinds[k++] = (uint8_t)kind;
    }
    return k;
}

static void build_index(const struct btf *btf, struct linux_btf_memo *m)
{
    m->tried = true;
    uint32_t n = btf__type_cnt(btf);
    uint32_t *ids = malloc((size_t)n * sizeof(*ids));
    const char **names = malloc((size_t)n * sizeof(*names));
    uint8_t *kinds = malloc(n);
    uint32_t *hashes = malloc((size_t)n * sizeof(*hashes));
    uint32_t count = ids && names && kinds && hashes ? named_types(btf, n, ids, names, kinds) : 0;
    uint32_t cap = 16;
    while (cap < 2 * count)
        cap *= 2;
    /* Zeroed by writing, not calloc: see symtab_freeze(). */
    if (hashes && count <= BTF_INDEX_MAX_NAMES) {
        m->slots = malloc(cap * sizeof(*m->slots));
        m->entries = malloc((count ? count : 1) * sizeof(*m->entries));
    }
    if (!m->slots || !m->entries) {
        free(m->slots);
        free(m->entries);
        m->slots = NULL;
        m->entries = NULL;
        count = 0;
    }
    if (m->slots) {
        memset(m->slots, 0, cap * sizeof(*m->slots));
        m->mask = cap - 1;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (i + INDEX_AHEAD < count)
            PREFETCH(names[i + INDEX_AHEAD]);
        hashes[i] = btf_name_hash(names[i]);
    }
    uint32_t used = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (i + INDEX_AHEAD < count)
            PREFETCH(&m->slots[hashes[i + INDEX_AHEAD] & m->mask]);
        if (!names[i][0])
            continue; /* an empty name is no name */
        struct btf_name_slot *sl = index_slot(m, names[i], hashes[i]);
        if (!sl->entry) {
            m->entries[used] = (struct btf_name_entry){.name = names[i]};
            sl->hash = hashes[i];
            sl->entry = ++used;
        }
        struct btf_name_entry *e = &m->entries[sl->entry - 1];
        if (!e->id[kinds[i]]) /* the first of the name and kind, as libbpf's search */
            e->id[kinds[i]] = ids[i];
    }
    free(ids);
    free(names);
    free(kinds);
    free(hashes);
}

static void free_index(struct linux_btf_memo *m)
{
    if (m) {
        free(m->slots);
        free(m->entries);
    }
    free(m);
}

/* The kernel's BTF, @size bytes at @data read from @start. */
static int parse_btf(struct xa_instance *xa, struct linux_os *lx, const uint8_t *data,
                     size_t size, uint64_t start, struct btf **out)
{
    if ((data[0] | (data[1] << 8)) != BTF_MAGIC)
        return xa__set_error(xa, XA_EBADDATA,
                             "no BTF magic at __start_BTF (0x%llx) -- give a BTF file with --btf",
                             (unsigned long long)start);
    errno = 0;
    struct btf *btf = btf__new(data, (uint32_t)size); /* copies the data */
    int err = errno;
    if (!btf)
        return xa__set_error(xa, XA_EBADDATA, "kernel BTF in memory does not parse (%s)",
                             strerror(err ? err : EINVAL));
    /* A mapped file that shrank while libbpf copied it gave zeros. */
    int rc = xa__memory_check(xa);
    if (rc < 0) {
        btf__free(btf);
        return rc;
    }
    *out = btf;
    snprintf(lx->types_from, sizeof(lx->types_from), "BTF in guest memory");
    return 0;
}

static int load_from_memory(struct xa_instance *xa, struct linux_os *lx, struct btf **out)
{
    uint64_t start, stop;
    if (symtab_lookup(&lx->syms, "__start_BTF", &start) < 0 ||
        symtab_lookup(&lx->syms, "__stop_BTF", &stop) < 0)
        return xa__set_error(xa, XA_ENOENT,
                             "kernel has no BTF in memory (CONFIG_DEBUG_INFO_BTF?): "
                             "no __start_BTF/__stop_BTF symbols -- give a BTF file with --btf");
    if (stop <= start || stop - start < 24 || stop - start > BTF_MAX_BYTES)
        return xa__set_error(xa, XA_EBADDATA,
                             "kernel BTF size %llu (0x%llx..0x%llx) is implausible -- give a "
                             "BTF file with --btf",
                             (unsigned long long)(stop - start), (unsigned long long)start,
                             (unsigned long long)stop);
    size_t size = (size_t)(stop - start);
    /* Static mapped memory: libbpf copies it straight from the mapping. */
    const uint8_t *in_place;
    if (xa__va_span_in_place(xa, 0, start, size, &in_place) == 0) {
        xa__span_prefault(in_place, size);
        return parse_btf(xa, lx, in_place, size, start, out);
    }
    uint8_t *buf = lx->spare_len >= size ? lx->spare : realloc(lx->spare, size);
    if (!buf)
        return xa__set_error(xa, XA_ENOMEM, "out of memory for %zu bytes of BTF", size);
    lx->spare = NULL; /* buf owns it now */
    lx->spare_len = 0;
    size_t got = 0;
    int rc = xa__read_va(xa, 0, start, buf, size, &got);
    if (rc < 0) {
        free(buf);
        return xa__prefix_error(xa, rc, "reading kernel BTF (%zu of %zu bytes read)", got, size);
    }
    rc = parse_btf(xa, lx, buf, size, start, out);
    free(buf);
    return rc;
}

static int load_from_file(struct xa_instance *xa, struct linux_os *lx, const char *path,
                          struct btf **out)
{
    /* What libbpf would only call an I/O error, said in words */
    struct stat st;
    if (stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)))
        return xa__set_error(xa, XA_EFORMAT, "BTF file %s is %s", path,
                             S_ISDIR(st.st_mode) ? "a directory" : "empty");
    /* libbpf's own messages would be lines of their own beside ours */
    libbpf_print_fn_t print = libbpf_set_print(NULL);
    errno = 0;
    struct btf *btf = btf__parse(path, NULL); /* raw BTF or an ELF with .BTF */
    int err = errno ? errno : EINVAL;
    libbpf_set_print(print);
    if (!btf) {
        if (err == ENOENT)
            return xa__set_error(xa, XA_ENOENT, "cannot load BTF file %s: %s", path,
                                 strerror(err));
        char why[128]; /* libbpf's codes (4000 and up) in words too */
        libbpf_strerror(err, why, sizeof(why));
        return xa__set_error(xa, XA_EFORMAT, "cannot load BTF file %s: %s (it is neither raw "
                             "BTF nor an ELF file with a .BTF section)", path, why);
    }
    *out = btf;
    snprintf(lx->types_from, sizeof(lx->types_from), "BTF file %s", path);
    return 0;
}

int linux_btf_load(struct xa_instance *xa, struct linux_os *lx, const char *path)
{
    struct btf *btf = NULL;
    if (path) { /* the spare buffer is not needed */
        free(lx->spare);
        lx->spare = NULL;
        lx->spare_len = 0;
    }
    int rc = path ? load_from_file(xa, lx, path, &btf) : load_from_memory(xa, lx, &btf);
    if (rc < 0)
        return rc;
    lx->btf = btf;
    lx->num_btf_types = btf__type_cnt(btf) - 1; /* id 0 is void */
    lx->btf_memo = calloc(1, sizeof(*lx->btf_memo)); /* none: every lookup searches */
    return 0;
}

void linux_btf_free(struct linux_os *lx)
{
    btf__free(lx->btf);
    free(lx->spare);
    lx->spare = NULL;
    lx->spare_len = 0;
    free_index(lx->btf_memo);
    lx->btf_memo = NULL;
    lx->btf = NULL;
    lx->num_btf_types = 0;
}

/* ---- lookups ----------------------------------------------------------- */

/* Skip typedefs and qualifiers (bounded). Returns the id or -1. */
static int64_t skip_modifiers(const struct btf *btf, uint32_t id)
{
    for (int i = 0; i < BTF_MAX_MODIFIERS; i++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!t)
            return -1;
        switch (btf_kind(t)) {
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_CONST:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
            id = t->type;
            break;
        default:
            return id;
        }
    }
    return -1;
}

/* Struct or union named @name (also through a typedef): a search of every
 * type, so memoised below. */
/* The struct or union a typedef @id names, or -1. */
static int64_t typedef_target(const struct btf *btf, uint32_t id)
{
    int64_t real = skip_modifiers(btf, id);
    if (real < 0)
        return -1;
    const struct btf_type *t = btf__type_by_id(btf, (uint32_t)real);
    if (!t || !(btf_is_struct(t) || btf_is_union(t)))
        return -1;
    return real;
}

static int64_t search_composite(const struct btf *btf, const char *name)
{
    int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
    if (id <= 0)
        id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
    if (id <= 0) {
        id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
        return id <= 0 ? -1 : typedef_target(btf, (uint32_t)id);
    }
    return id;
}

/* Struct or union named @name (also through a typedef). */
static int64_t find_composite(const struct linux_os *lx, const char *name)
{
    struct linux_btf_memo *m = lx->btf_memo;
    if (m && !m->tried)
        build_index(lx->btf, m);
    if (!m || !m->slots)
        return search_composite(lx->btf, name);
    const struct btf_name_slot *sl = index_slot(m, name, btf_name_hash(name));
    if (!sl->entry)
        return -1;
    const struct btf_name_entry *e = &m->entries[sl->entry - 1];
    if (e->id[IDX_STRUCT])
        return e->id[IDX_STRUCT];
    if (e->id[IDX_UNION])
        return e->id[IDX_UNION];
    return e->id[IDX_TYPEDEF] ? typedef_target(lx->btf, e->id[IDX_TYPEDEF]) : -1;
}

/* Find member @name (length @len) in struct/union @id, descending into
 * anonymous members. Adds the member's bit offset to *bits, sets *type.
 * 0, XA_ENOENT, XA_EINVAL for a bitfield, or XA_ELIMIT when *budget runs out. */
static int find_member(const struct btf *btf, uint32_t id, const char *name, size_t len,
                       uint64_t *bits, uint32_t *type, int depth, uint32_t *budget)
{
    if (depth > BTF_MAX_NESTING)
        return XA_ENOENT;
    int64_t real = skip_modifiers(btf, id);
    if (real < 0)
        return XA_ENOENT;
    const struct btf_type *t = btf__type_by_id(btf, (uint32_t)real);
    if (!t || !(btf_is_struct(t) || btf_is_union(t)))
        return XA_ENOENT;
    const struct btf_member *m = btf_members(t);
    for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
        if (*budget == 0)
            return XA_ELIMIT;
        --*budget;
        const char *mname = btf__name_by_offset(btf, m->name_off);
        uint32_t boff = btf_member_bit_offset(t, i);
        if (mname && mname[0]) {
            if (strlen(mname) != len || memcmp(mname, name, len) != 0)
                continue;
            if (btf_member_bitfield_size(t, i) != 0 || boff % 8 != 0)
                return XA_EINVAL;
            *bits += boff;
            *type = m->type;
            return 0;
        }
        uint64_t sub = 0;
        int rc = find_member(btf, m->type, name, len, &sub, type, depth + 1, budget);
        if (rc == 0) {
            *bits += boff + sub;
            return 0;
        }
        if (rc != XA_ENOENT)
            return rc;
    }
    return XA_ENOENT;
}

/* Resolve "a.b.c" in @type: byte offset and the last member's type id. */
static int resolve_path(const struct linux_os *lx, const char *type, const char *path,
                        uint64_t *off, uint32_t *last_type)
{
    const struct btf *btf = lx->btf;
    if (!btf)
        return XA_ENOENT;
    int64_t id = find_composite(lx, type);
    if (id < 0)
        return XA_ENOENT;
    uint64_t bits = 0;
    uint32_t cur = (uint32_t)id;
    const char *p = path;
    for (int hops = 0; hops < BTF_MAX_NESTING; hops++) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > MEMBER_NAME_MAX)
            return XA_EINVAL;
        uint32_t mtype = 0, budget = BTF_MAX_MEMBER_VISITS;
        int rc = find_member(btf, cur, p, len, &bits, &mtype, 0, &budget);
        if (rc < 0)
            return rc;
        cur = mtype;
        if (!dot) {
            *off = bits / 8;
            if (last_type)
                *last_type = cur;
            return 0;
        }
        p = dot + 1;
    }
    return XA_EINVAL;
}

int linux_btf_member(const struct linux_os *lx, const char *type, const char *path,
                     uint64_t *off)
{
    return resolve_path(lx, type, path, off, NULL);
}

int linux_btf_array(const struct linux_os *lx, const char *type, const char *path,
                    uint64_t *count, uint64_t *elem_size)
{
    uint64_t off;
    uint32_t tid;
    int rc = resolve_path(lx, type, path, &off, &tid);
    if (rc < 0)
        return rc;
    int64_t real = skip_modifiers(lx->btf, tid);
    const struct btf_type *t = real < 0 ? NULL : btf__type_by_id(lx->btf, (uint32_t)real);
    if (!t || !btf_is_array(t))
        return XA_EINVAL;
    const struct btf_array *a = btf_array(t);
    int64_t esz = btf__resolve_size(lx->btf, a->type);
    if (esz <= 0)
        return XA_EINVAL;
    *count = a->nelems;
    *elem_size = (uint64_t)esz;
    return 0;
}

int linux_type_offset(struct xa_instance *xa, const char *type, const char *member,
                      uint64_t *off)
{
    const struct linux_os *lx = linux_os(xa);
    if (!lx->btf)
        return xa__set_error(xa, XA_ENOENT, "no kernel type information (no BTF loaded)");
    int rc = resolve_path(lx, type, member, off, NULL);
    if (rc == XA_EINVAL)
        return xa__set_error(xa, XA_EINVAL, "%s.%s is a bitfield or a malformed member name",
                             type, member);
    if (rc < 0)
        return xa__set_error(xa, XA_ENOENT, "no member %s in struct %s", member, type);
    return 0;
}

int linux_type_size(struct xa_instance *xa, const char *type, uint64_t *size)
{
    const struct linux_os *lx = linux_os(xa);
    if (!lx->btf)
        return xa__set_error(xa, XA_ENOENT, "no kernel type information (no BTF loaded)");
    int64_t id = find_composite(lx, type);
    int64_t sz = id < 0 ? -1 : btf__resolve_size(lx->btf, (uint32_t)id);
    if (sz < 0)
        return xa__set_error(xa, XA_ENOENT, "no struct or union %s in the kernel's BTF", type);
    *size = (uint64_t)sz;
    return 0;
}

/* ---- the offsets the walks need ---------------------------------------- */

struct wanted {
    uint64_t *dst;
    const char *type;
    const char *paths[3]; /* alternatives, first found wins */
};

/* Resolve each entry; on the first required one missing, describe it in
 * @why and return false. Optional entries stay LX_NO_OFFSET. */
static bool resolve_all(const struct linux_os *lx, const struct wanted *w, size_t n,
                        bool required, char *why, size_t why_len)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        *w[i].dst = LX_NO_OFFSET;
        for (size_t k = 0; k < 3 && w[i].paths[k]; k++)
            if (linux_btf_member(lx, w[i].type, w[i].paths[k], w[i].dst) == 0)
                break;
        if (*w[i].dst == LX_NO_OFFSET && required && ok) {
            snprintf(why, why_len, "the kernel's BTF has no %s.%s", w[i].type, w[i].paths[0]);
            ok = false;
        }
    }
    return ok;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t composite_size(const struct linux_os *lx, const char *name)
{
    int64_t id = find_composite(lx, name);
    int64_t sz = id > 0 ? btf__resolve_size(lx->btf, (uint32_t)id) : -1;
    return sz > 0 ? (uint64_t)sz : LX_NO_OFFSET;
}

void linux_offsets_resolve(struct linux_priv *p)
{
    struct linux_os *lx = &p->lx;
    struct linux_offsets *o = &lx->off;
    struct linux_more_offsets *m = &p->more;

    const struct wanted task_req[] = {
        {&o->task_tasks, "task_struct", {"tasks"}},
        {&o->task_pid, "task_struct", {"pid"}},
        {&o->task_tgid, "task_struct", {"tgid"}},
        {&o->task_comm, "task_struct", {"comm"}},
        {&o->task_real_parent, "task_struct", {"real_parent"}},
        {&o->task_mm, "task_struct", {"mm"}},
        {&o->task_real_cred, "task_struct", {"real_cred"}},
        {&o->task_state, "task_struct", {"__state", "state"}},
        {&o->task_exit_state, "task_struct", {"exit_state"}},
        {&o->task_flags, "task_struct", {"flags"}},
        {&o->task_start_time, "task_struct", {"start_time"}},
        {&o->cred_uid, "cred", {"uid.val", "uid"}},
        {&o->cred_gid, "cred", {"gid.val", "gid"}},
        {&o->cred_euid, "cred", {"euid.val", "euid"}},
        {&o->cred_egid, "cred", {"egid.val", "egid"}},
        {&o->mm_pgd, "mm_struct", {"pgd"}},
    };
    const struct wanted task_opt[] = {
        {&o->task_parent, "task_struct", {"parent"}},
        {&o->task_active_mm, "task_struct", {"active_mm"}},
        {&o->task_cred, "task_struct", {"cred"}},
        {&o->task_thread_group, "task_struct", {"thread_group"}},
        {&o->task_signal, "task_struct", {"signal"}},
        {&o->mm_map_count, "mm_struct", {"map_count"}},
    };
    const struct wanted mod_req[] = {
        {&o->module_list, "module", {"list"}},
        {&o->module_name, "module", {"name"}},
        {&o->module_state, "module", {"state"}},
    };
    const struct wanted mod_opt[] = {
        {&o->module_refcnt, "module", {"refcnt"}},
    };
    const struct wanted vma_req[] = {
        {&o->vma_start, "vm_area_struct", {"vm_start"}},
        {&o->vma_end, "vm_area_struct", {"vm_end"}},
        {&o->vma_flags, "vm_area_struct", {"vm_flags", "__vm_flags"}},
        {&o->vma_pgoff, "vm_area_struct", {"vm_pgoff"}},
        {&o->vma_file, "vm_area_struct", {"vm_file"}},
        {&m->mm_start_brk, "mm_struct", {"start_brk"}},
        {&m->mm_brk, "mm_struct", {"brk"}},
        {&m->mm_start_stack, "mm_struct", {"start_stack"}},
        {&o->file_f_path, "file", {"f_path"}},
        {&o->path_dentry, "path", {"dentry"}},
        {&o->dentry_d_name, "dentry", {"d_name"}},
        {&o->dentry_d_parent, "dentry", {"d_parent"}},
        {&o->qstr_name, "qstr", {"name"}},
        {&o->qstr_len, "qstr", {"len"}},
    };
    const struct wanted vma_opt[] = {
        {&o->mm_mm_mt, "mm_struct", {"mm_mt"}},
        {&o->mm_mmap, "mm_struct", {"mmap"}},
        {&o->vma_next, "vm_area_struct", {"vm_next"}},
        {&m->vma_prev, "vm_area_struct", {"vm_prev"}},
        {&m->vma_mm, "vm_area_struct", {"vm_mm"}},
        {&o->maple_tree_root, "maple_tree", {"ma_root"}},
        {&o->path_mnt, "path", {"mnt"}},
        {&m->vma_ops, "vm_area_struct", {"vm_ops"}},
        {&m->vma_private_data, "vm_area_struct", {"vm_private_data"}},
        {&m->special_mapping_name, "vm_special_mapping", {"name"}},
        {&m->mr64_pivot, "maple_range_64", {"pivot"}},
        {&m->mr64_slot, "maple_range_64", {"slot"}},
        {&m->mr64_meta, "maple_range_64", {"meta"}},
        {&m->ma64_pivot, "maple_arange_64", {"pivot"}},
        {&m->ma64_slot, "maple_arange_64", {"slot"}},
        {&m->ma64_meta, "maple_arange_64", {"meta"}},
        {&m->meta_end, "maple_metadata", {"end"}},
        {&m->mount_mnt, "mount", {"mnt"}},
        {&m->mount_parent, "mount", {"mnt_parent"}},
        {&m->mount_mountpoint, "mount", {"mnt_mountpoint"}},
        {&m->vfsmount_mnt_root, "vfsmount", {"mnt_root"}},
        {&m->dentry_hash_pprev, "dentry", {"d_hash.pprev"}},
    };

    bool tasks_ok = resolve_all(lx, task_req, N(task_req), true, p->tasks_missing,
                                sizeof(p->tasks_missing));
    resolve_all(lx, task_opt, N(task_opt), false, NULL, 0);
    bool mods_ok = resolve_all(lx, mod_req, N(mod_req), true, p->modules_missing,
                               sizeof(p->modules_missing));
    resolve_all(lx, mod_opt, N(mod_opt), false, NULL, 0);
    bool vmas_ok = resolve_all(lx, vma_req, N(vma_req), true, p->vmas_missing,
                               sizeof(p->vmas_missing));
    resolve_all(lx, vma_opt, N(vma_opt), false, NULL, 0);

    /* Module memory: 6.1 core_layout, or 6.4+ mem[MOD_TEXT..]. */
    m->module_mem_stride = 0;
    m->module_mem_count = 1;
    o->module_core_base = o->module_core_size = LX_NO_OFFSET;
    uint64_t count, esz, base_in, size_in;
    if (linux_btf_member(lx, "module", "core_layout.base", &o->module_core_base) == 0 &&
        linux_btf_member(lx, "module", "core_layout.size", &o->module_core_size) == 0) {
        /* one layout */
    } else if (linux_btf_array(lx, "module", "mem", &count, &esz) == 0 && count > 0 &&
               count <= 16 && linux_btf_member(lx, "module", "mem", &o->module_core_base) == 0 &&
               linux_btf_member(lx, "module_memory", "base", &base_in) == 0 &&
               linux_btf_member(lx, "module_memory", "size", &size_in) == 0) {
        o->module_core_size = o->module_core_base + size_in;
        o->module_core_base += base_in;
        m->module_mem_stride = esz;
        m->module_mem_count = count;
    } else if (mods_ok) {
        snprintf(p->modules_missing, sizeof(p->modules_missing),
                 "the kernel's BTF has neither module.core_layout nor module.mem");
        mods_ok = false;
    }

    /* Maple node arrays: their lengths come from BTF too. */
    uint64_t n_slots;
    if (linux_btf_array(lx, "maple_range_64", "pivot", &m->mr64_npivots, &esz) != 0 ||
        esz != 8 || linux_btf_array(lx, "maple_range_64", "slot", &n_slots, &esz) != 0 ||
        n_slots != m->mr64_npivots + 1)
        m->mr64_npivots = 0;
    if (linux_btf_array(lx, "maple_arange_64", "pivot", &m->ma64_npivots, &esz) != 0 ||
        esz != 8 || linux_btf_array(lx, "maple_arange_64", "slot", &n_slots, &esz) != 0 ||
        n_slots != m->ma64_npivots + 1)
        m->ma64_npivots = 0;
    if (vmas_ok && o->mm_mm_mt != LX_NO_OFFSET) {
        if (o->maple_tree_root == LX_NO_OFFSET || m->mr64_npivots == 0 || m->ma64_npivots == 0 ||
            m->mr64_meta == LX_NO_OFFSET || m->ma64_meta == LX_NO_OFFSET ||
            m->meta_end == LX_NO_OFFSET) {
            snprintf(p->vmas_missing, sizeof(p->vmas_missing),
                     "the kernel's BTF lacks the maple tree node layout");
            vmas_ok = false;
        }
    } else if (vmas_ok && (o->mm_mmap == LX_NO_OFFSET || o->vma_next == LX_NO_OFFSET)) {
        snprintf(p->vmas_missing, sizeof(p->vmas_missing),
                 "the kernel's BTF has neither mm_struct.mm_mt nor mm_struct.mmap");
        vmas_ok = false;
    }

    o->task_struct_size = composite_size(lx, "task_struct");
    o->module_struct_size = composite_size(lx, "module");

    if (tasks_ok)
        p->tasks_missing[0] = '\0';
    if (mods_ok)
        p->modules_missing[0] = '\0';
    if (vmas_ok)
        p->vmas_missing[0] = '\0';
    lx->have_offsets = tasks_ok;
}
