/*
 * synthetic_guest.h -- a tiny Linux guest built in memory, shared by the OS
 * layer test (test_linux_os.c), the walk fuzz target and its seed maker:
 * a 32 MiB raw image with page tables (a KASLR-slid kernel map and a direct
 * map), a banner, init_task and four more tasks, creds, an mm with a maple
 * tree of five VMAs, dentries across two mounts, user page tables with a
 * marker string and two modules, described by a BTF blob made with libbpf
 * (offsets deliberately unlike a real kernel's). la57 and old_layout pick
 * 5-level paging and the older structure layouts.
 *
 * Functions are static inline: each includer uses a different part.
 */
#ifndef XA_TEST_SYNTHETIC_GUEST_H
#define XA_TEST_SYNTHETIC_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#define MIB (1024u * 1024u)
#define IMG_SIZE (32u * MIB)
#define DM dm_base                       /* direct map base */
#define KLINK 0xffffffff81000000ULL      /* _text in the System.map */
#define SLIDE 0x600000ULL                /* KASLR slide we apply */
#define KVIRT (KLINK + SLIDE)            /* _text at run time */
#define KPHYS 0x1800000ULL               /* _text physical */
#define PHYS_BASE (KPHYS - (KVIRT - 0xffffffff80000000ULL))

/* Kernel image offsets. */
#define K_TOP_PGT 0x1000
#define K_PDPT_K 0x2000
#define K_PD_K 0x3000
#define K_PDPT_D 0x4000
#define K_PD_D 0x5000
#define K_BANNER 0x6000
#define K_PAGE_OFFSET_BASE 0x6800
#define K_MODULES 0x7000
#define K_SPECIAL_VMOPS 0x7100
#define K_PER_CPU_OFFSET 0x7200 /* __per_cpu_offset[NR_CPUS] */
#define K_NR_CPU_IDS 0x7300
#define NR_CPUS_SYNTH 2
#define PCPU_PROCESS_COUNTS 0x40 /* per-CPU symbol: an offset into each CPU's area */
#define K_INIT_TASK 0x8000
#define K_L4_K 0xa000 /* 5-level only */
#define K_L4_D 0xb000
#define K_BTF 0x10000

/* Structure layouts (our own, told to the library only through BTF). */
#define TASK_SIZE 2048
#define T_STATE 0x18
#define T_FLAGS 0x2c
#define T_TASKS 0x100
#define T_MM 0x120
#define T_PID 0x140
#define T_TGID 0x144
#define T_REAL_PARENT 0x150
#define T_EXIT_STATE 0x160
#define T_START_TIME 0x170
#define T_REAL_CRED 0x180
#define T_ANON 0x188 /* anonymous struct holding comm at +8 */
#define T_COMM 0x190
#define T_SIGNAL 0x1b0      /* signal_struct: thread_head at SIG_THREAD_HEAD */
#define T_THREAD_NODE 0x1c0 /* list_head through the thread group */
#define T_CPU 0x1d0
#define T_GROUP_LEADER 0x1e0 /* read by the rootkit checks only */
#define T_PID_LINKS 0x1f0
#define T_CHILDREN 0x200 /* the process tree and the scheduler: the rootkit checks only */
#define T_SIBLING 0x210
#define T_SE 0x240
#define T_RT 0x340 /* sched_rt_entity, run_list first */
#define T_DL 0x380 /* sched_dl_entity, rb_node first */
#define SIG_THREAD_HEAD 0x10
#define C_UID 4
#define C_GID 8
#define C_EUID 20
#define C_EGID 24
#define MM_MT 0x40 /* struct maple_tree, ma_root at +8 */
#define MM_PGD 0x60
#define MM_START_BRK 0x80
#define MM_BRK 0x88
#define MM_START_STACK 0x90
#define MM_MAP_COUNT 0x98
#define V_START 0
#define V_END 8
#define V_FLAGS 32
#define V_NEXT 40 /* old layout only */
#define V_PREV 48 /* old layout only */
#define V_OPS 80
#define V_PGOFF 96
#define V_FILE 104
#define V_PRIVATE 112
#define F_PATH 16
#define D_HASH 8 /* hlist_bl_node: pprev at +8, NULL once unlinked */
#define D_PARENT 24
#define D_NAME 32 /* qstr: len at +4, name at +8 */
#define MNT_PARENT 16
#define MNT_MOUNTPOINT 24
#define MNT_MNT 32 /* struct vfsmount, mnt_root at +0 */
#define MOD_STATE 0
#define MOD_LIST 8
#define MOD_NAME 24
#define MOD_CORE 0x100 /* module_layout: base +0, size +8 */
#define MOD_REFCNT 0x200
#define MOD_MKOBJ 0x240 /* struct module_kobject: the rootkit checks only */

