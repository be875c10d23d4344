/*
 * test_check.c -- the rootkit checks (include/xenaccess_check.h) on the
 * synthetic guest (synthetic_guest.h) plus the tables they read: a
 * sys_call_table, an IDT, an eBPF program IDR, ftrace_ops_list and
 * kprobe_table, each first clean, then hooked (the finding must name the
 * module holding the hook), then made hostile (loops, bad tree shifts): the
 * check must stop with an error, never loop or crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenaccess.h"
#include "xenaccess_check.h"

#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : "")
static struct xa_instance *cur_xa;
#include "check.h"
#include "synthetic_guest.h"

/* Where the checked tables live in the kernel image. */
#define K_ETEXT 0x80000
#define K_SYSCALLS 0x100000
#define NR_SYSCALLS 8
#define K_IDT 0x101000
#define K_PROG_IDR 0x103000
#define K_FTRACE_LIST 0x103100
#define K_FTRACE_END 0x103200
#define K_KPROBES 0x104000
#define MOD_E1000 0xffffffffc0000000ULL /* the synthetic modules' code */
#define MOD_EXT4 0xffffffffc0100000ULL

/* Layouts told through BTF. */
#define XN_SHIFT 0
#define XN_SLOTS 0x28
#define BP_TYPE 4
#define BP_AUX 0x38
#define BA_ID 0x10
#define BA_NAME 0x100
#define FO_FUNC 0
#define FO_NEXT 8
#define FO_FLAGS 16
#define KP_ADDR 40
#define KP_PRE 56
#define KP_POST 64

static char img_path[] = "/tmp/xa-test-check-img-XXXXXX";
static char map_path[] = "/tmp/xa-test-check-map-XXXXXX";
static char btf_path[] = "/tmp/xa-test-check-btf-XXXXXX";
static char target[128];

static void write_file(char *tmpl, const void *data, size_t len)
{
    int fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

/* The synthetic guest's BTF plus the check structures. */
static void *check_btf(uint32_t *size)
{
    uint32_t base_size;
    void *base = build_btf(&base_size);
    struct btf *b = btf__new(base, base_size);
    if (!b)
        abort();
    int t_int = btf__find_by_name(b, "int"), t_uint = btf__find_by_name(b, "unsigned int");
    int t_char = btf__find_by_name(b, "char"), t_uchar = btf__find_by_name(b, "unsigned char");
    int t_ulong = btf__find_by_name(b, "long unsigned int");
    int t_ptr = btf__add_ptr(b, 0);
    int a_slots = btf__add_array(b, t_int, t_ptr, 64);
    int a_name = btf__add_array(b, t_int, t_char, 16);
    btf__add_struct(b, "xa_node", XN_SLOTS + 64 * 8);
    btf__add_field(b, "shift", t_uchar, XN_SHIFT * 8, 0);
    btf__add_field(b, "slots", a_slots, XN_SLOTS * 8, 0);
    int s_xarray = btf__add_struct(b, "xarray", 16);
    btf__add_field(b, "xa_head", t_ptr, 64, 0);
    btf__add_struct(b, "idr", 24);
    btf__add_field(b, "idr_rt", s_xarray, 0, 0);
    btf__add_struct(b, "bpf_prog", 0x100);
    btf__add_field(b, "type", t_uint, BP_TYPE * 8, 0);
    btf__add_field(b, "aux", t_ptr, BP_AUX * 8, 0);
    btf__add_struct(b, "bpf_prog_aux", 0x200);
    btf__add_field(b, "id", t_uint, BA_ID * 8, 0);
    btf__add_field(b, "name", a_name, BA_NAME * 8, 0);
    btf__add_struct(b, "ftrace_ops", 0x100);
    btf__add_field(b, "func", t_ptr, FO_FUNC * 8, 0);
    btf__add_field(b, "next", t_ptr, FO_NEXT * 8, 0);
    btf__add_field(b, "flags", t_ulong, FO_FLAGS * 8, 0);
    int s_list = btf__find_by_name(b, "list_head");
    btf__add_struct(b, "kprobe", 96);
    btf__add_field(b, "hlist", t_ptr, 0, 0); /* hlist_node: next first */
    btf__add_field(b, "list", s_list, 16 * 8, 0);
    btf__add_field(b, "addr", t_ptr, KP_ADDR * 8, 0);
    btf__add_field(b, "pre_handler", t_ptr, KP_PRE * 8, 0);
    btf__add_field(b, "post_handler", t_ptr, KP_POST * 8, 0);
    (void)t_int;
    const void *raw = btf__raw_data(b, size);
    void *copy = malloc(*size);
    memcpy(copy, raw, *size);
    btf__free(b);
    free(base);
    return copy;
}

static void write_map(void)
{
    char text[8192];
    int n = guest_sysmap_text(text, sizeof(text));
    static const struct {
        uint64_t off;
        char type;
        const char *name;
    } syms[] = {
        {0, 'T', "_stext"},
        {K_ETEXT, 'T', "_etext"},
        {K_SYSCALLS, 'R', "sys_call_table"},
        {K_SYSCALLS + NR_SYSCALLS * 8, 'R', "after_sys_call_table"},
        {K_IDT, 'D', "idt_table"},
        {K_IDT + 0x1000, 'D', "after_idt_table"},
        {K_PROG_IDR, 'd', "prog_idr"},
        {K_FTRACE_LIST, 'D', "ftrace_ops_list"},
        {K_FTRACE_END, 'D', "ftrace_list_end"},
        {K_KPROBES, 'd', "kprobe_table"},
    };
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx %c %s\n",
                      (unsigned long long)(KLINK + syms[i].off), syms[i].type, syms[i].name);
    write_file(map_path, text, (size_t)n);
}

