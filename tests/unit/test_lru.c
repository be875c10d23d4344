/* test_lru.c -- the bounded LRU map against a simple reference model. */
#include <stdlib.h>

#include "check.h"
#include "core/lru.h"

static int drops;
static uint64_t last_drop_k1;
static void on_drop(void *ctx, uint64_t k1, uint64_t k2, uint64_t val)
{
    (void)ctx;
    (void)k2;
    (void)val;
    drops++;
    last_drop_k1 = k1;
}

int main(void)
{
    struct xa_lru l;
    uint64_t v;
    CHECK_EQ(xa_lru_init(&l, 4), 0);
    for (uint64_t k = 1; k <= 4; k++)
        xa_lru_put(&l, k, 0, k * 10, on_drop, NULL);
    CHECK_EQ(l.count, 4);
    CHECK_EQ(drops, 0);
    /* Touch 1 so that 2 is least recent, then insert 5: 2 must go. */
    CHECK(xa_lru_get(&l, 1, 0, &v) && v == 10);
    xa_lru_put(&l, 5, 0, 50, on_drop, NULL);
    CHECK_EQ(drops, 1);
    CHECK_EQ(last_drop_k1, 2);
    CHECK(!xa_lru_get(&l, 2, 0, &v));
    CHECK(xa_lru_get(&l, 5, 0, &v) && v == 50);
    /* Keys differ in k2 only. */
    xa_lru_put(&l, 1, 7, 77, on_drop, NULL);
    CHECK(xa_lru_get(&l, 1, 7, &v) && v == 77);
    CHECK(xa_lru_get(&l, 1, 0, &v) && v == 10);
    /* Replace keeps count; the old value is dropped. */
    int before = drops;
    xa_lru_put(&l, 1, 0, 11, on_drop, NULL);
    CHECK(xa_lru_get(&l, 1, 0, &v) && v == 11);
    CHECK_EQ(drops, before + 1);
    CHECK_EQ(l.count, 4);
    CHECK(xa_lru_remove(&l, 1, 0, on_drop, NULL));
    CHECK(!xa_lru_get(&l, 1, 0, &v));
    CHECK_EQ(l.count, 3);
    xa_lru_clear(&l, on_drop, NULL);
    CHECK_EQ(l.count, 0);
    CHECK(!xa_lru_get(&l, 5, 0, &v));

    /* Randomised against a reference: a small array with timestamps. */
    enum { CAP = 64, KEYS = 200 };
    struct xa_lru r;
    CHECK_EQ(xa_lru_init(&r, CAP), 0);
    uint64_t ref_key[CAP], ref_val[CAP], ref_time[CAP];
    int ref_n = 0;
    uint64_t clock = 0;
    srand(1);
    for (int step = 0; step < 200000; step++) {
        uint64_t k = (uint64_t)(rand() % KEYS);
        int at = -1;
        for (int i = 0; i < ref_n; i++)
            if (ref_key[i] == k)
                at = i;
        if (rand() & 1) {
            bool hit = xa_lru_get(&r, k, 0, &v);
            CHECK_EQ(hit, at >= 0);
            if (at >= 0) {
                CHECK_EQ(v, ref_val[at]);
                ref_time[at] = ++clock;
            }
        } else {
            uint64_t val = (uint64_t)rand();
            xa_lru_put(&r, k, 0, val, NULL, NULL);
            if (at < 0) {
                if (ref_n == CAP) {
                    int old = 0;
                    for (int i = 1; i < ref_n; i++)
                        if (ref_time[i] < ref_time[old])
                            old = i;
                    at = old;
                } else {
                    at = ref_n++;
                }
                ref_key[at] = k;
            }
            ref_val[at] = val;
            ref_time[at] = ++clock;
        }
        if (check_failures > 5)
            break;
    }
    CHECK_EQ(r.count, (unsigned)ref_n);
    xa_lru_destroy(&r, NULL, NULL);
    xa_lru_destroy(&l, NULL, NULL);
    CHECK_DONE();
}
