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
    lx_ptrset_free(&w->seen);
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
    rc = lx_ptrset_add(&w->seen, next);
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
