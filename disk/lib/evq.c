/* evq.c -- see evq.h. */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#define EVQ_DEFAULT_MAX (1u << 22)

void evq_event_free(struct xadisk_event *ev)
{
    free((char *)ev->path);
    free((char *)ev->old_path);
    free((struct xadisk_range *)ev->ranges);
    memset(ev, 0, sizeof(*ev));
}

int evq_push(struct evq *q, struct xadisk_event *ev)
{
    size_t max = q->max ? q->max : EVQ_DEFAULT_MAX;
    if (q->n >= max) {
        q->overflow++;
        evq_event_free(ev);
        return XA_ELIMIT;
    }
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        struct xadisk_event *v = malloc(ncap * sizeof(*v));
        if (!v) {
            evq_event_free(ev);
            return XA_ENOMEM;
        }
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->n) % q->cap] = *ev;
    q->n++;
    memset(ev, 0, sizeof(*ev));
    return 0;
}

int evq_pop(struct evq *q, struct xadisk_event *out)
{
    if (!q->n)
        return 0;
    *out = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return 1;
}

void evq_clear(struct evq *q)
{
    struct xadisk_event ev;
    while (evq_pop(q, &ev))
        evq_event_free(&ev);
    free(q->v);
    q->v = NULL;
    q->cap = q->head = q->n = 0;
}
