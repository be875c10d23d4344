/*
 * check32_tables_run.c -- the syscalls and idt checks on 32-bit x86 kernels:
 * the tables by name when kallsyms has them, else by shape
 * (check32_tables.c), then every entry judged with 4-byte pointers and the
 * i386 gate layout, findings as on amd64 (syscall-hook, idt-hook,
 * idtr-replaced).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_tables.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Report that @entry ("sys_call_table[37]") points at @addr, outside the
 * text; its owner module (check.c's owner table: listed, in /sys/module or
 * carved) is the culprit. */
static int report_hook(struct check_ctx *c, const char *technique, uint64_t addr,
                       const char *entry)
{
    char where[128];
    check_describe(c, addr, where, sizeof(where));
    const char *owner = check_owner_of(c, addr);
    return check_report(c, technique, owner ? owner : "", -1, addr,
                        "%s -> %s, outside the kernel's text%s", entry, where,
                        owner ? "" : " and every module");
}

static int run_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct check_ctx *c = ctx;
    return lx_read(c->xa, va, buf, len);
}

/* A handler the i386 table holds: the start of __ia32_sys_* (5.7+),
 * __ia32_compat_sys_*, or sys_* (older kernels, sys_ni_syscall); a
 * wrapper the compiler merged with its body is named __do_sys_* too. */
static bool run_is_handler(void *ctx, uint64_t va)
{
    const struct check_ctx *c = ctx;
    const char *name;
    uint64_t off;
    if (!check_in_core_text(c, va) ||
        symtab_at(&linux_os(c->xa)->syms, va, &name, &off) < 0 || off != 0)
        return false;
    return has_prefix(name, "__ia32_sys_") || has_prefix(name, "__ia32_compat_sys_") ||
           has_prefix(name, "__do_sys_") || has_prefix(name, "__se_sys_") ||
           has_prefix(name, "sys_");
}

/* The kernel image's start and the end of its read-only data. */
static uint64_t image_data_end(struct check_ctx *c)
{
    uint64_t end = check_sym(c, "__init_begin");
    if (!end)
        end = check_sym(c, "_sinittext");
    return end > c->text_end ? end : 0;
}

static struct c32_mem run_mem(struct check_ctx *c)
{
    uint64_t text = check_sym(c, "_text");
    return (struct c32_mem){
        .read = run_read, .is_handler = run_is_handler, .ctx = c,
        .page_offset = linux_os(c->xa)->page_offset,
        .image_lo = text ? text : c->text_start, .image_hi = image_data_end(c),
    };
}

/* ---- system calls --------------------------------------------------------- */

static const char *const sys_anchor_names[C32_SYS_ANCHORS] = {
    "restart_syscall", "exit", "fork", "read", "write", "open", "close", "waitpid",
};

static int judge_syscalls(struct check_ctx *c, uint64_t table, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t entry;
        if (lx_u32(c->xa, table + 4ull * i, &entry) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "sys_call_table[%u] unreadable", i);
        if (check_in_core_text(c, entry))
            continue;
        char name[32];
        snprintf(name, sizeof(name), "sys_call_table[%u]", i);
        int rc = report_hook(c, "syscall-hook", entry, name);
        if (rc)
            return rc;
    }
    return 0;
}

