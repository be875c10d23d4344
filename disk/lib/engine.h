/*
 * engine.h -- turns the tap's record stream into file events: keeps the
 * shadow, follows the jbd2 journal (or, without one, in-place writes) and
 * drives the model's diff.
 */
#ifndef XADISK_ENGINE_H
#define XADISK_ENGINE_H
#include <stdbool.h>
#include <stdint.h>

#include "disk/proto.h"
#include "evq.h"
#include "jbd2.h"
#include "model.h"
#include "shadow.h"

struct jext {
    uint64_t lblk, pblk, len; /* journal log block -> fs block */
};

struct engine {
    char image[4096];
    struct shadow sh;
    struct xd_model m;
    bool opened;
    /* journal */
    bool journaled;
    struct jbd2_sb jsb;
    struct jext *jmap;
    size_t njmap;
    uint32_t jpos, jseq;     /* next transaction expected */
    bool jsynced;            /* jpos/jseq are known to be right */
    uint32_t last_commit_seen;
    bool commit_seen;
    struct { uint32_t pos, seq; } *desc; /* descriptors written lately, for re-anchoring */
    size_t ndesc;
    /* no journal: inodes touched since the last flush */
    uint32_t *dirty;
    size_t ndirty, dirty_cap;
    uint32_t *dirtydirs; /* directories whose blocks were written */
    size_t ndirtydirs, dirtydirs_cap;
    uint64_t flushes;
    uint64_t writes_since_round;
    /* records were lost: rescan once the backlog is read (engine_settle) */
    bool resync_pending;
    uint64_t resync_dropped;
    /* counters */
    uint64_t transactions, resyncs, bad_journal, last_txn;
    char err[256];
};

/* Open the image, recover the journal into the shadow, build the name cache. */
int engine_start(struct engine *e, const char *image);
void engine_stop(struct engine *e);
/* Feed one record from the tap; events go to q. */
int engine_record(struct engine *e, const struct xdp_hdr *h, const uint8_t *payload,
                  struct evq *q);
/* Rescan and diff against what we knew (after lost records). */
int engine_resync(struct engine *e, uint64_t dropped, struct evq *q);
/* The input is drained for now: do a pending rescan.  Records that arrive
 * between a RESYNC and this call are skipped: the rescan covers them. */
int engine_settle(struct engine *e, struct evq *q);
/* Nothing arrived for a while: finish what a flush would (no-journal mode). */
int engine_idle(struct engine *e, struct evq *q);
#endif
