/*
 * test_check32_ops.c -- the operation-table search of
 * os/linux/check32_ops.c over a synthetic i386 image with two sibling
 * tables (synthetic_check32_ops.h): found exactly, a hooked slot (the one
 * telling the siblings apart too) kept in its table, siblings hooked alike
 * shared, and refusals for a broken shape or a planted copy.
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_check32_ops.h"

static struct s32_guest g;

static void find(struct c32_ops_found out[2])
{
    char why[256] = "";
    CHECK(s32_find_ops(&g, out, why, sizeof(why)) == 0, "%s", why);
}

static void test_clean(void)
{
    s32_build_ops(&g);
    struct c32_ops_found f[2];
    find(f);
    CHECK(f[0].rc == 0 && f[0].nr_places == 1, "%s", f[0].why);
    CHECK_EQ(f[0].at[0], S32_OPS4);
    CHECK_EQ(f[0].anchored[0], 4u);
    CHECK(f[1].rc == 0 && f[1].nr_places == 1, "%s", f[1].why);
    CHECK_EQ(f[1].at[0], S32_OPS6);
}

/* tcp4's show (the slot its sibling differs in) into a module: tcp4 is
 * still found (tcp6 holds its own place, so the hooked one is tcp4's). */
static void test_hooked_show(void)
{
    s32_build_ops(&g);
    s32_put(&g, S32_OPS4 + 4 * S32_SHOW, S32_MODULE + 0x40);
    struct c32_ops_found f[2];
    find(f);
    CHECK(f[0].rc == 0 && f[0].nr_places == 1, "%s", f[0].why);
    CHECK_EQ(f[0].at[0], S32_OPS4);
    CHECK_EQ(f[0].anchored[0], 3u);
    CHECK(f[1].rc == 0 && f[1].nr_places == 1, "%s", f[1].why);
    CHECK_EQ(f[1].at[0], S32_OPS6);
    /* a shared slot hooked: the show slot still tells them apart */
    s32_build_ops(&g);
    s32_put(&g, S32_OPS6, S32_MODULE + 0x80);
    find(f);
    CHECK(f[0].rc == 0 && f[0].at[0] == S32_OPS4 && f[1].rc == 0 && f[1].at[0] == S32_OPS6,
          "%s / %s", f[0].why, f[1].why);
}

/* Both shows hooked: two places for two tables, shared, both kept. */
static void test_siblings_hooked_alike(void)
{
    s32_build_ops(&g);
    s32_put(&g, S32_OPS4 + 4 * S32_SHOW, S32_MODULE + 0x40);
    s32_put(&g, S32_OPS6 + 4 * S32_SHOW, S32_MODULE + 0x80);
    struct c32_ops_found f[2];
    find(f);
    for (unsigned t = 0; t < 2; t++) {
        CHECK(f[t].rc == 0 && f[t].nr_places == 2, "%s", f[t].why);
        CHECK_EQ(f[t].group, 3u);
        CHECK((f[t].at[0] == S32_OPS4 && f[t].at[1] == S32_OPS6) ||
              (f[t].at[0] == S32_OPS6 && f[t].at[1] == S32_OPS4));
    }
}

/* A full copy of tcp6 planted while the real one is hooked: which is the
 * kernel's is unknown, and the hooked one may be tcp4's: both refuse. */
static void test_decoy_refused(void)
{
    s32_build_ops(&g);
    s32_put(&g, S32_OPS6 + 4 * S32_SHOW, S32_MODULE + 0x80);
    s32_put_seq(&g, S32_OPS_DECOY, s32_seq_handler(4));
    struct c32_ops_found f[2];
    find(f);
    CHECK(f[1].rc == XA_EBADDATA && strstr(f[1].why, "places have the shape of tcp6_seq_ops"),
          "%s", f[1].why);
    CHECK(f[0].rc == XA_EBADDATA, "%s", f[0].why);
}

/* Three of tcp4's four slots hooked: no shape left, refused; a slot
 * pointing at another handler in the text is another table, not a hook. */
static void test_broken_refused(void)
{
    s32_build_ops(&g);
    for (unsigned k = 0; k < 3; k++)
        s32_put(&g, S32_OPS4 + 4 * k, S32_MODULE + 0x10 * k);
    struct c32_ops_found f[2];
    find(f);
    CHECK(f[0].rc == XA_ENOTSUP && strstr(f[0].why, "no place"), "%s", f[0].why);
    CHECK(f[1].rc == 0 && f[1].at[0] == S32_OPS6, "%s", f[1].why);
    s32_build_ops(&g);
    s32_put(&g, S32_OPS4 + 4 * S32_SHOW, s32_handler(7)); /* a text address: not a hook */
    find(f);
    CHECK(f[0].rc == XA_ENOTSUP, "%s", f[0].why);
    /* 0 there: another table with that slot empty, not a hook */
    s32_put(&g, S32_OPS4 + 4 * S32_SHOW, 0);
    find(f);
    CHECK(f[0].rc == XA_ENOTSUP, "%s", f[0].why);
}

/* A table in an unreadable page is not found; a bad shape is refused. */
static void test_hole_and_bad_shapes(void)
{
    s32_build_ops(&g);
    s32_put_seq(&g, S32_HOLE + 0x100, s32_seq_handler(3)); /* unreadable: not a second place */
    struct c32_ops_found f[2];
    find(f);
    CHECK(f[0].rc == 0 && f[0].at[0] == S32_OPS4, "%s", f[0].why);
    struct c32_mem m = s32_mem(&g);
    struct c32_ops_shape shapes[2];
    s32_ops_shapes(shapes);
    shapes[1].anchor_slot[2] = S32_SEQ_SLOTS;
    char why[256] = "";
    CHECK(c32_find_ops(&m, S32_ETEXT, S32_INIT, S32_TEXT, S32_ETEXT, shapes, 2, f, why,
                       sizeof(why)) == XA_EINVAL);
    CHECK(strstr(why, "tcp6_seq_ops"), "%s", why);
}

int main(void)
{
    test_clean();
    test_hooked_show();
    test_siblings_hooked_alike();
    test_decoy_refused();
    test_broken_refused();
    test_hole_and_bad_shapes();
    CHECK_DONE();
}
