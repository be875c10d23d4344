/*
 * error.h -- how every layer inside the library reports a failure: a
 * message on the instance, and a negative XA_E* code.  Backends and OS
 * layers see the instance only through these (and their own contracts).
 * Internal, not installed.
 */
#ifndef XA_CORE_ERROR_H
#define XA_CORE_ERROR_H

#include "xenaccess.h"

#if defined(__GNUC__)
#define XA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define XA_PRINTF(a, b)
#endif

#define XA_ERRMSG_LEN 512

struct xa_instance;

/* Errors (core/error.c): a layer reports through these and never writes
 * the instance itself. */
/* Set the handle's message and return @code (negative XA_E*). */
int xa__set_error(struct xa_instance *xa, int code, const char *fmt, ...) XA_PRINTF(3, 4);
/* Prefix the current message: "what: <old message>". Returns @code. */
int xa__prefix_error(struct xa_instance *xa, int code, const char *fmt, ...) XA_PRINTF(3, 4);
/* Append to the current message: "<old message><what>". Returns @code. */
int xa__append_error(struct xa_instance *xa, int code, const char *fmt, ...) XA_PRINTF(3, 4);
/* Forget the message of a failure that was expected and handled (a probe). */
void xa__clear_error(struct xa_instance *xa);
/* The current message ("" when none): to quote it in another. */
const char *xa__errmsg(const struct xa_instance *xa);

#endif /* XA_CORE_ERROR_H */
