/*
 * kmsg.c -- the kernel log of a Linux guest (5.10+): where the printk ring
 * buffer is (the prb pointer) and its layout from BTF -- or, on a 32-bit
 * kernel without BTF, both from the ring's shape (kmsg32.c) -- and the
 * iterator over its records (prb.c reads them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "os/linux/lxpriv.h"
#include "os/linux/netlog.h"
#include "os/linux/netread.h"

struct lx_kmsg_offsets {
    struct lx_prb_layout l;
    uint64_t rb; /* the ring, when found by its shape; else the prb symbol says */
    char missing[XA_ERRMSG_LEN];
};

#define IMAGE32_SPAN (64ULL << 20) /* as kernel32.c: _text.._end of a 32-bit kernel */

struct xa_kmsg_iter {
    struct xa_instance *xa; /* first member: the public glue dispatches through it */
    struct lx_prb rb;
    uint64_t seq;    /* next to read */
    uint64_t expect; /* seq after the last record returned */
    int err;         /* sticky */
};

_Static_assert(offsetof(struct xa_kmsg_iter, xa) == 0, "xa first (os/os.h, struct xa_os_iter)");

/* Bit offset of bitfield @member of struct @type; 0 or -1. */
static int bitfield(const struct btf *btf, const char *type, const char *member, uint64_t *bits,
                    unsigned *size)
{
    int32_t id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
    const struct btf_type *t = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
    if (!t)
        return -1;
    const struct btf_member *m = btf_members(t);
    for (uint16_t i = 0; i < btf_vlen(t); i++, m++)
        if (strcmp(btf__name_by_offset(btf, m->name_off), member) == 0) {
            *bits = btf_member_bit_offset(t, i);
            *size = btf_member_bitfield_size(t, i);
            return 0;
        }
    return -1;
}

/* The ring's layout from BTF, its words of the kernel's width (a 32-bit
 * kernel with BTF: 4-byte longs and pointers, kernel space from
 * PAGE_OFFSET). */