static uint8_t *img;
static uint64_t heap_top;
static bool la57; /* build 5-level page tables */
/* Describe older layouts: task_struct.state, mm->mmap + vm_next lists, and
 * the 6.4+ module.mem[] array instead of core_layout. */
static bool old_layout;
static uint64_t dm_base = 0xffff888000000000ULL;

static inline void put64(uint64_t pa, uint64_t v) { memcpy(img + pa, &v, 8); }
static inline void put32(uint64_t pa, uint32_t v) { memcpy(img + pa, &v, 4); }
static inline uint64_t kva(uint64_t off) { return KVIRT + off; }
static inline uint64_t kpa(uint64_t off) { return KPHYS + off; }
static inline uint64_t dm(uint64_t pa) { return DM + pa; }
static inline uint64_t pa_of(uint64_t va) { return va >= KVIRT ? va - KVIRT + KPHYS : va - DM; }
static inline void vput64(uint64_t va, uint64_t v) { put64(pa_of(va), v); }
static inline void vput32(uint64_t va, uint32_t v) { put32(pa_of(va), v); }

/* Zeroed guest memory from the heap below the kernel; returns its direct-map VA. */
static inline uint64_t galloc(uint64_t size, uint64_t align)
{
    heap_top = (heap_top + align - 1) & ~(align - 1);
    uint64_t pa = heap_top;
    heap_top += size;
    if (heap_top > KPHYS)
        abort();
    memset(img + pa, 0, size);
    return dm(pa);
}

static inline uint64_t gstr(const char *s)
{
    uint64_t va = galloc(strlen(s) + 1, 8);
    memcpy(img + pa_of(va), s, strlen(s) + 1);
    return va;
}

/* ---- page tables ------------------------------------------------------- */

static inline void build_kernel_tables(void)
{
    uint64_t top = kpa(K_TOP_PGT), l4_k = top, l4_d = top;
    if (la57) { /* one more level above the 4-level tables */
        l4_k = kpa(K_L4_K);
        l4_d = kpa(K_L4_D);
        put64(top + 511 * 8, l4_k | 3);
        put64(top + ((DM >> 48) & 511) * 8, l4_d | 3);
    }
    /* Kernel map: PML4[511] -> PDPT[510] -> PD, one 2 MiB page for the image. */
    put64(l4_k + 511 * 8, kpa(K_PDPT_K) | 3);
    put64(kpa(K_PDPT_K) + 510 * 8, kpa(K_PD_K) | 3);
    put64(kpa(K_PD_K) + ((KVIRT >> 21) & 511) * 8, KPHYS | 0x83);
    /* Direct map of all 32 MiB with 2 MiB pages. */
    put64(l4_d + ((DM >> 39) & 511) * 8, kpa(K_PDPT_D) | 3);
    put64(kpa(K_PDPT_D) + ((DM >> 30) & 511) * 8, kpa(K_PD_D) | 3);
    for (uint64_t i = 0; i < IMG_SIZE / (2 * MIB); i++)
        put64(kpa(K_PD_D) + i * 8, (i * 2 * MIB) | 0x83);
}

/* User tables mapping VA 0x400000 to a page with a marker; returns the pgd VA. */
static inline uint64_t build_user_tables(void)
{
    uint64_t pgd = galloc(4096, 4096), pml4 = pgd, pdpt = galloc(4096, 4096),
             pd = galloc(4096, 4096), pt = galloc(4096, 4096), page = galloc(4096, 4096);
    if (la57) {
        pml4 = galloc(4096, 4096);
        vput64(pgd, pa_of(pml4) | 7);
    }
    vput64(pml4, pa_of(pdpt) | 7);
    vput64(pdpt, pa_of(pd) | 7);
    vput64(pd + 2 * 8, pa_of(pt) | 7);
    vput64(pt, pa_of(page) | 7);
    memcpy(img + pa_of(page) + 0x10, "XA-MARKER-4242", 15);
    return pgd;
}

