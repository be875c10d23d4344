/*
 * listwalk.c -- bounded walks over the guest's circular list_heads (tasks,
 * modules). The guest writes these lists: a next pointer may be unreadable,
 * point anywhere, or loop back into the middle of the list. Each node is
 * remembered in a set, so a loop is reported at the first repeated node
 * and no node is ever handed out twice; the set grows with the list, which
 * @max bounds (LINUX_MAX_TASKS: 1M nodes, a 32 MiB set at most).
 *
 * The kernel keeps both links: every step also checks that the next node's
 * prev pointer names the node we came from, and the end of the walk that the
 * head's prev names the last node. One rewritten next pointer (a node that
 * points back at the head early, a head that points at itself) then ends
 * the walk with an error instead of a short list that looks whole. (On a
 * running guest a node unlinked while we stand on it is let through: see
 * unlinked_under_us.)
 *
 * On memory that cannot change (w->immutable: a dump) the set is not kept:
 * the back links alone refuse a loop, at the same node and with the same
 * error. Proof: let A0 = head, A1, A2, ... be the nodes walked, and Ak the
 * first that repeats an earlier Aj (j < k). Aj is not the head (reaching
 * the head ends the walk), so j >= 1 and Aj's prev was checked to be
 * A(j-1). The same address holds the same prev, so the check of Ak's prev
 * asks A(j-1) == A(k-1); these are two different positions before the
 * first repeat (or the head against a node, which the walk never mixes),
 * hence different nodes: the check fails at Ak, before Ak is handed out,
 * exactly where the set would have stopped. A failed back link is then
 * told apart from a loop by walking again from the head (walked_before):
 * the same memory gives the same nodes.
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

/* list_del_rcu() leaves an unlinked node's next intact (RCU readers may
 * still stand on it) and poisons its prev with LIST_POISON2 (x86-64's
 * POISON_POINTER_DELTA is 0xdead000000000000). */
#define LIST_POISON2 0xdead000000000122ULL
#define LIST_POISON2_32 0x122ULL /* 32-bit: POISON_POINTER_DELTA is 0 */

/* On a running guest the node we stand on may be unlinked while we read it:
 * its successor then no longer points back at it, and that is not damage. */
static bool unlinked_under_us(struct xa_instance *xa, const struct lx_list_walk *w)
{
    uint64_t own_prev;
    size_t ps = lx_ptr_size(xa);
    return xa_is_live(xa) && w->cur != w->head && lx_ptr(xa, w->cur + ps, &own_prev) == 0 &&
           own_prev == (ps == 4 ? LIST_POISON2_32 : LIST_POISON2);
}

static int loops_at(struct xa_instance *xa, struct lx_list_walk *w, uint64_t node)
{
    return w->err = xa__set_error(xa, XA_ELIMIT,
                                  "%s loops (at 0x%llx) without returning to its head", w->what,
                                  (unsigned long long)node);
}

/* An immutable walk without its set, whose back link failed at @node: was
 * @node one of the w->steps nodes already walked? Walked again from the
 * head, the same memory gives the same nodes (each was read before). */
static bool walked_before(struct xa_instance *xa, const struct lx_list_walk *w, uint64_t node)
{
    uint64_t at = w->head;
    for (uint64_t i = 0; i < w->steps; i++) {
        if (lx_ptr(xa, at, &at) < 0)
            return false; /* cannot tell: the broken link is reported */
        if (at == node)
            return true;
    }
    return false;
}

/* @node (the current node's successor) has @prev as its prev pointer: it
 * must name the node we are at. */
static int prev_names_cur(struct xa_instance *xa, struct lx_list_walk *w, uint64_t node,
                          uint64_t prev)
{
    if (prev == w->cur || unlinked_under_us(xa, w))
        return 0;
    if (w->immutable && node != w->head && walked_before(xa, w, node))
        return loops_at(xa, w, node); /* what the set would have said */
    return w->err = xa__set_error(
                   xa, XA_EBADDATA,
                   "%s broken after %llu entries: 0x%llx links to 0x%llx, whose prev is 0x%llx",
                   w->what, (unsigned long long)w->steps, (unsigned long long)w->cur,
                   (unsigned long long)node, (unsigned long long)prev);
}

/* list_head.prev follows next: @next's prev must be the node we are at. */
static int check_prev(struct xa_instance *xa, struct lx_list_walk *w, uint64_t next)
{
    uint64_t prev;
    if (lx_ptr(xa, next + lx_ptr_size(xa), &prev) < 0)
        return w->err = xa__set_error(xa, XA_EFAULT,
                                      "%s broken at 0x%llx: cannot read the prev pointer of 0x%llx",
                                      w->what, (unsigned long long)w->cur,
                                      (unsigned long long)next);
    return prev_names_cur(xa, w, next, prev);
}

/* The checks of one step to @next, the current node's next pointer, but
 * the new node's prev link: 1 with *node, 0 back at the head (whose prev is
 * checked here), or a negative error (sticky). */
int lx_list_advance(struct xa_instance *xa, struct lx_list_walk *w, uint64_t next,
                    uint64_t *node)
{
    if (w->err)
        return w->err;
    if (w->done)
        return 0;
    if (next == w->head) {
        int rc = check_prev(xa, w, next);
        if (rc < 0)
            return rc;
        w->done = true;
        return 0;
    }
    if (!lx_kptr(xa, next) || (next & (lx_ptr_size(xa) - 1)))
        return w->err = xa__set_error(xa, XA_EFAULT, "%s broken at 0x%llx: bad next pointer 0x%llx",
                                      w->what, (unsigned long long)w->cur,
                                      (unsigned long long)next);
    if (w->steps >= w->max)
        return w->err = xa__set_error(xa, XA_ELIMIT, "%s longer than %llu entries", w->what,
                                      (unsigned long long)w->max);
    if (!w->immutable) { /* else the back link refuses a repeat: see the top */
        int rc = lx_ptrset_add(&w->seen, next);
        if (rc < 0)
            return w->err = xa__set_error(xa, rc, "%s: out of memory", w->what);
        if (rc == 0)
            return loops_at(xa, w, next);
    }
    *node = next;
    return 1;
}

/* The other half of a step lx_list_advance() began: @prev is @node's prev
 * pointer as the caller read it; it must name the node we came from. */
int lx_list_link_back(struct xa_instance *xa, struct lx_list_walk *w, uint64_t node,
                      uint64_t prev)
{
    int rc = prev_names_cur(xa, w, node, prev);
    if (rc < 0)
        return rc;
    w->steps++;
    w->cur = node;
    return 0;
}

int lx_list_next(struct xa_instance *xa, struct lx_list_walk *w, uint64_t *node)
{
    if (w->err)
        return w->err;
    if (w->done)
        return 0;
    uint64_t next;
    int rc = lx_ptr(xa, w->cur, &next);
    if (rc < 0)
        return w->err = xa__set_error(xa, XA_EFAULT,
                                      "%s broken at 0x%llx: cannot read its next pointer",
                                      w->what, (unsigned long long)w->cur);
    rc = lx_list_advance(xa, w, next, node);
    if (rc <= 0)
        return rc;
    rc = check_prev(xa, w, next);
    if (rc < 0)
        return rc;
    w->steps++;
    w->cur = next;
    return 1;
}
