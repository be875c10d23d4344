/*
 * xa-maps -- a process's memory map, like /proc/PID/maps.
 *   xa-maps TARGET --pid PID [--json]
 */
#include <inttypes.h>
#include <string.h>

#include "tool.h"

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --pid 1";
    struct tool_opts o = {0};
    uint64_t pid_arg = 0;
    struct tool_opt opts[] = {
        {"--pid", OPT_UINT, &pid_arg, "PID", "the process", 0, TOOL_PID_MAX, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1, "TARGET --pid PID [--json]");
    if (!opts[0].seen)
        tool_die(TOOL_USAGE, "give --pid PID");
    int32_t pid = (int32_t)pid_arg; /* bounded by TOOL_PID_MAX */
    struct xa_instance *xa = tool_open(&o);
    struct xa_process proc;
    if (xa_process_by_pid(xa, pid, &proc) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, tool_about_pid(pid, xa_errmsg(xa)));
    if (proc.mm == 0) {
        /* Like /proc/PID/maps of a kernel thread: empty, but say why. */
        tool_warn("%s: pid %d (%s) is a kernel thread: it has no user memory", o.target, pid,
                  proc.comm);
        xa_destroy(xa);
        return TOOL_OK;
    }
    struct xa_vma_iter *it;
    if (xa_vma_iter_new(xa, pid, &it) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, tool_about_pid(pid, xa_errmsg(xa)));
    struct tool_rows rows;
    tool_rows_init(&rows, o.json, NULL); /* no header, as /proc/PID/maps */
    static struct xa_vma v;
    int rc;
    while ((rc = xa_vma_iter_next(it, &v)) == 1) {
        tool_row(&rows);
        char perms[5] = {v.flags & XA_VMA_READ ? 'r' : '-', v.flags & XA_VMA_WRITE ? 'w' : '-',
                         v.flags & XA_VMA_EXEC ? 'x' : '-', v.flags & XA_VMA_SHARED ? 's' : 'p',
                         0};
        if (o.json) {
            json_object *j = json_object_new_object();
            tool_json_hex(j, "start", v.start);
            tool_json_hex(j, "end", v.end);
            json_object_object_add(j, "perms", json_object_new_string(perms));
            json_object_object_add(j, "offset", json_object_new_int64((int64_t)(v.pgoff << 12)));
            tool_json_str(j, "path", v.path);
            tool_json_hex(j, "vma", v.vma);
            tool_json_line(j);
        } else {
            /* The path is the last field: spaces stay, as in /proc/PID/maps. */
            printf("%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %s\n", v.start, v.end, perms,
                   v.pgoff << 12, tool_text(v.path, 0));
        }
    }
    int code = tool_rows_end(&rows, xa, rc, o.target, "memory map is partial after %zu areas",
                             rows.n);
    xa_vma_iter_free(it);
    xa_destroy(xa);
    return code;
}