/* ---- BTF ---------------------------------------------------------------- */

static inline void *build_btf(uint32_t *size)
{
    struct btf *b = btf__new_empty();
    int t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int t_uint = btf__add_int(b, "unsigned int", 4, 0);
    int t_ulong = btf__add_int(b, "long unsigned int", 8, 0);
    int t_char = btf__add_int(b, "char", 1, BTF_INT_CHAR);
    int t_uchar = btf__add_int(b, "unsigned char", 1, 0);
    int t_ptr = btf__add_ptr(b, 0);
    int a_comm = btf__add_array(b, t_int, t_char, 16);
    int a_name = btf__add_array(b, t_int, t_char, 56);
    int a_piv15 = btf__add_array(b, t_int, t_ulong, 15);
    int a_slot16 = btf__add_array(b, t_int, t_ptr, 16);
    int a_pad15 = btf__add_array(b, t_int, t_ptr, 15);
    int a_piv9 = btf__add_array(b, t_int, t_ulong, 9);
    int a_slot10 = btf__add_array(b, t_int, t_ptr, 10);
    int a_gap10 = btf__add_array(b, t_int, t_ulong, 10);

    int s_list = btf__add_struct(b, "list_head", 16);
    btf__add_field(b, "next", t_ptr, 0, 0);
    btf__add_field(b, "prev", t_ptr, 64, 0);
    int s_kuid = btf__add_struct(b, NULL, 4);
    btf__add_field(b, "val", t_uint, 0, 0);
    int td_kuid = btf__add_typedef(b, "kuid_t", s_kuid);
    int s_cred = btf__add_struct(b, "cred", 64);
    btf__add_field(b, "usage", t_int, 0, 0);
    btf__add_field(b, "uid", td_kuid, C_UID * 8, 0);
    btf__add_field(b, "gid", td_kuid, C_GID * 8, 0);
    btf__add_field(b, "euid", td_kuid, C_EUID * 8, 0);
    btf__add_field(b, "egid", td_kuid, C_EGID * 8, 0);
    (void)s_cred;

    int s_task_anon = btf__add_struct(b, NULL, 32);
    btf__add_field(b, "pad", t_ulong, 0, 0);
    btf__add_field(b, "comm", a_comm, 64, 0);
    btf__add_struct(b, "task_struct", TASK_SIZE);
    if (old_layout)
        btf__add_field(b, "state", t_ulong, T_STATE * 8, 0);
    else
        btf__add_field(b, "__state", t_uint, T_STATE * 8, 0);
    btf__add_field(b, "flags", t_uint, T_FLAGS * 8, 0);
    btf__add_field(b, "in_execve", t_uint, 0x30 * 8, 1); /* a bitfield */
    btf__add_field(b, "tasks", s_list, T_TASKS * 8, 0);
    btf__add_field(b, "mm", t_ptr, T_MM * 8, 0);
    btf__add_field(b, "pid", t_int, T_PID * 8, 0);
    btf__add_field(b, "tgid", t_int, T_TGID * 8, 0);
    btf__add_field(b, "real_parent", t_ptr, T_REAL_PARENT * 8, 0);
    btf__add_field(b, "exit_state", t_int, T_EXIT_STATE * 8, 0);
    btf__add_field(b, "start_time", t_ulong, T_START_TIME * 8, 0);
    btf__add_field(b, "real_cred", t_ptr, T_REAL_CRED * 8, 0);
    btf__add_field(b, NULL, s_task_anon, T_ANON * 8, 0);
    btf__add_field(b, "signal", t_ptr, T_SIGNAL * 8, 0);
    btf__add_field(b, "thread_node", s_list, T_THREAD_NODE * 8, 0);
    btf__add_field(b, "cpu", t_uint, T_CPU * 8, 0);
    btf__add_field(b, "group_leader", t_ptr, T_GROUP_LEADER * 8, 0);
    btf__add_field(b, "pid_links", s_list, T_PID_LINKS * 8, 0);
    btf__add_field(b, "children", s_list, T_CHILDREN * 8, 0);
    btf__add_field(b, "sibling", s_list, T_SIBLING * 8, 0);
    btf__add_field(b, "se", s_list, T_SE * 8, 0); /* a sched_entity: only its offset is read */
    btf__add_field(b, "rt", s_list, T_RT * 8, 0); /* the same for these two */
    btf__add_field(b, "dl", s_list, T_DL * 8, 0);
    btf__add_struct(b, "signal_struct", 64);
    btf__add_field(b, "thread_head", s_list, SIG_THREAD_HEAD * 8, 0);

    int s_mt = btf__add_struct(b, "maple_tree", 24);
    btf__add_field(b, "ma_lock", t_uint, 0, 0);
    btf__add_field(b, "ma_root", t_ptr, 64, 0);
    btf__add_field(b, "ma_flags", t_uint, 128, 0);
    int s_mm_anon = btf__add_struct(b, NULL, 0x100);
    if (old_layout)
        btf__add_field(b, "mmap", t_ptr, MM_MT * 8, 0);
    else
        btf__add_field(b, "mm_mt", s_mt, MM_MT * 8, 0);
    btf__add_field(b, "pgd", t_ptr, MM_PGD * 8, 0);
    btf__add_field(b, "start_brk", t_ulong, MM_START_BRK * 8, 0);
    btf__add_field(b, "brk", t_ulong, MM_BRK * 8, 0);
    btf__add_field(b, "start_stack", t_ulong, MM_START_STACK * 8, 0);
    btf__add_field(b, "map_count", t_int, MM_MAP_COUNT * 8, 0);
    btf__add_struct(b, "mm_struct", 0x200);
    btf__add_field(b, NULL, s_mm_anon, 0, 0);

    int s_meta = btf__add_struct(b, "maple_metadata", 2);
    btf__add_field(b, "end", t_uchar, 0, 0);
    btf__add_field(b, "gap", t_uchar, 8, 0);
    int s_mr_pad = btf__add_struct(b, NULL, 128);
    btf__add_field(b, "pad", a_pad15, 0, 0);
    btf__add_field(b, "meta", s_meta, 120 * 8, 0);
    int u_mr = btf__add_union(b, NULL, 128);
    btf__add_field(b, "slot", a_slot16, 0, 0);
    btf__add_field(b, NULL, s_mr_pad, 0, 0);
    btf__add_struct(b, "maple_range_64", 256);
    btf__add_field(b, "parent", t_ptr, 0, 0);
    btf__add_field(b, "pivot", a_piv15, 64, 0);
    btf__add_field(b, NULL, u_mr, 128 * 8, 0);
    btf__add_struct(b, "maple_arange_64", 248);
    btf__add_field(b, "parent", t_ptr, 0, 0);
    btf__add_field(b, "pivot", a_piv9, 64, 0);
    btf__add_field(b, "slot", a_slot10, 80 * 8, 0);
    btf__add_field(b, "gap", a_gap10, 160 * 8, 0);
    btf__add_field(b, "meta", s_meta, 240 * 8, 0);

    int u_vmflags = btf__add_union(b, NULL, 8);
    btf__add_field(b, "vm_flags", t_ulong, 0, 0);
    btf__add_field(b, "__vm_flags", t_ulong, 0, 0);
    btf__add_struct(b, "vm_area_struct", 192);
    btf__add_field(b, "vm_start", t_ulong, V_START * 8, 0);
    btf__add_field(b, "vm_end", t_ulong, V_END * 8, 0);
    btf__add_field(b, NULL, u_vmflags, V_FLAGS * 8, 0);
    btf__add_field(b, "vm_ops", t_ptr, V_OPS * 8, 0);
    btf__add_field(b, "vm_pgoff", t_ulong, V_PGOFF * 8, 0);
    btf__add_field(b, "vm_file", t_ptr, V_FILE * 8, 0);
    btf__add_field(b, "vm_private_data", t_ptr, V_PRIVATE * 8, 0);
    if (old_layout) {
        btf__add_field(b, "vm_next", t_ptr, V_NEXT * 8, 0);
        btf__add_field(b, "vm_prev", t_ptr, V_PREV * 8, 0);
    }

    int s_path = btf__add_struct(b, "path", 16);
    btf__add_field(b, "mnt", t_ptr, 0, 0);
    btf__add_field(b, "dentry", t_ptr, 64, 0);
    btf__add_struct(b, "file", 64);
    btf__add_field(b, "f_path", s_path, F_PATH * 8, 0);
    int s_hl = btf__add_struct(b, NULL, 8);
    btf__add_field(b, "hash", t_uint, 0, 0);
    btf__add_field(b, "len", t_uint, 32, 0);
    int u_hl = btf__add_union(b, NULL, 8);
    btf__add_field(b, NULL, s_hl, 0, 0);
    btf__add_field(b, "hash_len", t_ulong, 0, 0);
    int s_qstr = btf__add_struct(b, "qstr", 16);
    btf__add_field(b, NULL, u_hl, 0, 0);
    btf__add_field(b, "name", t_ptr, 64, 0);
    int s_hnode = btf__add_struct(b, "hlist_bl_node", 16);
    btf__add_field(b, "next", t_ptr, 0, 0);
    btf__add_field(b, "pprev", t_ptr, 64, 0);
    btf__add_struct(b, "dentry", 128);
    btf__add_field(b, "d_flags", t_uint, 0, 0);
    btf__add_field(b, "d_hash", s_hnode, D_HASH * 8, 0);
    btf__add_field(b, "d_parent", t_ptr, D_PARENT * 8, 0);
    btf__add_field(b, "d_name", s_qstr, D_NAME * 8, 0);
    int s_vfsmount = btf__add_struct(b, "vfsmount", 32);
    btf__add_field(b, "mnt_root", t_ptr, 0, 0);
    btf__add_struct(b, "mount", 96);
    btf__add_field(b, "mnt_hash", s_list, 0, 0);
    btf__add_field(b, "mnt_parent", t_ptr, MNT_PARENT * 8, 0);
    btf__add_field(b, "mnt_mountpoint", t_ptr, MNT_MOUNTPOINT * 8, 0);
    btf__add_field(b, "mnt", s_vfsmount, MNT_MNT * 8, 0);
    btf__add_struct(b, "vm_special_mapping", 40);
    btf__add_field(b, "name", t_ptr, 0, 0);

    int s_layout = btf__add_struct(b, "module_layout", 32);
    btf__add_field(b, "base", t_ptr, 0, 0);
    btf__add_field(b, "size", t_uint, 64, 0);
    btf__add_field(b, "text_size", t_uint, 96, 0);
    int s_atomic = btf__add_struct(b, NULL, 4);
    btf__add_field(b, "counter", t_int, 0, 0);
    int td_atomic = btf__add_typedef(b, "atomic_t", s_atomic);
    int s_modmem = btf__add_struct(b, "module_memory", 0x20);
    btf__add_field(b, "base", t_ptr, 0, 0);
    btf__add_field(b, "size", t_uint, 64, 0);
    int a_modmem = btf__add_array(b, t_int, s_modmem, 3);
    btf__add_struct(b, "module", 0x300);
    btf__add_field(b, "state", t_int, MOD_STATE * 8, 0);
    btf__add_field(b, "list", s_list, MOD_LIST * 8, 0);
    btf__add_field(b, "name", a_name, MOD_NAME * 8, 0);
    if (old_layout)
        btf__add_field(b, "mem", a_modmem, MOD_CORE * 8, 0);
    else
        btf__add_field(b, "core_layout", s_layout, MOD_CORE * 8, 0);
    btf__add_field(b, "refcnt", td_atomic, MOD_REFCNT * 8, 0);
    btf__add_field(b, "mkobj", s_list, MOD_MKOBJ * 8, 0); /* only its offset is read */

    const void *raw = btf__raw_data(b, size);
    void *copy = malloc(*size);
    memcpy(copy, raw, *size);
    btf__free(b);
    return copy;
}

