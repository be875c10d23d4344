/*
 * make_seeds_guest.c -- seed inputs for fuzz_btf: the BTF blobs that
 * tests/unit/synthetic_guest.h's guest (the OS layer test's) is described
 * with (current and older layouts), made with libbpf by its builder, plus
 * small hostile ones: a struct that contains itself, a typedef loop, a
 * member path through anonymous unions.
 * Also seed patch lists for fuzz_walks (see its input format), each one a
 * hostile change to the same guest: a task list that loops, a task pointer
 * into unmapped memory, a maple node that points at itself, a module list
 * that loops, a dentry parent loop, a page table that maps itself.
 * Usage: make_seeds_guest BTF_OUTDIR WALKS_OUTDIR
 */
#include <stdio.h>

#include "synthetic_guest.h"

static int save(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        return -1;
    }
    fclose(f);
    return 0;
}

static int save_btf(const char *dir, const char *name, struct btf *b)
{
    uint32_t size;
    const void *raw = btf__raw_data(b, &size);
    int rc = save(dir, name, raw, size);
    btf__free(b);
    return rc;
}

/* struct task_struct { struct task_struct self; } and friends. */
static struct btf *self_containing(void)
{
    struct btf *b = btf__new_empty();
    int t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int s = btf__add_struct(b, "task_struct", 64);
    btf__add_field(b, "pid", t_int, 0, 0);
    btf__add_field(b, NULL, s + 1, 64, 0); /* anonymous: the typedef below */
    btf__add_typedef(b, "task_t", s);
    int loop1 = btf__add_typedef(b, "cred", 0);
    int loop2 = btf__add_typedef(b, "loop2", loop1);
    (void)loop2;
    btf__add_struct(b, "module", 32);
    btf__add_field(b, "list", s, 0, 0);
    return b;
}

/* ---- fuzz_walks patch lists ---- */

struct patches {
    uint8_t bytes[1 + 12 * 8];
    size_t len;
};

static uint64_t heap_len_now;

/* Structure-area offset of a guest virtual address (heap or kernel image). */
static uint64_t area_off(uint64_t va)
{
    uint64_t pa = pa_of(va);
    return pa >= KPHYS ? heap_len_now + (pa - KPHYS) : pa - 0x200000;
}

static void patch(struct patches *p, uint64_t off, uint8_t kind, uint64_t val)
{
    uint8_t *r = p->bytes + p->len;
    r[0] = (uint8_t)off, r[1] = (uint8_t)(off >> 8), r[2] = (uint8_t)(off >> 16), r[3] = kind;
    memcpy(r + 4, &val, 8);
    p->len += 12;
}

static int walks_seeds(const char *dir, void *btf, uint32_t btf_size, int variant)
{
    la57 = old_layout = variant == 1;
    dm_base = la57 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
    build_guest(false, btf, btf_size);
    heap_len_now = heap_top - 0x200000;
    char name[64];
    struct patches p = {.bytes = {(uint8_t)variant}, .len = 1};
#define SAVE(what)                                                                             \
    do {                                                                                       \
        snprintf(name, sizeof(name), "v%d-%s", variant, what);                                 \
        if (save(dir, name, p.bytes, p.len) < 0)                                               \
            return -1;                                                                         \
        p.len = 1;                                                                             \
    } while (0)
    SAVE("clean");
    patch(&p, area_off(task_va[3] + T_TASKS), 0, task_va[1] + T_TASKS);
    SAVE("task-loop");
    patch(&p, area_off(task_va[2] + T_TASKS), 0, dm(0x7000000));
    SAVE("task-unmapped");
    patch(&p, area_off(mod_va[1] + MOD_LIST), 0, mod_va[0] + MOD_LIST);
    SAVE("module-loop");
    uint64_t bin;
    memcpy(&bin, img + pa_of(init_dentry + D_PARENT), 8);
    patch(&p, area_off(bin + D_PARENT), 0, init_dentry);
    SAVE("dentry-loop");
    patch(&p, area_off(task_va[1] + T_PID), 1, 0x7fffffff);
    patch(&p, area_off(task_va[1] + T_COMM), 0, 0x4141414141414141ULL);
    patch(&p, area_off(task_va[1] + T_COMM + 8), 0, 0x4141414141414141ULL);
    SAVE("task-fields");
    /* The kernel's top-level table maps itself in every slot it uses. */
    uint64_t top = kva(K_TOP_PGT);
    patch(&p, area_off(top + 511 * 8), 0, kpa(K_TOP_PGT) | 3);
    patch(&p, area_off(top + ((DM >> (la57 ? 48 : 39)) & 511) * 8), 0, kpa(K_TOP_PGT) | 3);
    SAVE("pgtable-self");
    if (variant == 0) {
        patch(&p, area_off(maple_root_node + 88), 0, ENODE(maple_root_node, 3));
        SAVE("maple-self");
        patch(&p, area_off(leaf2_node + 128), 0, ENODE(maple_root_node, 3));
        patch(&p, area_off(maple_root_node + 80), 0, ENODE(leaf2_node, 1));
        SAVE("maple-cross");
    } else {
        patch(&p, area_off(vma_va[2] + V_NEXT), 0, vma_va[0]);
        SAVE("vma-list-loop");
    }
#undef SAVE
    return 0;
}

/* Regression: a struct of 64 anonymous members that are the struct itself
 * made every failed member lookup cost 64^16 steps (found by the hostile
 * BTF test; fixed with a per-lookup visit budget in os/linux/btf.c). */
static struct btf *anonymous_self_members(void)
{
    struct btf *b = btf__new_empty();
    int t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int s = btf__add_struct(b, "task_struct", 256);
    btf__add_field(b, "pid", t_int, 0, 0);
    for (int i = 0; i < 64; i++)
        btf__add_field(b, NULL, s, 32 + 32 * i, 0);
    s = btf__add_struct(b, "mm_struct", 256);
    for (int i = 0; i < 64; i++)
        btf__add_field(b, NULL, s, 32 * i, 0);
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BTF_OUTDIR WALKS_OUTDIR\n", argv[0]);
        return 2;
    }
    img = calloc(1, IMG_SIZE);
    for (int v = 0; v < 2; v++) {
        uint32_t sz;
        old_layout = v == 1;
        void *b = build_btf(&sz);
        if (walks_seeds(argv[2], b, sz, v) < 0)
            return 1;
        free(b);
    }
    uint32_t size;
    old_layout = false;
    void *btf = build_btf(&size);
    if (save(argv[1], "guest-btf", btf, size) < 0)
        return 1;
    free(btf);
    old_layout = true;
    btf = build_btf(&size);
    if (save(argv[1], "guest-btf-old-layout", btf, size) < 0)
        return 1;
    free(btf);
    if (save_btf(argv[1], "self-containing", self_containing()) < 0 ||
        save_btf(argv[1], "regress-anonymous-self-members", anonymous_self_members()) < 0)
        return 1;
    return 0;
}
