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
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "disk/lib/tapctl.h"
#include "tool.h"

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
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

/* A unix socket can be made at @path: its name fits and its directory is one. */
static bool socket_path_bad(const char *path, char *why, size_t size)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, size, "socket %s: longer than the %zu bytes a unix socket's path can have",
                 path, sizeof(sa.sun_path) - 1);
        return true;
    }
    char dir[sizeof(sa.sun_path)];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return false; /* the working directory */
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(dir, &st) < 0) {
        snprintf(why, size, "socket %s: directory %s: %s", path, dir, strerror(errno));
        return true;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, size, "socket %s: %s is not a directory", path, dir);
        return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_common = 0;
    tool_targets = "IMAGE, a disk image file (raw) that QEMU is to use through the tap";
    tool_example = "disk.img --socket /run/vm1-disk.sock";
    struct tool_opts to = {0};
    const char *sock = NULL, *events = NULL, *node = "xadisk0";
    uint64_t ring = 64ull << 20;
    bool lossless = false, background = false;
    struct tool_opt opts[] = {
        {"--socket", OPT_STRING, &sock, "PATH", "the NBD socket QEMU connects to (required)", 0,
         0, false},
        {"--events", OPT_STRING, &events, "PATH",
         "the socket monitors subscribe on (default: SOCKET.events)", 0, 0, false},
        {"--lossless", OPT_FLAG, &lossless, NULL,
         "make the guest's writes wait for slow monitors instead of dropping records", 0, 0,
         false},
        {"--ring", OPT_SIZE, &ring, "SIZE", "the record ring: 1M to 16G (default 64M)", 1ull << 20,
         16ull << 30, false},
        {"--node", OPT_STRING, &node, "NAME", "the QEMU block node name in the printed options",
         0, 0, false},
        {"--background", OPT_FLAG, &background, NULL, "leave the tap running, print its pid", 0,
         0, false},
        {0},
    };
    const char *pos[1];
    const char *usage = "IMAGE --socket PATH [--events PATH] [--lossless] [--ring SIZE] "
                        "[--node NAME] [--background]";
    tool_parse(argc, argv, &to, opts, pos, 1, usage);
    if (!sock)
        tool_die(TOOL_USAGE, "give --socket PATH (usage: %s %s)", tool_name, usage);
    char *image = realpath(to.target, NULL);
    if (!image)
        tool_die(TOOL_ERR, "%s: %s", to.target, strerror(errno));
    char why[4300];
    if (tap_image_check(image, why, sizeof(why)) < 0)
        tool_die(TOOL_ERR, "%s", why);
    char evbuf[4096];
    if (!events) {
        snprintf(evbuf, sizeof(evbuf), "%s.events", sock);
        events = evbuf;
    }
    /* nbdkit would say these in a line of its own before ours */
    if (socket_path_bad(sock, why, sizeof(why)) || socket_path_bad(events, why, sizeof(why)))
        tool_die(TOOL_ERR, "%s", why);
    /* In the background nbdkit daemonizes itself (a -f child would get
     * SIGTERM from nbdkit's parent-death signal when we exit). */
    const struct tap_launch l = {.image = image, .nbd_socket = sock, .event_socket = events,
                                 .ring_bytes = ring, .lossless = lossless,
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
        int st = 0;
        if (background ? kill(child, 0) < 0 : waitpid(child, &st, WNOHANG) == child) {
            if (!background && WIFEXITED(st))
                tool_die(TOOL_ERR, "nbdkit exited with status %d before it listened",
                         WEXITSTATUS(st));
            tool_die(TOOL_ERR, "nbdkit ended before it listened");
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
