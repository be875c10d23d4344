/*
 * xadisk.c -- the public xadisk API: targets, the handle, events.  The
 * connection and its framing are stream.c's job, supervising a tap we
 * started tap.c's, watches watch.c's; the handle's state is in handle.h.
 */
#include "xadisk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "disk/proto.h"
#include "engine.h"
#include "evq.h"
#include "internal.h"
#include "handle.h"

static _Thread_local char init_error[256];

const char *xd_strerror(int err)
{
    switch (err) {
#define XA__CASE(name, val, text) case val: return text;
        XA_ERRNO_MAP(XA__CASE)
#undef XA__CASE
    default: return "unknown error";
    }
}

int xd_fail(struct xadisk *xd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(xd->errmsg, sizeof(xd->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

uint64_t xd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *xadisk_last_init_error(void) { return init_error; }
const char *xadisk_errmsg(const struct xadisk *xd) { return xd ? xd->errmsg : init_error; }
const char *xadisk_qemu_args(const struct xadisk *xd) { return xd ? xd->qemu_args : NULL; }
int xadisk_get_fd(const struct xadisk *xd) { return xd && xd->active ? xd->fd : -1; }

/* ---------------------------------------------------------- the tap --- */

static char *dupcat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

int xadisk_init(const struct xadisk_opts *opts, struct xadisk **out)
{
    *out = NULL;
    init_error[0] = 0;
    if (!opts || opts->sz < sizeof(struct xadisk_opts) || !opts->target) {
        snprintf(init_error, sizeof(init_error), "xadisk_init: opts/target missing");
        return XA_EINVAL;
    }
    struct xadisk *xd = calloc(1, sizeof(*xd));
    if (!xd)
        return XA_ENOMEM;
    xd->fd = -1;
    xd->flags = opts->flags;
    xd->ring_bytes = opts->ring_bytes;
    int rc = 0;
    if (strncmp(opts->target, "tap:", 4) == 0 && opts->target[4]) {
        xd->event_socket = strdup(opts->target + 4);
    } else if (strncmp(opts->target, "image:", 6) == 0 && opts->target[6]) {
        xd->own_tap = true;
        xd->image = realpath(opts->target + 6, NULL);
        if (!xd->image) {
            snprintf(init_error, sizeof(init_error), "%s: %s", opts->target + 6, strerror(errno));
            free(xd);
            return XA_ENOENT;
        }
        xd->event_socket = opts->event_socket ? strdup(opts->event_socket)
                                              : dupcat(xd->image, ".events.sock");
        xd->nbd_socket = opts->nbd_socket ? strdup(opts->nbd_socket)
                                          : dupcat(xd->image, ".nbd.sock");
        if (xd->event_socket && xd->nbd_socket) {
            size_t n = strlen(xd->nbd_socket) + 200;
            xd->qemu_args = malloc(n);
            if (xd->qemu_args)
                snprintf(xd->qemu_args, n,
                         "-blockdev driver=nbd,server.type=unix,server.path=%s,"
                         "node-name=xadisk0,reconnect-delay=10 "
                         "-device virtio-blk-pci,drive=xadisk0",
                         xd->nbd_socket);
            rc = xd_tap_start(xd);
            if (rc < 0)
                snprintf(init_error, sizeof(init_error), "%s", xd->errmsg);
        }
    } else {
        snprintf(init_error, sizeof(init_error), "target must be tap:SOCKET or image:PATH: %s",
                 opts->target);
        free(xd);
        return XA_EINVAL;
    }
    if (rc == 0 && (!xd->event_socket || (xd->own_tap && (!xd->nbd_socket || !xd->qemu_args))))
        rc = XA_ENOMEM;
    if (rc < 0) {
        if (!init_error[0])
            snprintf(init_error, sizeof(init_error), "%s", xd_strerror(rc));
        xadisk_destroy(xd);
        return rc;
    }
    *out = xd;
    return 0;
}

/* ----------------------------------------------------------- public --- */

int xadisk_activate(struct xadisk *xd)
{
    if (xd->active)
        return xd_fail(xd, XA_EBUSY, "already active");
    /* Active means records flow: HELLO, then READY through the tap's ring.
     * A broken stream before that is retried until the deadline. */
    uint64_t deadline = xd_now_ms() + HELLO_WAIT_MS;
    xd->resync_reason[0] = 0;
    xd->broken_in_row = 0;
    while (!xd->have_ready) {
        uint64_t t = xd_now_ms();
        int left = t < deadline ? (int)(deadline - t) : 0;
        if (left <= 0) {
            bool broken = xd->broken_in_row > 0;
            xd_disconnect(xd);
            if (broken)
                return XA_EBADDATA; /* errmsg says how the stream broke */
            return xd_fail(xd, XA_ETIMEDOUT, "no HELLO and READY from the tap within %d s",
                        HELLO_WAIT_MS / 1000);
        }
        if (!xd->connected) {
            if (xd_now_ms() < xd->reconnect_after_ms) {
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            int rc = xd_connect(xd);
            if (rc < 0)
                return rc;
        }
        int rc = xd_fill(xd, left < 200 ? left : 200);
        if (rc == XA_EGONE || rc == XA_ELIMIT) {
            xd_disconnect(xd);
            return xd_fail(xd, XA_EIO, "the tap closed the connection before records flowed");
        }
        if (rc < 0) {
            xd_disconnect(xd);
            return xd_fail(xd, rc, "reading from the tap: %s", xd_strerror(rc));
        }
        rc = xd_drain(xd);
        if (rc < 0) {
            xd_disconnect(xd);
            return rc;
        }
    }
    xd->active = true;
    return 0;
}

int xadisk_deactivate(struct xadisk *xd)
{
    if (!xd->active)
        return xd_fail(xd, XA_EINVAL, "not active");
    xd_disconnect(xd);
    if (xd->engine_up)
        engine_stop(&xd->eng);
    xd->engine_up = false;
    evq_clear(&xd->q);
    evq_event_free(&xd->cur);
    xd->active = false;
    return 0;
}

void xadisk_destroy(struct xadisk *xd)
{
    if (!xd)
        return;
    if (xd->active && xadisk_deactivate(xd) < 0)
        xd->active = false;
    if (xd->own_tap)
        xd_tap_stop(xd);
    for (size_t i = 0; i < xd->nw; i++)
        free(xd->w[i].path);
    free(xd->w);
    free(xd->rbuf);
    free(xd->event_socket);
    free(xd->nbd_socket);
    free(xd->image);
    free(xd->qemu_args);
    free(xd);
}

/* The tap went away: restart ours, or wait for someone to restart theirs. */
static int try_reconnect(struct xadisk *xd)
{
    if (!xd->disconnected_at_ms)
        xd->disconnected_at_ms = xd_now_ms();
    if (xd_now_ms() < xd->reconnect_after_ms)
        return 1; /* after a broken stream: not at once */
    if (xd->own_tap) {
        if (xd->tap_pid <= 0 || kill(xd->tap_pid, 0) < 0) {
            xd->tap_pid = 0;
            int rc = xd_tap_start(xd);
            if (rc < 0)
                return rc;
        }
    }
    if (xd_connect(xd) == 0) {
        xd->disconnected_at_ms = 0;
        return 0;
    }
    if (xd_now_ms() - xd->disconnected_at_ms > RECONNECT_GIVE_UP_MS)
        return xd_fail(xd, XA_EGONE, "the tap at %s is gone", xd->event_socket);
    return 1;
}

int xadisk_next_event(struct xadisk *xd, int timeout_ms, const struct xadisk_event **ev)
{
    *ev = NULL;
    if (!xd->active)
        return xd_fail(xd, XA_EINVAL, "not active");
    evq_event_free(&xd->cur);
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : xd_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        while (evq_pop(&xd->q, &xd->cur)) {
            xd->st.events++;
            if (xd->cur.type == XADISK_EV_RESYNC) { /* xadisk_errmsg() says why */
                if (xd->resync_reason[0])
                    xd_fail(xd, 0, "%s", xd->resync_reason);
                else
                    xd_fail(xd, 0, "a journal commit could not be followed; rescanned");
                xd->resync_reason[0] = 0;
            }
            if (xd_watch_wanted(xd, &xd->cur)) {
                *ev = &xd->cur;
                return 0;
            }
            evq_event_free(&xd->cur);
        }
        if (!xd->connected) {
            int rc = try_reconnect(xd);
            if (rc < 0)
                return rc;
            if (rc > 0) {
                uint64_t t = xd_now_ms();
                if (t >= deadline)
                    return XA_ETIMEDOUT;
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
        }
        int rc = xd_drain(xd);
        if (rc < 0)
            return rc;
        if (xd->connected && !xd->have_ready &&
            xd_now_ms() - xd->connected_at_ms > HELLO_WAIT_MS) {
            rc = xd_broken_stream(xd, "no HELLO and READY within 10 s of connecting");
            if (rc < 0)
                return rc;
        }
        if (xd->q.n || !xd->connected) /* events, or a broken stream to reconnect */
            continue;
        if (xd->engine_up && xd->eng.resync_pending) {
            /* rescan once, after the backlog: not once per RESYNC frame */
            rc = xd_fill(xd, 0);
            if (rc > 0)
                continue;
            engine_settle(&xd->eng, &xd->q);
            if (xd->q.n)
                continue;
        }
        uint64_t t = xd_now_ms();
        if (t >= deadline && timeout_ms != 0)
            return XA_ETIMEDOUT;
        int wait = deadline == UINT64_MAX ? IDLE_ROUND_MS
                   : deadline > t ? (int)(deadline - t) : 0;
        if (wait > IDLE_ROUND_MS)
            wait = IDLE_ROUND_MS;
        rc = xd_fill(xd, wait);
        if (rc == XA_EGONE) {
            xd_disconnect(xd);
            continue;
        }
        if (rc == XA_ELIMIT) { /* frames larger than any the tap sends */
            rc = xd_broken_stream(xd, "a frame larger than the receive buffer");
            if (rc < 0)
                return rc;
            continue;
        }
        if (rc < 0)
            return xd_fail(xd, rc, "reading from the tap: %s", xd_strerror(rc));
        if (rc == 0) {
            if (xd_now_ms() - xd->last_data_ms >= IDLE_ROUND_MS && xd->engine_up) {
                engine_idle(&xd->eng, &xd->q);
                xd->last_data_ms = xd_now_ms();
            }
            if (xd->q.n)
                continue;
            if (timeout_ms == 0 || xd_now_ms() >= deadline)
                return XA_ETIMEDOUT;
        }
    }
}

void xadisk_get_stats(const struct xadisk *xd, struct xadisk_stats *st)
{
    *st = xd->st;
    if (xd->engine_up) {
        st->transactions = xd->eng.transactions;
        st->resyncs = xd->eng.resyncs;
        st->bad_journal = xd->eng.bad_journal;
        st->inodes = xd->eng.m.nodes.count;
    }
}

const char *xadisk_event_name(uint32_t type)
{
    switch (type) {
    case XADISK_EV_CREATE: return "create";
    case XADISK_EV_DELETE: return "delete";
    case XADISK_EV_RENAME: return "rename";
    case XADISK_EV_WRITE: return "write";
    case XADISK_EV_TRUNCATE: return "truncate";
    case XADISK_EV_ATTRIB: return "attrib";
    case XADISK_EV_LINK: return "link";
    case XADISK_EV_RESYNC: return "resync";
    default: return "unknown";
    }
}

const char *xadisk_file_type_name(uint32_t t)
{
    static const char *const names[] = {"unknown", "file", "dir", "symlink", "chardev",
                                        "blockdev", "fifo", "socket"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
