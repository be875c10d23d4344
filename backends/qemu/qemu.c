/*
 * qemu.c -- the "qemu" backend: a running QEMU guest, reached through its
 * QMP socket (target "qemu:/path/to/qmp.sock"). No QEMU patches, nothing in
 * the guest.
 *
 * Memory (ram.c): guest RAM in a shared file is mmapped read-only and pages
 * are handed out as pointers into it (XA_CAP_STABLE_MAP); otherwise QEMU's
 * memory is read through /proc/PID/mem and map_page returns a fresh copy.
 * Registers: HMP "info registers N" per vCPU (query-cpus-fast counts them).
 * Pause/resume: QMP stop/cont.
 *
 * Cache policy on this live target (also docs/live.md):
 *  - A read of guest memory is never stale by itself: shared-file pages are
 *    the guest's own RAM, and /proc/PID/mem copies are made at map time.
 *  - What goes stale while the guest runs is what the core derives and
 *    keeps: translations (v2p cache), copied pages (page cache, /proc path
 *    only) and OS-layer data. The core flushes all of them on xa_pause() and
 *    xa_resume(); each top-level OS walk (process/module/VMA iterator) starts
 *    from a flushed state on XA_CAP_LIVE targets; long-running monitors call
 *    xa_cache_flush() before each snapshot. For a consistent snapshot of a
 *    running guest, bracket the walk with xa_pause()/xa_resume().
 *  - Registers are never cached: every xa_get_vcpu_regs() asks QEMU.
 *
 * QEMU going away: QMP calls return XA_EGONE ("QEMU went away"); shared-file
 * pages stay readable (the mapping keeps the file) and show the guest's last
 * state; /proc/PID/mem reads return XA_EGONE. Nothing raises SIGPIPE.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/qemu/qemu.h"

/* Per-command QMP timeout; XA_QMP_TIMEOUT_MS overrides (tests, slow hosts). */
#define QEMU_DEFAULT_TIMEOUT_MS 10000

static struct qemu_backend *qb_of(struct xa_backend *be)
{
    return (struct qemu_backend *)be;
}

static int timeout_ms(void)
{
    const char *env = getenv("XA_QMP_TIMEOUT_MS");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v > 0 && v <= 600000)
            return (int)v;
    }
    return QEMU_DEFAULT_TIMEOUT_MS;
}

static int count_vcpus(struct qemu_backend *qb)
{
    struct json_object *ret = NULL;
    int rc = qmp_execute(&qb->qmp, "query-cpus-fast", NULL, &ret);
    if (rc < 0)
        return rc;
    unsigned n = 0;
    bool x86 = true, aarch64 = true;
    if (json_object_is_type(ret, json_type_array)) {
        size_t len = json_object_array_length(ret);
        for (size_t i = 0; i < len; i++) {
            struct json_object *c = json_object_array_get_idx(ret, i), *t;
            const char *target = json_object_object_get_ex(c, "target", &t)
                                     ? json_object_get_string(t) : "";
            if (strcmp(target, "x86_64") != 0 && strcmp(target, "i386") != 0)
                x86 = false;
            if (strcmp(target, "aarch64") != 0)
                aarch64 = false;
        }
        n = len > QEMU_MAX_VCPUS ? QEMU_MAX_VCPUS : (unsigned)len;
    }
    json_object_put(ret);
    if (!x86 && !aarch64)
        return xa__set_error(qb->base.xa, XA_ENOTSUP, "%s: not an x86 or AArch64 guest",
                             qb->sock_path);
    /* AArch64 registers have no place in struct xa_regs: memory only (the OS
     * layer finds the kernel's tables in memory). */
    qb->base.nr_vcpus = x86 ? n : 0;
    return 0;
}

static int qemu_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    struct qemu_backend *qb = qb_of(be);
    qb->mem_fd = -1;
    qb->qmp.fd = -1;
    if (strlen(spec) >= sizeof(qb->sock_path))
        return xa__set_error(be->xa, XA_EINVAL, "qemu: socket path too long");
    snprintf(qb->sock_path, sizeof(qb->sock_path), "%s", spec);
    qb->writable = flags & XA_INIT_WRITE;

    int rc = qmp_open(&qb->qmp, be->xa, qb->sock_path, timeout_ms());
    return rc < 0 ? rc : qemu_attach(qb);
}

int qemu_open_over(struct xa_backend *be, const struct qemu_over *how)
{
    struct qemu_backend *qb = qb_of(be);
    qb->mem_fd = -1;
    qb->qmp.fd = -1;
    qb->writable = how->flags & XA_INIT_WRITE;
    snprintf(qb->sock_path, sizeof(qb->sock_path), "%s", how->name);
    int rc = qmp_open_transport(&qb->qmp, be->xa, qb->sock_path, how->transport);
    if (rc < 0)
        return rc;
    qb->qmp.peer_pid = how->peer_pid;
    return qemu_attach(qb);
}

