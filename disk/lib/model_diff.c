/* model_diff.c -- a refresh round: the inodes and directories that changed
 * are re-read and diffed against the model (phases 1-6); model_events.c
 * turns what changed into events (7-10). */
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#include "internal.h"
#include "model_priv.h"

int dvec_push(struct dvec *d, const struct delta *x)
{
    void *room = xd_room(d->v, d->n, &d->cap, sizeof(*d->v), 16);
    if (!room)
        return XA_ENOMEM;
    d->v = room;
    d->v[d->n++] = *x;
    return 0;
}

static void dvec_free(struct dvec *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name);
        free(d->v[i].old_path);
    }
    free(d->v);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void diff_changed_inodes(struct refresh *rf, const uint32_t *cand, size_t n,
                                const uint32_t *force, size_t nforce, bool all_known)
{
    struct xd_model *m = rf->m;
    /* 1. new state of every candidate that changed */
    size_t nchg = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ino = cand[i];
        if ((i && cand[i - 1] == ino) || ino == 0 || ino > m->inodes_count ||
            (ino < m->first_ino && ino != ROOT_INO))
            continue;
        struct chg *c = &rf->chg[nchg];
        if (model_read_state(m, ino, &c->st) < 0) {
            m->bad++;
            continue;
        }
        struct xd_node *old = node_get(m, ino);
        if (!old && !c->st.alive)
            continue;
        if (old && old->rawsum == c->st.rawsum && !all_known) {
            /* unchanged inode: skip, unless one of its directory blocks changed */
            bool forced = false;
            for (size_t k = 0; k < nforce && !forced; k++)
                forced = force[k] == ino;
            if (!forced)
                continue;
        }
        c->ino = ino;
        /* ext4 may hand a freed inode number to a new file in the same
         * transaction: a new generation makes it a delete plus a create, not
         * a rename of the old file */
        if (old && c->st.alive && old->nlk && old->generation != c->st.generation)
            old->reused = true;
        else if (old) {
            c->known = true;
            c->old_mode = old->mode;
            c->old_uid = old->uid;
            c->old_gid = old->gid;
            c->old_size = old->size;
            c->old_mtime = old->mtime;
        }
        nchg++;
    }
    rf->nchg = nchg;
}

static int diff_dir_entries(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    struct chg *chg = rf->chg;
    size_t nchg = rf->nchg;
    /* 2. entry changes of known directories (old paths computed before any change) */
    int rc = 0;
    for (size_t i = 0; i < nchg && rc == 0; i++) {
        struct xd_node *d = node_get(m, chg[i].ino);
        if (!d || !LINUX_S_ISDIR(d->mode))
            continue;
        struct xd_dent *ne = NULL;
        size_t nn = 0;
        if (chg[i].st.alive && LINUX_S_ISDIR(chg[i].st.mode) && (rc = model_read_dir(m, d->ino, &ne, &nn)))
            break;
        size_t a = 0, b = 0;
        while (a < d->nents || b < nn) {
            int c = a == d->nents ? 1 : b == nn ? -1 : strcmp(d->ents[a].name, ne[b].name);
            if (c == 0 && d->ents[a].ino == ne[b].ino) {
                a++, b++;
                continue;
            }
            if (c <= 0) {
                struct delta x = {.dir = d->ino, .ino = d->ents[a].ino,
                                  .name = strdup(d->ents[a].name),
                                  .old_path = model_join_path(m, d->ino, d->ents[a].name)};
                dvec_push(&rf->removed, &x);
                a++;
            }
            if (c >= 0) {
                struct xd_node *t = node_get(m, ne[b].ino);
                bool known = t && !t->reused;
                struct delta x = {.dir = d->ino, .ino = ne[b].ino, .name = strdup(ne[b].name),
                                  .known = known,
                                  .old_path = known ? model_path(m, t->ino) : NULL};
                dvec_push(&rf->added, &x);
                b++;
            }
        }
        model_free_dents(d->ents, d->nents);
        d->ents = ne;
        d->nents = nn;
    }
    return rc;
}

static void diff_inodes(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    struct chg *chg = rf->chg;
    size_t nchg = rf->nchg;
    /* 3. attributes and extents of known inodes */
    for (size_t i = 0; i < nchg; i++) {
        struct xd_node *nd = node_get(m, chg[i].ino);
        if (!nd)
            continue;
        if (!chg[i].st.alive) { /* keep the last attributes for the DELETE event */
            nd->links = 0;
            nd->rawsum = chg[i].st.rawsum;
            continue;
        }
        model_apply_state(nd, &chg[i].st);
        model_read_extents(m, nd, &chg[i].st);
    }
}

