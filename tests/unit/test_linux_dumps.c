/*
 * test_linux_dumps.c -- the Linux OS layer against real guest dumps made by
 * tests/guest/harness.py: $XA_TEST_DUMPS (default $XA_CACHE/dumps)/{l4,l5}/
 * {raw.img,core.elf,truth.json}. A missing dump set: see require.h.
 *
 * For each dump and each way of finding symbols (kallsyms discovery, and a
 * System.map written from truth.json's kallsyms sample) it compares:
 *  - the process list (pid, ppid, comm, uid, gid) with the guest's /proc;
 *  - the module list (name, base, size, refcount) with /proc/modules;
 *  - the marker strings, read through each marker process's page tables;
 *  - the marker process's memory map with its /proc/PID/maps;
 *  - type lookups by name (the library indexes the BTF's names) with
 *    libbpf's own search of the same BTF, for a sample of the names.
 */
#include <bpf/btf.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "require.h"
#include "check.h"
#include "truth.h"
#include "xenaccess.h"
#include "process_walk.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- processes ---------------------------------------------------------- */

#define MAX_PROCS 4096

static void check_processes(struct xa_instance *xa, json_object *truth)
{
    static struct xa_process got[MAX_PROCS];
    size_t n = 0;
    struct xa_process_iter *it;
    double t0 = now_ms();
    int rc = xa_process_iter_new(xa, &it);
    CHECK(rc == 0, "process_iter_new: %s", xa_errmsg(xa));
    if (rc)
        return;
    while (n < MAX_PROCS && (rc = xa_process_iter_next(it, &got[n])) == 1)
        n++;
    CHECK(rc == 0, "process walk ended with %d: %s", rc, xa_errmsg(xa));
    xa_process_iter_free(it);
    double ms = now_ms() - t0;

    json_object *procs = jget(truth, "procs");
    size_t nt = procs ? json_object_array_length(procs) : 0;
    size_t matched = 0, missing = 0, wrong = 0;
    for (size_t i = 0; i < nt; i++) {
        json_object *p = json_object_array_get_idx(procs, i);
        int pid = (int)jint(p, "pid");
        const struct xa_process *g = NULL;
        for (size_t k = 0; k < n && !g; k++)
            if (got[k].pid == pid)
                g = &got[k];
        if (!g) {
            missing++;
            fprintf(stderr, "    missing pid %d (%s)\n", pid, jstr(p, "comm"));
            continue;
        }
        matched++;
        /* kcomm: task->comm as the harness derived it from /proc's name
         * (kworkers' workqueue suffix dropped, 15 bytes), compared whole. */
        bool comm_ok = strcmp(g->comm, jstr(p, "kcomm")) == 0;
        if (g->ppid != jint(p, "ppid") || !comm_ok ||
            g->uid != (uint32_t)jint(p, "uid") || g->gid != (uint32_t)jint(p, "gid")) {
            wrong++;
            fprintf(stderr, "    pid %d: got ppid %d comm '%s' uid %u gid %u, want %lld '%s' %lld %lld\n",
                    pid, g->ppid, g->comm, g->uid, g->gid, jint(p, "ppid"), jstr(p, "kcomm"),
                    jint(p, "uid"), jint(p, "gid"));
        }
    }
    /* Ours minus pid 0 (swapper is not in /proc) minus the matched ones. */
    size_t extra = n - 1 - matched;
    printf("    processes: %zu walked in %.1f ms, %zu in truth, %zu matched, %zu wrong, "
           "%zu missing, %zu extra\n",
           n, ms, nt, matched, wrong, missing, extra);
    CHECK(nt > 100, "truth lists only %zu processes", nt);
    CHECK(n > 0 && got[0].pid == 0, "the walk does not start at init_task");
    CHECK(wrong == 0, "%zu processes differ", wrong);
    CHECK(missing == 0 && extra == 0, "%zu missing + %zu extra processes", missing, extra);
    /* States against /proc/PID/stat, read just before the pause and again
     * after it: a process whose state stayed must have it in the dump; one
     * that changed (in flux at the pause) may have either. One exception,
     * counted and shown: a kernel thread /proc saw running (R) may be asleep
     * in the dump, since the reading itself wakes it (rcu_preempt does RCU
     * work for the reader's forks and exits: /proc never sees it idle). */
    json_object *stat = jget(truth, "stat");
    size_t ns = stat ? json_object_array_length(stat) : 0, compared = 0, differ = 0, woken = 0;
    for (size_t i = 0; i < ns; i++) {
        json_object *st = json_object_array_get_idx(stat, i);
        for (size_t k = 0; k < n; k++) {
            if (got[k].pid != jint(st, "pid"))
                continue;
            compared++;
            const char *after = jget(st, "state_after") ? jstr(st, "state_after")
                                                         : jstr(st, "state");
            bool was_running = jstr(st, "state")[0] == 'R' && after[0] == 'R';
            if ((got[k].flags & 0x00200000) && was_running && strchr("SID", got[k].state)) {
                woken++;
                printf("    pid %d (%s): %c here, R when /proc was read (woken by the reader)\n",
                       got[k].pid, got[k].comm, got[k].state);
            } else if (got[k].state != jstr(st, "state")[0] && got[k].state != after[0]) {
                differ++;
                fprintf(stderr, "    pid %d (%s): state %c, /proc said %s before the pause "
                        "and %s after\n",
                        got[k].pid, got[k].comm, got[k].state, jstr(st, "state"), after);
            }
        }
    }
    printf("    states: %zu compared with /proc/PID/stat, %zu differ, %zu kernel threads woken "
           "by the reader\n", compared, differ, woken);
    CHECK(woken <= 4, "%zu kernel threads asleep here but running for /proc", woken);
    CHECK(compared > 100 && compared == matched && differ == 0, "%zu of %zu states differ (%zu processes)",
          differ, compared, matched);
    /* Every user process has page tables distinct from the kernel's. */
    size_t bad_dtb = 0;
    for (size_t k = 0; k < n; k++)
        if (got[k].mm && (got[k].dtb == 0 || got[k].dtb == xa_kernel_dtb(xa)))
            bad_dtb++;
    CHECK(bad_dtb == 0, "%zu processes with an mm have no own dtb", bad_dtb);
}

