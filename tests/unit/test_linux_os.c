/*
 * test_linux_os.c -- the Linux OS layer end to end on a synthetic guest.
 *
 * The test builds a 32 MiB raw memory image holding a tiny "kernel": page
 * tables (a KASLR-slid kernel map and a direct map), a banner, init_task and
 * four more tasks, creds, an mm with a maple tree of five VMAs (a file, the
 * heap, a file on a second mount, the stack, the vDSO), user page tables
 * with a marker string, and two modules. It writes a System.map with the
 * link-time addresses and a BTF blob made with libbpf describing the
 * structures (offsets deliberately unlike a real kernel's), then opens the
 * image through the public API with opts.sysmap/opts.btf.
 *
 * Scenarios then corrupt the structures (a task list that loops, a pointer
 * into nowhere, a maple node pointing at its ancestor, a module list that
 * loops) and check that the walks end with the right error after a partial
 * result.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "check.h"
#include "xenaccess.h"

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
#define V_START 0
#define V_END 8
#define V_FLAGS 32
#define V_NEXT 40 /* old layout only */
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

static uint8_t *img;
static uint64_t heap_top;
static bool la57; /* build 5-level page tables */
/* Describe older layouts: task_struct.state, mm->mmap + vm_next lists, and
 * the 6.4+ module.mem[] array instead of core_layout. */
static bool old_layout;
static uint64_t dm_base = 0xffff888000000000ULL;

static void put64(uint64_t pa, uint64_t v) { memcpy(img + pa, &v, 8); }
static void put32(uint64_t pa, uint32_t v) { memcpy(img + pa, &v, 4); }
static uint64_t kva(uint64_t off) { return KVIRT + off; }
static uint64_t kpa(uint64_t off) { return KPHYS + off; }
static uint64_t dm(uint64_t pa) { return DM + pa; }
static uint64_t pa_of(uint64_t va) { return va >= KVIRT ? va - KVIRT + KPHYS : va - DM; }
static void vput64(uint64_t va, uint64_t v) { put64(pa_of(va), v); }
static void vput32(uint64_t va, uint32_t v) { put32(pa_of(va), v); }

/* Zeroed guest memory from the heap below the kernel; returns its direct-map VA. */
static uint64_t galloc(uint64_t size, uint64_t align)
{
    heap_top = (heap_top + align - 1) & ~(align - 1);
    uint64_t pa = heap_top;
    heap_top += size;
    if (heap_top > KPHYS)
        abort();
    memset(img + pa, 0, size);
    return dm(pa);
}

static uint64_t gstr(const char *s)
{
    uint64_t va = galloc(strlen(s) + 1, 8);
    memcpy(img + pa_of(va), s, strlen(s) + 1);
    return va;
}

/* ---- page tables ------------------------------------------------------- */

static void build_kernel_tables(void)
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
static uint64_t build_user_tables(void)
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

static void *build_btf(uint32_t *size)
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
    if (old_layout)
        btf__add_field(b, "vm_next", t_ptr, V_NEXT * 8, 0);

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
static uint64_t vma_va[3];
static uint64_t init_dentry;

static uint64_t make_cred(uint32_t uid, uint32_t gid, uint32_t euid, uint32_t egid)
{
    uint64_t c = galloc(64, 64);
    vput32(c + C_UID, uid);
    vput32(c + C_GID, gid);
    vput32(c + C_EUID, euid);
    vput32(c + C_EGID, egid);
    return c;
}

