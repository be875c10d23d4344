/* rkuser.c -- the user-space half of the rootkit test bed (static, runs in
 * the guest). What it does is chosen by the name it runs under:
 *   xa_inject   maps anonymous memory, writes code into it and makes it
 *               executable (what injected shellcode looks like, malfind's
 *               target), then waits;
 *   xa_bpf      loads a tiny eBPF socket filter named "xa_rkfilter" with
 *               the bpf() syscall (no libbpf) and keeps it loaded;
 *   xa_hideme   only waits (the process rk_hideproc unlinks);
 *   xa_preload  only waits (started with LD_PRELOAD in its environment);
 *   xa_deleted  only waits (its executable is deleted once it runs);
 *   xa_rtspin   stays runnable on the last CPU: the main thread spins as a
 *               SCHED_FIFO task (on the RT run queue; RT throttling leaves
 *               the other tasks of that CPU 5%), two nice-19 threads spin
 *               beside it (one at least is in the CFS tree whenever the
 *               dump pauses the guest). rk_hideproc hides it too.
 * Each prints "XA-RK <name> pid=<pid> ..." once ready. */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int inject(void)
{
    /* mov eax, 60; xor edi, edi; syscall -- exit(0), never run */
    static const unsigned char code[] = {0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
    unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memcpy(p, code, sizeof code);
    printf("XA-RK xa_inject pid=%d va=%p\n", getpid(), (void *)p);
    return 0;
}

static int load_bpf(void)
{
    struct bpf_insn prog[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
        {.code = BPF_JMP | BPF_EXIT},
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = 2;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    strncpy(attr.prog_name, "xa_rkfilter", sizeof attr.prog_name - 1);
    long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) {
        perror("bpf");
        return 1;
    }
    printf("XA-RK xa_bpf pid=%d fd=%ld\n", getpid(), fd);
    return 0;
}

static void *spin_nice(void *arg)
{
    (void)arg;
    setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
    for (volatile unsigned long n = 0;; n++)
        ;
    return NULL;
}

static int rtspin(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(ncpu > 1 ? (int)ncpu - 1 : 0, &one);
    if (sched_setaffinity(0, sizeof one, &one) < 0) {
        perror("sched_setaffinity");
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, spin_nice, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    struct sched_param sp = {.sched_priority = 10};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
        perror("sched_setscheduler");
        return 1;
    }
    printf("XA-RK xa_rtspin pid=%d cpu=%d\n", getpid(), ncpu > 1 ? (int)ncpu - 1 : 0);
    fflush(stdout);
    for (volatile unsigned long n = 0;; n++)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    name = name ? name + 1 : (argc > 0 ? argv[0] : "");
    int rc;
    if (strcmp(name, "xa_inject") == 0)
        rc = inject();
    else if (strcmp(name, "xa_bpf") == 0)
        rc = load_bpf();
    else if (strcmp(name, "xa_rtspin") == 0)
        rc = rtspin();
    else if (strcmp(name, "xa_hideme") == 0 || strcmp(name, "xa_preload") == 0 ||
             strcmp(name, "xa_deleted") == 0) {
        printf("XA-RK %s pid=%d\n", name, getpid());
        rc = 0;
    } else {
        fprintf(stderr, "rkuser: run as xa_inject, xa_bpf, xa_hideme, xa_preload, xa_deleted or "
                        "xa_rtspin\n");
        return 2;
    }
    fflush(stdout);
    if (rc)
        return rc;
    for (;;)
        pause();
}