/* ---- the synthetic kernel ---------------------------------------------- */

static uint64_t task_va[5];
static uint64_t thread_va[2]; /* two more threads of pid 300 */
static uint64_t signal_300;
static uint64_t mm1, maple_root_node, leaf2_node;
static uint64_t mod_va[2];
static uint64_t vma_va[5];
static uint64_t pcpu_area[NR_CPUS_SYNTH]; /* each CPU's per-CPU area (direct map) */
static uint64_t init_dentry;

static inline uint64_t make_cred(uint32_t uid, uint32_t gid, uint32_t euid, uint32_t egid)
{
    uint64_t c = galloc(64, 64);
    vput32(c + C_UID, uid);
    vput32(c + C_GID, gid);
    vput32(c + C_EUID, euid);
    vput32(c + C_EGID, egid);
    return c;
}

static inline void make_task(uint64_t t, int pid, const char *comm, uint32_t flags, uint32_t state,
                      uint32_t exit_state, uint64_t parent, uint64_t cred, uint64_t mm)
{
    vput32(t + T_PID, (uint32_t)pid);
    vput32(t + T_TGID, (uint32_t)pid);
    memcpy(img + pa_of(t + T_COMM), comm, strlen(comm) + 1);
    vput32(t + T_FLAGS, flags);
    vput32(t + T_STATE, state);
    vput32(t + T_EXIT_STATE, exit_state);
    vput64(t + T_REAL_PARENT, parent);
    vput64(t + T_REAL_CRED, cred);
    vput64(t + T_MM, mm);
    vput64(t + T_START_TIME, 1000u * (uint64_t)pid);
}

