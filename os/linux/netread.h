/*
 * netread.h -- pure readers behind the kernel log and the socket list, kept
 * apart from the instance so unit tests and fuzzers can feed them synthetic
 * memory (as procread.h):
 *
 *   prb.c       the printk ring buffer (5.10+): its header, then one record
 *               by sequence number;
 *   sockread.c  sockets: a hash chain walk, and one socket's fields as
 *               /proc/net shows them.
 *
 * Memory comes through an lx_mem_fn; errors are an XA_* code and one line
 * in @why (LX_WHY_LEN).
 */
#ifndef XA_OS_LINUX_NETREAD_H
#define XA_OS_LINUX_NETREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/procread.h"
#include "xenaccess.h"

/* ---- printk ring buffer ------------------------------------------------ */

/* Offsets of struct printk_ringbuffer, its rings, struct prb_desc and struct
 * printk_info (from BTF, or kmsg32.c's search on a 32-bit kernel), and the
 * kernel's word: atomic_long_t ids and unsigned long positions are @word
 * bytes (4 or 8), pointers too, and kernel pointers are >= @kptr_min. */
struct lx_prb_layout {
    unsigned word;
    uint64_t kptr_min;
    uint64_t desc_ring, text_ring;                        /* in printk_ringbuffer */
    uint64_t count_bits, descs, infos, head_id, tail_id;  /* in prb_desc_ring */
    uint64_t size_bits, data;                             /* in prb_data_ring */
    uint64_t desc_size, state_var, text_begin, text_next; /* prb_desc (text_blk_lpos) */
    uint64_t info_size, seq, ts_nsec, text_len, facility, caller_id; /* printk_info */
    uint64_t level_byte; /* the byte holding the 3-bit level ... */
    unsigned level_shift; /* ... at this bit */
};

/* Most descriptors and data bytes a ring may have (log_buf_len is at most
 * 2 GiB; a descriptor per 32 bytes). */
#define LX_PRB_COUNT_BITS_MAX 26u
#define LX_PRB_SIZE_BITS_MAX 31u

/* A ring's header, read once. Records are [first_seq, end_seq). */
struct lx_prb {
    uint64_t descs, infos, data;
    uint32_t count_bits, size_bits;
    unsigned word; /* the layout's */
    uint64_t first_seq, end_seq;
};

int lx_prb_open(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx, uint64_t rb,
                struct lx_prb *out, char *why);

/* Record @seq into @out (text NUL-terminated, cut at XA_KMSG_TEXT_MAX).
 * 1 read; 0 when the record is not there to read (overwritten, being
 * written, its text lost); a negative XA_* code when memory is unreadable.
 * @out->dropped is left to the caller. */
int lx_prb_record(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx,
                  const struct lx_prb *rb, uint64_t seq, struct xa_kmsg *out, char *why);

/* A 32-bit kernel's printk ring without BTF or symbols (kmsg32.c): searched
 * in [@lo, @hi), kernel pointers >= @kptr_min; 0 with its layout and
 * address, XA_ENOENT with @why when none validates. */
int lx_prb32_find(lx_mem_fn read, void *ctx, uint64_t lo, uint64_t hi, uint64_t kptr_min,
                  struct lx_prb_layout *out, uint64_t *rb, char *why);

/* ---- sockets ------------------------------------------------------------ */

/* Offsets of struct sock_common (from struct sock) and what /proc/net reads
 * beyond it; LX_SK_NONE when a member is absent. */
#define LX_SK_NONE UINT64_MAX
struct lx_sock_layout {
    /* the kernel's word: 4 on a 32-bit kernel (pointers, unsigned longs;
     * kernel pointers >= kptr_min), 0 or 8: 64-bit */
    unsigned word;
    uint64_t kptr_min;
    /* sock_common: every socket, also TIME_WAIT and request socks */
    uint64_t family, state, daddr, rcv_saddr, dport, num, v6_daddr, v6_rcv_saddr;
    uint64_t nulls_node, node; /* skc_nulls_node, skc_node (hlist links) */
    /* full struct sock */
    uint64_t sk_socket, sk_type, sk_protocol, ack_backlog, max_ack_backlog;
    uint64_t rmem_alloc, wmem_alloc;
    uint64_t socket_alloc_inode, inode_ino, inode_uid; /* SOCK_INODE(sk_socket) */
    uint64_t socket_state; /* struct socket.state */
    /* tcp_sock */
    uint64_t rcv_nxt, copied_seq, write_seq, snd_una;
    uint64_t udp_forward_deficit; /* udp_sock, LX_SK_NONE before 4.x */
    /* unix_sock.addr -> unix_address {len; name} */
    uint64_t unix_addr, unix_addr_len, unix_addr_name;
    /* packet_sock */
    uint64_t packet_num, packet_ifindex;
};

/* Most links a hash chain may have, sockets a table may hold. */
#define LX_SK_CHAIN_MAX 65536u
#define LX_SK_TOTAL_MAX (1u << 20)

/* Fill @out from struct sock (or sock_common) @sk. @full is false for
 * TIME_WAIT and request socks (only sock_common is there). @proto is the
 * table it came from ("tcp", "udp", "raw", "unix", "packet"), or NULL to
 * decide from family, type and protocol (a socket met in an fd table).
 * 0 or a negative XA_* code. */
int lx_sock_decode(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                   const char *proto, struct xa_socket *out, char *why);

/* Called for each socket of a chain; non-zero stops the walk with that code. */
typedef int (*lx_sock_fn)(void *arg, uint64_t sk);

/* Walk the hlist (nulls: an odd pointer ends it) starting at *@head_first,
 * nodes at @node_off in each socket; both links checked (pprev points back),
 * a node seen twice or more than LX_SK_CHAIN_MAX ends it with XA_ELIMIT. */
int lx_sock_chain(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t head,
                  bool nulls, uint64_t node_off, lx_sock_fn fn, void *arg, char *why);

/* Most buckets a table may have (a 1 TiB machine's ehash has 2^27 / 8). */
#define LX_SK_BUCKETS_MAX (1u << 24)

/* Walk @count buckets of @stride bytes from @base, each an hlist head at
 * @head_off, with lx_sock_chain(). An implausible table (no buckets, more
 * than LX_SK_BUCKETS_MAX, a stride below the word) is XA_EBADDATA; the first chain
 * that fails ends the walk with its code. */
int lx_sock_buckets(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                    uint64_t count, uint64_t stride, uint64_t head_off, bool nulls,
                    uint64_t node_off, lx_sock_fn fn, void *arg, char *why);

/* The state's name as ss(8) and netstat print it; "UNKNOWN" out of range. */
const char *lx_tcp_state_name(int state);

#endif /* XA_OS_LINUX_NETREAD_H */
