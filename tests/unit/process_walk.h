/*
 * process_walk.h -- shared by the tests of the kept process list (synthetic
 * guests and real dumps): a whole walk into an array, and the first process
 * where two walks differ in any field a walk decodes.
 */
#ifndef XA_TEST_PROCESS_WALK_H
#define XA_TEST_PROCESS_WALK_H

#include <stddef.h>
#include <string.h>

#include "xenaccess.h"
#include "xenaccess_os.h"

/* Every process of a whole walk into @out (at most @max); the walk's end code. */
static inline int walk_all(struct xa_instance *xa, struct xa_process *out, size_t max, size_t *n)
{
    struct xa_process_iter *it;
    *n = 0;
    int rc = xa_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process p;
    while ((rc = xa_process_iter_next(it, &p)) == 1)
        if (*n < max)
            out[(*n)++] = p;
    xa_process_iter_free(it);
    return rc;
}

/* The index of the first of @n processes that differ, or @n. */
static inline size_t first_difference(const struct xa_process *a, const struct xa_process *b,
                                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].pid != b[i].pid || a[i].tgid != b[i].tgid || a[i].ppid != b[i].ppid ||
            a[i].uid != b[i].uid || a[i].gid != b[i].gid || a[i].euid != b[i].euid ||
            a[i].egid != b[i].egid || strcmp(a[i].comm, b[i].comm) != 0 ||
            a[i].state != b[i].state || a[i].flags != b[i].flags || a[i].task != b[i].task ||
            a[i].mm != b[i].mm || a[i].dtb != b[i].dtb || a[i].start_time != b[i].start_time)
            return i;
    return n;
}

#endif
