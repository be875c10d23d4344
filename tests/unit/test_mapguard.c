/*
 * test_mapguard.c -- dumps truncated while the library reads them, through
 * the public API: every read path (cached small reads, direct large reads,
 * virtual reads, pages handed out by xa_access_*) ends in an error naming
 * the file, never SIGBUS; two threads on two shrinking dumps each get their
 * own error; a SIGBUS outside the library's mappings still kills the
 * process as before. The test truncates the files itself between reads:
 * deterministic, no sleeps.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "xenaccess.h"

/* Under AddressSanitizer: let SIGBUS keep its default action, so that the
 * handler the library chains to is the default one (ASan's own would
 * report and exit instead of dying of the signal). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_sigbus=0";
}

#define PAGE 4096u
#define PAGES 64u

static char dir[] = "/tmp/xa-mapguard-XXXXXX";

static uint8_t byte_at(uint64_t pa)
{
    return (uint8_t)(pa * 7 + (pa >> 12) + 1);
}

static void make_dump(const char *path)
{
    static uint8_t img[PAGES * PAGE];
    for (size_t i = 0; i < sizeof(img); i++)
        img[i] = byte_at(i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, img, sizeof(img)) == (ssize_t)sizeof(img));
    close(fd);
}

static struct xa_instance *open_dump(const char *path)
{
    char target[300];
    snprintf(target, sizeof(target), "file:%s", path);
    struct xa_instance *xa = NULL;
    int rc = xa_init(target, XA_INIT_NO_OS, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", xa_last_init_error());
    return xa;
}

static bool names(const struct xa_instance *xa, const char *path)
{
    const char *m = xa_errmsg(xa);
    bool ok = strstr(m, path) && strstr(m, "shrank");
    if (!ok)
        fprintf(stderr, "message: %s\n", m);
    return ok;
}

/* 4-level tables in pages 1-4 of the dump (kept by the truncation to 16
 * pages): VA 0x400000 -> PA 20 * PAGE (lost to it). */
static void put_tables(const char *path)
{
    const uint64_t e[4][2] = {{1 * PAGE, 2 * PAGE | 7}, {2 * PAGE, 3 * PAGE | 7},
                              {3 * PAGE + 2 * 8, 4 * PAGE | 7}, {4 * PAGE, 20 * PAGE | 7}};
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    for (int i = 0; i < 4; i++) {
        uint8_t page[PAGE] = {0};
        memcpy(page + (e[i][0] & (PAGE - 1)), &e[i][1], 8);
        CHECK_EQ(pwrite(fd, page, PAGE, (off_t)(e[i][0] & ~(uint64_t)(PAGE - 1))), PAGE);
    }
    close(fd);
}

/* Each read path on its own instance: the first fault is seen where it happens. */
static void test_read_paths(void)
{
    char path[100];
    snprintf(path, sizeof(path), "%s/one.img", dir);
    for (int how = 0; how < 5; how++) {
        make_dump(path);
        if (how == 4)
            put_tables(path);
        struct xa_instance *xa = open_dump(path);
        if (!xa)
            return;
        uint8_t buf[4 * PAGE];
        if (how == 4) { /* a virtual page the host-page memo holds after two reads */
            CHECK_EQ(xa_set_kernel_paging(xa, XA_PM_IA32E, 1 * PAGE), 0);
            for (int i = 0; i < 3; i++)
                CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, PAGE, NULL), 0);
            CHECK_EQ(buf[5], byte_at(20 * PAGE + 5));
        }
        CHECK_EQ(xa_read_pa(xa, 40 * PAGE, buf, 16), 0);
        CHECK_EQ(buf[3], byte_at(40 * PAGE + 3));
        uint32_t off = 0;
        const uint8_t *held = xa_access_physical_address(xa, 50 * PAGE + 8, &off);
        CHECK(held != NULL && off == 8 && held[8] == byte_at(50 * PAGE + 8));
        CHECK_EQ(truncate(path, 16 * PAGE), 0);
        switch (how) {
        case 0: /* a small read, copied by the core from the mapped page */
            CHECK_EQ(xa_read_pa(xa, 40 * PAGE, buf, 16), XA_EIO);
            break;
        case 1: /* a large read, copied by the backend */
            CHECK_EQ(xa_read_pa(xa, 30 * PAGE, buf, sizeof(buf)), XA_EIO);
            break;
        case 2: { /* a virtual read (no paging: virtual = physical) */
            size_t n = 99;
            CHECK_EQ(xa_set_kernel_paging(xa, XA_PM_NONE, 0), 0);
            CHECK_EQ(xa_read_va(xa, 0, 20 * PAGE + 100, buf, 64, &n), XA_EIO);
            CHECK_EQ(n, 0);
            break;
        }
        case 4: { /* the host-page memo's pointer: the copy faulted, refused */
            size_t n = 99;
            CHECK_EQ(xa_read_va(xa, 0, 0x400000, buf, PAGE, &n), XA_EIO);
            CHECK_EQ(n, 0);
            break;
        }
        default: { /* the caller's own page: zeros, then the next call fails */
            const volatile uint8_t *h = held;
            CHECK(h[8] == 0 && h[PAGE - 1] == 0);
            CHECK(xa_access_physical_address(xa, 0, &off) == NULL);
            break;
        }
        }
        CHECK(names(xa, path));
        /* Bytes still in the file: refused too, the instance is done. */
        CHECK_EQ(xa_read_pa(xa, 0, buf, 16), XA_EIO);
        xa_release_page(xa, held);
        xa_destroy(xa);
    }
}