void qemu_ram_facts(const struct xa_backend *be, struct qemu_ram_facts *out)
{
    const struct qemu_backend *qb = (const struct qemu_backend *)be;
    *out = (struct qemu_ram_facts){.nr_segs = qb->nr_segs, .has_ranges = qb->base.ranges != NULL,
                                   .pid = qb->pid};
    for (unsigned i = 0; i < qb->nr_blocks; i++)
        if (qb->blocks[i].share && qb->blocks[i].mem_path)
            out->has_shared_file = true;
}

int qemu_attach(struct qemu_backend *qb)
{
    int rc = qemu_ram_open(qb);
    if (rc == 0)
        rc = count_vcpus(qb);
    if (rc < 0)
        return rc;
    qb->base.caps = XA_CAP_LIVE | XA_CAP_PAUSE | (qb->base.nr_vcpus ? XA_CAP_REGS : 0) |
                    (qb->all_mapped ? XA_CAP_STABLE_MAP : 0) |
                    (qb->writable ? XA_CAP_WRITE : 0);
    return 0;
}

static void qemu_close(struct xa_backend *be)
{
    struct qemu_backend *qb = qb_of(be);
    qemu_ram_close(qb);
    qmp_close(&qb->qmp);
}

/* A failed /proc/PID/mem access: QEMU gone, or a real I/O error. */
static int proc_error(struct qemu_backend *qb, uint64_t pa, int e)
{
    if (e == 0 || e == ESRCH || kill(qb->pid, 0) < 0)
        return xa__set_error(qb->base.xa, XA_EGONE,
                             "/proc/%d/mem: QEMU went away (reading guest 0x%" PRIx64 ")",
                             (int)qb->pid, pa);
    return xa__set_error(qb->base.xa, XA_EIO, "/proc/%d/mem at guest 0x%" PRIx64 ": %s",
                         (int)qb->pid, pa, strerror(e));
}

