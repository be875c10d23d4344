/*
 * filter.c -- the xadisk tap: an nbdkit filter that records every write,
 * trim, zero and flush after the layer below has completed it, and ships the
 * records to subscribed monitors over a unix socket (disk/proto.h).
 *
 *   nbdkit -U nbd.sock --filter=.../nbdkit-xadisk-filter.so file disk.img \
 *          events=events.sock [ring=64M] [lossless=true]
 *
 * The guest's requests never wait for a monitor: records go into a bounded
 * pre-allocated ring (ring.c) and a separate thread sends them.  When nobody
 * is subscribed nothing is recorded at all.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-filter.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "disk/proto.h"
#include "ring.h"

#define MAX_SUBSCRIBERS 8
#define SEND_CHUNK (1u << 20)
/* The shipper sends in batches: after a partial batch it sleeps this long, so
 * that a stream of small writes costs one wake-up, accept, poll and send per
 * millisecond rather than per record (syscalls dominate the tap's cost). */
#define BATCH_PAUSE_NS (1000 * 1000L)
/* How often new subscribers are accepted and hung-up ones noticed. */
#define HOUSEKEEPING_MS 20

static char *events_path;
static char *image_path;
static int64_t ring_bytes = 64 << 20;
static bool lossless;

static struct tap_ring ring;
static int listen_fd = -1;
static pthread_t shipper;
static bool shipper_started;
static atomic_bool stopping;
static int64_t image_size = -1;

struct subscriber {
    int fd;
    /* seq of its READY frame: frames before it were queued before it joined;
     * 0 while it waits for room in the ring for that frame */
    uint64_t first_seq;
};
static struct subscriber subs[MAX_SUBSCRIBERS];
static int nsubs;

static void xadisk_unload(void)
{
    free(events_path);
    free(image_path);
}

static int xadisk_config(nbdkit_next_config *next, nbdkit_backend *nxdata, const char *key,
                         const char *value)
{
    if (strcmp(key, "events") == 0) {
        free(events_path);
        events_path = strdup(value);
        return events_path ? 0 : -1;
    }
    if (strcmp(key, "ring") == 0) {
        ring_bytes = nbdkit_parse_size(value);
        if (ring_bytes < 0)
            return -1;
        if (ring_bytes < (1 << 20) || ring_bytes > ((int64_t)16 << 30)) {
            nbdkit_error("ring must be between 1M and 16G");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "lossless") == 0) {
        int b = nbdkit_parse_bool(value);
        if (b < 0)
            return -1;
        lossless = b;
        return 0;
    }
    /* snoop the file plugin's image so that monitors can read the base image */
    if (strcmp(key, "file") == 0) {
        free(image_path);
        image_path = realpath(value, NULL);
    }
    return next(nxdata, key, value);
}

static int xadisk_config_complete(nbdkit_next_config_complete *next, nbdkit_backend *nxdata)
{
    if (!events_path) {
        nbdkit_error("the xadisk filter needs events=SOCKET");
        return -1;
    }
    return next(nxdata);
}

#define xadisk_config_help                                                                 \
    "events=<SOCKET>      (required) unix socket where monitors subscribe\n"              \
    "ring=<SIZE>          record ring size (default 64M)\n"                                \
    "lossless=<BOOL>      block guest writes instead of dropping when the ring is full"

static int xadisk_get_ready(int thread_model)
{
    (void)thread_model;
    struct stat st;
    if (image_path && stat(image_path, &st) == 0)
        image_size = st.st_size;
    if (tap_ring_init(&ring, (uint64_t)ring_bytes, lossless) < 0) {
        nbdkit_error("cannot allocate the %" PRIi64 "-byte ring", ring_bytes);
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(events_path) >= sizeof(sa.sun_path)) {
        nbdkit_error("events socket path too long: %s", events_path);
        return -1;
    }
    strcpy(sa.sun_path, events_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd < 0) {
        nbdkit_error("socket: %m");
        return -1;
    }
    unlink(events_path); /* a stale socket from a previous tap */
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 8) < 0) {
        nbdkit_error("cannot listen on %s: %m", events_path);
        return -1;
    }
    return 0;
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static int started_subscribers(void)
{
    int n = 0;
    for (int i = 0; i < nsubs; i++)
        n += subs[i].first_seq != 0;
    return n;
}

