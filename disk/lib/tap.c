/* tap.c -- supervising a tap we started for an image: target. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handle.h"
#include "tapctl.h"

int xd_connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    int rcvbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return fd;
}

/* Sockets of an earlier tap on this image: one still serving (left by a
 * monitor that died: it keeps the guest's disk up) is used as it is, and
 * files nobody listens on any more are removed. 1 when a tap serves. */
static int earlier_tap(struct xadisk *xd)
{
    int fd = xd_connect_unix(xd->event_socket);
    if (fd >= 0) {
        close(fd);
        return 1;
    }
    fd = xd_connect_unix(xd->nbd_socket);
    if (fd >= 0) {
        close(fd);
        return xd_fail(xd, XA_EBUSY, "%s is served by a program that is not an xadisk tap",
                       xd->nbd_socket);
    }
    char pidfile[4200];
    tap_pidfile(xd->nbd_socket, pidfile, sizeof(pidfile));
    unlink(xd->event_socket);
    unlink(xd->nbd_socket);
    unlink(pidfile);
    return 0;
}

int xd_tap_start(struct xadisk *xd)
{
    char why[4300];
    if (tap_image_check(xd->image, why, sizeof(why)) < 0)
        return xd_fail(xd, XA_EINVAL, "%s", why);
    int earlier = earlier_tap(xd);
    if (earlier != 0) {
        xd->tap_pid = 0; /* not ours to stop */
        return earlier < 0 ? earlier : 0;
    }
    /* nbdkit daemonizes itself: the guest's disk must outlive a crashed monitor */
    const struct tap_launch l = {
        .image = xd->image, .nbd_socket = xd->nbd_socket, .event_socket = xd->event_socket,
        .ring_bytes = xd->ring_bytes ? xd->ring_bytes : 64u << 20,
        .lossless = (xd->flags & XADISK_LOSSLESS) != 0, .daemon = true, .quiet = true};
    char pidfile[4200];
    tap_pidfile(xd->nbd_socket, pidfile, sizeof(pidfile));
    pid_t pid = tap_spawn(&l);
    if (pid < 0)
        return xd_fail(xd, XA_EIO, "fork: %s", strerror(errno));
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return xd_fail(xd, XA_EIO, "nbdkit failed to start the tap on %s", xd->image);
    pid_t tpid = tap_wait_pidfile(pidfile);
    if (tpid <= 0)
        return xd_fail(xd, XA_EIO, "nbdkit wrote no pid to %s", pidfile);
    xd->tap_pid = tpid;
    for (int i = 0; i < 200; i++) { /* up to 10 s for the event socket */
        int fd = xd_connect_unix(xd->event_socket);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (kill(tpid, 0) < 0) {
            xd->tap_pid = 0;
            return xd_fail(xd, XA_EIO, "the tap exited at start");
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return xd_fail(xd, XA_ETIMEDOUT, "the tap did not open %s", xd->event_socket);
}

void xd_tap_stop(struct xadisk *xd)
{
    if (xd->tap_pid > 0) {
        kill(xd->tap_pid, SIGTERM);
        for (int i = 0; i < 100 && kill(xd->tap_pid, 0) == 0; i++) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
            if (i == 99)
                kill(xd->tap_pid, SIGKILL);
        }
        /* nbdkit leaves its socket files behind */
        char pidfile[4200];
        tap_pidfile(xd->nbd_socket, pidfile, sizeof(pidfile));
        unlink(xd->event_socket);
        unlink(xd->nbd_socket);
        unlink(pidfile);
    }
    xd->tap_pid = 0;
}