/* Copy between @buf and guest [pa, pa+len) within one segment. */
static int seg_io(struct qemu_backend *qb, const struct qemu_segment *s, uint64_t pa, void *buf,
                  size_t len, bool write)
{
    struct qemu_block *b = &qb->blocks[s->block];
    uint64_t off = s->offset + (pa - s->gpa);
    if (b->map) {
        if (write)
            memcpy(b->map + off, buf, len);
        else
            memcpy(buf, b->map + off, len);
        return 0;
    }
    while (len) {
        off_t at = (off_t)(b->host_addr + off);
        ssize_t n = write ? pwrite(qb->mem_fd, buf, len, at) : pread(qb->mem_fd, buf, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return proc_error(qb, pa, n < 0 ? errno : 0);
        buf = (uint8_t *)buf + n;
        len -= (size_t)n;
        off += (uint64_t)n;
        pa += (uint64_t)n;
    }
    return 0;
}

static int qemu_io(struct xa_backend *be, uint64_t pa, void *buf, size_t len, bool write)
{
    struct qemu_backend *qb = qb_of(be);
    while (len) {
        const struct qemu_segment *s = qemu_seg_find(qb, pa);
        if (!s)
            return xa__set_error(be->xa, XA_ERANGE,
                                 "physical address 0x%" PRIx64 " is outside guest RAM", pa);
        uint64_t room = s->size - (pa - s->gpa);
        size_t chunk = len < room ? len : (size_t)room;
        int rc = seg_io(qb, s, pa, buf, chunk, write);
        if (rc < 0)
            return rc;
        buf = (uint8_t *)buf + chunk;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

static int qemu_read_pa(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    return qemu_io(be, pa, buf, len, false);
}

static int qemu_write_pa(struct xa_backend *be, uint64_t pa, const void *buf, size_t len)
{
    return qemu_io(be, pa, (void *)(uintptr_t)buf, len, true);
}

static bool in_a_map(const struct qemu_backend *qb, const void *p)
{
    for (unsigned i = 0; i < qb->nr_blocks; i++) {
        const struct qemu_block *b = &qb->blocks[i];
        if (b->map && (const uint8_t *)p >= b->map && (const uint8_t *)p < b->map + b->map_len)
            return true;
    }
    return false;
}

/* A pointer into the shared mapping, or (/proc path) a fresh copy. */
static int qemu_map_page(struct xa_backend *be, uint64_t pfn, const void **out)
{
    struct qemu_backend *qb = qb_of(be);
    uint64_t pa = pfn << XA_PAGE_SHIFT;
    const struct qemu_segment *s = qemu_seg_find(qb, pa);
    if (!s || s->size - (pa - s->gpa) < XA_PAGE_SIZE)
        return xa__set_error(be->xa, XA_ERANGE,
                             "physical page 0x%" PRIx64 " is outside guest RAM", pa);
    struct qemu_block *b = &qb->blocks[s->block];
    if (b->map) {
        *out = b->map + s->offset + (pa - s->gpa);
        return 0;
    }
    void *page = malloc(XA_PAGE_SIZE);
    if (!page)
        return xa__set_error(be->xa, XA_ENOMEM, "out of memory");
    int rc = seg_io(qb, s, pa, page, XA_PAGE_SIZE, false);
    if (rc < 0) {
        free(page);
        return rc;
    }
    *out = page;
    return 0;
}

static void qemu_unmap_page(struct xa_backend *be, uint64_t pfn, const void *page)
{
    (void)pfn;
    if (!in_a_map(qb_of(be), page))
        free((void *)(uintptr_t)page);
}

/* "CPU#1" as a whole line ("CPU#1" must not match "CPU#12"). */
static char *find_cpu_header(char *text, const char *want)
{
    size_t n = strlen(want);
    for (char *p = strstr(text, want); p; p = strstr(p + 1, want))
        if ((p == text || p[-1] == '\n') && (p[n] == '\r' || p[n] == '\n' || p[n] == '\0'))
            return p;
    return NULL;
}

/* "info registers" for @vcpu: 0 with *text_out (free it) and *block, the
 * part of it about @vcpu alone; else a negative XA_E* code. */
static int vcpu_register_text(struct qemu_backend *qb, unsigned vcpu, char **text_out,
                              char **block)
{
    char cmd[48], want[32], *text = NULL;
    snprintf(cmd, sizeof(cmd), "info registers %u", vcpu);
    snprintf(want, sizeof(want), "CPU#%u", vcpu);
    int rc = qmp_hmp(&qb->qmp, cmd, &text);
    if (rc < 0)
        return rc;
    char *dump = find_cpu_header(text, want);
    if (!dump) {
        /* QEMU before 7.2 has no vCPU argument: ask for all, pick ours. */
        free(text);
        rc = qmp_hmp(&qb->qmp, "info registers -a", &text);
        if (rc < 0)
            return rc;
        dump = find_cpu_header(text, want);
    }
    if (!dump) {
        free(text);
        return XA_EBADDATA;
    }
    /* Only this vCPU's block: up to the next "CPU#". */
    char *next = strstr(dump + strlen(want), "CPU#");
    if (next)
        *next = '\0';
    *text_out = text;
    *block = dump;
    return 0;
}

static int qemu_get_vcpu_regs(struct xa_backend *be, unsigned vcpu, struct xa_regs *out)
{
    struct qemu_backend *qb = qb_of(be);
    char *text = NULL, *dump;
    int rc = vcpu_register_text(qb, vcpu, &text, &dump);
    if (rc == 0)
        rc = qemu_parse_regs(dump, out);
    free(text);
    if (rc == XA_EBADDATA)
        return xa__set_error(be->xa, rc, "%s: no registers for vCPU %u in 'info registers'",
                             qb->sock_path, vcpu);
    return rc;
}

static int qemu_get_vcpu_dtables(struct xa_backend *be, unsigned vcpu,
                                 struct xa_vcpu_dtables *out)
{
    struct qemu_backend *qb = qb_of(be);
    char *text = NULL, *dump;
    int rc = vcpu_register_text(qb, vcpu, &text, &dump);
    if (rc == 0)
        rc = qemu_parse_dtables(dump, out);
    free(text);
    if (rc == XA_EBADDATA)
        return xa__set_error(be->xa, rc, "%s: no IDT=/GDT= for vCPU %u in 'info registers'",
                             qb->sock_path, vcpu);
    return rc;
}

static int run_status(struct qemu_backend *qb, bool *running)
{
    struct json_object *ret = NULL, *v;
    int rc = qmp_execute(&qb->qmp, "query-status", NULL, &ret);
    if (rc < 0)
        return rc;
    *running = json_object_object_get_ex(ret, "running", &v) && json_object_get_boolean(v);
    json_object_put(ret);
    return 0;
}

static int simple_command(struct qemu_backend *qb, const char *cmd)
{
    struct json_object *ret = NULL;
    int rc = qmp_execute(&qb->qmp, cmd, NULL, &ret);
    json_object_put(ret);
    return rc;
}

/*
 * Stop the vCPUs. If the guest was already stopped when we paused it
 * (someone else stopped it, or QEMU runs with -S), the matching resume leaves
 * it stopped: we only undo our own stop.
 */
static int qemu_pause(struct xa_backend *be)
{
    struct qemu_backend *qb = qb_of(be);
    bool running;
    int rc = run_status(qb, &running);
    if (rc < 0)
        return rc;
    qb->found_stopped = !running;
    return running ? simple_command(qb, "stop") : 0;
}

static int qemu_resume(struct xa_backend *be)
{
    struct qemu_backend *qb = qb_of(be);
    if (qb->found_stopped) {
        qb->found_stopped = false;
        return 0;
    }
    return simple_command(qb, "cont");
}

const struct xa_backend_ops xa_backend_qemu = {
    .name = "qemu",
    .instance_size = sizeof(struct qemu_backend),
    .open = qemu_open,
    .close = qemu_close,
    .read_pa = qemu_read_pa,
    .write_pa = qemu_write_pa,
    .map_page = qemu_map_page,
    .unmap_page = qemu_unmap_page,
    .get_vcpu_regs = qemu_get_vcpu_regs,
    .get_vcpu_dtables = qemu_get_vcpu_dtables,
    .pause = qemu_pause,
    .resume = qemu_resume,
};

const struct xa_backend_ops *qemu_backend_ops(void)
{
    return &xa_backend_qemu;
}
