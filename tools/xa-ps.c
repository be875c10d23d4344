/*
 * xa-ps -- list a guest's processes from outside.
 *   xa-ps TARGET [--json] [--pid PID] [--threads | --tree] [--watch SECONDS [--count N]]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "tool.h"

#define PF_KTHREAD 0x00200000u

struct ps_args {
    double watch;   /* seconds between lists; 0 = list once */
    uint64_t count; /* --count N: stop after N watch rounds (for scripts); 0 = forever */
    uint64_t pid;   /* --pid */
    bool only_pid, threads, tree;
};

/* Details read per process for the listing; a failure is remembered so the
 * run ends as partial, never silently. */
static int detail_rc;
static char detail_msg[600];

static void detail_failed(struct xa_instance *xa, int rc, int32_t pid, const char *what)
{
    /* A column this kernel cannot give at all (no BTF: a 32-bit guest) is
     * said once and left empty; it does not make the list partial. */
    static bool cmd_unsupported, start_unsupported;
    if (rc == XA_ENOTSUP) {
        bool *said = what[0] == 'c' ? &cmd_unsupported : &start_unsupported;
        if (!*said)
            tool_warn("%ss not shown: %s", what, xa_errmsg(xa));
        *said = true;
        return;
    }
    tool_warn("pid %d: %s: %s", (int)pid, what, xa_errmsg(xa));
    if (!detail_rc) {
        detail_rc = rc;
        snprintf(detail_msg, sizeof(detail_msg), "pid %d: %s: %s", (int)pid, what, xa_errmsg(xa));
    }
}

struct details {
    char *cmd;       /* arguments joined by spaces (raw guest bytes), "" for none */
    bool cmd_partial;
    bool have_start, have_wall;
    uint64_t boot_ns;
    int64_t wall_ns;
};

static void read_details(struct xa_instance *xa, const struct xa_process *p, struct details *d)
{
    static unsigned char buf[XA_ARGS_MAX + 1];
    memset(d, 0, sizeof(*d));
    size_t len = 0;
    uint32_t flags = 0;
    int rc = xa_process_cmdline(xa, p->pid, buf, XA_ARGS_MAX, &len, &flags);
    if (rc < 0) {
        detail_failed(xa, rc, p->pid, "command line");
        len = 0;
    } else if (flags) {
        /* Shown as far as it goes, and said to be cut. */
        d->cmd_partial = true;
        tool_warn("pid %d: command line partial (%s)", (int)p->pid,
                  (flags & XA_ARGS_ABSENT) ? xa_errmsg(xa) : "longer than the buffer");
    }
    while (len && buf[len - 1] == '\0') /* the last argument's terminator */
        len--;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[len] = '\0';
    d->cmd = strdup((const char *)buf);
    if (!d->cmd)
        tool_die(TOOL_ERR, "out of memory");
    rc = xa_process_start_time(xa, p->pid, &d->boot_ns, &d->wall_ns);
    if (rc == 0) {
        d->have_start = d->have_wall = true;
    } else if (rc == XA_ENOTSUP && xa_process_start_time(xa, p->pid, &d->boot_ns, NULL) == 0) {
        d->have_start = true; /* no timekeeper: boot-relative only */
    } else {
        detail_failed(xa, rc, p->pid, "start time");
    }
}

