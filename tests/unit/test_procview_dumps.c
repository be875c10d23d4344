/*
 * test_procview_dumps.c -- inside processes, against real guest dumps made by
 * tests/guest/harness.py ($XA_TEST_DUMPS/{l4,l5}). The guest's init.sh
 * records, for a few processes (init, kthreadd, the marker, the workload and
 * the multi-threaded "procview" process with a 12 KiB command line and a
 * 36 KiB environment), what /proc says: task list, status ids, groups and
 * capabilities, stat starttime, cmdline, environ, exe/cwd/root links, and
 * /proc/stat's btime. Each must equal what xenaccess reads, byte for byte.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "require.h"
#include "xenaccess.h"

static int failures;
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

static json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static long long jint(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v ? json_object_get_int64(v) : -1;
}

static long long jidx(json_object *arr, size_t i)
{
    json_object *v = arr ? json_object_array_get_idx(arr, i) : NULL;
    return v ? json_object_get_int64(v) : -1;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v ? json_object_get_string(v) : "";
}

/* Hex text to bytes; returns the length. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2)
        sscanf(hex, "%2hhx", &out[n++]);
    return n;
}

static int cmp_tid(const void *a, const void *b)
{
    const struct xa_thread *x = a, *y = b;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

static void check_threads(struct xa_instance *xa, int pid, json_object *want)
{
    struct xa_thread got[64];
    size_t n = 0;
    struct xa_thread_iter *it;
    int rc = xa_thread_iter_new(xa, pid, &it);
    CHECK(rc == 0, "pid %d: thread_iter_new: %s", pid, xa_errmsg(xa));
    if (rc)
        return;
    while (n < 64 && (rc = xa_thread_iter_next(it, &got[n])) == 1)
        n++;
    CHECK(rc == 0, "pid %d: thread walk ended with %d: %s", pid, rc, xa_errmsg(xa));
    xa_thread_iter_free(it);
    qsort(got, n, sizeof(got[0]), cmp_tid); /* the truth lists them by tid */
    size_t nw = json_object_array_length(want);
    CHECK(n == nw, "pid %d: %zu threads, the guest has %zu", pid, n, nw);
    for (size_t i = 0; i < n && i < nw; i++) {
        json_object *w = json_object_array_get_idx(want, i);
        CHECK(got[i].tid == jint(w, "tid"), "pid %d: thread %zu tid %d, guest %lld", pid, i,
              got[i].tid, jint(w, "tid"));
        CHECK(got[i].tgid == pid, "pid %d: thread %d has tgid %d", pid, got[i].tid, got[i].tgid);
        CHECK(strcmp(got[i].comm, jstr(w, "comm")) == 0, "tid %d: comm '%s', guest '%s'",
              got[i].tid, got[i].comm, jstr(w, "comm"));
        CHECK(got[i].state == jstr(w, "state")[0], "tid %d: state %c, guest %s", got[i].tid,
              got[i].state, jstr(w, "state"));
        /* init wakes every second (its reaping loop) and may move between
         * the truth and the dump; the others sleep for good. */
        if (pid == 1)
            CHECK(got[i].cpu >= 0 && got[i].cpu < 64, "tid 1: cpu %d", got[i].cpu);
        else
            CHECK(got[i].cpu == jint(w, "cpu"), "tid %d: cpu %d, guest %lld", got[i].tid,
                  got[i].cpu, jint(w, "cpu"));
    }
}

static void check_creds(struct xa_instance *xa, int pid, json_object *p)
{
    struct xa_creds c;
    uint32_t groups[64];
    int rc = xa_process_creds(xa, pid, &c, groups, 64);
    CHECK(rc == 0, "pid %d: creds: %s", pid, xa_errmsg(xa));
    if (rc)
        return;
    json_object *uid = jget(p, "uid"), *gid = jget(p, "gid"), *g = jget(p, "groups");
    const uint32_t u[4] = {c.uid, c.euid, c.suid, c.fsuid}, gg[4] = {c.gid, c.egid, c.sgid, c.fsgid};
    for (size_t i = 0; i < 4; i++) {
        CHECK(u[i] == jidx(uid, i), "pid %d: uid[%zu] %u, guest %lld", pid, i, u[i], jidx(uid, i));
        CHECK(gg[i] == jidx(gid, i), "pid %d: gid[%zu] %u, guest %lld", pid, i, gg[i],
              jidx(gid, i));
    }
    size_t ng = g ? json_object_array_length(g) : 0;
    CHECK(c.ngroups == ng, "pid %d: %u groups, guest %zu", pid, c.ngroups, ng);
    for (size_t i = 0; i < ng && i < c.ngroups && i < 64; i++)
        CHECK(groups[i] == jidx(g, i), "pid %d: group %zu is %u, guest %lld", pid, i, groups[i],
              jidx(g, i));
    CHECK(c.cap_effective == (uint64_t)jint(p, "capeff"), "pid %d: CapEff %llx, guest %llx", pid,
          (unsigned long long)c.cap_effective, (unsigned long long)jint(p, "capeff"));
    CHECK(c.cap_permitted == (uint64_t)jint(p, "capprm"), "pid %d: CapPrm %llx, guest %llx", pid,
          (unsigned long long)c.cap_permitted, (unsigned long long)jint(p, "capprm"));
}

