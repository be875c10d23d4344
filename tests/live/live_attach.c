/*
 * live_attach.c -- checks a live QEMU guest through the public API only.
 *
 *   live_attach SOCK [--banner-va HEX --banner TEXT] [--jiffies-va HEX]
 *               [--expect-method TEXT] [--open-only] [--until-gone]
 *
 * Prints "key value" lines (parsed by test_live.py) and exits 0 when every
 * check passed, 1 when one failed, 2 on usage errors.
 *  --open-only   open and close; on failure print "open_error RC MESSAGE".
 *  --until-gone  read memory and registers in a loop until QEMU goes away
 *                (the test quits QEMU meanwhile); checks nothing crashes and
 *                QMP calls then fail with XA_EGONE.
 *  --list-procs  open with the OS layer; for each line read on stdin, walk
 *                the process list in the same instance and print
 *                "procs N PID:COMM ...", to test the live cache policy.
 *  --pid-reads  open with the OS layer; stdin lines, all in one instance:
 *                "read PID"  print "pid_dtb PID HEX" (xa_pid_to_dtb) and
 *                            "pid_mark PID VALUE": the value of XA_MARK= in
 *                            the process's environment, read with
 *                            xa_read_pid_va (or "pid_error PID RC MSG");
 *                "walk PID"  walk the process list (a flush point on a live
 *                            target) and print "walk_dtb PID HEX" for PID;
 *                "flush"     xa_cache_flush(XA_CACHE_ALL), print "flushed".
 *  --watch-str VA  print "str VALUE" each time the kernel string at VA
 *                changes (polled every 20 ms, caches not flushed unless
 *                --flush), until stdin is closed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "xenaccess.h"
#include "check.h"


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct options {
    const char *sock, *banner, *expect_method;
    uint64_t banner_va, jiffies_va;
    uint64_t watch_va;
    bool open_only, until_gone, flush, list_procs, pid_reads;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--banner-va") && v)
            o->banner_va = strtoull(v, NULL, 16), i++;
        else if (!strcmp(a, "--banner") && v)
            o->banner = v, i++;
        else if (!strcmp(a, "--jiffies-va") && v)
            o->jiffies_va = strtoull(v, NULL, 16), i++;
        else if (!strcmp(a, "--expect-method") && v)
            o->expect_method = v, i++;
        else if (!strcmp(a, "--watch-str") && v)
            o->watch_va = strtoull(v, NULL, 16), i++;
        else if (!strcmp(a, "--list-procs"))
            o->list_procs = true;
        else if (!strcmp(a, "--pid-reads"))
            o->pid_reads = true;
        else if (!strcmp(a, "--flush"))
            o->flush = true;
        else if (!strcmp(a, "--open-only"))
            o->open_only = true;
        else if (!strcmp(a, "--until-gone"))
            o->until_gone = true;
        else if (a[0] != '-' && !o->sock)
            o->sock = a;
        else
            return -1;
    }
    return o->sock ? 0 : -1;
}

static void check_layout(struct xa_instance *xa, const struct options *o)
{
    printf("backend %s\n", xa_backend_name(xa));
    printf("method %s\n", xa_access_method(xa));
    printf("memsize %" PRIu64 "\n", xa_memsize(xa));
    CHECK(!strcmp(xa_backend_name(xa), "qemu"), "backend is %s", xa_backend_name(xa));
    CHECK(xa_is_live(xa), "target not live");
    CHECK(xa_memsize(xa) > (16u << 20), "memsize %" PRIu64, xa_memsize(xa));
    if (o->expect_method)
        CHECK(strstr(xa_access_method(xa), o->expect_method), "method '%s' lacks '%s'",
              xa_access_method(xa), o->expect_method);
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    for (size_t i = 0; i < n; i++)
        printf("range 0x%" PRIx64 " 0x%" PRIx64 "\n", r[i].start, r[i].size);
}

static void check_regs(struct xa_instance *xa)
{
    unsigned n = xa_vcpu_count(xa);
    printf("vcpus %u\n", n);
    CHECK(n >= 1, "no vCPUs");
    for (unsigned v = 0; v < n; v++) {
        struct xa_regs r;
        int rc = xa_get_vcpu_regs(xa, v, &r);
        CHECK(rc == 0, "regs of vCPU %u: %s", v, xa_errmsg(xa));
        if (rc)
            continue;
        printf("vcpu %u rip 0x%" PRIx64 " cr0 0x%" PRIx64 " cr3 0x%" PRIx64 " cr4 0x%" PRIx64
               " efer 0x%" PRIx64 " gs_base 0x%" PRIx64 " cs 0x%x\n",
               v, r.rip, r.cr0, r.cr3, r.cr4, r.efer, r.gs_base, r.cs);
        CHECK(r.cr0 & (1u << 31), "vCPU %u: paging off", v);
        CHECK(r.efer & (1u << 10), "vCPU %u: not in long mode (EFER 0x%" PRIx64 ")", v, r.efer);
        CHECK(r.cr3 != 0, "vCPU %u: CR3 is 0", v);
        CHECK(r.cs != 0, "vCPU %u: CS is 0", v);
    }
    CHECK(xa_vcpu_count(xa) == n, "vcpu count changed");
    struct xa_regs r;
    CHECK(xa_get_vcpu_regs(xa, n, &r) == XA_EINVAL, "vCPU %u past the end accepted", n);
    enum xa_page_mode m = xa_get_page_mode(xa);
    printf("paging %s dtb 0x%" PRIx64 "\n", xa_page_mode_name(m), xa_kernel_dtb(xa));
    CHECK(m == XA_PM_IA32E || m == XA_PM_LA57, "paging mode %s", xa_page_mode_name(m));
    CHECK(xa_kernel_dtb(xa) != 0, "no kernel page-table root");
}

static void check_banner(struct xa_instance *xa, const struct options *o)
{
    char buf[256];
    int rc = xa_read_va_str(xa, 0, o->banner_va, buf, sizeof(buf));
    CHECK(rc == 0, "banner at 0x%" PRIx64 ": %s", o->banner_va, xa_errmsg(xa));
    if (rc)
        return;
    buf[strcspn(buf, "\n")] = '\0';
    printf("banner %s\n", buf);
    CHECK(!strncmp(buf, "Linux version ", 14), "banner '%s'", buf);
    if (o->banner)
        CHECK(!strncmp(buf, o->banner, strlen(o->banner) < 60 ? strlen(o->banner) : 60),
              "banner '%s' differs from the guest's '%s'", buf, o->banner);
    uint32_t off;
    const char *page = xa_access_virtual_address(xa, o->banner_va, &off);
    CHECK(page, "xa_access_virtual_address: %s", xa_errmsg(xa));
    if (page) {
        CHECK(off == (o->banner_va & 0xfff), "offset %u", off);
        CHECK(!memcmp(page + off, "Linux version ", off <= 4096 - 14 ? 14 : 4096 - off),
              "mapped page does not hold the banner");
        xa_release_page(xa, page);
    }
}

static uint64_t jiffies(struct xa_instance *xa, uint64_t va)
{
    uint64_t v = 0;
    if (xa_read_kva_u64(xa, va, &v) < 0)
        printf("FAIL jiffies read: %s\n", xa_errmsg(xa)), check_failures++;
    return v;
}

/* jiffies once they differ from `from` (the guest ran), flushing before
 * each read; gives up after 120 s. */