/* Circular list through member @off of each object (head = objs[0] + off,
 * or an external head when @head is non-zero). */
static inline void link_list(uint64_t head, const uint64_t *objs, int n, uint64_t off)
{
    uint64_t nodes[8];
    int k = 0;
    if (head)
        nodes[k++] = head;
    for (int i = 0; i < n; i++)
        nodes[k++] = objs[i] + off;
    for (int i = 0; i < k; i++) {
        vput64(nodes[i], nodes[(i + 1) % k]);
        vput64(nodes[i] + 8, nodes[(i + k - 1) % k]);
    }
}

static inline uint64_t make_dentry(const char *name, uint64_t parent)
{
    uint64_t d = galloc(128, 64);
    vput64(d + D_PARENT, parent ? parent : d);
    vput64(d + D_HASH + 8, d + 0x40); /* hashed: not deleted */
    vput32(d + D_NAME + 4, (uint32_t)strlen(name));
    vput64(d + D_NAME + 8, gstr(name));
    return d;
}

static inline uint64_t make_vma(uint64_t start, uint64_t end, uint64_t flags, uint64_t file,
                         uint64_t pgoff)
{
    uint64_t v = galloc(192, 64);
    vput64(v + V_START, start);
    vput64(v + V_END, end);
    vput64(v + V_FLAGS, flags);
    vput64(v + V_FILE, file);
    vput64(v + V_PGOFF, pgoff);
    return v;
}

