/* internal.h -- small helpers shared inside libxadisk. */
#ifndef XADISK_INTERNAL_H
#define XADISK_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Static text for an XA_E* code (libxadisk does not link libxenaccess). */
const char *xd_strerror(int err);

/* The growing array @v of *cap elements of @elem bytes, @n of them used,
 * with room for one more: @v itself, or moved with its capacity doubled
 * (@first the first time).  NULL when out of memory (or past SIZE_MAX):
 * @v and *cap unchanged. */
static inline void *xd_room(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap < *cap || ncap > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(v, ncap * elem);
    if (p)
        *cap = ncap;
    return p;
}
#endif
