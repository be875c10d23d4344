/*
 * fuzz_checks.c -- the rootkit checks (xa_check_run, every check) over a
 * guest whose tables the fuzzer rewrites: tests/unit/synthetic_check.h's
 * sys_call_table, IDT, eBPF program IDR (a two-level xarray), ftrace_ops
 * list, kprobe_table, tcp4_seq_ops and the PID IDR of init_pid_ns over the
 * synthetic guest's tasks, on its heap and modules.
 *
 * Input: records of 12 bytes, as fuzz_walks.c:
 *   u24 offset into the patch area, u8 kind, u64 value
 * kind 0: write u64; 1: u32; 2: u8; 3: a direct-map pointer into the heap;
 * 4: a pointer into the checked tables; 5: a known object plus a small
 * offset; 6: a known object as an xarray node entry (| 2); 7: a module
 * address (a hook).
 * The patch area is the heap followed by the tables' part of the kernel
 * image; patches are undone after each input.
 *
 * Oracles beyond the sanitizers: every check ends (libFuzzer's timeout) and
 * returns a count >= 0 or a negative XA_E* with a one-line message;
 * findings have a technique and NUL-terminated strings, and a check never
 * reports more findings than it returns.
 */
#include "fuzz_common.h"

#include "synthetic_check.h"
#include "xenaccess.h"
#include "xenaccess_check.h"

#define MAX_PATCHES 64
#define TABLES_START K_SYSCALLS
#define TABLES_LEN (K_INPUT_HANDLERS + 0x10 - K_SYSCALLS) /* through the tty and input lists */

static struct fz_memfile image, sysmap, btf_file;
static uint8_t *map, *pristine;
static uint64_t heap_len;
static uint64_t objects[12];
static size_t nr_objects;
static struct xa_instance *xa;

static uint64_t area_len(void)
{
    return heap_len + TABLES_LEN;
}

static uint64_t area_pa(uint64_t off)
{
    return off < heap_len ? 0x200000 + off : KPHYS + TABLES_START + (off - heap_len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    img = calloc(1, IMG_SIZE);
    uint32_t btf_size;
    void *btf = check_btf(&btf_size);
    if (!img || !btf)
        abort();
    build_clean(btf, btf_size);
    /* one of everything: a hooked syscall, a program, an ftrace hook, a kprobe */
    put64(kpa(K_SYSCALLS) + 8, MOD_E1000 + 0x10);
    uint64_t root = galloc(XN_SLOTS + 64 * 8, 64), leaf = galloc(XN_SLOTS + 64 * 8, 64);
    uint64_t prog = galloc(0x100, 64), aux = galloc(0x200, 64);
    img[pa_of(root + XN_SHIFT)] = 6;
    vput64(root + XN_SLOTS + 8, leaf | 2);
    vput64(leaf + XN_SLOTS + 8 * 3, prog);
    vput64(prog + BP_AUX, aux);
    strcpy((char *)img + pa_of(aux + BA_NAME), "fuzzprog");
    put64(kpa(K_PROG_IDR) + 8, root | 2);
    uint64_t ops = galloc(0x100, 64), kp = galloc(96, 64);
    vput64(ops + FO_FUNC, MOD_EXT4 + 0x20);
    vput64(ops + FO_NEXT, kva(K_FTRACE_END));
    put64(kpa(K_FTRACE_LIST), ops);
    vput64(kp + KP_ADDR, kva(0x1010));
    vput64(kp + KP_PRE, MOD_E1000 + 0x80);
    put64(kpa(K_KPROBES) + 8 * 5, kp);
    const uint64_t objs[] = {root, leaf, prog, aux, ops, kp, mod_va[0], mod_va[1],
                             tty_ldisc0, tty_driver0, tty_ops0, input_handler0};
    memcpy(objects, objs, sizeof(objs));
    nr_objects = sizeof(objs) / sizeof(objs[0]);
    heap_len = heap_top - 0x200000;

    pristine = malloc(area_len());
    if (!pristine)
        abort();
    memcpy(pristine, img + 0x200000, heap_len);
    memcpy(pristine + heap_len, img + KPHYS + TABLES_START, TABLES_LEN);

    char text[8192];
    int n = check_sysmap_text(text, sizeof(text));
    fz_memfile_open(&image, "xa-fuzz-check-guest");
    fz_memfile_set(&image, img, IMG_SIZE);
    fz_memfile_open(&sysmap, "xa-fuzz-check-sysmap");
    fz_memfile_set(&sysmap, text, (size_t)n);
    fz_memfile_open(&btf_file, "xa-fuzz-check-btf");
    fz_memfile_set(&btf_file, btf, btf_size);
    free(btf);
    free(img);
    img = NULL;
    map = mmap(NULL, IMG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, image.fd, 0);
    if (map == MAP_FAILED)
        abort();
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = image.target;
    o.sysmap = sysmap.path;
    o.btf = btf_file.path;
    if (xa_init_opts(&o, &xa) != 0) {
        fprintf(stderr, "fuzz_checks: cannot open the synthetic guest: %s\n",
                xa_last_init_error());
        abort();
    }
    return 0;
}

static void apply_patches(struct fuzz_reader *r)
{
    uint64_t len = area_len();
    for (int i = 0; i < MAX_PATCHES && r->left >= 4; i++) {
        uint64_t off = fz_take(r, 3) % len;
        uint8_t kind = (uint8_t)fz_take(r, 1);
        uint64_t val = fz_take(r, 8);
        size_t room = (size_t)(off < heap_len ? heap_len - off : len - off), n = 8;
        switch (kind % 8) {
        case 0: break;
        case 1: n = 4; break;
        case 2: n = 1; break;
        case 3: val = DM + 0x200000 + val % heap_len; break;
        case 4: val = kva(TABLES_START + val % TABLES_LEN); break;
        case 5: val = objects[val % nr_objects] + ((val >> 8) & 0x1f8); break;
        case 6: val = objects[val % nr_objects] | 2; break;
        case 7: val = ((val & 1) ? MOD_EXT4 : MOD_E1000) + ((val >> 8) & 0xff8); break;
        }
        if (n > room)
            n = room;
        memcpy(map + area_pa(off), &val, n);
    }
}

static int on_finding(const struct xa_finding *f, void *ctx)
{
    int *count = ctx;
    if (!f->technique || !memchr(f->culprit, 0, sizeof(f->culprit)) ||
        !memchr(f->detail, 0, sizeof(f->detail)))
        abort();
    if (f->flags & XA_FINDING_NOTE)
        return 0; /* said, not counted */
    ++*count;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    apply_patches(&r);
    xa_cache_flush(xa, XA_CACHE_ALL);
    for (int k = 1; k < XA_CHECK_COUNT; k++) {
        int count = 0;
        int rc = xa_check_run(xa, (enum xa_check)k, on_finding, &count);
        if (rc >= 0 && rc != count)
            abort();
        if (rc < 0) {
            const char *m = xa_errmsg(xa);
            if (!m || !*m || strchr(m, '\n') || count > 64 * 1024)
                abort();
        }
    }
    memcpy(map + 0x200000, pristine, heap_len);
    memcpy(map + KPHYS + TABLES_START, pristine + heap_len, TABLES_LEN);
    return 0;
}
