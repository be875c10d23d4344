/*
 * xa-modules -- loaded kernel modules.
 *   xa-modules TARGET [--json]
 */
#include <inttypes.h>

#include "tool.h"

static const char *state_name(uint32_t s)
{
    static const char *const names[] = {"Live", "Loading", "Unloading", "Unformed"};
    return s < 4 ? names[s] : "?";
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --json";
    struct tool_opts o = {0};
    const char *pos[1];
    tool_parse(argc, argv, &o, NULL, pos, 1, "TARGET [--json]");
    struct xa_instance *xa = tool_open(&o);
    struct xa_module_iter *it;
    if (xa_module_iter_new(xa, &it) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
    struct tool_rows rows;
    tool_rows_init(&rows, o.json, "%-24s %10s %4s %-9s %s", "NAME", "SIZE", "REFS", "STATE",
                   "BASE");
    struct xa_module m;
    int rc;
    while ((rc = xa_module_iter_next(it, &m)) == 1) {
        tool_row(&rows);
        if (o.json) {
            json_object *j = json_object_new_object();
            tool_json_str(j, "name", m.name);
            json_object_object_add(j, "size", json_object_new_int64((int64_t)m.size));
            json_object_object_add(j, "refcount", json_object_new_int(m.refcount));
            json_object_object_add(j, "state", json_object_new_string(state_name(m.state)));
            tool_json_hex(j, "base", m.base);
            tool_json_hex(j, "module", m.module);
            tool_json_line(j);
        } else {
            /* NAME is not the last column: spaces are escaped too. */
            printf("%-24s %10" PRIu64 " %4d %-9s 0x%" PRIx64 "\n", tool_text(m.name, ESC_SPACE),
                   m.size, m.refcount,
                   state_name(m.state), m.base);
        }
    }
    int code = tool_rows_end(&rows, xa, rc, o.target, "module list is partial after %zu modules",
                             rows.n);
    xa_module_iter_free(it);
    xa_destroy(xa);
    return code;
}
