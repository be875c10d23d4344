/*
 * check_bpf.c -- loaded eBPF programs, from the kernel's prog_idr: each is
 * reported with its type, name and id (eBPF is how today's rootkits hook
 * without a module). A clean guest with no tracer loaded has none.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check.h"

#define MAX_PROGS 65536u
#define BPF_OBJ_NAME_LEN 16

struct bpf_offs {
    uint64_t type, aux, aux_name, aux_id, aux_attach_name;
};

static const char *prog_type_name(uint32_t t)
{
    static const char *const names[] = {
        "unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp",
        "perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit",
        "sock_ops", "sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr",
        "lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector", "cgroup_sysctl",
        "raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm",
        "sk_lookup", "syscall"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static int on_prog(struct check_ctx *c, uint64_t index, uint64_t prog, void *arg)
{
    const struct bpf_offs *o = arg;
    uint32_t type, id = 0;
    uint64_t aux;
    char name[BPF_OBJ_NAME_LEN + 1] = "";
    if (lx_u32(c->xa, prog + o->type, &type) < 0 || lx_ptr(c->xa, prog + o->aux, &aux) < 0 ||
        !lx_kptr(c->xa, aux) || lx_read(c->xa, aux + o->aux_name, name, BPF_OBJ_NAME_LEN) < 0 ||
        lx_u32(c->xa, aux + o->aux_id, &id) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "eBPF program %llu at 0x%llx unreadable",
                             (unsigned long long)index, (unsigned long long)prog);
    name[BPF_OBJ_NAME_LEN] = '\0';
    char attach[64] = "";
    uint64_t fn;
    if (o->aux_attach_name != LX_NO_OFFSET && lx_ptr(c->xa, aux + o->aux_attach_name, &fn) == 0 &&
        lx_kptr(c->xa, fn) && lx_read(c->xa, fn, attach, sizeof(attach) - 1) == 0)
        attach[sizeof(attach) - 1] = '\0';
    else
        attach[0] = '\0';
    return check_report(c, "bpf-program", name, -1, prog, "eBPF program id %u \"%s\", type %s%s%s",
                        id, name, prog_type_name(type), attach[0] ? ", attached to " : "",
                        attach);
}

int check_bpf(struct check_ctx *c)
{
    struct bpf_offs o = {
        .type = check_off(c, "bpf_prog", "type"),
        .aux = check_off(c, "bpf_prog", "aux"),
        .aux_name = check_off(c, "bpf_prog_aux", "name"),
        .aux_id = check_off(c, "bpf_prog_aux", "id"),
        .aux_attach_name = check_off(c, "bpf_prog_aux", "attach_func_name"),
    };
    uint64_t idr = check_sym(c, "prog_idr");
    uint64_t idr_rt = check_off(c, "idr", "idr_rt"), xa_head = check_off(c, "xarray", "xa_head");
    if (!idr)
        return 0; /* a kernel without CONFIG_BPF_SYSCALL loads no programs */
    if (o.type == LX_NO_OFFSET || o.aux == LX_NO_OFFSET || o.aux_name == LX_NO_OFFSET ||
        o.aux_id == LX_NO_OFFSET || idr_rt == LX_NO_OFFSET || xa_head == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "eBPF programs: no BTF for bpf_prog/bpf_prog_aux");
    return check_xarray_walk(c, idr + idr_rt + xa_head, MAX_PROGS, "eBPF program IDR", on_prog, &o);
}
