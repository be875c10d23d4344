/*
 * xadisk.h -- public API of libxadisk, disk monitoring for virtual machines.
 *
 * A *tap* (an nbdkit filter, see xa-disk-tap(1) and docs/disk.md) sits
 * between QEMU and a disk image and records every write.  A monitor using
 * this library subscribes to the tap, keeps a shadow copy of the guest file
 * system's metadata, and turns what the guest writes into file events with
 * full paths: create, delete, rename, write (with byte ranges), truncate,
 * chmod/chown, hard link.
 *
 * ext4 with a journal (the default) is inferred from journal commits: events
 * come when the guest commits a transaction (at most ~5 s after the change,
 * at once on sync/fsync).  A transaction shows the net effect of what
 * happened since the previous one: a file created, written and deleted
 * within one commit interval produces no event at all, and a file renamed
 * twice produces one rename.  ext2 and ext4 without a journal are inferred
 * from in-place writes when the guest flushes its disk.
 *
 * Naming follows the XenAccess paper (ACSAC 2007): xadisk_init(),
 * xadisk_destroy(), xadisk_set_watch(), xadisk_unset_watch(),
 * xadisk_activate(), xadisk_deactivate().  xadisk_next_event() and
 * xadisk_get_fd() read the events.
 *
 * Conventions (as in xenaccess.h)
 *  - Fallible calls return 0 or a negative XA_E* code (xa_errors.h);
 *    xadisk_errmsg() gives a one-line message for the last failure.
 *  - Returned const pointers are borrowed; the comment says until when.
 *  - One thread at a time per handle.
 *  - The disk's contents are hostile input: every structure read from it
 *    is checked and every walk is bounded.
 */
#ifndef XADISK_H
#define XADISK_H

#include <stddef.h>
#include <stdint.h>

#include "xa_errors.h" /* XA_E* error codes, XA_API, XA_NODISCARD */

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle for one monitored disk. */
struct xadisk;

/** @defgroup xadisk_events Events
 *  @{ */

/** Event types; each is one bit so that they can be combined into a mask. */
enum xadisk_event_type {
    XADISK_EV_CREATE = 1u << 0,   /**< a name appeared for a new inode */
    XADISK_EV_DELETE = 1u << 1,   /**< a name went away (nlink says if the inode lives on) */
    XADISK_EV_RENAME = 1u << 2,   /**< old_path moved to path (same inode) */
    XADISK_EV_WRITE = 1u << 3,    /**< data written: ranges, new size */
    XADISK_EV_TRUNCATE = 1u << 4, /**< size went down: old_size -> size */
    XADISK_EV_ATTRIB = 1u << 5,   /**< mode, uid or gid changed (chmod/chown) */
    XADISK_EV_LINK = 1u << 6,     /**< a new hard link path to an existing inode */
    XADISK_EV_RESYNC = 1u << 7,   /**< the monitor lost records (dropped, tap restart,
                                       broken stream) and rescanned; changes found by
                                       the rescan follow as ordinary events;
                                       xadisk_errmsg() says why */
};
#define XADISK_EV_ALL 0xffu

/** File types (from the inode's mode). */
enum xadisk_file_type {
    XADISK_FT_UNKNOWN = 0,
    XADISK_FT_REG,
    XADISK_FT_DIR,
    XADISK_FT_SYMLINK,
    XADISK_FT_CHR,
    XADISK_FT_BLK,
    XADISK_FT_FIFO,
    XADISK_FT_SOCK,
};

/** A byte range of a file, [offset, offset + length). */
struct xadisk_range {
    uint64_t offset;
    uint64_t length;
};

/**
 * One file event.  Paths are absolute within the guest file system
 * ("/dir/file"; the mount point inside the guest is not known).
 * Attributes (size, mode, uid, gid, nlink) are those after the event;
 * for DELETE they are the last ones known.
 */
struct xadisk_event {
    uint32_t type;         /**< one enum xadisk_event_type */
    uint32_t file_type;    /**< enum xadisk_file_type */
    const char *path;      /**< never NULL ("" for RESYNC) */
    const char *old_path;  /**< RENAME: the previous path; else NULL */
    uint64_t inode;
    uint64_t size;         /**< bytes */
    uint64_t old_size;     /**< TRUNCATE and WRITE: size before */
    uint32_t mode;         /**< permission bits and type, as st_mode */
    uint32_t old_mode;     /**< ATTRIB: mode before */
    uint32_t uid, gid;
    uint32_t old_uid, old_gid; /**< ATTRIB: before */
    uint32_t nlink;        /**< links after the event (DELETE: 0 if gone) */
    /** jbd2 transaction id the event came from; for file systems without
     *  a journal, the number of the flush that revealed it. */
    uint64_t transaction;
    /** WRITE: block-granular byte ranges that changed (clipped to size);
     *  may be empty when only the size or mtime changed. */
    const struct xadisk_range *ranges;
    size_t nranges;
    uint64_t dropped;      /**< RESYNC: records the tap dropped (0 for a restart) */
};

/** @} */

/** @defgroup xadisk_lifecycle Opening, activating and closing
 *  @{ */

/** Flags for xadisk_opts.flags. */
enum xadisk_flags {
    XADISK_LOSSLESS = 1u << 0, /**< when starting a tap: apply backpressure
                                    to the guest instead of dropping records */
};

