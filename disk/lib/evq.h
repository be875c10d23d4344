/* evq.h -- a FIFO of owned struct xadisk_event (strings and ranges malloc'd). */
#ifndef XADISK_EVQ_H
#define XADISK_EVQ_H
#include <stddef.h>

#include "xadisk.h"

struct evq {
    struct xadisk_event *v;
    size_t head, n, cap;
    size_t max; /* events beyond this are dropped (counted); 0 = default */
    size_t overflow;
};

/* Takes ownership of ev's path/old_path/ranges (also on failure: freed). */
int evq_push(struct evq *q, struct xadisk_event *ev);
/* Pops into *out (owned by the caller now); returns 0 if empty. */
int evq_pop(struct evq *q, struct xadisk_event *out);
void evq_event_free(struct xadisk_event *ev);
void evq_clear(struct evq *q);
#endif