static uint64_t jiffies_after(struct xa_instance *xa, uint64_t va, uint64_t from)
{
    double start = now_s();
    uint64_t v;
    do {
        sleep_ms(20);
        xa_cache_flush(xa, XA_CACHE_ALL);
        v = jiffies(xa, va);
    } while (v == from && now_s() - start < 120);
    return v;
}

/* Memory changes under us while the guest runs, and stops when paused
 * (the paused check watches a 400 ms window: no change may happen in it). */
static void check_live_and_pause(struct xa_instance *xa, const struct options *o)
{
    uint64_t va = o->jiffies_va;
    uint64_t j0 = jiffies(xa, va);
    sleep_ms(400); /* a window for the unflushed read below, not a wait */
    uint64_t j1 = jiffies(xa, va); /* no flush: fresh only with shared pages */
    uint64_t j2 = jiffies_after(xa, va, j0);
    printf("jiffies running %" PRIu64 " -> %" PRIu64 " unflushed, %" PRIu64 " flushed\n", j0,
           j1, j2);
    printf("unflushed_read_fresh %d\n", j1 > j0);
    CHECK(j2 > j0, "jiffies did not advance while the guest ran");

    double t = now_s();
    int rc = xa_pause(xa);
    double pause_s = now_s() - t;
    CHECK(rc == 0, "pause: %s", xa_errmsg(xa));
    uint64_t p0 = jiffies(xa, va);
    struct xa_regs r0, r1;
    CHECK(xa_get_vcpu_regs(xa, 0, &r0) == 0, "regs: %s", xa_errmsg(xa));
    sleep_ms(400);
    xa_cache_flush(xa, XA_CACHE_ALL);
    uint64_t p1 = jiffies(xa, va);
    CHECK(xa_get_vcpu_regs(xa, 0, &r1) == 0, "regs: %s", xa_errmsg(xa));
    printf("jiffies paused %" PRIu64 " -> %" PRIu64 "\n", p0, p1);
    CHECK(p0 == p1, "jiffies advanced while paused");
    CHECK(r0.rip == r1.rip && r0.rsp == r1.rsp, "vCPU 0 moved while paused");
    t = now_s();
    rc = xa_resume(xa);
    double resume_s = now_s() - t;
    CHECK(rc == 0, "resume: %s", xa_errmsg(xa));
    uint64_t q = jiffies_after(xa, va, p1);
    printf("jiffies resumed %" PRIu64 "\n", q);
    CHECK(q > p1, "jiffies did not advance after resume");
    printf("pause_ms %.3f resume_ms %.3f\n", pause_s * 1e3, resume_s * 1e3);

    /* Round trips, averaged. */
    const int n = 10;
    t = now_s();
    for (int i = 0; i < n; i++)
        if (xa_pause(xa) < 0 || xa_resume(xa) < 0)
            printf("FAIL pause/resume round %d: %s\n", i, xa_errmsg(xa)), check_failures++;
    printf("pause_resume_roundtrip_ms %.3f\n", (now_s() - t) / n * 1e3);
}

