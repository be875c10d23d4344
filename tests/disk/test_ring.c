/*
 * test_ring.c -- the tap's record ring: frames come out in order and intact
 * across wrap-around; a full ring drops and reports the count in a RESYNC
 * frame placed where the gap is; lossless mode waits instead of dropping;
 * nothing is recorded while inactive.  Also prints the cost of one 4 KiB
 * and one 64 KiB record (the tap's added work on the guest's write path).
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
            if (h.type == XDP_RESYNC) {
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
    tap_ring_set_active(&r, true);
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
    CHECK(dropped == 0, "no RESYNC until a record fits again");
    put(&r, i++, buf); /* fits now: preceded by RESYNC(dropped) */
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
            tap_ring_set_active(&r, true);
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
    test_order_wrap_drop();
    test_lossless_and_cost();
    if (check_failures) {
        fprintf(stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
