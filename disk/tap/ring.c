/* ring.c -- see ring.h. */
#include "ring.h"

#include <assert.h>
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

/* ---- the only two places that move head and tail (lock held) ---- */

static void check_invariants(const struct tap_ring *r)
{
    assert(r->tail <= r->head);
    assert(r->head - r->tail <= r->cap);
    assert(r->held <= r->head - r->tail);
    assert(r->head % 8 == 0 && r->tail % 8 == 0);
    (void)r;
}

static void advance_head(struct tap_ring *r, uint64_t n)
{
    r->head += n;
    check_invariants(r);
}

static void advance_tail(struct tap_ring *r, uint64_t n)
{
    assert(n <= r->head - r->tail);
    r->tail += n;
    check_invariants(r);
}

/* ---- producers ---- */

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

/* Store one frame (the caller checked that it fits); returns its seq. */
static uint64_t write_frame(struct tap_ring *r, uint16_t type, uint16_t flags, uint64_t offset,
                            uint32_t length, const void *data, uint32_t data_len)
{
    uint64_t frame = XDP_HDR_SIZE + xdp_pad8(data_len);
    uint64_t skip = wrap_skip(r, frame);
    if (skip) {
        if (skip >= XDP_HDR_SIZE) {
            struct xdp_hdr pad = {.magic = XDP_MAGIC, .type = XDP_PAD};
            memcpy(r->buf + r->head % r->cap, &pad, sizeof(pad));
        }
        advance_head(r, skip);
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
    advance_head(r, frame);
    r->records_total++;
    return h.seq;
}

/* Records were dropped since the last RESYNC: say so before the next frame. */
static void write_pending_resync(struct tap_ring *r)
{
    if (r->dropped_pending) {
        write_frame(r, XDP_RESYNC, 0, r->dropped_pending, 0, NULL, 0);
        r->dropped_pending = 0;
    }
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
    write_pending_resync(r);
    write_frame(r, type, flags, offset, length, data, data_len);
    bool wake = r->consumer_waiting;
    pthread_mutex_unlock(&r->lock);
    if (wake)
        pthread_cond_signal(&r->data);
    return 1;
}

/* ---- the consumer ---- */

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

/* Step over the filler at the end of the ring. */
static void skip_filler(struct tap_ring *r)
{
    while (r->head != r->tail) {
        uint64_t pos = r->tail % r->cap;
        const struct xdp_hdr *h = (const struct xdp_hdr *)(r->buf + pos);
        if (r->cap - pos < XDP_HDR_SIZE || h->type == XDP_PAD)
            advance_tail(r, r->cap - pos);
        else
            break;
    }
}

size_t tap_ring_peek(struct tap_ring *r, const uint8_t **out, size_t max, int timeout_ms)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&r->lock);
    assert(r->held == 0); /* one span at a time */
    for (;;) {
        skip_filler(r);
        /* a drop with nothing after it: the RESYNC must not wait for the
         * next record (there may be none for a long time) */
        if (r->head == r->tail && r->dropped_pending && atomic_load(&r->active) &&
            fits(r, 0))
            write_pending_resync(r);
        if (r->head != r->tail || r->closed)
            break;
        r->consumer_waiting = true;
        int rc = pthread_cond_timedwait(&r->data, &r->lock, &ts);
        r->consumer_waiting = false;
        if (rc == ETIMEDOUT)
            break;
    }
    uint64_t n = 0;
    uint64_t pos = r->tail % r->cap;
    while (r->tail + n < r->head) {
        uint64_t p = pos + n;
        if (p >= r->cap || r->cap - p < XDP_HDR_SIZE)
            break;
        const struct xdp_hdr *h = (const struct xdp_hdr *)(r->buf + p);
        assert(h->magic == XDP_MAGIC); /* only whole frames lie between tail and head */
        if (h->type == XDP_PAD)
            break;
        uint64_t frame = XDP_HDR_SIZE + xdp_pad8(h->payload_len);
        assert(r->tail + n + frame <= r->head && p + frame <= r->cap);
        if (n && n + frame > max)
            break;
        n += frame;
    }
    r->held = n;
    check_invariants(r);
    *out = r->buf + pos;
    pthread_mutex_unlock(&r->lock);
    return (size_t)n;
}

/* Recording stopped while a span was held: drop what was queued then. */
static bool apply_discard(struct tap_ring *r)
{
    if (r->held || r->discard_to <= r->tail)
        return false;
    advance_tail(r, r->discard_to - r->tail);
    return true;
}

void tap_ring_release(struct tap_ring *r, size_t n)
{
    pthread_mutex_lock(&r->lock);
    assert(n == r->held); /* exactly the span peek handed out */
    if (n > r->held)      /* never free what was not handed out */
        n = (size_t)r->held;
    r->held = 0;
    advance_tail(r, n);
    apply_discard(r);
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space);
}

uint64_t tap_ring_start(struct tap_ring *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->closed || !fits(r, XDP_HDR_SIZE)) {
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    write_pending_resync(r);
    uint64_t seq = write_frame(r, XDP_READY, 0, 0, 0, NULL, 0);
    atomic_store(&r->active, true);
    bool wake = r->consumer_waiting;
    pthread_mutex_unlock(&r->lock);
    if (wake)
        pthread_cond_signal(&r->data);
    return seq;
}

void tap_ring_stop(struct tap_ring *r)
{
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->active, false);
    r->dropped_pending = 0;
    r->discard_to = r->head;
    apply_discard(r);
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space); /* lossless producers stop waiting */
}

bool tap_ring_active(const struct tap_ring *r)
{
    return atomic_load(&r->active);
}

void tap_ring_close(struct tap_ring *r)
{
    pthread_mutex_lock(&r->lock);
    r->closed = true;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->space);
    pthread_cond_broadcast(&r->data);
}
