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
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "xadisk.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

__attribute__((format(printf, 1, 2)))
static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("xa-disk-monitor: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* A whole positive decimal number, or a usage error. */
static long parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 1 || s[0] == '+' || s[0] == ' ')
        usage_error("--count wants a positive whole number, not '%s'", s);
    return v;
}

/* Seconds: a finite number >= 0, or a usage error. */
static double parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < 0 || s[0] == ' ')
        usage_error("--timeout wants a number of seconds >= 0, not '%s'", s);
    return v;
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
    if (!copy) {
        fprintf(stderr, "xa-disk-monitor: out of memory\n");
        exit(1);
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(t, names[i].name) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            usage_error("unknown event type '%s' in --mask", t);
        m |= names[i].bit;
    }
    free(copy);
    if (!m)
        usage_error("--mask '%s' names no event type", s);
    return m;
}

static void print_json(const struct xadisk_event *ev, const char *reason)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(xadisk_event_name(ev->type)));
    json_object_object_add(o, "txn", json_object_new_int64((int64_t)ev->transaction));
    json_object_object_add(o, "path", json_object_new_string(ev->path));
    if (ev->old_path)
        json_object_object_add(o, "old_path", json_object_new_string(ev->old_path));
    if (ev->type == XADISK_EV_RESYNC) {
        json_object_object_add(o, "dropped", json_object_new_int64((int64_t)ev->dropped));
        json_object_object_add(o, "reason", json_object_new_string(reason));
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
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void print_text(const struct xadisk_event *ev, const char *reason)
{
    if (ev->type == XADISK_EV_RESYNC) {
        printf("txn %-6llu resync   (dropped %llu records; rescanned: %s)\n",
               (unsigned long long)ev->transaction, (unsigned long long)ev->dropped, reason);
        return;
    }
    printf("txn %-6llu %-8s %-7s %s", (unsigned long long)ev->transaction,
           xadisk_event_name(ev->type), xadisk_file_type_name(ev->file_type), ev->path);
    if (ev->old_path)
        printf(" (from %s)", ev->old_path);
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
    static const struct option opts[] = {
        {"watch", required_argument, 0, 'w'}, {"dir", required_argument, 0, 'd'},
        {"mask", required_argument, 0, 'm'},  {"json", no_argument, 0, 'j'},
        {"count", required_argument, 0, 'c'}, {"timeout", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *watches[64];
    uint32_t wflags[64];
    int nw = 0, json = 0;
    long count = -1;
    double timeout = -1;
    uint32_t mask = XADISK_EV_ALL;
    int c;
    while ((c = getopt_long(argc, argv, "w:d:m:jc:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
        case 'd':
            if (nw == 64) {
                fprintf(stderr, "xa-disk-monitor: at most 64 watches\n");
                return 2;
            }
            wflags[nw] = c == 'w' ? XADISK_WATCH_RECURSIVE : 0;
            watches[nw++] = optarg;
            break;
        case 'm': mask = parse_mask(optarg); break;
        case 'j': json = 1; break;
        case 'c': count = parse_count(optarg); break;
        case 't': timeout = parse_seconds(optarg); break;
        case 'h':
            printf("usage: xa-disk-monitor tap:SOCKET|image:PATH [--watch PATH]... "
                   "[--dir PATH]... [--mask LIST] [--json] [--count N] [--timeout S]\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: xa-disk-monitor tap:SOCKET|image:PATH [--watch PATH]... [--json]\n");
        return 2;
    }
    struct xadisk_opts o = XADISK_OPTS_INIT;
    o.target = argv[optind];
    struct xadisk *xd;
    int rc = xadisk_init(&o, &xd);
    if (rc < 0) {
        fprintf(stderr, "xa-disk-monitor: %s\n", xadisk_last_init_error());
        return 1;
    }
    if (xadisk_qemu_args(xd))
        fprintf(stderr, "xa-disk-monitor: QEMU options: %s\n", xadisk_qemu_args(xd));
    /* a watch that cannot be set is an error (exit 1), not a usage error:
     * the options were well formed */
    if (!nw && mask != XADISK_EV_ALL) { /* a mask alone: watch everything */
        watches[nw] = "/";
        wflags[nw++] = XADISK_WATCH_RECURSIVE;
    }
    for (int i = 0; i < nw; i++)
        if (xadisk_set_watch(xd, watches[i], wflags[i], mask) < 0) {
            fprintf(stderr, "xa-disk-monitor: %s\n", xadisk_errmsg(xd));
            xadisk_destroy(xd);
            return 1;
        }
    rc = xadisk_activate(xd);
    if (rc < 0) {
        fprintf(stderr, "xa-disk-monitor: %s\n", xadisk_errmsg(xd));
        xadisk_destroy(xd);
        return 1;
    }
    struct xadisk_stats st;
    xadisk_get_stats(xd, &st);
    fprintf(stderr, "xa-disk-monitor: active, %llu inodes in the name cache\n",
            (unsigned long long)st.inodes);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int status = 0;
    long printed = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop && (count < 0 || printed < count)) {
        int wait = 500;
        if (timeout >= 0) {
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
            fprintf(stderr, "xa-disk-monitor: %s\n", xadisk_errmsg(xd));
            status = 1;
            break;
        }
        const char *reason = ev->type == XADISK_EV_RESYNC ? xadisk_errmsg(xd) : "";
        if (ev->type == XADISK_EV_RESYNC)
            fprintf(stderr, "xa-disk-monitor: resync: %s\n", reason);
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
