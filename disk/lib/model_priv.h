/*
 * model_priv.h -- what the model's files share (model.c: scan and diff;
 * model_events.c: the events of a refresh round).  Internal.
 */
#ifndef XADISK_MODEL_PRIV_H
#define XADISK_MODEL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2_fs.h>

#include "evq.h"
#include "model.h"
#include "u64map.h"

#define MAX_PATH_DEPTH 4096
#define ROOT_INO 2u

struct istate {
    bool alive;
    uint32_t mode, uid, gid, links, flags;
    uint64_t size, mtime;
    uint32_t rawsum, generation;
    struct ext2_inode_large raw;
};

struct rlist {
    struct xadisk_range *v;
    size_t n, cap;
};

struct chg {
    uint32_t ino;
    bool known;
    uint32_t old_mode, old_uid, old_gid;
    uint64_t old_size, old_mtime;
    struct istate st;
};

struct delta {
    uint32_t dir, ino;
    char *name;
    char *old_path;    /* removed: the path it had; added+known: the target's old path */
    bool known;        /* added: the target was in the model before this round */
    bool consumed;
};

struct dvec {
    struct delta *v;
    size_t n, cap;
};

/*
 * One refresh round.  The diff (phases 1-6) brings the model up to date
 * and records what changed; the events (phases 7-10) are made from that
 * record, then queued in order.
 */
struct refresh {
    struct xd_model *m;
    uint64_t txn;
    struct chg *chg; /* inodes that changed */
    size_t nchg;
    struct dvec removed, added;     /* directory entries that went away, appeared */
    struct evq creates, dels, mods; /* events, by kind, before ordering */
    struct u64map ranges;           /* ino -> struct rlist: data written */
};

static inline struct xd_node *node_get(const struct xd_model *m, uint32_t ino)
{
    return u64map_get(&m->nodes, ino);
}

/* model.c: the store */
void model_node_free(struct xd_node *n);
int model_read_state(struct xd_model *m, uint32_t ino, struct istate *st);
void model_apply_state(struct xd_node *n, const struct istate *st);
int model_read_dir(struct xd_model *m, uint32_t ino, struct xd_dent **out, size_t *nout);
void model_free_dents(struct xd_dent *v, size_t n);
void model_read_extents(struct xd_model *m, struct xd_node *n, struct istate *st);
struct xd_node *model_new_node(struct xd_model *m, uint32_t ino, struct istate *st);
int model_add_link(struct xd_node *n, uint32_t parent, const char *name);
void model_del_link(struct xd_node *n, uint32_t parent, const char *name);
char *model_path_join(const char *dir, const char *name);
char *model_join_path(const struct xd_model *m, uint32_t dir, const char *name);
/* model_blocks.c: data attribution */
/* Sort, merge and clip to size; returns the count. */
size_t model_rlist_finish(struct rlist *r, uint64_t size);
/* Map pending physical writes to (inode, byte range) in `out` (ino -> struct rlist). */
void model_attribute_pending(struct xd_model *m, struct u64map *out);
void model_free_rlists(struct u64map *rl);

/* model_limbo.c: names held while the other half of a rename may come. */
size_t limbo_ghosts(const struct xd_model *m, uint32_t ino);
bool limbo_hold(struct xd_model *m, struct xd_node *t, uint32_t dir, const char *name,
                char **path);
char *limbo_take(struct xd_model *m, struct xd_node *t);
bool limbo_expired(const struct xd_model *m, const struct xd_limbo *l);
void limbo_remove(struct xd_model *m, size_t i, struct xd_node *t);
void limbo_free(struct xd_model *m);

/* model_diff.c */
int dvec_push(struct dvec *d, const struct delta *x);

/* model_ahead.c: entries that came before their inode was live. */
bool ahead_hold(struct xd_model *m, uint32_t dir, uint32_t ino, const char *name);
/* Entries whose inode is live now join rf->added (this round's new entries);
 * those their directory no longer has are dropped. */
int ahead_resolve(struct refresh *rf);
void ahead_free(struct xd_model *m);

/* model_events.c: the events of a round, by kind, then queued in order. */
void model_events_names(struct refresh *rf);
void model_events_deletes(struct refresh *rf);
void model_events_changes(struct refresh *rf);
void model_events_overwrites(struct refresh *rf);
void model_events_queue(struct refresh *rf, struct evq *q);

#endif /* XADISK_MODEL_PRIV_H */
