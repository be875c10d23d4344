/*
 * fuzz_btf.c -- kernel BTF from guest memory: the fuzzed bytes sit between
 * __start_BTF and __stop_BTF of a tiny guest (one 2 MiB kernel page), and
 * os/linux/btf.c loads them exactly as it does from a real kernel (size
 * and magic checks, libbpf's btf__new), resolves every offset the walks
 * need, then asks for the size of every named struct/union and the offset
 * of each of its members through the public entry points' code.
 *
 * Oracles beyond the sanitizers: no hang on type loops (libFuzzer's
 * timeout), every failure sets a one-line message.
 */
#include "fuzz_common.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/instance.h"
#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

#define GUEST_SIZE (4u << 20)
#define KTEXT 0xffffffff81000000ULL
#define KTEXT_PA 0x200000ULL
#define BTF_FUZZ_MAX_INPUT (2u << 20)
#define BTF_FUZZ_MAX_TYPES 24    /* types whose members are looked up (each lookup scans all types) */
#define BTF_FUZZ_MAX_MEMBERS 16

static struct fz_memfile mf;
static struct xa_instance *xa;

static void put64(uint8_t *img, uint64_t pa, uint64_t v)
{
    memcpy(img + pa, &v, 8);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    libbpf_set_print(NULL); /* rejections are expected; keep the fuzzer quiet */
    uint8_t *img = calloc(1, GUEST_SIZE);
    if (!img)
        abort();
    /* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> 2 MiB page at KTEXT_PA. */
    put64(img, 0x1000 + ((KTEXT >> 39) & 511) * 8, 0x2000 | 3);
    put64(img, 0x2000 + ((KTEXT >> 30) & 511) * 8, 0x3000 | 3);
    put64(img, 0x3000 + ((KTEXT >> 21) & 511) * 8, KTEXT_PA | 0x83);
    fz_memfile_open(&mf, "xa-fuzz-btf");
    fz_memfile_set(&mf, img, GUEST_SIZE);
    free(img);
    if (xa_init(mf.target, XA_INIT_NO_OS, &xa) != 0 ||
        xa_set_kernel_paging(xa, XA_PM_IA32E, 0x1000) != 0) {
        fprintf(stderr, "fuzz_btf: cannot open the guest: %s\n", xa_last_init_error());
        abort();
    }
    return 0;
}

static void check_msg(void)
{
    if (!xa->errmsg[0] || strchr(xa->errmsg, '\n'))
        abort();
}

/* Messages echo the names asked for; names taken from the fuzzed BTF may
 * hold newlines themselves, which is the caller's doing. */
static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void check_query_msg(const char *type, const char *member)
{
    if (!xa->errmsg[0])
        abort();
    if (printable(type) && (!member || printable(member)))
        check_msg();
}

/* Every named struct/union: its size, and each named member's offset. */
static void query_all(struct linux_priv *p)
{
    const struct btf *btf = p->lx.btf;
    uint32_t n = btf__type_cnt(btf);
    int done = 0;
    for (uint32_t id = 1; id < n && done < BTF_FUZZ_MAX_TYPES; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!t || !(btf_is_struct(t) || btf_is_union(t) || btf_is_typedef(t)))
            continue;
        const char *name = btf__name_by_offset(btf, t->name_off);
        if (!name || !*name)
            continue;
        done++;
        uint64_t v;
        if (linux_type_size(xa, name, &v) < 0)
            check_query_msg(name, NULL);
        if (btf_is_typedef(t))
            continue;
        const struct btf_member *m = btf_members(t);
        for (uint16_t i = 0; i < btf_vlen(t) && i < BTF_FUZZ_MAX_MEMBERS; i++, m++) {
            const char *mname = btf__name_by_offset(btf, m->name_off);
            if (!mname || !*mname)
                continue;
            if (linux_type_offset(xa, name, mname, &v) < 0)
                check_query_msg(name, mname);
            uint64_t count, esz;
            (void)linux_btf_array(&p->lx, name, mname, &count, &esz);
        }
    }
    uint64_t v;
    (void)linux_type_offset(xa, "module", "core_layout.base", &v);
    (void)linux_type_offset(xa, "dentry", "d_hash.pprev", &v);
    (void)linux_type_offset(xa, "task_struct", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r", &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BTF_FUZZ_MAX_INPUT)
        return 0;
    if (size && pwrite(mf.fd, data, size, KTEXT_PA) != (ssize_t)size)
        abort();
    xa_cache_flush(xa, XA_CACHE_ALL);

    struct linux_priv *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    if (symtab_add(&p->lx.syms, "__start_BTF", 11, KTEXT, 'R') < 0 ||
        symtab_add(&p->lx.syms, "__stop_BTF", 10, KTEXT + size, 'R') < 0 ||
        symtab_freeze(&p->lx.syms) < 0)
        abort();
    xa->errmsg[0] = '\0';
    if (linux_btf_load(xa, &p->lx, NULL) < 0) {
        check_msg();
    } else {
        xa->os = p; /* linux_type_offset/size find the BTF there */
        linux_offsets_resolve(p);
        query_all(p);
        xa->os = NULL;
    }
    linux_btf_free(&p->lx);
    symtab_free(&p->lx.syms);
    free(p);
    return 0;
}
