/*
 * check_input.c -- the keylogger's hooks: terminals and input handlers.
 *
 * Every table below has a home: the module whose memory holds it (a tty
 * line discipline, an input handler) or that registered it (a tty driver's
 * owner), or the core kernel. Its code pointers must point into the core
 * kernel's text or into its home module; a pointer elsewhere was patched in
 * (`tty-hook`, `input-hook`, naming the module holding the target):
 *   - tty_ldiscs[]: each registered line discipline (n_tty's receive_buf is
 *     the classic keylogger hook);
 *   - tty_drivers: each driver's tty_operations, whose table must also lie
 *     in the core kernel or in the driver's owner;
 *   - input_handler_list: each input handler (event, filter, connect...).
 * An input handler registered by a module sees every event of the devices
 * it connects to, which is the keylogger technique itself: one whose home
 * is a module is reported (`input-handler`) unless it is an in-tree
 * handler in the module that ships it (evdev in evdev, ...).
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check.h"

#define MAX_LDISCS 64u   /* NR_LDISCS is 31 in 6.1 */
#define MAX_DRIVERS 4096u
#define MAX_HANDLERS 4096u
#define MAX_CODE_SLOTS 48u

static const char *const ldisc_code[] = {
    "open", "close", "flush_buffer", "read", "write", "ioctl", "compat_ioctl",
    "set_termios", "poll", "hangup", "receive_buf", "write_wakeup", "dcd_change",
    "receive_buf2", "lookahead_buf", NULL,
};

static const char *const tty_ops_code[] = {
    "lookup", "install", "remove", "open", "close", "shutdown", "cleanup", "write",
    "put_char", "flush_chars", "write_room", "chars_in_buffer", "ioctl", "compat_ioctl",
    "set_termios", "throttle", "unthrottle", "stop", "start", "hangup", "break_ctl",
    "flush_buffer", "set_ldisc", "wait_until_sent", "send_xchar", "tiocmget", "tiocmset",
    "resize", "get_icount", "get_serial", "set_serial", "show_fdinfo", "poll_init",
    "poll_get_char", "poll_put_char", "proc_show", NULL,
};

static const char *const handler_code[] = {
    "event", "events", "filter", "match", "connect", "disconnect", "start", NULL,
};

/* In-tree input handlers built as modules: handler name, its module. */
static const struct {
    const char *handler, *module;
} known_handlers[] = {
    {"evdev", "evdev"},       {"joydev", "joydev"},         {"mousedev", "mousedev"},
    {"leds", "input_leds"},   {"rfkill", "rfkill"},         {"apm-power", "apm_power"},
    {"mac_hid_emumouse", "mac_hid"}, {"kgdboc_reset", "kgdboc"},
};

/* A table's home: its module's core memory, or none for the core kernel. */
struct home {
    const char *name; /* NULL: the core kernel */
    uint64_t base, size;
};

static struct home home_from(const struct check_owner *w)
{
    struct home h = {0};
    if (w) {
        h.name = w->name;
        h.base = w->base;
        h.size = w->size;
    }
    return h;
}

static struct home home_of_addr(struct check_ctx *c, uint64_t addr)
{
    return home_from(check_owner_at(c, addr));
}

static struct home home_of_module(struct check_ctx *c, uint64_t module)
{
    if (!module)
        return home_from(NULL);
    const struct check_owner *w = check_owner_by_module(c, module);
    if (w)
        return home_from(w);
    /* an owner no view knows: nothing is at home there but the core text */
    return (struct home){.name = "?"};
}

static bool at_home(const struct check_ctx *c, const struct home *h, uint64_t addr)
{
    return check_in_core_text(c, addr) ||
           (h->name && h->size && addr >= h->base && addr - h->base < h->size);
}

/* Judge the code pointers @names of the struct @type at @table, whose
 * home is @h; @what names the table in a finding. */
static int judge_code(struct check_ctx *c, const char *technique, const char *type,
                      const char *const *names, uint64_t table, const struct home *h,
                      const char *what)
{
    for (unsigned i = 0; names[i] && i < MAX_CODE_SLOTS; i++) {
        uint64_t off = check_off(c, type, names[i]), fn;
        if (off == LX_NO_OFFSET)
            continue; /* not in this kernel's struct */
        if (lx_ptr(c->xa, table + off, &fn) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "%s at 0x%llx unreadable", what,
                                 (unsigned long long)table);
        if (!fn || at_home(c, h, fn))
            continue;
        char where[128];
        check_describe(c, fn, where, sizeof(where));
        const char *owner = check_owner_of(c, fn);
        int rc = check_report(c, technique, owner ? owner : "", -1, fn,
                              "%s .%s -> %s, outside %s%s%s", what, names[i], where,
                              h->name ? "its module " : "the kernel's text",
                              h->name ? h->name : "", h->name ? " and the kernel's text" : "");
        if (rc)
            return rc;
    }
    return 0;
}

