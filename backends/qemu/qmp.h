/*
 * qmp.h -- a small synchronous QMP client (QEMU Machine Protocol), for the
 * qemu backend and the backends built on it (libvirt). Commands travel over
 * our own unix socket (qmp_open), or through a transport someone else owns,
 * such as libvirt's monitor passthrough (qmp_open_transport).
 *
 * Every wait is bounded by a timeout; a closed connection turns the client
 * "gone" and every later call fails fast with XA_EGONE. Errors go to the
 * instance's message through xa__set_error().
 */
#ifndef XA_QEMU_QMP_H
#define XA_QEMU_QMP_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

struct xa_instance;

/*
 * A monitor connection owned by someone else. command() sends one QMP
 * command (a JSON object text without "id": the owner adds its own) and
 * returns the whole reply object's text in *reply (malloc'd, caller frees);
 * a QMP error reply is a successful call. On failure it returns a negative
 * XA_E* code after xa__set_error().
 */
struct qmp_transport {
    int (*command)(void *ctx, const char *json, char **reply);
    void *ctx;
};

struct qmp {
    int fd;
    bool gone;
    struct xa_instance *xa;
    const char *path;  /* borrowed socket path, for messages */
    int timeout_ms;    /* per command */
    pid_t peer_pid;    /* QEMU's pid (SO_PEERCRED), 0 if unknown */
    char *buf;         /* received bytes not yet consumed */
    size_t len, cap;
    unsigned long long next_id; /* command ids, to match replies */
    char version[64];  /* "7.2.22" */
    struct qmp_transport transport; /* command == NULL: our own socket */
};

/* Connect to the QMP socket at @path, read the greeting, negotiate
 * capabilities. On failure the struct is left closable by qmp_close(). */
int qmp_open(struct qmp *q, struct xa_instance *xa, const char *path, int timeout_ms);
void qmp_close(struct qmp *q);

/* Use @t instead of a socket; @name names the target in messages (borrowed).
 * Checks the monitor answers (query-version). */
int qmp_open_transport(struct qmp *q, struct xa_instance *xa, const char *name,
                       const struct qmp_transport *t);

/*
 * Run @cmd with @args (may be NULL; not consumed) and return its "return"
 * value in *out (caller puts it with json_object_put()). A QMP error reply
 * gives XA_EIO with QEMU's description.
 */
int qmp_execute(struct qmp *q, const char *cmd, struct json_object *args,
                struct json_object **out);

/* Run a human-monitor command; *out is malloc'd text (caller frees). */
int qmp_hmp(struct qmp *q, const char *cmdline, char **out);

/* The "return" value of a QMP @reply into *out (a new reference), or the
 * reply's error as XA_EIO with its "desc". Pure: unit-tested and fuzzed. */
int qmp_take_reply(struct qmp *q, const char *cmd, struct json_object *reply,
                   struct json_object **out);

#endif /* XA_QEMU_QMP_H */
