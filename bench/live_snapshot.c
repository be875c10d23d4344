/*
 * live_snapshot.c -- a paused snapshot of a live guest, timed (issue 13,
 * item 5): xa_pause(), a full process list, xa_resume(), ROUNDS times.
 * Driven by live_impact.py, which reads QEMU's STOP and RESUME events (their
 * timestamps are QEMU's own) to get how long the guest was really stopped.
 *
 *   live_snapshot TARGET ROUNDS
 *
 * One line per round: "round N t0 T pause_us P list_us L resume_us R procs K"
 * with T the CLOCK_REALTIME second at which xa_pause() was called.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "xenaccess.h"
#include "xenaccess_os.h"

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int list_all(struct xa_instance *xa)
{
    struct xa_process_iter *it;
    if (xa_process_iter_new(xa, &it) < 0)
        return -1;
    struct xa_process p;
    int n = 0, rc;
    while ((rc = xa_process_iter_next(it, &p)) > 0)
        n++;
    xa_process_iter_free(it);
    return rc < 0 ? -1 : n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: live_snapshot TARGET ROUNDS\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    struct xa_instance *xa;
    if (xa_init(argv[1], 0, &xa) < 0) {
        fprintf(stderr, "live_snapshot: %s\n", xa_last_init_error());
        return 1;
    }
    if (list_all(xa) < 0) { /* warm: symbols, offsets, first walk */
        fprintf(stderr, "live_snapshot: %s\n", xa_errmsg(xa));
        xa_destroy(xa);
        return 1;
    }
    int failed = 0;
    for (int r = 0; r < rounds && !failed; r++) {
        double t0 = now(CLOCK_REALTIME), m0 = now(CLOCK_MONOTONIC);
        if (xa_pause(xa) < 0) {
            failed = 1;
            break;
        }
        double m1 = now(CLOCK_MONOTONIC);
        int n = list_all(xa);
        double m2 = now(CLOCK_MONOTONIC);
        if (xa_resume(xa) < 0 || n < 0) {
            failed = 1;
            break;
        }
        double m3 = now(CLOCK_MONOTONIC);
        printf("round %d t0 %.6f pause_us %.1f list_us %.1f resume_us %.1f procs %d\n", r, t0,
               (m1 - m0) * 1e6, (m2 - m1) * 1e6, (m3 - m2) * 1e6, n);
        fflush(stdout);
        usleep(200000); /* let the guest run between snapshots */
    }
    if (failed)
        fprintf(stderr, "live_snapshot: %s\n", xa_errmsg(xa));
    xa_destroy(xa);
    return failed;
}
