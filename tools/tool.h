/*
 * tool.h -- what every xa-* command shares: one option parser (strict
 * numbers), opening the target, one-line errors, escaped text and JSON
 * lines. Tools use only the public API.
 */
#ifndef XA_TOOL_H
#define XA_TOOL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "escape.h"
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

/* Print "PROG: message" (escaped, one line) to stderr and exit with @code. */
_Noreturn void tool_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Program name for messages, set by tool_init(). */
extern const char *tool_name;

/* The arguments of one typical call, shown by --help (set before tool_parse). */
extern const char *tool_example;
/* The exit codes --help lists, when the tool has its own (NULL: the usual). */
extern const char *tool_exit_codes;
void tool_init(const char *argv0);

/*
 * A tool's own options, as a table ending with {0}. The parser fills @dest
 * and sets @seen; an option given twice is a usage error (but OPT_LIST).
 *   OPT_FLAG     bool *dest
 *   OPT_STRING   const char **dest
 *   OPT_UINT     uint64_t *dest: decimal or 0x hex, no sign, no spaces, no
 *                junk, within [min, max]
 *   OPT_SECONDS  double *dest: digits with an optional fraction ("0.5"),
 *                more than 0 and at most max
 * Values may follow as the next argument or after '=' (--pid=42).
 */
/*   OPT_SIZE     uint64_t *dest: bytes, a whole number with an optional K, M
 *                or G suffix, within [min, max]
 *   OPT_LIST     struct tool_list *dest: may be given many times; each value
 *                is kept with the option's @min as its tag */
enum tool_opt_kind { OPT_FLAG, OPT_STRING, OPT_UINT, OPT_SECONDS, OPT_SIZE, OPT_LIST };

#define TOOL_LIST_MAX 64
struct tool_list {
    const char *value[TOOL_LIST_MAX];
    uint64_t tag[TOOL_LIST_MAX];
    int n;
};
struct tool_opt {
    const char *name; /* "--pid" */
    enum tool_opt_kind kind;
    void *dest;
    const char *arg;  /* what the value is, for messages and help: "PID" */
    const char *help;
    uint64_t min, max;
    bool seen;
};

/*
 * What the tool takes besides its own options: the common options it
 * accepts (--help and --version always) and the help line for its target.
 * Memory tools keep the defaults; the disk tools set these before parsing.
 */
enum { TOOL_COMMON_JSON = 1u << 0, TOOL_COMMON_KERNEL = 1u << 1 /* --sysmap, --btf */ };
extern unsigned tool_common;
extern const char *tool_targets;

/* Largest pid Linux can have is 2^22; any int32 >= 0 is accepted and looked up. */
#define TOOL_PID_MAX ((uint64_t)INT32_MAX)

/*
 * Parse the command line: the common options (--json, --sysmap F, --btf F,
 * -h/--help, --version), then @extra (may be NULL). Positional arguments go
 * to @pos (at most @maxpos; the first is the target, required). Any problem
 * is a one-line usage error (exit 2). Returns the number of positionals.
 */
int tool_parse(int argc, char **argv, struct tool_opts *o, struct tool_opt *extra,
               const char **pos, int maxpos, const char *usage);

/* Strictly parse a number (decimal or 0x hex): 0, or -1 when @s is not one. */
int tool_strtou64(const char *s, uint64_t *out);

/* Parse a number or exit 2 naming @what. */
uint64_t tool_parse_u64(const char *s, const char *what);

/* Open the target or die with a clear line. Requires the OS layer unless no_os. */
struct xa_instance *tool_open(const struct tool_opts *o);

/*
 * Guest bytes for text output, escaped as escape.h says (@flags: ESC_SPACE
 * for a field that is not last on its line). The result lives in one of
 * four rotating buffers: valid until the fourth call after.
 */
const char *tool_text(const char *s, unsigned flags);

/* Add "key": "0x..." (addresses are hex strings in every tool's JSON). */
void tool_json_hex(json_object *obj, const char *key, uint64_t value);

/*
 * Add "key": a string of bytes the guest (or anyone) chose: valid UTF-8
 * always; when @s is not valid UTF-8, invalid parts become U+FFFD and
 * "key_hex" holds the raw bytes in hex.
 */
void tool_json_str(json_object *obj, const char *key, const char *s);

/* Print a JSON object as one line and free it. */
void tool_json_line(json_object *obj);

/*
 * A walk over guest data stopped early with @rc: say so on stderr
 * ("WHAT: error") and, with --json, as a last line
 * {"partial": true, "error": "...", "code": rc}. Returns TOOL_PARTIAL.
 */
int tool_partial(struct xa_instance *xa, int rc, bool json, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with the message given (one saved before later calls replaced it). */
int tool_partial_msg(int rc, bool json, const char *what, const char *msg);

/*
 * A listing's rows. The text header comes with the first row (or at the
 * end of a list that is whole and empty), so a walk that fails before its
 * first row prints nothing on stdout and is one error line, exit 1; only a
 * list with rows printed is partial (exit 3).
 */
struct tool_rows {
    bool json;
    char header[256]; /* text output's header line; "" for none */
    size_t n;         /* rows printed so far */
};
/* @header_fmt: the header (printf format, without '\n'), or NULL for none. */
void tool_rows_init(struct tool_rows *r, bool json, const char *header_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Call before printing each row. */
void tool_row(struct tool_rows *r);
/*
 * The walk ended with @rc. rc < 0 before any row: "TARGET: error", exit 1
 * (does not return). rc < 0 after rows: tool_partial() with @fmt (which
 * says how far it got). Otherwise the header of an empty list, TOOL_OK.
 */
int tool_rows_end(struct tool_rows *r, struct xa_instance *xa, int rc, const char *target,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with the walk's message given (saved before later calls replaced it). */
int tool_rows_end_msg(struct tool_rows *r, int rc, const char *target, const char *msg,
                      const char *what);

/* @msg about process @pid, as "pid N: msg", or @msg itself when it names
 * the pid already (the library's "no process with pid N"): said once. The
 * result may live in a static buffer, valid until the next call. */
const char *tool_about_pid(int32_t pid, const char *msg);

#endif /* XA_TOOL_H */