/* "2026-12-06T05:18:03.123456789Z" */
static void format_wall(int64_t ns, char *out, size_t cap)
{
    time_t sec = (time_t)(ns / 1000000000);
    struct tm tm;
    char day[32];
    if (!gmtime_r(&sec, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, "%s.%09lldZ", day, (long long)(ns % 1000000000));
}

static void details_json(json_object *o, const struct details *d)
{
    tool_json_str(o, "cmdline", d->cmd);
    if (d->cmd_partial)
        json_object_object_add(o, "cmdline_partial", json_object_new_boolean(true));
    if (d->have_wall) {
        char buf[64];
        format_wall(d->wall_ns, buf, sizeof(buf));
        json_object_object_add(o, "start_time", json_object_new_string(buf));
    } else {
        json_object_object_add(o, "start_time", NULL);
    }
    if (d->have_start)
        json_object_object_add(o, "start_boot_ns", json_object_new_int64((int64_t)d->boot_ns));
}

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

static void print_header(void)
{
    printf("%7s %7s %6s %6s %-2s %-16s %-18s %-30s %s\n", "PID", "PPID", "UID", "GID", "S",
           "COMM", "DTB", "START", "CMD");
}

/* One process; @depth > 0 indents CMD (the last column) for --tree. */
static void print_process(struct xa_instance *xa, const struct xa_process *p, bool json,
                          int depth)
{
    struct details d;
    read_details(xa, p, &d);
    if (json) {
        json_object *o = proc_json(p);
        details_json(o, &d);
        if (depth >= 0)
            json_object_object_add(o, "depth", json_object_new_int(depth));
        tool_json_line(o);
        free(d.cmd);
        return;
    }
    /* COMM is not the last column: spaces are escaped too. */
    char name[ESC_TEXT_SIZE(XA_COMM_LEN) + 2], start[64];
    if (p->flags & PF_KTHREAD)
        snprintf(name, sizeof(name), "[%s]", tool_text(p->comm, ESC_SPACE));
    else
        snprintf(name, sizeof(name), "%s", tool_text(p->comm, ESC_SPACE));
    if (d.have_wall)
        format_wall(d.wall_ns, start, sizeof(start));
    else if (d.have_start)
        snprintf(start, sizeof(start), "+%.3fs", (double)d.boot_ns / 1e9);
    else
        snprintf(start, sizeof(start), "?");
    size_t n = strlen(d.cmd);
    char *cmd = malloc(ESC_TEXT_SIZE(n));
    if (!cmd)
        tool_die(TOOL_ERR, "out of memory");
    esc_text(cmd, ESC_TEXT_SIZE(n), d.cmd, n, 0);
    printf("%7d %7d %6u %6u %-2c %-16s 0x%-16" PRIx64 " %-30s %*s%s%s\n", p->pid, p->ppid,
           p->uid, p->gid, p->state ? p->state : '?', name, p->dtb, start,
           depth > 0 ? 2 * (depth > 64 ? 64 : depth) : 0, "", n ? cmd : "-",
           d.cmd_partial ? " ..." : "");
    free(cmd);
    free(d.cmd);
}

static void print_table(struct xa_instance *xa, const struct plist *l, bool json)
{
    if (!json)
        print_header();
    for (size_t i = 0; i < l->n; i++)
        print_process(xa, &l->p[i], json, -1);
}

/* --tree: each process under its parent, in list order. A process whose
 * parent is not listed (or is itself, as pid 0) starts a tree; a parent
 * cycle the guest made is printed flat at the end. */
static void print_tree(struct xa_instance *xa, const struct plist *l, bool json)
{
    size_t n = l->n;
    size_t *stack = malloc((n + 1) * sizeof(*stack));
    int *depth = malloc((n + 1) * sizeof(*depth));
    bool *done = calloc(n + 1, sizeof(*done));
    if (!stack || !depth || !done)
        tool_die(TOOL_ERR, "out of memory");
    if (!json)
        print_header();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < n; r++) {
            const struct xa_process *p = &l->p[r];
            bool root = p->ppid == p->pid;
            if (!root) {
                root = true;
                for (size_t k = 0; k < n && root; k++)
                    if (l->p[k].pid == p->ppid)
                        root = false;
            }
            if (done[r] || (pass == 0 && !root))
                continue;
            size_t sp = 0;
            stack[sp] = r;
            depth[sp++] = 0;
            done[r] = true;
            while (sp) {
                size_t i = stack[--sp];
                int dep = depth[sp];
                print_process(xa, &l->p[i], json, dep);
                /* children pushed in reverse, so they come out in list order */
                for (size_t k = n; k-- > 0;)
                    if (!done[k] && l->p[k].ppid == l->p[i].pid && l->p[k].pid != l->p[i].pid) {
                        done[k] = true;
                        stack[sp] = k;
                        depth[sp++] = dep + 1;
                    }
            }
        }
    }
    free(stack);
    free(depth);
    free(done);
}

/* --threads: one line per thread of each listed process. Returns 0 or the
 * error that cut a thread walk short; one before any thread is listed is an
 * error (exit 1), not a partial list of none. */
