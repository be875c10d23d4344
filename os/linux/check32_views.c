/*
 * check32_views.c -- task_struct.children and group_leader of a 32-bit
 * kernel without BTF, inferred from the sampled task list (pure code: guest
 * memory through struct t32_mem).
 */
#include <stdbool.h>
#include <stdio.h>

#include "os/linux/check32_views.h"
#include "xa_errors.h"

static bool kptr(const struct t32_mem *m, uint64_t v)
{
    return v >= m->page_offset && v <= 0xFFFFFFFFull - 4 && !(v & 3);
}

static int rd32(const struct t32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    int rc = m->read(m->ctx, va, b, 4);
    *out = rc == 0 ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                         (uint32_t)b[3] << 24
                   : 0;
    return rc;
}

/* The children ring of @task at offset @off: every node links back, is a
 * sibling node of a task whose real_parent is @task, and the ring closes.
 * Adds the children to *kids; false on any break. */
static bool ring_fits(const struct t32_mem *m, uint32_t real_parent, uint32_t off, uint64_t task,
                      uint64_t *budget, size_t *kids)
{
    uint64_t head = task + off, cur = head;
    for (;;) {
        uint32_t next, back, parent;
        if (*budget == 0 || rd32(m, cur, &next) < 0 || !kptr(m, next) ||
            rd32(m, (uint64_t)next + 4, &back) < 0 || back != cur)
            return false;
        --*budget;
        if (next == head)
            return true;
        uint64_t child = (uint64_t)next - (off + 8);
        if (next < off + 8 || rd32(m, child + real_parent, &parent) < 0 || parent != task)
            return false;
        ++*kids;
        cur = next;
    }
}

int c32_find_children(const struct t32_mem *m, uint32_t real_parent, const struct p32_task *t,
                      size_t n, uint32_t *children, char *why, size_t cap)
{
    uint32_t found = 0, nfound = 0;
    for (uint32_t off = real_parent + 4; off <= real_parent + C32_SPAN; off += 4) {
        uint64_t budget = C32_MAX_KIDS;
        size_t kids = 0, i;
        for (i = 0; i < n; i++)
            if (!ring_fits(m, real_parent, off, t[i].task, &budget, &kids))
                break;
        if (i < n || kids < 2 || kids < n / 2)
            continue;
        if (nfound++ == 0)
            found = off;
    }
    if (nfound != 1) {
        if (nfound)
            snprintf(why, cap, "task_struct.children: %u offsets after real_parent (+%u) fit",
                     nfound, real_parent);
        else
            snprintf(why, cap, "task_struct.children: no offset after real_parent (+%u) holds "
                     "a children ring in all %zu sampled tasks", real_parent, n);
        return XA_EBADDATA;
    }
    *children = found;
    return 0;
}

int c32_find_group_leader(const struct t32_mem *m, uint32_t real_parent,
                          const struct p32_task *t, size_t n, uint32_t *group_leader, char *why,
                          size_t cap)
{
    uint32_t found = 0, nfound = 0;
    for (uint32_t off = real_parent + 4; n >= 2 && off <= real_parent + C32_SPAN; off += 4) {
        size_t i;
        uint32_t v;
        for (i = 0; i < n; i++)
            if (rd32(m, t[i].task + off, &v) < 0 || v != t[i].task)
                break;
        if (i == n && nfound++ == 0)
            found = off;
    }
    if (nfound != 1) {
        if (nfound)
            snprintf(why, cap, "task_struct.group_leader: %u offsets after real_parent (+%u) "
                     "hold the task's own address", nfound, real_parent);
        else
            snprintf(why, cap, "task_struct.group_leader: no offset after real_parent (+%u) "
                     "holds the task's own address in all %zu sampled tasks", real_parent, n);
        return XA_EBADDATA;
    }
    *group_leader = found;
    return 0;
}

/* Does (@tp, @tasks, @nr) hold in every sampled task but pid 0? Each is a
 * thread-group leader, so its pid names it as PIDTYPE_PID and PIDTYPE_TGID
 * (pid_links[] are hlist_nodes of 8 bytes). *ns gets the namespace they
 * share. */
static bool pid_fits(const struct t32_mem *m, const struct p32_task *t, size_t n, uint32_t tp,
                     uint32_t tasks, uint32_t nr, uint64_t *ns)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t pid, first, leader, got, space;
        if (t[i].pid == 0)
            continue; /* the idle task: init_struct_pid, attached to nothing */
        if (rd32(m, t[i].task + tp, &pid) < 0 || !kptr(m, pid) ||
            rd32(m, (uint64_t)pid + tasks, &first) < 0 || first != t[i].task + tp + 4 ||
            rd32(m, (uint64_t)pid + tasks + 4, &leader) < 0 || leader != t[i].task + tp + 12 ||
            rd32(m, (uint64_t)pid + nr, &got) < 0 || got != t[i].pid ||
            rd32(m, (uint64_t)pid + nr + 4, &space) < 0 || !kptr(m, space) ||
            (used && space != *ns))
            return false;
        *ns = space;
        used++;
    }
    return used >= 2;
}

int c32_find_pid(const struct t32_mem *m, uint32_t group_leader, const struct p32_task *t,
                 size_t n, struct c32_pid_layout *out, char *why, size_t cap)
{
    unsigned nfound = 0;
    for (uint32_t tp = group_leader + 4; tp <= group_leader + C32_PID_SPAN; tp += 4)
        for (uint32_t tasks = 4; tasks <= C32_PID_TASKS_MAX; tasks += 4)
            for (uint32_t nr = tasks + 16; nr <= tasks + C32_PID_NR_SPAN; nr += 4) {
                uint64_t ns = 0;
                if (!pid_fits(m, t, n, tp, tasks, nr, &ns) || nfound++)
                    continue;
                *out = (struct c32_pid_layout){.thread_pid = tp, .pid_tasks = tasks,
                                               .pid_nr = nr, .init_pid_ns = ns};
            }
    if (nfound != 1) {
        snprintf(why, cap, "struct pid: %u layouts of task_struct.thread_pid, pid.tasks and "
                 "pid.numbers fit all %zu sampled tasks", nfound, n);
        return XA_EBADDATA;
    }
    return 0;
}
