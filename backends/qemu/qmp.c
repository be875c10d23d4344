/*
 * qmp.c -- synchronous QMP client over a unix socket, or over a transport
 * owned by someone else (libvirt's passthrough: see qmp.h).
 *
 * QMP is one JSON object per line. We send {"execute", "arguments", "id"}
 * and read lines until the reply carrying our id, skipping asynchronous
 * events and late replies to earlier commands that timed out. The socket is
 * non-blocking and every wait goes through poll() with a deadline, so a
 * stuck or silent peer costs at most the timeout, never a hang. send() uses
 * MSG_NOSIGNAL: a QEMU that quits gives XA_EGONE, not SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/qemu/qmp.h"

/* A reply larger than this is not something we asked for. */
#define QMP_MAX_LINE (64u << 20)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    return left < 0 ? 0 : (int)left;
}

static int gone(struct qmp *q, const char *why)
{
    q->gone = true;
    return xa__set_error(q->xa, XA_EGONE, "%s: QEMU went away (%s)", q->path, why);
}

/* Wait for @events on the socket until @deadline: 1 ready, 0 timed out, <0 error. */
static int wait_fd(struct qmp *q, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = q->fd, .events = events};
        int n = poll(&p, 1, ms_left(deadline));
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return xa__set_error(q->xa, XA_EIO, "%s: poll: %s", q->path, strerror(errno));
    }
}

/* Non-blocking connect with clear messages for the usual failures. */
static int connect_socket(struct qmp *q, int64_t deadline)
{
    struct stat st;
    if (stat(q->path, &st) < 0) {
        int e = errno;
        if (e == ENOENT)
            return xa__set_error(q->xa, XA_ENOENT,
                                 "%s: no such file (is QEMU running with -qmp unix:%s,server=on?)",
                                 q->path, q->path);
        if (e == EACCES)
            return xa__set_error(q->xa, XA_EACCES, "%s: permission denied", q->path);
        return xa__set_error(q->xa, XA_EIO, "%s: %s", q->path, strerror(e));
    }
    if (!S_ISSOCK(st.st_mode))
        return xa__set_error(q->xa, XA_EINVAL, "%s: not a socket (qemu: wants QEMU's QMP socket)",
                             q->path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(q->path) >= sizeof(sa.sun_path))
        return xa__set_error(q->xa, XA_EINVAL, "%s: socket path longer than %zu bytes", q->path,
                             sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, q->path, strlen(q->path) + 1);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (q->fd < 0)
        return xa__set_error(q->xa, XA_EIO, "socket: %s", strerror(errno));
    for (;;) {
        if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return 0;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN && ms_left(deadline) > 0) {
            /* The listener's backlog is full: retry until the deadline. */
            usleep(20000);
            continue;
        }
        if (e == EACCES || e == EPERM)
            return xa__set_error(q->xa, XA_EACCES, "%s: permission denied", q->path);
        if (e == ECONNREFUSED)
            return xa__set_error(q->xa, XA_EGONE,
                                 "%s: connection refused (QEMU is not running, or the socket is "
                                 "stale)",
                                 q->path);
        if (e == EAGAIN)
            return xa__set_error(q->xa, XA_ETIMEDOUT, "%s: connect timed out (server busy)",
                                 q->path);
        return xa__set_error(q->xa, XA_EIO, "%s: connect: %s", q->path, strerror(e));
    }
}

static int send_all(struct qmp *q, const char *data, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t n = send(q->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(q, POLLOUT, deadline);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return xa__set_error(q->xa, XA_ETIMEDOUT, "%s: QMP send timed out", q->path);
            continue;
        }
        return gone(q, n < 0 ? strerror(errno) : "connection closed");
    }
    return 0;
}

