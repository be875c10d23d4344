/*
 * model_events.c -- the events of a refresh round (model_refresh in
 * model.c): creates, renames and links, deletes, changes, overwrites, and
 * their order.
 */
#include <stdlib.h>
#include <string.h>

#include "model_priv.h"

static uint32_t ftype_of(uint32_t mode)
{
    switch (mode & 0170000) {
    case 0100000: return XADISK_FT_REG;
    case 0040000: return XADISK_FT_DIR;
    case 0120000: return XADISK_FT_SYMLINK;
    case 0020000: return XADISK_FT_CHR;
    case 0060000: return XADISK_FT_BLK;
    case 0010000: return XADISK_FT_FIFO;
    case 0140000: return XADISK_FT_SOCK;
    default: return XADISK_FT_UNKNOWN;
    }
}

static void ev_fill(struct xadisk_event *ev, uint32_t type, const struct xd_node *n, uint64_t txn)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->file_type = ftype_of(n->mode);
    ev->inode = n->ino;
    ev->size = ev->old_size = n->size;
    ev->mode = ev->old_mode = n->mode;
    ev->uid = ev->old_uid = n->uid;
    ev->gid = ev->old_gid = n->gid;
    ev->nlink = n->links;
    ev->transaction = txn;
}

/* Attach ranges (taken from rl) to ev. */
static void ev_take_ranges(struct xadisk_event *ev, struct u64map *rl, uint64_t ino, uint64_t size)
{
    struct rlist *r = u64map_del(rl, ino);
    if (!r)
        return;
    size_t n = model_rlist_finish(r, size);
    if (n) {
        ev->ranges = r->v;
        ev->nranges = n;
    } else {
        free(r->v);
    }
    free(r);
}

/* ----------------------------------------------------------- refresh --- */

static size_t path_depth(const char *p)
{
    size_t d = 0;
    for (; p && *p; p++)
        d += *p == '/';
    return d;
}

static int cmp_delete_depth(const void *a, const void *b)
{
    const struct xadisk_event *x = a, *y = b;
    size_t dx = path_depth(x->path), dy = path_depth(y->path);
    return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* Remove a node that lost its last name; its directory entries go with it.
 * `path` is the name it had: the node is unlinked by now, so the paths of
 * entries the guest never removed in a block we saw (ext2 drops the dirty
 * blocks of a directory it deletes) are built from it. */
static void drop_subtree(struct xd_model *m, uint32_t ino, const char *path, uint64_t txn,
                         struct evq *dels, unsigned budget)
{
    struct xd_node *n = u64map_del(&m->nodes, ino);
    if (!n)
        return;
    m->bmap_dirty = true;
    for (size_t i = 0; i < n->nents && budget; i++) {
        struct xd_node *c = node_get(m, n->ents[i].ino);
        if (!c)
            continue;
        char *cpath = path ? model_path_join(path, n->ents[i].name) : NULL;
        model_del_link(c, ino, n->ents[i].name);
        if (cpath) { /* a copy: evq_push frees the event when the queue is full */
            struct xadisk_event ev;
            ev_fill(&ev, XADISK_EV_DELETE, c, txn);
            ev.path = strdup(cpath);
            ev.nlink = c->nlk ? c->links : 0;
            if (ev.path)
                evq_push(dels, &ev);
        }
        if (!c->nlk && c->ino != ino)
            drop_subtree(m, c->ino, cpath, txn, dels, budget - 1);
        free(cpath);
    }
    model_node_free(n);
}

/* Push a WRITE.  A size change seen at a commit before its data blocks
 * arrive is reported with the range it implies (`guessed`); when those blocks
 * are attributed at the next flush, under the same transaction and within
 * that range, they are the same write and are not reported again.  Any other
 * write is always reported. */
static void push_write(struct evq *q, struct xd_node *t, struct xadisk_event *ev, bool guessed)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < ev->nranges; i++) {
        lo = ev->ranges[i].offset < lo ? ev->ranges[i].offset : lo;
        hi = ev->ranges[i].offset + ev->ranges[i].length > hi
                 ? ev->ranges[i].offset + ev->ranges[i].length : hi;
    }
    bool repeat = !guessed && ev->nranges && t->wlen && t->wtxn == ev->transaction &&
                  lo >= t->woff && hi <= t->woff + t->wlen;
    t->wlen = 0;
    if (repeat) {
        evq_event_free(ev);
        return;
    }
    if (guessed && ev->nranges == 1) {
        t->wtxn = ev->transaction;
        t->woff = lo;
        t->wlen = hi - lo;
    }
    evq_push(q, ev);
}

/* A known file that got a new name while the directory holding its old one
 * was deleted: ext2 drops that directory's dirty block, so its entry is never
 * seen going.  The old name is taken out of the dying directory (so no DELETE
 * comes for it) and its path returned, built from the directory's old path. */
