/*
 * test_walk_memo.c -- the core's inline page walk (x86_walk8 over the page
 * memo, core/access.c) keeps every check of the generic walk:
 *  - an entry outside guest RAM, or across its end, in a page the memo
 *    holds (a backend that maps a page only partly RAM) is refused with
 *    the generic walk's XA_ERANGE;
 *  - a pending test fault reaches the backend (no walk from the memo);
 *  - not present and reserved bits still fail with their level;
 *  - a mapped dump that shrank fails the walk that read nothing lost
 *    (the mapguard check after it).
 * Exit 0 = pass.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/instance.h"

/* As in test_mapguard.c: SIGBUS keeps its default action under ASan, so the
 * library's handler chains to it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_sigbus=0";
}

#define PAGE 4096u

/* ---- a stable mapping that also maps pages only partly RAM ------------ */

/* RAM ends 4 bytes into the entry at 0x9800 (PD[256]): a backend may not
 * map page 9 (backends/backend.h wants XA_MAP_COPY there), this one does,
 * so that only the walk's own range check stands between the entries past
 * the end and a translation. */
#define RAM_END 0x9804u

struct memo_backend {
    struct xa_backend base;
    unsigned maps;
};

static _Alignas(4096) uint8_t guest[16 * PAGE];

static int mb_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    (void)spec, (void)flags;
    static struct xa_mem_range ram[] = {{0, RAM_END}};
    be->ranges = ram;
    be->nr_ranges = 1;
    be->caps = XA_CAP_STABLE_MAP;
    snprintf(be->method, sizeof(be->method), "memo test");
    return 0;
}

static void mb_close(struct xa_backend *be)
{
    (void)be;
}

static int mb_read(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    (void)be;
    memcpy(buf, guest + pa, len); /* the core checked the range */
    return 0;
}

static int mb_map(struct xa_backend *be, uint64_t pfn, const void **out)
{
    ((struct memo_backend *)be)->maps++;
    *out = guest + pfn * PAGE;
    return 0;
}

static const struct xa_backend_ops memo_ops = {
    .name = "memo",
    .instance_size = sizeof(struct memo_backend),
    .open = mb_open,
    .close = mb_close,
    .read_pa = mb_read,
    .map_page = mb_map,
};

static void put64(uint64_t pa, uint64_t v)
{
    memcpy(guest + pa, &v, 8);
}

/* PML4 0x1000 -> PDPT 0x2000 -> PD 0x9000, 2 MiB pages: PD[0] in RAM,
 * PD[1] not present, PD[2] with a reserved bit (13) set, PD[256] across the end of
 * RAM, PD[257] past it. */
static void build_guest(void)
{
    put64(0x1000, 0x2000 | 7);
    put64(0x2000, 0x9000 | 7);
    put64(0x9000, 0x200000 | 0x87);
    put64(0x9000 + 2 * 8, 0x400000 | 0x2000 | 0x87); /* bit 13 of a 2 MiB page */
    put64(0x9000 + 256 * 8, 0x600000 | 0x87);
    put64(0x9000 + 257 * 8, 0x800000 | 0x87);
}

static struct xa_instance *open_memo(void)
{
    struct xa_instance *xa = calloc(1, sizeof(*xa));
    CHECK(xa != NULL);
    CHECK_EQ(xa__be_open(xa, &memo_ops, "x", 0), 0);
    xa->ranges = xa->be->ranges; /* as take_layout() leaves them */
    xa->nr_ranges = xa->be->nr_ranges;
    CHECK_EQ(xa_lru_init(&xa->v2p, 64), 0);
    CHECK_EQ(xa_lru_init(&xa->pages, 64), 0);
    struct x86_paging pg = {.mode = XA_PM_IA32E, .nxe = true};
    xa__set_kernel_paging(xa, &pg, 0x1000);
    return xa;
}

static void close_memo(struct xa_instance *xa)
{
    xa_lru_destroy(&xa->v2p, NULL, NULL);
    xa_lru_destroy(&xa->pages, NULL, NULL);
    xa__be_close(xa);
    free(xa);
}

/* Translate after emptying the translation caches (the page memo stays). */
static int walk(struct xa_instance *xa, uint64_t va, uint64_t *pa)
{
    xa_cache_flush(xa, XA_CACHE_V2P);
    *pa = 0;
    return xa_translate_kv(xa, va, pa);
}

