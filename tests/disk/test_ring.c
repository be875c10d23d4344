/*
 * test_ring.c -- the tap's record ring: frames come out in order and intact
 * across wrap-around; a full ring drops and reports the count in a RESYNC
 * frame placed where the gap is; lossless mode waits instead of dropping;
 * nothing is recorded while inactive; stopping while the consumer holds a
 * span (issue 21) leaves the accounting intact; random interleavings of all
 * operations keep the invariants.  Also prints the cost of one 4 KiB and one
 * 64 KiB record (the tap's added work on the guest's write path).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/proto.h"
#include "disk/tap/ring.h"
#include "check.h"

/* Drain everything; verify frames; return the number of WRITE frames, and
 * the total dropped reported by RESYNC frames. */
static size_t drain(struct tap_ring *r, uint64_t *next_off, uint64_t *dropped, uint64_t *last_seq)
{
    size_t n = 0;
    for (;;) {
        const uint8_t *p;
        size_t len = tap_ring_peek(r, &p, 1 << 20, 0);
        if (!len)
            return n;
        size_t off = 0;
        while (off < len) {
            struct xdp_hdr h;
            memcpy(&h, p + off, sizeof(h));
            CHECK(h.magic == XDP_MAGIC, "magic at %zu", off);
            CHECK(h.seq == *last_seq + 1, "seq %llu after %llu", (unsigned long long)h.seq,
                  (unsigned long long)*last_seq);
            *last_seq = h.seq;
            if (h.type == XDP_READY)
                ; /* a subscriber joined */
            else if (h.type == XDP_RESYNC) {
                *dropped += h.offset;
                *next_off += h.offset * 4096; /* the writer advances 4 KiB per record */
            } else {
                CHECK(h.type == XDP_WRITE, "type %u", h.type);
                CHECK(h.offset == *next_off, "offset %llu want %llu", (unsigned long long)h.offset,
                      (unsigned long long)*next_off);
                const uint8_t *d = p + off + XDP_HDR_SIZE;
                CHECK(h.payload_len == 4096 + (h.offset / 4096) % 8, "payload %u", h.payload_len);
                CHECK(d[0] == (uint8_t)(h.offset / 4096) && d[h.payload_len - 1] == 0xee,
                      "data of record at %llu", (unsigned long long)h.offset);
                *next_off += 4096;
                n++;
            }
            off += XDP_HDR_SIZE + xdp_pad8(h.payload_len);
        }
        tap_ring_release(r, len);
    }
}

/* The last subscriber goes away while the shipper holds a span (its send
 * failed): the shipper deactivates the ring, then releases the span.  After
 * a new subscriber activates it again, the next record must be stored and
 * come out intact, alone, and the ring must not claim more bytes than it
 * holds.  (Issue 21: the release moved the tail past the head; lossy rings
 * then dropped every record without a RESYNC, lossless writers waited for
 * ever, and the shipper sent stale ring bytes as frames.) */
struct blocked_put {
    struct tap_ring *r;
    atomic_int done;
};

static void *put_one(void *argp)
{
    struct blocked_put *b = argp;
    uint8_t data[512];
    memset(data, 0x85, sizeof(data));
    tap_ring_put(b->r, XDP_WRITE, 0, 1 << 20, sizeof(data), data, sizeof(data));
    atomic_store(&b->done, 1);
    return NULL;
}