/* ---- modules -------------------------------------------------------------- */

static void check_modules(struct xa_instance *xa, json_object *truth)
{
    static struct xa_module got[1024];
    size_t n = 0;
    struct xa_module_iter *it;
    int rc = xa_module_iter_new(xa, &it);
    CHECK(rc == 0, "module_iter_new: %s", xa_errmsg(xa));
    if (rc)
        return;
    while (n < 1024 && (rc = xa_module_iter_next(it, &got[n])) == 1)
        n++;
    CHECK(rc == 0, "module walk ended with %d: %s", rc, xa_errmsg(xa));
    xa_module_iter_free(it);

    json_object *mods = jget(truth, "modules");
    size_t nt = mods ? json_object_array_length(mods) : 0;
    size_t wrong = 0, missing = 0;
    for (size_t i = 0; i < nt; i++) {
        json_object *m = json_object_array_get_idx(mods, i);
        const struct xa_module *g = NULL;
        for (size_t k = 0; k < n && !g; k++)
            if (strcmp(got[k].name, jstr(m, "name")) == 0)
                g = &got[k];
        if (!g) {
            missing++;
            fprintf(stderr, "    missing module %s\n", jstr(m, "name"));
            continue;
        }
        uint64_t addr = jhex(m, "addr");
        if (g->size != (uint64_t)jint(m, "size") || g->refcount != jint(m, "refcount") ||
            (addr && g->base != addr) || g->state != 0) {
            wrong++;
            fprintf(stderr, "    module %s: got base 0x%llx size %llu ref %d state %u, want %s %lld %lld\n",
                    g->name, (unsigned long long)g->base, (unsigned long long)g->size,
                    g->refcount, g->state, jstr(m, "addr"), jint(m, "size"), jint(m, "refcount"));
        }
    }
    printf("    modules: %zu walked, %zu in truth, %zu wrong, %zu missing\n", n, nt, wrong, missing);
    CHECK(nt > 0, "truth lists no modules");
    CHECK(n == nt && wrong == 0 && missing == 0, "module lists differ");
}

/* ---- markers and maps ------------------------------------------------------ */