static void make_task(uint64_t t, int pid, const char *comm, uint32_t flags, uint32_t state,
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
static void link_list(uint64_t head, const uint64_t *objs, int n, uint64_t off)
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

static uint64_t make_dentry(const char *name, uint64_t parent)
{
    uint64_t d = galloc(128, 64);
    vput64(d + D_PARENT, parent ? parent : d);
    vput64(d + D_HASH + 8, d + 0x40); /* hashed: not deleted */
    vput32(d + D_NAME + 4, (uint32_t)strlen(name));
    vput64(d + D_NAME + 8, gstr(name));
    return d;
}

static uint64_t make_vma(uint64_t start, uint64_t end, uint64_t flags, uint64_t file,
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

static uint64_t make_file(uint64_t mnt, uint64_t dentry)
{
    uint64_t f = galloc(64, 64);
    vput64(f + F_PATH, mnt);
    vput64(f + F_PATH + 8, dentry);
    return f;
}

/* A maple leaf_64 node with @n entries: pivots[i] and slots[i]. */
static uint64_t make_leaf(const uint64_t *pivots, const uint64_t *slots, int n, uint8_t end)
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

static void build_guest(bool btf_in_memory, void *btf, uint32_t btf_size)
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
        vma_va[0] = v1;
        vma_va[1] = v2;
        vma_va[2] = v3;
    } else {
        vput64(mm1 + MM_MT + 8, ENODE(maple_root_node, 3) | 2); /* root: arange_64 */
    }
    vput64(mm1 + MM_START_BRK, 0x401000);
    vput64(mm1 + MM_BRK, 0x402800);
    vput64(mm1 + MM_START_STACK, 0x7fffe000);
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

/* ---- files and opening --------------------------------------------------- */

static char img_path[] = "/tmp/xa-test-linux-img-XXXXXX";
static char map_path[] = "/tmp/xa-test-linux-map-XXXXXX";
static char map_nobtf_path[] = "/tmp/xa-test-linux-map2-XXXXXX";
static char map_hugebtf_path[] = "/tmp/xa-test-linux-map3-XXXXXX";
static char btf_path[] = "/tmp/xa-test-linux-btf-XXXXXX";
static char old_btf_path[] = "/tmp/xa-test-linux-oldbtf-XXXXXX";
static char target[128];

static void write_file(char *tmpl, const void *data, size_t len)
{
    int fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void write_maps(uint32_t btf_size)
{
    char text[4096];
    int n = 0;
    const struct {
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
    };
    n += snprintf(text + n, sizeof(text) - (size_t)n, "0000000000000000 A fixed_percpu_data\n");
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx %c %s\n",
                      (unsigned long long)(KLINK + syms[i].off), syms[i].type, syms[i].name);
    write_file(map_nobtf_path, text, (size_t)n);
    int base = n;
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __start_BTF\n%016llx R __stop_BTF\n",
                  (unsigned long long)(KLINK + K_BTF), (unsigned long long)(KLINK + K_BTF + (100u << 20)));
    write_file(map_hugebtf_path, text, (size_t)n);
    n = base;
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __start_BTF\n%016llx R __stop_BTF\n",
                  (unsigned long long)(KLINK + K_BTF), (unsigned long long)(KLINK + K_BTF + btf_size));
    write_file(map_path, text, (size_t)n);
}

static void save_image(void)
{
    FILE *f = fopen(img_path, "wb");
    if (!f || fwrite(img, 1, IMG_SIZE, f) != IMG_SIZE)
        abort();
    fclose(f);
}

static struct xa_instance *open_guest(const char *sysmap, const char *btf)
{
    save_image();
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = sysmap;
    o.btf = btf;
    struct xa_instance *xa = NULL;
    int rc = xa_init_opts(&o, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "open: %s\n", xa_last_init_error());
    return xa;
}

/* ---- scenarios ---------------------------------------------------------- */

static int count_processes(struct xa_instance *xa, int *err)
{
    struct xa_process_iter *it;
    *err = xa_process_iter_new(xa, &it);
    if (*err < 0)
        return 0;
    struct xa_process p;
    int n = 0, rc;
    while ((rc = xa_process_iter_next(it, &p)) == 1 && n < 100)
        n++;
    xa_process_iter_free(it);
    *err = rc;
    return n;
}