static void test_deactivate_while_held(void)
{
    for (int lossless = 0; lossless <= 1; lossless++) {
        struct tap_ring r;
        CHECK(tap_ring_init(&r, 64 * 1024, lossless) == 0, "init");
        uint8_t data[4096];
        memset(data, 0x85, sizeof(data));
        CHECK(tap_ring_start(&r) == 1, "READY is the first frame");
        for (int i = 0; i < 6; i++)
            tap_ring_put(&r, XDP_WRITE, 0, (uint64_t)i * 4096, 4096, data, 4096);
        const uint8_t *span;
        size_t n = tap_ring_peek(&r, &span, 1 << 20, 0);
        CHECK(n == XDP_HDR_SIZE + 6 * (XDP_HDR_SIZE + 4096), "peeked %zu", n);
        tap_ring_stop(&r); /* what dropping the last subscriber does */
        tap_ring_release(&r, n);
        pthread_mutex_lock(&r.lock);
        uint64_t head = r.head, tail = r.tail;
        pthread_mutex_unlock(&r.lock);
        CHECK(tail <= head, "%s: tail %llu past head %llu", lossless ? "lossless" : "lossy",
              (unsigned long long)tail, (unsigned long long)head);
        uint64_t ready = tap_ring_start(&r); /* a new subscriber */
        CHECK(ready == 8, "READY seq %llu", (unsigned long long)ready);
        /* the put runs in a thread: a lossless put on a broken ring never returns */
        struct blocked_put b = {.r = &r};
        pthread_t t;
        pthread_create(&t, NULL, put_one, &b);
        for (int ms = 0; ms < 2000 && !atomic_load(&b.done); ms++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        CHECK(atomic_load(&b.done), "%s: the put after re-activation waited for ever",
              lossless ? "lossless" : "lossy");
        if (!atomic_load(&b.done))
            tap_ring_close(&r);
        pthread_join(t, NULL);
        n = tap_ring_peek(&r, &span, 1 << 20, 0);
        CHECK(n == 2 * XDP_HDR_SIZE + 512,
              "%s: after re-activation peeked %zu bytes, want READY and one WRITE",
              lossless ? "lossless" : "lossy", n);
        if (n == 2 * XDP_HDR_SIZE + 512) {
            struct xdp_hdr h[2];
            memcpy(&h[0], span, sizeof(h[0]));
            memcpy(&h[1], span + XDP_HDR_SIZE, sizeof(h[1]));
            CHECK(h[0].magic == XDP_MAGIC && h[0].type == XDP_READY && h[0].seq == ready,
                  "first frame after re-activation: magic %#x type %u", h[0].magic, h[0].type);
            CHECK(h[1].magic == XDP_MAGIC && h[1].type == XDP_WRITE && h[1].offset == 1 << 20 &&
                      h[1].seq == ready + 1,
                  "second frame after re-activation: magic %#x type %u", h[1].magic, h[1].type);
        }
        if (n)
            tap_ring_release(&r, n);
        tap_ring_destroy(&r);
    }
}

/* A lossless writer waiting for room returns as soon as the last subscriber
 * is dropped: it must never wait on a dead one. */
static void test_stop_frees_lossless_writer(void)
{
    struct tap_ring r;
    CHECK(tap_ring_init(&r, 64 * 1024, true) == 0, "init");
    tap_ring_start(&r);
    uint8_t data[4096];
    memset(data, 0x85, sizeof(data));
    for (int i = 0; i < 15; i++) /* 15 * 4128 + 32 bytes: the next one does not fit */
        CHECK(tap_ring_put(&r, XDP_WRITE, 0, 0, 4096, data, 4096) == 1, "put %d", i);
    const uint8_t *span;
    size_t n = tap_ring_peek(&r, &span, 1 << 20, 0); /* the shipper is sending this */
    struct blocked_put b = {.r = &r};
    pthread_t t;
    pthread_create(&t, NULL, put_one, &b);
    struct timespec ms50 = {0, 50000000};
    nanosleep(&ms50, NULL);
    tap_ring_stop(&r); /* the send failed: the subscriber is gone */
    for (int ms = 0; ms < 2000 && !atomic_load(&b.done); ms++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK(atomic_load(&b.done), "the lossless writer still waits after the stop");
    if (!atomic_load(&b.done))
        tap_ring_close(&r);
    pthread_join(t, NULL);
    tap_ring_release(&r, n);
    CHECK(tap_ring_peek(&r, &span, 1 << 20, 0) == 0, "frames left after the stop");
    CHECK(r.head == r.tail, "head %llu tail %llu", (unsigned long long)r.head,
          (unsigned long long)r.tail);
    tap_ring_destroy(&r);
}

/* Random interleavings of puts, peeks, releases, stops and starts in one
 * thread, checked the way a subscriber checks the stream: READY first, then
 * every frame well formed with seq +1 each, payloads intact, nothing at all
 * while nobody listens.  (The ring asserts its own invariants on top.) */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state % n;
}

static void test_random_interleavings(void)
{
    static uint8_t data[20000];
    memset(data, 0x85, sizeof(data));
    for (int lossless = 0; lossless <= 1; lossless++) {
        struct tap_ring r;
        CHECK(tap_ring_init(&r, 64 * 1024, lossless) == 0, "init");
        bool listening = false, held_before_stop = false;
        uint64_t expect_seq = 0; /* next seq the subscriber wants; 0: READY not seen */
        uint64_t first_seq = 0, frames = 0, spans = 0;
        const uint8_t *span = NULL;
        size_t held = 0;
        for (int step = 0; step < 200000 && !check_failures; step++) {
            uint64_t op = rnd(100);
            if (op < 55) {
                /* a lossless put must not block here: only if it fits */
                uint32_t len = (uint32_t)rnd(sizeof(data));
                pthread_mutex_lock(&r.lock);
                uint64_t free_bytes = r.cap - (r.head - r.tail);
                pthread_mutex_unlock(&r.lock);
                if (!lossless || free_bytes >= 2 * (XDP_HDR_SIZE + xdp_pad8(len)) + 2 * 32 + len)
                    tap_ring_put(&r, XDP_WRITE, 0, 4096 * rnd(1000), len, data, len);
            } else if (op < 80 && !held) {
                held = tap_ring_peek(&r, &span, 1 + rnd(40000), 0);
                if (!held)
                    continue;
                spans++;
                CHECK(listening || held_before_stop, "frames while nobody listens");
                for (size_t off = 0; off < held;) {
                    struct xdp_hdr h;
                    memcpy(&h, span + off, sizeof(h));
                    CHECK(h.magic == XDP_MAGIC, "magic %#x at step %d", h.magic, step);
                    if (h.magic != XDP_MAGIC)
                        break;
                    size_t frame = XDP_HDR_SIZE + xdp_pad8(h.payload_len);
                    CHECK(off + frame <= held, "frame past the span");
                    if (listening && !held_before_stop && h.seq >= first_seq) {
                        if (!expect_seq) {
                            CHECK(h.type == XDP_READY && h.seq == first_seq, "want READY first");
                        } else {
                            CHECK(h.seq == expect_seq, "seq %llu want %llu",
                                  (unsigned long long)h.seq, (unsigned long long)expect_seq);
                        }
                        expect_seq = h.seq + 1;
                        frames++;
                    }
                    if (h.type == XDP_WRITE) {
                        const uint8_t *d = span + off + XDP_HDR_SIZE;
                        CHECK(h.payload_len == h.length && (h.length == 0 ||
                              (d[0] == 0x85 && d[h.length - 1] == 0x85)), "payload");
                    } else {
                        CHECK(h.type == XDP_READY || h.type == XDP_RESYNC, "type %u", h.type);
                    }
                    off += frame;
                }
            } else if (op < 92 && held) {
                tap_ring_release(&r, held);
                held = 0;
                held_before_stop = false;
            } else if (op < 95 && listening) {
                tap_ring_stop(&r);
                listening = false;
                held_before_stop = held != 0;
            } else if (op < 100 && !listening) {
                uint64_t seq = tap_ring_start(&r);
                if (seq) {
                    listening = true;
                    first_seq = seq;
                    expect_seq = 0;
                }
            }
            pthread_mutex_lock(&r.lock);
            CHECK(r.tail <= r.head && r.head - r.tail <= r.cap, "step %d: head %llu tail %llu",
                  step, (unsigned long long)r.head, (unsigned long long)r.tail);
            pthread_mutex_unlock(&r.lock);
        }
        CHECK(frames > 10000 && spans > 1000, "only %llu frames in %llu spans",
              (unsigned long long)frames, (unsigned long long)spans);
        tap_ring_destroy(&r);
    }
}

static void put(struct tap_ring *r, uint64_t i, uint8_t *buf)
{
    uint32_t len = 4096 + (uint32_t)(i % 8); /* odd sizes exercise the padding */
    buf[0] = (uint8_t)i;
    buf[len - 1] = 0xee;
    tap_ring_put(r, XDP_WRITE, 0, i * 4096, len, buf, len);
}

static void test_order_wrap_drop(void)
{
    struct tap_ring r;
    CHECK(tap_ring_init(&r, 64 * 1024, false) == 0, "init");
    uint8_t buf[8192] = {0};
    put(&r, 0, buf);
    const uint8_t *p;
    CHECK(tap_ring_peek(&r, &p, 1 << 20, 0) == 0, "inactive ring recorded something");
    tap_ring_start(&r);
    uint64_t next = 0, dropped = 0, last = 0, got = 0;
    /* many rounds of a few records: wraps the 64 KiB ring many times */
    uint64_t i = 0;
    for (int round = 0; round < 500; round++) {
        for (int k = 0; k < 1 + round % 7; k++)
            put(&r, i++, buf);
        got += drain(&r, &next, &dropped, &last);
    }
    CHECK(got == i && dropped == 0, "wrap: got %llu of %llu, dropped %llu",
          (unsigned long long)got, (unsigned long long)i, (unsigned long long)dropped);
    /* overflow: 40 records into a 64 KiB ring without draining */
    uint64_t first = i;
    for (int k = 0; k < 40; k++)
        put(&r, i++, buf);
    got = drain(&r, &next, &dropped, &last);
    CHECK(got > 5 && got < 20, "overflow kept %llu", (unsigned long long)got);
    /* the RESYNC comes once the ring is drained, even with no record after it */
    CHECK(dropped == 40 - got, "dropped %llu, kept %llu of 40", (unsigned long long)dropped,
          (unsigned long long)got);
    put(&r, i++, buf);
    got += drain(&r, &next, &dropped, &last);
    CHECK(got + dropped == i - first, "kept %llu + dropped %llu != %llu", (unsigned long long)got,
          (unsigned long long)dropped, (unsigned long long)(i - first));
    CHECK(r.dropped_total == dropped, "dropped_total %llu", (unsigned long long)r.dropped_total);
    /* a record larger than half the ring is dropped, never stored */
    static uint8_t huge[40000];
    tap_ring_put(&r, XDP_WRITE, 0, 0, sizeof(huge), huge, sizeof(huge));
    CHECK(r.dropped_total == dropped + 1, "huge record dropped");
    tap_ring_destroy(&r);
}

struct consumer_arg {
    struct tap_ring *r;
    atomic_ullong records;
    atomic_int stop;
};

static void *consumer(void *argp)
{
    struct consumer_arg *a = argp;
    while (!a->stop) {
        const uint8_t *p;
        size_t len = tap_ring_peek(a->r, &p, 1 << 20, 10);
        size_t off = 0;
        while (off < len) {
            struct xdp_hdr h;
            memcpy(&h, p + off, sizeof(h));
            a->records += h.type == XDP_WRITE;
            off += XDP_HDR_SIZE + xdp_pad8(h.payload_len);
        }
        if (len)
            tap_ring_release(a->r, len);
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_lossless_and_cost(void)
{
    for (int lossless = 1; lossless >= 0; lossless--) {
        for (uint32_t size = 4096; size <= 65536; size *= 16) {
            struct tap_ring r;
            CHECK(tap_ring_init(&r, 8 << 20, lossless) == 0, "init");
            tap_ring_start(&r);
            struct consumer_arg a = {.r = &r};
            pthread_t t;
            pthread_create(&t, NULL, consumer, &a);
            uint8_t *buf = calloc(1, size);
            int n = size == 4096 ? 200000 : 20000;
            double t0 = now();
            for (int i = 0; i < n; i++)
                tap_ring_put(&r, XDP_WRITE, 0, (uint64_t)i * size, size, buf, size);
            double dt = now() - t0;
            for (;;) { /* wait until the consumer saw everything that was kept */
                pthread_mutex_lock(&r.lock);
                uint64_t dropped = r.dropped_total;
                pthread_mutex_unlock(&r.lock);
                if (atomic_load(&a.records) + dropped >= (uint64_t)n)
                    break;
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
            atomic_store(&a.stop, 1);
            pthread_join(t, NULL);
            if (lossless)
                CHECK(atomic_load(&a.records) == (uint64_t)n && r.dropped_total == 0,
                      "lossless lost records: %llu of %d", (unsigned long long)atomic_load(&a.records), n);
            printf("ring %s %5u-byte records: %.0f ns each (%llu shipped, %llu dropped)\n",
                   lossless ? "lossless" : "lossy   ", size, dt / n * 1e9,
                   (unsigned long long)atomic_load(&a.records), (unsigned long long)r.dropped_total);
            free(buf);
            tap_ring_destroy(&r);
        }
    }
}

int main(void)
{
    test_deactivate_while_held();
    test_stop_frees_lossless_writer();
    test_random_interleavings();
    test_order_wrap_drop();
    test_lossless_and_cost();
    if (check_failures) {
        fprintf(stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