static void diff_unlink(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    /* 4. unlink removed names */
    for (size_t i = 0; i < rf->removed.n; i++) {
        struct xd_node *t = node_get(m, rf->removed.v[i].ino);
        if (t)
            model_del_link(t, rf->removed.v[i].dir, rf->removed.v[i].name);
    }
}

static int diff_link(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    /* 5. link added names; new inodes join the model (new directories with their
     *    entries, which are appended to `added` so that the walk covers subtrees);
     *    an entry naming a free inode waits for it (model_ahead.c) */
    int rc = ahead_resolve(rf); /* entries that came before their inode */
    for (size_t i = 0; i < rf->added.n && rc == 0; i++) {
        struct delta *x = &rf->added.v[i];
        if (!x->name)
            continue;
        struct xd_node *t = node_get(m, x->ino);
        if (!t) {
            struct istate st;
            if (m->nodes.count >= m->inodes_count || model_read_state(m, x->ino, &st) < 0) {
                m->bad++;
                x->consumed = true;
                continue;
            }
            if (!st.alive) { /* its inode may reach the disk in a later round */
                if (!ahead_hold(m, x->dir, x->ino, x->name))
                    m->bad++;
                x->consumed = true;
                continue;
            }
            t = model_new_node(m, x->ino, &st);
            if (!t) {
                rc = XA_ENOMEM;
                break;
            }
            if (LINUX_S_ISDIR(st.mode) && (rc = model_read_dir(m, t->ino, &t->ents, &t->nents)) == 0) {
                for (size_t j = 0; j < t->nents; j++) {
                    struct xd_node *c = node_get(m, t->ents[j].ino);
                    struct delta y = {.dir = t->ino, .ino = t->ents[j].ino,
                                      .name = strdup(t->ents[j].name), .known = c != NULL,
                                      .old_path = c ? model_path(m, c->ino) : NULL};
                    dvec_push(&rf->added, &y);
                    x = &rf->added.v[i]; /* the vector may have moved */
                }
            }
        }
        rc = rc ? rc : model_add_link(t, x->dir, x->name);
    }
    return rc;
}

int model_refresh(struct xd_model *m, const uint32_t *inos, size_t n, const uint32_t *force,
                  size_t nforce, bool all_known, uint64_t txn, struct evq *q)
{
    ext2fs_flush_icache(m->fs);
    size_t total = n + nforce + (all_known ? m->nodes.count : 0);
    uint32_t *cand = malloc((total ? total : 1) * sizeof(*cand));
    struct chg *chg = calloc(total ? total : 1, sizeof(*chg));
    struct refresh rf = {.m = m, .txn = txn, .chg = chg};
    if (!cand || !chg) {
        free(cand);
        free(chg);
        return XA_ENOMEM;
    }
    if (n)
        memcpy(cand, inos, n * sizeof(*cand));
    if (nforce)
        memcpy(cand + n, force, nforce * sizeof(*cand));
    n += nforce;
    if (all_known) {
        size_t pos = 0;
        uint64_t k;
        void *v;
        while (u64map_next(&m->nodes, &pos, &k, &v))
            cand[n++] = (uint32_t)k;
    }
    if (n)
        qsort(cand, n, sizeof(*cand), cmp_u32);

    diff_changed_inodes(&rf, cand, n, force, nforce, all_known);
    int rc = diff_dir_entries(&rf);
    diff_inodes(&rf);
    diff_unlink(&rf);
    if (rc == 0)
        rc = diff_link(&rf);
    /* 6. data written since the last round, per file */
    model_attribute_pending(m, &rf.ranges);

    model_events_names(&rf);
    model_events_deletes(&rf);
    model_events_changes(&rf);
    model_events_overwrites(&rf);
    model_events_queue(&rf, q);

    for (size_t i = 0; i < rf.nchg; i++) {
        struct xd_node *t = node_get(m, chg[i].ino);
        if (t)
            t->reused = false;
    }
    evq_clear(&rf.creates);
    evq_clear(&rf.mods);
    evq_clear(&rf.dels);
    model_free_rlists(&rf.ranges);
    dvec_free(&rf.removed);
    dvec_free(&rf.added);
    free(cand);
    free(chg);
    return rc;
}

int model_attribute(struct xd_model *m, uint64_t txn, struct evq *q)
{
    if (!m->npend)
        return 0;
    return model_refresh(m, NULL, 0, NULL, 0, false, txn, q);
}