/* Next complete line (without the newline) parsed as JSON, into *out. */
static int read_message(struct qmp *q, int64_t deadline, const char *waiting_for,
                        struct json_object **out)
{
    for (;;) {
        char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
        if (nl) {
            size_t linelen = (size_t)(nl - q->buf);
            *nl = '\0';
            struct json_object *obj = json_tokener_parse(q->buf);
            q->len -= linelen + 1;
            memmove(q->buf, nl + 1, q->len);
            if (!obj || !json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return xa__set_error(q->xa, XA_EBADDATA,
                                     "%s: not speaking QMP (got a line that is not a JSON "
                                     "object while waiting for %s)",
                                     q->path, waiting_for);
            }
            *out = obj;
            return 0;
        }
        if (q->len >= QMP_MAX_LINE)
            return xa__set_error(q->xa, XA_ELIMIT, "%s: QMP message longer than %u bytes",
                                 q->path, QMP_MAX_LINE);
        if (q->cap - q->len < 65536) {
            size_t ncap = q->cap ? q->cap * 2 : 131072;
            char *nb = realloc(q->buf, ncap + 1);
            if (!nb)
                return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
            q->buf = nb;
            q->cap = ncap;
        }
        ssize_t n = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
        if (n > 0) {
            q->len += (size_t)n;
            continue;
        }
        if (n == 0)
            return gone(q, "connection closed");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return gone(q, strerror(errno));
        int rc = wait_fd(q, POLLIN, deadline);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return xa__set_error(q->xa, XA_ETIMEDOUT, "%s: no %s from QEMU within %d ms",
                                 q->path, waiting_for, q->timeout_ms);
    }
}

static void read_peer_pid(struct qmp *q)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
        q->peer_pid = cred.pid;
}

int qmp_open(struct qmp *q, struct xa_instance *xa, const char *path, int timeout_ms)
{
    memset(q, 0, sizeof(*q));
    q->fd = -1;
    q->xa = xa;
    q->path = path;
    q->timeout_ms = timeout_ms;
    int64_t deadline = now_ms() + timeout_ms;
    int rc = connect_socket(q, deadline);
    if (rc < 0)
        return rc;
    read_peer_pid(q);

    struct json_object *greeting = NULL, *qmp_obj, *v;
    rc = read_message(q, deadline, "QMP greeting", &greeting);
    if (rc == XA_ETIMEDOUT)
        return xa__set_error(xa, XA_ETIMEDOUT,
                             "%s: not speaking QMP (no greeting within %d ms; is another client "
                             "attached? a QMP socket serves one client at a time)",
                             path, timeout_ms);
    if (rc < 0)
        return rc;
    if (!json_object_object_get_ex(greeting, "QMP", &qmp_obj)) {
        json_object_put(greeting);
        return xa__set_error(xa, XA_EBADDATA, "%s: not speaking QMP (greeting has no \"QMP\")",
                             path);
    }
    if (json_object_object_get_ex(qmp_obj, "version", &v) &&
        json_object_object_get_ex(v, "qemu", &v)) {
        struct json_object *ma, *mi, *mc;
        if (json_object_object_get_ex(v, "major", &ma) &&
            json_object_object_get_ex(v, "minor", &mi) &&
            json_object_object_get_ex(v, "micro", &mc))
            snprintf(q->version, sizeof(q->version), "%d.%d.%d", json_object_get_int(ma),
                     json_object_get_int(mi), json_object_get_int(mc));
    }
    json_object_put(greeting);

    struct json_object *ret = NULL;
    rc = qmp_execute(q, "qmp_capabilities", NULL, &ret);
    json_object_put(ret);
    return rc;
}

void qmp_close(struct qmp *q)
{
    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
    free(q->buf);
    q->buf = NULL;
    q->len = q->cap = 0;
}

/* {"execute": cmd, "arguments": args, "id": id}; @id may be NULL. */
static struct json_object *new_command(const char *cmd, struct json_object *args, const char *id)
{
    struct json_object *msg = json_object_new_object();
    if (!msg)
        return NULL;
    json_object_object_add(msg, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(msg, "arguments", json_object_get(args));
    if (id)
        json_object_object_add(msg, "id", json_object_new_string(id));
    return msg;
}

/* The "return" value of @reply into *out, or its error as XA_EIO. */
int qmp_take_reply(struct qmp *q, const char *cmd, struct json_object *reply,
                      struct json_object **out)
{
    struct json_object *v;
    if (json_object_object_get_ex(reply, "return", &v)) {
        *out = json_object_get(v);
        return 0;
    }
    const char *desc = "malformed reply";
    if (json_object_object_get_ex(reply, "error", &v) && json_object_object_get_ex(v, "desc", &v))
        desc = json_object_get_string(v);
    return xa__set_error(q->xa, XA_EIO, "%s: QMP %s failed: %s", q->path, cmd, desc);
}

static int execute_by_transport(struct qmp *q, const char *cmd, struct json_object *args,
                                struct json_object **out)
{
    struct json_object *msg = new_command(cmd, args, NULL);
    if (!msg)
        return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
    char *text = NULL;
    int rc = q->transport.command(q->transport.ctx,
                                  json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN),
                                  &text);
    json_object_put(msg);
    if (rc < 0)
        return rc;
    if (!text || strlen(text) > QMP_MAX_LINE) {
        free(text);
        return xa__set_error(q->xa, XA_EBADDATA, "%s: no usable reply to %s", q->path, cmd);
    }
    struct json_object *reply = json_tokener_parse(text);
    free(text);
    if (!reply || !json_object_is_type(reply, json_type_object)) {
        json_object_put(reply);
        return xa__set_error(q->xa, XA_EBADDATA, "%s: reply to %s is not a JSON object",
                             q->path, cmd);
    }
    rc = qmp_take_reply(q, cmd, reply, out);
    json_object_put(reply);
    return rc;
}