static void check_markers(struct xa_instance *xa, json_object *truth)
{
    json_object *marks = jget(truth, "markers");
    size_t nm = marks ? json_object_array_length(marks) : 0;
    size_t ok = 0;
    for (size_t i = 0; i < nm; i++) {
        json_object *m = json_object_array_get_idx(marks, i);
        const char *want = jstr(m, "str");
        char buf[256] = {0};
        size_t len = strlen(want) < sizeof(buf) - 1 ? strlen(want) : sizeof(buf) - 1;
        size_t got = 0;
        int rc = xa_read_pid_va(xa, (int32_t)jint(m, "pid"), jhex(m, "va"), buf, len, &got);
        if (rc == 0 && memcmp(buf, want, len) == 0)
            ok++;
        else
            fprintf(stderr, "    marker %s (%s) of pid %lld at %s: rc %d (%s), read '%.*s'\n",
                    want, jstr(m, "kind"), jint(m, "pid"), jstr(m, "va"), rc,
                    rc ? xa_errmsg(xa) : "", (int)got, buf);
    }
    printf("    markers: %zu of %zu read through the process's page tables\n", ok, nm);
    CHECK(nm > 0 && ok == nm, "markers unreadable");
}

static void perms_of(const struct xa_vma *v, char out[5])
{
    out[0] = (v->flags & XA_VMA_READ) ? 'r' : '-';
    out[1] = (v->flags & XA_VMA_WRITE) ? 'w' : '-';
    out[2] = (v->flags & XA_VMA_EXEC) ? 'x' : '-';
    out[3] = (v->flags & XA_VMA_SHARED) ? 's' : 'p';
    out[4] = '\0';
}

static void check_maps(struct xa_instance *xa, json_object *truth)
{
    json_object *maps = jget(truth, "maps"), *regions = maps ? jget(maps, "regions") : NULL;
    if (!regions) {
        CHECK(0, "truth has no maps");
        return;
    }
    int32_t pid = (int32_t)jint(maps, "pid");
    struct xa_vma_iter *it;
    int rc = xa_vma_iter_new(xa, pid, &it);
    CHECK(rc == 0, "vma_iter_new(%d): %s", pid, xa_errmsg(xa));
    if (rc)
        return;
    static struct xa_vma v;
    size_t k = 0, nt = json_object_array_length(regions), wrong = 0, n = 0;
    while ((rc = xa_vma_iter_next(it, &v)) == 1) {
        n++;
        json_object *r = k < nt ? json_object_array_get_idx(regions, k) : NULL;
        if (r && strcmp(jstr(r, "path"), "[vsyscall]") == 0)
            r = NULL; /* the gate area is not in the mm */
        char perms[5];
        perms_of(&v, perms);
        if (!r || jhex(r, "start") != v.start || jhex(r, "end") != v.end ||
            strcmp(jstr(r, "perms"), perms) != 0 || jhex(r, "offset") != v.pgoff * 4096 ||
            strcmp(jstr(r, "path"), v.path) != 0) {
            wrong++;
            fprintf(stderr, "    vma %llx-%llx %s %llx '%s' vs truth %s-%s %s %s '%s'\n",
                    (unsigned long long)v.start, (unsigned long long)v.end, perms,
                    (unsigned long long)v.pgoff * 4096, v.path, r ? jstr(r, "start") : "-",
                    r ? jstr(r, "end") : "-", r ? jstr(r, "perms") : "-",
                    r ? jstr(r, "offset") : "-", r ? jstr(r, "path") : "-");
        }
        k++;
    }
    CHECK(rc == 0, "vma walk ended with %d: %s", rc, xa_errmsg(xa));
    xa_vma_iter_free(it);
    size_t want = nt;
    for (size_t i = 0; i < nt; i++)
        if (strcmp(jstr(json_object_array_get_idx(regions, i), "path"), "[vsyscall]") == 0)
            want--;
    printf("    maps of pid %d: %zu VMAs, %zu in truth, %zu differ\n", pid, n, want, wrong);
    CHECK(n == want && wrong == 0, "memory map differs");
}