static struct lx_kmsg_offsets *resolve(struct linux_os *lx)
{
    struct lx_kmsg_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    struct lx_prb_layout *l = &o->l;
    l->word = lx_is32(lx) ? 4 : 8;
    l->kptr_min = lx_is32(lx) ? lx->page_offset : 0xff00000000000000ULL;
    if (lx_is32(lx) && !lx->page_offset)
        snprintf(o->missing, sizeof(o->missing), "32-bit kernel: no PAGE_OFFSET");
    const struct {
        uint64_t *dst;
        const char *type, *path;
    } w[] = {
        {&l->desc_ring, "printk_ringbuffer", "desc_ring"},
        {&l->text_ring, "printk_ringbuffer", "text_data_ring"},
        {&l->count_bits, "prb_desc_ring", "count_bits"},
        {&l->descs, "prb_desc_ring", "descs"},
        {&l->infos, "prb_desc_ring", "infos"},
        {&l->head_id, "prb_desc_ring", "head_id"},
        {&l->tail_id, "prb_desc_ring", "tail_id"},
        {&l->size_bits, "prb_data_ring", "size_bits"},
        {&l->data, "prb_data_ring", "data"},
        {&l->state_var, "prb_desc", "state_var"},
        {&l->text_begin, "prb_desc", "text_blk_lpos.begin"},
        {&l->text_next, "prb_desc", "text_blk_lpos.next"},
        {&l->seq, "printk_info", "seq"},
        {&l->ts_nsec, "printk_info", "ts_nsec"},
        {&l->text_len, "printk_info", "text_len"},
        {&l->facility, "printk_info", "facility"},
        {&l->caller_id, "printk_info", "caller_id"},
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (linux_btf_member(lx, w[i].type, w[i].path, w[i].dst) < 0 && !o->missing[0])
            snprintf(o->missing, sizeof(o->missing),
                     "the kernel's BTF has no %s.%s (a kernel before 5.10?)", w[i].type,
                     w[i].path);
    int64_t d = btf__find_by_name_kind(lx->btf, "prb_desc", BTF_KIND_STRUCT);
    int64_t f = btf__find_by_name_kind(lx->btf, "printk_info", BTF_KIND_STRUCT);
    l->desc_size = d > 0 ? (uint64_t)btf__resolve_size(lx->btf, (uint32_t)d) : 0;
    l->info_size = f > 0 ? (uint64_t)btf__resolve_size(lx->btf, (uint32_t)f) : 0;
    uint64_t bits = 0;
    unsigned size = 0;
    if (!o->missing[0] &&
        (bitfield(lx->btf, "printk_info", "level", &bits, &size) < 0 || size != 3 ||
         bits % 8 > 5 || !l->desc_size || !l->info_size))
        snprintf(o->missing, sizeof(o->missing),
                 "the kernel's BTF has no 3-bit printk_info.level or record sizes");
    l->level_byte = bits / 8;
    l->level_shift = (unsigned)(bits % 8);
    return o;
}

void linux_kmsg_free(struct linux_priv *p)
{
    free(p->kmsg);
    p->kmsg = NULL;
}

static int read_kernel(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* A 32-bit kernel without BTF: the ring is searched in the kernel image
 * past its text (printk's rings live in .data and .bss). */
static struct lx_kmsg_offsets *resolve32(struct xa_instance *xa, const struct linux_os *lx)
{
    struct lx_kmsg_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    uint64_t lo = lx->text_start, hi;
    if (symtab_lookup(&lx->syms, "_etext", &lo) < 0 || lo < lx->text_start)
        lo = lx->text_start;
    hi = lx->text_start + IMAGE32_SPAN > 0x100000000ULL ? 0x100000000ULL
                                                          : lx->text_start + IMAGE32_SPAN;
    char why[LX_WHY_LEN];
    if (lx_prb32_find(read_kernel, xa, lo, hi, lx->page_offset, &o->l, &o->rb, why) < 0)
        snprintf(o->missing, sizeof(o->missing), "32-bit kernel without BTF: %s", why);
    return o;
}

int linux_kmsg_iter_new(struct xa_instance *xa, uint64_t from_seq, struct xa_kmsg_iter **out)
{
    struct linux_priv *p = linux_priv(xa);
    const bool by_shape = !p->lx.btf && lx_is32(&p->lx);
    if (!p->lx.btf && !by_shape)
        return xa__set_error(xa, XA_ENOTSUP, "cannot read the kernel log: no kernel types (BTF)");
    if (!p->kmsg && !(p->kmsg = by_shape ? resolve32(xa, &p->lx) : resolve(&p->lx)))
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    if (p->kmsg->missing[0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot read the kernel log: %s", p->kmsg->missing);
    uint64_t prb_sym, rb = p->kmsg->rb;
    if (by_shape) {
        /* found by its shape (resolve32) */
    } else if (symtab_lookup(&p->lx.syms, "prb", &prb_sym) < 0) {
        return xa__set_error(xa, XA_ENOENT, "cannot read the kernel log: no prb symbol");
    } else if (lx_ptr(xa, prb_sym, &rb) < 0 || !lx_kptr(xa, rb)) {
        return xa__set_error(xa, XA_EBADDATA, "kernel log: bad prb pointer at 0x%llx",
                             (unsigned long long)prb_sym);
    }
    struct xa_kmsg_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    char why[LX_WHY_LEN];
    int rc = lx_prb_open(&p->kmsg->l, read_kernel, xa, rb, &it->rb, why);
    if (rc < 0) {
        free(it);
        return xa__set_error(xa, rc, "kernel log at 0x%llx: %s", (unsigned long long)rb, why);
    }
    it->xa = xa;
    it->expect = from_seq;
    it->seq = from_seq > it->rb.first_seq ? from_seq : it->rb.first_seq;
    *out = it;
    return 0;
}

int linux_kmsg_iter_next(struct xa_kmsg_iter *it, struct xa_kmsg *out)
{
    if (it->err)
        return it->err;
    const struct lx_prb_layout *l = &linux_priv(it->xa)->kmsg->l;
    char why[LX_WHY_LEN];
    while (it->seq < it->rb.end_seq) {
        int rc = lx_prb_record(l, read_kernel, it->xa, &it->rb, it->seq, out, why);
        it->seq++;
        if (rc < 0)
            return it->err = xa__set_error(it->xa, rc, "kernel log: record %llu: %s",
                                           (unsigned long long)(it->seq - 1), why);
        if (rc == 1) {
            out->dropped = out->seq - it->expect;
            it->expect = out->seq + 1;
            return 1;
        }
    }
    return 0;
}

uint64_t linux_kmsg_iter_next_seq(const struct xa_kmsg_iter *it)
{
    return it->expect;
}

void linux_kmsg_iter_free(struct xa_kmsg_iter *it)
{
    free(it);
}