static inline uint64_t make_file(uint64_t mnt, uint64_t dentry)
{
    uint64_t f = galloc(64, 64);
    vput64(f + F_PATH, mnt);
    vput64(f + F_PATH + 8, dentry);
    return f;
}

/* A maple leaf_64 node with @n entries: pivots[i] and slots[i]. */
static inline uint64_t make_leaf(const uint64_t *pivots, const uint64_t *slots, int n, uint8_t end)
{
    uint64_t node = galloc(256, 256);
    for (int i = 0; i < n; i++) {
        if (i < 15)
            vput64(node + 8 + i * 8, pivots[i]);
        vput64(node + 128 + i * 8, slots[i]);
    }
    img[pa_of(node) + 248] = end;
    vput64(node, dm(0x1000) | 1); /* some parent, not itself */
    return node;
}

#define ENODE(node, type) ((node) | ((uint64_t)(type) << 3) | 4)

static inline void build_guest(bool btf_in_memory, void *btf, uint32_t btf_size)
{
    memset(img, 0, IMG_SIZE);
    heap_top = 0x200000;
    build_kernel_tables();
    /* A banner copy outside the kernel, as in the printk buffer: must be rejected. */
    memcpy(img + 0x100000, "Linux version 9.9.9-decoy\n", 26);
    strcpy((char *)img + kpa(K_BANNER), "Linux version 6.1.0-fake (test@xenaccess) #1 SMP\n");
    put64(kpa(K_PAGE_OFFSET_BASE), DM);
    if (btf_in_memory)
        memcpy(img + kpa(K_BTF), btf, btf_size);

    uint64_t root_cred = make_cred(0, 0, 0, 0), user_cred = make_cred(1000, 100, 1001, 101);

    /* Files: /bin/init on the root mount, /tmp/data.bin on a second one. */
    uint64_t root = make_dentry("/", 0), bin = make_dentry("bin", root),
             init_d = make_dentry("init", bin), tmp = make_dentry("tmp", root);
    init_dentry = init_d;
    uint64_t tmpfs_root = make_dentry("/", 0), data = make_dentry("data.bin", tmpfs_root);
    uint64_t m0 = galloc(96, 64), m1 = galloc(96, 64);
    vput64(m0 + MNT_PARENT, m0);
    vput64(m0 + MNT_MOUNTPOINT, root);
    vput64(m0 + MNT_MNT, root);
    vput64(m1 + MNT_PARENT, m0);
    vput64(m1 + MNT_MOUNTPOINT, tmp);
    vput64(m1 + MNT_MNT, tmpfs_root);
    uint64_t f_init = make_file(m0 + MNT_MNT, init_d), f_data = make_file(m1 + MNT_MNT, data);

    uint64_t v1 = make_vma(0x400000, 0x401000, 5, f_init, 0);
    uint64_t v2 = make_vma(0x401000, 0x403000, 3, 0, 0);
    uint64_t v3 = make_vma(0x10000000, 0x10001000, 0x81, f_data, 2); /* MAP_SHARED read-only */
    uint64_t v4 = make_vma(0x7ffde000, 0x7ffff000, 3, 0, 0);
    uint64_t v5 = make_vma(0x7ffff000, 0x80000000, 5, 0, 0);
    uint64_t special = galloc(40, 64);
    vput64(special, gstr("[vdso]"));
    vput64(v5 + V_OPS, kva(K_SPECIAL_VMOPS));
    vput64(v5 + V_PRIVATE, special);

    const uint64_t p1[] = {0x3fffff, 0x400fff, 0x402fff, 0x0fffffff};
    const uint64_t s1[] = {0, v1, v2, 0};
    uint64_t leaf1 = make_leaf(p1, s1, 4, 3);
    const uint64_t p2[] = {0x10000fff, 0x7ffddfff, 0x7fffefff, 0x7fffffff, UINT64_MAX};
    const uint64_t s2[] = {v3, 0, v4, v5, 0};
    leaf2_node = make_leaf(p2, s2, 5, 4);
    maple_root_node = galloc(256, 256);
    vput64(maple_root_node + 8, 0x0fffffff);                  /* pivot[0] */
    vput64(maple_root_node + 80, ENODE(leaf1, 1));            /* slot[0] */
    vput64(maple_root_node + 88, ENODE(leaf2_node, 1));       /* slot[1] */
    img[pa_of(maple_root_node) + 240] = 1;                    /* meta.end */
    vput64(maple_root_node, dm(0x1000) | 1);

    mm1 = galloc(0x200, 64);
    vput64(mm1 + MM_PGD, build_user_tables());
    if (old_layout) { /* mm->mmap and vm_next instead of the tree */
        vput64(mm1 + MM_MT, v1);
        vput64(v1 + V_NEXT, v2);
        vput64(v2 + V_NEXT, v3);
        vput64(v3 + V_NEXT, v4);
        vput64(v4 + V_NEXT, v5);
        vput64(v2 + V_PREV, v1);
        vput64(v3 + V_PREV, v2);
        vput64(v4 + V_PREV, v3);
        vput64(v5 + V_PREV, v4);
    } else {
        vput64(mm1 + MM_MT + 8, ENODE(maple_root_node, 3) | 2); /* root: arange_64 */
    }
    vput64(mm1 + MM_START_BRK, 0x401000);
    vput64(mm1 + MM_BRK, 0x402800);
    vput64(mm1 + MM_START_STACK, 0x7fffe000);
    vput32(mm1 + MM_MAP_COUNT, 5);
    const uint64_t vmas[5] = {v1, v2, v3, v4, v5};
    memcpy(vma_va, vmas, sizeof(vmas));
    uint64_t mm2 = galloc(0x200, 64); /* empty tree */
    vput64(mm2 + MM_PGD, build_user_tables());

    task_va[0] = kva(K_INIT_TASK);
    for (int i = 1; i < 5; i++)
        task_va[i] = galloc(TASK_SIZE, 64);
    make_task(task_va[0], 0, "swapper/0", 0x00200000, 0, 0, task_va[0], root_cred, 0);
    make_task(task_va[1], 1, "init", 0x400100, 1, 0, task_va[0], root_cred, mm1);
    make_task(task_va[2], 2, "kthreadd", 0x00208040, 0x402, 0, task_va[0], root_cred, 0);
    make_task(task_va[3], 300, "worker\001", 0x400000, 2, 0, task_va[1], user_cred, mm2);
    make_task(task_va[4], 301, "zomb", 0x400000, 0x80, 0x20, task_va[3], user_cred, 0);
    link_list(0, task_va, 5, T_TASKS);

    /* Thread groups: one thread each, pid 300 three (tids 300, 302, 303). */
    for (int i = 0; i < 5; i++) {
        uint64_t sig = galloc(64, 64);
        vput64(task_va[i] + T_SIGNAL, sig);
        vput32(task_va[i] + T_CPU, (uint32_t)i % 2);
        if (i != 3) {
            link_list(sig + SIG_THREAD_HEAD, &task_va[i], 1, T_THREAD_NODE);
            continue;
        }
        signal_300 = sig;
        for (int k = 0; k < 2; k++) {
            thread_va[k] = galloc(TASK_SIZE, 64);
            make_task(thread_va[k], 302 + k, k ? "worker-t2" : "worker-t1", 0x40, 1, 0,
                      task_va[1], user_cred, mm2);
            vput32(thread_va[k] + T_TGID, 300);
            vput32(thread_va[k] + T_CPU, 5 + k);
            vput64(thread_va[k] + T_SIGNAL, sig);
        }
        const uint64_t group[] = {task_va[3], thread_va[0], thread_va[1]};
        link_list(sig + SIG_THREAD_HEAD, group, 3, T_THREAD_NODE);
    }
    /* The kernel's count of processes (all but init_task), per CPU: the
     * values only add up (one CPU forked more than it reaped). */
    put32(kpa(K_NR_CPU_IDS), NR_CPUS_SYNTH);
    for (int cpu = 0; cpu < NR_CPUS_SYNTH; cpu++) {
        pcpu_area[cpu] = galloc(4096, 4096);
        put64(kpa(K_PER_CPU_OFFSET) + 8u * (uint64_t)cpu, pcpu_area[cpu]);
        vput64(pcpu_area[cpu] + PCPU_PROCESS_COUNTS, cpu ? UINT64_MAX : 5);
    }

    for (int i = 0; i < 2; i++) {
        mod_va[i] = galloc(0x300, 64);
        strcpy((char *)img + pa_of(mod_va[i] + MOD_NAME), i ? "ext4" : "e1000");
        vput64(mod_va[i] + MOD_CORE, i ? 0xffffffffc0100000ULL : 0xffffffffc0000000ULL);
        uint32_t size = i ? 0x20000 : 0x1000;
        if (old_layout) { /* mem[0..2]: the sizes add up */
            vput32(mod_va[i] + MOD_CORE + 0x20 + 8, 0x100);
            vput32(mod_va[i] + MOD_CORE + 0x40 + 8, 0x80);
            size -= 0x180;
        }
        vput32(mod_va[i] + MOD_CORE + 8, size);
        vput32(mod_va[i] + MOD_REFCNT, i ? 1 : 3); /* lsmod shows one less */
    }
    link_list(kva(K_MODULES), mod_va, 2, MOD_LIST);
}