/* Every process's map walks without error and has mm->map_count VMAs. */
static void check_all_maps(struct xa_instance *xa)
{
    uint64_t map_count_off;
    int rc = xa_type_offset(xa, "mm_struct", "map_count", &map_count_off);
    CHECK(rc == 0, "no mm_struct.map_count: %s", xa_errmsg(xa));
    if (rc)
        return;
    struct xa_process_iter *pit;
    if (xa_process_iter_new(xa, &pit) < 0)
        return;
    static struct xa_process procs[MAX_PROCS];
    size_t np = 0;
    while (np < MAX_PROCS && xa_process_iter_next(pit, &procs[np]) == 1)
        np++;
    xa_process_iter_free(pit);
    size_t walked = 0, vmas = 0, bad = 0;
    double t0 = now_ms();
    for (size_t i = 0; i < np; i++) {
        if (!procs[i].mm)
            continue;
        uint32_t want;
        if (xa_read_kva_u32(xa, procs[i].mm + map_count_off, &want) < 0)
            continue;
        struct xa_vma_iter *it;
        if (xa_vma_iter_new(xa, procs[i].pid, &it) < 0) {
            bad++;
            continue;
        }
        static struct xa_vma v;
        uint32_t n = 0;
        while ((rc = xa_vma_iter_next(it, &v)) == 1)
            n++;
        xa_vma_iter_free(it);
        walked++;
        vmas += n;
        if (rc != 0 || n != want) {
            bad++;
            fprintf(stderr, "    pid %d: %u VMAs (rc %d: %s), map_count %u\n", procs[i].pid, n, rc,
                    rc ? xa_errmsg(xa) : "", want);
        }
    }
    printf("    all maps: %zu processes, %zu VMAs in %.1f ms, %zu disagree with map_count\n",
           walked, vmas, now_ms() - t0, bad);
    CHECK(walked > 100 && bad == 0, "maps disagree with map_count");
}

/* ---- driver ------------------------------------------------------------- */

/* A System.map from truth's kallsyms sample (runtime addresses: slide 0). */
/* ---- type names ------------------------------------------------------- */

/* What a lookup of @name must find, by libbpf's search: a struct, else a
 * union, else a typedef's struct or union; -1 for none. */
static int64_t libbpf_composite(const struct btf *btf, const char *name)
{
    int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
    if (id <= 0)
        id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
    if (id > 0)
        return id;
    id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
    for (int hops = 0; id > 0 && hops < 32; hops++) {
        const struct btf_type *t = btf__type_by_id(btf, (uint32_t)id);
        if (!t)
            return -1;
        if (btf_is_struct(t) || btf_is_union(t))
            return id;
        if (!btf_is_typedef(t) && !btf_is_const(t) && !btf_is_volatile(t) &&
            !btf_is_restrict(t) && !btf_is_type_tag(t))
            return -1;
        id = (int32_t)t->type;
    }
    return -1;
}

/* The kernel's BTF from guest memory, read through the public API. */
static struct btf *guest_btf(struct xa_instance *xa)
{
    uint64_t start, stop;
    if (xa_sym_lookup(xa, "__start_BTF", &start) < 0 || xa_sym_lookup(xa, "__stop_BTF", &stop) < 0 ||
        stop <= start || stop - start > (64u << 20))
        return NULL;
    size_t len = (size_t)(stop - start);
    void *buf = malloc(len);
    struct btf *btf = NULL;
    if (buf && xa_read_va(xa, 0, start, buf, len, NULL) == 0)
        btf = btf__new(buf, (uint32_t)len);
    free(buf);
    return btf;
}

static void check_type_names(struct xa_instance *xa)
{
    struct btf *btf = guest_btf(xa);
    CHECK(btf != NULL, "cannot read the kernel's BTF through the API");
    if (!btf)
        return;
    uint32_t n = btf__type_cnt(btf), compared = 0;
    /* Every 37th named struct, union or typedef (a libbpf search is a pass
     * over all types), and names that are not types at all. */
    for (uint32_t id = 1, seen = 0; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!t->name_off || !(btf_is_struct(t) || btf_is_union(t) || btf_is_typedef(t)) ||
            seen++ % 37)
            continue;
        const char *name = btf__name_by_offset(btf, t->name_off);
        int64_t want = libbpf_composite(btf, name);
        int64_t want_size = want > 0 ? btf__resolve_size(btf, (uint32_t)want) : -1;
        uint64_t size = 0;
        int rc = xa_type_size(xa, name, &size);
        if (want_size < 0)
            CHECK(rc == XA_ENOENT, "type %s: xa_type_size gives %d, libbpf finds no struct", name, rc);
        else
            CHECK(rc == 0 && size == (uint64_t)want_size,
                  "type %s: xa_type_size gives %d/%llu, libbpf's search %lld", name, rc,
                  (unsigned long long)size, (long long)want_size);
        compared++;
    }
    uint64_t size;
    CHECK_EQ(xa_type_size(xa, "no_such_struct_anywhere", &size), XA_ENOENT);
    CHECK(compared > 100, "only %u type names compared", compared);
    printf("    %u type names looked up as libbpf finds them\n", compared);
    btf__free(btf);
}

