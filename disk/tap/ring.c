/* ring.c -- see ring.h. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/proto.h"

int tap_ring_init(struct tap_ring *r, uint64_t cap, bool lossless)
{
    memset(r, 0, sizeof(*r));
    cap &= ~(uint64_t)7;
    if (cap < 4096)
        cap = 4096;
    r->buf = malloc(cap);
    if (!r->buf)
        return -ENOMEM;
    /* touch every page now: the guest's I/O path must not fault them in */
    memset(r->buf, 0, cap);
    r->cap = cap;
    r->lossless = lossless;
    r->next_seq = 1;
    atomic_init(&r->active, false);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->space, NULL);
    pthread_cond_init(&r->data, NULL);
    return 0;
}

void tap_ring_destroy(struct tap_ring *r)
{
    if (!r->buf)
        return;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->space);
    pthread_cond_destroy(&r->data);
    free(r->buf);
    r->buf = NULL;
}

/* Bytes to skip at the end of the ring before a frame of `need` bytes fits. */
static uint64_t wrap_skip(const struct tap_ring *r, uint64_t need)
{
    uint64_t pos = r->head % r->cap;
    return r->cap - pos < need ? r->cap - pos : 0;
}

/* Does a frame of `frame` bytes (plus a pending RESYNC frame) fit now? */
static bool fits(const struct tap_ring *r, uint64_t frame)
{
    uint64_t h = r->head;
    if (r->dropped_pending) {
        uint64_t left = r->cap - h % r->cap;
        h += (left < XDP_HDR_SIZE ? left : 0) + XDP_HDR_SIZE;
    }
    uint64_t left = r->cap - h % r->cap;
    h += (left < frame ? left : 0) + frame;
    return h - r->tail <= r->cap;
}

static void write_frame(struct tap_ring *r, uint16_t type, uint16_t flags, uint64_t offset,
                        uint32_t length, const void *data, uint32_t data_len)
{
    uint64_t frame = XDP_HDR_SIZE + xdp_pad8(data_len);
    uint64_t skip = wrap_skip(r, frame);
    if (skip) {
        if (skip >= XDP_HDR_SIZE) {
            struct xdp_hdr pad = {.magic = XDP_MAGIC, .type = XDP_PAD};
            memcpy(r->buf + r->head % r->cap, &pad, sizeof(pad));
        }
        r->head += skip;
    }
    uint8_t *p = r->buf + r->head % r->cap;
    struct xdp_hdr h = {
        .magic = XDP_MAGIC, .type = type, .flags = flags, .seq = r->next_seq++,
        .offset = offset, .length = length, .payload_len = data_len,
    };
    memcpy(p, &h, sizeof(h));
    if (data_len) {
        memcpy(p + XDP_HDR_SIZE, data, data_len);
        memset(p + XDP_HDR_SIZE + data_len, 0, xdp_pad8(data_len) - data_len);
    }
    r->head += frame;
    r->records_total++;
}

int tap_ring_put(struct tap_ring *r, uint16_t type, uint16_t flags, uint64_t offset,
                 uint32_t length, const void *data, uint32_t data_len)
{
    if (!atomic_load_explicit(&r->active, memory_order_relaxed))
        return 0;
    uint64_t frame = XDP_HDR_SIZE + xdp_pad8(data_len);
    pthread_mutex_lock(&r->lock);
    for (;;) {
        if (!atomic_load_explicit(&r->active, memory_order_relaxed) || r->closed) {
            pthread_mutex_unlock(&r->lock);
            return 0;
        }
        if (frame + XDP_HDR_SIZE <= r->cap / 2 && fits(r, frame))
            break;
        if (r->lossless && frame + XDP_HDR_SIZE <= r->cap / 2) {
            pthread_cond_wait(&r->space, &r->lock);
            continue;
        }
        r->dropped_pending++;
        r->dropped_total++;
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    if (r->dropped_pending) {
        write_frame(r, XDP_RESYNC, 0, r->dropped_pending, 0, NULL, 0);
        r->dropped_pending = 0;
    }
    write_frame(r, type, flags, offset, length, data, data_len);
    bool wake = r->consumer_waiting;
    pthread_mutex_unlock(&r->lock);
    if (wake)
        pthread_cond_signal(&r->data);
    return 1;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

size_t tap_ring_peek(struct tap_ring *r, const uint8_t **out, size_t max, int timeout_ms)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&r->lock);
    for (;;) {
        /* step over the filler at the end of the ring */
        while (r->head != r->tail) {
            uint64_t pos = r->tail % r->cap;
            const struct xdp_hdr *h = (const struct xdp_hdr *)(r->buf + pos);
            if (r->cap - pos < XDP_HDR_SIZE || h->type == XDP_PAD)
                r->tail += r->cap - pos;
            else
                break;
        }
        if (r->head != r->tail || r->closed)
            break;
        r->consumer_waiting = true;
        int rc = pthread_cond_timedwait(&r->data, &r->lock, &ts);
        r->consumer_waiting = false;
        if (rc == ETIMEDOUT)
            break;
    }
    size_t n = 0;
    uint64_t pos = r->tail % r->cap;
    while (r->tail + n != r->head) {
        uint64_t p = pos + n;
        if (p >= r->cap || r->cap - p < XDP_HDR_SIZE)
            break;
        const struct xdp_hdr *h = (const struct xdp_hdr *)(r->buf + p);
        if (h->type == XDP_PAD)
            break;
        size_t frame = XDP_HDR_SIZE + xdp_pad8(h->payload_len);
        if (n && n + frame > max)
            break;
        n += frame;
    }
    *out = r->buf + pos;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void tap_ring_release(struct tap_ring *r, size_t n)
{
    pthread_mutex_lock(&r->lock);
    r->tail += n;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space);
}

uint64_t tap_ring_set_active(struct tap_ring *r, bool on)
{
    pthread_mutex_lock(&r->lock);
    if (!on) {
        r->tail = r->head;
        r->dropped_pending = 0;
    }
    atomic_store(&r->active, on);
    uint64_t seq = r->next_seq;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space);
    return seq;
}

void tap_ring_close(struct tap_ring *r)
{
    pthread_mutex_lock(&r->lock);
    r->closed = true;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space);
    pthread_cond_broadcast(&r->data);
}