/* The guest's System.map (link-time addresses), without the BTF bounds,
 * which each user writes for its own BTF: the length written to @text. */
static inline int guest_sysmap_text(char *text, size_t size)
{
    static const struct {
        uint64_t off;
        char type;
        const char *name;
    } syms[] = {
        {0, 'T', "_text"},
        {K_TOP_PGT, 'D', "init_top_pgt"},
        {K_BANNER, 'D', "linux_banner"},
        {K_PAGE_OFFSET_BASE, 'D', "page_offset_base"},
        {K_MODULES, 'd', "modules"},
        {K_SPECIAL_VMOPS, 'd', "special_mapping_vmops"},
        {K_INIT_TASK, 'D', "init_task"},
        {K_PER_CPU_OFFSET, 'D', "__per_cpu_offset"},
        {K_NR_CPU_IDS, 'D', "nr_cpu_ids"},
    };
    int n = snprintf(text, size, "0000000000000000 A fixed_percpu_data\n");
    n += snprintf(text + n, size - (size_t)n, "%016x A process_counts\n", PCPU_PROCESS_COUNTS);
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
        n += snprintf(text + n, size - (size_t)n, "%016llx %c %s\n",
                      (unsigned long long)(KLINK + syms[i].off), syms[i].type, syms[i].name);
    return n;
}

#endif
