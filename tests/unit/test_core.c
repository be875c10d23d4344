/*
 * test_core.c -- the core through the public API, on a small raw image with
 * hand-made 4-level page tables: target parsing, physical and virtual reads
 * across pages, faults with partial counts, the paper's page calls, write
 * protection, caches.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "xenaccess.h"

#define MIB (1024 * 1024)
static uint8_t img[4 * MIB];

static void put64(uint64_t pa, uint64_t v)
{
    memcpy(img + pa, &v, 8);
}

/* VA 0x400000 -> PA 0x10000, 0x401000 -> 0x20000, 0x402000 not present,
 * 0x600000 (2 MiB page) -> 0x200000. */
static void build_tables(void)
{
    put64(0x1000, 0x2000 | 7);          /* PML4[0] */
    put64(0x2000, 0x3000 | 7);          /* PDPT[0] */
    put64(0x3000 + 2 * 8, 0x4000 | 7);  /* PD[2]: 0x400000 */
    put64(0x3000 + 3 * 8, 0x200000 | 0x87); /* PD[3]: 2 MiB page at 0x600000 */
    put64(0x4000 + 0 * 8, 0x10000 | 7);
    put64(0x4000 + 1 * 8, 0x20000 | 7);
    memset(img + 0x10000, 'A', 4096);
    memset(img + 0x20000, 'B', 4096);
    memcpy(img + 0x20000 + 100, "hello, guest", 13);
    for (int i = 0; i < 2 * MIB; i += 4)
        memcpy(img + 0x200000 + i, &i, 4);
    /* A second root, 0x5000: VA 0x400000 -> PA 0x20000 ('B'). */
    put64(0x5000, 0x6000 | 7);
    put64(0x6000, 0x7000 | 7);
    put64(0x7000 + 2 * 8, 0x8000 | 7);
    put64(0x8000, 0x20000 | 7);
}

static char path[] = "/tmp/xa-test-core-XXXXXX";
static char target[64];

static struct xa_instance *open_img(uint32_t flags)
{
    struct xa_instance *xa = NULL;
    int rc = xa_init(target, flags | XA_INIT_NO_OS, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "open: %s\n", xa_last_init_error());
    if (xa)
        CHECK_EQ(xa_set_kernel_paging(xa, XA_PM_IA32E, 0x1000), 0);
    return xa;
}

static void test_targets(void)
{
    struct xa_instance *xa = (struct xa_instance *)1;
    CHECK(xa_init("file:/nonexistent/dump.img", 0, &xa) < 0);
    CHECK(xa == NULL);
    CHECK(strstr(xa_last_init_error(), "/nonexistent/dump.img") != NULL);
    CHECK_EQ(xa_init("bogus:thing", 0, &xa), XA_EINVAL);
    CHECK(strstr(xa_last_init_error(), "bogus") != NULL);
    CHECK_EQ(xa_init("nosuchfile", 0, &xa), XA_EINVAL);
    CHECK(xa_init("file:", 0, &xa) < 0);
#ifndef XA_HAVE_XEN
    CHECK_EQ(xa_init("xen:domu1", 0, &xa), XA_ENOTBUILT);
    CHECK(strstr(xa_last_init_error(), "not built") != NULL);
#endif
    CHECK(xa_init(NULL, 0, &xa) < 0);
    CHECK(xa_init(target, 0, NULL) < 0);
    CHECK(strcmp(xa_strerror(XA_EFAULT), "virtual address not mapped") == 0);
    CHECK(strcmp(xa_strerror(12345), "unknown error") == 0);
}

