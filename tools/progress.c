/* progress.c -- progress line on a terminal (see progress.h). */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1; /* never 0 */
}

void progress_start(struct progress *p, const char *what, uint64_t total)
{
    p->on = total >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO);
    p->total = total;
    p->last_ms = 0;
    p->what = what;
}

void progress_update(struct progress *p, uint64_t done)
{
    if (!p->on)
        return;
    uint64_t t = now_ms();
    if (p->last_ms && t - p->last_ms < 200)
        return;
    p->last_ms = t;
    fprintf(stderr, "\r%s: %s %" PRIu64 " of %" PRIu64 " MiB (%u%%)", tool_name, p->what,
            done >> 20, p->total >> 20, (unsigned)(done * 100 / (p->total ? p->total : 1)));
    fflush(stderr);
}

void progress_end(struct progress *p)
{
    if (!p->on)
        return;
    fputs("\r\033[K", stderr); /* back to column 0, erase to the end of the line */
    fflush(stderr);
    p->on = false;
}
