/*
 * model.h -- the monitor's name cache and inode table for one ext2/3/4
 * file system, and the diff that turns changes of it into events.
 *
 * The model holds, for every inode reachable from the root: its attributes,
 * the names that link to it, for directories their entries, and for regular
 * files their block extents (to attribute data writes to files).  It is
 * built by a scan at start and updated by model_refresh() with the inodes
 * a journal transaction (or a flush) touched.
 */
#ifndef XADISK_MODEL_H
#define XADISK_MODEL_H
#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "evq.h"
#include "u64map.h"

struct xd_link {
    uint32_t parent;
    char *name;
};

struct xd_dent {
    char *name;
    uint32_t ino;
};

struct xd_ext {
    uint64_t lblk, pblk;
    uint32_t len;
};

struct xd_node {
    uint32_t ino;
    uint32_t mode, uid, gid, links;
    uint64_t size;
    uint64_t mtime; /* seconds << 32 | extra */
    uint32_t rawsum; /* crc of the raw inode: unchanged inodes are skipped */
    uint32_t generation; /* i_generation: a new value means the inode was freed and reused */
    bool reused;         /* within one model_refresh: freed and allocated again */
    /* a WRITE reported with the range a size change implied, before its data
     * blocks came (wlen 0: none pending): see push_write */
    uint64_t wtxn, woff, wlen;
    struct xd_link *lk;
    size_t nlk;
    struct xd_dent *ents; /* directories: sorted by name */
    size_t nents;
    struct xd_ext *ext; /* regular files */
    size_t next;
};

/* Physical block ranges written but not yet attributed to a file. */
struct xd_pending {
    uint64_t start, len;
    uint32_t age;
};

/* A name that went away while its inode still counts it.  ext2 writes
 * directories one by one, so the other half of a rename may reach the disk a
 * round later: the name is held (its link kept, as a ghost, so paths still
 * resolve) until the new name comes (a RENAME), the inode's link count drops
 * or limbo_ms passes (a DELETE).  See model_limbo.c. */
struct xd_limbo {
    uint32_t ino, dir;
    char *name, *path;
    uint64_t since_ms;
};

/* A directory entry naming an inode not yet live on disk: ext2 may write the
 * directory's block a round before the inode's.  See model_ahead.c. */
struct xd_ahead {
    uint32_t dir, ino;
    char *name;
};

struct xd_bmap_ent {
    uint64_t pblk, lblk;
    uint32_t len, ino;
};

struct xd_model {
    ext2_filsys fs;
    struct u64map nodes; /* ino -> struct xd_node */
    uint32_t inodes_count, first_ino, inode_size, bsize;
    /* inode table extents, sorted, to map a block to the inodes it holds */
    struct { uint64_t start; uint32_t group; } *itab;
    uint32_t ngroups, itab_blocks;
    /* data-block attribution */
    struct xd_pending *pend;
    size_t npend, pend_cap;
    struct xd_bmap_ent *bmap;
    size_t nbmap;
    bool bmap_dirty;
    struct xd_limbo *limbo;
    size_t nlimbo, limbo_cap;
    uint32_t limbo_ms; /* how long a name is held (model_open: 10 s) */
    struct xd_ahead *ahead;
    size_t nahead, ahead_cap;
    uint64_t bad; /* hostile structures skipped */
    char err[160];
};

/* Open the file system through the shadow io_manager (name from shadow_io_name). */
int model_open(struct xd_model *m, const char *io_name);
void model_close(struct xd_model *m); /* frees nodes and the fs */
void model_free_nodes(struct xd_model *m);

/* Build the name cache from the root (no events). */
int model_scan(struct xd_model *m);

/* Which inodes does file-system block `blk` hold?  0 if not an inode table block. */
uint32_t model_inodes_in_block(const struct xd_model *m, uint64_t blk, uint32_t *first);

/* Note written data blocks (for WRITE ranges). */
void model_note_write(struct xd_model *m, uint64_t blk, uint64_t count);

/*
 * Re-read the given inodes (deduplicated inside), update the model and
 * append events (tagged with `txn`) to q.  Inodes whose raw bytes did not
 * change are skipped, except those in `force` (directories whose blocks
 * changed).  all_known: re-read every inode in the model (a resync).
 */
int model_refresh(struct xd_model *m, const uint32_t *inos, size_t n, const uint32_t *force,
                  size_t nforce, bool all_known, uint64_t txn, struct evq *q);

/* Does a held name wait past its time?  (The engine then runs a round.) */
bool model_limbo_due(const struct xd_model *m);

/* Directories that own block `blk` (their entries must be re-read when it changes). */
size_t model_dirs_in_block(struct xd_model *m, uint64_t blk, uint32_t *out, size_t max);

/* Attribute pending data writes to files and emit WRITE events for them. */
int model_attribute(struct xd_model *m, uint64_t txn, struct evq *q);

/* Full path of an inode ("/a/b"); malloc'd; NULL if unknown. */
char *model_path(const struct xd_model *m, uint32_t ino);
#endif
