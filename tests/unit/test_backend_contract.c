/*
 * test_backend_contract.c -- core/backend.c holds every backend to the
 * contract of backends/backend.h: a fake backend that breaks it in each way
 * (a positive count for a read, an unknown code, no message, a NULL page,
 * calls outside RAM or without the capability) and fault injection.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/instance.h"

struct fake {
    struct xa_backend base;
    int read_rc;        /* what read_pa returns */
    bool read_sets_msg; /* read_pa calls xa__set_error on failure */
    bool map_null;      /* map_page succeeds without a page */
    unsigned reads, maps, pauses;
    uint8_t page[XA_PAGE_SIZE];
};

static int fake_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    (void)flags;
    static struct xa_mem_range ram[] = {{0, 0x10000}, {0x20000, 0x1000}};
    be->ranges = ram;
    be->nr_ranges = 2;
    be->caps = XA_CAP_WRITE | XA_CAP_PAUSE;
    snprintf(be->method, sizeof(be->method), "fake");
    return strcmp(spec, "bad-open") == 0 ? 7 : 0;
}

static void fake_close(struct xa_backend *be)
{
    (void)be;
}

static int fake_read(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    struct fake *f = (struct fake *)be;
    f->reads++;
    (void)pa;
    memset(buf, 0xab, len);
    if (f->read_rc < 0 && f->read_sets_msg)
        return xa__set_error(be->xa, f->read_rc, "fake read failed on purpose");
    return f->read_rc;
}

static int fake_write(struct xa_backend *be, uint64_t pa, const void *buf, size_t len)
{
    (void)be, (void)pa, (void)buf, (void)len;
    return 0;
}

static int fake_map(struct xa_backend *be, uint64_t pfn, const void **out)
{
    struct fake *f = (struct fake *)be;
    (void)pfn;
    f->maps++;
    *out = f->map_null ? NULL : f->page;
    return 0;
}

static void fake_unmap(struct xa_backend *be, uint64_t pfn, const void *page)
{
    (void)be, (void)pfn, (void)page;
}

static int fake_pause(struct xa_backend *be)
{
    ((struct fake *)be)->pauses++;
    return 0;
}

static const struct xa_backend_ops fake_ops = {
    .name = "fake",
    .instance_size = sizeof(struct fake),
    .open = fake_open,
    .close = fake_close,
    .read_pa = fake_read,
    .write_pa = fake_write,
    .map_page = fake_map,
    .unmap_page = fake_unmap,
    .pause = fake_pause,
    .resume = fake_pause,
};

static struct xa_instance *open_fake(uint32_t flags)
{
    struct xa_instance *xa = calloc(1, sizeof(*xa));
    xa->flags = flags;
    CHECK_EQ(xa__be_open(xa, &fake_ops, "x", flags), 0);
    /* the layout as take_layout() leaves it */
    xa->ranges = xa->be->ranges;
    xa->nr_ranges = xa->be->nr_ranges;
    return xa;
}

static void close_fake(struct xa_instance *xa)
{
    xa__be_close(xa);
    CHECK(xa->be == NULL);
    free(xa);
}

static void test_open(void)
{
    struct xa_instance *xa = calloc(1, sizeof(*xa));
    /* open returning a positive value is not success */
    CHECK_EQ(xa__be_open(xa, &fake_ops, "bad-open", 0), XA_EIO);
    CHECK(strstr(xa->errmsg, "broke its contract") != NULL);
    xa__be_close(xa);
    struct xa_backend_ops no_read = fake_ops;
    no_read.read_pa = NULL;
    CHECK_EQ(xa__be_open(xa, &no_read, "x", 0), XA_EINVAL);
    CHECK(xa->be == NULL);
    struct xa_backend_ops no_unmap = fake_ops;
    no_unmap.unmap_page = NULL; /* without XA_CAP_STABLE_MAP */
    CHECK_EQ(xa__be_open(xa, &no_unmap, "x", 0), XA_EIO);
    xa__be_close(xa);
    free(xa);

    /* read-only unless asked: the write capability is dropped */
    xa = open_fake(0);
    CHECK((xa->be->caps & XA_CAP_WRITE) == 0);
    close_fake(xa);
    xa = open_fake(XA_INIT_WRITE);
    CHECK((xa->be->caps & XA_CAP_WRITE) != 0);
    close_fake(xa);
}

