/* watch.c -- watches: which paths a handle's events are for. */
#include <stdlib.h>
#include <string.h>

#include "handle.h"

static bool path_under(const char *path, const struct watch *w)
{
    if (!path)
        return false;
    size_t l = strlen(w->path);
    if (strcmp(w->path, "/") == 0) {
        if (w->flags & XADISK_WATCH_RECURSIVE)
            return true;
        return path[0] == '/' && !strchr(path + 1, '/');
    }
    if (strncmp(path, w->path, l) != 0)
        return false;
    if (path[l] == 0)
        return true;
    if (path[l] != '/')
        return false;
    return (w->flags & XADISK_WATCH_RECURSIVE) || !strchr(path + l + 1, '/');
}

bool xd_watch_wanted(const struct xadisk *xd, const struct xadisk_event *ev)
{
    if (!xd->nw || ev->type == XADISK_EV_RESYNC)
        return true;
    for (size_t i = 0; i < xd->nw; i++)
        if ((xd->w[i].mask & ev->type) &&
            (path_under(ev->path, &xd->w[i]) || path_under(ev->old_path, &xd->w[i])))
            return true;
    return false;
}

static char *normalize(const char *p)
{
    if (!p || p[0] != '/')
        return NULL;
    char *s = strdup(p);
    if (!s)
        return NULL;
    size_t l = strlen(s);
    while (l > 1 && s[l - 1] == '/')
        s[--l] = 0;
    return s;
}

int xadisk_set_watch(struct xadisk *xd, const char *path, uint32_t flags, uint32_t mask)
{
    char *p = normalize(path);
    if (!p)
        return xd_fail(xd, XA_EINVAL, "watch path must be absolute: %s", path ? path : "(null)");
    for (size_t i = 0; i < xd->nw; i++)
        if (strcmp(xd->w[i].path, p) == 0) {
            free(p);
            xd->w[i].flags = flags;
            xd->w[i].mask = mask;
            return 0;
        }
    void *n = realloc(xd->w, (xd->nw + 1) * sizeof(*xd->w));
    if (!n) {
        free(p);
        return XA_ENOMEM;
    }
    xd->w = n;
    xd->w[xd->nw++] = (struct watch){.path = p, .flags = flags, .mask = mask};
    return 0;
}

int xadisk_unset_watch(struct xadisk *xd, const char *path)
{
    char *p = normalize(path);
    if (!p)
        return xd_fail(xd, XA_EINVAL, "watch path must be absolute");
    for (size_t i = 0; i < xd->nw; i++)
        if (strcmp(xd->w[i].path, p) == 0) {
            free(xd->w[i].path);
            xd->w[i] = xd->w[--xd->nw];
            free(p);
            return 0;
        }
    free(p);
    return xd_fail(xd, XA_ENOENT, "no watch on %s", path);
}