/** Options for xadisk_init(). Zero-initialise, set sz = sizeof(struct xadisk_opts). */
struct xadisk_opts {
    size_t sz;
    /** "tap:EVENT_SOCKET" attaches to a running tap (xa-disk-tap --events);
     *  "image:PATH" starts and supervises a tap on the image itself. */
    const char *target;
    uint32_t flags;           /**< enum xadisk_flags */
    /** image: targets: where QEMU connects (default: PATH.nbd.sock). */
    const char *nbd_socket;
    /** image: targets: where monitors subscribe (default: PATH.events.sock). */
    const char *event_socket;
    /** image: targets: the tap's ring size in bytes (default 64 MiB). */
    uint64_t ring_bytes;
};

#define XADISK_OPTS_INIT {.sz = sizeof(struct xadisk_opts)}

/**
 * @brief Open a disk for monitoring.  Nothing flows until xadisk_activate().
 * @param[in] opts see struct xadisk_opts.
 * @param[out] out the new handle, released with xadisk_destroy().
 * @return 0 or a negative XA_E* code; on failure *out is NULL and
 *         xadisk_last_init_error() gives the message.
 */
XA_API XA_NODISCARD int xadisk_init(const struct xadisk_opts *opts, struct xadisk **out);

/** @brief Message for the last failed xadisk_init() in this thread. */
XA_API const char *xadisk_last_init_error(void);

/** @brief Stop monitoring, stop a tap this handle started, free everything. NULL ok. */
XA_API void xadisk_destroy(struct xadisk *xd);

/**
 * @brief Subscribe to the tap and build the shadow state (journal recovery
 *        plus a name cache of the whole file system); returns once records
 *        flow (the tap's READY frame came), and events flow from now on.
 * @return 0, XA_EBUSY if already active, XA_EFORMAT if the image is not an
 *         ext2/3/4 file system, XA_EIO if the tap cannot be reached.
 */
XA_API XA_NODISCARD int xadisk_activate(struct xadisk *xd);

/**
 * @brief Unsubscribe; the tap keeps serving the guest and stops recording
 *        when nobody listens.  Queued events are discarded.
 */
XA_API XA_NODISCARD int xadisk_deactivate(struct xadisk *xd);

/**
 * @brief For image: targets, the options to give QEMU for this disk,
 *        e.g. "-blockdev driver=nbd,...,node-name=xadisk0 -device virtio-blk-pci,drive=xadisk0".
 *        Borrowed until xadisk_destroy(); NULL for tap: targets.
 */
XA_API const char *xadisk_qemu_args(const struct xadisk *xd);

/** @brief One-line message for the last failure on @p xd (borrowed). */
XA_API const char *xadisk_errmsg(const struct xadisk *xd);

/** @} */

/** @defgroup xadisk_watch Watches
 *  With no watch set, every event is reported.  With watches, an event is
 *  reported when its path (or old path) matches one of them and its type is
 *  in that watch's mask.
 *  @{ */

/** Flags for xadisk_set_watch(). */
enum xadisk_watch_flags {
    /** Everything below the directory, at any depth.  Without it, a watch
     *  on a directory covers the directory and its direct entries. */
    XADISK_WATCH_RECURSIVE = 1u << 0,
};

/**
 * @brief Watch a path (a file, or a directory).  Setting a watch on a path
 *        that is already watched replaces its flags and mask.  The path need
 *        not exist yet.
 * @param[in] path absolute path in the guest file system ("/" watches all).
 * @param[in] flags enum xadisk_watch_flags.
 * @param[in] mask enum xadisk_event_type bits (XADISK_EV_ALL for all).
 *        XADISK_EV_RESYNC is always reported.
 */
XA_API XA_NODISCARD int xadisk_set_watch(struct xadisk *xd, const char *path, uint32_t flags,
                                         uint32_t mask);

/** @brief Remove the watch on @p path. XA_ENOENT if there is none. */
XA_API XA_NODISCARD int xadisk_unset_watch(struct xadisk *xd, const char *path);

/** @} */

/** @defgroup xadisk_read Reading events
 *  @{ */

/**
 * @brief Wait for the next event.
 * @param[in] timeout_ms -1 waits forever, 0 polls.
 * @param[out] ev the event, borrowed until the next call on @p xd.
 * @return 0, XA_ETIMEDOUT when nothing came in time, XA_EGONE when the tap
 *         went away (a handle that started the tap restarts it and reports a
 *         RESYNC instead), XA_EINVAL if not active.
 */
XA_API XA_NODISCARD int xadisk_next_event(struct xadisk *xd, int timeout_ms,
                                          const struct xadisk_event **ev);

/**
 * @brief A file descriptor that becomes readable when records arrive from
 *        the tap, for poll()/epoll.  When it is readable, and after every
 *        call that returned an event, call xadisk_next_event(xd, 0, &ev)
 *        until it returns XA_ETIMEDOUT: one record can yield several events.
 *        Valid while active; -1 otherwise.
 */
XA_API int xadisk_get_fd(const struct xadisk *xd);

/** Counters, for tools and tests. */
struct xadisk_stats {
    uint64_t records;       /**< frames received from the tap */
    uint64_t bytes;         /**< payload bytes received */
    uint64_t transactions;  /**< journal transactions replayed */
    uint64_t resyncs;       /**< rescans after lost records */
    uint64_t dropped;       /**< records the tap reported dropped */
    uint64_t events;        /**< events produced (before watch filtering) */
    uint64_t bad_journal;   /**< journal blocks rejected (checksum, bounds) */
    uint64_t inodes;        /**< inodes in the name cache */
};

/** @brief Fill @p st with the handle's counters. */
XA_API void xadisk_get_stats(const struct xadisk *xd, struct xadisk_stats *st);

/** @brief Static name of an event type ("create", "delete", ...). */
XA_API const char *xadisk_event_name(uint32_t type);

/** @brief Static name of a file type ("file", "dir", "symlink", ...). */
XA_API const char *xadisk_file_type_name(uint32_t file_type);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