static void test_reads(void)
{
    struct xa_instance *xa = open_fake(0);
    struct fake *f = (struct fake *)xa->be;
    uint8_t buf[64];

    CHECK_EQ(xa__be_read_pa(xa, 0x100, buf, 8), 0);
    CHECK_EQ(f->reads, 1);
    /* outside RAM, across the hole, past the end, wrapping: never reaches the backend */
    CHECK_EQ(xa__be_read_pa(xa, 0x10000, buf, 1), XA_ERANGE);
    CHECK_EQ(xa__be_read_pa(xa, 0xfff8, buf, 16), XA_ERANGE);
    CHECK_EQ(xa__be_read_pa(xa, 0x20ff8, buf, 16), XA_ERANGE);
    CHECK_EQ(xa__be_read_pa(xa, UINT64_MAX - 3, buf, 8), XA_ERANGE);
    CHECK_EQ(f->reads, 1);

    /* a partial count passed off as success */
    f->read_rc = 8;
    CHECK_EQ(xa__be_read_pa(xa, 0x100, buf, 16), XA_EIO);
    CHECK(strstr(xa->errmsg, "broke its contract") != NULL);
    /* a code that is no XA_E* */
    f->read_rc = -77777;
    CHECK_EQ(xa__be_read_pa(xa, 0x100, buf, 16), XA_EIO);
    CHECK(strstr(xa->errmsg, "-77777") != NULL);
    /* a failure without a message gets one; one with a message keeps it */
    f->read_rc = XA_EGONE;
    CHECK_EQ(xa__be_read_pa(xa, 0x200, buf, 16), XA_EGONE);
    CHECK(strstr(xa->errmsg, "fake backend: read_pa at 0x200 failed") != NULL);
    f->read_sets_msg = true;
    CHECK_EQ(xa__be_read_pa(xa, 0x200, buf, 16), XA_EGONE);
    CHECK(strcmp(xa->errmsg, "fake read failed on purpose") == 0);
    close_fake(xa);
}

static void test_writes_and_maps(void)
{
    struct xa_instance *xa = open_fake(0);
    struct fake *f = (struct fake *)xa->be;
    uint8_t byte = 1;
    CHECK_EQ(xa__be_write_pa(xa, 0, &byte, 1), XA_EPERM);
    close_fake(xa);

    xa = open_fake(XA_INIT_WRITE);
    f = (struct fake *)xa->be;
    CHECK_EQ(xa__be_write_pa(xa, 0, &byte, 1), 0);
    CHECK_EQ(xa__be_write_pa(xa, 0xffff, &byte, 2), XA_ERANGE);

    const void *page = NULL;
    CHECK_EQ(xa__be_map_page(xa, 0, &page), 0);
    CHECK(page == f->page);
    CHECK_EQ(xa__be_map_page(xa, 0x10, &page), XA_ERANGE); /* 0x10000: the hole */
    CHECK_EQ(xa__be_map_page(xa, UINT64_MAX, &page), XA_ERANGE);
    CHECK_EQ(f->maps, 1);
    f->map_null = true;
    page = f->page;
    CHECK_EQ(xa__be_map_page(xa, 1, &page), XA_EIO);
    CHECK(strstr(xa->errmsg, "without a page") != NULL);

    /* no registers: refused before the backend */
    struct xa_regs regs;
    CHECK_EQ(xa__be_vcpu_regs(xa, 0, &regs), XA_ENOTSUP);
    close_fake(xa);
}

static void test_faults(void)
{
    struct xa_instance *xa = open_fake(0);
    struct fake *f = (struct fake *)xa->be;
    uint8_t buf[8];
    xa__be_inject_fault(xa, XA_BE_OP_READ, 3, XA_EIO);
    CHECK_EQ(xa__be_read_pa(xa, 0, buf, 8), 0);
    CHECK_EQ(xa__be_read_pa(xa, 0, buf, 8), 0);
    CHECK_EQ(xa__be_read_pa(xa, 0, buf, 8), XA_EIO);
    CHECK(strstr(xa->errmsg, "injected") != NULL);
    CHECK_EQ(f->reads, 2); /* the failing call did not reach the backend */
    CHECK_EQ(xa__be_read_pa(xa, 0, buf, 8), 0);
    /* a fault for another op leaves reads alone */
    xa__be_inject_fault(xa, XA_BE_OP_PAUSE, 1, XA_EGONE);
    CHECK_EQ(xa__be_read_pa(xa, 0, buf, 8), 0);
    CHECK_EQ(xa__be_pause(xa), XA_EGONE);
    CHECK_EQ(f->pauses, 0);
    CHECK_EQ(xa__be_pause(xa), 0);
    CHECK_EQ(xa__be_resume(xa), 0);
    CHECK_EQ(f->pauses, 2);
    close_fake(xa);
}

int main(void)
{
    test_open();
    test_reads();
    test_writes_and_maps();
    test_faults();
    CHECK_DONE();
}
