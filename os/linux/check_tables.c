/*
 * check_tables.c -- hooked dispatch tables: every entry of sys_call_table
 * (and ia32_sys_call_table, x32_sys_call_table where they exist), every
 * present gate of the IDT and every code pointer of the operation tables
 * rootkits patch must point into the core kernel's text. An entry
 * elsewhere is a hook; the finding names the module holding its target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_ops.h"
#include "os/linux/check32_tables.h"

/* More entries than any x86-64 table holds (6.1 has 451). */
#define MAX_SYSCALLS 1024u
#define IDT_ENTRIES 256u
#define GATE_SIZE 16u

/* The table's length: its entries up to where the next symbol starts, or
 * to the first 0 (padding: every real entry points at a handler, unused
 * numbers at sys_ni_syscall). */
static uint64_t table_len(struct check_ctx *c, const char *table_name, uint64_t table,
                          const uint64_t *entries, uint64_t max)
{
    const struct linux_symtab *t = &linux_os(c->xa)->syms;
    uint64_t n = 0;
    for (; n < max && entries[n]; n++) {
        const char *name;
        uint64_t off;
        if (symtab_at(t, table + 8 * n, &name, &off) < 0 || off != 8 * n ||
            strcmp(name, table_name) != 0)
            break;
    }
    return n;
}

