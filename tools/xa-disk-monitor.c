/*
 * xa-disk-monitor -- print file events from a VM disk as they happen.
 *
 *   xa-disk-monitor tap:EVENT_SOCKET | image:PATH [--watch PATH]... [--dir PATH]...
 *                   [--mask LIST] [--json] [--count N] [--timeout SECONDS]
 *
 * --watch PATH watches PATH and everything below it; --dir PATH only PATH
 * and its direct entries.  --mask limits the types (create,delete,rename,
 * write,truncate,attrib,link).  --json prints one JSON object per line.
 * With image:PATH the tool starts the tap itself and prints the QEMU options
 * on stderr.  Counters go to stderr at exit.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "tool.h"
#include "xadisk.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint32_t parse_mask(const char *s)
{
    static const struct { const char *name; uint32_t bit; } names[] = {
        {"create", XADISK_EV_CREATE}, {"delete", XADISK_EV_DELETE},
        {"rename", XADISK_EV_RENAME}, {"write", XADISK_EV_WRITE},
        {"truncate", XADISK_EV_TRUNCATE}, {"attrib", XADISK_EV_ATTRIB},
        {"link", XADISK_EV_LINK}, {"all", XADISK_EV_ALL},
    };
    uint32_t m = 0;
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        tool_die(TOOL_ERR, "out of memory");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(t, names[i].name) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            tool_die(TOOL_USAGE, "unknown event type '%s' in --mask", t);
        m |= names[i].bit;
    }
    free(copy);
    if (!m)
        tool_die(TOOL_USAGE, "--mask '%s' names no event type", s);
    return m;
}

static void print_json(const struct xadisk_event *ev, const char *reason)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(xadisk_event_name(ev->type)));
    json_object_object_add(o, "txn", json_object_new_int64((int64_t)ev->transaction));
    /* Names come from the guest's disk: valid UTF-8 always (docs/output.md). */
    tool_json_str(o, "path", ev->path);
    if (ev->old_path)
        tool_json_str(o, "old_path", ev->old_path);
    if (ev->type == XADISK_EV_RESYNC) {
        json_object_object_add(o, "dropped", json_object_new_int64((int64_t)ev->dropped));
        tool_json_str(o, "reason", reason);
    } else {
        json_object_object_add(o, "file_type",
                               json_object_new_string(xadisk_file_type_name(ev->file_type)));
        json_object_object_add(o, "inode", json_object_new_int64((int64_t)ev->inode));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)ev->size));
        json_object_object_add(o, "mode", json_object_new_int((int32_t)ev->mode));
        json_object_object_add(o, "uid", json_object_new_int64(ev->uid));
        json_object_object_add(o, "gid", json_object_new_int64(ev->gid));
        json_object_object_add(o, "nlink", json_object_new_int64(ev->nlink));
    }
    if (ev->type == XADISK_EV_TRUNCATE || ev->type == XADISK_EV_WRITE)
        json_object_object_add(o, "old_size", json_object_new_int64((int64_t)ev->old_size));
    if (ev->type == XADISK_EV_ATTRIB) {
        json_object_object_add(o, "old_mode", json_object_new_int((int32_t)ev->old_mode));
        json_object_object_add(o, "old_uid", json_object_new_int64(ev->old_uid));
        json_object_object_add(o, "old_gid", json_object_new_int64(ev->old_gid));
    }
    if (ev->type == XADISK_EV_WRITE) {
        json_object *r = json_object_new_array();
        for (size_t i = 0; i < ev->nranges; i++) {
            json_object *p = json_object_new_array();
            json_object_array_add(p, json_object_new_int64((int64_t)ev->ranges[i].offset));
            json_object_array_add(p, json_object_new_int64((int64_t)ev->ranges[i].length));
            json_object_array_add(r, p);
        }
        json_object_object_add(o, "ranges", r);
    }
    tool_json_line(o);
}

