/*
 * xa-dmesg -- the guest kernel's log (the printk ring buffer, 5.10+).
 *   xa-dmesg TARGET [--json] [--follow]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "tool.h"

#define FOLLOW_POLL_NS 250000000L

static const char *level_name(unsigned level)
{
    static const char *const names[] = {"emerg", "alert", "crit",   "err",
                                        "warn",  "notice", "info", "debug"};
    return names[level & 7];
}

static void print_header(void)
{
    printf("%8s %-14s %-6s %s\n", "SEQ", "TIME", "LEVEL", "TEXT");
}

static void print_record(const struct xa_kmsg *r, bool json, bool first)
{
    /* the header with the first record: a log that cannot be read prints nothing */
    if (first && !json)
        print_header();
    if (r->dropped && !first)
        tool_warn("%" PRIu64 " records lost (overwritten) before seq %" PRIu64, r->dropped, r->seq);
    if (json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "seq", json_object_new_int64((int64_t)r->seq));
        json_object_object_add(j, "ts_ns", json_object_new_int64((int64_t)r->ts_ns));
        json_object_object_add(j, "level", json_object_new_int(r->level));
        json_object_object_add(j, "facility", json_object_new_int(r->facility));
        tool_json_str(j, "text", r->text);
        if (r->dropped)
            json_object_object_add(j, "dropped", json_object_new_int64((int64_t)r->dropped));
        if (r->flags & XA_KMSG_TRUNCATED)
            json_object_object_add(j, "truncated", json_object_new_boolean(1));
        tool_json_line(j);
        return;
    }
    char text[ESC_TEXT_SIZE(XA_KMSG_TEXT_MAX)];
    esc_text(text, sizeof(text), r->text, r->text_len, 0);
    printf("%8" PRIu64 " [%5" PRIu64 ".%06" PRIu64 "] %-6s %s\n", r->seq, r->ts_ns / 1000000000u,
           (r->ts_ns % 1000000000u) / 1000u, level_name(r->level), text);
}

/* Print the records from @from on: 0 with *next the seq to go on from, or the
 * walk's error (records before it were printed). */
static int print_from(struct xa_instance *xa, uint64_t from, bool json, uint64_t *next,
                      size_t *n, bool *first)
{
    struct xa_kmsg_iter *it;
    int rc = xa_kmsg_iter_new(xa, from, &it);
    if (rc < 0)
        return rc;
    static struct xa_kmsg r; /* large: not on the stack */
    while ((rc = xa_kmsg_iter_next(it, &r)) == 1) {
        print_record(&r, json, *first);
        *first = false;
        ++*n;
    }
    *next = xa_kmsg_iter_next_seq(it);
    xa_kmsg_iter_free(it);
    fflush(stdout);
    return rc < 0 ? rc : 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "qemu:/run/vm1-xa.sock --follow";
    struct tool_opts o = {0};
    bool follow = false;
    struct tool_opt opts[] = {
        {"--follow", OPT_FLAG, &follow, NULL,
         "live targets: keep printing new records until interrupted", 0, 0, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1, "TARGET [--json] [--follow]");
    struct xa_instance *xa = tool_open(&o);
    if (follow && xa_is_live(xa) != 1) {
        xa_destroy(xa);
        tool_die(TOOL_USAGE, "%s is not a running guest, its log never grows: --follow needs a "
                 "live target (qemu:, xen:, libvirt:)", o.target);
    }
    uint64_t next = 0;
    size_t n = 0;
    bool first = true;
    int rc = print_from(xa, 0, o.json, &next, &n, &first);
    if (rc < 0 && n == 0) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s", xa_errmsg(xa));
        xa_destroy(xa);
        tool_die(TOOL_ERR, "%s: %s", o.target, msg);
    }
    if (n == 0 && !o.json)
        print_header(); /* an empty log: an empty table */
    int code = TOOL_OK;
    if (rc < 0 && !follow)
        code = tool_partial(xa, rc, o.json, "kernel log is partial after %zu records", n);
    if (follow) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        while (!stop) {
            struct timespec ts = {0, FOLLOW_POLL_NS};
            nanosleep(&ts, NULL);
            if (stop)
                break;
            /* A round racing the writer may meet a half-written ring: say so
             * and try again from the same place. */
            if (print_from(xa, next, o.json, &next, &n, &first) < 0)
                tool_warn("skipping a round: %s", xa_errmsg(xa));
        }
    }
    xa_destroy(xa);
    return code;
}