int check_syscalls32(struct check_ctx *c)
{
    struct c32_mem m = run_mem(c);
    uint64_t anchors[C32_SYS_ANCHORS];
    for (unsigned k = 0; k < C32_SYS_ANCHORS; k++) {
        char name[64];
        snprintf(name, sizeof(name), "__ia32_sys_%s", sys_anchor_names[k]);
        anchors[k] = check_sym(c, name);
        if (!anchors[k]) {
            snprintf(name, sizeof(name), "sys_%s", sys_anchor_names[k]);
            anchors[k] = check_sym(c, name);
        }
    }
    /* by name when kallsyms has it (CONFIG_KALLSYMS_ALL), else in the
     * read-only data between the text and the init sections */
    uint64_t lo = c->text_end, hi = m.image_hi;
    uint64_t named = check_sym(c, "sys_call_table");
    if (!named)
        named = check_sym(c, "ia32_sys_call_table");
    if (named) {
        lo = named;
        hi = named + 4ull * C32_SYS_ANCHORS;
    } else if (!hi) {
        return xa__set_error(c->xa, XA_ENOTSUP, "syscalls: no __init_begin/_sinittext symbol: "
                                                "where the kernel's data ends is unknown");
    }
    char why[256];
    uint64_t table;
    uint32_t n;
    int rc = c32_find_syscalls(&m, lo, hi, anchors, &table, &n, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(c->xa, rc, "syscalls: %s", why);
    if (!named && (rc = check_note(c, "sys_call_table found by its shape at 0x%llx, %u entries",
                                   (unsigned long long)table, n)))
        return rc;
    rc = judge_syscalls(c, table, n);
    return rc;
}

/* ---- IDT ------------------------------------------------------------------ */

static const struct {
    unsigned vector;
    const char *name;
} idt_anchor_names[] = {
    {0, "asm_exc_divide_error"}, {1, "asm_exc_debug"}, {2, "asm_exc_nmi"},
    {3, "asm_exc_int3"}, {4, "asm_exc_overflow"}, {5, "asm_exc_bounds"},
    {6, "asm_exc_invalid_op"}, {7, "asm_exc_device_not_available"},
    {9, "asm_exc_coproc_segment_overrun"}, {10, "asm_exc_invalid_tss"},
    {11, "asm_exc_segment_not_present"}, {12, "asm_exc_stack_segment"},
    {13, "asm_exc_general_protection"}, {14, "asm_exc_page_fault"},
    {15, "asm_exc_spurious_interrupt_bug"}, {16, "asm_exc_coprocessor_error"},
    {17, "asm_exc_alignment_check"}, {18, "asm_exc_machine_check"},
    {19, "asm_exc_simd_coprocessor_error"}, {0x80, "entry_INT80_32"},
};

#define DOUBLE_FAULT 8u
#define EARLY_IDT_HANDLERS 32u
#define EARLY_IDT_STUB 9u /* push $0 (2), push $vector (2), jmp (5); no ENDBR on i386 */

/* Judge the @nr gates of the table @what read from @va. */
static int judge_gates(struct check_ctx *c, uint64_t va, unsigned nr, const char *what)
{
    uint8_t gates[C32_IDT_BYTES];
    if (nr > C32_IDT_ENTRIES)
        nr = C32_IDT_ENTRIES;
    if (lx_read(c->xa, va, gates, (size_t)nr * C32_GATE_SIZE) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s at 0x%llx unreadable", what,
                             (unsigned long long)va);
    uint64_t early = check_sym(c, "early_idt_handler_array");
    for (unsigned v = 0; v < nr; v++) {
        struct c32_gate g;
        c32_gate_decode(gates + v * C32_GATE_SIZE, &g);
        if (!g.present)
            continue;
        char where[128];
        if (g.type == C32_GATE_TASK) {
            /* i386 takes double faults through a task gate to a TSS of its own */
            if (v == DOUBLE_FAULT && g.handler == 0)
                continue;
            snprintf(where, sizeof(where), "a task gate (TSS selector 0x%x)", g.selector);
        } else if (g.type != C32_GATE_INTR && g.type != C32_GATE_TRAP) {
            snprintf(where, sizeof(where), "a gate of type 0x%x", g.type);
        } else {
            if (check_in_core_text(c, g.handler))
                continue;
            /* reserved vectors keep the boot stubs (init text, freed) */
            if (early && v < EARLY_IDT_HANDLERS && g.handler == early + v * EARLY_IDT_STUB)
                continue;
            char name[96];
            snprintf(name, sizeof(name), "%s vector %u", what, v);
            int rc = report_hook(c, "idt-hook", g.handler, name);
            if (rc)
                return rc;
            continue;
        }
        int rc = check_report(c, "idt-hook", "", -1, g.handler,
                              "%s vector %u is %s, not an interrupt or trap gate", what, v, where);
        if (rc)
            return rc;
    }
    return 0;
}

/* The IDT a vCPU loads is idt_table, or its read-only alias in the CPU
 * entry area: on i386 that alias's address depends on the fixmap's size
 * (no fixed address as on x86-64), so a base is the alias when it maps to
 * idt_table's physical address. */
static bool is_idt_alias(struct check_ctx *c, uint64_t base, uint64_t idt)
{
    uint64_t base_pa, idt_pa;
    return xa__translate(c->xa, 0, base, &base_pa) == 0 &&
           xa__translate(c->xa, 0, idt, &idt_pa) == 0 && base_pa == idt_pa;
}

static int judge_idtrs(struct check_ctx *c, uint64_t idt)
{
    unsigned n = xa_vcpu_count(c->xa);
    if (n == 0)
        return check_note(c, "no CPU's IDTR judged: the target gives no registers (idt_table "
                             "was; on 32-bit its CPU-entry-area alias has no fixed address)");
    char unjudged[160] = "";
    int rc = 0;
    for (unsigned v = 0; v < n && rc == 0; v++) {
        struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
        int got = xa_get_vcpu_dtables(c->xa, v, &dt);
        if (got == XA_ENOTSUP) {
            snprintf(unjudged, sizeof(unjudged), "%s", xa_errmsg(c->xa));
            continue;
        }
        if (got < 0)
            return got;
        if (dt.idt_base == idt || is_idt_alias(c, dt.idt_base, idt))
            continue;
        if (dt.idt_base == 0 && dt.idt_limit == 0xffffu)
            continue; /* never started: the reset state */
        char where[128], what[64];
        check_describe(c, dt.idt_base, where, sizeof(where));
        const char *owner = check_owner_of(c, dt.idt_base);
        rc = check_report(c, "idtr-replaced", owner ? owner : "", -1, dt.idt_base,
                          "CPU %u loads the IDT at %s (limit 0x%x), not idt_table (0x%llx) or "
                          "its CPU-entry-area alias",
                          v, where, dt.idt_limit, (unsigned long long)idt);
        snprintf(what, sizeof(what), "CPU %u's IDT", v);
        if (rc == 0)
            rc = judge_gates(c, dt.idt_base, (dt.idt_limit + 1u) / C32_GATE_SIZE, what);
    }
    if (rc == 0 && unjudged[0])
        rc = check_note(c, "some CPU's IDTR not judged: %s", unjudged);
    return rc;
}

int check_idt32(struct check_ctx *c)
{
    struct c32_mem m = run_mem(c);
    uint64_t anchors[C32_IDT_ENTRIES] = {0};
    for (size_t i = 0; i < sizeof(idt_anchor_names) / sizeof(idt_anchor_names[0]); i++)
        anchors[idt_anchor_names[i].vector] = check_sym(c, idt_anchor_names[i].name);
    /* by name, else page-aligned in the image's data and bss (idt_table is
     * __page_aligned_bss, past the init sections) */
    uint64_t named = check_sym(c, "idt_table");
    uint64_t lo = named ? named : c->text_end;
    uint64_t hi = named ? named + C32_IDT_BYTES : m.image_lo + C32_MAX_SPAN;
    char why[256];
    uint64_t idt;
    int rc = c32_find_idt(&m, lo, hi, anchors, &idt, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(c->xa, rc, "idt: %s", why);
    if (!named && (rc = check_note(c, "idt_table found by its shape at 0x%llx",
                                   (unsigned long long)idt)))
        return rc;
    rc = judge_gates(c, idt, C32_IDT_ENTRIES, "IDT");
    if (rc == 0)
        rc = judge_idtrs(c, idt);
    return rc;
}
