/*
 * sock32.h -- the socket layout of a 32-bit x86 Linux kernel without BTF,
 * inferred from the sockets the processes hold (sock32.c): struct file's
 * private_data, struct socket, sock_common, struct sock's sk_socket,
 * sk_type and sk_protocol, unix_sock.addr, a socket's struct net and the
 * namespace's inode number; and a TCP established hash found from one of
 * its sockets. Fills the struct lx_sock_layout sockread.c decodes with.
 *
 * Pure code over an lx_mem_fn, so the unit test and the fuzzer feed it
 * synthetic memory. Each offset is the one answer that fits 7/8 of the
 * sockets read (a damaged one is left out); none or several refuse in one
 * line (docs/limits.md, "32-bit sockets").
 */
#ifndef XA_OS_LINUX_SOCK32_H
#define XA_OS_LINUX_SOCK32_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/netread.h"

#define S32_SOCKS 256u       /* socket files compared at most */
#define S32_FILE_SPAN 256u   /* bytes of struct file searched for private_data */
#define S32_INODE_GAP 1024u  /* socket_alloc.vfs_inode at most this far in */
#define S32_SOCKET_SPAN 64u  /* bytes of struct socket searched (file, sk, type) */
#define S32_SOCK_SPAN 1024u  /* bytes of struct sock (and unix_sock) searched */
#define S32_NET_SPAN 512u    /* bytes of struct net searched for ns.inum */
#define S32_NETS 64u         /* distinct namespaces compared at most */
#define S32_DATA_SPAN (64u << 20) /* kernel data searched for udp_table */

/* One socket file an fd holds: the struct file and its inode. */
struct s32_file {
    uint64_t file, inode;
};

struct s32_layout {
    struct lx_sock_layout sk;       /* what is unknown is LX_SK_NONE */
    uint32_t file_private, socket_sk; /* struct file, struct socket */
    uint32_t socket_file, socket_type; /* struct socket's back-link, type */
    uint32_t skc_net, net_inum;     /* sock_common.skc_net, net.ns.inum */
    size_t nsocks, nfit;            /* sockets read, those that fit every step */
};

/* Infer from @n socket files (their i_ino at @i_ino, i_mode at @i_mode in
 * the inode, known from the open-file layout). 0, or a negative XA_E* with
 * one line in @why (LX_WHY_LEN). */
int s32_infer(lx_mem_fn read, void *ctx, uint64_t kptr_min, const struct s32_file *f, size_t n,
              uint32_t i_ino, uint32_t i_mode, struct s32_layout *out, char *why);

/* The struct sock of the socket file @file (its inode @inode) when it fits
 * the layout as the sampled ones did (back-links, family and state, type):
 * 0 (*@sk 0 while the socket is released), XA_EBADDATA when it does not. */
int s32_sock_of(const struct s32_layout *l, lx_mem_fn read, void *ctx, uint64_t file,
                uint64_t inode, uint64_t *sk);

/* A table of nulls chains: bucket i at base + i * stride, its head at
 * head_off, its chain ending in the nulls value nulls_base + i. */
struct s32_table {
    uint32_t stride, head_off, nulls_base;
    const char *what;
};
extern const struct s32_table S32_EHASH;  /* TCP established (ehash) */
extern const struct s32_table S32_LHASH2; /* TCP listening (lhash2, 5.19+) */

/* The base of the table of kind @t that holds @sk (hashed on
 * l->nulls_node): its chain's nulls value gives the bucket index, its pprev
 * links lead back to the bucket. 1 found, 0 not in such a table, negative
 * on a chain that loops. */
int s32_hash_base(const struct lx_sock_layout *l, const struct s32_table *t, lx_mem_fn read,
                  void *ctx, uint64_t sk, uint64_t *base, char *why);

/* Its bucket count: every bucket from @base on ends its chain in its own
 * index, the count a power of two; else XA_EBADDATA (a damaged chain). */
int s32_hash_count(const struct lx_sock_layout *l, const struct s32_table *t, lx_mem_fn read,
                   void *ctx, uint64_t base, uint64_t *count, char *why);

/* The base of the TCP established hash that holds @sk (hashed on
 * l->nulls_node): its chain's nulls value is the bucket index, its pprev
 * links lead back to the bucket. 1 found, 0 not hashed, negative on a
 * chain that loops. */
int s32_ehash_base(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                   uint64_t *base, char *why);

/* The bucket count of the established hash at @base: every bucket from it
 * on ends its chain in its own index, the count a power of two; else
 * XA_EBADDATA (a damaged chain). */
int s32_ehash_count(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                    uint64_t *count, char *why);

/* Both: the TCP established hash that holds @sk (hashed on l->nulls_node): its
 * base and bucket count, every bucket checked (its chain ends in the nulls
 * value of its index). 1 found, 0 not hashed, negative XA_E* on damage. */
int s32_ehash_of(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                 uint64_t *base, uint64_t *count, char *why);

/* The UDP hash slot whose chain holds @sk (on l->node): back along its
 * pprev links. 1 found, 0 not bound, negative on a chain that loops. */
int s32_udp_slot(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t sk,
                 uint64_t *slot, char *why);

/* The udp_table {hash, hash2, mask, log} in [@lo, @hi) (the kernel's data)
 * whose hash array (mask + 1 slots of 16 bytes, hash2 right after it)
 * holds @slot: its base and slot count. 1 found, 0 none, XA_EBADDATA when
 * two places fit. */
int s32_udp_table(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t lo,
                  uint64_t hi, uint64_t slot, uint64_t *base, uint64_t *count, char *why);

/* Every slot of that hash: its chain linked both ways from the slot and
 * as long as the slot's count; else XA_EBADDATA naming the slot. */
int s32_udp_check(const struct lx_sock_layout *l, lx_mem_fn read, void *ctx, uint64_t base,
                  uint64_t count, char *why);

#endif /* XA_OS_LINUX_SOCK32_H */