static int write_sysmap(json_object *truth, char *path)
{
    json_object *ks = jget(truth, "kallsyms");
    if (!ks)
        return -1;
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    for (size_t i = 0; i < json_object_array_length(ks); i++) {
        json_object *e = json_object_array_get_idx(ks, i);
        if (jget(e, "module"))
            continue;
        fprintf(f, "%016llx %s %s\n", (unsigned long long)jhex(e, "addr"), jstr(e, "type"),
                jstr(e, "name"));
    }
    fclose(f);
    return 0;
}

/* A dump keeps its process list between walks: the kept list must be the
 * walk's, field by field, and a flush of the OS caches must make the next
 * walk read the guest again. */
static void check_kept_process_list(struct xa_instance *xa)
{
    enum { MAX = 8192 };
    struct xa_process *walked = calloc(MAX, sizeof(*walked)),
                      *kept = calloc(MAX, sizeof(*kept)), *again = calloc(MAX, sizeof(*again));
    size_t n1 = 0, n2 = 0, n3 = 0;
    struct xa_cache_stats s0, s1;
    CHECK(walked && kept && again, "out of memory");
    if (walked && kept && again) {
        xa_cache_flush(xa, XA_CACHE_OS); /* earlier checks walked already */
        CHECK(walk_all(xa, walked, MAX, &n1) == 0, "walk: %s", xa_errmsg(xa));
        xa_cache_stats(xa, &s0);
        CHECK(walk_all(xa, kept, MAX, &n2) == 0, "kept walk: %s", xa_errmsg(xa));
        xa_cache_stats(xa, &s1);
        CHECK(s1.v2p_hits + s1.v2p_misses == s0.v2p_hits + s0.v2p_misses,
              "second walk of a dump read the guest (list not kept)");
        xa_cache_flush(xa, XA_CACHE_OS);
        CHECK(walk_all(xa, again, MAX, &n3) == 0, "walk after flush: %s", xa_errmsg(xa));
        xa_cache_stats(xa, &s0);
        CHECK(s0.v2p_hits + s0.v2p_misses > s1.v2p_hits + s1.v2p_misses,
              "walk after a flush read nothing");
        CHECK(n1 > 100 && n2 == n1 && n3 == n1, "walks of %zu, %zu, %zu processes", n1, n2, n3);
        size_t d = first_difference(walked, kept, n1 < n2 ? n1 : n2);
        CHECK(d == (n1 < n2 ? n1 : n2), "kept list differs from the walk at entry %zu", d);
        d = first_difference(walked, again, n1 < n3 ? n1 : n3);
        CHECK(d == (n1 < n3 ? n1 : n3), "walk after flush differs at entry %zu", d);
        printf("    kept process list: %zu processes, same as the walk\n", n2);
    }
    free(walked);
    free(kept);
    free(again);
}

/* Translations answered from what earlier walks left (whole large pages,
 * the page table of a 2 MiB region) must be the ones a full walk gives:
 * direct-map addresses in order (later ones of a region hit what the first
 * left), through the kernel's root and a user process's (same kernel half,
 * other cache keys), each then walked alone after a flush. */
