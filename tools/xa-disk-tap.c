/*
 * xa-disk-tap -- serve a disk image to QEMU through the xadisk tap.
 *
 *   xa-disk-tap IMAGE --socket PATH [--events PATH] [--lossless] [--ring SIZE]
 *               [--node NAME] [--background]
 *
 * Starts nbdkit's file plugin on IMAGE with the xadisk filter stacked on it,
 * waits until it listens, then prints the QEMU options to use.  Monitors
 * subscribe on the events socket (default: the NBD socket + ".events"), e.g.
 * `xa-disk-monitor tap:PATH`.  In the foreground it runs until interrupted;
 * with --background it leaves the tap running and prints its pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "disk/lib/tapctl.h"

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: xa-disk-tap IMAGE --socket PATH [--events PATH] [--lossless] "
               "[--ring SIZE] [--node NAME] [--background]\n");
}

/* SIZE: a whole number of bytes with an optional K, M or G suffix, from 1M
 * to 16G (what the filter accepts).  Returns 0 when malformed or out of range. */
static unsigned long long parse_ring_size(const char *s)
{
    if (*s < '0' || *s > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return 0;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return 0;
    }
    if (*end || v > (16ull << 30) >> shift)
        return 0;
    v <<= shift;
    return v >= (1ull << 20) && v <= (16ull << 30) ? v : 0;
}

static int can_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return 0;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    const char *sock = NULL, *events = NULL, *ring = "64M", *node = "xadisk0";
    int lossless = 0, background = 0;
    static const struct option opts[] = {
        {"socket", required_argument, 0, 's'}, {"events", required_argument, 0, 'e'},
        {"lossless", no_argument, 0, 'l'},     {"ring", required_argument, 0, 'r'},
        {"node", required_argument, 0, 'n'},   {"background", no_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "s:e:lr:n:bh", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'e': events = optarg; break;
        case 'l': lossless = 1; break;
        case 'r':
            if (!parse_ring_size(optarg)) {
                fprintf(stderr, "xa-disk-tap: --ring wants a size from 1M to 16G (e.g. 64M), "
                                "not '%s'\n", optarg);
                return 2;
            }
            ring = optarg;
            break;
        case 'n': node = optarg; break;
        case 'b': background = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !sock) {
        usage(stderr);
        return 2;
    }
    char *image = realpath(argv[optind], NULL);
    if (!image) {
        fprintf(stderr, "xa-disk-tap: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    char evbuf[4096];
    if (!events) {
        snprintf(evbuf, sizeof(evbuf), "%s.events", sock);
        events = evbuf;
    }
    /* In the background nbdkit daemonizes itself (a -f child would get
     * SIGTERM from nbdkit's parent-death signal when we exit). */
    const struct tap_launch l = {.image = image, .nbd_socket = sock, .event_socket = events,
                                 .ring_bytes = parse_ring_size(ring), .lossless = lossless,
                                 .daemon = background, .who = "xa-disk-tap"};
    unlink(sock);
    unlink(events);
    char pidfile[4200];
    tap_pidfile(sock, pidfile, sizeof(pidfile));
    child = tap_spawn(&l);
    free(image); /* nbdkit has its copy */
    if (child < 0) {
        perror("xa-disk-tap: fork");
        return 1;
    }
    if (background) {
        int st;
        if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "xa-disk-tap: nbdkit failed to start\n");
            return 1;
        }
        /* the daemon writes its pid file after the parent has exited */
        pid_t pid = tap_wait_pidfile(pidfile);
        if (pid <= 0) {
            fprintf(stderr, "xa-disk-tap: no pid in %s\n", pidfile);
            return 1;
        }
        child = pid;
    }
    int ready = 0;
    for (int i = 0; i < 200 && !ready; i++) {
        int st;
        if (background ? kill(child, 0) < 0 : waitpid(child, &st, WNOHANG) == child) {
            fprintf(stderr, "xa-disk-tap: nbdkit exited (status %d)\n", st);
            return 1;
        }
        ready = access(sock, F_OK) == 0 && can_connect(events);
        if (!ready) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (!ready) {
        fprintf(stderr, "xa-disk-tap: nbdkit did not start listening\n");
        kill(child, SIGTERM);
        return 1;
    }
    printf("QEMU: -blockdev driver=nbd,server.type=unix,server.path=%s,node-name=%s,"
           "reconnect-delay=10 -device virtio-blk-pci,drive=%s\n",
           sock, node, node);
    printf("QEMU (short): -drive file=nbd+unix:///?socket=%s,format=raw,if=virtio\n", sock);
    printf("EVENTS: %s\n", events);
    printf("MONITOR: xa-disk-monitor tap:%s\n", events);
    printf("PID: %d\n", (int)child);
    fflush(stdout);
    if (background)
        return 0;
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