static void print_text(const struct xadisk_event *ev, const char *reason)
{
    if (ev->type == XADISK_EV_RESYNC) {
        printf("txn %-6llu resync   (dropped %llu records; rescanned: %s)\n",
               (unsigned long long)ev->transaction, (unsigned long long)ev->dropped,
               tool_text(reason, 0));
        return;
    }
    /* Names come from the guest's disk: escaped as /proc does (docs/output.md). */
    printf("txn %-6llu %-8s %-7s %s", (unsigned long long)ev->transaction,
           xadisk_event_name(ev->type), xadisk_file_type_name(ev->file_type),
           tool_text(ev->path, ESC_SPACE));
    if (ev->old_path)
        printf(" (from %s)", tool_text(ev->old_path, ESC_SPACE));
    printf("  ino=%llu size=%llu mode=%04o uid=%u gid=%u", (unsigned long long)ev->inode,
           (unsigned long long)ev->size, ev->mode & 07777, ev->uid, ev->gid);
    if (ev->type == XADISK_EV_ATTRIB)
        printf(" was mode=%04o uid=%u gid=%u", ev->old_mode & 07777, ev->old_uid, ev->old_gid);
    if (ev->type == XADISK_EV_TRUNCATE)
        printf(" was size=%llu", (unsigned long long)ev->old_size);
    for (size_t i = 0; i < ev->nranges && i < 8; i++)
        printf("%s%llu+%llu", i ? "," : " ranges=", (unsigned long long)ev->ranges[i].offset,
               (unsigned long long)ev->ranges[i].length);
    if (ev->nranges > 8)
        printf(",... (%zu ranges)", ev->nranges);
    putchar('\n');
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_common = TOOL_COMMON_JSON;
    tool_targets = "tap:EVENT_SOCKET (a running xa-disk-tap), image:PATH (starts the tap on "
                   "PATH itself)";
    tool_example = "image:disk.img --watch /etc --mask write,rename";
    struct tool_opts to = {0};
    struct tool_list watches = {0};
    const char *mask_arg = NULL;
    uint64_t count = 0;
    double timeout = 0;
    struct tool_opt opts[] = {
        {"--watch", OPT_LIST, &watches, "PATH", "events on PATH and below it (repeatable)",
         XADISK_WATCH_RECURSIVE, 0, false},
        {"--dir", OPT_LIST, &watches, "PATH", "events on PATH and its entries (repeatable)", 0, 0,
         false},
        {"--mask", OPT_STRING, &mask_arg, "LIST",
         "only these types: create,delete,rename,write,truncate,attrib,link", 0, 0, false},
        {"--count", OPT_UINT, &count, "N", "stop after N events", 1, UINT32_MAX, false},
        {"--timeout", OPT_SECONDS, &timeout, "SECONDS", "stop after SECONDS", 0, 86400 * 365,
         false},
        {0},
    };
    enum { O_WATCH, O_DIR, O_MASK, O_COUNT, O_TIMEOUT };
    const char *pos[1];
    tool_parse(argc, argv, &to, opts, pos, 1,
               "tap:SOCKET|image:PATH [--watch PATH]... [--dir PATH]... [--mask LIST] [--json] "
               "[--count N] [--timeout SECONDS]");
    uint32_t mask = opts[O_MASK].seen ? parse_mask(mask_arg) : XADISK_EV_ALL;
    bool json = to.json;
    struct xadisk_opts o = XADISK_OPTS_INIT;
    o.target = to.target;
    struct xadisk *xd;
    int rc = xadisk_init(&o, &xd);
    if (rc < 0)
        tool_die(TOOL_ERR, "%s", xadisk_last_init_error());
    /* a watch that cannot be set is an error (exit 1), not a usage error:
     * the options were well formed */
    if (!watches.n && mask != XADISK_EV_ALL) { /* a mask alone: watch everything */
        watches.value[0] = "/";
        watches.tag[0] = XADISK_WATCH_RECURSIVE;
        watches.n = 1;
    }
    for (int i = 0; i < watches.n; i++)
        if (xadisk_set_watch(xd, watches.value[i], (uint32_t)watches.tag[i], mask) < 0) {
            tool_warn("%s", xadisk_errmsg(xd));
            xadisk_destroy(xd);
            return TOOL_ERR;
        }
    rc = xadisk_activate(xd);
    if (rc < 0) {
        tool_warn("%s", xadisk_errmsg(xd));
        xadisk_destroy(xd);
        return TOOL_ERR;
    }
    /* only once it works: a monitor that fails says one thing, its error */
    if (xadisk_qemu_args(xd))
        tool_warn("QEMU options: %s", xadisk_qemu_args(xd));
    struct xadisk_stats st;
    xadisk_get_stats(xd, &st);
    fprintf(stderr, "xa-disk-monitor: active, %llu inodes in the name cache\n",
            (unsigned long long)st.inodes);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int status = 0;
    uint64_t printed = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop && (!count || printed < count)) {
        int wait = 500;
        if (timeout > 0) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            double left = timeout - ((double)(t.tv_sec - t0.tv_sec) +
                                     (double)(t.tv_nsec - t0.tv_nsec) / 1e9);
            if (left <= 0)
                break;
            if (left * 1000 < wait)
                wait = (int)(left * 1000) + 1;
        }
        const struct xadisk_event *ev;
        rc = xadisk_next_event(xd, wait, &ev);
        if (rc == XA_ETIMEDOUT)
            continue;
        if (rc < 0) {
            tool_warn("%s", xadisk_errmsg(xd));
            status = 1;
            break;
        }
        const char *reason = ev->type == XADISK_EV_RESYNC ? xadisk_errmsg(xd) : "";
        if (ev->type == XADISK_EV_RESYNC)
            tool_warn("resync: %s", reason);
        if (json)
            print_json(ev, reason);
        else
            print_text(ev, reason);
        fflush(stdout);
        printed++;
    }
    xadisk_get_stats(xd, &st);
    fprintf(stderr,
            "xa-disk-monitor: %llu records (%llu bytes), %llu transactions, %llu events, "
            "%llu resyncs, %llu dropped, %llu bad journal blocks\n",
            (unsigned long long)st.records, (unsigned long long)st.bytes,
            (unsigned long long)st.transactions, (unsigned long long)st.events,
            (unsigned long long)st.resyncs, (unsigned long long)st.dropped,
            (unsigned long long)st.bad_journal);
    xadisk_destroy(xd);
    return status;
}