static void test_info_and_symbols(struct xa_instance *xa)
{
    struct xa_os_info info;
    CHECK_EQ(xa_os_get_info(xa, &info), 0);
    CHECK_EQ(info.type, XA_OS_LINUX);
    CHECK_EQ(info.kaslr_slide, SLIDE);
    CHECK_EQ(info.phys_base, PHYS_BASE);
    CHECK_EQ(info.kernel_dtb, kpa(K_TOP_PGT));
    CHECK_EQ(info.text_start, KVIRT);
    CHECK_EQ(info.page_offset, DM);
    CHECK_EQ(info.page_mode, la57 ? XA_PM_LA57 : XA_PM_IA32E);
    CHECK_EQ(strcmp(info.release, "6.1.0-fake"), 0);
    CHECK(strncmp(info.version, "Linux version 6.1.0-fake (test@xenaccess)", 41) == 0);
    CHECK(strstr(info.symbols_from, "System.map") != NULL);
    CHECK(info.num_btf_types > 20);

    uint64_t a;
    CHECK_EQ(xa_sym_lookup(xa, "init_task", &a), 0);
    CHECK_EQ(a, KVIRT + K_INIT_TASK);
    CHECK_EQ(xa_sym_lookup(xa, "fixed_percpu_data", &a), 0);
    CHECK_EQ(a, 0); /* absolute: not slid */
    CHECK_EQ(xa_sym_lookup(xa, "no_such_symbol", &a), XA_ENOENT);
    const char *name;
    uint64_t off;
    CHECK_EQ(xa_sym_at(xa, KVIRT + K_INIT_TASK + 0x10, &name, &off), 0);
    CHECK(strcmp(name, "init_task") == 0 && off == 0x10);
    char comm[16];
    CHECK_EQ(xa_read_ksym(xa, "init_task", comm, 0), 0);
    uint32_t o32 = 0;
    const uint8_t *page = xa_access_kernel_symbol(xa, "linux_banner", &o32);
    CHECK(page != NULL);
    if (page)
        CHECK(memcmp(page + o32, "Linux version 6.1.0-fake", 24) == 0);
    xa_release_page(xa, page);

    CHECK_EQ(xa_type_offset(xa, "task_struct", "comm", &off), 0); /* in an anonymous struct */
    CHECK_EQ(off, T_COMM);
    CHECK_EQ(xa_type_offset(xa, "qstr", "len", &off), 0); /* union > struct */
    CHECK_EQ(off, 4);
    CHECK_EQ(xa_type_offset(xa, "module", "core_layout.size", &off), 0);
    CHECK_EQ(off, MOD_CORE + 8);
    CHECK_EQ(xa_type_offset(xa, "task_struct", "in_execve", &off), XA_EINVAL); /* bitfield */
    CHECK_EQ(xa_type_offset(xa, "task_struct", "nothere", &off), XA_ENOENT);
    CHECK_EQ(xa_type_offset(xa, "nosuchstruct", "x", &off), XA_ENOENT);
    uint64_t size;
    CHECK_EQ(xa_type_size(xa, "task_struct", &size), 0);
    CHECK_EQ(size, TASK_SIZE);
}

