/*
 * xa-sym -- kernel symbol to address and back, glob patterns, listing.
 *   xa-sym TARGET NAME|PATTERN|ADDRESS [--json]
 *   xa-sym TARGET --list [--json]
 */
#include <ctype.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <string.h>

#include "tool.h"

static bool looks_like_address(const char *s)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return true;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

static bool is_pattern(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

struct listing {
    const char *pattern; /* NULL: every symbol */
    bool json;
    size_t matched;
};

static int list_one(const char *name, uint64_t addr, char type, void *ctx)
{
    struct listing *l = ctx;
    if (l->pattern && fnmatch(l->pattern, name, 0) != 0)
        return 0;
    l->matched++;
    /* Type letters come from the guest's tables: only a letter is printed as is. */
    char t = isalpha((unsigned char)type) ? type : '?';
    if (l->json) {
        json_object *j = json_object_new_object();
        tool_json_str(j, "symbol", name);
        tool_json_hex(j, "address", addr);
        json_object_object_add(j, "type", json_object_new_string_len(&t, 1));
        tool_json_line(j);
    } else {
        printf("0x%016" PRIx64 " %c %s\n", addr, t, tool_text(name, 0));
    }
    return 0;
}

static int list_symbols(struct xa_instance *xa, const struct tool_opts *o, const char *pattern)
{
    struct listing l = {pattern, o->json, 0};
    int rc = xa_sym_foreach(xa, list_one, &l);
    if (rc < 0 && l.matched == 0) { /* nothing listed: an error, not a partial list */
        tool_warn("%s: %s", o->target, xa_errmsg(xa));
        return TOOL_ERR;
    }
    if (rc < 0)
        return tool_partial(xa, rc, o->json, "symbol listing stopped after %zu symbols",
                            l.matched);
    if (l.matched == 0) {
        if (pattern)
            tool_warn("%s: no kernel symbol matches '%s'", o->target, pattern);
        else
            tool_warn("%s: the kernel has no symbols", o->target);
        return TOOL_ERR;
    }
    return TOOL_OK;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img 'vfs_*'";
    struct tool_opts o = {0};
    bool list = false;
    struct tool_opt opts[] = {
        {"--list", OPT_FLAG, &list, NULL, "every kernel symbol, in address order", 0, 0, false},
        {0},
    };
    const char *pos[2];
    const char *usage = "TARGET NAME|PATTERN|ADDRESS [--json]  or  TARGET --list [--json]";
    int n = tool_parse(argc, argv, &o, opts, pos, 2, usage);
    if (list && n > 1)
        tool_die(TOOL_USAGE, "--list takes no NAME (usage: %s %s)", tool_name, usage);
    if (list || is_pattern(n > 1 ? pos[1] : "")) {
        struct xa_instance *xa = tool_open(&o);
        int code = list_symbols(xa, &o, list ? NULL : pos[1]);
        xa_destroy(xa);
        return code;
    }
    if (n < 2)
        tool_die(TOOL_USAGE, "give a symbol name, a pattern or an address, or --list");
    const char *q = pos[1];
    if (q[0] == '\0') /* not an address, as the all-digits test below would take it */
        tool_die(TOOL_USAGE, "an empty NAME: give a symbol name, a pattern or an address");
    uint64_t addr = 0, off;
    if (looks_like_address(q))
        addr = tool_parse_u64(q, "address"); /* before opening: a usage error is quick */
    struct xa_instance *xa = tool_open(&o);
    int code = TOOL_OK;
    if (looks_like_address(q)) {
        const char *name;
        int rc = xa_sym_at(xa, addr, &name, &off);
        if (rc == XA_ENOENT) { /* "no kernel symbol at or below 0x...": said once */
            tool_warn("%s: %s", o.target, xa_errmsg(xa));
            code = TOOL_ERR;
        } else if (rc < 0) {
            tool_warn("%s: the symbol at 0x%" PRIx64 ": %s", o.target, addr, xa_errmsg(xa));
            code = TOOL_ERR;
        } else if (o.json) {
            json_object *j = json_object_new_object();
            tool_json_hex(j, "address", addr);
            tool_json_str(j, "symbol", name);
            json_object_object_add(j, "offset", json_object_new_int64((int64_t)off));
            tool_json_line(j);
        } else {
            printf("0x%016" PRIx64 " %s+0x%" PRIx64 "\n", addr, tool_text(name, ESC_SPACE), off);
        }
    } else {
        if (xa_sym_lookup(xa, q, &addr) < 0) {
            tool_warn("%s: no kernel symbol '%s'", o.target, q);
            code = TOOL_ERR;
        } else if (o.json) {
            json_object *j = json_object_new_object();
            tool_json_str(j, "symbol", q);
            tool_json_hex(j, "address", addr);
            tool_json_line(j);
        } else {
            printf("0x%016" PRIx64 " %s\n", addr, tool_text(q, 0));
        }
    }
    xa_destroy(xa);
    return code;
}
