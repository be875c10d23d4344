/*
 * tap_subscriber.c -- a bare subscriber of the disk tap for tap_stress.py.
 *
 *   tap_subscriber EVENTS_SOCKET [REPORT_FROM]
 *
 * Connects, checks every frame the tap sends and prints on stdout:
 *   "ready SEQ"          once recording has begun for it (after READY)
 *   "write OFFSET LEN"   for each WRITE at or above REPORT_FROM (default 0)
 *   "resync N"           for each RESYNC (N records dropped)
 *   "BAD what"           for the first frame that is not possible, then exits 1
 * A frame is possible when it has the magic, a known type, the sequence
 * number after the previous one, lengths that fit its type, and (the writer
 * writes only the byte 0x85) a payload of 0x85 bytes: so bytes the writer
 * wrote that reach us as a frame header are caught.
 * On SIGUSR1 it stops reading for good (a stalled subscriber: the tap's send
 * blocks), so that it can be killed with data in flight.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "disk/proto.h"

#define PATTERN 0x85

static volatile sig_atomic_t stall;

static void on_usr1(int sig)
{
    (void)sig;
    stall = 1;
}

__attribute__((format(printf, 1, 2)))
static _Noreturn void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("BAD ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    exit(1);
}

/* Read exactly n bytes; exit quietly when the tap hangs up. */
static void read_all(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        while (stall)
            pause();
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            exit(0);
        if (r < 0) {
            fprintf(stderr, "tap_subscriber: recv: %s\n", strerror(errno));
            exit(2);
        }
        p += r;
        n -= (size_t)r;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: tap_subscriber EVENTS_SOCKET [REPORT_FROM]\n");
        return 2;
    }
    uint64_t report_from = argc == 3 ? strtoull(argv[2], NULL, 0) : 0;
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(addr.sun_path))
        return 2;
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "tap_subscriber: cannot connect to %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    static uint8_t hello_buf[8192];
    struct xdp_hdr h;
    read_all(fd, &h, sizeof(h));
    if (h.magic != XDP_MAGIC || h.type != XDP_HELLO || h.payload_len < sizeof(struct xdp_hello) ||
        h.payload_len > 8192)
        bad("first frame: magic %#x type %u payload %u", h.magic, h.type, h.payload_len);
    read_all(fd, hello_buf, xdp_pad8(h.payload_len));
    struct xdp_hello hello;
    memcpy(&hello, hello_buf, sizeof(hello));
    uint64_t next = h.seq + 1;
    bool ready = false;
    /* protocol 1 had no READY: recording had begun at HELLO (kept so that the
     * stress test can be pointed at an old tap and show its fault) */
    if (hello.version == 1) {
        ready = true;
        printf("ready %llu\n", (unsigned long long)next);
        fflush(stdout);
    } else if (hello.version != XDP_VERSION) {
        bad("HELLO version %u", hello.version);
    }
    uint64_t max_payload = hello.ring_bytes / 2; /* no frame takes more than half the ring */
    if (max_payload < 4096 || max_payload > XDP_MAX_PAYLOAD)
        bad("HELLO says the ring has %llu bytes", (unsigned long long)hello.ring_bytes);
    uint8_t *payload = malloc(max_payload + 8);
    if (!payload)
        return 2;
    for (;;) {
        read_all(fd, &h, sizeof(h));
        if (h.magic != XDP_MAGIC)
            bad("magic %#x at seq %llu", h.magic, (unsigned long long)next);
        if (h.seq != next)
            bad("seq %llu where %llu was due", (unsigned long long)h.seq,
                (unsigned long long)next);
        next++;
        bool lengths_ok;
        switch (h.type) {
        case XDP_WRITE: lengths_ok = h.payload_len == h.length && h.length <= max_payload; break;
        case XDP_TRIM:
        case XDP_ZERO: lengths_ok = h.payload_len == 0; break;
        case XDP_FLUSH:
        case XDP_RESYNC:
        case XDP_READY: lengths_ok = h.payload_len == 0 && h.length == 0; break;
        default: bad("type %u at seq %llu", h.type, (unsigned long long)h.seq);
        }
        if (!lengths_ok)
            bad("type %u with length %u and payload %u", h.type, h.length, h.payload_len);
        if (!ready) {
            if (h.type != XDP_READY)
                bad("type %u where READY was due", h.type);
            ready = true;
            printf("ready %llu\n", (unsigned long long)h.seq);
            fflush(stdout);
            continue;
        }
        if (h.type == XDP_RESYNC) {
            printf("resync %llu\n", (unsigned long long)h.offset);
            fflush(stdout);
        }
        if (h.type != XDP_WRITE)
            continue;
        read_all(fd, payload, xdp_pad8(h.payload_len));
        for (uint32_t i = 0; i < h.length; i++)
            if (payload[i] != PATTERN)
                bad("byte %#x at %u in the WRITE at %llu", payload[i], i,
                    (unsigned long long)h.offset);
        if (h.offset >= report_from) {
            printf("write %llu %u\n", (unsigned long long)h.offset, h.length);
            fflush(stdout);
        }
    }
}
