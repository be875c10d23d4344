/*
 * btf32_kernel.h -- a synthetic kernel of W-byte words (W 4: i386 with PAE
 * and BTF; W 8: x86-64), its layout told only by a BTF the test builds
 * with W-byte pointers and longs. Shared by test_check_btf32.c and
 * test_kmsg_btf32.c; include after check.h and synthetic_guest.h.
 *
 * How the 32-bit kernel is made: the image is placed through a System.map
 * by its 64-bit anchors (the loader that places a System.map is x86-64's),
 * then the instance is switched to PAE paging over tables that map
 * 0xC0000000.. onto the image (a 32-bit direct map), and the Linux layer
 * to a 32-bit kernel (mode PAE, PAGE_OFFSET 0xC0000000), as kernel32.c
 * sets it for a real i386 guest. Every address read is then a 32-bit one,
 * translated by PAE tables.
 */
#ifndef XA_TEST_BTF32_KERNEL_H
#define XA_TEST_BTF32_KERNEL_H

#include <bpf/btf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "os/linux/lxpriv.h"

#define PAGE_OFFSET32 0xC0000000ULL
#define TEXT64 0x10000 /* _stext in the 64-bit image: above its other symbols */

static unsigned W; /* the kernel's word: 4 or 8 */

static uint64_t va(uint64_t pa) { return W == 8 ? DM + pa : PAGE_OFFSET32 + pa; }
static uint64_t alloc(uint64_t size) { return pa_of(galloc(size, 64)); }
static void put_word(uint64_t pa, uint64_t v)
{
    if (W == 8)
        put64(pa, v);
    else
        put32(pa, (uint32_t)v);
}

/* An empty kernel: the image's 64-bit anchors and a banner. */
static void btf32_reset(void)
{
    memset(img, 0, IMG_SIZE);
    heap_top = 0x200000;
    build_kernel_tables(); /* the 64-bit anchors the System.map is placed by */
    strcpy((char *)img + kpa(K_BANNER), "Linux version 6.1.0-fake (test@xenaccess) #1 SMP\n");
}

/* The System.map lines every kernel needs (the text: the image's for 64
 * bits, 0xC1000000.. for 32); the test's own symbols follow. */
static int btf32_map_anchors(char *buf, size_t size)
{
    uint64_t stext = W == 8 ? KLINK + TEXT64 : 0xC1000000ULL, etext = stext + 0x80000;
    return snprintf(buf, size,
                    "%016llx T _text\n%016llx D init_top_pgt\n%016llx D linux_banner\n"
                    "%016llx T _stext\n%016llx T _etext\n",
                    (unsigned long long)KLINK, (unsigned long long)(KLINK + K_TOP_PGT),
                    (unsigned long long)(KLINK + K_BANNER), (unsigned long long)stext,
                    (unsigned long long)etext);
}

/* The raw bytes of @b (freed), in a copy of *@size bytes. */
static void *btf32_raw(struct btf *b, uint32_t *size)
{
    const void *raw = btf__raw_data(b, size);
    void *copy = malloc(*size);
    if (!copy)
        abort();
    memcpy(copy, raw, *size);
    btf__free(b);
    return copy;
}

static char btf32_img_path[] = "/tmp/xa-test-btf32-img-XXXXXX";
static char btf32_map_path[] = "/tmp/xa-test-btf32-map-XXXXXX";
static char btf32_btf_path[] = "/tmp/xa-test-btf32-btf-XXXXXX";
static bool btf32_made; /* the files exist: rewrite them */

static void btf32_write(char *path, const void *data, size_t len)
{
    int fd = btf32_made ? open(path, O_WRONLY | O_TRUNC) : mkstemp(path);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

/* A 32-bit kernel: PAE tables mapping 0xC0000000.. onto the image. */
static uint64_t btf32_pae_tables(void)
{
    uint64_t pdpt = pa_of(galloc(32, 32)), pd = pa_of(galloc(4096, 4096));
    put64(pdpt + 3 * 8, pd | 1); /* PDPTEs: present, no RW/US */
    for (uint64_t i = 0; i < IMG_SIZE / (2 * MIB); i++)
        put64(pd + i * 8, (i * 2 * MIB) | 0x83);
    return pdpt;
}

/* The image as built, with the BTF from @btf (freed) and the System.map
 * @map: an instance of a W-byte kernel, or NULL after a failed CHECK. */
static struct xa_instance *btf32_open(struct btf *btf, const char *map)
{
    uint64_t pdpt = W == 4 ? btf32_pae_tables() : 0;
    uint32_t btf_size;
    void *raw = btf32_raw(btf, &btf_size);
    btf32_write(btf32_btf_path, raw, btf_size);
    free(raw);
    btf32_write(btf32_map_path, map, strlen(map));
    btf32_write(btf32_img_path, img, IMG_SIZE);
    btf32_made = true;
    static char target[128]; /* kept by the instance? keep it alive */
    snprintf(target, sizeof(target), "file:%s", btf32_img_path);
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = btf32_map_path;
    o.btf = btf32_btf_path;
    struct xa_instance *xa = NULL;
    if (xa_init_opts(&o, &xa) != 0) {
        CHECK(false, "open: %s", xa_last_init_error());
        return NULL;
    }
    if (W == 4) { /* what kernel32.c finds on an i386 guest */
        struct x86_paging pg = {.mode = XA_PM_PAE, .nxe = true};
        xa__set_kernel_paging(xa, &pg, pdpt);
        struct linux_os *lx = &linux_priv(xa)->lx;
        lx->mode = XA_PM_PAE;
        lx->page_offset = PAGE_OFFSET32;
        CHECK(lx_is32(lx) && lx->btf && lx_ptr_size(xa) == 4);
    }
    return xa;
}

/* The types every W-byte kernel's BTF here begins with: the integers, a
 * pointer, list_head, rb_node and rb_root (W-byte words). */
struct btf32_types {
    int t_int, t_uint, t_ulong, t_u64, t_u16, t_char, t_ptr, s_list, s_rb, s_rb_root;
};

static struct btf *btf32_new(struct btf32_types *t)
{
    struct btf *b = btf__new_empty();
    btf__set_pointer_size(b, W);
    t->t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    t->t_uint = btf__add_int(b, "unsigned int", 4, 0);
    t->t_ulong = btf__add_int(b, "long unsigned int", (size_t)W, 0);
    t->t_u64 = btf__add_int(b, "long long unsigned int", 8, 0);
    t->t_u16 = btf__add_int(b, "short unsigned int", 2, 0);
    t->t_char = btf__add_int(b, "char", 1, BTF_INT_CHAR);
    t->t_ptr = btf__add_ptr(b, 0);
    t->s_list = btf__add_struct(b, "list_head", 2 * W);
    btf__add_field(b, "next", t->t_ptr, 0, 0);
    btf__add_field(b, "prev", t->t_ptr, W * 8, 0);
    t->s_rb = btf__add_struct(b, "rb_node", 3 * W);
    btf__add_field(b, "__rb_parent_color", t->t_ulong, 0, 0);
    btf__add_field(b, "rb_right", t->t_ptr, W * 8, 0);
    btf__add_field(b, "rb_left", t->t_ptr, 2 * W * 8, 0);
    t->s_rb_root = btf__add_struct(b, "rb_root", W);
    btf__add_field(b, "rb_node", t->t_ptr, 0, 0);
    return b;
}

static void btf32_cleanup(void)
{
    unlink(btf32_img_path);
    unlink(btf32_map_path);
    unlink(btf32_btf_path);
}

#endif