static char *take_name_in_dying_dir(struct xd_model *m, struct xd_node *t, uint32_t new_dir,
                                    const struct dvec *removed)
{
    for (size_t k = 0; k < t->nlk; k++) {
        uint32_t parent = t->lk[k].parent;
        struct xd_node *p = node_get(m, parent);
        if (parent == new_dir || parent == ROOT_INO || !p || p->nlk)
            continue;
        const char *dir_path = NULL;
        for (size_t j = 0; j < removed->n && !dir_path; j++)
            if (removed->v[j].ino == parent)
                dir_path = removed->v[j].old_path;
        if (!dir_path)
            continue;
        char *old = model_path_join(dir_path, t->lk[k].name);
        if (!old)
            return NULL;
        for (size_t i = 0; i < p->nents; i++) {
            if (p->ents[i].ino == t->ino && strcmp(p->ents[i].name, t->lk[k].name) == 0) {
                free(p->ents[i].name);
                memmove(&p->ents[i], &p->ents[i + 1], (p->nents - i - 1) * sizeof(*p->ents));
                p->nents--;
                break;
            }
        }
        model_del_link(t, parent, t->lk[k].name);
        return old;
    }
    return NULL;
}

void model_events_names(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    uint64_t txn = rf->txn;
    /* 7. events: creates, renames and links in walk order */
    for (size_t i = 0; i < rf->added.n; i++) {
        struct delta *x = &rf->added.v[i];
        struct xd_node *t = node_get(m, x->ino);
        if (x->consumed || !t || !x->name)
            continue;
        struct xadisk_event ev;
        char *path = model_join_path(m, x->dir, x->name);
        if (!path)
            continue;
        if (x->known) {
            struct delta *r = NULL;
            for (size_t j = 0; j < rf->removed.n; j++)
                if (!rf->removed.v[j].consumed && rf->removed.v[j].ino == x->ino) {
                    r = &rf->removed.v[j];
                    break;
                }
            /* the old name went a round earlier (held: model_limbo.c) */
            char *held = r ? NULL : limbo_take(m, t);
            char *implicit = r || held || LINUX_S_ISDIR(t->mode)
                                 ? NULL
                                 : take_name_in_dying_dir(m, t, x->dir, &rf->removed);
            if (r || held || implicit || LINUX_S_ISDIR(t->mode)) {
                ev_fill(&ev, XADISK_EV_RENAME, t, txn);
                ev.old_path = r ? r->old_path : held ? held : implicit ? implicit : x->old_path;
                if (r) {
                    r->old_path = NULL;
                    r->consumed = true;
                } else if (!held && !implicit) {
                    x->old_path = NULL;
                }
            } else {
                ev_fill(&ev, XADISK_EV_LINK, t, txn);
            }
            ev.path = path;
            evq_push(&rf->creates, &ev);
            continue;
        }
        ev_fill(&ev, XADISK_EV_CREATE, t, txn);
        ev.path = path;
        ev.old_size = 0;
        evq_push(&rf->creates, &ev);
        if (LINUX_S_ISREG(t->mode) && t->size > 0 && t->nlk == 1 && u64map_get(&rf->ranges, t->ino)) {
            /* data seen with the create; data written after the commit (ext4
             * fills unwritten extents after it) comes as a later WRITE */
            ev_fill(&ev, XADISK_EV_WRITE, t, txn);
            ev.old_size = 0;
            ev.path = model_join_path(m, x->dir, x->name);
            ev_take_ranges(&ev, &rf->ranges, t->ino, t->size);
            if (ev.path && ev.nranges)
                push_write(&rf->creates, t, &ev, false);
            else
                evq_event_free(&ev);
        }
    }
}

void model_events_deletes(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    uint64_t txn = rf->txn;
    /* 8. deletes: names that went away without reappearing; nodes that lost
     *    their last name are dropped after all names were reported */
    struct gone {
        uint32_t ino;
        char *path;
    } *gone = malloc((rf->removed.n + m->nlimbo + 1) * sizeof(*gone));
    size_t ngone = 0;
    /* held names whose inode stopped counting them, or that waited too long */
    for (size_t i = 0; i < m->nlimbo;) {
        struct xd_limbo *l = &m->limbo[i];
        struct xd_node *t = node_get(m, l->ino);
        /* nlk counts the held names too: the link count still covers them */
        if (t && !t->reused && t->links >= t->nlk && t->links > 0 && !limbo_expired(m, l)) {
            i++;
            continue;
        }
        char *path = l->path;
        l->path = NULL;
        limbo_remove(m, i, t);
        if (!t || !path) {
            free(path);
            continue;
        }
        struct xadisk_event ev;
        ev_fill(&ev, XADISK_EV_DELETE, t, txn);
        ev.path = path;
        ev.nlink = t->nlk && !t->reused ? t->links : 0;
        if (!t->nlk && gone)
            gone[ngone++] = (struct gone){t->ino, strdup(path)};
        evq_push(&rf->dels, &ev);
    }
    for (size_t i = 0; i < rf->removed.n; i++) {
        struct delta *r = &rf->removed.v[i];
        struct xd_node *t = node_get(m, r->ino);
        if (r->consumed || !t)
            continue;
        if (r->name && limbo_hold(m, t, r->dir, r->name, &r->old_path))
            continue;
        struct xadisk_event ev;
        ev_fill(&ev, XADISK_EV_DELETE, t, txn);
        if (!t->nlk && gone)
            gone[ngone++] = (struct gone){t->ino, r->old_path ? strdup(r->old_path) : NULL};
        ev.path = r->old_path ? r->old_path : strdup("?");
        r->old_path = NULL;
        ev.nlink = t->nlk && !t->reused ? t->links : 0;
        evq_push(&rf->dels, &ev);
    }
    for (size_t i = 0; i < ngone; i++) {
        drop_subtree(m, gone[i].ino, gone[i].path, txn, &rf->dels, MAX_PATH_DEPTH);
        free(gone[i].path);
    }
    free(gone);
}

