/*
 * fuzz_walks.c -- the process, module and memory-map walks over a guest
 * whose kernel structures the fuzzer rewrites.
 *
 * The guest is tests/unit/synthetic_guest.h's kernel (shared with the OS
 * layer test): page tables, init_task and four tasks, creds,
 * an mm with a maple tree (or, in the second variant, 5-level paging with
 * the older vm_next list, task_struct.state and module.mem[]), dentries
 * across two mounts, two modules. Each variant is built once into an
 * in-memory file and opened once with its System.map and BTF; every input
 * is a list of patches applied to the structure area (the heap below the
 * kernel and the first 64 KiB of the kernel image, page tables included),
 * undone after the walks.
 *
 * Input: byte 0 picks the variant; then records of 12 bytes:
 *   u24 offset into the structure area, u8 kind, u64 value
 * kind 0: write u64; 1: u32; 2: u8; 3: a direct-map pointer into the heap
 * (value modulo its size); 4: a kernel-image pointer; 5: a known object
 * (task, mm, maple node, module) plus a small offset; 6: an encoded maple
 * node pointer; 7: copy 8 bytes from another offset of the area.
 *
 * Oracles beyond the sanitizers: walks end (libFuzzer's timeout), return 1,
 * 0 or a negative XA_E*, set one-line messages; strings are terminated;
 * VMAs come in increasing address order.
 */
#include "fuzz_common.h"

#include "synthetic_guest.h"
#include "xenaccess.h"
#include "xenaccess_os.h"

#define WALK_MAX_PATCHES 64
#define WALK_MAX_PROCS 200
#define WALK_MAX_VMA_PROCS 8
#define WALK_MAX_VMAS 200
#define WALK_MAX_MODULES 100
#define KERNEL_AREA 0x10000u /* kernel image bytes open to patching (below the BTF) */

struct variant {
    struct fz_memfile image, sysmap, btf;
    uint8_t *map;        /* the image, shared with the file backend's mapping */
    uint8_t *pristine;   /* heap + kernel area as built */
    uint64_t heap_len;   /* [0x200000, 0x200000 + heap_len) */
    uint64_t direct_map; /* the variant's direct-map base */
    uint64_t objects[16];
    size_t nr_objects;
    struct xa_instance *xa;
};

static struct variant variants[2];

static uint64_t area_len(const struct variant *v)
{
    return v->heap_len + KERNEL_AREA;
}

/* Physical address of byte @off of the structure area. */
static uint64_t area_pa(const struct variant *v, uint64_t off)
{
    return off < v->heap_len ? 0x200000 + off : KPHYS + (off - v->heap_len);
}

static void save_area(struct variant *v)
{
    v->pristine = malloc(area_len(v));
    if (!v->pristine)
        abort();
    memcpy(v->pristine, img + 0x200000, v->heap_len);
    memcpy(v->pristine + v->heap_len, img + KPHYS, KERNEL_AREA);
}

static void restore_area(struct variant *v)
{
    memcpy(v->map + 0x200000, v->pristine, v->heap_len);
    memcpy(v->map + KPHYS, v->pristine + v->heap_len, KERNEL_AREA);
}

static void write_sysmap(struct fz_memfile *m, uint32_t btf_size)
{
    char text[2048];
    int n = guest_sysmap_text(text, sizeof(text));
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __start_BTF\n",
                  (unsigned long long)(KLINK + K_BTF));
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __stop_BTF\n",
                  (unsigned long long)(KLINK + K_BTF + btf_size));
    fz_memfile_open(m, "xa-fuzz-sysmap");
    fz_memfile_set(m, text, (size_t)n);
}

