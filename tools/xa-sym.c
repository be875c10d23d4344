/*
 * xa-sym -- kernel symbol to address and back.
 *   xa-sym TARGET NAME|ADDRESS [--json]
 */
#include <ctype.h>
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

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    struct tool_opts o = {0};
    const char *pos[2];
    int n = tool_parse(argc, argv, &o, NULL, pos, 2, "TARGET NAME|ADDRESS [--json]");
    if (n < 2)
        tool_die(TOOL_USAGE, "give a symbol name or an address");
    const char *q = pos[1];
    uint64_t addr = 0, off;
    if (looks_like_address(q))
        addr = tool_parse_u64(q, "address"); /* before opening: a usage error is quick */
    struct xa_instance *xa = tool_open(&o);
    int code = TOOL_OK;
    if (looks_like_address(q)) {
        const char *name;
        if (xa_sym_at(xa, addr, &name, &off) < 0) {
            tool_warn("%s: no symbol at or below 0x%" PRIx64 ": %s", o.target, addr,
                      xa_errmsg(xa));
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