static void test_processes(struct xa_instance *xa)
{
    static const struct {
        int pid, ppid;
        const char *comm;
        char state;
        uint32_t uid, euid;
    } want[] = {
        {0, 0, "swapper/0", 'R', 0, 0},   {1, 0, "init", 'S', 0, 0},
        {2, 0, "kthreadd", 'I', 0, 0},    {300, 1, "worker?", 'D', 1000, 1001},
        {301, 300, "zomb", 'Z', 1000, 1001},
    };
    struct xa_process_iter *it;
    CHECK_EQ(xa_process_iter_new(xa, &it), 0);
    struct xa_process p;
    size_t n = 0;
    int rc;
    while ((rc = xa_process_iter_next(it, &p)) == 1) {
        if (n < 5) {
            CHECK_EQ(p.pid, want[n].pid);
            CHECK_EQ(p.ppid, want[n].ppid);
            CHECK(strcmp(p.comm, want[n].comm) == 0);
            CHECK_EQ(p.state, want[n].state);
            CHECK_EQ(p.uid, want[n].uid);
            CHECK_EQ(p.euid, want[n].euid);
            CHECK_EQ(p.task, task_va[n]);
            CHECK_EQ(p.start_time, 1000u * (uint64_t)want[n].pid);
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 5);
    xa_process_iter_free(it);

    CHECK_EQ(xa_process_by_pid(xa, 300, &p), 0);
    CHECK_EQ(p.gid, 100);
    CHECK_EQ(p.egid, 101);
    CHECK(p.mm != 0);
    CHECK_EQ(xa_process_by_pid(xa, 2, &p), 0);
    CHECK_EQ(p.mm, 0);
    CHECK_EQ(p.dtb, kpa(K_TOP_PGT)); /* kernel thread: the kernel's tables */
    CHECK_EQ(p.flags & 0x00200000, 0x00200000);
    CHECK_EQ(xa_process_by_pid(xa, 12345, &p), XA_ENOENT);

    /* User memory of pid 1 through its own page tables. */
    uint64_t dtb;
    CHECK_EQ(xa_pid_to_dtb(xa, 1, &dtb), 0);
    uint64_t pgd_va;
    CHECK_EQ(xa_read_kva_u64(xa, mm1 + MM_PGD, &pgd_va), 0);
    CHECK_EQ(dtb, pgd_va - DM);
    char buf[32] = {0};
    size_t got = 0;
    CHECK_EQ(xa_read_pid_va(xa, 1, 0x400010, buf, 15, &got), 0);
    CHECK_EQ(got, 15);
    CHECK(strcmp(buf, "XA-MARKER-4242") == 0);
    CHECK_EQ(xa_read_pid_va(xa, 1, 0x500000, buf, 4, &got), XA_EFAULT);
    uint32_t off = 0;
    const char *page = xa_access_user_virtual_address(xa, 0x400010, &off, 1);
    CHECK(page != NULL);
    if (page)
        CHECK(strcmp(page + off, "XA-MARKER-4242") == 0);
    xa_release_page(xa, page);
    CHECK(xa_access_user_virtual_address(xa, 0x400010, &off, 999) == NULL);
}

/* Threads of pid @pid: their tids into @tids (at most 8); the walk's end code. */
static int walk_threads(struct xa_instance *xa, int pid, int *tids, int *n)
{
    struct xa_thread_iter *it;
    *n = 0;
    int rc = xa_thread_iter_new(xa, pid, &it);
    if (rc < 0)
        return rc;
    struct xa_thread t;
    while (*n < 8 && (rc = xa_thread_iter_next(it, &t)) == 1) {
        CHECK_EQ(t.tgid, pid);
        tids[(*n)++] = t.tid;
    }
    xa_thread_iter_free(it);
    return rc;
}

static void test_threads(struct xa_instance *xa)
{
    int tids[8], n;
    CHECK_EQ(walk_threads(xa, 300, tids, &n), 0);
    CHECK_EQ(n, 3);
    CHECK(n == 3 && tids[0] == 300 && tids[1] == 302 && tids[2] == 303);
    struct xa_thread_iter *it;
    struct xa_thread t;
    CHECK_EQ(xa_thread_iter_new(xa, 300, &it), 0);
    CHECK_EQ(xa_thread_iter_next(it, &t), 1);
    CHECK(strcmp(t.comm, "worker?") == 0 && t.state == 'D' && t.cpu == 1);
    CHECK_EQ(xa_thread_iter_next(it, &t), 1);
    CHECK(strcmp(t.comm, "worker-t1") == 0 && t.state == 'S' && t.cpu == 5);
    CHECK_EQ(t.task, thread_va[0]);
    xa_thread_iter_free(it);
    CHECK_EQ(walk_threads(xa, 1, tids, &n), 0);
    CHECK(n == 1 && tids[0] == 1);
    CHECK_EQ(walk_threads(xa, 12345, tids, &n), XA_ENOENT);
}

/* Each corruption of pid 300's thread list ends its walk with @want after
 * @good threads; the list is restored afterwards. */
static void check_thread_damage(uint64_t va, uint64_t value, int good, int want)
{
    uint64_t old;
    memcpy(&old, img + pa_of(va), 8);
    vput64(va, value);
    struct xa_instance *xa = open_guest(map_path, btf_path);
    if (xa) {
        int tids[8], n;
        int rc = walk_threads(xa, 300, tids, &n);
        if (rc != want || n != good)
            fprintf(stderr, "thread damage at 0x%llx: rc %d after %d, want %d after %d (%s)\n",
                    (unsigned long long)va, rc, n, want, good, xa_errmsg(xa));
        CHECK_EQ(rc, want);
        CHECK_EQ(n, good);
        xa_destroy(xa);
    }
    vput64(va, old);
}

static void test_thread_damage(void)
{
    uint64_t head = signal_300 + SIG_THREAD_HEAD;
    uint64_t n0 = task_va[3] + T_THREAD_NODE, n1 = thread_va[0] + T_THREAD_NODE,
             n2 = thread_va[1] + T_THREAD_NODE;
    /* a prev link that does not point back (the next links alone are fine) */
    check_thread_damage(n1 + 8, head, 1, XA_ELIMIT);
    /* the head's prev is not the last thread */
    check_thread_damage(head + 8, n1, 3, XA_ELIMIT);
    /* a loop that never comes back to the head */
    check_thread_damage(n2, n1, 3, XA_ELIMIT);
    /* a next pointer into user space */
    check_thread_damage(n0, 0x400000, 1, XA_EFAULT);
    /* a thread of another process in the list */
    uint64_t tgid;
    memcpy(&tgid, img + pa_of(thread_va[1] + T_PID), 8); /* pid and tgid together */
    check_thread_damage(thread_va[1] + T_PID, (tgid & 0xffffffffu) | (999ull << 32), 2,
                        XA_EBADDATA);
    /* a bad signal pointer: no walk at all */
    check_thread_damage(task_va[3] + T_SIGNAL, 0x1234, 0, XA_EBADDATA);
}

static void test_modules(struct xa_instance *xa)
{
    struct xa_module_iter *it;
    CHECK_EQ(xa_module_iter_new(xa, &it), 0);
    struct xa_module m;
    CHECK_EQ(xa_module_iter_next(it, &m), 1);
    CHECK(strcmp(m.name, "e1000") == 0);
    CHECK_EQ(m.base, 0xffffffffc0000000ULL);
    CHECK_EQ(m.size, 0x1000);
    CHECK_EQ(m.refcount, 2);
    CHECK_EQ(m.module, mod_va[0]);
    CHECK_EQ(xa_module_iter_next(it, &m), 1);
    CHECK(strcmp(m.name, "ext4") == 0);
    CHECK_EQ(m.size, 0x20000);
    CHECK_EQ(xa_module_iter_next(it, &m), 0);
    CHECK_EQ(xa_module_iter_next(it, &m), 0);
    xa_module_iter_free(it);
}

static void test_vmas(struct xa_instance *xa)
{
    static const struct {
        uint64_t start, end;
        uint32_t flags;
        uint64_t pgoff;
        const char *path;
    } want[] = {
        {0x400000, 0x401000, 5, 0, "/bin/init"},
        {0x401000, 0x403000, 3, 0, "[heap]"},
        {0x10000000, 0x10001000, 9, 2, "/tmp/data.bin"},
        {0x7ffde000, 0x7ffff000, 3, 0, "[stack]"},
        {0x7ffff000, 0x80000000, 5, 0, "[vdso]"},
    };
    struct xa_vma_iter *it;
    CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
    static struct xa_vma v;
    size_t n = 0;
    int rc;
    while ((rc = xa_vma_iter_next(it, &v)) == 1) {
        if (n < 5) {
            CHECK_EQ(v.start, want[n].start);
            CHECK_EQ(v.end, want[n].end);
            CHECK_EQ(v.flags, want[n].flags);
            CHECK_EQ(v.pgoff, want[n].pgoff);
            if (strcmp(v.path, want[n].path) != 0) {
                fprintf(stderr, "vma %zu: path '%s', want '%s'\n", n, v.path, want[n].path);
                CHECK(0);
            }
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 5);
    xa_vma_iter_free(it);

    CHECK_EQ(xa_vma_iter_new(xa, 300, &it), 0); /* empty tree */
    CHECK_EQ(xa_vma_iter_next(it, &v), 0);
    xa_vma_iter_free(it);
    CHECK_EQ(xa_vma_iter_new(xa, 2, &it), 0); /* kernel thread */
    CHECK_EQ(xa_vma_iter_next(it, &v), 0);
    xa_vma_iter_free(it);
    CHECK_EQ(xa_vma_iter_new(xa, 4242, &it), XA_ENOENT);
    CHECK(it == NULL);
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    uint32_t btf_size;
    void *btf = build_btf(&btf_size);
    if (!img || !btf) {
        fprintf(stderr, "cannot build the synthetic guest\n");
        return 1;
    }
    int fd = mkstemp(img_path);
    close(fd);
    snprintf(target, sizeof(target), "file:%s", img_path);
    write_file(btf_path, btf, btf_size);
    write_maps(btf_size);
    struct xa_instance *xa;
    int err, n;

    /* 1. The whole guest, BTF from a file. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strstr(info.types_from, "BTF file") != NULL);
        test_info_and_symbols(xa);
        test_processes(xa);
        test_threads(xa);
        test_modules(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    test_thread_damage();

    /* 1b. The same with 5-level paging and its direct-map base. */
    la57 = true;
    dm_base = 0xff11000000000000ULL;
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, btf_path))) {
        test_info_and_symbols(xa);
        test_processes(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    la57 = false;
    dm_base = 0xffff888000000000ULL;

    /* 1c. Older layouts: task_struct.state, mm->mmap list, module.mem[]. */
    old_layout = true;
    void *old_btf = build_btf(&btf_size);
    write_file(old_btf_path, old_btf, btf_size);
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, old_btf_path))) {
        test_processes(xa);
        test_modules(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    /* ... and a VMA list that loops. */
    vput64(vma_va[2] + V_NEXT, vma_va[1]);
    if ((xa = open_guest(map_path, old_btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1 && n < 100)
            n++;
        CHECK_EQ(n, 3); /* the repeat of v2 comes out of order */
        CHECK_EQ(rc, XA_EBADDATA); /* out of order: not a VMA list */
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }
    old_layout = false;
    free(old_btf);
    btf_size = 0;
    free(btf);
    btf = build_btf(&btf_size);

    /* 1d. An unlinked file is shown as /proc does. */
    build_guest(false, btf, btf_size);
    vput64(init_dentry + D_HASH + 8, 0);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        static struct xa_vma v;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        CHECK_EQ(xa_vma_iter_next(it, &v), 1);
        CHECK(strcmp(v.path, "/bin/init (deleted)") == 0);
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 2. BTF read from guest memory between __start_BTF and __stop_BTF. */
    build_guest(true, btf, btf_size);
    if ((xa = open_guest(map_path, NULL))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strcmp(info.types_from, "BTF in guest memory") == 0);
        n = count_processes(xa, &err);
        CHECK_EQ(n, 5);
        CHECK_EQ(err, 0);
        xa_destroy(xa);
    }

    /* 3. No BTF anywhere: symbols work, walks explain what is missing. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_nobtf_path, NULL))) {
        uint64_t a;
        CHECK_EQ(xa_sym_lookup(xa, "init_task", &a), 0);
        struct xa_process_iter *it = NULL;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "--btf") != NULL);
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strcmp(info.types_from, "none") == 0);
        xa_destroy(xa);
    }

    /* 4. A task list that loops without coming back to init_task. */
    build_guest(false, btf, btf_size);
    vput64(task_va[3] + T_TASKS, task_va[1] + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_ELIMIT);
        CHECK(n >= 4 && n < 20);
        CHECK(strstr(xa_errmsg(xa), "loops") != NULL);
        struct xa_process p;
        CHECK_EQ(xa_process_by_pid(xa, 4242, &p), XA_ELIMIT);
        xa_destroy(xa);
    }

    /* 5. A task list pointing outside guest memory. */
    build_guest(false, btf, btf_size);
    vput64(task_va[2] + T_TASKS, DM + 0x3000000 + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EFAULT);
        CHECK_EQ(n, 3);
        CHECK(strstr(xa_errmsg(xa), "task list broken at") != NULL);
        xa_destroy(xa);
    }

    /* 6. A maple node whose child is its own ancestor: partial map, then ELIMIT. */
    build_guest(false, btf, btf_size);
    vput64(maple_root_node + 88, ENODE(maple_root_node, 3));
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1)
            n++;
        CHECK_EQ(n, 2);
        CHECK_EQ(rc, XA_ELIMIT);
        CHECK(strstr(xa_errmsg(xa), "maple tree loops") != NULL);
        CHECK_EQ(xa_vma_iter_next(it, &v), XA_ELIMIT); /* stays over */
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 7. A VMA whose range disagrees with its slot in the tree. */
    build_guest(false, btf, btf_size);
    vput64(leaf2_node + 128 + 2 * 8, 0);              /* stack slot emptied */
    vput64(leaf2_node + 128 + 3 * 8, mod_va[0]);      /* vdso slot: not a VMA */
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1)
            n++;
        CHECK_EQ(n, 3);
        CHECK_EQ(rc, XA_EBADDATA);
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 8. A module list that loops on itself. */
    build_guest(false, btf, btf_size);
    vput64(mod_va[1] + MOD_LIST, mod_va[0] + MOD_LIST);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_module_iter *it;
        CHECK_EQ(xa_module_iter_new(xa, &it), 0);
        struct xa_module m;
        n = 0;
        int rc;
        while ((rc = xa_module_iter_next(it, &m)) == 1 && n < 100)
            n++;
        CHECK_EQ(rc, XA_ELIMIT);
        CHECK(n >= 2 && n < 10);
        xa_module_iter_free(it);
        xa_destroy(xa);
    }

    /* 3b. BTF in memory that is too large, or lacks its magic: no types. */
    build_guest(true, btf, btf_size);
    if ((xa = open_guest(map_hugebtf_path, NULL))) {
        struct xa_process_iter *it = NULL;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "implausible") != NULL);
        uint64_t off;
        CHECK_EQ(xa_type_offset(xa, "task_struct", "pid", &off), XA_ENOENT);
        xa_destroy(xa);
    }
    build_guest(true, btf, btf_size);
    img[kpa(K_BTF)] ^= 0xff;
    if ((xa = open_guest(map_path, NULL))) {
        struct xa_module_iter *it = NULL;
        CHECK_EQ(xa_module_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "no BTF magic") != NULL);
        xa_destroy(xa);
    }
    /* ... and a BTF file that does not exist fails the OS layer. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, "/nonexistent/vmlinux.btf"))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), XA_ENOOS);
        CHECK(strstr(xa_errmsg(xa), "/nonexistent/vmlinux.btf") != NULL);
        xa_destroy(xa);
    }

    /* 5b. Implausible tasks: a pid beyond PID_MAX_LIMIT, an unterminated comm. */
    build_guest(false, btf, btf_size);
    vput32(task_va[3] + T_PID, 5000000);
    vput32(task_va[3] + T_TGID, 5000000);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK_EQ(n, 3);
        CHECK(strstr(xa_errmsg(xa), "implausible task") != NULL);
        xa_destroy(xa);
    }
    build_guest(false, btf, btf_size);
    memset(img + pa_of(task_va[2] + T_COMM), 'k', 16);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK_EQ(n, 2);
        xa_destroy(xa);
    }

    /* 9. Not this kernel: the map's init_top_pgt maps no banner. Memory
     * access still works; OS calls say why they cannot. */
    build_guest(false, btf, btf_size);
    memset(img + kpa(K_TOP_PGT), 0, 4096);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), XA_ENOOS);
        struct xa_process_iter *it = (struct xa_process_iter *)1;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOOS);
        CHECK(it == NULL);
        CHECK(strstr(xa_errmsg(xa), "does not match") != NULL);
        uint8_t b[4];
        CHECK_EQ(xa_read_pa(xa, 0x100000, b, 4), 0);
        xa_destroy(xa);
    }

    unlink(img_path);
    unlink(map_path);
    unlink(map_nobtf_path);
    unlink(map_hugebtf_path);
    unlink(btf_path);
    unlink(old_btf_path);
    free(btf);
    free(img);
    CHECK_DONE();
}
