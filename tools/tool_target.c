/* tool_target.c -- what the memory tools share beyond the command line:
 * opening a target with its OS layer, a listing's rows, and saying a walk
 * stopped early. */
#include "progress.h"
#include "short_image.h"
#include "tool.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

/* The library's long work (the kernel search) as a progress line. */
static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    if (!p->what)
        progress_start(p, what, total);
    progress_update(p, done < total ? done : total); /* a span may be searched twice */
}

static bool names_file(const char *msg, const char *path)
{
    return path && strstr(msg, path);
}

struct xa_instance *tool_open(const struct tool_opts *o)
{
    struct progress search = {0};
    struct xa_init_opts io = XA_INIT_OPTS_INIT;
    io.target = o->target;
    io.sysmap = o->sysmap;
    io.btf = o->btf;
    io.flags = (o->write ? XA_INIT_WRITE : 0) | (o->no_os ? XA_INIT_NO_OS : 0);
    io.progress = show_progress;
    io.progress_ctx = &search;
    struct xa_instance *xa;
    int rc = xa_init_opts(&io, &xa);
    progress_end(&search);
    if (rc < 0)
        tool_die(TOOL_ERR, "%s", xa_last_init_error());
    if (!o->no_os) {
        struct xa_os_info info;
        if (xa_os_get_info(xa, &info) < 0) {
            char msg[600], hint[256] = "";
            snprintf(msg, sizeof(msg), "%s", xa_errmsg(xa));
            /* where the kernel may be: not when the error is about the user's own file */
            if (xa_errcode(xa) == XA_ENOOS && !names_file(msg, o->sysmap) &&
                !names_file(msg, o->btf))
                short_image_hint(xa, hint, sizeof(hint));
            xa_destroy(xa);
            tool_die(TOOL_ERR, "%s: %s%s", o->target, msg, hint);
        }
        short_image_warn(xa, o->target);
    }
    return xa;
}

int tool_partial(struct xa_instance *xa, int rc, bool json, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return tool_partial_msg(rc, json, what, xa_errmsg(xa));
}

int tool_partial_msg(int rc, bool json, const char *what, const char *msg)
{
    tool_warn("%s: %s", what, msg);
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "partial", json_object_new_boolean(1));
        tool_json_str(o, "error", msg);
        json_object_object_add(o, "code", json_object_new_int(rc));
        tool_json_line(o);
    }
    return TOOL_PARTIAL;
}

void tool_rows_init(struct tool_rows *r, bool json, const char *header_fmt, ...)
{
    r->json = json;
    r->n = 0;
    r->header[0] = '\0';
    if (header_fmt && !json) {
        va_list ap;
        va_start(ap, header_fmt);
        vsnprintf(r->header, sizeof(r->header), header_fmt, ap);
        va_end(ap);
    }
}

static void print_header(const struct tool_rows *r)
{
    if (r->header[0])
        printf("%s\n", r->header);
}

void tool_row(struct tool_rows *r)
{
    if (r->n++ == 0)
        print_header(r);
}

int tool_rows_end_msg(struct tool_rows *r, int rc, const char *target, const char *msg,
                      const char *what)
{
    if (rc < 0 && r->n == 0) /* nothing listed: an error, not a partial list of none */
        tool_die(TOOL_ERR, "%s: %s", target, msg);
    if (rc < 0)
        return tool_partial_msg(rc, r->json, what, msg);
    if (r->n == 0)
        print_header(r); /* a list that is whole and empty: an empty table */
    return TOOL_OK;
}

int tool_rows_end(struct tool_rows *r, struct xa_instance *xa, int rc, const char *target,
                  const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return tool_rows_end_msg(r, rc, target, xa_errmsg(xa), what);
}

const char *tool_about_pid(int32_t pid, const char *msg)
{
    static char out[700];
    char name[24];
    int len = snprintf(name, sizeof(name), "pid %d", (int)pid);
    for (const char *at = strstr(msg, name); at; at = strstr(at + 1, name))
        if ((at == msg || at[-1] == ' ' || at[-1] == '(') && !isdigit((unsigned char)at[len]))
            return msg; /* names it already: "no process with pid 7 (...)" */
    snprintf(out, sizeof(out), "%s: %s", name, msg);
    return out;
}