static int check_table(struct check_ctx *c, const char *table_name, bool required)
{
    uint64_t table = check_sym(c, table_name);
    if (!table)
        return required ? xa__set_error(c->xa, XA_ENOTSUP, "no %s symbol", table_name) : 0;
    /* read what may be the table; a page past its end may be unmapped */
    uint64_t entries[MAX_SYSCALLS], max = 0;
    while (max < MAX_SYSCALLS && lx_read(c->xa, table + 8 * max, entries + max, 8) == 0)
        max++;
    uint64_t n = table_len(c, table_name, table, entries, max);
    if (n == 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s unreadable or empty", table_name);
    for (uint64_t i = 0; i < n; i++) {
        if (check_in_core_text(c, entries[i]))
            continue;
        char where[128];
        check_describe(c, entries[i], where, sizeof(where));
        const char *owner = check_owner_of(c, entries[i]);
        int rc = check_report(c, "syscall-hook", owner ? owner : "", -1, entries[i],
                              "%s[%llu] -> %s, outside the kernel's text%s", table_name,
                              (unsigned long long)i, where,
                              owner ? "" : " and every module");
        if (rc)
            return rc;
    }
    return 0;
}

int check_syscalls(struct check_ctx *c)
{
    if (lx_is32(linux_os(c->xa)))
        return check_syscalls32(c); /* 4-byte entries, found by shape without data symbols */
    int rc = check_table(c, "sys_call_table", true);
    if (rc == 0)
        rc = check_table(c, "ia32_sys_call_table", false);
    if (rc == 0)
        rc = check_table(c, "x32_sys_call_table", false);
    return rc;
}

/* Reserved exception vectors keep the early boot stubs (in init text freed
 * after boot): the kernel never replaces them.  A stub is 9 bytes, or 13
 * with an ENDBR64 in front (CONFIG_X86_KERNEL_IBT, Debian's 6.12); the
 * array is followed by early_idt_handler_common, which tells which. */
#define EARLY_IDT_HANDLERS 32u
#define EARLY_IDT_HANDLER_SIZE 9u
#define ENDBR64_SIZE 4u

static uint64_t early_idt_handler_size(struct check_ctx *c, uint64_t early)
{
    uint64_t common = check_sym(c, "early_idt_handler_common");
    if (early && common == early + EARLY_IDT_HANDLERS * (EARLY_IDT_HANDLER_SIZE + ENDBR64_SIZE))
        return EARLY_IDT_HANDLER_SIZE + ENDBR64_SIZE;
    return EARLY_IDT_HANDLER_SIZE;
}

/* Where each field of an interrupt gate is: the kernel's struct
 * gate_struct from BTF, else the architectural layout (SDM 6.14.1). */
struct gate_layout {
    uint64_t lo, bits, mid, hi;
};

static struct gate_layout gate_layout(struct check_ctx *c)
{
    struct gate_layout g = {
        .lo = check_off(c, "gate_struct", "offset_low"),
        .bits = check_off(c, "gate_struct", "bits"),
        .mid = check_off(c, "gate_struct", "offset_middle"),
        .hi = check_off(c, "gate_struct", "offset_high"),
    };
    uint64_t size;
    if (g.lo == LX_NO_OFFSET || g.bits == LX_NO_OFFSET || g.mid == LX_NO_OFFSET ||
        g.hi == LX_NO_OFFSET || linux_type_size(c->xa, "gate_struct", &size) < 0 ||
        size != GATE_SIZE || g.lo > GATE_SIZE - 2 || g.bits > GATE_SIZE - 2 ||
        g.mid > GATE_SIZE - 2 || g.hi > GATE_SIZE - 4)
        g = (struct gate_layout){.lo = 0, .bits = 4, .mid = 6, .hi = 8};
    return g;
}

/* Judge every present gate of the table @what, @nr gates read from @idt. */
static int check_gates(struct check_ctx *c, const struct gate_layout *l, uint64_t idt,
                       unsigned nr, const char *what)
{
    uint64_t early = check_sym(c, "early_idt_handler_array");
    uint64_t early_size = early_idt_handler_size(c, early);
    uint8_t gates[IDT_ENTRIES * GATE_SIZE];
    if (nr > IDT_ENTRIES)
        nr = IDT_ENTRIES;
    if (lx_read(c->xa, idt, gates, nr * GATE_SIZE) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s unreadable", what);
    for (unsigned v = 0; v < nr; v++) {
        const uint8_t *g = gates + v * GATE_SIZE;
        uint16_t lo, bits, mid;
        uint32_t hi;
        memcpy(&lo, g + l->lo, 2);
        memcpy(&bits, g + l->bits, 2);
        memcpy(&mid, g + l->mid, 2);
        memcpy(&hi, g + l->hi, 4);
        if (!(bits & 0x8000))
            continue; /* not present (idt_bits.p, the top bit) */
        uint64_t handler = (uint64_t)lo | (uint64_t)mid << 16 | (uint64_t)hi << 32;
        if (check_in_core_text(c, handler))
            continue;
        if (early && v < EARLY_IDT_HANDLERS && handler == early + v * early_size)
            continue;
        char where[128];
        check_describe(c, handler, where, sizeof(where));
        const char *owner = check_owner_of(c, handler);
        int rc = check_report(c, "idt-hook", owner ? owner : "", -1, handler,
                              "%s vector %u -> %s, outside the kernel's text", what, v, where);
        if (rc)
            return rc;
    }
    return 0;
}

/* Since 4.15 the CPUs load (lidt) a read-only alias of idt_table in the
 * CPU entry area, at a fixed address on 4- and 5-level paging; a rootkit
 * can point that alias at a table of its own and leave idt_table alone. */
#define CPU_ENTRY_AREA_RO_IDT 0xfffffe0000000000ULL
/* IDTR of a CPU that never left reset (an offline CPU never started). */
#define RESET_IDT_LIMIT 0xffffu

/* "0, 1, 5" into @buf, "..." when it does not fit. */
static void append_cpu(char *buf, size_t cap, unsigned cpu)
{
    size_t len = strlen(buf);
    if (len + 16 >= cap) {
        if (len + 4 < cap && (len < 3 || strcmp(buf + len - 3, "...") != 0))
            snprintf(buf + len, cap - len, "...");
        return;
    }
    snprintf(buf + len, cap - len, "%s%u", len ? ", " : "", cpu);
}

struct idtr_seen {
    uint64_t base;
    uint32_t limit;
    unsigned nr_cpus;
    char cpus[96];
};

/* Every vCPU's IDTR must be idt_table or its alias (a published technique
 * copies the IDT, changes gates in the copy and lidt's it on every CPU:
 * idt_table and the alias stay intact). A table elsewhere is a finding,
 * and its gates are judged too. CPUs the target gives no IDTR for are
 * said in a note. */
static int check_idtrs(struct check_ctx *c, const struct gate_layout *l, uint64_t idt)
{
    unsigned n = xa_vcpu_count(c->xa);
    if (n == 0)
        return check_note(c, "no CPU's IDTR judged: the target gives no registers (idt_table "
                             "and its CPU-entry-area alias were)");
    struct idtr_seen *seen = calloc(n, sizeof(*seen));
    if (!seen)
        return xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    char unjudged[96] = "", unstarted[96] = "", why[160] = "";
    size_t nr_seen = 0;
    int rc = 0;
    for (unsigned v = 0; v < n && rc == 0; v++) {
        struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
        int got = xa_get_vcpu_dtables(c->xa, v, &dt);
        if (got == XA_ENOTSUP) {
            append_cpu(unjudged, sizeof(unjudged), v);
            snprintf(why, sizeof(why), "%s", xa_errmsg(c->xa));
            continue;
        }
        if (got < 0) {
            rc = got; /* a live target that stopped answering: the check is incomplete */
            break;
        }
        if (dt.idt_base == idt || dt.idt_base == CPU_ENTRY_AREA_RO_IDT)
            continue;
        if (dt.idt_base == 0 && dt.idt_limit == RESET_IDT_LIMIT) {
            append_cpu(unstarted, sizeof(unstarted), v);
            continue;
        }
        size_t i = 0;
        while (i < nr_seen && (seen[i].base != dt.idt_base || seen[i].limit != dt.idt_limit))
            i++;
        if (i == nr_seen) {
            seen[i].base = dt.idt_base;
            seen[i].limit = dt.idt_limit;
            nr_seen++;
        }
        append_cpu(seen[i].cpus, sizeof(seen[i].cpus), v);
        seen[i].nr_cpus++;
    }
    for (size_t i = 0; i < nr_seen && rc == 0; i++) {
        char where[128], what[128];
        check_describe(c, seen[i].base, where, sizeof(where));
        const char *owner = check_owner_of(c, seen[i].base);
        rc = check_report(c, "idtr-replaced", owner ? owner : "", -1, seen[i].base,
                          "%s %s load%s the IDT at %s (limit 0x%x), not idt_table (0x%llx) "
                          "or its CPU-entry-area alias",
                          seen[i].nr_cpus > 1 ? "CPUs" : "CPU", seen[i].cpus,
                          seen[i].nr_cpus > 1 ? "" : "s", where, seen[i].limit,
                          (unsigned long long)idt);
        snprintf(what, sizeof(what), "CPU %s's IDT", seen[i].cpus);
        unsigned nr = (unsigned)(((uint64_t)seen[i].limit + 1) / GATE_SIZE);
        if (rc == 0 && nr)
            rc = check_gates(c, l, seen[i].base, nr, what);
    }
    free(seen);
    if (rc == 0 && unjudged[0])
        rc = check_note(c, "IDTR of CPU %s not judged: %s", unjudged, why);
    if (rc == 0 && unstarted[0])
        rc = check_note(c, "CPU %s never started (IDTR in its reset state): not judged",
                        unstarted);
    return rc;
}

int check_idt(struct check_ctx *c)
{
    if (lx_is32(linux_os(c->xa)))
        return check_idt32(c); /* 8-byte i386 gates */
    uint64_t idt = check_sym(c, "idt_table");
    if (!idt)
        return xa__set_error(c->xa, XA_ENOTSUP, "no idt_table symbol");
    struct gate_layout l = gate_layout(c);
    int rc = check_gates(c, &l, idt, IDT_ENTRIES, "IDT");
    if (rc == 0)
        rc = check_idtrs(c, &l, idt);
    uint64_t idt_pa, alias_pa;
    if (rc || xa__memory_is_virtual(c->xa) || xa__translate(c->xa, 0, idt, &idt_pa) < 0 ||
        xa__translate(c->xa, 0, CPU_ENTRY_AREA_RO_IDT, &alias_pa) < 0)
        return rc; /* no alias (before 4.15, or a triage dump): idt_table is what CPUs load */
    if (alias_pa == idt_pa)
        return 0;
    rc = check_report(c, "idt-replaced", "", -1, CPU_ENTRY_AREA_RO_IDT,
                      "the IDT the CPUs load (CPU entry area 0x%llx, physical 0x%llx) is not "
                      "idt_table (physical 0x%llx)",
                      (unsigned long long)CPU_ENTRY_AREA_RO_IDT, (unsigned long long)alias_pa,
                      (unsigned long long)idt_pa);
    return rc ? rc : check_gates(c, &l, CPU_ENTRY_AREA_RO_IDT, IDT_ENTRIES, "loaded IDT");
}

/* Operation tables of the core kernel that rootkits patch, and their types:
 * every code pointer in them must point into the core text. */
static const struct {
    const char *symbol, *type;
} ops_tables[] = {
    {"proc_root_operations", "file_operations"},        /* readdir of /proc */
    {"proc_root_inode_operations", "inode_operations"}, /* lookup in /proc */
    {"tcp4_seq_ops", "seq_operations"},                 /* /proc/net/tcp */
    {"tcp6_seq_ops", "seq_operations"},                 /* /proc/net/tcp6 */
    {"udp_seq_ops", "seq_operations"},                  /* /proc/net/udp */
    {"udp6_seq_ops", "seq_operations"},
    {"raw_seq_ops", "seq_operations"},
    {"packet_seq_ops", "seq_operations"},
    {"tty_fops", "file_operations"},                    /* terminals */
    {"console_fops", "file_operations"},
    {"hung_up_tty_fops", "file_operations"},
};

#define MAX_OPS_SIZE 1024u

int check_ops(struct check_ctx *c)
{
    if (lx_is32(linux_os(c->xa)) && (!check_sym(c, "init_task") || !linux_os(c->xa)->btf))
        return check_ops32(c); /* no data symbols or no BTF (Debian's 686): by shape */
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < sizeof(ops_tables) / sizeof(ops_tables[0]); t++) {
        uint64_t table = check_sym(c, ops_tables[t].symbol), size;
        if (!table)
            continue; /* not in this kernel (or in a module not loaded) */
        if (linux_type_size(c->xa, ops_tables[t].type, &size) < 0 || size > MAX_OPS_SIZE ||
            size < 8)
            return xa__set_error(c->xa, XA_ENOTSUP, "ops tables: no BTF size for struct %s",
                                 ops_tables[t].type);
        size_t word = lx_ptr_size(c->xa); /* 4 on 32-bit kernels */
        uint8_t slots[MAX_OPS_SIZE];
        if (lx_read(c->xa, table, slots, size - size % word) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "%s unreadable", ops_tables[t].symbol);
        for (uint64_t i = 0; rc == 0 && i < size / word; i++) {
            uint64_t v = 0;
            if (word == 4) {
                uint32_t v32;
                memcpy(&v32, slots + 4 * i, 4);
                v = v32;
            } else {
                memcpy(&v, slots + 8 * i, 8);
            }
            /* code pointers only: NULL, flags and counters are not */
            bool kernel = word == 4 ? lx_kptr(c->xa, v) : v >= 0xffff800000000000ULL;
            if (!kernel || check_in_core_text(c, v))
                continue;
            char where[128];
            check_describe(c, v, where, sizeof(where));
            const char *owner = check_owner_of(c, v);
            rc = check_report(c, "ops-hook", owner ? owner : "", -1, v,
                              "%s+0x%llx (struct %s) -> %s, outside the kernel's text",
                              ops_tables[t].symbol, (unsigned long long)(word * i),
                              ops_tables[t].type, where);
        }
    }
    return rc ? rc : check_terminals(c);
}