static void set_gate(unsigned v, uint64_t handler)
{
    uint64_t g = kpa(K_IDT) + 16u * v;
    uint16_t lo = (uint16_t)handler, mid = (uint16_t)(handler >> 16), bits = 0x8e00;
    uint32_t hi = (uint32_t)(handler >> 32);
    memcpy(img + g, &lo, 2);
    memcpy(img + g + 4, &bits, 2);
    memcpy(img + g + 6, &mid, 2);
    memcpy(img + g + 8, &hi, 4);
}

/* A clean kernel: every table entry in the text, nothing registered. */
static void build_clean(void *btf, uint32_t btf_size)
{
    build_guest(false, btf, btf_size);
    for (int i = 0; i < NR_SYSCALLS; i++)
        put64(kpa(K_SYSCALLS) + 8u * i, kva(0x1000 + 0x10u * i));
    set_gate(0, kva(0x2000));
    put64(kpa(K_FTRACE_LIST), kva(K_FTRACE_END));
}

static struct xa_instance *open_guest(void)
{
    FILE *f = fopen(img_path, "wb");
    if (!f || fwrite(img, 1, IMG_SIZE, f) != IMG_SIZE)
        abort();
    fclose(f);
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = map_path;
    o.btf = btf_path;
    struct xa_instance *xa = NULL;
    int rc = xa_init_opts(&o, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "open: %s\n", xa_last_init_error());
    return cur_xa = xa;
}

struct seen {
    int n;
    struct xa_finding last;
};

static int collect(const struct xa_finding *f, void *ctx)
{
    struct seen *s = ctx;
    s->n++;
    s->last = *f;
    return 0;
}

/* Run @check on the image as it is now: its return, the findings in @s. */
static int run(enum xa_check check, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    struct xa_instance *xa = open_guest();
    if (!xa)
        return -1000;
    int rc = xa_check_run(xa, check, collect, s);
    if (rc < 0)
        fprintf(stderr, "  (%s: %s)\n", xa_check_name(check), xa_errmsg(xa));
    xa_destroy(xa);
    cur_xa = NULL;
    return rc;
}

static void test_clean(void)
{
    struct seen s;
    for (int k = XA_CHECK_SYSCALLS; k <= XA_CHECK_BPF; k++) {
        CHECK_EQ(run((enum xa_check)k, &s), 0);
        CHECK_EQ(s.n, 0);
    }
    /* no BTF for the task and module cross views: cannot run, says so */
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_ENOTSUP);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), XA_ENOTSUP);
}