/* Safe while the shipper holds a span: the ring discards on release. */
static void drop_subscriber(int i)
{
    close(subs[i].fd);
    subs[i] = subs[--nsubs];
    if (started_subscribers() == 0)
        tap_ring_stop(&ring);
}

static void accept_subscribers(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (nsubs == MAX_SUBSCRIBERS) {
            close(fd);
            continue;
        }
        int sndbuf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        subs[nsubs++] = (struct subscriber){.fd = fd, .first_seq = 0};
    }
}

static bool send_hello(int fd, uint64_t first_seq)
{
    size_t plen = image_path ? strlen(image_path) + 1 : 1;
    size_t frame = XDP_HDR_SIZE + sizeof(struct xdp_hello) + plen;
    uint8_t *buf = calloc(1, xdp_pad8((uint32_t)frame));
    if (!buf)
        return false;
    pthread_mutex_lock(&ring.lock);
    uint64_t dropped_total = ring.dropped_total;
    pthread_mutex_unlock(&ring.lock);
    struct xdp_hdr h = {.magic = XDP_MAGIC, .type = XDP_HELLO, .seq = first_seq - 1,
                        .payload_len = (uint32_t)(sizeof(struct xdp_hello) + plen)};
    struct xdp_hello hello = {.version = XDP_VERSION,
                              .flags = lossless ? XDP_HELLO_LOSSLESS : 0,
                              .image_size = image_size < 0 ? 0 : (uint64_t)image_size,
                              .ring_bytes = ring.cap, .dropped_total = dropped_total};
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + XDP_HDR_SIZE, &hello, sizeof(hello));
    if (image_path)
        memcpy(buf + XDP_HDR_SIZE + sizeof(hello), image_path, plen);
    bool ok = send_all(fd, buf, xdp_pad8((uint32_t)frame));
    free(buf);
    return ok;
}

/* Start recording for those who joined: READY goes into the ring (so it
 * follows everything queued for the others), HELLO straight to the socket
 * (so it comes first: only this thread sends). */
static void start_subscribers(void)
{
    for (int i = nsubs - 1; i >= 0; i--) {
        if (subs[i].first_seq)
            continue;
        uint64_t seq = tap_ring_start(&ring);
        if (!seq)
            return; /* no room for READY now: after the next release */
        subs[i].first_seq = seq;
        if (!send_hello(subs[i].fd, seq))
            drop_subscriber(i);
        else
            nbdkit_debug("xadisk: monitor subscribed (%d now)", nsubs);
    }
}

/* A subscriber that hung up (or sent anything: the protocol is one-way). */
static void reap_subscribers(void)
{
    struct pollfd p[MAX_SUBSCRIBERS];
    for (int i = 0; i < nsubs; i++)
        p[i] = (struct pollfd){.fd = subs[i].fd, .events = POLLIN | POLLRDHUP};
    if (poll(p, (nfds_t)nsubs, 0) <= 0)
        return;
    for (int i = nsubs - 1; i >= 0; i--)
        if (p[i].revents)
            drop_subscriber(i);
}

