/*
 * regs.c -- registers from the text of HMP "info registers" (x86).
 *
 * QEMU prints, for 64-bit code:
 *   RAX=ffffffff81e4f3a0 RBX=... RCX=... RDX=...
 *   R8 =0000000000000000 R9 =...
 *   RIP=ffffffff81e4f9ee RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
 *   CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]
 *   GS =0000 ffff88801f400000 ffffffff 00c00000
 *   CR0=80050033 CR2=00007f... CR3=000000000246e000 CR4=00350ef0
 *   GDT=     fffffe0000001000 0000007f
 *   IDT=     fffffe0000000000 00000fff
 *   EFER=0000000000000d01
 * and EAX/EIP/EFL in 32-bit modes. Unknown keys are ignored, so later QEMU
 * versions that print more still parse.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/qemu/qemu.h"

struct reg_key {
    const char *name, *alt; /* 64-bit and 32-bit spellings */
    size_t off;
};

#define R(n, a, f) {n, a, offsetof(struct xa_regs, f)}
static const struct reg_key reg_keys[] = {
    R("RAX", "EAX", rax), R("RBX", "EBX", rbx), R("RCX", "ECX", rcx), R("RDX", "EDX", rdx),
    R("RSI", "ESI", rsi), R("RDI", "EDI", rdi), R("RBP", "EBP", rbp), R("RSP", "ESP", rsp),
    R("R8", NULL, r8),    R("R9", NULL, r9),    R("R10", NULL, r10), R("R11", NULL, r11),
    R("R12", NULL, r12),  R("R13", NULL, r13),  R("R14", NULL, r14), R("R15", NULL, r15),
    R("RIP", "EIP", rip), R("RFL", "EFL", rflags), R("CR0", NULL, cr0), R("CR2", NULL, cr2),
    R("CR3", NULL, cr3),  R("CR4", NULL, cr4),  R("EFER", NULL, efer),
    R("KERNELGSBASE", "KERNELGS_BASE", kernel_gs_base),
};
#undef R

static bool parse_hex(const char *s, uint64_t *out)
{
    char *end;
    if (!*s)
        return false;
    *out = strtoull(s, &end, 16);
    return end != s;
}

/* "CS =0010 0000000000000000 ffffffff 00a09b00": selector and base. */
static void parse_segment(const char *line, struct xa_regs *out)
{
    char *end;
    uint64_t sel = strtoull(line + 4, &end, 16);
    uint64_t base = strtoull(end, NULL, 16);
    if (!strncmp(line, "CS", 2))
        out->cs = (uint16_t)sel;
    else if (!strncmp(line, "SS", 2))
        out->ss = (uint16_t)sel;
    else if (!strncmp(line, "FS", 2))
        out->fs_base = base;
    else if (!strncmp(line, "GS", 2))
        out->gs_base = base;
}

static void parse_token(const char *tok, struct xa_regs *out, bool *seen_cr0)
{
    const char *eq = strchr(tok, '=');
    if (!eq)
        return;
    size_t klen = (size_t)(eq - tok);
    uint64_t val;
    if (!parse_hex(eq + 1, &val))
        return;
    for (size_t i = 0; i < sizeof(reg_keys) / sizeof(reg_keys[0]); i++) {
        const struct reg_key *k = &reg_keys[i];
        if ((strlen(k->name) == klen && !strncmp(tok, k->name, klen)) ||
            (k->alt && strlen(k->alt) == klen && !strncmp(tok, k->alt, klen))) {
            *(uint64_t *)((char *)out + k->off) = val;
            if (k->off == offsetof(struct xa_regs, cr0))
                *seen_cr0 = true;
            return;
        }
    }
}

int qemu_parse_regs(const char *text, struct xa_regs *out)
{
    memset(out, 0, sizeof(*out));
    bool seen_cr0 = false;
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[1024];
        if (len >= sizeof(buf))
            len = sizeof(buf) - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = eol ? eol + 1 : NULL;

        if (len > 4 && buf[2] == ' ' && buf[3] == '=' && strchr("ECSDFG", buf[0]) &&
            buf[1] == 'S') {
            parse_segment(buf, out);
            continue;
        }
        /* "R8 =..." -> "R8=..." so every register is one token. */
        for (char *p = buf; (p = strstr(p, " =")) != NULL;)
            memmove(p, p + 1, strlen(p + 1) + 1);
        for (char *save = NULL, *tok = strtok_r(buf, " \t\r", &save); tok;
             tok = strtok_r(NULL, " \t\r", &save))
            parse_token(tok, out, &seen_cr0);
    }
    return seen_cr0 ? 0 : XA_EBADDATA;
}

/* "IDT=     fffffe0000000000 00000fff": base and limit. */
static bool parse_dtable(const char *line, const char *key, uint64_t *base, uint32_t *limit)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return false;
    char *end;
    const char *p = line + n;
    *base = strtoull(p, &end, 16);
    if (end == p)
        return false;
    p = end;
    uint64_t lim = strtoull(p, &end, 16);
    if (end == p || lim > 0xffffffffull)
        return false;
    *limit = (uint32_t)lim;
    return true;
}

int qemu_parse_dtables(const char *text, struct xa_vcpu_dtables *out)
{
    bool idt = false, gdt = false;
    for (const char *line = text; line && *line;) {
        idt |= parse_dtable(line, "IDT=", &out->idt_base, &out->idt_limit);
        gdt |= parse_dtable(line, "GDT=", &out->gdt_base, &out->gdt_limit);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return idt && gdt ? 0 : XA_EBADDATA;
}