int qmp_open_transport(struct qmp *q, struct xa_instance *xa, const char *name,
                       const struct qmp_transport *t)
{
    memset(q, 0, sizeof(*q));
    q->fd = -1;
    q->xa = xa;
    q->path = name;
    q->transport = *t;
    struct json_object *ret = NULL, *v;
    int rc = qmp_execute(q, "query-version", NULL, &ret);
    if (rc == 0 && json_object_object_get_ex(ret, "qemu", &v)) {
        struct json_object *ma, *mi, *mc;
        if (json_object_object_get_ex(v, "major", &ma) &&
            json_object_object_get_ex(v, "minor", &mi) &&
            json_object_object_get_ex(v, "micro", &mc))
            snprintf(q->version, sizeof(q->version), "%d.%d.%d", json_object_get_int(ma),
                     json_object_get_int(mi), json_object_get_int(mc));
    }
    json_object_put(ret);
    return rc;
}

int qmp_execute(struct qmp *q, const char *cmd, struct json_object *args,
                struct json_object **out)
{
    *out = NULL;
    if (q->transport.command)
        return execute_by_transport(q, cmd, args, out);
    if (q->gone || q->fd < 0)
        return xa__set_error(q->xa, XA_EGONE, "%s: QEMU went away", q->path);
    unsigned long long id = ++q->next_id;
    char idstr[32];
    snprintf(idstr, sizeof(idstr), "xa-%llu", id);

    struct json_object *msg = new_command(cmd, args, idstr);
    if (!msg)
        return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
    const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
    size_t tlen = strlen(text);
    char *line = malloc(tlen + 2);
    if (!line) {
        json_object_put(msg);
        return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
    }
    memcpy(line, text, tlen);
    line[tlen] = '\n';
    json_object_put(msg);

    int64_t deadline = now_ms() + q->timeout_ms;
    int rc = send_all(q, line, tlen + 1, deadline);
    free(line);
    if (rc < 0)
        return rc;

    char waiting[96];
    snprintf(waiting, sizeof(waiting), "reply to %s", cmd);
    for (;;) {
        struct json_object *reply = NULL, *v;
        rc = read_message(q, deadline, waiting, &reply);
        if (rc < 0)
            return rc;
        /* Events, and replies to earlier commands that timed out. */
        if (!json_object_object_get_ex(reply, "id", &v) ||
            strcmp(json_object_get_string(v), idstr) != 0) {
            json_object_put(reply);
            continue;
        }
        rc = qmp_take_reply(q, cmd, reply, out);
        json_object_put(reply);
        return rc;
    }
}

int qmp_hmp(struct qmp *q, const char *cmdline, char **out)
{
    *out = NULL;
    struct json_object *args = json_object_new_object(), *ret = NULL;
    if (!args)
        return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
    json_object_object_add(args, "command-line", json_object_new_string(cmdline));
    int rc = qmp_execute(q, "human-monitor-command", args, &ret);
    json_object_put(args);
    if (rc < 0)
        return rc;
    if (!json_object_is_type(ret, json_type_string)) {
        json_object_put(ret);
        return xa__set_error(q->xa, XA_EBADDATA, "%s: HMP '%s' returned no text", q->path,
                             cmdline);
    }
    *out = strdup(json_object_get_string(ret));
    json_object_put(ret);
    if (!*out)
        return xa__set_error(q->xa, XA_ENOMEM, "out of memory");
    return 0;
}
