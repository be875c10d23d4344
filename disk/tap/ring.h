/*
 * ring.h -- the tap's bounded, pre-allocated record ring.
 *
 * Producers (nbdkit request threads) append frames in wire format
 * (disk/proto.h); one consumer (the shipping thread) takes contiguous spans
 * and releases them once sent.  A producer never blocks unless the ring is in
 * lossless mode: when a frame does not fit it is dropped and counted, and the
 * next frame that fits is preceded by an XDP_RESYNC frame carrying the count.
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
 * Wait up to timeout_ms for data; return a contiguous span of whole frames
 * starting at the tail (at most max bytes unless the first frame is bigger).
 * Returns the span length (0 on timeout/closed); *out points into the ring.
 */
size_t tap_ring_peek(struct tap_ring *r, const uint8_t **out, size_t max, int timeout_ms);
void tap_ring_release(struct tap_ring *r, size_t n);

/* Start/stop recording. Stopping discards what is queued. Returns the next seq. */
uint64_t tap_ring_set_active(struct tap_ring *r, bool on);
void tap_ring_close(struct tap_ring *r); /* wake everyone; producers stop waiting */

#endif
