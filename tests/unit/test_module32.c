/*
 * test_module32.c -- the 32-bit module list inference (os/linux/module32.c)
 * over synthetic module lists (synthetic_module32.h): two struct module
 * layouts found exactly, the head found from any module, a ring that loops
 * or has a broken back link used up to the damage and flagged, and refusals
 * where the memory is ambiguous (two heads, no head, two core_layouts, two
 * refcnts).
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_module32.h"

static struct sm_guest g;
static uint64_t mods[M32_MAX_CANDIDATES];

/* Scan, find the head, infer: the first error, or 0 with *l. */
static int infer(struct m32_layout *l, char *why, size_t cap)
{
    struct m32_mem m = sm_mem(&g);
    size_t n = sm_scan(&g, mods, M32_MAX_CANDIDATES);
    uint64_t head;
    int rc = m32_find_head(&m, mods, n, &head, why, cap);
    return rc < 0 ? rc : m32_infer(&m, head, l, why, cap);
}

static void test_layouts(void)
{
    const struct sm_layout *layouts[] = {&sm_debian61, &sm_other};
    for (size_t k = 0; k < 2; k++) {
        sm_build(&g, layouts[k], 40);
        CHECK(sm_scan(&g, mods, M32_MAX_CANDIDATES) == 40);
        struct m32_layout l;
        char why[256];
        int rc = infer(&l, why, sizeof(why));
        CHECK(rc == 0, "layout %zu: %s", k, why);
        if (rc)
            continue;
        CHECK(l.head == SM_HEAD);
        CHECK(l.core_base == layouts[k]->core && l.core_size == layouts[k]->core + 4);
        CHECK(l.refcnt == layouts[k]->refcnt, "0x%x", l.refcnt);
        CHECK(l.ring_complete && l.ring_len == 40);
    }
}

/* Fewer modules than the sample, and one alone. */
static void test_few_modules(void)
{
    for (uint32_t n = 1; n <= 5; n += 4) {
        sm_build(&g, &sm_debian61, n);
        struct m32_layout l;
        char why[256];
        int rc = infer(&l, why, sizeof(why));
        CHECK(rc == 0, "%u: %s", n, why);
        CHECK(rc || (l.core_base == sm_debian61.core && l.ring_len == n));
    }
}

/* No module loaded: no header, no head, nothing to infer. */
static void test_no_modules(void)
{
    sm_build(&g, &sm_debian61, 0);
    struct m32_layout l;
    char why[256];
    CHECK(infer(&l, why, sizeof(why)) == 0);
    CHECK(l.head == 0 && l.ring_len == 0 && l.core_base == UINT32_MAX);
}

/* A next pointer looping back to an earlier module: the module looped to
 * does not name it as its prev, so the ring is used up to it. */
static void test_loop_is_flagged(void)
{
    sm_build(&g, &sm_debian61, 40);
    sm_put(&g, sm_module(20) + M32_LIST, sm_module(5) + M32_LIST);
    struct m32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0, "%s", why);
    CHECK(rc || (l.head == SM_HEAD && !l.ring_complete && l.ring_len == 21));
    CHECK(rc || strstr(l.ring_end, "broken") != NULL, "%s", l.ring_end);
    CHECK(rc || l.core_base == sm_debian61.core);
}

/* A prev pointer rewritten: the head is still found (from the modules
 * before the damage, walking backwards) and the prefix used. */
static void test_broken_back_link_is_flagged(void)
{
    sm_build(&g, &sm_debian61, 40);
    sm_put(&g, sm_module(30) + M32_LIST + 4, sm_module(3) + M32_LIST);
    struct m32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0, "%s", why);
    CHECK(rc || (l.head == SM_HEAD && !l.ring_complete && l.ring_len == 30));
}

/* Every link cut around the head: the headers reach no head: refused. */
static void test_no_head_refused(void)
{
    sm_build(&g, &sm_debian61, 10);
    sm_put(&g, SM_HEAD, 0x1234);
    sm_put(&g, SM_HEAD + 4, 0x1234);
    struct m32_layout l;
    char why[256];
    CHECK(infer(&l, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "10 module headers found, but no list") != NULL, "%s", why);
}

/* A second ring with its own head in the kernel's data: refused. */
static void test_two_heads_refused(void)
{
    sm_build(&g, &sm_debian61, 40);
    const uint32_t head2 = SM_IMAGE + 0x2000;
    sm_list_init(&g, head2);
    for (uint32_t i = 30; i < 40; i++) { /* move modules 30..39 to the second ring */
        uint32_t node = sm_module(i) + M32_LIST;
        uint32_t next = sm_get(&g, node), prev = sm_get(&g, node + 4);
        sm_put(&g, prev, next);
        sm_put(&g, next + 4, prev);
        sm_list_add_tail(&g, head2, node);
    }
    struct m32_layout l;
    char why[256];
    CHECK(infer(&l, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "two module lists") != NULL, "%s", why);
}

/* A copy of core_layout's words elsewhere in every module: refused. */
static void test_ambiguous_core_refused(void)
{
    sm_build(&g, &sm_debian61, 20);
    for (uint32_t i = 0; i < 20; i++)
        for (uint32_t w = 0; w < 20; w += 4)
            sm_put(&g, sm_module(i) + 0x300 + w, sm_get(&g, sm_module(i) + sm_debian61.core + w));
    struct m32_layout l;
    char why[256];
    CHECK(infer(&l, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "more than one core_layout") != NULL, "%s", why);
}

/* Two empty list_heads, NULL and a count elsewhere in every module: refused. */
static void test_ambiguous_refcnt_refused(void)
{
    sm_build(&g, &sm_debian61, 20);
    for (uint32_t i = 0; i < 20; i++) {
        uint32_t r = sm_module(i) + 0x400;
        sm_list_init(&g, r - 20);
        sm_list_init(&g, r - 12);
        sm_put(&g, r, 3);
    }
    struct m32_layout l;
    char why[256];
    CHECK(infer(&l, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "more than one refcnt") != NULL, "%s", why);
}

/* Headers the scan must not take: a name not zero-padded, a bad state, an
 * unaligned link. */
static void test_header_rules(void)
{
    sm_build(&g, &sm_debian61, 3);
    struct m32_mem m = sm_mem(&g);
    uint8_t hdr[M32_HDR];
    memcpy(hdr, g.mem + (sm_module(1) - SM_BASE), M32_HDR);
    CHECK(m32_header_ok(&m, hdr));
    uint8_t bad[M32_HDR];
    memcpy(bad, hdr, sizeof(bad));
    bad[M32_NAME + 10] = 'x'; /* after the NUL */
    CHECK(!m32_header_ok(&m, bad));
    memcpy(bad, hdr, sizeof(bad));
    bad[M32_STATE] = 4;
    CHECK(!m32_header_ok(&m, bad));
    memcpy(bad, hdr, sizeof(bad));
    bad[M32_LIST] |= 2;
    CHECK(!m32_header_ok(&m, bad));
    memcpy(bad, hdr, sizeof(bad));
    memset(bad + M32_NAME, 'a', M32_NAME_LEN); /* unterminated */
    CHECK(!m32_header_ok(&m, bad));
}

int main(void)
{
    test_layouts();
    test_few_modules();
    test_no_modules();
    test_loop_is_flagged();
    test_broken_back_link_is_flagged();
    test_no_head_refused();
    test_two_heads_refused();
    test_ambiguous_core_refused();
    test_ambiguous_refcnt_refused();
    test_header_rules();
    CHECK_DONE();
}
