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
 * coordinator prints "XA-WORKLOAD-READY n=<count> pid=<pid>" and pauses as
 * well (comm "xa-workload").
 *
 * `workload procview` (run as root) re-executes itself with a long command
 * line (PV_NARGS arguments, some with spaces, quotes and non-ASCII bytes) and
 * a large environment (PV_NENV variables), then takes distinct real,
 * effective, saved and filesystem ids, supplementary groups, a reduced
 * effective capability set, a working directory on /tmp's tmpfs, and starts
 * PV_NTHREADS named threads ("xa-pv-t<i>", pinned to CPU i % ncpus); it prints
 *   XA-PROCVIEW pid=<pid> threads=<n>
 * and every thread pauses (main thread comm "xa-procview").
 *
 * `workload files` keeps open files of every kind (see files_run), and
 * `workload fdtruth [PID...]` prints every process's open files and the
 * mountinfo of each PID (see fdtruth).
 *
 * `workload net` (run as root) brings loopback up and holds sockets of every
 * kind: TCP and UDP over IPv4 and IPv6 (listening, connected, accepted, with
 * queued bytes), UNIX (path, abstract, unnamed pair), raw and packet; one
 * TCP connection is left unaccepted in its listener's queue, so the kernel
 * holds a socket no process has. A child shares every socket. It prints
 *   XA-NET pid=<pid> child=<pid>
 * `workload kmsg` prints every record /dev/kmsg holds now (first lines only).
 *
 * Usage: workload [NPROC [BRANCH]] | workload procview | workload net | workload kmsg |
 *        workload files | workload fdtruth [PID...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/if_ether.h>
#include <stddef.h>

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

/* ---- procview: threads, credentials, long command line and environment -- */

#define PV_NARGS 300
#define PV_NENV 120
#define PV_NTHREADS 3
#define PV_DIR "/tmp/xa-pv/dir with space/deeper"

/* Re-execute as "procview-run" with a command line of about 14 KiB and an
 * environment of about 31 KiB (several pages each). */
__attribute__((noreturn)) static void procview_exec(void)
{
    static char args[PV_NARGS][64];
    static char envs[PV_NENV][300];
    static char *argv[PV_NARGS + 3], *envp[PV_NENV + 1];

    argv[0] = "/xa/workload";
    argv[1] = "procview-run";
    for (int i = 0; i < PV_NARGS; i++) {
        /* every 7th has a space and a quote, every 11th a non-ASCII byte */
        snprintf(args[i], sizeof(args[i]), "arg-%03d%s%s-0123456789abcdefghijklmnopqrstuv", i,
                 i % 7 == 0 ? " 'q\\\"" : "", i % 11 == 0 ? "\xe9\t" : "");
        argv[i + 2] = args[i];
    }
    argv[PV_NARGS + 2] = NULL;
    for (int i = 0; i < PV_NENV; i++) {
        int n = snprintf(envs[i], sizeof(envs[i]), "XA_PV_%03d=", i);
        for (int k = n; k < (int)sizeof(envs[i]) - 1; k++)
            envs[i][k] = (char)('A' + (i + k) % 26);
        envs[i][sizeof(envs[i]) - 1] = '\0';
        envp[i] = envs[i];
    }
    envp[PV_NENV] = NULL;
    execve("/proc/self/exe", argv, envp);
    die("execve");
}

/* Thread i runs on CPU i % ncpus, so the threads' last CPUs differ. */
static void *procview_thread(void *arg)
{
    char name[16];
    int i = (int)(intptr_t)arg;
    long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(ncpus > 0 ? i % ncpus : 0, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        die("sched_setaffinity");
    sched_yield(); /* move there now */
    snprintf(name, sizeof(name), "xa-pv-t%d", i);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    sleep_forever();
}

__attribute__((noreturn)) static void procview_run(void)
{
    static const gid_t groups[] = {10, 20, 1234, 65534};
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct caps[2];

    if (mkdir("/tmp/xa-pv", 0755) != 0 || mkdir("/tmp/xa-pv/dir with space", 0755) != 0 ||
        mkdir(PV_DIR, 0755) != 0 || chdir(PV_DIR) != 0)
        die("procview dir");
    /* Credentials first: they are per thread, the threads inherit them. */
    if (setgroups(sizeof(groups) / sizeof(groups[0]), groups) != 0 ||
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setresgid(2001, 2002, 2003) != 0 ||
        setresuid(1001, 1002, 1003) != 0)
        die("procview ids");
    setfsuid(1001); /* allowed: the real uid; returns the old fsuid */
    setfsgid(2001);
    /* Permitted stays full (KEEPCAPS); effective: CAP_KILL and CAP_NET_RAW. */
    if (syscall(SYS_capget, &hdr, caps) != 0)
        die("capget");
    caps[0].effective = (1u << CAP_KILL) | (1u << CAP_NET_RAW);
    caps[1].effective = 0;
    if (syscall(SYS_capset, &hdr, caps) != 0)
        die("capset");
    for (int i = 1; i <= PV_NTHREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, procview_thread, (void *)(intptr_t)i) != 0)
            die("pthread_create");
    }
    prctl(PR_SET_NAME, "xa-procview", 0, 0, 0);
    printf("XA-PROCVIEW pid=%d threads=%d\n", getpid(), PV_NTHREADS + 1);
    fflush(stdout);
    sleep_forever();
}