static void check_start(struct xa_instance *xa, int pid, json_object *p, long long btime)
{
    uint64_t boot_ns;
    int64_t wall_ns, boot_wall;
    int rc = xa_process_start_time(xa, pid, &boot_ns, &wall_ns);
    CHECK(rc == 0, "pid %d: start time: %s", pid, xa_errmsg(xa));
    if (rc)
        return;
    /* /proc/PID/stat: start_boottime in USER_HZ (100) ticks */
    CHECK((long long)(boot_ns / 10000000u) == jint(p, "start_ticks"),
          "pid %d: started %llu ns after boot, guest says %lld ticks", pid,
          (unsigned long long)boot_ns, jint(p, "start_ticks"));
    rc = xa_boot_time(xa, &boot_wall);
    CHECK(rc == 0 && boot_wall / 1000000000 == btime, "boot time %lld ns, guest btime %lld (%s)",
          (long long)boot_wall, btime, rc ? xa_errmsg(xa) : "");
    CHECK(wall_ns == boot_wall + (int64_t)boot_ns, "pid %d: wall start %lld", pid,
          (long long)wall_ns);
}

static void check_args(struct xa_instance *xa, int pid, json_object *p, bool env)
{
    static unsigned char want[XA_ARGS_MAX], got[XA_ARGS_MAX];
    size_t nw = unhex(jstr(p, env ? "environ" : "cmdline"), want, sizeof(want)), n;
    uint32_t flags;
    int rc = env ? xa_process_environ(xa, pid, got, sizeof(got), &n, &flags)
                 : xa_process_cmdline(xa, pid, got, sizeof(got), &n, &flags);
    CHECK(rc == 0, "pid %d: %s: %s", pid, env ? "environ" : "cmdline", xa_errmsg(xa));
    if (rc)
        return;
    CHECK(flags == 0, "pid %d: %s flags %#x: %s", pid, env ? "environ" : "cmdline", flags,
          xa_errmsg(xa));
    CHECK(n == nw && memcmp(got, want, n) == 0, "pid %d: %s: %zu bytes differ from the guest's %zu",
          pid, env ? "environ" : "cmdline", n, nw);
    /* a small buffer: the start, flagged truncated */
    if (nw > 10) {
        rc = env ? xa_process_environ(xa, pid, got, 10, &n, &flags)
                 : xa_process_cmdline(xa, pid, got, 10, &n, &flags);
        CHECK(rc == 0 && n == 10 && flags == XA_ARGS_TRUNCATED && memcmp(got, want, 10) == 0,
              "pid %d: 10-byte read gave rc %d, %zu bytes, flags %#x", pid, rc, n, flags);
    }
}

static void check_paths(struct xa_instance *xa, int pid, json_object *p)
{
    const char *keys[] = {"exe", "cwd", "root"};
    const enum xa_proc_path which[] = {XA_PROC_EXE, XA_PROC_CWD, XA_PROC_ROOT};
    char buf[XA_PATH_MAX];
    for (int i = 0; i < 3; i++) {
        const char *want = jstr(p, keys[i]);
        int rc = xa_process_path(xa, pid, which[i], buf, sizeof(buf));
        if (!want[0]) { /* readlink failed in the guest: a kernel thread's exe */
            CHECK(rc == XA_ENOENT, "pid %d: %s: rc %d, the guest has none", pid, keys[i], rc);
            continue;
        }
        CHECK(rc == 0 && strcmp(buf, want) == 0, "pid %d: %s '%s' (%s), guest '%s'", pid,
              keys[i], rc ? "" : buf, rc ? xa_errmsg(xa) : "ok", want);
    }
}

static void run_one(const char *target, json_object *pv)
{
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    struct xa_instance *xa = NULL;
    int rc = xa_init_opts(&o, &xa);
    CHECK(rc == 0, "open %s: %s", target, xa_last_init_error());
    if (rc)
        return;
    long long btime = jint(pv, "btime");
    int checked = 0;
    json_object_object_foreach(jget(pv, "procs"), key, p) {
        int pid = atoi(key);
        check_threads(xa, pid, jget(p, "threads"));
        check_creds(xa, pid, p);
        check_start(xa, pid, p, btime);
        check_args(xa, pid, p, false);
        check_args(xa, pid, p, true);
        check_paths(xa, pid, p);
        checked++;
    }
    CHECK(checked >= 5, "only %d processes in the truth's procview section", checked);
    printf("    %d processes compared\n", checked);
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
        json_object *pv = jget(truth, "procview");
        if (!pv) {
            CHECK(0, "%s has no procview section: remake the dumps", truth_path);
            json_object_put(truth);
            continue;
        }
        sets++;
        snprintf(raw, sizeof(raw), "file:%s/%s/raw.img", dir, levels[l]);
        snprintf(elf, sizeof(elf), "file:%s/%s/core.elf", dir, levels[l]);
        const char *targets[] = {raw, elf};
        for (int t = 0; t < 2; t++) {
            printf("%s\n", targets[t]);
            run_one(targets[t], pv);
        }
        json_object_put(truth);
    }
    if (cannot == 1 || (cannot && !sets))
        return failures ? 1 : cannot;
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
