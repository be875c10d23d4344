/*
 * mapguard.c -- SIGBUS on a truncated mapped file becomes an error naming
 * the file (mapguard.h says what it guarantees).
 *
 * The handler only reads the slot table with atomic loads and calls mmap()
 * (a plain system call) to put an anonymous zero page over the lost one.
 * Registration is serialised by a mutex; a slot is published by storing its
 * state last (release) and retired by clearing the state first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "core/mapguard.h"

enum { SLOT_FREE, SLOT_ACTIVE };

struct guard_slot {
    atomic_int state;
    atomic_uintptr_t start;
    atomic_size_t len;
    int prot;
    atomic_int faulted;
    atomic_uintptr_t fault_addr;
    /* Read outside the handler only. */
    atomic_uintptr_t owner;
    int fd;
    uint64_t size_at_open;
    char label[256];
};

static struct guard_slot slots[XA_MAPGUARD_MAX];
static atomic_size_t slots_used;       /* slots [0, slots_used) may be active */
atomic_ulong xa__mapguard_faults_total; /* faults handled, ever: the inline check */
#define faults_total xa__mapguard_faults_total
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction previous;      /* the SIGBUS action before ours */
static int install_errno;
static uintptr_t host_page_size;

/* Not one of ours: behave as if we were not there. */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    /* Default action: restore it; a fault then recurs when we return, a
     * signal sent with kill() is raised again. Either way the process dies
     * of SIGBUS as it would have without us. */
    signal(SIGBUS, SIG_DFL);
    if (si->si_code <= 0)
        raise(SIGBUS);
}

/* Put zeros in place of the page holding @addr. A hugetlbfs mapping only
 * takes a whole huge page: try the larger sizes within the mapping. */
static bool replace_with_zeros(uintptr_t addr, uintptr_t start, size_t len, int prot)
{
    const uintptr_t sizes[] = {host_page_size, (uintptr_t)2 << 20, (uintptr_t)1 << 30};
    int saved = errno;
    bool done = false;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]) && !done; k++) {
        uintptr_t page = addr & ~(sizes[k] - 1);
        if (len < sizes[k] || page < start || page - start > len - sizes[k])
            continue;
        done = mmap((void *)page, sizes[k], prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
                    0) != MAP_FAILED;
    }
    errno = saved;
    return done;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (si->si_code > 0) { /* raised by the kernel for an access, not sent */
        size_t n = atomic_load_explicit(&slots_used, memory_order_acquire);
        for (size_t i = 0; i < n; i++) {
            struct guard_slot *s = &slots[i];
            if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_ACTIVE)
                continue;
            uintptr_t start = atomic_load_explicit(&s->start, memory_order_relaxed);
            size_t len = atomic_load_explicit(&s->len, memory_order_relaxed);
            if (addr < start || addr - start >= len)
                continue;
            if (!replace_with_zeros(addr, start, len, s->prot))
                break;
            uintptr_t none = 0;
            atomic_compare_exchange_strong(&s->fault_addr, &none, addr);
            atomic_store_explicit(&s->faulted, 1, memory_order_release);
            atomic_fetch_add_explicit(&faults_total, 1, memory_order_release);
            return; /* the access is retried and reads zeros */
        }
    }
    pass_on(sig, si, uc);
}

static void install(void)
{
    host_page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous) < 0)
        install_errno = errno;
}

int xa__mapguard_add(struct xa_instance *xa, void *addr, size_t len, int prot, int fd,
                     const char *label)
{
    pthread_once(&install_once, install);
    if (install_errno)
        return xa__set_error(xa, XA_EIO, "%s: cannot install the SIGBUS handler: %s", label,
                             strerror(install_errno));
    struct stat st;
    uint64_t size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    /* Our own descriptor: the file's size can be asked after the owner closed its. */
    int own_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
    pthread_mutex_lock(&slots_lock);
    size_t i = 0;
    while (i < XA_MAPGUARD_MAX && atomic_load(&slots[i].state) != SLOT_FREE)
        i++;
    if (i == XA_MAPGUARD_MAX) {
        pthread_mutex_unlock(&slots_lock);
        if (own_fd >= 0)
            close(own_fd);
        return xa__set_error(xa, XA_ELIMIT, "%s: more than %d mapped files open in this process",
                             label, XA_MAPGUARD_MAX);
    }
    struct guard_slot *s = &slots[i];
    atomic_store(&s->start, (uintptr_t)addr);
    atomic_store(&s->len, len);
    s->prot = prot;
    atomic_store(&s->faulted, 0);
    atomic_store(&s->fault_addr, 0);
    atomic_store(&s->owner, (uintptr_t)xa);
    s->fd = own_fd;
    s->size_at_open = size;
    snprintf(s->label, sizeof(s->label), "%s", label);
    atomic_store_explicit(&s->state, SLOT_ACTIVE, memory_order_release);
    if (atomic_load(&slots_used) < i + 1)
        atomic_store_explicit(&slots_used, i + 1, memory_order_release);
    pthread_mutex_unlock(&slots_lock);
    return (int)i;
}

void xa__mapguard_remove(int id)
{
    if (id < 0 || id >= XA_MAPGUARD_MAX)
        return;
    pthread_mutex_lock(&slots_lock);
    struct guard_slot *s = &slots[id];
    if (atomic_load(&s->state) == SLOT_ACTIVE) {
        atomic_store_explicit(&s->state, SLOT_FREE, memory_order_release);
        atomic_store(&s->owner, 0);
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
    }
    pthread_mutex_unlock(&slots_lock);
}

void xa__mapguard_remove_at(const void *addr)
{
    size_t n = atomic_load(&slots_used);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&slots[i].state) == SLOT_ACTIVE &&
            atomic_load(&slots[i].start) == (uintptr_t)addr)
            xa__mapguard_remove((int)i);
}

bool xa__mapguard_faulted(int id)
{
    return id >= 0 && id < XA_MAPGUARD_MAX &&
           atomic_load_explicit(&slots[id].faulted, memory_order_acquire);
}

int xa__mapguard_error(struct xa_instance *xa, int id)
{
    struct guard_slot *s = &slots[id];
    uint64_t off = atomic_load(&s->fault_addr) - atomic_load(&s->start);
    struct stat st;
    if (s->fd >= 0 && fstat(s->fd, &st) == 0 && (uint64_t)st.st_size < s->size_at_open)
        return xa__set_error(xa, XA_EIO,
                             "%s: the file shrank from %llu to %llu bytes while being read "
                             "(byte 0x%llx is gone): truncated, or still being written?",
                             s->label, (unsigned long long)s->size_at_open,
                             (unsigned long long)st.st_size, (unsigned long long)off);
    return xa__set_error(xa, XA_EIO,
                         "%s: byte 0x%llx of the mapped file could not be read (the file was "
                         "truncated or its storage failed)",
                         s->label, (unsigned long long)off);
}

int xa__mapguard_check_slow(struct xa_instance *xa)
{
    size_t n = atomic_load_explicit(&slots_used, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&slots[i].state) == SLOT_ACTIVE && atomic_load(&slots[i].owner) == (uintptr_t)xa &&
            atomic_load(&slots[i].faulted))
            return xa__mapguard_error(xa, (int)i);
    return 0;
}
