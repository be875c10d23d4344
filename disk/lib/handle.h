/*
 * handle.h -- the state of one xadisk handle, shared by the files of the
 * public API: xadisk.c (handle, events), stream.c (connection, framing), tap.c
 * (supervising a tap we started), watch.c (watches).  Internal.
 */
#ifndef XADISK_HANDLE_H
#define XADISK_HANDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "xadisk.h"
#include "engine.h"
#include "evq.h"

#define RBUF_INITIAL (1u << 20)
#define IDLE_ROUND_MS 1000
#define RECONNECT_GIVE_UP_MS 30000
#define HELLO_WAIT_MS 10000
/* A tap that breaks the stream this many times in a row, each time before
 * records flowed again, is given up on. */
#define BROKEN_STREAMS_GIVE_UP 5
#define BROKEN_STREAM_PAUSE_MS 200

struct watch {
    char *path;
    uint32_t flags, mask;
};

struct xadisk {
    char errmsg[256];
    char *event_socket, *nbd_socket, *image, *qemu_args;
    uint32_t flags;
    uint64_t ring_bytes;
    bool own_tap;
    pid_t tap_pid;
    int fd;
    bool active, connected, have_hello, engine_up;
    /* the stream: HELLO (seq s), READY (s + 1), then seq + 1 per frame */
    bool have_ready;
    uint64_t expect_seq, hello_image_size, hello_ring_bytes;
    unsigned broken_in_row;         /* broken streams since records last flowed */
    char resync_reason[200];        /* why the next RESYNC event comes */
    char tap_image[4096];           /* the image HELLO named */
    uint64_t disconnected_at_ms, connected_at_ms, last_data_ms, reconnect_after_ms;
    uint8_t *rbuf;
    size_t rstart, rlen, rcap;
    struct engine eng;
    struct evq q;
    struct xadisk_event cur;
    struct watch *w;
    size_t nw;
    struct xadisk_stats st;
};

/* Set the handle's message; returns @code. */
__attribute__((format(printf, 3, 4)))
int xd_fail(struct xadisk *xd, int code, const char *fmt, ...);
/* Monotonic milliseconds. */
uint64_t xd_now_ms(void);

/* tap.c: a connected stream socket to @path, or -1. */
int xd_connect_unix(const char *path);
/* tap.c: start our tap (image: targets) and wait for its event socket. */
int xd_tap_start(struct xadisk *xd);
/* tap.c: stop our tap, if running. */
void xd_tap_stop(struct xadisk *xd);

/* stream.c: the connection and its framing. */
void xd_disconnect(struct xadisk *xd);
int xd_connect(struct xadisk *xd);
/* Read what the tap sent within @timeout_ms: 1 read, 0 nothing, or an error. */
int xd_fill(struct xadisk *xd, int timeout_ms);
int xd_broken_stream(struct xadisk *xd, const char *why);
/* Hand every whole frame in the buffer on. */
int xd_drain(struct xadisk *xd);

/* watch.c: whether an event is for a watched path (all are without watches). */
bool xd_watch_wanted(const struct xadisk *xd, const struct xadisk_event *ev);

#endif /* XADISK_HANDLE_H */
