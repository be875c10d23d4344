/*
 * test_core_dumps.c -- the memory core alone (no OS layer) on real guest
 * dumps: paging from the ELF core's registers, the kernel's own addresses
 * translated through CR3, known bytes checked against what the guest printed.
 * A missing dump set: see require.h.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "require.h"
#include "truth.h"
#include "xenaccess.h"

static void check_set(const char *dir, enum xa_page_mode want_mode)
{
    char path[1024];
    json_object *truth = truth_load(dir);
    CHECK(truth != NULL, "no truth.json in %s", dir);
    if (!truth)
        return;
    json_object *syms, *ver;
    CHECK(json_object_object_get_ex(truth, "symbols", &syms));
    CHECK(json_object_object_get_ex(truth, "version", &ver));
    uint64_t banner = jhex(syms, "linux_banner"), init_task = jhex(syms, "init_task");
    const char *version = json_object_get_string(ver);
    CHECK(banner != 0 && version != NULL);

    snprintf(path, sizeof(path), "file:%s/core.elf", dir);
    struct xa_instance *xa;
    int rc = xa_init(path, XA_INIT_NO_OS, &xa);
    CHECK_EQ(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", xa_last_init_error());
        json_object_put(truth);
        return;
    }
    /* Registers alone decide the paging mode and the root. */
    CHECK_EQ(xa_get_page_mode(xa), want_mode);
    CHECK(xa_vcpu_count(xa) >= 1);
    struct xa_regs regs;
    CHECK_EQ(xa_get_vcpu_regs(xa, 0, &regs), 0);
    CHECK_EQ(xa_kernel_dtb(xa), regs.cr3 & 0x000ffffffffff000ull);

    /* The banner through its virtual address: the bytes the guest printed. */
    char buf[256] = {0};
    size_t n = 0;
    rc = xa_read_va(xa, 0, banner, buf, sizeof(buf) - 1, &n);
    CHECK_EQ(rc, 0);
    CHECK(strncmp(buf, version, strlen(version) > 60 ? 60 : strlen(version)) == 0);
    if (strncmp(buf, version, 20))
        fprintf(stderr, "%s: banner reads '%.40s', guest said '%.40s'\n", dir, buf, version);

    /* init_task's comm is "swapper/0"; find it in the first 4 KiB of the task. */
    uint8_t task[8192];
    CHECK_EQ(xa_read_va(xa, 0, init_task, task, sizeof(task), &n), 0);
    CHECK(memmem(task, sizeof(task), "swapper/0", 10) != NULL);

    /* The paper's call gives the same bytes as the bulk read. */
    uint32_t off = 0;
    const char *page = xa_access_virtual_address(xa, banner, &off);
    CHECK(page != NULL);
    if (page) {
        size_t room = 4096 - off < 14 ? 4096 - off : 14;
        CHECK(memcmp(page + off, "Linux version ", room) == 0);
        xa_release_page(xa, page);
    }
    /* A non-canonical address faults cleanly. */
    uint64_t pa;
    CHECK_EQ(xa_translate_kv(xa, 0x8000000000000000ull, &pa), XA_EFAULT);
    xa_destroy(xa);
    json_object_put(truth);
}

int main(void)
{
    const char *base = xa_test_dumps_dir();
    static const struct {
        const char *name;
        enum xa_page_mode mode;
    } sets[] = {{"l4", XA_PM_IA32E}, {"l5", XA_PM_LA57}};
    int found = 0, rc = 0;
    for (size_t i = 0; i < 2; i++) {
        char dir[4096], probe[4200];
        snprintf(dir, sizeof(dir), "%s/%s", base, sets[i].name);
        snprintf(probe, sizeof(probe), "%s/truth.json", dir);
        FILE *f = fopen(probe, "r");
        if (!f) {
            rc = xa_test_cannot_run("no %s dump set (%s)", sets[i].name, probe);
            continue;
        }
        fclose(f);
        found++;
        check_set(dir, sets[i].mode);
    }
    if (rc == 1 || (!found && rc))
        return check_failures ? 1 : rc;
    CHECK_DONE();
}