static void test_reads(void)
{
    struct xa_instance *xa = open_img(0);
    if (!xa)
        return;
    CHECK_EQ(xa_memsize(xa), sizeof(img));
    CHECK_EQ(strcmp(xa_backend_name(xa), "file"), 0);
    uint8_t buf[8192];
    /* Physical, across a page boundary. */
    CHECK_EQ(xa_read_pa(xa, 0x10ffe, buf, 4), 0);
    CHECK(buf[0] == 'A' && buf[1] == 'A' && buf[2] == 0 && buf[3] == 0);
    CHECK_EQ(xa_read_pa(xa, sizeof(img) - 2, buf, 4), XA_ERANGE);
    CHECK_EQ(xa_read_pa(xa, UINT64_MAX - 1, buf, 4), XA_ERANGE);
    CHECK_EQ(xa_read_pa(xa, sizeof(img) - 4096, buf, 4096), 0);
    /* Translation: 4 KiB and 2 MiB pages, a hole. */
    uint64_t pa;
    CHECK_EQ(xa_translate_kv(xa, 0x400123, &pa), 0);
    CHECK_EQ(pa, 0x10123);
    CHECK_EQ(xa_translate_kv(xa, 0x401fff, &pa), 0);
    CHECK_EQ(pa, 0x20fff);
    CHECK_EQ(xa_translate_kv(xa, 0x612345, &pa), 0);
    CHECK_EQ(pa, 0x212345);
    CHECK_EQ(xa_translate_kv(xa, 0x402000, &pa), XA_EFAULT);
    CHECK(strstr(xa_errmsg(xa), "0x402000") != NULL);
    CHECK_EQ(xa_translate(xa, 0x1000, 0x400000, &pa), 0); /* explicit dtb */
    /* Virtual bulk read across pages, then into the hole: partial count. */
    size_t n = 0;
    CHECK_EQ(xa_read_va(xa, 0, 0x400ff0, buf, 32, &n), 0);
    CHECK_EQ(n, 32);
    CHECK(buf[15] == 'A' && buf[16] == 'B');
    CHECK_EQ(xa_read_va(xa, 0, 0x401f00, buf, 0x200, &n), XA_EFAULT);
    CHECK_EQ(n, 0x100);
    CHECK_EQ(xa_read_va(xa, 0, 0x600000 + 4096 * 3 + 8, buf, 4, &n), 0);
    int word;
    memcpy(&word, buf, 4);
    CHECK_EQ(word, 4096 * 3 + 8);
    uint64_t v64;
    CHECK_EQ(xa_read_kva_u64(xa, 0x600008, &v64), 0);
    CHECK_EQ(v64, 8ull | (12ull << 32));
    char s[64];
    CHECK_EQ(xa_read_va_str(xa, 0, 0x401000 + 100, s, sizeof(s)), 0);
    CHECK_EQ(strcmp(s, "hello, guest"), 0);
    CHECK_EQ(xa_read_va_str(xa, 0, 0x401000 + 100, s, 6), 0);
    CHECK_EQ(strcmp(s, "hello"), 0);
    /* The paper's calls. */
    uint32_t off = 0;
    const uint8_t *page = xa_access_virtual_address(xa, 0x401000 + 100, &off);
    CHECK(page != NULL);
    if (page) {
        CHECK_EQ(off, 100);
        CHECK_EQ(memcmp(page + off, "hello, guest", 13), 0);
    }
    const uint8_t *page2 = xa_access_physical_address(xa, 0x10000, &off);
    CHECK(page2 && page2[0] == 'A' && off == 0);
    CHECK(xa_access_virtual_address(xa, 0x402000, &off) == NULL);
    xa_release_page(xa, page);
    xa_release_page(xa, page2);
    xa_release_page(xa, NULL);
    /* Writes are off by default. */
    CHECK_EQ(xa_write_pa(xa, 0x10000, "x", 1), XA_EPERM);
    /* Caches count. */
    struct xa_cache_stats st;
    xa_cache_flush(xa, XA_CACHE_ALL);
    xa_cache_stats(xa, &st);
    CHECK_EQ(st.v2p_entries, 0);
    uint64_t misses = st.v2p_misses, hits = st.v2p_hits;
    CHECK_EQ(xa_translate_kv(xa, 0x400000, &pa), 0);
    CHECK_EQ(xa_translate_kv(xa, 0x400008, &pa), 0);
    xa_cache_stats(xa, &st);
    CHECK_EQ(st.v2p_misses, misses + 1);
    CHECK_EQ(st.v2p_hits, hits + 1);
    CHECK_EQ(st.v2p_entries, 1);
    /* Dumps cannot be paused. */
    CHECK_EQ(xa_pause(xa), XA_ENOTSUP);
    CHECK_EQ(xa_is_live(xa), 0);
    /* Page left out on purpose: destroy releases it. */
    CHECK(xa_access_physical_address(xa, 0x20000, &off) != NULL);
    xa_destroy(xa);
    xa_destroy(NULL);
}