/* ---- files: open files of every kind, one in a second mount namespace ---- */

#define FILES_DIR "/tmp/xa-files"

static void write_all(int fd, const char *what, size_t n)
{
    char buf[512];
    memset(buf, 'x', sizeof(buf));
    while (n > 0) {
        size_t k = n < sizeof(buf) ? n : sizeof(buf);
        if (write(fd, buf, k) != (ssize_t)k)
            die(what);
        n -= k;
    }
}

/* `workload files`: keeps open a regular file of the initramfs (read
 * position 100), a file on /tmp's tmpfs (O_APPEND, 1234 bytes written), a
 * deleted file (O_CLOEXEC), both ends of a pipe, an eventfd, and, after
 * unshare(CLONE_NEWNS), a file on a tmpfs mounted only in its own mount
 * namespace (position 3); prints XA-FILES pid=<pid> and pauses (comm
 * "xa-files"). */
__attribute__((noreturn)) static void files_run(void)
{
    int p[2];
    if (mkdir(FILES_DIR, 0755) != 0 || mkdir(FILES_DIR "/ns", 0755) != 0)
        die("files dir");
    int reg = open("/xa/truth.sh", O_RDONLY);
    if (reg < 0 || lseek(reg, 100, SEEK_SET) != 100)
        die("files regular");
    int tmp = open(FILES_DIR "/on tmpfs.txt", O_RDWR | O_CREAT | O_APPEND, 0644);
    if (tmp < 0)
        die("files tmpfs");
    write_all(tmp, "files tmpfs", 1234);
    int del = open(FILES_DIR "/deleted.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (del < 0)
        die("files deleted");
    write_all(del, "files deleted", 77);
    if (unlink(FILES_DIR "/deleted.txt") != 0 || pipe(p) != 0)
        die("files unlink/pipe");
    if (eventfd(3, EFD_CLOEXEC | EFD_NONBLOCK) < 0)
        die("files eventfd");
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("xa-ns-tmpfs", FILES_DIR "/ns", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0)
        die("files namespace");
    int ns = open(FILES_DIR "/ns/inside.txt", O_RDWR | O_CREAT, 0644);
    if (ns < 0)
        die("files ns file");
    write_all(ns, "files ns", 10);
    if (lseek(ns, 3, SEEK_SET) != 3)
        die("files ns seek");
    prctl(PR_SET_NAME, "xa-files", 0, 0, 0);
    printf("XA-FILES pid=%d\n", getpid());
    fflush(stdout);
    sleep_forever();
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* fdinfo's "pos:", "flags:" (octal) and "mnt_id:" of one fd. */
static int read_fdinfo(const char *path, long long *pos, unsigned *flags, int *mnt_id)
{
    char line[256];
    int got = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        got += sscanf(line, "pos: %lld", pos) == 1;
        got += sscanf(line, "flags: %o", flags) == 1;
        got += sscanf(line, "mnt_id: %d", mnt_id) == 1;
    }
    fclose(f);
    return got == 3 ? 0 : -1;
}

/* `workload fdtruth [PID...]`: every open file of every process (but this
 * one and its parent, gone before a dump) as
 *   fd PID FD MAJOR:MINOR INODE MODE(octal) POS FLAGS(octal) MNT_ID HEX(link)
 * then "mountinfo PID HEX(line)" for each PID given. A process or fd that
 * goes away while we read it is left out. */
static int fdtruth(int argc, char **argv)
{
    DIR *proc = opendir("/proc");
    struct dirent *pe;
    if (!proc)
        die("opendir /proc");
    while ((pe = readdir(proc))) {
        if (!all_digits(pe->d_name))
            continue;
        int pid = atoi(pe->d_name);
        if (pid == getpid() || pid == getppid())
            continue;
        char dpath[64];
        snprintf(dpath, sizeof(dpath), "/proc/%d/fd", pid);
        DIR *fds = opendir(dpath);
        struct dirent *fe;
        if (!fds)
            continue;
        while ((fe = readdir(fds))) {
            if (!all_digits(fe->d_name))
                continue;
            char lp[512], ip[512], link[4096];
            struct stat st;
            long long pos = 0;
            unsigned flags = 0;
            int mnt_id = 0;
            snprintf(lp, sizeof(lp), "%s/%s", dpath, fe->d_name);
            snprintf(ip, sizeof(ip), "/proc/%d/fdinfo/%s", pid, fe->d_name);
            ssize_t n = readlink(lp, link, sizeof(link));
            if (n < 0 || n >= (ssize_t)sizeof(link) || stat(lp, &st) != 0 ||
                read_fdinfo(ip, &pos, &flags, &mnt_id) != 0)
                continue;
            printf("fd %d %s %u:%u %llu %o %lld %o %d ", pid, fe->d_name, major(st.st_dev),
                   minor(st.st_dev), (unsigned long long)st.st_ino, (unsigned)st.st_mode, pos,
                   flags, mnt_id);
            for (ssize_t i = 0; i < n; i++)
                printf("%02x", (unsigned char)link[i]);
            printf("\n");
        }
        closedir(fds);
    }
    closedir(proc);
    for (int i = 0; i < argc; i++) {
        char path[64], line[8192];
        snprintf(path, sizeof(path), "/proc/%s/mountinfo", argv[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            die(path);
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            printf("mountinfo %s ", argv[i]);
            for (size_t k = 0; line[k]; k++)
                printf("%02x", (unsigned char)line[k]);
            printf("\n");
        }
        fclose(f);
    }
    return errno = 0;
}


/* ---- net: sockets of every kind; kmsg: the kernel log ------------------- */

static void loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        die("SIOCGIFFLAGS");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
        die("SIOCSIFFLAGS");
    close(fd);
}

static socklen_t net_addr(int family, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof(*a);
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    a->sin6_addr = in6addr_loopback;
    return sizeof(*a);
}

static int net_bound(int family, int type, int port)
{
    struct sockaddr_storage ss;
    socklen_t len = net_addr(family, port, &ss);
    int one = 1, fd = socket(family, type, 0);
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    if (type == SOCK_STREAM && listen(fd, 8) != 0)
        die("listen");
    return fd;
}

static int net_connect(int family, int type, int port)
{
    struct sockaddr_storage ss;
    socklen_t len = net_addr(family, port, &ss);
    int fd = socket(family, type, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    return fd;
}

/* A listener, a client and (when @accept) the accepted end; bytes sent both
 * ways stay unread, so receive queues are not empty. */
static void net_tcp(int family, int port, int accept_it)
{
    int l = net_bound(family, SOCK_STREAM, port);
    int c = net_connect(family, SOCK_STREAM, port);
    if (write(c, "hello", 5) != 5)
        die("write");
    if (accept_it) {
        int a = accept(l, NULL, NULL);
        if (a < 0 || write(a, "hi", 2) != 2)
            die("accept");
    }
}

static void net_udp(int family, int port)
{
    int s = net_bound(family, SOCK_DGRAM, port);
    int c = net_connect(family, SOCK_DGRAM, port);
    (void)s;
    if (write(c, "datagram", 8) != 8)
        die("udp write");
}

static void net_unix(void)
{
    struct sockaddr_un a;
    int l, c, fds[2];

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, "/tmp/xa-net.sock");
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 4) != 0)
        die("unix listen");
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) != 0 || accept(l, NULL, NULL) < 0)
        die("unix connect");
    /* abstract: a NUL, then the name */
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, "\0xa-net-abstract", 16);
    l = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 16) != 0)
        die("unix abstract");
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0)
        die("socketpair");
}

