/*
 * test_windows_os.c -- the Windows OS layer end to end on synthetic guests
 * (synthetic_windows.h) in PAGEDU64 full dumps: every EPROCESS layout of the
 * table chosen from the guest's own list, an encoded debugger data block
 * decoded, processes with their parents, page-table roots, create times and
 * command line (user memory through the process's own page tables), drivers;
 * and hostile lists that must end with an error, never a whole-looking list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenaccess.h"

static struct xa_instance *cur_xa;
#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : xa_last_init_error())
#include "check.h"
#include "synthetic_windows.h"

static char path[64];

static struct xa_instance *open_guest(const struct sw_layout *l, unsigned flags)
{
    sw_build(l, flags);
    snprintf(path, sizeof(path), "/tmp/xa-test-win-%d.dmp", (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(sw_write_dump(f) == 0);
    fclose(f);
    struct xa_instance *xa = NULL;
    CHECK(xa_init(path, 0, &xa) == 0);
    cur_xa = xa;
    return xa;
}

static void close_guest(struct xa_instance *xa)
{
    xa_destroy(xa);
    cur_xa = NULL;
    unlink(path);
}

/* Walk the list: returns the number of processes, *rc the end. */
static int walk(struct xa_instance *xa, struct xa_process *out, int max, int *end)
{
    struct xa_process_iter *it;
    int n = 0, rc = xa_process_iter_new(xa, &it);
    if (rc < 0) {
        *end = rc;
        return 0;
    }
    while (n < max && (rc = xa_process_iter_next(it, &out[n])) == 1)
        n++;
    xa_process_iter_free(it);
    *end = rc;
    return n;
}

static void test_layout(const struct sw_layout *l, unsigned flags)
{
    struct xa_instance *xa = open_guest(l, flags);
    struct xa_os_info info;
    CHECK(xa_os_get_info(xa, &info) == 0, "layout %s", l->name);
    if (!xa || xa_os_get_info(xa, &info) < 0) {
        close_guest(xa);
        return;
    }
    CHECK(info.type == XA_OS_WINDOWS);
    CHECK_EQ(info.kernel_dtb, (uint64_t)SW_PML4_K);
    CHECK_EQ(info.text_start, sw_kva(SW_NT_BASE));
    CHECK(strstr(info.symbols_from, "decoded") != NULL || !(flags & SW_ENCODED));
    uint64_t a = 0;
    CHECK(xa_sym_lookup(xa, "PsActiveProcessHead", &a) == 0 && a == sw_kva(SW_PROC_HEAD));
    CHECK(xa_sym_lookup(xa, "KdDebuggerDataBlock", &a) == 0 && a == sw_kva(SW_KDBG));

    struct xa_process p[8];
    int end, n = walk(xa, p, 8, &end);
    CHECK_EQ(end, 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK(p[0].pid == 4 && strcmp(p[0].comm, "System") == 0 && p[0].ppid == 0);
        CHECK(p[1].pid == 300 && strcmp(p[1].comm, "smss.exe") == 0 && p[1].ppid == 4);
        CHECK(p[2].pid == 1236 && strcmp(p[2].comm, "user.exe") == 0 && p[2].ppid == 300);
        CHECK_EQ(p[2].dtb, (uint64_t)SW_PML4_U);
        CHECK_EQ(p[2].start_time, 5000000000ULL); /* 5 s after System */
    }
    char cmd[64];
    size_t len = 0;
    uint32_t fl = 0;
    CHECK(xa_process_cmdline(xa, 1236, cmd, sizeof(cmd), &len, &fl) == 0);
    CHECK(len == 11 && fl == 0 && memcmp(cmd, "user.exe -x", 11) == 0);
    int64_t wall;
    CHECK(xa_process_start_time(xa, 1236, NULL, &wall) == 0);
    CHECK_EQ(wall, (int64_t)((SW_BOOT_FT + 50000000 - 116444736000000000ULL) * 100));
    uint8_t peb[8];
    CHECK(xa_read_pid_va(xa, 1236, SW_USER_VA + 0x20, peb, 8, NULL) == 0);
    CHECK(xa_process_by_pid(xa, 999, &p[0]) == XA_ENOENT);

    struct xa_module_iter *mi;
    struct xa_module m;
    CHECK(xa_module_iter_new(xa, &mi) == 0);
    CHECK(xa_module_iter_next(mi, &m) == 1 && strcmp(m.name, "ntoskrnl.exe") == 0 &&
          m.base == sw_kva(SW_NT_BASE) && m.size == 0x80000);
    CHECK(xa_module_iter_next(mi, &m) == 1 && strcmp(m.name, "hal.dll") == 0);
    CHECK(xa_module_iter_next(mi, &m) == 0);
    xa_module_iter_free(mi);

    struct xa_vma_iter *vi;
    CHECK(xa_vma_iter_new(xa, 1236, &vi) == XA_ENOTSUP);
    CHECK(strstr(xa_errmsg(xa), "Windows") != NULL);
    close_guest(xa);
}

static void test_hostile(unsigned flags, int want_rc, int max_items)
{
    struct xa_instance *xa = open_guest(&sw_layouts[0], flags);
    struct xa_process p[8];
    int end, n = walk(xa, p, 8, &end);
    CHECK_EQ(end, want_rc);
    CHECK(n <= max_items, "flags 0x%x: %d items", flags, n);
    CHECK(strchr(xa_errmsg(xa), '\n') == NULL && xa_errmsg(xa)[0]);
    close_guest(xa);
}

int main(void)
{
    sw_img = calloc(1, SW_RAM);
    CHECK(sw_img != NULL);
    for (size_t i = 0; i < SW_NR_LAYOUTS; i++)
        test_layout(&sw_layouts[i], 0);
    test_layout(&sw_layouts[0], SW_ENCODED);
    test_layout(&sw_layouts[5], SW_ENCODED);

    test_hostile(SW_BAD_BLINK, XA_EBADDATA, 2);
    test_hostile(SW_LOOP, XA_EBADDATA, 2);
    test_hostile(SW_DUP_PID, XA_EBADDATA, 2);

    /* No debugger data block: the guest opens, no OS. */
    struct xa_instance *xa = open_guest(&sw_layouts[0], SW_NO_KDBG);
    struct xa_os_info info;
    CHECK(xa_os_get_info(xa, &info) == XA_ENOOS);
    CHECK(strstr(xa_errmsg(xa), "KDBG") != NULL);
    close_guest(xa);
    free(sw_img);
    CHECK_DONE();
}