/* Keep reading while the test quits QEMU; nothing may crash or hang. */
static int until_gone(struct xa_instance *xa, const struct options *o)
{
    printf("ready\n");
    fflush(stdout);
    double start = now_s();
    int reads = 0, rc = 0;
    while (now_s() - start < 120) {
        struct xa_regs r;
        rc = xa_get_vcpu_regs(xa, 0, &r);
        if (rc < 0)
            break;
        char buf[64];
        if (o->banner_va && xa_read_va_str(xa, 0, o->banner_va, buf, sizeof(buf)) == 0 &&
            reads++ == 0) {
            printf("reading\n"); /* the test quits QEMU from now on */
            fflush(stdout);
        }
        xa_cache_flush(xa, XA_CACHE_ALL);
        sleep_ms(20);
    }
    printf("gone_rc %d %s\n", rc, xa_errmsg(xa));
    CHECK(rc == XA_EGONE, "QMP call after QEMU quit gave %d, want XA_EGONE", rc);
    CHECK(strstr(xa_errmsg(xa), "QEMU went away"), "message '%s'", xa_errmsg(xa));
    /* Later calls fail fast and the same way. */
    struct xa_regs r;
    CHECK(xa_get_vcpu_regs(xa, 0, &r) == XA_EGONE, "second regs call");
    CHECK(xa_pause(xa) == XA_EGONE, "pause after QEMU quit");
    /* QEMU closes QMP before its memory goes: give it up to 5 s to exit. */
    char buf[64] = "";
    int rrc = 0;
    for (int i = 0; o->banner_va && i < 50; i++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        rrc = xa_read_va_str(xa, 0, o->banner_va, buf, sizeof(buf));
        if (rrc != 0)
            break;
        sleep_ms(100);
    }
    printf("read_after_gone %d %s\n", rrc, rrc ? xa_errmsg(xa) : buf);
    CHECK(rrc == 0 || rrc == XA_EGONE, "read after QEMU quit gave %d", rrc);
    printf("reads_before_gone %d\n", reads);
    return 0;
}

/* Report every change of the string at o->watch_va until stdin closes. */
static int watch_string(struct xa_instance *xa, const struct options *o)
{
    char last[128] = "", cur[128];
    int last_rc = 1;
    for (;;) {
        struct timeval tv = {0, 20000};
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(0, &fds);
        if (select(1, &fds, NULL, NULL, &tv) > 0) {
            char c;
            if (read(0, &c, 1) <= 0)
                return 0;
        }
        if (o->flush)
            xa_cache_flush(xa, XA_CACHE_ALL);
        int rc = xa_read_va_str(xa, 0, o->watch_va, cur, sizeof(cur));
        if (rc != last_rc || (rc == 0 && strcmp(cur, last) != 0)) {
            if (rc == 0)
                printf("str %s\n", cur);
            else
                printf("str_error %d %s\n", rc, xa_errmsg(xa));
            snprintf(last, sizeof(last), "%s", cur);
            last_rc = rc;
        }
    }
}

/* One process walk per line on stdin, all in the same instance. */
static int list_procs_on_demand(struct xa_instance *xa)
{
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        struct xa_process_iter *it = NULL;
        int rc = xa_process_iter_new(xa, &it);
        if (rc < 0) {
            printf("procs_error %d %s\n", rc, xa_errmsg(xa));
            continue;
        }
        struct xa_process p;
        int n = 0;
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        while ((rc = xa_process_iter_next(it, &p)) == 1) {
            fprintf(f, " %d:%s", (int)p.pid, p.comm);
            n++;
        }
        xa_process_iter_free(it);
        fclose(f);
        if (rc < 0)
            printf("procs_error %d %s\n", rc, xa_errmsg(xa));
        else
            printf("procs %d%s\n", n, out);
        free(out);
    }
    return 0;
}

