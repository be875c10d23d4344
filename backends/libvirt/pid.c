/*
 * pid.c -- which local process is the QEMU of a libvirt domain.
 *
 * libvirt has no API for it. Its pid files (/run/libvirt/qemu/NAME.pid for
 * qemu:///system, $XDG_RUNTIME_DIR/libvirt/qemu/run/NAME.pid for the session)
 * are tried first, but any pid they hold is only trusted once the process's
 * command line carries "-uuid UUID" of our domain; otherwise every process is
 * checked for that argument (other state directories: embedded drivers,
 * daemons with their own paths). A pid file can be stale or belong to a
 * different libvirt instance; the UUID cannot.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/libvirt/libvirt.h"

/* libvirt's QEMU command lines run to a few KiB; a longer one is not ours. */
#define CMDLINE_MAX (256u << 10)

/* Does /proc/PID/cmdline hold the two arguments "-uuid" @uuid? */
static bool runs_domain(pid_t pid, const char *uuid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char *buf = malloc(CMDLINE_MAX + 1);
    size_t len = 0;
    while (buf && len < CMDLINE_MAX) {
        ssize_t n = read(fd, buf + len, CMDLINE_MAX - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (!buf)
        return false;
    buf[len] = '\0';
    bool found = false;
    for (size_t at = 0; at < len && !found;) {
        const char *arg = buf + at;
        size_t alen = strlen(arg);
        size_t next = at + alen + 1;
        if (strcmp(arg, "-uuid") == 0 && next < len && strcasecmp(buf + next, uuid) == 0)
            found = true;
        at = next;
    }
    free(buf);
    return found;
}

static pid_t pid_from_file(const char *path, const char *uuid)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    long v = 0;
    int ok = fscanf(f, "%ld", &v);
    fclose(f);
    if (ok != 1 || v <= 0 || v > 0x3fffffff)
        return 0;
    return runs_domain((pid_t)v, uuid) ? (pid_t)v : 0;
}

static pid_t scan_proc(const char *uuid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        long v = strtol(e->d_name, NULL, 10);
        if (v > 0 && v <= 0x3fffffff && runs_domain((pid_t)v, uuid))
            found = (pid_t)v;
    }
    closedir(d);
    return found;
}

pid_t libvirt_find_qemu_pid(const char *name, const char *uuid)
{
    char path[4096];
    snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
    pid_t pid = pid_from_file(path, uuid);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!pid && xdg && *xdg) {
        snprintf(path, sizeof(path), "%s/libvirt/qemu/run/%s.pid", xdg, name);
        pid = pid_from_file(path, uuid);
    }
    return pid ? pid : scan_proc(uuid);
}
