/*
 * xa-ps -- list a guest's processes from outside.
 *   xa-ps TARGET [--json] [--watch SECONDS [--count N]]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

#define PF_KTHREAD 0x00200000u

struct ps_args {
    double watch;   /* seconds between lists; 0 = list once */
    uint64_t count; /* --count N: stop after N watch rounds (for scripts); 0 = forever */
};

struct plist {
    struct xa_process *p;
    size_t n, cap;
};

/* Walk the process list; returns 0 or the error that cut it short. */
static int collect(struct xa_instance *xa, struct plist *l)
{
    l->n = 0;
    struct xa_process_iter *it;
    int rc = xa_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process p;
    while ((rc = xa_process_iter_next(it, &p)) == 1) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 256;
            struct xa_process *np = realloc(l->p, cap * sizeof(*np));
            if (!np)
                tool_die(TOOL_ERR, "out of memory");
            l->p = np;
            l->cap = cap;
        }
        l->p[l->n++] = p;
    }
    xa_process_iter_free(it);
    return rc;
}

static json_object *proc_json(const struct xa_process *p)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "pid", json_object_new_int(p->pid));
    json_object_object_add(o, "ppid", json_object_new_int(p->ppid));
    json_object_object_add(o, "uid", json_object_new_int64(p->uid));
    json_object_object_add(o, "gid", json_object_new_int64(p->gid));
    tool_json_str(o, "comm", p->comm);
    char buf[32];
    tool_json_hex(o, "dtb", p->dtb);
    snprintf(buf, sizeof(buf), "%c", p->state ? p->state : '?');
    json_object_object_add(o, "state", json_object_new_string(buf));
    tool_json_hex(o, "task", p->task);
    json_object_object_add(o, "kthread", json_object_new_boolean(p->flags & PF_KTHREAD));
    return o;
}

static void print_table(const struct plist *l, bool json)
{
    if (!json)
        printf("%7s %7s %6s %6s %-2s %-16s %s\n", "PID", "PPID", "UID", "GID", "S", "COMM",
               "DTB");
    for (size_t i = 0; i < l->n; i++) {
        const struct xa_process *p = &l->p[i];
        if (json) {
            tool_json_line(proc_json(p));
            continue;
        }
        /* COMM is not the last column: spaces are escaped too. */
        char name[ESC_TEXT_SIZE(XA_COMM_LEN) + 2];
        if (p->flags & PF_KTHREAD)
            snprintf(name, sizeof(name), "[%s]", tool_text(p->comm, ESC_SPACE));
        else
            snprintf(name, sizeof(name), "%s", tool_text(p->comm, ESC_SPACE));
        printf("%7d %7d %6u %6u %-2c %-16s 0x%" PRIx64 "\n", p->pid, p->ppid, p->uid, p->gid,
               p->state ? p->state : '?', name, p->dtb);
    }
}

/* A process is the same one if pid and task address match (pids get reused). */
static const struct xa_process *find_same(const struct plist *l, const struct xa_process *p)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->p[i].pid == p->pid && l->p[i].task == p->task)
            return &l->p[i];
    return NULL;
}

static bool is_dead(const struct xa_process *p)
{
    return p->state == 'Z' || p->state == 'X';
}

static void print_event(const char *what, const struct xa_process *p, bool json)
{
    if (json) {
        json_object *o = proc_json(p);
        json_object_object_add(o, "event", json_object_new_string(what));
        json_object_object_add(o, "time", json_object_new_double((double)time(NULL)));
        tool_json_line(o);
    } else {
        printf("%-5s %7d %7d %6u %s\n", what, p->pid, p->ppid, p->uid, tool_text(p->comm, 0));
    }
    fflush(stdout);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int watch(struct xa_instance *xa, const struct ps_args *a, bool json)
{
    struct plist prev = {0}, cur = {0};
    int rc = collect(xa, &prev);
    if (rc < 0)
        tool_die(TOOL_ERR, "%s", xa_errmsg(xa));
    print_table(&prev, json);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (uint64_t round = 0; !stop && (a->count == 0 || round < a->count); round++) {
        struct timespec ts = {(time_t)a->watch, (long)((a->watch - (double)(time_t)a->watch) * 1e9)};
        nanosleep(&ts, NULL);
        /* The guest ran since the last list: derived data is stale. */
        xa_cache_flush(xa, XA_CACHE_ALL);
        rc = collect(xa, &cur);
        if (rc < 0) {
            /* A walk racing the running guest can meet a half-updated list:
             * skip this round rather than report phantom exits. */
            tool_warn("skipping a round: %s", xa_errmsg(xa));
            continue;
        }
        /* A process has exited once it is a zombie (its parent may never
         * reap it) or gone from the list. */
        for (size_t i = 0; i < cur.n; i++) {
            const struct xa_process *was = find_same(&prev, &cur.p[i]);
            if (!was)
                print_event("START", &cur.p[i], json);
            if (is_dead(&cur.p[i]) && (!was || !is_dead(was)))
                print_event("EXIT", &cur.p[i], json);
        }
        for (size_t i = 0; i < prev.n; i++)
            if (!find_same(&cur, &prev.p[i]) && !is_dead(&prev.p[i]))
                print_event("EXIT", &prev.p[i], json);
        struct plist t = prev;
        prev = cur;
        cur = t;
    }
    free(prev.p);
    free(cur.p);
    return TOOL_OK;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "qemu:/run/vm1-xa.sock --watch 2";
    struct tool_opts o = {0};
    struct ps_args a = {0};
    struct tool_opt opts[] = {
        {"--watch", OPT_SECONDS, &a.watch, "SECONDS", "list again every SECONDS, printing starts "
         "and exits", 0, 86400, false},
        {"--count", OPT_UINT, &a.count, "N", "with --watch: stop after N rounds", 1,
         1000000000, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1, "TARGET [--json] [--watch SECONDS [--count N]]");
    if (opts[1].seen && !opts[0].seen)
        tool_die(TOOL_USAGE, "--count goes with --watch");
    struct xa_instance *xa = tool_open(&o);
    int code = TOOL_OK;
    if (a.watch > 0 && xa_is_live(xa) != 1) {
        /* A dump never changes: watching it would wait forever for nothing. */
        xa_destroy(xa);
        tool_die(TOOL_USAGE, "%s is not a running guest, its processes never change: --watch "
                 "needs a live target (qemu:, xen:, libvirt:)", o.target);
    }
    if (a.watch > 0) {
        code = watch(xa, &a, o.json);
    } else {
        struct plist l = {0};
        int rc = collect(xa, &l);
        if (rc < 0 && l.n == 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s", xa_errmsg(xa));
            xa_destroy(xa);
            tool_die(TOOL_ERR, "%s: %s", o.target, msg);
        }
        print_table(&l, o.json);
        if (rc < 0)
            code = tool_partial(xa, rc, o.json, "process list is partial");
        free(l.p);
    }
    xa_destroy(xa);
    return code;
}
