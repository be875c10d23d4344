/*
 * model_ahead.c -- directory entries that reached the disk before their inode.
 *
 * Without a journal nothing orders the writes: the flusher may write a
 * directory's block a round before the inode table block that makes its new
 * entry's inode live.  Such an entry waits here and is looked at every
 * round: once its inode is live it is linked as an entry of that round (its
 * CREATE comes then); once its directory no longer has it, it goes
 * unreported.  Bounded: past MAX_AHEAD an entry is skipped as before (and
 * counted as bad), so a directory full of entries naming free inodes costs
 * at most MAX_AHEAD inode reads a round.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model_priv.h"

#define MAX_AHEAD 1024

static bool same(const struct xd_ahead *a, uint32_t dir, uint32_t ino, const char *name)
{
    return a->dir == dir && a->ino == ino && strcmp(a->name, name) == 0;
}

bool ahead_hold(struct xd_model *m, uint32_t dir, uint32_t ino, const char *name)
{
    for (size_t i = 0; i < m->nahead; i++)
        if (same(&m->ahead[i], dir, ino, name))
            return true;
    if (m->nahead >= MAX_AHEAD)
        return false;
    void *room = xd_room(m->ahead, m->nahead, &m->ahead_cap, sizeof(*m->ahead), 8);
    if (!room)
        return false;
    m->ahead = room;
    char *nm = strdup(name);
    if (!nm)
        return false;
    m->ahead[m->nahead++] = (struct xd_ahead){.dir = dir, .ino = ino, .name = nm};
    return true;
}

static void ahead_remove(struct xd_model *m, size_t i)
{
    free(m->ahead[i].name);
    memmove(&m->ahead[i], &m->ahead[i + 1], (m->nahead - i - 1) * sizeof(*m->ahead));
    m->nahead--;
}

static int cmp_name(const void *key, const void *ent)
{
    return strcmp(key, ((const struct xd_dent *)ent)->name);
}

/* Does directory `dir` (its entries as of this round) still name `ino` so? */
static bool still_named(const struct xd_model *m, const struct xd_ahead *a)
{
    const struct xd_node *d = node_get(m, a->dir);
    if (!d)
        return false;
    const struct xd_dent *e = d->nents ? bsearch(a->name, d->ents, d->nents, sizeof(*d->ents),
                                                 cmp_name)
                                       : NULL;
    return e && e->ino == a->ino;
}

int ahead_resolve(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    for (size_t i = 0; i < m->nahead;) {
        struct xd_ahead *a = &m->ahead[i];
        if (!still_named(m, a)) {
            ahead_remove(m, i);
            continue;
        }
        struct xd_node *t = node_get(m, a->ino);
        struct istate st;
        if (!t && (model_read_state(m, a->ino, &st) < 0 || !st.alive)) {
            i++; /* still free: wait */
            continue;
        }
        /* live now (or given a node by another name meanwhile): the entry
         * joins this round as if it had just appeared */
        bool known = t && !t->reused;
        struct delta x = {.dir = a->dir, .ino = a->ino, .name = a->name, .known = known,
                          .old_path = known ? model_path(m, t->ino) : NULL};
        a->name = NULL;
        int rc = dvec_push(&rf->added, &x);
        if (rc) {
            free(x.name);
            free(x.old_path);
            ahead_remove(m, i);
            return rc;
        }
        ahead_remove(m, i);
    }
    return 0;
}

void ahead_free(struct xd_model *m)
{
    for (size_t i = 0; i < m->nahead; i++)
        free(m->ahead[i].name);
    free(m->ahead);
    m->ahead = NULL;
    m->nahead = m->ahead_cap = 0;
}
