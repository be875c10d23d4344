/*
 * xa-files -- open files of a guest's processes, like ls -l /proc/PID/fd
 * with fdinfo's position and flags.
 *   xa-files TARGET [--pid PID] [--json]
 */
#include <inttypes.h>
#include <string.h>

#include "escape.h"
#include "tool.h"

/* List the files of @p, as the process walk (or the pid lookup) found it:
 * the whole listing is that walk's one snapshot, with no walk and no flush
 * per process. 0, or the walk's error after printing what it found. The
 * first broken process ends the listing (exit 3), as xa-ps's first broken
 * link does. */
static int list_files(struct xa_instance *xa, const struct xa_process *p, struct tool_rows *rows)
{
    struct xa_file_iter *it;
    int rc = xa_file_iter_new_proc(xa, p, &it);
    if (rc < 0)
        return rc;
    static struct xa_open_file f;
    while ((rc = xa_file_iter_next(it, &f)) == 1) {
        tool_row(rows);
        char dev[32];
        snprintf(dev, sizeof(dev), "%u:%u", f.dev_major, f.dev_minor);
        if (rows->json) {
            json_object *j = json_object_new_object();
            json_object_object_add(j, "pid", json_object_new_int(f.pid));
            json_object_object_add(j, "fd", json_object_new_int(f.fd));
            json_object_object_add(j, "type", json_object_new_string(xa_file_type_name(f.mode)));
            tool_json_str(j, "path", f.path);
            json_object_object_add(j, "inode", json_object_new_int64((int64_t)f.inode));
            json_object_object_add(j, "pos", json_object_new_int64(f.pos));
            json_object_object_add(j, "flags", json_object_new_int64(f.flags));
            json_object_object_add(j, "dev", json_object_new_string(dev));
            json_object_object_add(j, "mode", json_object_new_int64(f.mode));
            if (f.state & XA_FILE_NAME_UNKNOWN)
                json_object_object_add(j, "name_unknown", json_object_new_boolean(1));
            tool_json_hex(j, "file", f.file);
            tool_json_line(j);
        } else {
            /* The path is the last field: its spaces stay, as ls shows them. */
            printf("%7d %5d %-5s %#9o %12" PRId64 " %-7s %10" PRIu64 " %s\n", (int)f.pid,
                   (int)f.fd, xa_file_type_name(f.mode), f.flags, f.pos, dev, f.inode,
                   tool_text(f.path, 0));
        }
    }
    xa_file_iter_free(it);
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --pid 1";
    struct tool_opts o = {0};
    uint64_t pid_arg = 0;
    struct tool_opt opts[] = {
        {"--pid", OPT_UINT, &pid_arg, "PID", "only this process (default: every process)", 0,
         TOOL_PID_MAX, false},
        {0},
    };
    const char *pos[1];
    tool_parse(argc, argv, &o, opts, pos, 1, "TARGET [--pid PID] [--json]");
    struct xa_instance *xa = tool_open(&o);
    struct tool_rows rows;
    tool_rows_init(&rows, o.json, "%7s %5s %-5s %9s %12s %-7s %10s %s", "PID", "FD", "TYPE",
                   "FLAGS", "POS", "DEV", "INODE", "PATH");
    int rc;
    if (opts[0].seen) {
        int32_t pid = (int32_t)pid_arg; /* bounded by TOOL_PID_MAX */
        struct xa_process p;
        if (xa_process_by_pid(xa, pid, &p) < 0)
            tool_die(TOOL_ERR, "%s: %s", o.target, tool_about_pid(pid, xa_errmsg(xa)));
        rc = list_files(xa, &p, &rows);
    } else {
        struct xa_process_iter *pit;
        if (xa_process_iter_new(xa, &pit) < 0)
            tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
        static struct xa_process p;
        bool live = xa_is_live(xa) == 1;
        while ((rc = xa_process_iter_next(pit, &p)) == 1) {
            rc = list_files(xa, &p, &rows);
            if (rc == XA_ENOENT && live)
                continue; /* exited since the walk met it: no files left */
            if (rc < 0)
                break;
        }
        xa_process_iter_free(pit);
    }
    int code = tool_rows_end(&rows, xa, rc, o.target, "open files are partial after %zu files",
                             rows.n);
    xa_destroy(xa);
    return code;
}