static void check_translation_caches(struct xa_instance *xa)
{
    struct xa_os_info info;
    struct xa_process user = {0};
    struct xa_process_iter *it;
    if (xa_os_get_info(xa, &info) < 0 || xa_process_iter_new(xa, &it) < 0) {
        CHECK(0, "no OS info or process walk: %s", xa_errmsg(xa));
        return;
    }
    while (!user.mm && xa_process_iter_next(it, &user) == 1)
        ;
    xa_process_iter_free(it);
    CHECK(user.mm != 0, "no user process");
    enum { N = 3000 };
    static uint64_t va[N], pa[N];
    static int rc[N];
    const uint64_t dtbs[2] = {0, user.dtb};
    size_t differ = 0, mapped = 0;
    for (int d = 0; d < 2; d++) {
        xa_cache_flush(xa, XA_CACHE_V2P);
        for (size_t i = 0; i < N; i++) {
            va[i] = info.page_offset + (uint64_t)i * 40960 * 4 + (uint64_t)(i % 7) * 4096;
            rc[i] = xa_translate(xa, dtbs[d], va[i], &pa[i]);
            mapped += rc[i] == 0;
        }
        for (size_t i = 0; i < N; i++) {
            uint64_t alone = 0;
            xa_cache_flush(xa, XA_CACHE_V2P);
            int r = xa_translate(xa, dtbs[d], va[i], &alone);
            if (r != rc[i] || (r == 0 && alone != pa[i]))
                differ++;
        }
    }
    CHECK(mapped > N, "only %zu of the direct-map addresses translate", mapped);
    CHECK(differ == 0, "%zu translations differ from a full walk", differ);
    printf("    translation caches: %zu addresses, same as full walks\n", mapped);
}

static void run_one(const char *target, const char *sysmap, json_object *truth)
{
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = sysmap;
    struct xa_instance *xa = NULL;
    double t0 = now_ms();
    int rc = xa_init_opts(&o, &xa);
    CHECK(rc == 0, "open %s: %s", target, xa_last_init_error());
    if (rc)
        return;
    struct xa_os_info info;
    rc = xa_os_get_info(xa, &info);
    CHECK(rc == 0, "%s: no OS: %s", target, xa_errmsg(xa));
    if (rc == 0) {
        printf("    opened in %.0f ms: %s, %zu symbols (%s), %zu BTF types (%s), %s\n",
               now_ms() - t0, info.release, info.num_symbols, info.symbols_from,
               info.num_btf_types, info.types_from, xa_page_mode_name(info.page_mode));
        check_processes(xa, truth);
        check_modules(xa, truth);
        check_markers(xa, truth);
        check_maps(xa, truth);
        check_all_maps(xa);
        check_kept_process_list(xa);
        check_translation_caches(xa);
        if (!sysmap)
            check_type_names(xa);
    }
    xa_destroy(xa);
}

int main(void)
{
    const char *dir = xa_test_dumps_dir();
    int sets = 0, cannot = 0;
    const char *levels[] = {"l4", "l5"};
    for (int l = 0; l < 2; l++) {
        char truth_path[1024], raw[1100], elf[1100];
        snprintf(truth_path, sizeof(truth_path), "%s/%s/truth.json", dir, levels[l]);
        if (access(truth_path, R_OK) != 0) {
            cannot = xa_test_cannot_run("no %s dump set (%s)", levels[l], truth_path);
            continue;
        }
        json_object *truth = json_object_from_file(truth_path);
        if (!truth) {
            CHECK(0, "cannot parse %s", truth_path);
            continue;
        }
        sets++;
        snprintf(raw, sizeof(raw), "file:%s/%s/raw.img", dir, levels[l]);
        snprintf(elf, sizeof(elf), "file:%s/%s/core.elf", dir, levels[l]);
        const char *targets[] = {raw, elf};
        for (int t = 0; t < 2; t++) {
            if (access(targets[t] + 5, R_OK) != 0) {
                CHECK(0, "%s is missing from its dump set", targets[t] + 5);
                continue;
            }
            printf("%s, kallsyms discovery\n", targets[t]);
            run_one(targets[t], NULL, truth);
        }
        char map[] = "/tmp/xa-test-sysmap-XXXXXX";
        if (write_sysmap(truth, map) == 0) {
            printf("%s, System.map from truth's kallsyms sample\n", raw);
            run_one(raw, map, truth);
            unlink(map);
        }
        json_object_put(truth);
    }
    if (cannot == 1 || (cannot && !sets))
        return check_failures ? 1 : cannot;
    CHECK_DONE();
}
