/* error.c -- error codes and per-handle messages. */
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

int xa__prefix_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    if (!xa)
        return code;
    xa->errcode = code;
    xa->err_seq++;
    char old[XA_ERRMSG_LEN], prefix[XA_ERRMSG_LEN];
    memcpy(old, xa->errmsg, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (old[0])
        snprintf(xa->errmsg, sizeof(xa->errmsg), "%s: %s", prefix, old);
    else
        snprintf(xa->errmsg, sizeof(xa->errmsg), "%s: %s", prefix, xa_strerror(code));
    return code;
}

int xa__append_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    if (!xa)
        return code;
    xa->errcode = code;
    xa->err_seq++;
    char old[XA_ERRMSG_LEN], what[XA_ERRMSG_LEN];
    memcpy(old, xa->errmsg, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(xa->errmsg, sizeof(xa->errmsg), "%s%s", old, what);
    return code;
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