/* Change one entry in the image file under an open instance (its mapping
 * sees the file's bytes as they are now). */
static void file_put64(uint64_t pa, uint64_t v)
{
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, &v, 8, (off_t)pa), 8);
    close(fd);
}

/* Whole-page reads twice or more: the repeats come from the memo of host
 * pages (virtual page -> where its bytes are), which must follow the
 * translations: a remapped or unmapped page after a flush, another root. */
static void test_host_page_memo(void)
{
    struct xa_instance *xa = open_img(0);
    if (!xa)
        return;
    uint8_t buf[4096];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, sizeof(buf), NULL), 0);
        CHECK(buf[0] == 'A' && buf[4095] == 'A');
    }
    /* Another page-table root maps the same address elsewhere. */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(xa_read_va(xa, 0x5000, 0x400000, buf, sizeof(buf), NULL), 0);
        CHECK(buf[0] == 'B');
        CHECK_EQ(xa_read_va(xa, 0x1000, 0x400000, buf, sizeof(buf), NULL), 0);
        CHECK(buf[0] == 'A');
    }
    /* Remapped: the old page until a flush (as every translation), the
     * new one after it. */
    file_put64(0x4000, 0x20000 | 7);
    CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, sizeof(buf), NULL), 0);
    CHECK(buf[0] == 'A');
    xa_cache_flush(xa, XA_CACHE_V2P);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, sizeof(buf), NULL), 0);
        CHECK(buf[0] == 'B' && memcmp(buf + 100, "hello, guest", 13) == 0);
    }
    /* Unmapped: a fault after a flush of everything, not the old bytes. */
    file_put64(0x4000, 0);
    xa_cache_flush(xa, XA_CACHE_ALL);
    size_t n = 1;
    CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, sizeof(buf), &n), XA_EFAULT);
    CHECK_EQ(n, 0);
    CHECK_EQ(xa_read_va(xa, 0, 0x400010, buf, 16, &n), XA_EFAULT);
    /* Mapped back. */
    file_put64(0x4000, 0x10000 | 7);
    xa_cache_flush(xa, XA_CACHE_V2P);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, sizeof(buf), &n), 0);
        CHECK(n == sizeof(buf) && buf[0] == 'A');
    }
    /* Inside the page only: a read across its end is not served from it. */
    CHECK_EQ(xa_read_va(xa, 0, 0x400ff0, buf, 32, &n), 0);
    CHECK(n == 32 && buf[15] == 'A' && buf[16] == 'B');
    xa_destroy(xa);
}

static void test_writes(void)
{
    struct xa_instance *xa = open_img(XA_INIT_WRITE);
    if (!xa)
        return;
    size_t n;
    CHECK_EQ(xa_write_va(xa, 0, 0x400ffe, "XYZW", 4, &n), 0);
    CHECK_EQ(n, 4);
    uint8_t buf[4];
    CHECK_EQ(xa_read_pa(xa, 0x10ffe, buf, 2), 0);
    CHECK(buf[0] == 'X' && buf[1] == 'Y');
    CHECK_EQ(xa_read_pa(xa, 0x20000, buf, 2), 0);
    CHECK(buf[0] == 'Z' && buf[1] == 'W');
    xa_destroy(xa);
}

int main(void)
{
    build_tables();
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, img, sizeof(img)), sizeof(img));
    close(fd);
    snprintf(target, sizeof(target), "file:%s", path);
    test_targets();
    test_reads();
    test_host_page_memo();
    test_writes();
    unlink(path);
    CHECK_DONE();
}
