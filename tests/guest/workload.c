/*
 * Guest workload for the xenaccess real-guest test harness.
 *
 * Built on the host with `gcc -static -O2` and run as a process inside the
 * test guest.  It creates ground truth that introspection tests compare
 * against:
 *
 *   - a tree of NPROC processes (default 300) several levels deep, process n
 *     having comm "xaw-<n>" and parent "xaw-<(n-1)/BRANCH>" (n >= 1); every
 *     third process switches to uid/gid 1000 + n % 5;
 *   - one process with comm "xa-marker" holding unique marker strings in its
 *     heap (malloc), in an anonymous mmap and on its stack; it prints
 *       XA-MARKER pid=<pid> va=0x<addr> str=<marker> kind=<heap|mmap|stack>
 *     for each of them.
 *
 * All processes sleep forever in pause().  When every process is set up the
 * coordinator prints "XA-WORKLOAD-READY n=<count>" and pauses as well (comm
 * "xa-workload").
 *
 * Usage: workload [NPROC [BRANCH]]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

static int nproc = 300;
static int branch = 6;
static int ready_fd = -1;

__attribute__((noreturn)) static void die(const char *what)
{
    perror(what);
    _exit(1);
}

static void signal_ready(void)
{
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1)
        die("write ready");
}

__attribute__((noreturn)) static void sleep_forever(void)
{
    for (;;)
        pause();
}

/* Process n of the tree: fork our children first (so that they can still
 * change their own credentials), then take our own name and identity. */
__attribute__((noreturn)) static void tree_node(int n)
{
    char name[16];

    for (int c = n * branch + 1; c <= n * branch + branch && c < nproc; c++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            tree_node(c);
            _exit(0); /* not reached */
        }
    }
    snprintf(name, sizeof(name), "xaw-%d", n);
    if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
        die("prctl");
    if (n % 3 == 1) {
        uid_t id = 1000 + n % 5;
        if (setgroups(0, NULL) != 0 || setresgid(id, id, id) != 0 ||
            setresuid(id, id, id) != 0)
            die("setres*id");
    }
    signal_ready();
    sleep_forever();
}

static void random_hex(char *out, size_t nbytes)
{
    unsigned char buf[32];
    int fd = open("/dev/urandom", O_RDONLY);

    if (nbytes > sizeof(buf))
        nbytes = sizeof(buf);
    if (fd < 0 || read(fd, buf, nbytes) != (ssize_t)nbytes) {
        /* fallback: not cryptographic, just unique enough */
        uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&fd;
        for (size_t i = 0; i < nbytes; i++, x = x * 6364136223846793005ull + 1)
            buf[i] = (unsigned char)(x >> 56);
    }
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", buf[i]);
}

__attribute__((noreturn)) static void marker_process(void)
{
    char hex[65];
    volatile char stack_buf[128];
    char *heap, *map;

    if (prctl(PR_SET_NAME, "xa-marker", 0, 0, 0) != 0)
        die("prctl");
    random_hex(hex, 8);

    heap = malloc(256);
    if (!heap)
        die("malloc");
    memset(heap, 0, 256);
    snprintf(heap, 256, "XA-HEAP-MARKER-%s", hex);

    map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        die("mmap");
    /* put the string at an odd offset in the second page */
    snprintf(map + 4096 + 0x123, 128, "XA-MMAP-MARKER-%s", hex);
    map[0] = 1; /* fault in the first page too */

    memset((char *)stack_buf, 0, sizeof(stack_buf));
    snprintf((char *)stack_buf, sizeof(stack_buf), "XA-STACK-MARKER-%s", hex);

    printf("XA-MARKER pid=%d va=%p str=%s kind=heap\n", getpid(), (void *)heap, heap);
    printf("XA-MARKER pid=%d va=%p str=%s kind=mmap\n", getpid(), (void *)(map + 4096 + 0x123),
           map + 4096 + 0x123);
    printf("XA-MARKER pid=%d va=%p str=%s kind=stack\n", getpid(), (void *)stack_buf,
           (char *)stack_buf);
    fflush(stdout);

    signal_ready();
    sleep_forever();
}

int main(int argc, char **argv)
{
    int fds[2];
    int expected;
    pid_t pid;

    if (argc > 1)
        nproc = atoi(argv[1]);
    if (argc > 2)
        branch = atoi(argv[2]);
    if (nproc < 1)
        nproc = 1;
    if (branch < 1)
        branch = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (pipe(fds) != 0)
        die("pipe");
    ready_fd = fds[1];

    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fds[0]);
        marker_process();
    }
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fds[0]);
        tree_node(0);
    }
    close(fds[1]);

    expected = nproc + 1;
    for (int got = 0; got < expected;) {
        char buf[64];
        ssize_t r = read(fds[0], buf, sizeof(buf));
        if (r <= 0) {
            fprintf(stderr, "workload: only %d of %d processes became ready\n", got, expected);
            break;
        }
        got += (int)r;
    }
    close(fds[0]);
    prctl(PR_SET_NAME, "xa-workload", 0, 0, 0);
    printf("XA-WORKLOAD-READY n=%d pid=%d\n", nproc, getpid());
    fflush(stdout);
    sleep_forever();
    return 0;
}
