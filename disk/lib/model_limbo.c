/*
 * model_limbo.c -- names held between the two halves of a rename.
 *
 * Without a journal, nothing makes a rename reach the disk at once: ext2
 * writes the old and the new directory's blocks one by one, and a busy
 * guest may write them a round apart.  Reporting the first half at once
 * gives a DELETE and then a CREATE; holding it (while the inode's link
 * count says the name still exists somewhere) gives the RENAME.  The held
 * name's link stays in the node as a ghost, so paths through it resolve.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "model_priv.h"

#define MAX_LIMBO 4096 /* beyond it, names go at once (as without limbo) */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t limbo_ghosts(const struct xd_model *m, uint32_t ino)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nlimbo; i++)
        n += m->limbo[i].ino == ino;
    return n;
}

/* Hold the name `dir`/`name` of t, which just went away, if t's link count
 * still counts it.  On success the path is taken from *path. */
bool limbo_hold(struct xd_model *m, struct xd_node *t, uint32_t dir, const char *name,
                char **path)
{
    size_t real = t->nlk - limbo_ghosts(m, t->ino);
    if (t->reused || t->links == 0 || t->links <= real || !*path || m->nlimbo >= MAX_LIMBO)
        return false;
    void *room = xd_room(m->limbo, m->nlimbo, &m->limbo_cap, sizeof(*m->limbo), 8);
    if (!room)
        return false;
    m->limbo = room;
    char *nm = strdup(name);
    if (!nm || model_add_link(t, dir, name) != 0) {
        free(nm);
        return false;
    }
    m->limbo[m->nlimbo++] = (struct xd_limbo){.ino = t->ino, .dir = dir, .name = nm,
                                              .path = *path, .since_ms = now_ms()};
    *path = NULL;
    return true;
}

/* Entry i goes; its ghost link with it (t: its node, or NULL). */
void limbo_remove(struct xd_model *m, size_t i, struct xd_node *t)
{
    struct xd_limbo *l = &m->limbo[i];
    if (t)
        model_del_link(t, l->dir, l->name);
    free(l->name);
    free(l->path);
    memmove(l, l + 1, (m->nlimbo - i - 1) * sizeof(*l));
    m->nlimbo--;
}

/* t got a new name: the path it had, if one of its names was held. */
char *limbo_take(struct xd_model *m, struct xd_node *t)
{
    for (size_t i = 0; i < m->nlimbo; i++) {
        if (m->limbo[i].ino != t->ino)
            continue;
        char *path = m->limbo[i].path;
        m->limbo[i].path = NULL;
        limbo_remove(m, i, t);
        return path;
    }
    return NULL;
}

bool limbo_expired(const struct xd_model *m, const struct xd_limbo *l)
{
    return now_ms() - l->since_ms >= m->limbo_ms;
}

bool model_limbo_due(const struct xd_model *m)
{
    for (size_t i = 0; i < m->nlimbo; i++)
        if (limbo_expired(m, &m->limbo[i]))
            return true;
    return false;
}

void limbo_free(struct xd_model *m)
{
    for (size_t i = 0; i < m->nlimbo; i++) {
        free(m->limbo[i].name);
        free(m->limbo[i].path);
    }
    free(m->limbo);
    m->limbo = NULL;
    m->nlimbo = m->limbo_cap = 0;
}
