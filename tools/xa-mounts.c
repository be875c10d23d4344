/*
 * xa-mounts -- a guest's mounts, like /proc/PID/mountinfo.
 *   xa-mounts TARGET [--pid PID] [--json]
 */
#include <inttypes.h>
#include <string.h>

#include "escape.h"
#include "tool.h"

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --pid 1";
    struct tool_opts o = {0};
    uint64_t pid_arg = 0;
    struct tool_opt opts[] = {
        {"--pid", OPT_UINT, &pid_arg, "PID",
         "the mount namespace of this process, seen from its root (default: the initial one)",
         1, TOOL_PID_MAX, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1, "TARGET [--pid PID] [--json]");
    struct xa_instance *xa = tool_open(&o);
    int32_t pid = opts[0].seen ? (int32_t)pid_arg : 0; /* bounded by TOOL_PID_MAX */
    struct xa_mount_iter *it;
    if (xa_mount_iter_new(xa, pid, &it) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
    struct tool_rows rows;
    tool_rows_init(&rows, o.json, "%5s %6s %-7s %-20s %-24s %-10s %s", "ID", "PARENT", "DEV",
                   "ROOT", "MOUNTPOINT", "TYPE", "SOURCE OPTIONS");
    static struct xa_mount m;
    int rc;
    while ((rc = xa_mount_iter_next(it, &m)) == 1) {
        tool_row(&rows);
        char dev[32], prop[64] = "";
        snprintf(dev, sizeof(dev), "%u:%u", m.dev_major, m.dev_minor);
        if (m.shared_id)
            snprintf(prop, sizeof(prop), "shared:%d", (int)m.shared_id);
        if (m.master_id)
            snprintf(prop + strlen(prop), sizeof(prop) - strlen(prop), "%smaster:%d",
                     prop[0] ? " " : "", (int)m.master_id);
        if (o.json) {
            json_object *j = json_object_new_object();
            json_object_object_add(j, "mnt_id", json_object_new_int(m.mnt_id));
            json_object_object_add(j, "parent_id", json_object_new_int(m.parent_id));
            json_object_object_add(j, "dev", json_object_new_string(dev));
            tool_json_str(j, "root", m.root);
            tool_json_str(j, "mount_point", m.mount_point);
            json_object_object_add(j, "options", json_object_new_string(m.options));
            json_object_object_add(j, "propagation", json_object_new_string(prop));
            tool_json_str(j, "fstype", m.fstype);
            tool_json_str(j, "source", m.source);
            json_object_object_add(j, "super_ro",
                                   json_object_new_boolean((m.sb_flags & 1) != 0));
            tool_json_hex(j, "mount", m.mount);
            tool_json_line(j);
        } else {
            printf("%5d %6d %-7s %-20s %-24s %-10s %s", (int)m.mnt_id, (int)m.parent_id, dev,
                   tool_text(m.root, ESC_SPACE), tool_text(m.mount_point, ESC_SPACE),
                   tool_text(m.fstype, ESC_SPACE), tool_text(m.source, ESC_SPACE));
            printf(" %s%s%s\n", m.options, prop[0] ? " " : "", prop);
        }
    }
    int code = tool_rows_end(&rows, xa, rc, o.target, "mounts are partial after %zu", rows.n);
    xa_mount_iter_free(it);
    xa_destroy(xa);
    return code;
}
