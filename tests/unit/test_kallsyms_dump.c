/*
 * Kallsyms discovery against real guest dumps made by tests/guest/harness.py:
 * $XA_TEST_DUMPS (default $XA_CACHE/dumps)/{l4,l5}/{raw.img, core.elf} with
 * truth.json. A missing dump set: see require.h.
 *
 * Checks every core-kernel symbol sampled from the guest's /proc/kallsyms,
 * the banner and release, phys_base against the kernel's own phys_base
 * variable, and the paging mode against CR4.LA57. Prints discovery time.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/instance.h"
#include "os/linux/linux.h"
#include "require.h"
#include "check.h"
#include "truth.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Is there a symbol @name at exactly @addr (among aliases at that address)? */
static bool has_symbol_at(const struct linux_symtab *t, const char *name, uint64_t addr,
                          char *type_out)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < t->n && t->syms[i].addr == addr; i++)
        if (strcmp(symtab_name(t, &t->syms[i]), name) == 0) {
            *type_out = t->syms[i].type;
            return true;
        }
    return false;
}

static void check_file(const char *set, const char *file, json_object *truth)
{
    char target[4200];
    snprintf(target, sizeof(target), "file:%s/%s", set, file);
    if (access(target + 5, R_OK) != 0) {
        CHECK(0, "%s is missing from its dump set", target + 5);
        return;
    }
    struct xa_instance *xa = NULL;
    int rc = xa_init(target, XA_INIT_NO_OS, &xa);
    CHECK(rc == 0, "xa_init %s: %s", target, xa_last_init_error());
    if (rc < 0)
        return;
    struct linux_os *lx = calloc(1, sizeof(*lx));
    double t0 = now_ms();
    rc = linux_kallsyms_discover(xa, lx);
    double dt = now_ms() - t0;
    CHECK(rc == 0, "discover %s: %s", target, xa_errmsg(xa));
    if (rc < 0)
        goto out;
    printf("%s: %zu symbols in %.1f ms; phys_base 0x%llx slide 0x%llx _text 0x%llx dtb 0x%llx "
           "mode %s page_offset 0x%llx\n  %s\n",
           target + 5, symtab_count(&lx->syms), dt, (unsigned long long)lx->phys_base,
           (unsigned long long)lx->kaslr_slide, (unsigned long long)lx->text_start,
           (unsigned long long)lx->kernel_dtb, xa_page_mode_name(lx->mode),
           (unsigned long long)lx->page_offset, lx->version);
    /* Speed is measured by bench/bench_linux, not asserted here (noisy machine, sanitizers).
     * Work is: a clean discovery is what the budget is a multiple of. */
    uint64_t ram = 0;
    for (size_t i = 0; i < xa->nr_ranges; i++)
        ram += xa->ranges[i].size;
    printf("  discovery work %.2f x RAM (budget %.2f x)\n", (double)lx->discovery_work / ram,
           (double)linux_discovery_budget(ram) / ram);
    CHECK(lx->discovery_work <= 2 * ram, "clean discovery of %s spent %.2f x RAM", target,
          (double)lx->discovery_work / ram);

    /* A table read in place is lazy: the start-up names answer before the
     * rest is decoded (the first of a name, as /proc/kallsyms lists it). */
    static const char *const early[] = {"_text", "_etext", "linux_banner", "init_task",
                                        "modules", "__start_BTF", "__stop_BTF", "_stext"};
    bool lazy = lx->syms.lazy != NULL, seen[sizeof(early) / sizeof(early[0])] = {false};
    json_object *ks;
    if (lazy && json_object_object_get_ex(truth, "kallsyms", &ks)) {
        for (size_t i = 0; i < json_object_array_length(ks); i++) {
            json_object *e = json_object_array_get_idx(ks, i), *mod;
            if (json_object_object_get_ex(e, "module", &mod))
                continue;
            const char *name = jstr(e, "name"), *addr = jstr(e, "addr");
            for (size_t k = 0; k < sizeof(early) / sizeof(early[0]); k++) {
                if (seen[k] || strcmp(name, early[k]) != 0)
                    continue;
                uint64_t got = 0;
                seen[k] = true;
                CHECK(symtab_lookup(&lx->syms, name, &got) == 0 &&
                          got == strtoull(addr, NULL, 16),
                      "%s before the full table: 0x%llx, /proc/kallsyms says %s", name,
                      (unsigned long long)got, addr);
            }
        }
        CHECK(lx->syms.lazy != NULL, "a start-up name built the whole table");
    }
    CHECK(symtab_complete(&lx->syms) == 0, "symbol table of %s: %s", target, xa_errmsg(xa));

    /* Every core-kernel symbol of the sample. */
    size_t checked = 0, bad = 0, type_bad = 0;
    if (json_object_object_get_ex(truth, "kallsyms", &ks)) {
        for (size_t i = 0; i < json_object_array_length(ks); i++) {
            json_object *e = json_object_array_get_idx(ks, i), *mod;
            if (json_object_object_get_ex(e, "module", &mod))
                continue;
            const char *name = jstr(e, "name"), *addr = jstr(e, "addr"), *type = jstr(e, "type");
            if (!*name || !*addr)
                continue;
            uint64_t want = strtoull(addr, NULL, 16);
            char got_type = 0;
            checked++;
            if (!has_symbol_at(&lx->syms, name, want, &got_type)) {
                uint64_t got = 0;
                int lr = symtab_lookup(&lx->syms, name, &got);
                if (bad++ < 10)
                    fprintf(stderr, "  %s: want 0x%llx, got %s0x%llx\n", name,
                            (unsigned long long)want, lr ? "(absent) " : "",
                            (unsigned long long)got);
            } else if (type && got_type != type[0]) {
                if (type_bad++ < 5)
                    fprintf(stderr, "  %s: type %c, /proc/kallsyms says %s\n", name, got_type,
                            type);
            }
        }
    }
    printf("  %zu sampled kernel symbols checked, %zu wrong address, %zu wrong type\n", checked,
           bad, type_bad);
    CHECK(checked > 0 && bad == 0, "%zu of %zu sampled symbols wrong", bad, checked);
    CHECK(type_bad == 0, "%zu symbol types differ", type_bad);

    /* Banner through its virtual address, and as discovery recorded it. */
    uint64_t banner;
    char buf[512] = {0};
    size_t n = 0;
    CHECK(symtab_lookup(&lx->syms, "linux_banner", &banner) == 0, "no linux_banner");
    CHECK(xa_read_va(xa, 0, banner, buf, sizeof(buf) - 1, &n) == 0, "read banner: %s",
          xa_errmsg(xa));
    CHECK(strncmp(buf, "Linux version ", 14) == 0, "banner reads '%.40s'", buf);
    buf[strcspn(buf, "\n")] = '\0';
    const char *version = jstr(truth, "version"), *release = jstr(truth, "kernel_release");
    CHECK(strcmp(buf, version) == 0, "banner '%s' vs truth '%s'", buf, version);
    CHECK(strcmp(lx->version, buf) == 0, "lx->version '%s'", lx->version);
    CHECK(strcmp(lx->release, release) == 0, "release '%s' vs '%s'", lx->release, release);

    /* The kernel's own phys_base variable agrees with the derived one. */
    uint64_t pb_va, pb;
    if (symtab_lookup(&lx->syms, "phys_base", &pb_va) == 0) {
        CHECK(xa__read_u64(xa, 0, pb_va, &pb) == 0 && pb == lx->phys_base,
              "phys_base variable 0x%llx vs derived 0x%llx", (unsigned long long)pb,
              (unsigned long long)lx->phys_base);
    }
    /* Paging mode agrees with CR4.LA57 at dump time. */
    json_object *dump, *la57;
    if (json_object_object_get_ex(truth, "dump", &dump) &&
        json_object_object_get_ex(dump, "la57", &la57)) {
        enum xa_page_mode want = json_object_get_boolean(la57) ? XA_PM_LA57 : XA_PM_IA32E;
        CHECK(lx->mode == want && xa_get_page_mode(xa) == want, "mode %s", 
              xa_page_mode_name(lx->mode));
    }
    /* page_offset_base, vmemmap_base, vmalloc_base readable and in the kernel half. */
    const char *bases[] = {"page_offset_base", "vmemmap_base", "vmalloc_base"};
    for (size_t i = 0; i < 3; i++) {
        uint64_t va, val = 0;
        CHECK(symtab_lookup(&lx->syms, bases[i], &va) == 0 && xa__read_u64(xa, 0, va, &val) == 0 &&
                  (val >> 63),
              "%s = 0x%llx", bases[i], (unsigned long long)val);
    }
out:
    symtab_free(&lx->syms);
    free(lx->spare);
    free(lx);
    xa_destroy(xa);
}

int main(void)
{
    const char *dir = xa_test_dumps_dir();
    int sets = 0, cannot = 0;
    const char *names[] = {"l4", "l5"};
    for (size_t i = 0; i < 2; i++) {
        char set[4096];
        snprintf(set, sizeof(set), "%s/%s", dir, names[i]);
        json_object *truth = truth_load(set);
        if (!truth) {
            cannot = xa_test_cannot_run("%s: no truth.json", set);
            continue;
        }
        sets++;
        check_file(set, "raw.img", truth);
        check_file(set, "core.elf", truth);
        json_object_put(truth);
    }
    if (cannot == 1 || (cannot && !sets))
        return check_failures ? 1 : cannot;
    if (check_failures)
        fprintf(stderr, "%d failure(s)\n", check_failures);
    else
        printf("kallsyms dumps: all checks passed\n");
    return check_failures ? 1 : 0;
}
