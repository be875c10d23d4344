/* tool.c -- shared code of the xa-* commands. */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *tool_name = "xa";
const char *tool_example;
const char *tool_exit_codes;
unsigned tool_common = TOOL_COMMON_JSON | TOOL_COMMON_KERNEL;
const char *tool_targets = "file:PATH (raw image or ELF core), qemu:QMP_SOCKET, xen:DOMAIN, "
                           "libvirt:NAME[?uri=URI]";

/* Output that could not be written is an error, not a silent exit 0. */
static void check_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the output: %s\n", tool_name, strerror(errno));
        _exit(TOOL_ERR);
    }
}

void tool_init(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    tool_name = slash ? slash + 1 : argv0;
    atexit(check_stdout);
}

/* Messages can carry guest bytes (names in library errors): escape them,
 * so that a message stays one line and cannot drive the terminal. */
__attribute__((format(printf, 1, 0))) static void vwarn(const char *fmt, va_list ap)
{
    char msg[1024], safe[ESC_TEXT_SIZE(1024)];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    esc_text(safe, sizeof(safe), msg, strlen(msg), 0);
    fprintf(stderr, "%s: %s\n", tool_name, safe);
}

void tool_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    exit(code);
}

void tool_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

int tool_strtou64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1; /* would overflow */
        v = v * base + d;
    }
    *out = v;
    return 0;
}

uint64_t tool_parse_u64(const char *s, const char *what)
{
    uint64_t v;
    if (tool_strtou64(s, &v) < 0)
        tool_die(TOOL_USAGE, "bad %s '%s' (a number, decimal or 0x hex)", what, s);
    return v;
}

/* "12", "0.25", "3." : no sign, exponent, hex, inf or nan. */
static int parse_seconds(const char *s, double *out)
{
    size_t digits = strspn(s, "0123456789");
    const char *rest = s + digits;
    if (*rest == '.') {
        size_t frac = strspn(rest + 1, "0123456789");
        digits += frac;
        rest += 1 + frac;
    }
    if (digits == 0 || *rest != '\0')
        return -1;
    *out = strtod(s, NULL);
    return 0;
}

