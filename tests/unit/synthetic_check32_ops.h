/*
 * synthetic_check32_ops.h -- two sibling seq_operations tables (tcp4 and
 * tcp6 alike: start, stop, next shared, show their own) in the read-only
 * data of synthetic_check32.h's i386 image, for the operation-table search
 * of os/linux/check32_ops.c. Shared by tests/unit/test_check32_ops.c and
 * tests/fuzz/fuzz_check32.c.
 */
#ifndef XA_TEST_SYNTHETIC_CHECK32_OPS_H
#define XA_TEST_SYNTHETIC_CHECK32_OPS_H

#include "os/linux/check32_ops.h"
#include "synthetic_check32.h"

#define S32_OPS4 0xC1042000u /* "tcp4_seq_ops" */
#define S32_OPS6 0xC1042100u /* "tcp6_seq_ops" */
#define S32_OPS_DECOY 0xC1042200u
#define S32_SEQ_SLOTS 4u
#define S32_SHOW 3u

/* Handlers in the text: start, stop, next, show4, show6. */
static inline uint32_t s32_seq_handler(unsigned k)
{
    return S32_TEXT + 0x20000u + 0x40u * k;
}

static inline void s32_put_seq(struct s32_guest *g, uint32_t va, uint32_t show)
{
    for (unsigned k = 0; k < 3; k++)
        s32_put(g, va + 4 * k, s32_seq_handler(k));
    s32_put(g, va + 4 * S32_SHOW, show);
}

static inline void s32_build_ops(struct s32_guest *g)
{
    s32_build(g);
    s32_put_seq(g, S32_OPS4, s32_seq_handler(3));
    s32_put_seq(g, S32_OPS6, s32_seq_handler(4));
}

/* shapes[0] is tcp4_seq_ops, shapes[1] tcp6_seq_ops */
static inline void s32_ops_shapes(struct c32_ops_shape shapes[2])
{
    for (unsigned t = 0; t < 2; t++) {
        struct c32_ops_shape *s = &shapes[t];
        memset(s, 0, sizeof(*s));
        s->name = t ? "tcp6_seq_ops" : "tcp4_seq_ops";
        s->slots = S32_SEQ_SLOTS;
        s->nr_anchors = 4;
        s->anchor_slot[0] = S32_SHOW;
        s->anchor[0] = s32_seq_handler(3 + t);
        for (unsigned k = 0; k < 3; k++) {
            s->anchor_slot[k + 1] = k;
            s->anchor[k + 1] = s32_seq_handler(k);
        }
    }
}

static inline int s32_find_ops(struct s32_guest *g, struct c32_ops_found out[2], char *why,
                               size_t cap)
{
    struct c32_mem m = s32_mem(g);
    struct c32_ops_shape shapes[2];
    s32_ops_shapes(shapes);
    return c32_find_ops(&m, S32_ETEXT, S32_INIT, S32_TEXT, S32_ETEXT, shapes, 2, out, why, cap);
}

#endif /* XA_TEST_SYNTHETIC_CHECK32_OPS_H */
