/*
 * progress.h -- "how far along" for long operations, on stderr, and only
 * when stderr is a terminal: pipes, files and logs never see it.
 */
#ifndef XA_PROGRESS_H
#define XA_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Operations shorter than this finish before anyone would look. */
#define PROGRESS_MIN_BYTES ((uint64_t)4 << 20)

struct progress {
    bool on;
    uint64_t total;
    uint64_t last_ms; /* when the line was last drawn; 0 = never */
    const char *what;
};

/* Start: on only when @total is at least PROGRESS_MIN_BYTES and stderr is a TTY. */
void progress_start(struct progress *p, const char *what, uint64_t total);

/* @done bytes of total; redrawn at most five times a second (the first at once). */
void progress_update(struct progress *p, uint64_t done);

/* Erase the line, so that messages and the prompt start clean. */
void progress_end(struct progress *p);

#endif /* XA_PROGRESS_H */