static void build_variant(struct variant *v, bool five_level_old_layout)
{
    la57 = old_layout = five_level_old_layout;
    dm_base = la57 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
    uint32_t btf_size;
    void *btf = build_btf(&btf_size);
    build_guest(false, btf, btf_size);
    v->heap_len = heap_top - 0x200000;
    v->direct_map = dm_base;
    save_area(v);
    for (int i = 0; i < 5; i++)
        v->objects[v->nr_objects++] = task_va[i];
    v->objects[v->nr_objects++] = mm1;
    v->objects[v->nr_objects++] = maple_root_node;
    v->objects[v->nr_objects++] = leaf2_node;
    v->objects[v->nr_objects++] = mod_va[0];
    v->objects[v->nr_objects++] = mod_va[1];
    v->objects[v->nr_objects++] = init_dentry;
    v->objects[v->nr_objects++] = kva(K_MODULES);

    fz_memfile_open(&v->image, "xa-fuzz-guest");
    fz_memfile_set(&v->image, img, IMG_SIZE);
    fz_memfile_open(&v->btf, "xa-fuzz-btf");
    fz_memfile_set(&v->btf, btf, btf_size);
    write_sysmap(&v->sysmap, btf_size);
    free(btf);
    v->map = mmap(NULL, IMG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->image.fd, 0);
    if (v->map == MAP_FAILED)
        abort();

    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = v->image.target;
    o.sysmap = v->sysmap.path;
    o.btf = v->btf.path;
    if (xa_init_opts(&o, &v->xa) != 0) {
        fprintf(stderr, "fuzz_walks: cannot open the synthetic guest: %s\n",
                xa_last_init_error());
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    img = calloc(1, IMG_SIZE);
    if (!img)
        abort();
    build_variant(&variants[0], false);
    build_variant(&variants[1], true);
    free(img);
    img = NULL;
    return 0;
}

static void apply_patches(struct variant *v, struct fuzz_reader *r)
{
    uint64_t len = area_len(v);
    for (int i = 0; i < WALK_MAX_PATCHES && r->left >= 4; i++) {
        uint64_t off = fz_take(r, 3) % len;
        uint8_t kind = (uint8_t)fz_take(r, 1);
        uint64_t val = fz_take(r, 8);
        uint64_t pa = area_pa(v, off);
        size_t room = (size_t)(off < v->heap_len ? v->heap_len - off : len - off);
        uint8_t bytes[8];
        size_t n = 8;
        switch (kind % 8) {
        case 0: break;
        case 1: n = 4; break;
        case 2: n = 1; break;
        case 3: val = v->direct_map + 0x200000 + (val % v->heap_len); break;
        case 4: val = KVIRT + val % KERNEL_AREA; break;
        case 5: val = v->objects[val % v->nr_objects] + ((val >> 8) & 0x7f8); break;
        case 6: val = (v->objects[val % v->nr_objects] & ~0xffULL) | ((val >> 8) & 0x78) | 4; break;
        case 7: {
            uint64_t from = area_pa(v, val % len);
            memcpy(&val, v->map + from, 8);
            break;
        }
        }
        memcpy(bytes, &val, 8);
        if (n > room)
            n = room;
        memcpy(v->map + pa, bytes, n);
    }
}

static void check_msg(struct xa_instance *xa)
{
    const char *m = xa_errmsg(xa);
    if (!m || !*m || strchr(m, '\n')) {
        fprintf(stderr, "bad message: '%s'\n", m ? m : "(null)");
        abort();
    }
}

static void check_rc(struct xa_instance *xa, int rc)
{
    if (rc > 1)
        abort();
    if (rc < 0)
        check_msg(xa);
}

static void walk_vmas(struct xa_instance *xa, int32_t pid)
{
    struct xa_vma_iter *it;
    int rc = xa_vma_iter_new(xa, pid, &it);
    if (rc < 0) {
        check_msg(xa);
        return;
    }
    static struct xa_vma vma;
    uint64_t prev_end = 0;
    for (int n = 0; n < WALK_MAX_VMAS; n++) {
        rc = xa_vma_iter_next(it, &vma);
        check_rc(xa, rc);
        if (rc != 1)
            break;
        if (vma.start >= vma.end || vma.start < prev_end || !memchr(vma.path, 0, sizeof(vma.path)))
            abort();
        prev_end = vma.end;
    }
    xa_vma_iter_free(it);
}

static void walk_all(struct xa_instance *xa)
{
    int32_t pids[WALK_MAX_VMA_PROCS];
    int npids = 0;
    struct xa_process_iter *pit;
    int rc = xa_process_iter_new(xa, &pit);
    if (rc < 0) {
        check_msg(xa);
    } else {
        struct xa_process p;
        for (int n = 0; n < WALK_MAX_PROCS; n++) {
            rc = xa_process_iter_next(pit, &p);
            check_rc(xa, rc);
            if (rc != 1)
                break;
            if (!memchr(p.comm, 0, sizeof(p.comm)))
                abort();
            if (npids < WALK_MAX_VMA_PROCS)
                pids[npids++] = p.pid;
        }
        xa_process_iter_free(pit);
    }
    for (int i = 0; i < npids; i++)
        walk_vmas(xa, pids[i]);

    struct xa_process p;
    if (xa_process_by_pid(xa, 300, &p) < 0)
        check_msg(xa);
    uint64_t dtb;
    if (xa_pid_to_dtb(xa, 1, &dtb) < 0)
        check_msg(xa);
    char marker[32];
    size_t got;
    if (xa_read_pid_va(xa, 1, 0x400010, marker, sizeof(marker), &got) < 0)
        check_msg(xa);

    struct xa_module_iter *mit;
    if (xa_module_iter_new(xa, &mit) < 0) {
        check_msg(xa);
        return;
    }
    struct xa_module m;
    for (int n = 0; n < WALK_MAX_MODULES; n++) {
        rc = xa_module_iter_next(mit, &m);
        check_rc(xa, rc);
        if (rc != 1)
            break;
        if (!memchr(m.name, 0, sizeof(m.name)))
            abort();
    }
    xa_module_iter_free(mit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    struct variant *v = &variants[fz_take(&r, 1) & 1];
    apply_patches(v, &r);
    xa_cache_flush(v->xa, XA_CACHE_ALL);
    walk_all(v->xa);
    restore_area(v);
    return 0;
}
