/* tool.c -- shared code of the xa-* commands. */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *tool_name = "xa";

void tool_init(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    tool_name = slash ? slash + 1 : argv0;
}

__attribute__((format(printf, 1, 0))) static void vwarn(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", tool_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    exit(code);
}

void tool_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

int tool_parse(int argc, char **argv, struct tool_opts *o, tool_extra_fn extra, void *ctx,
               const char **pos, int maxpos, const char *usage)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: %s %s\n", tool_name, usage);
            printf("common options: --json  --sysmap FILE  --btf FILE\n");
            exit(0);
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--sysmap") || !strcmp(a, "--btf")) {
            if (i + 1 >= argc)
                tool_die(TOOL_USAGE, "%s needs a file", a);
            if (!strcmp(a, "--sysmap"))
                o->sysmap = argv[++i];
            else
                o->btf = argv[++i];
        } else if (extra && extra(argc, argv, &i, ctx)) {
            continue;
        } else if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9')) {
            tool_die(TOOL_USAGE, "unknown option %s (usage: %s %s)", a, tool_name, usage);
        } else {
            if (npos >= maxpos)
                tool_die(TOOL_USAGE, "too many arguments (usage: %s %s)", tool_name, usage);
            pos[npos++] = a;
        }
    }
    if (npos == 0)
        tool_die(TOOL_USAGE, "no target given (usage: %s %s)", tool_name, usage);
    o->target = pos[0];
    return npos;
}

struct xa_instance *tool_open(const struct tool_opts *o)
{
    struct xa_init_opts io = XA_INIT_OPTS_INIT;
    io.target = o->target;
    io.sysmap = o->sysmap;
    io.btf = o->btf;
    io.flags = (o->write ? XA_INIT_WRITE : 0) | (o->no_os ? XA_INIT_NO_OS : 0);
    struct xa_instance *xa;
    int rc = xa_init_opts(&io, &xa);
    if (rc < 0)
        tool_die(TOOL_ERR, "%s", xa_last_init_error());
    if (!o->no_os) {
        struct xa_os_info info;
        if (xa_os_get_info(xa, &info) < 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s", xa_errmsg(xa));
            xa_destroy(xa);
            tool_die(TOOL_ERR, "%s: %s", o->target, msg);
        }
    }
    return xa;
}

uint64_t tool_parse_u64(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        tool_die(TOOL_USAGE, "bad %s '%s' (a number, decimal or 0x hex)", what, s);
    return v;
}

void tool_json_hex(json_object *obj, const char *key, uint64_t value)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
    json_object_object_add(obj, key, json_object_new_string(buf));
}

void tool_json_line(json_object *obj)
{
    fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
          stdout);
    fputc('\n', stdout);
    json_object_put(obj);
}
