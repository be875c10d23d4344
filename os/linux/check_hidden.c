/*
 * check_hidden.c -- the hidden processes one check found: each leader once,
 * with every view that reached it, and the findings that name them. Shared
 * by the BTF check (check_tasks.c) and the 32-bit one (check32_views_tasks.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"

bool check_hidden_mark(struct check_hidden_tasks *h, uint64_t leader, unsigned view)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].leader == leader) {
            h->v[i].views |= view;
            return true;
        }
    return false;
}

int check_hidden_add(struct check_ctx *c, struct check_hidden_tasks *h, uint64_t leader,
                     unsigned view, uint64_t tgid_off, uint64_t comm_off)
{
    struct check_hidden_task t = {.leader = leader, .views = view, .tgid = -1};
    if (lx_read(c->xa, leader + tgid_off, &t.tgid, sizeof(t.tgid)) < 0 ||
        lx_read(c->xa, leader + comm_off, t.comm, XA_COMM_LEN) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                             (unsigned long long)leader);
    t.comm[XA_COMM_LEN] = '\0';
    if (t.tgid == 0)
        return 0; /* an idle task: never on the list */
    if (h->n == CHECK_MAX_HIDDEN_TASKS)
        return xa__set_error(c->xa, XA_ELIMIT, "more than %u hidden processes",
                             CHECK_MAX_HIDDEN_TASKS);
    struct check_hidden_task *n = realloc(h->v, (h->n + 1) * sizeof(*n));
    if (!n)
        return xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    h->v = n;
    h->v[h->n++] = t;
    return 0;
}

static int report(struct check_ctx *c, const struct check_hidden_tasks *h,
                  const struct check_hidden_task *t)
{
    char where[256] = "";
    unsigned shown = 0, total = (unsigned)__builtin_popcount(t->views);
    for (unsigned v = 0; v < h->nr_views; v++) {
        if (!(t->views & (1u << v)))
            continue;
        shown++;
        const char *sep = shown == 1 ? "" : shown == total ? " and " : ", ";
        size_t len = strlen(where);
        snprintf(where + len, sizeof(where) - len, "%s%s", sep, h->view_names[v]);
    }
    return check_report(c, "hidden-process", t->comm, t->tgid, t->leader,
                        "pid %d (%s) is %s but not on the task list", (int)t->tgid, t->comm,
                        where);
}

int check_hidden_report_all(struct check_ctx *c, struct check_hidden_tasks *h, int rc)
{
    /* what was found before a walk stopped still stands */
    for (size_t i = 0; i < h->n; i++) {
        int r = report(c, h, &h->v[i]);
        if (r) {
            rc = rc ? rc : r;
            break;
        }
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
    return rc;
}