void model_events_changes(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    uint64_t txn = rf->txn;
    struct chg *chg = rf->chg;
    size_t nchg = rf->nchg;
    /* 9. changed attributes, sizes and data of files that stayed */
    for (size_t i = 0; i < nchg; i++) {
        struct chg *c = &chg[i];
        struct xd_node *t = node_get(m, c->ino);
        if (!c->known || !t || !t->nlk)
            continue;
        char *path = model_path(m, t->ino);
        if (!path)
            continue;
        struct xadisk_event ev;
        if ((c->old_mode & 07777) != (t->mode & 07777) || c->old_uid != t->uid ||
            c->old_gid != t->gid) {
            ev_fill(&ev, XADISK_EV_ATTRIB, t, txn);
            ev.old_mode = c->old_mode;
            ev.old_uid = c->old_uid;
            ev.old_gid = c->old_gid;
            ev.path = strdup(path);
            evq_push(&rf->mods, &ev);
        }
        if (LINUX_S_ISREG(t->mode)) {
            if (t->size < c->old_size) {
                ev_fill(&ev, XADISK_EV_TRUNCATE, t, txn);
                ev.old_size = c->old_size;
                ev.path = strdup(path);
                evq_push(&rf->mods, &ev);
            }
            if (t->size > c->old_size || t->mtime != c->old_mtime || u64map_get(&rf->ranges, t->ino)) {
                ev_fill(&ev, XADISK_EV_WRITE, t, txn);
                ev.old_size = c->old_size;
                ev_take_ranges(&ev, &rf->ranges, t->ino, t->size);
                bool guessed = false;
                if (!ev.nranges && t->size > c->old_size) {
                    struct xadisk_range *r1 = malloc(sizeof(*r1));
                    if (r1) {
                        *r1 = (struct xadisk_range){c->old_size, t->size - c->old_size};
                        ev.ranges = r1;
                        ev.nranges = 1;
                        guessed = true;
                    }
                }
                ev.path = strdup(path);
                if (t->size < c->old_size && !ev.nranges)
                    evq_event_free(&ev); /* a plain truncate also moves mtime */
                else
                    push_write(&rf->mods, t, &ev, guessed);
            }
        }
        free(path);
    }
}

void model_events_overwrites(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    uint64_t txn = rf->txn;
    /* 10. data written to files whose inode did not change (overwrites) */
    size_t pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(&rf->ranges, &pos, &k, &v)) {
        struct xd_node *t = node_get(m, (uint32_t)k);
        if (!t || !t->nlk)
            continue;
        struct xadisk_event ev;
        ev_fill(&ev, XADISK_EV_WRITE, t, txn);
        ev.path = model_path(m, t->ino);
        if (!ev.path)
            continue;
        struct rlist *r = v;
        size_t nr = model_rlist_finish(r, t->size);
        if (!nr)
            continue;
        ev.ranges = r->v;
        ev.nranges = nr;
        r->v = NULL;
        r->n = 0;
        push_write(&rf->mods, t, &ev, false);
    }
}

void model_events_queue(struct refresh *rf, struct evq *q)
{
    /* order: creates/renames/links, then modifications, then deletes deepest first */
    struct xadisk_event ev;
    while (evq_pop(&rf->creates, &ev))
        evq_push(q, &ev);
    while (evq_pop(&rf->mods, &ev))
        evq_push(q, &ev);
    size_t nd = 0;
    struct xadisk_event *dv = malloc((rf->dels.n ? rf->dels.n : 1) * sizeof(*dv));
    while (dv && evq_pop(&rf->dels, &ev))
        dv[nd++] = ev;
    if (dv) {
        if (nd)
            qsort(dv, nd, sizeof(*dv), cmp_delete_depth);
        for (size_t i = 0; i < nd; i++)
            evq_push(q, &dv[i]);
    }
    free(dv);
}