static void test_ram_range(void)
{
    struct xa_instance *xa = open_memo();
    uint64_t pa;
    /* The first walk fills the page memo (pages 1, 2 and 9); the rest are
     * walked from it. */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(walk(xa, 0x1234, &pa), 0);
        CHECK_EQ(pa, 0x201234);
    }
    unsigned maps = ((struct memo_backend *)xa->be)->maps;
    CHECK_EQ(maps, 3);
    /* Both of these entries are in page 9, which the memo holds. */
    CHECK_EQ(walk(xa, 256ull << 21, &pa), XA_ERANGE);
    CHECK(strstr(xa_errmsg(xa), "outside guest RAM") && strstr(xa_errmsg(xa), "0x9800"),
          "%s", xa_errmsg(xa));
    CHECK_EQ(walk(xa, 257ull << 21, &pa), XA_ERANGE);
    CHECK(strstr(xa_errmsg(xa), "outside guest RAM") && strstr(xa_errmsg(xa), "0x9808"),
          "%s", xa_errmsg(xa));
    /* Declined, then refused by the generic walk with its level. */
    CHECK_EQ(walk(xa, 1ull << 21, &pa), XA_EFAULT);
    CHECK(strstr(xa_errmsg(xa), "level 2") != NULL, "%s", xa_errmsg(xa));
    CHECK_EQ(walk(xa, 2ull << 21, &pa), XA_EBADDATA);
    CHECK(strstr(xa_errmsg(xa), "reserved bits") && strstr(xa_errmsg(xa), "level 2"), "%s",
          xa_errmsg(xa));
    CHECK_EQ(((struct memo_backend *)xa->be)->maps, maps); /* all from the memo */
    CHECK_EQ(walk(xa, 0x1234, &pa), 0);
    CHECK_EQ(pa, 0x201234);
    close_memo(xa);
}

static void test_pending_fault(void)
{
    struct xa_instance *xa = open_memo();
    uint64_t pa;
    CHECK_EQ(walk(xa, 0x1234, &pa), 0);
    CHECK_EQ(walk(xa, 0x1234, &pa), 0); /* from the memo */
    /* The next page look-up must reach the backend, and fail there. */
    xa__be_inject_fault(xa, XA_BE_OP_MAP, 1, XA_EGONE);
    CHECK_EQ(walk(xa, 0x1234, &pa), XA_EGONE);
    CHECK(strstr(xa_errmsg(xa), "injected") != NULL, "%s", xa_errmsg(xa));
    CHECK_EQ(walk(xa, 0x1234, &pa), 0);
    CHECK_EQ(pa, 0x201234);
    close_memo(xa);
}

/* ---- a dump that shrinks under the mapping ----------------------------- */

static char dir[] = "/tmp/xa-walkmemo-XXXXXX";

/* 64 pages; tables in pages 1-3 (kept when the file is cut to 16 pages):
 * VA 0x400000 -> a 2 MiB page at 0x200000. */
static void test_shrunk_dump(void)
{
    char path[100];
    snprintf(path, sizeof(path), "%s/cut.img", dir);
    static uint8_t img[64 * PAGE];
    memset(img, 0x5a, sizeof(img));
    memset(img + PAGE, 0, 3 * PAGE);
    uint64_t e[3][2] = {{1 * PAGE, 2 * PAGE | 7}, {2 * PAGE, 3 * PAGE | 7},
                        {3 * PAGE + 2 * 8, 0x200000 | 0x87}};
    for (int i = 0; i < 3; i++)
        memcpy(img + e[i][0], &e[i][1], 8);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, img, sizeof(img)) == (ssize_t)sizeof(img));
    close(fd);
    char target[128];
    snprintf(target, sizeof(target), "file:%s", path);
    struct xa_instance *xa = NULL;
    CHECK_EQ(xa_init(target, XA_INIT_NO_OS, &xa), 0);
    if (!xa)
        return;
    CHECK_EQ(xa_set_kernel_paging(xa, XA_PM_IA32E, 1 * PAGE), 0);
    uint64_t pa;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(walk(xa, 0x400123, &pa), 0);
        CHECK_EQ(pa, 0x200123);
    }
    uint32_t off;
    const volatile uint8_t *held = xa_access_physical_address(xa, 50 * PAGE, &off);
    CHECK(held != NULL);
    CHECK_EQ(truncate(path, 16 * PAGE), 0);
    if (held)
        CHECK_EQ(held[1], 0); /* lost: zeros, and the mapping is marked */
    /* The tables are all still in the file; the walk must fail anyway. */
    CHECK_EQ(walk(xa, 0x400123, &pa), XA_EIO);
    CHECK(strstr(xa_errmsg(xa), "shrank") != NULL, "%s", xa_errmsg(xa));
    xa_release_page(xa, (const void *)held);
    xa_destroy(xa);
    unlink(path);
}

int main(void)
{
    build_guest();
    test_ram_range();
    test_pending_fault();
    CHECK(mkdtemp(dir) != NULL);
    test_shrunk_dump();
    rmdir(dir);
    CHECK_DONE();
}
