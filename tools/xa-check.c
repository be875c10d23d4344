/*
 * xa-check -- what a rootkit hides or hooks: cross-view checks.
 *   xa-check TARGET [--json] [--check NAME]...
 * Exit 0 clean, 4 something found, 3 a check stopped early (and nothing
 * found), 1 error (every check run stopped before saying anything), 2 usage.
 */
#include <inttypes.h>
#include <string.h>

#include "tool.h"
#include "xenaccess_check.h"

enum { TOOL_FOUND = 4 };

/* A check that stops before anything was printed is held back, its stderr
 * line too: when every check run stops so, stdout stays empty and the run is
 * one error line (exit 1), not a partial report of nothing. */
struct stopped {
    const char *name;
    int rc;
    char msg[600];
};

struct out {
    bool json;
    const char *section; /* the check running now */
    bool section_shown;  /* its "NAME:" line printed (text) */
    bool printed;        /* anything on stdout yet */
    struct stopped held[XA_CHECK_COUNT];
    int nheld;
};

static void print_stopped(const struct out *o, const char *name, int rc, const char *msg)
{
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "check", json_object_new_string(name));
        json_object_object_add(j, "complete", json_object_new_boolean(0));
        tool_json_str(j, "error", msg);
        json_object_object_add(j, "code", json_object_new_int(rc));
        tool_json_line(j);
    } else {
        printf("%s:\n  stopped early (see stderr)\n", name);
    }
}

/* Before a line of the running check: the held stopped checks, then its header. */
static void show_section(struct out *o)
{
    if (!o->printed) {
        o->printed = true;
        for (int i = 0; i < o->nheld; i++) {
            tool_warn("%s check stopped early: %s", o->held[i].name, o->held[i].msg);
            print_stopped(o, o->held[i].name, o->held[i].rc, o->held[i].msg);
        }
        o->nheld = 0;
    }
    if (!o->section_shown && !o->json)
        printf("%s:\n", o->section);
    o->section_shown = true;
}

static int print_finding(const struct xa_finding *f, void *ctx)
{
    struct out *o = ctx;
    show_section(o);
    if (f->flags & XA_FINDING_NOTE) { /* not judged: said, not counted */
        if (o->json) {
            json_object *j = json_object_new_object();
            json_object_object_add(j, "check", json_object_new_string(xa_check_name(f->check)));
            tool_json_str(j, "note", f->detail);
            tool_json_line(j);
        } else {
            printf("  note: %s\n", tool_text(f->detail, 0));
        }
        return 0;
    }
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "check", json_object_new_string(xa_check_name(f->check)));
        json_object_object_add(j, "technique", json_object_new_string(f->technique));
        tool_json_str(j, "culprit", f->culprit);
        json_object_object_add(j, "pid", json_object_new_int(f->pid));
        tool_json_hex(j, "addr", f->addr);
        tool_json_str(j, "detail", f->detail);
        tool_json_line(j);
    } else {
        printf("  %-15s %-20s %s\n", f->technique,
               tool_text(f->culprit[0] ? f->culprit : "?", ESC_SPACE),
               tool_text(f->detail, 0));
    }
    return 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --json";
    tool_exit_codes = "0 clean, 1 error, 2 usage, 3 a check stopped early (nothing found), "
                      "4 something found";
    struct tool_list only = {0};
    struct tool_opt extra[] = {
        {"--check", OPT_LIST, &only, "NAME",
         "run only this check (processes, modules, syscalls, idt, ftrace, kprobes, bpf, user, "
         "ops); "
         "may be repeated", 0, 0, false},
        {0},
    };
    struct tool_opts o = {0};
    const char *pos[1];
    tool_parse(argc, argv, &o, extra, pos, 1, "TARGET [--json] [--check NAME]...");
    bool want[XA_CHECK_COUNT] = {false};
    for (int i = 0; i < only.n; i++) {
        int k = 1;
        while (k < XA_CHECK_COUNT && strcmp(xa_check_name((enum xa_check)k), only.value[i]) != 0)
            k++;
        if (k == XA_CHECK_COUNT) {
            char names[256] = "";
            for (int c = 1; c < XA_CHECK_COUNT; c++)
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                         c > 1 ? ", " : "", xa_check_name((enum xa_check)c));
            tool_die(TOOL_USAGE, "--check: unknown check '%s' (the checks: %s)", only.value[i],
                     names);
        }
        want[k] = true;
    }
    struct xa_instance *xa = tool_open(&o);
    /* The checks are Linux's (docs/security.md): on another guest each would
     * stop with the same words, nine lines and exit 3 for one fact. */
    struct xa_os_info info;
    if (xa_os_get_info(xa, &info) == 0 && info.type != XA_OS_LINUX) {
        xa_destroy(xa);
        tool_die(TOOL_ERR, "%s: the checks are for Linux guests; this one runs %s", o.target,
                 info.type == XA_OS_WINDOWS ? "Windows" : "an OS they do not know");
    }
    static struct out out;
    out.json = o.json;
    int found = 0, stopped = 0;
    for (int k = 1; k < XA_CHECK_COUNT; k++) {
        if (only.n && !want[k])
            continue;
        const char *name = xa_check_name((enum xa_check)k);
        out.section = name;
        out.section_shown = false;
        int rc = xa_check_run(xa, (enum xa_check)k, print_finding, &out);
        if (rc >= 0) {
            show_section(&out);
            found += rc;
            if (o.json) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "check", json_object_new_string(name));
                json_object_object_add(j, "findings", json_object_new_int(rc));
                json_object_object_add(j, "complete", json_object_new_boolean(1));
                tool_json_line(j);
            } else if (rc == 0) {
                printf("  clean\n");
            }
            continue;
        }
        stopped++;
        if (out.printed)
            tool_warn("%s check stopped early: %s", name, xa_errmsg(xa));
        if (out.section_shown && !o.json) {
            printf("  stopped early (see stderr)\n"); /* after its notes */
        } else if (out.printed) {
            print_stopped(&out, name, rc, xa_errmsg(xa));
        } else {
            struct stopped *h = &out.held[out.nheld++];
            h->name = name;
            h->rc = rc;
            snprintf(h->msg, sizeof(h->msg), "%s", xa_errmsg(xa));
        }
    }
    xa_destroy(xa);
    if (found)
        return TOOL_FOUND;
    if (out.nheld == 1)
        tool_die(TOOL_ERR, "%s check stopped early: %s", out.held[0].name, out.held[0].msg);
    if (out.nheld > 1) { /* the first one's reason, the others named */
        char others[256] = "";
        for (int i = 1; i < out.nheld; i++)
            snprintf(others + strlen(others), sizeof(others) - strlen(others), "%s%s",
                     i > 1 ? ", " : "", out.held[i].name);
        tool_die(TOOL_ERR, "none of the checks could finish: %s stopped early: %s (and %s)",
                 out.held[0].name, out.held[0].msg, others);
    }
    return stopped ? TOOL_PARTIAL : TOOL_OK;
}