static void test_tables(void)
{
    struct seen s;
    put64(kpa(K_SYSCALLS) + 8 * 3, MOD_E1000 + 0x10);
    CHECK_EQ(run(XA_CHECK_SYSCALLS, &s), 1);
    CHECK(strcmp(s.last.culprit, "e1000") == 0 && strcmp(s.last.technique, "syscall-hook") == 0);
    CHECK(strstr(s.last.detail, "sys_call_table[3] -> [e1000]+0x10") != NULL, "%s", s.last.detail);
    /* into memory no module owns: still a hook, culprit unknown */
    put64(kpa(K_SYSCALLS) + 8 * 5, 0xffffffffc0900000ULL);
    CHECK_EQ(run(XA_CHECK_SYSCALLS, &s), 2);
    CHECK(s.last.culprit[0] == '\0' && s.last.addr == 0xffffffffc0900000ULL);

    set_gate(3, MOD_EXT4 + 0x40);
    CHECK_EQ(run(XA_CHECK_IDT, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && strstr(s.last.detail, "vector 3") != NULL);
}

static uint64_t make_prog(const char *name, uint32_t type)
{
    uint64_t prog = galloc(0x100, 64), aux = galloc(0x200, 64);
    vput32(prog + BP_TYPE, type);
    vput64(prog + BP_AUX, aux);
    vput32(aux + BA_ID, 7);
    strcpy((char *)img + pa_of(aux + BA_NAME), name);
    return prog;
}

static void test_bpf(void *btf, uint32_t btf_size)
{
    struct seen s;
    /* one program at index 1: a leaf node under the root */
    build_clean(btf, btf_size);
    uint64_t node = galloc(XN_SLOTS + 64 * 8, 64);
    vput64(node + XN_SLOTS + 8, make_prog("evil", 2));
    put64(kpa(K_PROG_IDR) + 8, node | 2);
    CHECK_EQ(run(XA_CHECK_BPF, &s), 1);
    CHECK(strcmp(s.last.culprit, "evil") == 0 && strstr(s.last.detail, "type kprobe") != NULL,
          "%s", s.last.detail);
    /* two levels: a root of shift 6 over the leaf */
    uint64_t root = galloc(XN_SLOTS + 64 * 8, 64);
    img[pa_of(root + XN_SHIFT)] = 6;
    vput64(root + XN_SLOTS + 8 * 2, node | 2);
    put64(kpa(K_PROG_IDR) + 8, root | 2);
    CHECK_EQ(run(XA_CHECK_BPF, &s), 1);
    /* hostile: the leaf points back at the root (a cycle), the root
     * claims an impossible shift, a leaf holds a node */
    vput64(node + XN_SLOTS, root | 2);
    CHECK(run(XA_CHECK_BPF, &s) < 0);
    vput64(node + XN_SLOTS, 0);
    img[pa_of(root + XN_SHIFT)] = 7;
    CHECK_EQ(run(XA_CHECK_BPF, &s), XA_EBADDATA);
    img[pa_of(root + XN_SHIFT)] = 6;
    vput64(root + XN_SLOTS + 8 * 3, root | 2); /* the root under itself */
    CHECK_EQ(run(XA_CHECK_BPF, &s), XA_EBADDATA);
    /* a self-similar chain as deep as it likes: every level must fall by 6 */
    for (int i = 0; i < 64; i++)
        vput64(root + XN_SLOTS + 8 * (uint64_t)i, root | 2);
    CHECK(run(XA_CHECK_BPF, &s) < 0);
}

static void test_ftrace(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t ops = galloc(0x100, 64), core = galloc(0x100, 64);
    vput64(core + FO_FUNC, kva(0x3000)); /* a kernel tracer: not a finding */
    vput64(core + FO_NEXT, ops);
    vput64(ops + FO_FUNC, MOD_EXT4 + 0x20);
    vput64(ops + FO_FLAGS, 1u << 12);
    vput64(ops + FO_NEXT, kva(K_FTRACE_END));
    put64(kpa(K_FTRACE_LIST), core);
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && strstr(s.last.detail, "IPMODIFY") != NULL);
    vput64(ops + FO_NEXT, core); /* a loop that never reaches the end */
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), XA_ELIMIT);
    vput64(ops + FO_NEXT, 0x1234); /* not a kernel pointer */
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), XA_EBADDATA);
}

static void test_kprobes(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t kp = galloc(96, 64);
    vput64(kp + KP_ADDR, kva(0x1010));
    vput64(kp + KP_PRE, MOD_E1000 + 0x80);
    put64(kpa(K_KPROBES) + 8 * 5, kp);
    CHECK_EQ(run(XA_CHECK_KPROBES, &s), 1);
    CHECK(strcmp(s.last.culprit, "e1000") == 0 && strcmp(s.last.technique, "kprobe") == 0);
    vput64(kp, kp); /* the chain loops */
    CHECK_EQ(run(XA_CHECK_KPROBES, &s), XA_EBADDATA);
}

static int stop_at_first(const struct xa_finding *f, void *ctx)
{
    (void)f;
    (void)ctx;
    return 42;
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    uint32_t btf_size;
    void *btf = check_btf(&btf_size);
    if (!img || !btf) {
        fprintf(stderr, "cannot build the synthetic guest\n");
        return 1;
    }
    int fd = mkstemp(img_path);
    close(fd);
    snprintf(target, sizeof(target), "file:%s", img_path);
    write_file(btf_path, btf, btf_size);
    write_map();

    build_clean(btf, btf_size);
    test_clean();
    test_tables();
    /* the callback's answer stops a check and is its return */
    struct xa_instance *xa = open_guest();
    if (xa) {
        CHECK_EQ(xa_check_run(xa, XA_CHECK_SYSCALLS, stop_at_first, NULL), 42);
        CHECK_EQ(xa_check_run(xa, (enum xa_check)0, collect, NULL), XA_EINVAL);
        CHECK_EQ(xa_check_run(xa, XA_CHECK_COUNT, collect, NULL), XA_EINVAL);
        CHECK_EQ(xa_check_run(xa, XA_CHECK_IDT, NULL, NULL), XA_EINVAL);
        xa_destroy(xa);
        cur_xa = NULL;
    }
    CHECK(xa_check_name(XA_CHECK_USER) && strcmp(xa_check_name(XA_CHECK_USER), "user") == 0);
    CHECK(xa_check_name(XA_CHECK_COUNT) == NULL);
    test_bpf(btf, btf_size);
    test_ftrace(btf, btf_size);
    test_kprobes(btf, btf_size);

    unlink(img_path);
    unlink(map_path);
    unlink(btf_path);
    free(btf);
    free(img);
    CHECK_DONE();
}
