/*
 * test_check32_hooks.c -- the ftrace chain search of os/linux/check32_hooks.c
 * over synthetic_check32.h's i386 image: ftrace_list_end and the list found
 * exactly (a pointer to a tail of the chain beside it; a stale longer one
 * judged as a superset), and refusals for a list end that lost its shape,
 * two list ends, two different chains, a chain that loops, and a search
 * that would take too many reads.
 */
#include <stdlib.h>

#include "check.h"
#include "os/linux/check32_hooks.h"
#include "synthetic_check32.h"

#define STUB (S32_TEXT + 0x5000u)
#define END 0xC1044020u  /* ftrace_list_end */
#define HEAD 0xC1044004u /* ftrace_ops_list */
#define TAIL 0xC104400cu /* function_trace_op */
#define OPS1 0xC1045000u
#define OPS2 0xC1045100u

static struct s32_guest g;

static void put_ops(uint32_t at, uint32_t func, uint32_t next, uint32_t flags)
{
    s32_put(&g, at + C32_FT_FUNC, func);
    s32_put(&g, at + C32_FT_NEXT, next);
    s32_put(&g, at + C32_FT_FLAGS, flags);
}

static void put_list_end(uint32_t at)
{
    put_ops(at, STUB, 0, C32_FT_FL_STUB);
    s32_put(&g, at + C32_FT_WAIT_LIST, at + C32_FT_WAIT_LIST);
    s32_put(&g, at + C32_FT_WAIT_LIST + 4, at + C32_FT_WAIT_LIST);
    s32_put(&g, at + C32_FT_FUNC_HASH, at + C32_FT_LOCAL_HASH);
}

/* list -> OPS1 -> OPS2 -> end; function_trace_op -> OPS2 (a tail) */
static void build(void)
{
    s32_build(&g);
    put_list_end(END);
    put_ops(OPS1, S32_MODULE + 0x40, OPS2, 0);
    put_ops(OPS2, s32_handler(3), END, 0);
    s32_put(&g, HEAD, OPS1);
    s32_put(&g, TAIL, OPS2);
}

static int find(struct c32_ftrace *ft, char *why, size_t cap)
{
    struct c32_mem m = s32_mem(&g);
    return c32_find_ftrace(&m, S32_ETEXT, S32_INIT, STUB, ft, why, cap);
}

static void test_found(void)
{
    build();
    struct c32_ftrace ft = {0};
    char why[256] = "";
    CHECK(find(&ft, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(ft.list_end, END);
    CHECK_EQ(ft.head, HEAD);
    CHECK_EQ(ft.nr_ops, 2u);
    /* OPS1 unregistered but its next still into the chain (the kernel
     * leaves it): the longest chain is judged, a superset */
    s32_put(&g, HEAD, OPS2);
    s32_put(&g, TAIL, OPS1); /* a stale pointer to it */
    CHECK(find(&ft, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(ft.head, TAIL);
    CHECK_EQ(ft.nr_ops, 2u);
    /* nothing registered: the list points at the end */
    put_ops(OPS1, 0, 0, 0);
    put_ops(OPS2, 0, 0, 0);
    s32_put(&g, HEAD, END);
    s32_put(&g, TAIL, END);
    CHECK(find(&ft, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(ft.nr_ops, 0u);
}

static void test_refused(void)
{
    struct c32_ftrace ft;
    char why[256] = "";
    build();
    s32_put(&g, END + C32_FT_WAIT_LIST, 0); /* the lock no longer points at itself */
    CHECK(find(&ft, why, sizeof(why)) == XA_ENOTSUP && strstr(why, "no ftrace_list_end"), "%s",
          why);
    build();
    put_list_end(0xC1046000u); /* a second list end */
    CHECK(find(&ft, why, sizeof(why)) == XA_EBADDATA && strstr(why, "2 places"), "%s", why);
    build();
    put_ops(0xC1045200u, S32_MODULE + 0x80, END, 0); /* another chain beside the list */
    s32_put(&g, TAIL, 0xC1045200u);
    CHECK(find(&ft, why, sizeof(why)) == XA_EBADDATA && strstr(why, "different chains"), "%s",
          why);
    build();
    s32_put(&g, OPS2 + C32_FT_NEXT, OPS1); /* a loop: no pointer leads to the end */
    s32_put(&g, TAIL, OPS1);
    CHECK(find(&ft, why, sizeof(why)) == XA_ENOTSUP && strstr(why, "ftrace_ops_list not found"),
          "%s", why);
    build();
    for (uint32_t k = 0; k <= C32_FT_MAX_OPS; k++) /* long lists near it: a bounded search */
        put_ops(0xC1048000u + 16 * k, S32_MODULE, k == C32_FT_MAX_OPS ? END
                                                   : 0xC1048000u + 16 * (k + 1), 0);
    s32_put(&g, HEAD, 0xC1048000u);
    CHECK(find(&ft, why, sizeof(why)) == XA_EBADDATA && strstr(why, "reads"), "%s", why);
}

int main(void)
{
    test_found();
    test_refused();
    CHECK_DONE();
}