__attribute__((noreturn)) static void net_run(void)
{
    pid_t child;

    loopback_up();
    net_tcp(AF_INET, 7001, 1);
    net_tcp(AF_INET, 7002, 0); /* its server end: only in the listener's queue */
    net_tcp(AF_INET6, 7003, 1);
    net_udp(AF_INET, 7004);
    net_udp(AF_INET6, 7005);
    net_unix();
    if (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) < 0)
        die("raw socket");
    if (socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)) < 0)
        die("packet socket");
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        prctl(PR_SET_NAME, "xa-net-child", 0, 0, 0);
        sleep_forever();
    }
    prctl(PR_SET_NAME, "xa-net", 0, 0, 0);
    printf("XA-NET pid=%d child=%d\n", getpid(), (int)child);
    fflush(stdout);
    sleep_forever();
}

/* Each record's first line as /dev/kmsg gives it: "prio,seq,usec,flags;text". */
static int kmsg_dump(void)
{
    char buf[8192];
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        die("/dev/kmsg");
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0 && errno == EPIPE)
            continue; /* overwritten while we read: the next one follows */
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0)
            die("read /dev/kmsg");
        buf[n] = '\0';
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        printf("%s\n", buf);
    }
    return 0;
}

/* ---- netns: sockets in a second network namespace ------------------------ */