/* XA_MARK=... from the environment of @pid, read through xa_read_pid_va
 * (the page-table root comes from the pid cache). */
static int pid_mark(struct xa_instance *xa, int32_t pid, char *mark, size_t cap)
{
    struct xa_process p;
    uint64_t off_start, off_end, env_start, env_end;
    int rc = xa_process_by_pid(xa, pid, &p);
    if (rc == 0)
        rc = xa_type_offset(xa, "mm_struct", "env_start", &off_start);
    if (rc == 0)
        rc = xa_type_offset(xa, "mm_struct", "env_end", &off_end);
    if (rc == 0)
        rc = xa_read_kva_u64(xa, p.mm + off_start, &env_start);
    if (rc == 0)
        rc = xa_read_kva_u64(xa, p.mm + off_end, &env_end);
    if (rc < 0)
        return rc;
    static char env[4097];
    size_t len = env_end > env_start && env_end - env_start < 4096 ? env_end - env_start : 4096;
    rc = xa_read_pid_va(xa, pid, env_start, env, len, NULL);
    if (rc < 0)
        return rc;
    env[len] = '\0';
    for (size_t i = 0; i < len; i += strlen(env + i) + 1)
        if (!strncmp(env + i, "XA_MARK=", 8)) {
            snprintf(mark, cap, "%s", env + i + 8);
            return 0;
        }
    snprintf(mark, cap, "(none)");
    return 0;
}

static int pid_reads(struct xa_instance *xa)
{
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        int pid = 0;
        if (!strcmp(line, "flush\n")) {
            xa_cache_flush(xa, XA_CACHE_ALL);
            printf("flushed\n");
        } else if (sscanf(line, "read %d", &pid) == 1) {
            uint64_t dtb = 0;
            char mark[128];
            int rc = xa_pid_to_dtb(xa, pid, &dtb);
            if (rc == 0)
                printf("pid_dtb %d 0x%" PRIx64 "\n", pid, dtb);
            if (rc == 0)
                rc = pid_mark(xa, pid, mark, sizeof(mark));
            if (rc == 0)
                printf("pid_mark %d %s\n", pid, mark);
            else
                printf("pid_error %d %d %s\n", pid, rc, xa_errmsg(xa));
        } else if (sscanf(line, "walk %d", &pid) == 1) {
            struct xa_process_iter *it = NULL;
            struct xa_process p;
            uint64_t dtb = 0;
            bool found = false;
            int rc = xa_process_iter_new(xa, &it);
            if (rc == 0) {
                while ((rc = xa_process_iter_next(it, &p)) == 1)
                    if (p.pid == pid) {
                        dtb = p.dtb;
                        found = true;
                    }
                xa_process_iter_free(it);
            }
            if (rc < 0)
                printf("walk_error %d %s\n", rc, xa_errmsg(xa));
            else if (found)
                printf("walk_dtb %d 0x%" PRIx64 "\n", pid, dtb);
            else
                printf("walk_missing %d\n", pid);
        } else {
            printf("bad_command %s", line);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: %s SOCK [--banner-va HEX --banner TEXT] [--jiffies-va HEX] "
                        "[--expect-method TEXT] [--open-only] [--until-gone] [--list-procs] "
                        "[--pid-reads] [--watch-str VA [--flush]]\n",
                argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char target[4200];
    snprintf(target, sizeof(target), "qemu:%s", o.sock);
    struct xa_instance *xa = NULL;
    double t = now_s();
    int rc = xa_init(target, o.list_procs || o.pid_reads ? 0 : XA_INIT_NO_OS, &xa);
    double open_s = now_s() - t;
    if (rc < 0) {
        printf("open_error %d %s\n", rc, xa_last_init_error());
        printf("open_ms %.3f\n", open_s * 1e3);
        return 1;
    }
    printf("open_ms %.3f\n", open_s * 1e3);
    if (o.open_only) {
        printf("method %s\n", xa_access_method(xa));
        xa_destroy(xa);
        return 0;
    }
    if (o.list_procs) {
        list_procs_on_demand(xa);
    } else if (o.pid_reads) {
        pid_reads(xa);
    } else if (o.watch_va) {
        watch_string(xa, &o);
    } else if (o.until_gone) {
        until_gone(xa, &o);
    } else {
        check_layout(xa, &o);
        check_regs(xa);
        if (o.banner_va)
            check_banner(xa, &o);
        if (o.jiffies_va)
            check_live_and_pause(xa, &o);
    }
    xa_destroy(xa);
    printf("failures %d\n", check_failures);
    return check_failures ? 1 : 0;
}
