/*
 * xa-info -- what a target is: backend, memory, paging, kernel.
 *   xa-info TARGET [--json]
 */
#include <inttypes.h>
#include <string.h>

#include "tool.h"

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img";
    tool_exit_codes = "0 fine, 1 error, 2 usage"; /* it walks no list: never partial */
    struct tool_opts o = {0};
    const char *pos[1];
    tool_parse(argc, argv, &o, NULL, pos, 1, "TARGET [--json]");
    struct xa_instance *xa = tool_open(&o);
    struct xa_os_info info;
    if (xa_os_get_info(xa, &info) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
    size_t nranges;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &nranges);
    if (o.json) {
        json_object *j = json_object_new_object();
        tool_json_str(j, "target", o.target);
        tool_json_str(j, "backend", xa_backend_name(xa));
        tool_json_str(j, "access", xa_access_method(xa));
        json_object_object_add(j, "memory_bytes", json_object_new_int64((int64_t)xa_memsize(xa)));
        json_object *ranges = json_object_new_array();
        for (size_t i = 0; i < nranges; i++) {
            json_object *e = json_object_new_object();
            tool_json_hex(e, "start", r[i].start);
            tool_json_hex(e, "size", r[i].size);
            json_object_array_add(ranges, e);
        }
        json_object_object_add(j, "ranges", ranges);
        json_object_object_add(j, "vcpus", json_object_new_int((int)xa_vcpu_count(xa)));
        json_object_object_add(j, "live", json_object_new_boolean(xa_is_live(xa)));
        tool_json_str(j, "os", info.type == XA_OS_WINDOWS ? "windows" : "linux");
        tool_json_str(j, "version", info.version);
        tool_json_str(j, "release", info.release);
        tool_json_str(j, "paging", xa_page_mode_name(info.page_mode));
        tool_json_hex(j, "dtb", info.kernel_dtb);
        tool_json_hex(j, "kaslr_slide", info.kaslr_slide);
        tool_json_hex(j, "phys_base", info.phys_base);
        tool_json_hex(j, "text", info.text_start);
        tool_json_hex(j, "page_offset", info.page_offset);
        json_object_object_add(j, "symbols", json_object_new_int64((int64_t)info.num_symbols));
        tool_json_str(j, "symbols_from", info.symbols_from);
        json_object_object_add(j, "btf_types", json_object_new_int64((int64_t)info.num_btf_types));
        tool_json_str(j, "types_from", info.types_from);
        tool_json_line(j);
    } else {
        printf("target:       %s\n", tool_text(o.target, 0));
        printf("backend:      %s (%s)\n", tool_text(xa_backend_name(xa), 0),
               tool_text(xa_access_method(xa), 0));
        printf("memory:       %" PRIu64 " MiB in %zu range(s)\n", xa_memsize(xa) >> 20, nranges);
        for (size_t i = 0; i < nranges; i++)
            printf("              0x%012" PRIx64 "-0x%012" PRIx64 "\n", r[i].start,
                   r[i].start + r[i].size);
        printf("vcpus:        %u%s\n", xa_vcpu_count(xa), xa_is_live(xa) ? " (live)" : "");
        printf("os:           %s\n", info.type == XA_OS_WINDOWS ? "Windows" : "Linux");
        printf("kernel:       %s\n", tool_text(info.version, 0));
        printf("release:      %s\n", tool_text(info.release, 0));
        printf("paging:       %s\n", xa_page_mode_name(info.page_mode));
        printf("kernel dtb:   0x%" PRIx64 "\n", info.kernel_dtb);
        printf("kaslr slide:  0x%" PRIx64 "\n", info.kaslr_slide);
        printf("phys_base:    0x%" PRIx64 "\n", info.phys_base);
        printf("_text:        0x%" PRIx64 "\n", info.text_start);
        printf("page_offset:  0x%" PRIx64 "\n", info.page_offset);
        printf("symbols:      %zu (%s)\n", info.num_symbols,
               tool_text(info.symbols_from, 0));
        printf("BTF types:    %zu (%s)\n", info.num_btf_types,
               tool_text(info.types_from, 0));
    }
    xa_destroy(xa);
    return TOOL_OK;
}