static int print_threads(struct xa_instance *xa, const struct plist *l, bool json,
                         const char *target)
{
    int first_rc = 0;
    /* A kernel whose threads cannot be read at all (no BTF) is one error,
     * not one warning per process. */
    struct xa_thread_iter *probe = NULL;
    int probe_rc = l->n ? xa_thread_iter_new_proc(xa, &l->p[0], &probe) : 0;
    if (probe_rc == XA_ENOTSUP)
        tool_die(TOOL_ERR, "%s: %s", target, xa_errmsg(xa));
    if (probe_rc == 0 && probe)
        xa_thread_iter_free(probe);
    struct tool_rows rows;
    tool_rows_init(&rows, json, "%7s %7s %-2s %4s %s", "PID", "TID", "S", "CPU", "COMM");
    for (size_t i = 0; i < l->n; i++) {
        struct xa_thread_iter *it;
        struct xa_thread t;
        /* As the walk found it: one snapshot, no walk or flush per process. */
        int rc = xa_thread_iter_new_proc(xa, &l->p[i], &it);
        if (rc == XA_ENOENT && xa_is_live(xa) == 1)
            continue; /* exited since the walk met it: no threads left */
        if (rc == 0) {
            while ((rc = xa_thread_iter_next(it, &t)) == 1) {
                tool_row(&rows);
                if (json) {
                    json_object *o = json_object_new_object();
                    json_object_object_add(o, "pid", json_object_new_int(l->p[i].pid));
                    json_object_object_add(o, "tid", json_object_new_int(t.tid));
                    tool_json_str(o, "comm", t.comm);
                    char st[2] = {t.state ? t.state : '?', 0};
                    json_object_object_add(o, "state", json_object_new_string(st));
                    json_object_object_add(o, "cpu", json_object_new_int(t.cpu));
                    tool_json_hex(o, "task", t.task);
                    tool_json_line(o);
                } else {
                    printf("%7d %7d %-2c %4d %s\n", l->p[i].pid, t.tid, t.state ? t.state : '?',
                           t.cpu, tool_text(t.comm, 0));
                }
            }
            xa_thread_iter_free(it);
        }
        if (rc < 0 && rows.n == 0)
            tool_die(TOOL_ERR, "%s: pid %d: threads: %s", target, (int)l->p[i].pid,
                     xa_errmsg(xa));
        if (rc < 0) {
            tool_warn("pid %d: threads: %s", (int)l->p[i].pid, xa_errmsg(xa));
            if (!first_rc)
                first_rc = rc;
        }
    }
    tool_rows_end_msg(&rows, 0, target, "", ""); /* the header of a list of none */
    return first_rc;
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
    print_table(xa, &prev, json);
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
        {"--pid", OPT_UINT, &a.pid, "PID", "only the process PID", 0, TOOL_PID_MAX, false},
        {"--threads", OPT_FLAG, &a.threads, NULL, "one line per thread: PID TID S CPU COMM", 0, 0,
         false},
        {"--tree", OPT_FLAG, &a.tree, NULL, "each process under its parent, command indented",
         0, 0, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1,
               "TARGET [--json] [--pid PID] [--threads | --tree] [--watch SECONDS [--count N]]");
    if (opts[1].seen && !opts[0].seen)
        tool_die(TOOL_USAGE, "--count goes with --watch");
    a.only_pid = opts[2].seen;
    if (a.watch > 0 && (a.only_pid || a.threads || a.tree))
        tool_die(TOOL_USAGE, "--watch lists all processes: it does not go with --pid, --threads "
                 "or --tree");
    if (a.tree && (a.threads || a.only_pid))
        tool_die(TOOL_USAGE, "--tree shows all processes: it does not go with --pid or --threads");
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
        int rc;
        if (a.only_pid) {
            l.p = malloc(sizeof(*l.p));
            if (!l.p)
                tool_die(TOOL_ERR, "out of memory");
            rc = xa_process_by_pid(xa, (int32_t)a.pid, l.p);
            l.n = rc == 0 ? 1 : 0;
        } else {
            rc = collect(xa, &l);
        }
        /* Kept: reading each process's details below replaces the message. */
        char walk_msg[600];
        snprintf(walk_msg, sizeof(walk_msg), "%s", rc < 0 ? xa_errmsg(xa) : "");
        if (rc < 0 && l.n == 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s", xa_errmsg(xa));
            xa_destroy(xa);
            tool_die(TOOL_ERR, "%s: %s", o.target, msg);
        }
        int trc = 0;
        if (a.threads)
            trc = print_threads(xa, &l, o.json, o.target);
        else if (a.tree)
            print_tree(xa, &l, o.json);
        else
            print_table(xa, &l, o.json);
        if (rc < 0)
            code = tool_partial_msg(rc, o.json, "process list is partial", walk_msg);
        else if (trc < 0)
            code = tool_partial(xa, trc, o.json, "a thread list is partial");
        else if (detail_rc < 0) {
            /* The first failure's own message: later calls have cleared xa's. */
            code = tool_partial_msg(detail_rc, o.json, "details of some processes are missing",
                                    detail_msg);
        }
        free(l.p);
    }
    xa_destroy(xa);
    return code;
}
