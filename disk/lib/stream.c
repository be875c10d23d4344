/*
 * stream.c -- the connection to the tap and its framing: connect, read
 * into the buffer, check each frame (sequence, length, extent), HELLO and
 * READY, and hand records to the engine.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "disk/proto.h"
#include "handle.h"
#include "internal.h"

void xd_disconnect(struct xadisk *xd)
{
    if (xd->fd >= 0)
        close(xd->fd);
    xd->fd = -1;
    xd->connected = false;
    xd->have_hello = false;
    xd->have_ready = false;
    xd->rstart = xd->rlen = 0;
}

int xd_connect(struct xadisk *xd)
{
    xd->fd = xd_connect_unix(xd->event_socket);
    if (xd->fd < 0)
        return xd_fail(xd, XA_EIO, "cannot connect to the tap at %s: %s", xd->event_socket,
                    strerror(errno));
    xd->connected = true;
    xd->have_hello = false;
    xd->have_ready = false;
    xd->rstart = xd->rlen = 0;
    xd->last_data_ms = xd->connected_at_ms = xd_now_ms();
    return 0;
}

/* Read whatever is available (waiting up to timeout_ms). 1 = got data, 0 = timeout, <0 = EOF/error. */
int xd_fill(struct xadisk *xd, int timeout_ms)
{
    struct pollfd p = {.fd = xd->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : XA_EIO;
    if (r == 0)
        return 0;
    if (xd->rstart && xd->rstart == xd->rlen)
        xd->rstart = xd->rlen = 0;
    if (xd->rcap - xd->rlen < 65536) {
        if (xd->rstart) {
            memmove(xd->rbuf, xd->rbuf + xd->rstart, xd->rlen - xd->rstart);
            xd->rlen -= xd->rstart;
            xd->rstart = 0;
        }
        if (xd->rcap - xd->rlen < 65536) {
            size_t ncap = xd->rcap ? xd->rcap * 2 : RBUF_INITIAL;
            if (ncap > XDP_MAX_PAYLOAD + (8u << 20))
                return XA_ELIMIT;
            uint8_t *nb = realloc(xd->rbuf, ncap);
            if (!nb)
                return XA_ENOMEM;
            xd->rbuf = nb;
            xd->rcap = ncap;
        }
    }
    ssize_t n = recv(xd->fd, xd->rbuf + xd->rlen, xd->rcap - xd->rlen, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return XA_EGONE;
    xd->rlen += (size_t)n;
    xd->last_data_ms = xd_now_ms();
    return 1;
}

/* Disk extent of a record: inside the image (when the tap said its size). */
static bool extent_ok(const struct xadisk *xd, const struct xdp_hdr *h)
{
    uint64_t size = xd->hello_image_size;
    return !size || (h->offset <= size && h->length <= size - h->offset);
}

/*
 * Is this header possible here?  NULL if so, else what is wrong with it (in
 * why).  Everything is checked before the payload is waited for: a stream
 * that lost its framing shows up as a bad magic, an impossible length or a
 * sequence gap, and is never read as records.
 */
static const char *frame_problem(const struct xadisk *xd, const struct xdp_hdr *h, char *why,
                                 size_t n)
{
    if (h->magic != XDP_MAGIC) {
        snprintf(why, n, "bad magic %#x", h->magic);
        return why;
    }
    uint64_t max_payload = XDP_MAX_PAYLOAD;
    if (xd->hello_ring_bytes && xd->hello_ring_bytes / 2 < max_payload)
        max_payload = xd->hello_ring_bytes / 2; /* no frame takes more than half the ring */
    if (!xd->have_hello) {
        if (h->type != XDP_HELLO)
            snprintf(why, n, "frame type %u before HELLO", h->type);
        else if (h->payload_len < sizeof(struct xdp_hello) + 1 ||
                 h->payload_len > sizeof(struct xdp_hello) + 4096)
            snprintf(why, n, "HELLO with a payload of %u bytes", h->payload_len);
        else
            return NULL;
        return why;
    }
    uint64_t want_seq = xd->have_ready ? xd->expect_seq : xd->expect_seq + 1;
    if (h->seq != want_seq) {
        snprintf(why, n, "sequence gap: record %llu where %llu was due",
                 (unsigned long long)h->seq, (unsigned long long)want_seq);
        return why;
    }
    if (!xd->have_ready && h->type != XDP_READY) {
        snprintf(why, n, "frame type %u where READY was due", h->type);
        return why;
    }
    switch (h->type) {
    case XDP_WRITE:
        if (h->payload_len != h->length || h->payload_len > max_payload || !extent_ok(xd, h))
            break;
        return NULL;
    case XDP_TRIM:
    case XDP_ZERO:
        if (h->payload_len || !extent_ok(xd, h))
            break;
        return NULL;
    case XDP_FLUSH:
    case XDP_RESYNC:
    case XDP_READY:
        if (h->payload_len || h->length)
            break;
        return NULL;
    default:
        snprintf(why, n, "unknown frame type %u", h->type);
        return why;
    }
    snprintf(why, n, "impossible frame: type %u, offset %llu, length %u, payload %u bytes",
             h->type, (unsigned long long)h->offset, h->length, h->payload_len);
    return why;
}

/*
 * The stream cannot be trusted from here on: drop the connection, reconnect
 * (the caller's loop does) and rescan once records flow again.  Returns 0,
 * or an error once the tap has done this too often in a row.
 */
int xd_broken_stream(struct xadisk *xd, const char *why)
{
    xd_disconnect(xd);
    xd->broken_in_row++;
    snprintf(xd->resync_reason, sizeof(xd->resync_reason),
             "broken stream from the tap (%s); reconnected and rescanned", why);
    xd_fail(xd, XA_EBADDATA, "broken stream from the tap (%s)", why);
    if (xd->broken_in_row >= BROKEN_STREAMS_GIVE_UP)
        return xd_fail(xd, XA_EBADDATA, "the tap at %s sent a broken stream %u times in a row (%s)",
                    xd->event_socket, xd->broken_in_row, why);
    xd->reconnect_after_ms = xd_now_ms() + BROKEN_STREAM_PAUSE_MS * xd->broken_in_row;
    return 0;
}

static int on_hello(struct xadisk *xd, const struct xdp_hdr *h, const uint8_t *p)
{
    if (p[h->payload_len - 1] != 0)
        return xd_broken_stream(xd, "HELLO without its image path");
    struct xdp_hello hello;
    memcpy(&hello, p, sizeof(hello));
    if (hello.version != XDP_VERSION)
        return xd_fail(xd, XA_ENOTSUP, "tap speaks protocol %u, we speak %u", hello.version,
                    XDP_VERSION);
    const char *image = (const char *)p + sizeof(hello);
    if (!*image)
        return xd_fail(xd, XA_ENOTSUP, "the tap does not say which image it serves");
    if (xd->engine_up && strcmp(image, xd->tap_image) != 0)
        return xd_fail(xd, XA_ENOTSUP, "the tap now serves %s, not %s", image, xd->tap_image);
    size_t l = strlen(image);
    if (l >= sizeof(xd->tap_image))
        return xd_fail(xd, XA_ELIMIT, "image path too long");
    memcpy(xd->tap_image, image, l + 1); /* engine_start opens it at READY */
    xd->have_hello = true;
    xd->expect_seq = h->seq;
    xd->hello_image_size = hello.image_size;
    xd->hello_ring_bytes = hello.ring_bytes;
    return 0;
}

/* Recording has begun for us: build the shadow, or rescan after a reconnect. */
static int on_ready(struct xadisk *xd)
{
    xd->have_ready = true;
    if (!xd->engine_up) {
        int rc = engine_start(&xd->eng, xd->tap_image);
        if (rc < 0)
            return xd_fail(xd, rc, "%s", xd->eng.err);
        xd->engine_up = true;
        return 0;
    }
    if (!xd->resync_reason[0])
        snprintf(xd->resync_reason, sizeof(xd->resync_reason),
                 "the connection to the tap was lost; reconnected and rescanned");
    /* one rescan covers a drop reported before the connection went too */
    uint64_t dropped = xd->eng.resync_pending ? xd->eng.resync_dropped : 0;
    xd->eng.resync_pending = false;
    xd->eng.resync_dropped = 0;
    return engine_resync(&xd->eng, dropped, &xd->q);
}

/* Process the complete frames in the buffer.  On a broken stream this
 * disconnects and returns 0: the caller sees !connected. */
int xd_drain(struct xadisk *xd)
{
    while (xd->connected && xd->rlen - xd->rstart >= XDP_HDR_SIZE) {
        struct xdp_hdr h;
        memcpy(&h, xd->rbuf + xd->rstart, sizeof(h));
        char why[160];
        if (frame_problem(xd, &h, why, sizeof(why)))
            return xd_broken_stream(xd, why);
        size_t frame = XDP_HDR_SIZE + xdp_pad8(h.payload_len);
        if (xd->rlen - xd->rstart < frame) {
            if (frame > xd->rcap) { /* make room for one big frame */
                uint8_t *nb = realloc(xd->rbuf, frame + RBUF_INITIAL);
                if (!nb)
                    return XA_ENOMEM;
                xd->rbuf = nb;
                xd->rcap = frame + RBUF_INITIAL;
            }
            return 0;
        }
        const uint8_t *payload = xd->rbuf + xd->rstart + XDP_HDR_SIZE;
        xd->rstart += frame;
        xd->st.records++;
        xd->st.bytes += h.payload_len;
        int rc;
        if (!xd->have_hello) {
            rc = on_hello(xd, &h, payload);
        } else if (!xd->have_ready) {
            xd->expect_seq = h.seq + 1;
            rc = on_ready(xd);
        } else {
            xd->expect_seq = h.seq + 1;
            xd->broken_in_row = 0; /* records flow again */
            if (h.type == XDP_READY)
                continue; /* another subscriber joined */
            if (h.type == XDP_RESYNC) {
                xd->st.dropped += h.offset;
                snprintf(xd->resync_reason, sizeof(xd->resync_reason),
                         "the tap dropped %llu records (its ring was full)",
                         (unsigned long long)h.offset);
            }
            rc = engine_record(&xd->eng, &h, payload, &xd->q);
            if (rc == XA_EBADDATA) /* the guest wrote something odd: not the stream's fault */
                rc = 0;
        }
        if (rc < 0)
            return rc;
        if (xd->q.n)
            return 0; /* hand out what we have before reading on */
    }
    return 0;
}
