/*
 * proto.h -- the wire protocol between the disk tap (nbdkit filter) and a
 * monitor (libxadisk).  See docs/disk.md for the full description.
 *
 * The tap listens on a unix socket; connecting subscribes.  The tap sends a
 * stream of frames; the monitor sends nothing.  Each frame is a 32-byte
 * header followed by payload_len bytes of payload, padded with zeros to a
 * multiple of 8.  Integers are in host byte order: both ends are on one host.
 * The ring buffer inside the tap holds frames in exactly this format, so the
 * tap ships ring bytes to the socket without re-encoding them.
 *
 * A subscriber gets HELLO (seq s), then READY (seq s + 1), then every frame
 * recorded after READY, each with seq one more than the one before.
 */
#ifndef XADISK_PROTO_H
#define XADISK_PROTO_H

#include <stdint.h>

#define XDP_MAGIC 0x4b444158u /* "XADK" in little-endian byte order */
#define XDP_VERSION 2u /* 2: XDP_READY after HELLO */
#define XDP_HDR_SIZE 32u
/* The largest frame payload a monitor accepts (NBD requests are <= 32 MiB). */
#define XDP_MAX_PAYLOAD (64u << 20)

enum xdp_type {
    XDP_PAD = 0,    /* ring filler; never sent on the wire */
    XDP_HELLO = 1,  /* first frame; payload struct xdp_hello + image path */
    XDP_WRITE = 2,  /* offset, length; payload = the data written */
    XDP_TRIM = 3,   /* offset, length; no payload */
    XDP_ZERO = 4,   /* offset, length; no payload */
    XDP_FLUSH = 5,  /* no offset/length */
    XDP_RESYNC = 6, /* records were dropped here; offset = how many */
    /* Recording for a new subscriber has begun: its seq is HELLO's + 1, and
     * it comes through the ring, so records flow once it has arrived.  Other
     * subscribers see it too and ignore it. */
    XDP_READY = 7,
};

enum xdp_flags {
    XDP_F_FUA = 1u << 0, /* the request carried Force Unit Access */
};

struct xdp_hdr {
    uint32_t magic;
    uint16_t type;        /* enum xdp_type */
    uint16_t flags;       /* enum xdp_flags */
    uint64_t seq;         /* per-tap record number, +1 per frame */
    uint64_t offset;      /* byte offset on the disk (RESYNC: dropped count) */
    uint32_t length;      /* bytes affected on the disk */
    uint32_t payload_len; /* bytes of payload following the header */
};
_Static_assert(sizeof(struct xdp_hdr) == XDP_HDR_SIZE, "wire header is 32 bytes");

enum xdp_hello_flags {
    XDP_HELLO_LOSSLESS = 1u << 0,
};

/* Payload of XDP_HELLO; followed by the NUL-terminated path of the image. */
struct xdp_hello {
    uint32_t version;       /* XDP_VERSION */
    uint32_t flags;         /* enum xdp_hello_flags */
    uint64_t image_size;    /* bytes */
    uint64_t ring_bytes;    /* capacity of the tap's ring */
    uint64_t dropped_total; /* records dropped since the tap started */
};
_Static_assert(sizeof(struct xdp_hello) == 32, "hello payload is 32 bytes");

static inline uint32_t xdp_pad8(uint32_t n) { return (n + 7u) & ~7u; }

#endif