static void ship(const uint8_t *span, size_t n)
{
    for (int i = nsubs - 1; i >= 0; i--) {
        if (!subs[i].first_seq)
            continue; /* not started yet */
        /* skip frames queued before this subscriber joined */
        size_t off = 0;
        while (off < n) {
            const struct xdp_hdr *h = (const struct xdp_hdr *)(span + off);
            if (h->seq >= subs[i].first_seq)
                break;
            off += XDP_HDR_SIZE + xdp_pad8(h->payload_len);
        }
        if (off < n && !send_all(subs[i].fd, span + off, n - off))
            drop_subscriber(i);
    }
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *shipper_main(void *arg)
{
    (void)arg;
    int64_t last_housekeeping = 0;
    while (!atomic_load(&stopping)) {
        int64_t now = monotonic_ms();
        if (now - last_housekeeping >= HOUSEKEEPING_MS) {
            accept_subscribers();
            if (nsubs)
                reap_subscribers();
            start_subscribers();
            last_housekeeping = now;
        }
        const uint8_t *span;
        size_t n = tap_ring_peek(&ring, &span, SEND_CHUNK, 50);
        if (n) {
            ship(span, n);
            tap_ring_release(&ring, n);
            if (n < SEND_CHUNK / 2) {
                struct timespec pause = {0, BATCH_PAUSE_NS};
                nanosleep(&pause, NULL);
            }
        }
    }
    return NULL;
}

static int xadisk_after_fork(nbdkit_backend *backend)
{
    (void)backend;
    int e = pthread_create(&shipper, NULL, shipper_main, NULL);
    if (e) {
        nbdkit_error("cannot start the shipping thread: %s", strerror(e));
        return -1;
    }
    shipper_started = true;
    return 0;
}

static void xadisk_cleanup(nbdkit_backend *backend)
{
    (void)backend;
    atomic_store(&stopping, true);
    tap_ring_close(&ring);
    if (shipper_started)
        pthread_join(shipper, NULL);
    shipper_started = false;
    while (nsubs)
        drop_subscriber(nsubs - 1);
    if (listen_fd >= 0) {
        close(listen_fd);
        unlink(events_path);
        listen_fd = -1;
    }
    nbdkit_debug("xadisk: %" PRIu64 " records, %" PRIu64 " dropped", ring.records_total,
                 ring.dropped_total);
    tap_ring_destroy(&ring);
}

/* Requests larger than a frame's 32-bit length never come from NBD (32 MiB max). */
static int xadisk_pwrite(nbdkit_next *next, void *handle, const void *buf, uint32_t count,
                         uint64_t offset, uint32_t flags, int *err)
{
    (void)handle;
    int r = next->pwrite(next, buf, count, offset, flags, err);
    if (r != 0)
        return r;
    /* A frame must fit in the ring with room to spare (a lossless writer
     * waits for room, which never comes for a frame larger than the ring):
     * large requests go out as several WRITE frames of at most a quarter of
     * the ring, 4 KiB-aligned. */
    uint64_t piece = (ring.cap / 4) & ~(uint64_t)4095;
    if (piece < 4096)
        piece = 4096;
    const uint8_t *p = buf;
    uint16_t fua = (flags & NBDKIT_FLAG_FUA) ? XDP_F_FUA : 0;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < piece ? count - done : (uint32_t)piece;
        tap_ring_put(&ring, XDP_WRITE, fua, offset + done, n, p + done, n);
        done += n;
    }
    return 0;
}

static int xadisk_trim(nbdkit_next *next, void *handle, uint32_t count, uint64_t offset,
                       uint32_t flags, int *err)
{
    (void)handle;
    int r = next->trim(next, count, offset, flags, err);
    if (r == 0)
        tap_ring_put(&ring, XDP_TRIM, (flags & NBDKIT_FLAG_FUA) ? XDP_F_FUA : 0, offset, count,
                     NULL, 0);
    return r;
}

static int xadisk_zero(nbdkit_next *next, void *handle, uint32_t count, uint64_t offset,
                       uint32_t flags, int *err)
{
    (void)handle;
    int r = next->zero(next, count, offset, flags, err);
    if (r == 0)
        tap_ring_put(&ring, XDP_ZERO, (flags & NBDKIT_FLAG_FUA) ? XDP_F_FUA : 0, offset, count,
                     NULL, 0);
    return r;
}

static int xadisk_flush(nbdkit_next *next, void *handle, uint32_t flags, int *err)
{
    (void)handle;
    int r = next->flush(next, flags, err);
    if (r == 0)
        tap_ring_put(&ring, XDP_FLUSH, 0, 0, 0, NULL, 0);
    return r;
}

static struct nbdkit_filter filter = {
    .name = "xadisk",
    .longname = "xenaccess disk tap",
    .unload = xadisk_unload,
    .config = xadisk_config,
    .config_complete = xadisk_config_complete,
    .config_help = xadisk_config_help,
    .get_ready = xadisk_get_ready,
    .after_fork = xadisk_after_fork,
    .cleanup = xadisk_cleanup,
    .pwrite = xadisk_pwrite,
    .trim = xadisk_trim,
    .zero = xadisk_zero,
    .flush = xadisk_flush,
};

/* The registration macro defines this with no declaration before it. */
struct nbdkit_filter *filter_init(void);
NBDKIT_REGISTER_FILTER(filter)
