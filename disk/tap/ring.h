/*
 * ring.h -- the tap's bounded, pre-allocated record ring.
 *
 * Producers (nbdkit request threads) append frames in wire format
 * (disk/proto.h); one consumer (the shipping thread) takes contiguous spans
 * and releases them once sent.  A producer never blocks unless the ring is in
 * lossless mode: when a frame does not fit it is dropped and counted, and the
 * next frame that fits is preceded by an XDP_RESYNC frame carrying the count
 * (or, when nothing follows, the consumer puts the RESYNC in itself).
 *
 * Accounting: `head` is moved only by storing a frame, `tail` only by the
 * consumer (peek steps over filler, release frees what peek handed out).
 * Stopping the recording while the consumer holds a span does not move the
 * tail: the discard is applied when the span is released.  The invariants
 * (tail <= head, head - tail <= cap, held <= head - tail, frames well formed)
 * are asserted in builds without NDEBUG.
 */
#ifndef XADISK_TAP_RING_H
#define XADISK_TAP_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tap_ring {
    pthread_mutex_t lock;
    pthread_cond_t space; /* lossless producers wait here */
    pthread_cond_t data;  /* the consumer waits here */
    uint8_t *buf;
    uint64_t cap;  /* bytes, multiple of 8 */
    uint64_t head; /* absolute byte positions; used = head - tail */
    uint64_t tail;
    uint64_t held;       /* bytes handed out by peek and not yet released */
    uint64_t discard_to; /* stopped recording: drop up to here once released */
    uint64_t next_seq;
    uint64_t dropped_pending; /* dropped since the last RESYNC frame */
    uint64_t dropped_total;
    uint64_t records_total;
    bool lossless;
    bool consumer_waiting;
    bool closed;
    atomic_bool active; /* record only while someone listens */
};

/* Returns 0 or -errno. cap is rounded down to a multiple of 8 (min 4 KiB). */
int tap_ring_init(struct tap_ring *r, uint64_t cap, bool lossless);
void tap_ring_destroy(struct tap_ring *r);

/* Append one record. Returns 1 if stored, 0 if dropped or inactive. */
int tap_ring_put(struct tap_ring *r, uint16_t type, uint16_t flags, uint64_t offset,
                 uint32_t length, const void *data, uint32_t data_len);

/*
 * Consumer only.  Wait up to timeout_ms for data; return a contiguous span of
 * whole frames starting at the tail (at most max bytes unless the first frame
 * is bigger).  Returns the span length (0 on timeout/closed); *out points
 * into the ring.  The span stays untouched until tap_ring_release(), which
 * must be given exactly the length peek returned; one span at a time.
 */
size_t tap_ring_peek(struct tap_ring *r, const uint8_t **out, size_t max, int timeout_ms);
void tap_ring_release(struct tap_ring *r, size_t n);

/*
 * Consumer only: a subscriber joins.  Starts recording and queues an
 * XDP_READY frame; the subscriber gets the frames from that one on.
 * Returns the READY frame's seq, or 0 when there is no room for it now
 * (try again after a release).
 */
uint64_t tap_ring_start(struct tap_ring *r);

/* Stop recording (nobody listens). Queued records are discarded: at once, or
 * when the consumer releases the span it holds. */
void tap_ring_stop(struct tap_ring *r);
bool tap_ring_active(const struct tap_ring *r);
void tap_ring_close(struct tap_ring *r); /* wake everyone; producers stop waiting */

#endif
