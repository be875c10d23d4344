/*
 * fuzz_windows.c -- Windows crash dumps and the Windows process walk.
 *
 * First byte even: the rest is a dump file. windmp_parse() on the bytes
 * (an accepted layout is sorted, non-overlapping and inside the file), then
 * the file backend through xa_init("file:/proc/self/fd/N"): what
 * xa_mem_ranges() lists can be read.
 *
 * First byte odd: the rest is a list of patches { u32 offset, u64 value }
 * applied to the synthetic Windows guest (tests/unit/synthetic_windows.h,
 * the next byte choosing its layout and whether KDBG is encoded), which is
 * then opened with its OS layer: the process and driver walks, a pid
 * lookup, command lines and start times. They must end (within the bounds
 * of os/windows/win.h), return 1/0/negative XA_E*, and every failure must
 * have a one-line message.
 */
#include "fuzz_common.h"

#include "backends/file/windmp.h"
#include "synthetic_windows.h"
#include "xenaccess.h"

#define WIN_FUZZ_MAX_INPUT (1u << 20)
#define WIN_FUZZ_MAX_PATCHES 64
#define WIN_FUZZ_MAX_WALK 70000 /* above WIN_MAX_PROCESSES: a walk must stop by itself */

static struct fz_memfile mf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_memfile_open(&mf, "xa-fuzz-windows");
    sw_img = calloc(1, SW_RAM);
    if (!sw_img)
        abort();
    return 0;
}

static void check_one_line(const char *msg)
{
    if (!msg || !*msg || strchr(msg, '\n')) {
        fprintf(stderr, "bad error message: '%s'\n", msg ? msg : "(null)");
        abort();
    }
}

static void fuzz_header(const uint8_t *data, size_t size)
{
    struct windmp d;
    char why[256] = "";
    int rc = windmp_parse(data, size, &d, why, sizeof(why));
    if (rc < 0) {
        check_one_line(why);
    } else {
        for (size_t i = 0; i < d.nr_segs; i++) {
            const struct file_segment *s = &d.segs[i];
            if (s->mem_size == 0 || s->file_size != s->mem_size || s->offset > size ||
                s->file_size > size - s->offset || s->pa + s->mem_size < s->pa)
                abort(); /* outside the file, or wrapping */
            if (i && d.segs[i - 1].pa + d.segs[i - 1].mem_size > s->pa)
                abort(); /* unsorted or overlapping */
        }
        windmp_free(&d);
    }
    fz_memfile_set(&mf, data, size);
    struct xa_instance *xa = NULL;
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = mf.target;
    o.flags = XA_INIT_NO_OS;
    o.v2p_cache_entries = 64;
    o.page_cache_entries = 64;
    if (xa_init_opts(&o, &xa) != 0) {
        check_one_line(xa_last_init_error());
        return;
    }
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    uint8_t b;
    for (size_t i = 0; i < n && i < 64; i++)
        if (xa_read_pa(xa, r[i].start, &b, 1) != 0 ||
            xa_read_pa(xa, r[i].start + r[i].size - 1, &b, 1) != 0)
            abort();
    check_one_line(xa_access_method(xa));
    xa_destroy(xa);
}

static void check_process(const struct xa_process *p)
{
    if (memchr(p->comm, '\0', sizeof(p->comm)) == NULL)
        abort();
}

static void fuzz_walks(const uint8_t *data, size_t size)
{
    struct fuzz_reader in = {data, size};
    unsigned sel = (unsigned)fz_take(&in, 1);
    sw_build(&sw_layouts[sel % SW_NR_LAYOUTS], (sel & 0x80) ? SW_ENCODED : 0);
    for (int i = 0; i < WIN_FUZZ_MAX_PATCHES && in.left >= 12; i++) {
        uint32_t off = (uint32_t)fz_take(&in, 4) % (SW_RAM - 8);
        sw_put64(off, fz_take(&in, 8));
    }
    FILE *f = fmemopen(NULL, SW_RAM + 0x2000, "w+");
    if (!f)
        abort();
    static uint8_t file[SW_RAM + 0x2000];
    if (sw_write_dump(f) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        fread(file, 1, sizeof(file), f) != sizeof(file))
        abort();
    fclose(f);
    fz_memfile_set(&mf, file, sizeof(file));
    struct xa_instance *xa = NULL;
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = mf.target;
    if (xa_init_opts(&o, &xa) != 0) {
        check_one_line(xa_last_init_error());
        return;
    }
    struct xa_os_info info;
    if (xa_os_get_info(xa, &info) != 0 || info.type != XA_OS_WINDOWS) {
        xa_destroy(xa);
        return;
    }
    struct xa_process_iter *it;
    struct xa_process p;
    int32_t pids[4] = {4, 4, 4, 4};
    if (xa_process_iter_new(xa, &it) == 0) {
        int rc, n = 0;
        while ((rc = xa_process_iter_next(it, &p)) == 1) {
            check_process(&p);
            if (n < 4)
                pids[n] = p.pid;
            if (++n > WIN_FUZZ_MAX_WALK)
                abort(); /* the walk does not end */
        }
        if (rc < 0)
            check_one_line(xa_errmsg(xa));
        else if (rc != 0)
            abort();
        xa_process_iter_free(it);
    }
    for (int i = 0; i < 4; i++) {
        char cmd[256];
        size_t len;
        uint32_t fl;
        uint64_t boot;
        int64_t wall;
        if (xa_process_by_pid(xa, pids[i], &p) == 0)
            check_process(&p);
        if (xa_process_cmdline(xa, pids[i], cmd, sizeof(cmd), &len, &fl) == 0 && len > sizeof(cmd))
            abort();
        if (xa_process_start_time(xa, pids[i], &boot, &wall) < 0)
            check_one_line(xa_errmsg(xa));
    }
    struct xa_module_iter *mi;
    struct xa_module m;
    if (xa_module_iter_new(xa, &mi) == 0) {
        int rc, n = 0;
        while ((rc = xa_module_iter_next(mi, &m)) == 1) {
            if (memchr(m.name, '\0', sizeof(m.name)) == NULL || ++n > WIN_FUZZ_MAX_WALK)
                abort();
        }
        if (rc < 0)
            check_one_line(xa_errmsg(xa));
        xa_module_iter_free(mi);
    }
    xa_destroy(xa);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > WIN_FUZZ_MAX_INPUT)
        return 0;
    if (data[0] & 1)
        fuzz_walks(data + 1, size - 1);
    else
        fuzz_header(data + 1, size - 1);
    return 0;
}
