/*
 * make_seeds_kallsyms.c -- seed inputs for fuzz_kallsyms: kallsyms tables
 * in every layout the parser knows (old and 6.4+ order, with and without
 * seqs_of_names, absolute per-cpu symbols, 4- and 8-byte markers, 32-bit
 * kernels' 4-aligned tables), made by
 * tests/unit/test_kallsyms.c's table builder (included; its main() unused).
 * Usage: make_seeds_kallsyms OUTDIR
 */
#include <stdio.h>

int xa_test_kallsyms_main(void);
#define main xa_test_kallsyms_main
#include "test_kallsyms.c"
#undef main

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    const uint64_t text = 0xffffffff9a000000ULL;
    for (int v = 0; v < 16; v++) {
        uint32_t n = v & 1 ? 300 : 40; /* 300: two markers */
        struct synth_sym *s = make_syms(n, text);
        struct synth_opts o = {.new_order = v & 1, .seqs = v & 2, .absolute_percpu = v & 4,
                               .marker_size = v & 8 ? 8 : 4};
        for (uint32_t i = 0; i < 2; i++) {
            s[i].addr = o.absolute_percpu ? i * 0x2c000 : text;
            s[i].percpu = o.absolute_percpu;
        }
        size_t cap = 128 * 1024;
        uint8_t *buf = calloc(1, cap);
        struct synth_out so = synth_tables(buf, 64, s, n, &o, text);
        char path[512];
        snprintf(path, sizeof(path), "%s/layout-%02d", argv[1], v);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, so.end + 16, f) != so.end + 16) {
            perror(path);
            return 1;
        }
        fclose(f);
        free(buf);
        free(s);
    }
    /* 32-bit kernels: 4-aligned tables, 4-byte relative_base (issue 18). */
    const uint64_t text32 = 0xd3000000ULL;
    for (int v = 0; v < 4; v++) {
        uint32_t n = v & 1 ? 300 : 40;
        struct synth_sym *s = make_syms(n, text32);
        for (uint32_t i = 0; i < 2; i++)
            s[i].addr = text32, s[i].percpu = false;
        struct synth_opts o = {.new_order = v & 1, .seqs = v & 2, .marker_size = 4,
                               .ptr_size = 4};
        uint8_t *buf = calloc(1, 128 * 1024);
        struct synth_out so = synth_tables(buf, 68, s, n, &o, text32);
        char path[512];
        snprintf(path, sizeof(path), "%s/layout32-%02d", argv[1], v);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, so.end + 16, f) != so.end + 16) {
            perror(path);
            return 1;
        }
        fclose(f);
        free(buf);
        free(s);
    }
    return 0;
}
