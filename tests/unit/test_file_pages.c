/*
 * test_file_pages.c -- a LiME image of many tiny, unaligned ranges through
 * the public API: pages that are only partly RAM have no pointer into the
 * file (the backend says XA_MAP_COPY), so the core reads their RAM bytes.
 * Every read path must give the image's bytes for RAM and zero elsewhere in
 * a page, refuse bytes outside RAM, and keep no copy per page: the process
 * must not grow with the number of partial pages read.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "xenaccess.h"

/* Under AddressSanitizer, freed pages wait in a quarantine (256 MiB by
 * default) that would look like copies the library keeps. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=4";
}

#define PAGE 4096u
#define NR_RANGES 20000u

static char path[] = "/tmp/xa-file-pages-XXXXXX";

/* Range i: 40 bytes at page i, offset 4070 + (i % 50): some cross into page i + 1. */
static uint64_t range_start(unsigned i)
{
    return (uint64_t)i * 2 * PAGE + 4070 + i % 50;
}

static uint8_t byte_at(uint64_t pa)
{
    return (uint8_t)(pa * 13 + 5) | 1; /* never 0: told apart from zero-fill */
}

/* -1 when @pa is not RAM, else its byte. */
static int model(uint64_t pa)
{
    unsigned i = (unsigned)(pa / (2 * PAGE));
    for (unsigned j = i ? i - 1 : 0; j <= i + 1 && j < NR_RANGES; j++)
        if (pa >= range_start(j) && pa < range_start(j) + 40)
            return byte_at(pa);
    return -1;
}

static void write_lime(void)
{
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    for (unsigned i = 0; i < NR_RANGES; i++) {
        uint8_t rec[32 + 40] = {0};
        uint32_t magic = 0x4C694D45, version = 1;
        uint64_t s = range_start(i), e = s + 39;
        memcpy(rec, &magic, 4);
        memcpy(rec + 4, &version, 4);
        memcpy(rec + 8, &s, 8);
        memcpy(rec + 16, &e, 8);
        for (unsigned k = 0; k < 40; k++)
            rec[32 + k] = byte_at(s + k);
        CHECK(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
    }
    close(fd);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void)
{
    write_lime();
    char target[100];
    snprintf(target, sizeof(target), "file:%s", path);
    struct xa_instance *xa = NULL;
    CHECK_EQ(xa_init(target, XA_INIT_NO_OS, &xa), 0);
    if (!xa) {
        fprintf(stderr, "%s\n", xa_last_init_error());
        unlink(path);
        CHECK_DONE();
    }
    CHECK_EQ(xa_set_kernel_paging(xa, XA_PM_NONE, 0), 0);
    long rss_before = rss_kib();
    unsigned bad = 0;
    for (unsigned i = 0; i < NR_RANGES; i++) {
        uint64_t s = range_start(i);
        uint8_t buf[48];
        /* A small read (through the page) and a read of the whole range. */
        bad += xa_read_pa(xa, s + 3, buf, 1) != 0 || buf[0] != byte_at(s + 3);
        bad += xa_read_pa(xa, s, buf, 40) != 0 || buf[39] != byte_at(s + 39);
        /* Outside RAM: refused. */
        bad += xa_read_pa(xa, s + 39, buf, 2) == 0 || xa_read_pa(xa, s - 1, buf, 1) == 0;
        /* A virtual read (virtual = physical) across the range's page boundary. */
        size_t n = 0;
        bad += xa_read_va(xa, 0, s, buf, 40, &n) != 0 || n != 40 || buf[20] != byte_at(s + 20);
        /* The whole page handed out: RAM bytes, zeros around them. */
        uint32_t off;
        const uint8_t *pg = xa_access_physical_address(xa, s, &off);
        if (!pg) {
            bad++;
            continue;
        }
        uint64_t base = s - off;
        for (uint32_t k = 0; k < PAGE; k++) {
            int m = model(base + k);
            bad += pg[k] != (m < 0 ? 0 : m);
        }
        xa_release_page(xa, pg);
    }
    CHECK_EQ(bad, 0);
    /* 40,000 partial pages read: kept copies would be 156 MiB. */
    long grown = rss_kib() - rss_before;
    CHECK(grown < 32 * 1024);
    if (grown >= 32 * 1024)
        fprintf(stderr, "RSS grew by %ld KiB\n", grown);
    xa_destroy(xa);
    unlink(path);
    CHECK_DONE();
}
