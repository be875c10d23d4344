/* tapctl.c -- starting the tap (see tapctl.h). */
#include "tapctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *tap_filter_path(void)
{
    const char *env = getenv("XADISK_TAP_FILTER");
    if (env && *env)
        return env;
    if (access(XADISK_FILTER_BUILD, R_OK) == 0)
        return XADISK_FILTER_BUILD;
    return XADISK_FILTER_INSTALL;
}

int tap_image_check(const char *path, char *why, size_t size)
{
    struct stat st;
    const char *what = NULL;
    if (stat(path, &st) < 0) {
        snprintf(why, size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        what = "is a directory";
    else if (S_ISCHR(st.st_mode))
        what = "is a character device";
    else if (S_ISFIFO(st.st_mode))
        what = "is a pipe";
    else if (S_ISSOCK(st.st_mode))
        what = "is a socket";
    else if (S_ISREG(st.st_mode) && st.st_size == 0)
        what = "is empty";
    else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        what = "is not a regular file";
    if (!what)
        return 0;
    snprintf(why, size, "%s: %s, not a disk image (a file or a block device)", path, what);
    return -1;
}

void tap_pidfile(const char *nbd_socket, char *buf, size_t size)
{
    snprintf(buf, size, "%s.pid", nbd_socket);
}

pid_t tap_spawn(const struct tap_launch *l)
{
    char a_filter[4200], a_file[4200], a_events[4200], a_ring[64], a_lossless[32];
    char pidfile[4200];
    snprintf(a_filter, sizeof(a_filter), "--filter=%s", tap_filter_path());
    snprintf(a_file, sizeof(a_file), "file=%s", l->image);
    snprintf(a_events, sizeof(a_events), "events=%s", l->event_socket);
    snprintf(a_ring, sizeof(a_ring), "ring=%llu", l->ring_bytes);
    snprintf(a_lossless, sizeof(a_lossless), "lossless=%s", l->lossless ? "true" : "false");
    tap_pidfile(l->nbd_socket, pidfile, sizeof(pidfile));
    unlink(pidfile);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (l->quiet) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
    }
    if (l->daemon)
        execlp("nbdkit", "nbdkit", "-P", pidfile, "-U", l->nbd_socket, a_filter, "file", a_file,
               a_events, a_ring, a_lossless, (char *)NULL);
    else
        execlp("nbdkit", "nbdkit", "-f", "-U", l->nbd_socket, a_filter, "file", a_file,
               a_events, a_ring, a_lossless, (char *)NULL);
    if (l->who)
        fprintf(stderr, "%s: cannot run nbdkit: %s\n", l->who, strerror(errno));
    _exit(127);
}

pid_t tap_wait_pidfile(const char *pidfile)
{
    int pid = 0;
    for (int i = 0; i < 100 && pid <= 0; i++) {
        FILE *f = fopen(pidfile, "r");
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid <= 0) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return pid > 0 ? (pid_t)pid : 0;
}