struct worker {
    char path[100];
    pthread_barrier_t *cut;
    int rc;
    char msg[512];
};

static void *reader(void *arg)
{
    struct worker *w = arg;
    struct xa_instance *xa = open_dump(w->path);
    uint8_t buf[64];
    if (!xa || xa_read_pa(xa, 60 * PAGE, buf, sizeof(buf)) != 0) {
        w->rc = 1;
        pthread_barrier_wait(w->cut);
        pthread_barrier_wait(w->cut);
        return NULL;
    }
    pthread_barrier_wait(w->cut); /* both opened and read: main cuts both files */
    pthread_barrier_wait(w->cut);
    w->rc = xa_read_pa(xa, 60 * PAGE, buf, sizeof(buf));
    snprintf(w->msg, sizeof(w->msg), "%s", xa_errmsg(xa));
    xa_destroy(xa);
    return NULL;
}

static void test_two_threads(void)
{
    pthread_barrier_t cut;
    pthread_barrier_init(&cut, NULL, 3);
    struct worker w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        snprintf(w[i].path, sizeof(w[i].path), "%s/thread%d.img", dir, i);
        w[i].cut = &cut;
        make_dump(w[i].path);
        pthread_create(&t[i], NULL, reader, &w[i]);
    }
    pthread_barrier_wait(&cut);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(truncate(w[i].path, PAGE), 0);
    pthread_barrier_wait(&cut);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].rc, XA_EIO);
        CHECK(strstr(w[i].msg, w[i].path) != NULL);
        CHECK(strstr(w[i].msg, w[1 - i].path) == NULL);
    }
    pthread_barrier_destroy(&cut);
}

/* A fault in a mapping the library does not own still kills with SIGBUS. */
static void test_foreign_fault_still_kills(void)
{
    char path[100];
    snprintf(path, sizeof(path), "%s/other.img", dir);
    make_dump(path);
    struct xa_instance *xa = open_dump(path); /* installs the handler */
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDONLY);
        volatile const uint8_t *m = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
        if (ftruncate(open(path, O_RDWR), PAGE) != 0)
            _exit(2);
        (void)m[10 * PAGE];
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
    if (!WIFSIGNALED(status))
        fprintf(stderr, "child status 0x%x\n", status);
    xa_destroy(xa);
}

/*
 * A live QEMU guest whose RAM is a shared file (memory-backend-file,
 * share=on) that is cut while we read it. QEMU stays stopped (-S), so only
 * this test touches the RAM. Returns 77 (skip) without QEMU.
 */
static int test_qemu_ram_file(void)
{
    char ram[100], sock[100], target[120], backend[200], chardev[160];
    snprintf(ram, sizeof(ram), "%s/guest.ram", dir);
    snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
    snprintf(target, sizeof(target), "qemu:%s", sock);
    snprintf(backend, sizeof(backend), "memory-backend-file,id=ram0,size=64M,mem-path=%s,share=on",
             ram);
    snprintf(chardev, sizeof(chardev), "unix:%s,server=on,wait=off", sock);
    if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
        return 77;
    pid_t qemu = fork();
    if (qemu == 0) {
        execl("/usr/bin/qemu-system-x86_64", "qemu-system-x86_64", "-accel", "tcg", "-machine",
              "q35,memory-backend=ram0", "-m", "64M", "-object", backend, "-nodefaults",
              "-display", "none", "-S", "-qmp", chardev, (char *)NULL);
        _exit(127);
    }
    /* Wait for the QMP socket (a condition with a deadline, not a fixed sleep). */
    struct xa_instance *xa = NULL;
    for (int i = 0; i < 600 && !xa; i++) {
        if (access(sock, F_OK) == 0 && xa_init(target, XA_INIT_NO_OS, &xa) == 0)
            break;
        xa = NULL;
        int status;
        if (waitpid(qemu, &status, WNOHANG) == qemu) {
            fprintf(stderr, "QEMU exited (status 0x%x)\n", status);
            return 77;
        }
        usleep(100000);
    }
    CHECK(xa != NULL);
    if (!xa) {
        fprintf(stderr, "open %s: %s\n", target, xa_last_init_error());
        kill(qemu, SIGKILL);
        waitpid(qemu, NULL, 0);
        return 1;
    }
    CHECK(strstr(xa_access_method(xa), ram) != NULL); /* mapped from the file, not /proc */
    uint8_t buf[64];
    /* Several RAM segments (q35 splits RAM around the legacy hole). */
    size_t nr = 0;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &nr);
    CHECK(r != NULL && nr >= 2);
    for (size_t i = 0; i < nr; i++)
        CHECK_EQ(xa_read_pa(xa, r[i].start + r[i].size - 8, buf, 8), 0);
    CHECK_EQ(xa_read_pa(xa, 32u << 20, buf, sizeof(buf)), 0);
    CHECK_EQ(truncate(ram, 1u << 20), 0);
    CHECK_EQ(xa_read_pa(xa, 32u << 20, buf, sizeof(buf)), XA_EIO);
    const char *m = xa_errmsg(xa);
    CHECK(strstr(m, ram) && strstr(m, sock) && strstr(m, "shrank"));
    if (!strstr(m, ram))
        fprintf(stderr, "message: %s\n", m);
    xa_destroy(xa);
    kill(qemu, SIGKILL);
    waitpid(qemu, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--qemu") == 0) {
        int rc = test_qemu_ram_file();
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        return rc ? rc : check_failures != 0;
    }
    test_read_paths();
    test_two_threads();
    test_foreign_fault_still_kills();
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
