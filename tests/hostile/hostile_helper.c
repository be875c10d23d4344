/*
 * hostile_helper.c -- finds what tests/hostile/test_hostile.py patches in a
 * real dump, through the public API only. One query per argument after the
 * target, one output line per query ("?" when it fails):
 *   off:STRUCT.MEMBER   member offset (BTF)        -> decimal
 *   size:STRUCT         struct size                -> decimal
 *   sym:NAME            kernel symbol              -> 0x hex
 *   u64:VA              kernel u64 at VA           -> 0x hex
 *   pa:VA               kernel VA -> physical      -> 0x hex
 *   upa:PID:VA          user VA of PID -> physical -> 0x hex
 *   dtb:PID             page-table root of PID     -> 0x hex (pid 0: the kernel's)
 *   info                the OS facts the tests need, as "key=value" words
 * Usage: hostile_helper TARGET QUERY...
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenaccess.h"

static int query(struct xa_instance *xa, const char *q)
{
    uint64_t v;
    char name[256];
    if (!strncmp(q, "off:", 4)) {
        snprintf(name, sizeof(name), "%s", q + 4);
        char *dot = strchr(name, '.');
        if (!dot)
            return -1;
        *dot = '\0';
        if (xa_type_offset(xa, name, dot + 1, &v) < 0)
            return -1;
        printf("%" PRIu64 "\n", v);
    } else if (!strncmp(q, "size:", 5)) {
        if (xa_type_size(xa, q + 5, &v) < 0)
            return -1;
        printf("%" PRIu64 "\n", v);
    } else if (!strncmp(q, "sym:", 4)) {
        if (xa_sym_lookup(xa, q + 4, &v) < 0)
            return -1;
        printf("0x%" PRIx64 "\n", v);
    } else if (!strncmp(q, "u64:", 4)) {
        if (xa_read_kva_u64(xa, strtoull(q + 4, NULL, 0), &v) < 0)
            return -1;
        printf("0x%" PRIx64 "\n", v);
    } else if (!strncmp(q, "pa:", 3)) {
        if (xa_translate_kv(xa, strtoull(q + 3, NULL, 0), &v) < 0)
            return -1;
        printf("0x%" PRIx64 "\n", v);
    } else if (!strncmp(q, "upa:", 4)) {
        char *end;
        long pid = strtol(q + 4, &end, 0);
        uint64_t dtb;
        if (*end != ':' || xa_pid_to_dtb(xa, (int32_t)pid, &dtb) < 0 ||
            xa_translate(xa, dtb, strtoull(end + 1, NULL, 0), &v) < 0)
            return -1;
        printf("0x%" PRIx64 "\n", v);
    } else if (!strncmp(q, "dtb:", 4)) {
        long pid = strtol(q + 4, NULL, 0);
        if (pid == 0)
            v = xa_kernel_dtb(xa);
        else if (xa_pid_to_dtb(xa, (int32_t)pid, &v) < 0)
            return -1;
        printf("0x%" PRIx64 "\n", v);
    } else if (!strcmp(q, "info")) {
        struct xa_os_info i;
        if (xa_os_get_info(xa, &i) < 0)
            return -1;
        printf("symbols=%zu page_offset=0x%" PRIx64 " kernel_dtb=0x%" PRIx64 " mode=%d "
               "text=0x%" PRIx64 "\n",
               i.num_symbols, i.page_offset, i.kernel_dtb, (int)i.page_mode, i.text_start);
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TARGET QUERY...\n", argv[0]);
        return 2;
    }
    struct xa_instance *xa;
    if (xa_init(argv[1], 0, &xa) < 0) {
        fprintf(stderr, "hostile_helper: %s\n", xa_last_init_error());
        return 1;
    }
    for (int i = 2; i < argc; i++)
        if (query(xa, argv[i]) < 0)
            printf("?\n");
    xa_destroy(xa);
    return 0;
}
