/*
 * tool.h -- what every xa-* command shares: option parsing for the target,
 * opening it, one-line errors, JSON lines. Tools use only the public API.
 */
#ifndef XA_TOOL_H
#define XA_TOOL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xenaccess.h"

struct tool_opts {
    const char *target;
    const char *sysmap;
    const char *btf;
    bool json;
    bool write;
    bool no_os;
};

/* Exit codes: 0 fine, 1 error, 2 usage, 3 partial result (a walk stopped early). */
enum { TOOL_OK = 0, TOOL_ERR = 1, TOOL_USAGE = 2, TOOL_PARTIAL = 3 };

/* Print "PROG: message" to stderr and exit with @code. */
_Noreturn void tool_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Program name for messages, set by tool_init(). */
extern const char *tool_name;
void tool_init(const char *argv0);

/*
 * Parse the options every tool takes (--json, --sysmap F, --btf F, --write,
 * -h); other options go to @extra (return its 1 if consumed: *i advanced for
 * arguments). Positional arguments are returned in @pos (up to @maxpos).
 */
typedef int (*tool_extra_fn)(int argc, char **argv, int *i, void *ctx);
int tool_parse(int argc, char **argv, struct tool_opts *o, tool_extra_fn extra, void *ctx,
               const char **pos, int maxpos, const char *usage);

/* Open the target or die with a clear line. Requires the OS layer unless no_os. */
struct xa_instance *tool_open(const struct tool_opts *o);

/* Parse a number (decimal or 0x hex) or die naming @what. */
uint64_t tool_parse_u64(const char *s, const char *what);

/* Add "key": "0x..." (addresses are hex strings in every tool's JSON). */
void tool_json_hex(json_object *obj, const char *key, uint64_t value);

/* Print a JSON object as one line and free it. */
void tool_json_line(json_object *obj);

#endif /* XA_TOOL_H */