/* `workload netns`: in a network namespace of its own (unshare), a TCP
 * listener on 127.0.0.1:7001 -- the port the first namespace's listener
 * has too -- with an accepted connection to it, and a UNIX listener;
 * prints XA-NETNS pid=<pid> and pauses (comm "xa-netns"). /proc/net in the
 * first namespace shows none of them. */
__attribute__((noreturn)) static void netns_run(void)
{
    struct sockaddr_un a;
    int l;

    if (unshare(CLONE_NEWNET) != 0)
        die("unshare(CLONE_NEWNET)");
    loopback_up();
    net_tcp(AF_INET, 7001, 1);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, "/tmp/xa-netns.sock");
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 4) != 0)
        die("netns unix listen");
    prctl(PR_SET_NAME, "xa-netns", 0, 0, 0);
    printf("XA-NETNS pid=%d\n", getpid());
    fflush(stdout);
    sleep_forever();
}

/* ---- netns-ehash: a namespace with TCP (and UDP) hash tables of its own --- */

/* Write @val to the sysctl file open at @fd (from its start). */
static void sysctl_put(int fd, const char *val, const char *what)
{
    if (lseek(fd, 0, SEEK_SET) != 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
        die(what);
}

/* `workload netns-ehash`: net.ipv4.tcp_child_ehash_entries (6.1+) and
 * udp_child_hash_entries (6.2+) set before unshare(CLONE_NEWNET), so the new
 * namespace gets an established hash (and a UDP table) of its own instead of
 * the global one; both are set back to 0 through the files opened in the
 * first namespace. Inside: TCP listeners with an accepted connection (IPv4
 * and IPv6), one connection left unaccepted (its server end is in no fd
 * table: only the namespace's hash holds it) and UDP pairs. Prints
 * XA-NETNS-EHASH pid=<pid> and pauses (comm "xa-netns-eh"). On a kernel
 * without the sysctls the namespace uses the global tables. */
__attribute__((noreturn)) static void netns_ehash_run(void)
{
    int tcp = open("/proc/sys/net/ipv4/tcp_child_ehash_entries", O_WRONLY);
    int udp = open("/proc/sys/net/ipv4/udp_child_hash_entries", O_WRONLY);

    if (tcp >= 0)
        sysctl_put(tcp, "128", "tcp_child_ehash_entries");
    if (udp >= 0)
        sysctl_put(udp, "256", "udp_child_hash_entries");
    if (unshare(CLONE_NEWNET) != 0)
        die("unshare(CLONE_NEWNET)");
    if (tcp >= 0)
        sysctl_put(tcp, "0", "tcp_child_ehash_entries reset");
    if (udp >= 0)
        sysctl_put(udp, "0", "udp_child_hash_entries reset");
    loopback_up();
    net_tcp(AF_INET, 7011, 1);
    net_tcp(AF_INET, 7012, 0); /* its server end: only in the namespace's hash */
    net_tcp(AF_INET6, 7013, 1);
    net_udp(AF_INET, 7014);
    net_udp(AF_INET6, 7015);
    /* The namespace's own view of its established hash: its size, negative
     * when it shares the first namespace's (6.1+; "none" before). */
    char ehash[32] = "none";
    int fd = open("/proc/sys/net/ipv4/tcp_ehash_entries", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, ehash, sizeof(ehash) - 1);
        ehash[n > 0 ? n : 0] = '\0';
        ehash[strcspn(ehash, "\n")] = '\0';
        close(fd);
    }
    prctl(PR_SET_NAME, "xa-netns-eh", 0, 0, 0);
    printf("XA-NETNS-EHASH pid=%d tcp_sysctl=%d udp_sysctl=%d ehash_entries=%s\n", getpid(),
           tcp >= 0, udp >= 0, ehash);
    fflush(stdout);
    sleep_forever();
}

int main(int argc, char **argv)
{
    int fds[2];
    int expected;
    pid_t pid;

    if (argc > 1 && strcmp(argv[1], "procview") == 0)
        procview_exec();
    if (argc > 1 && strcmp(argv[1], "procview-run") == 0)
        procview_run();
    if (argc > 1 && strcmp(argv[1], "files") == 0)
        files_run();
    if (argc > 1 && strcmp(argv[1], "fdtruth") == 0)
        return fdtruth(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "net") == 0)
        net_run();
    if (argc > 1 && strcmp(argv[1], "kmsg") == 0)
        return kmsg_dump();
    if (argc > 1 && strcmp(argv[1], "netns") == 0)
        netns_run();
    if (argc > 1 && strcmp(argv[1], "netns-ehash") == 0)
        netns_ehash_run();

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
