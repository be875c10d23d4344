/*
 * tapctl.h -- starting the tap: nbdkit's file plugin on an image with the
 * xadisk filter stacked on it.  Shared by libxadisk (image: targets) and
 * the xa-disk-tap tool, so that nbdkit is launched one way.
 */
#ifndef XADISK_TAPCTL_H
#define XADISK_TAPCTL_H

#include <stdbool.h>
#include <sys/types.h>

struct tap_launch {
    const char *image;        /* the disk image (path as nbdkit gets it) */
    const char *nbd_socket;   /* where QEMU connects */
    const char *event_socket; /* where monitors subscribe */
    unsigned long long ring_bytes;
    bool lossless;
    bool daemon;     /* nbdkit daemonizes, writing its pid to NBD_SOCKET.pid; else -f */
    bool quiet;      /* the child's stdin and stdout go to /dev/null */
    const char *who; /* prefix of the child's message when nbdkit cannot run; NULL: none */
};

/*
 * Whether @path can be served as a disk: a regular file that is not empty,
 * or a block device. 0, or -1 with "PATH: what it is instead" in @why (one
 * line), so that nbdkit is not started only to fail with its own message.
 */
int tap_image_check(const char *path, char *why, size_t size);

/* The filter nbdkit loads: $XADISK_TAP_FILTER, the build tree's, or the installed one. */
const char *tap_filter_path(void);

/* "NBD_SOCKET.pid" into @buf (the pid file of a daemonized tap). */
void tap_pidfile(const char *nbd_socket, char *buf, size_t size);

/* Fork and exec nbdkit; the child's pid (the daemonizing parent when
 * @l->daemon), or -1 with errno when fork fails.  Unlinks the pid file first. */
pid_t tap_spawn(const struct tap_launch *l);

/* The pid a daemonized tap wrote to @pidfile, waiting up to 5 s for it
 * (the daemon writes it after its parent has exited); 0 when none came. */
pid_t tap_wait_pidfile(const char *pidfile);

#endif /* XADISK_TAPCTL_H */