/* "4096", "64M", "1G": bytes, no sign, no spaces. */
static int parse_size(const char *s, uint64_t *out)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 19)
        return -1;
    unsigned shift = 0;
    switch (s[digits]) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return -1;
    }
    if (shift && s[digits + 1] != '\0')
        return -1;
    uint64_t v = strtoull(s, NULL, 10);
    if (v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* The common options this tool takes, for its help. */
static bool common_taken(const struct tool_opt *t)
{
    if (!strcmp(t->name, "--json"))
        return tool_common & TOOL_COMMON_JSON;
    if (!strcmp(t->name, "--sysmap") || !strcmp(t->name, "--btf"))
        return tool_common & TOOL_COMMON_KERNEL;
    return true;
}

static const struct tool_opt *common_help_table(void)
{
    static const struct tool_opt common[] = {
        {"--json", OPT_FLAG, NULL, NULL, "one JSON object per line", 0, 0, false},
        {"--sysmap", OPT_STRING, NULL, "FILE", "kernel symbols from a System.map", 0, 0, false},
        {"--btf", OPT_STRING, NULL, "FILE", "kernel types from a BTF file", 0, 0, false},
        {"--help", OPT_FLAG, NULL, NULL, "this help", 0, 0, false},
        {"--version", OPT_FLAG, NULL, NULL, "the version", 0, 0, false},
        {0},
    };
    return common;
}

static void print_opts(const struct tool_opt *t, bool common)
{
    for (; t && t->name; t++) {
        if (common && !common_taken(t))
            continue;
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", t->name, t->arg ? " " : "", t->arg ? t->arg : "");
        printf("  %-18s %s\n", left, t->help ? t->help : "");
    }
}

static _Noreturn void help(const char *usage, const struct tool_opt *extra)
{
    printf("usage: %s %s\n", tool_name, usage);
    printf("TARGET: %s\n", tool_targets);
    if (extra && extra->name) {
        printf("options:\n");
        print_opts(extra, false);
    }
    printf("common options:\n");
    print_opts(common_help_table(), true);
    if (tool_exit_codes)
        printf("exit codes: %s\n", tool_exit_codes);
    else if (tool_common & TOOL_COMMON_KERNEL)
        printf("exit codes: 0 fine, 1 error, 2 usage, 3 partial result (a walk over guest data "
               "stopped early)\n");
    else
        printf("exit codes: 0 fine, 1 error, 2 usage\n");
    if (tool_example)
        printf("example: %s %s\n", tool_name, tool_example);
    printf("more: man %s, man xenaccess-targets\n", tool_name);
    exit(TOOL_OK);
}

__attribute__((format(printf, 2, 3))) static _Noreturn void usage_error(const char *usage,
                                                                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tool_die(TOOL_USAGE, "%s (usage: %s %s)", msg, tool_name, usage);
}

/* Store @val into option @t, strictly. */
static void set_value(struct tool_opt *t, const char *val, const char *usage)
{
    if (t->kind == OPT_STRING) {
        if (val[0] == '\0')
            usage_error(usage, "%s needs a non-empty %s", t->name, t->arg ? t->arg : "value");
        *(const char **)t->dest = val;
    } else if (t->kind == OPT_UINT) {
        uint64_t v;
        if (tool_strtou64(val, &v) < 0 || v < t->min || v > t->max)
            tool_die(TOOL_USAGE, "bad %s '%s': give a whole number from %" PRIu64 " to %" PRIu64
                     " (decimal or 0x hex)", t->name, val, t->min, t->max);
        *(uint64_t *)t->dest = v;
    } else if (t->kind == OPT_SIZE) {
        uint64_t v;
        if (parse_size(val, &v) < 0 || v < t->min || v > t->max)
            tool_die(TOOL_USAGE, "bad %s '%s': give bytes from %" PRIu64 " to %" PRIu64
                     " (a whole number, K, M or G after it)", t->name, val, t->min, t->max);
        *(uint64_t *)t->dest = v;
    } else if (t->kind == OPT_LIST) {
        struct tool_list *l = t->dest;
        if (val[0] == '\0')
            usage_error(usage, "%s needs a non-empty %s", t->name, t->arg ? t->arg : "value");
        if (l->n == TOOL_LIST_MAX)
            usage_error(usage, "%s given more than %d times", t->name, TOOL_LIST_MAX);
        l->value[l->n] = val;
        l->tag[l->n++] = t->min;
    } else { /* OPT_SECONDS */
        double v;
        if (parse_seconds(val, &v) < 0 || !(v > 0) || v > (double)t->max)
            tool_die(TOOL_USAGE, "bad %s '%s': give seconds, more than 0 and at most %" PRIu64
                     " (like 2 or 0.5)", t->name, val, t->max);
        *(double *)t->dest = v;
    }
}

int tool_parse(int argc, char **argv, struct tool_opts *o, struct tool_opt *extra,
               const char **pos, int maxpos, const char *usage)
{
    struct tool_opt all_common[] = {
        {"--json", OPT_FLAG, &o->json, NULL, NULL, 0, 0, false},
        {"--sysmap", OPT_STRING, &o->sysmap, "FILE", NULL, 0, 0, false},
        {"--btf", OPT_STRING, &o->btf, "FILE", NULL, 0, 0, false},
        {0},
    };
    struct tool_opt common[4] = {{0}};
    for (size_t i = 0, n = 0; all_common[i].name; i++)
        if (common_taken(&all_common[i]))
            common[n++] = all_common[i];
    int npos = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (npos >= maxpos)
                usage_error(usage, "too many arguments at '%s'", a);
            pos[npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            options_done = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            help(usage, extra);
        if (!strcmp(a, "--version")) {
            printf("%s (xenaccess) %d.%d\n", tool_name, XA_VERSION_MAJOR, XA_VERSION_MINOR);
            exit(TOOL_OK);
        }
        /* --name=value or --name value */
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        struct tool_opt *t = NULL;
        for (struct tool_opt *tab = common; tab; tab = tab == common ? extra : NULL)
            for (struct tool_opt *c = tab; c->name && !t; c++)
                if (strlen(c->name) == nlen && !strncmp(c->name, a, nlen))
                    t = c;
        if (!t) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(nlen < 63 ? nlen : 63), a);
            usage_error(usage, "unknown option %s", name);
        }
        if (t->seen && t->kind != OPT_LIST)
            usage_error(usage, "%s given twice", t->name);
        t->seen = true;
        if (t->kind == OPT_FLAG) {
            if (eq)
                usage_error(usage, "%s takes no value", t->name);
            *(bool *)t->dest = true;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc)
                usage_error(usage, "%s needs %s", t->name, t->arg ? t->arg : "a value");
            val = argv[++i];
        }
        set_value(t, val, usage);
    }
    if (npos == 0)
        usage_error(usage, "no target given");
    o->target = pos[0];
    return npos;
}

const char *tool_text(const char *s, unsigned flags)
{
    /* Large enough for the longest name a tool prints (a path). */
    static char ring[4][ESC_TEXT_SIZE(XA_PATH_MAX)];
    static unsigned next;
    char *out = ring[next++ % 4];
    esc_text(out, sizeof(ring[0]), s, strnlen(s, XA_PATH_MAX), flags);
    return out;
}

void tool_json_hex(json_object *obj, const char *key, uint64_t value)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
    json_object_object_add(obj, key, json_object_new_string(buf));
}

void tool_json_str(json_object *obj, const char *key, const char *s)
{
    size_t n = strlen(s);
    if (utf8_valid(s, n)) {
        json_object_object_add(obj, key, json_object_new_string(s));
        return;
    }
    char *utf = malloc(ESC_UTF8_SIZE(n)), *hex = malloc(ESC_HEX_SIZE(n));
    char *hkey = malloc(strlen(key) + sizeof("_hex"));
    if (!utf || !hex || !hkey)
        tool_die(TOOL_ERR, "out of memory");
    esc_utf8(utf, ESC_UTF8_SIZE(n), s, n);
    esc_hex(hex, ESC_HEX_SIZE(n), s, n);
    strcpy(hkey, key);
    strcat(hkey, "_hex");
    json_object_object_add(obj, key, json_object_new_string(utf));
    json_object_object_add(obj, hkey, json_object_new_string(hex));
    free(utf);
    free(hex);
    free(hkey);
}

void tool_json_line(json_object *obj)
{
    fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
          stdout);
    fputc('\n', stdout);
    json_object_put(obj);
}
