/*
 * listwalk.c -- bounded walks over the guest's circular list_heads (tasks,
 * modules). The guest writes these lists: a next pointer may be unreadable,
 * point anywhere, or loop back into the middle of the list. Each node is
 * remembered in a set, so a loop is reported at the first repeated node
 * and no node is ever handed out twice; the set grows with the list, which
 * @max bounds (LINUX_MAX_TASKS: 1M nodes, a 32 MiB set at most).
 */
#include <stdlib.h>

#include "os/linux/lxpriv.h"

void lx_list_init(struct lx_list_walk *w, uint64_t head, uint64_t max, const char *what)
{
    *w = (struct lx_list_walk){.head = head, .cur = head, .max = max, .what = what};
}

void lx_list_free(struct lx_list_walk *w)
{
    free(w->seen);
    w->seen = NULL;
    w->seen_cap = 0;
}

static size_t slot_of(uint64_t node, size_t cap)
{
    uint64_t h = node * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

/* Add @node: 1 if new, 0 if already there, XA_ENOMEM. Nodes are non-zero
 * (kernel pointers), so 0 marks an empty slot. */
static int seen_add(struct lx_list_walk *w, uint64_t node)
{
    if (w->steps * 2 >= w->seen_cap) {
        size_t cap = w->seen_cap ? w->seen_cap * 2 : 1024;
        uint64_t *n = calloc(cap, sizeof(*n));
        if (!n)
            return XA_ENOMEM;
        for (size_t i = 0; i < w->seen_cap; i++) {
            if (!w->seen[i])
                continue;
            size_t j = slot_of(w->seen[i], cap);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = w->seen[i];
        }
        free(w->seen);
        w->seen = n;
        w->seen_cap = cap;
    }
    size_t j = slot_of(node, w->seen_cap);
    while (w->seen[j]) {
        if (w->seen[j] == node)
            return 0;
        j = (j + 1) & (w->seen_cap - 1);
    }
    w->seen[j] = node;
    return 1;
}

int lx_list_next(struct xa_instance *xa, struct lx_list_walk *w, uint64_t *node)
{
    if (w->err)
        return w->err;
    if (w->done)
        return 0;
    uint64_t next;
    int rc = lx_u64(xa, w->cur, &next);
    if (rc < 0)
        return w->err = xa__set_error(xa, XA_EFAULT,
                                      "%s broken at 0x%llx: cannot read its next pointer",
                                      w->what, (unsigned long long)w->cur);
    if (next == w->head) {
        w->done = true;
        return 0;
    }
    if (!lx_kernel_ptr(next) || (next & 7))
        return w->err = xa__set_error(xa, XA_EFAULT, "%s broken at 0x%llx: bad next pointer 0x%llx",
                                      w->what, (unsigned long long)w->cur,
                                      (unsigned long long)next);
    if (w->steps >= w->max)
        return w->err = xa__set_error(xa, XA_ELIMIT, "%s longer than %llu entries", w->what,
                                      (unsigned long long)w->max);
    rc = seen_add(w, next);
    if (rc < 0)
        return w->err = xa__set_error(xa, rc, "%s: out of memory", w->what);
    if (rc == 0)
        return w->err = xa__set_error(xa, XA_ELIMIT,
                                      "%s loops (at 0x%llx) without returning to its head",
                                      w->what, (unsigned long long)next);
    w->steps++;
    w->cur = next;
    *node = next;
    return 1;
}
