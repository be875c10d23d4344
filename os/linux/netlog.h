/*
 * netlog.h -- sockets (netsock.c) and the kernel log (kmsg.c) of a Linux
 * guest: the calls behind struct xa_os_ops. Internal.
 */
#ifndef XA_OS_LINUX_NETLOG_H
#define XA_OS_LINUX_NETLOG_H

#include "os/linux/lxpriv.h"

/* Free what netsock.c and kmsg.c keep in struct linux_priv (linux.c's destroy). */
void linux_net_free(struct linux_priv *p);
void linux_net_flush(struct linux_priv *p); /* drops a refused 32-bit layout */
void linux_kmsg_free(struct linux_priv *p);

int linux_net_iter_new(struct xa_instance *xa, struct xa_net_iter **out);
int linux_net_iter_next(struct xa_net_iter *it, struct xa_socket *out);
void linux_net_iter_free(struct xa_net_iter *it);

int linux_kmsg_iter_new(struct xa_instance *xa, uint64_t from_seq, struct xa_kmsg_iter **out);
int linux_kmsg_iter_next(struct xa_kmsg_iter *it, struct xa_kmsg *out);
uint64_t linux_kmsg_iter_next_seq(const struct xa_kmsg_iter *it);
void linux_kmsg_iter_free(struct xa_kmsg_iter *it);

#endif /* XA_OS_LINUX_NETLOG_H */