/* Every registered line discipline: tty_ldiscs[], up to the next symbol. */
static int check_ldiscs(struct check_ctx *c)
{
    uint64_t table = check_sym(c, "tty_ldiscs");
    if (!table)
        return 0; /* no tty layer */
    const struct linux_symtab *t = &linux_os(c->xa)->syms;
    uint64_t word = lx_ptr_size(c->xa); /* an array of pointers */
    for (unsigned i = 0; i < MAX_LDISCS; i++) {
        const char *name;
        uint64_t off, ops;
        if (symtab_at(t, table + word * i, &name, &off) < 0 || off != word * i ||
            strcmp(name, "tty_ldiscs") != 0)
            break;
        if (lx_ptr(c->xa, table + word * i, &ops) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "tty_ldiscs[%u] unreadable", i);
        if (!ops)
            continue;
        if (!lx_kptr(c->xa, ops))
            return xa__set_error(c->xa, XA_EBADDATA, "tty_ldiscs[%u]: bad pointer 0x%llx", i,
                                 (unsigned long long)ops);
        struct home h = home_of_addr(c, ops);
        char what[64];
        snprintf(what, sizeof(what), "line discipline %u (tty_ldiscs[%u])", i, i);
        int rc = judge_code(c, "tty-hook", "tty_ldisc_ops", ldisc_code, ops, &h, what);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every tty driver: its operations table and their code, at home in the
 * core kernel or in the driver's owner. */
static int check_tty_drivers(struct check_ctx *c)
{
    uint64_t head = check_sym(c, "tty_drivers");
    uint64_t link = check_off(c, "tty_driver", "tty_drivers");
    uint64_t ops_off = check_off(c, "tty_driver", "ops");
    uint64_t owner_off = check_off(c, "tty_driver", "owner");
    uint64_t name_off = check_off(c, "tty_driver", "name");
    if (!head)
        return 0;
    if (link == LX_NO_OFFSET || ops_off == LX_NO_OFFSET || owner_off == LX_NO_OFFSET ||
        name_off == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "tty drivers: no BTF for struct tty_driver");
    struct lx_list_walk w;
    lx_list_init(&w, head, MAX_DRIVERS, "tty driver list");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t drv = node - link, ops, owner, name_ptr;
        char name[32] = "";
        if (lx_ptr(c->xa, drv + ops_off, &ops) < 0 || lx_ptr(c->xa, drv + owner_off, &owner) < 0 ||
            lx_ptr(c->xa, drv + name_off, &name_ptr) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "tty driver 0x%llx unreadable",
                               (unsigned long long)drv);
            break;
        }
        if (lx_kptr(c->xa, name_ptr) && lx_read(c->xa, name_ptr, name, sizeof(name) - 1) == 0)
            name[sizeof(name) - 1] = '\0';
        else
            name[0] = '\0';
        if (!ops)
            continue;
        if (!lx_kptr(c->xa, ops)) {
            rc = xa__set_error(c->xa, XA_EBADDATA, "tty driver 0x%llx: bad ops 0x%llx",
                               (unsigned long long)drv, (unsigned long long)ops);
            break;
        }
        struct home h = home_of_module(c, owner);
        const char *holder = check_owner_of(c, ops);
        char what[96];
        snprintf(what, sizeof(what), "tty driver %s's tty_operations", name);
        if (holder && (!h.name || strcmp(holder, h.name) != 0)) {
            char where[128];
            check_describe(c, ops, where, sizeof(where));
            rc = check_report(c, "tty-hook", holder, -1, ops,
                              "tty driver %s (0x%llx) uses the tty_operations at %s, outside "
                              "%s%s", name, (unsigned long long)drv, where,
                              h.name ? "its owner " : "the kernel", h.name ? h.name : "");
            if (rc)
                break;
            h = home_of_addr(c, ops); /* judge its code against where it is */
        }
        rc = judge_code(c, "tty-hook", "tty_operations", tty_ops_code, ops, &h, what);
        if (rc)
            break;
    }
    lx_list_free(&w);
    return rc;
}

static bool known_handler(const char *handler, const char *module)
{
    for (size_t i = 0; i < sizeof(known_handlers) / sizeof(known_handlers[0]); i++)
        if (strcmp(known_handlers[i].handler, handler) == 0 &&
            strcmp(known_handlers[i].module, module) == 0)
            return true;
    return false;
}

static int check_input_handlers(struct check_ctx *c)
{
    uint64_t head = check_sym(c, "input_handler_list");
    uint64_t link = check_off(c, "input_handler", "node");
    uint64_t name_off = check_off(c, "input_handler", "name");
    if (!head)
        return 0; /* no input layer */
    if (link == LX_NO_OFFSET || name_off == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "input handlers: no BTF for struct input_handler");
    struct lx_list_walk w;
    lx_list_init(&w, head, MAX_HANDLERS, "input handler list");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t handler = node - link, name_ptr;
        char name[32];
        if (lx_ptr(c->xa, handler + name_off, &name_ptr) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "input handler 0x%llx unreadable",
                               (unsigned long long)handler);
            break;
        }
        if (lx_kptr(c->xa, name_ptr) && lx_read(c->xa, name_ptr, name, sizeof(name) - 1) == 0)
            name[sizeof(name) - 1] = '\0';
        else
            snprintf(name, sizeof(name), "?");
        struct home h = home_of_addr(c, handler);
        char what[96];
        snprintf(what, sizeof(what), "input handler \"%s\"", name);
        rc = judge_code(c, "input-hook", "input_handler", handler_code, handler, &h, what);
        if (rc == 0 && h.name && !known_handler(name, h.name))
            rc = check_report(c, "input-handler", h.name, -1, handler,
                              "input handler \"%s\" (0x%llx) of module %s sees the events of "
                              "every device it connects to; not an in-tree handler of that "
                              "module",
                              name, (unsigned long long)handler, h.name);
        if (rc)
            break;
    }
    lx_list_free(&w);
    return rc;
}

int check_terminals(struct check_ctx *c)
{
    int rc = check_ldiscs(c);
    if (rc == 0)
        rc = check_tty_drivers(c);
    if (rc == 0)
        rc = check_input_handlers(c);
    return rc;
}
