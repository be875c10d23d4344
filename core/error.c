/* error.c -- error codes and per-handle messages. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"

XA_API const char *xa_strerror(int err)
{
    switch (err) {
#define XA__CASE(name, val, text)                                                                  \
    case val:                                                                                      \
        return text;
        XA_ERRNO_MAP(XA__CASE)
#undef XA__CASE
    default:
        return "unknown error";
    }
}

XA_API const char *xa_errmsg(const struct xa_instance *xa)
{
    if (!xa)
        return "no handle";
    return xa->errmsg[0] ? xa->errmsg : "no error";
}

XA_API int xa_errcode(const struct xa_instance *xa)
{
    return xa ? xa->errcode : XA_EINVAL;
}

int xa__set_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    if (xa) {
        xa->errcode = code;
        xa->err_seq++;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(xa->errmsg, sizeof(xa->errmsg), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Sets the code and rebuilds the message from a formatted part and the old
 * message: the part before it (with no old message, before the code's text)
 * or after it. */
XA_PRINTF(4, 0)
static int rewrite_error(struct xa_instance *xa, int code, bool before, const char *fmt, va_list ap)
{
    if (!xa)
        return code;
    xa->errcode = code;
    xa->err_seq++;
    char old[XA_ERRMSG_LEN], part[XA_ERRMSG_LEN];
    memcpy(old, xa->errmsg, sizeof(old));
    vsnprintf(part, sizeof(part), fmt, ap);
    if (before)
        snprintf(xa->errmsg, sizeof(xa->errmsg), "%s: %s", part, old[0] ? old : xa_strerror(code));
    else
        snprintf(xa->errmsg, sizeof(xa->errmsg), "%s%s", old, part);
    return code;
}

int xa__prefix_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = rewrite_error(xa, code, true, fmt, ap);
    va_end(ap);
    return ret;
}

int xa__append_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = rewrite_error(xa, code, false, fmt, ap);
    va_end(ap);
    return ret;
}

void xa__clear_error(struct xa_instance *xa)
{
    if (xa)
        xa->errmsg[0] = '\0';
}

const char *xa__errmsg(const struct xa_instance *xa)
{
    return xa ? xa->errmsg : "";
}
