/*
 * xa-net -- the guest's sockets: TCP, UDP (IPv4 and IPv6), raw, UNIX and
 * packet, from the kernel's tables and the processes' fd tables.
 *   xa-net TARGET [--json]
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char *pid_list(const struct xa_socket *s, char *buf, size_t cap)
{
    size_t n = s->npids < XA_NET_PIDS_MAX ? s->npids : XA_NET_PIDS_MAX, len = 0;
    if (n == 0)
        return "-";
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%d", i ? "," : "", (int)s->pids[i]);
    if (s->npids > n && len < cap)
        snprintf(buf + len, cap - len, ",+%u", (unsigned)(s->npids - n));
    return buf;
}

static void print_json(const struct xa_socket *s)
{
    json_object *j = json_object_new_object();
    json_object_object_add(j, "proto", json_object_new_string(s->proto));
    json_object_object_add(j, "state", json_object_new_string(s->state_name));
    tool_json_str(j, "local", s->local);
    tool_json_str(j, "remote", s->remote);
    json_object_object_add(j, "inode", json_object_new_int64((int64_t)s->inode));
    json_object *pids = json_object_new_array();
    for (uint32_t i = 0; i < s->npids && i < XA_NET_PIDS_MAX; i++)
        json_object_array_add(pids, json_object_new_int(s->pids[i]));
    json_object_object_add(j, "pids", pids);
    json_object_object_add(j, "netns", json_object_new_int64(s->netns));
    if (s->npids > XA_NET_PIDS_MAX)
        json_object_object_add(j, "npids", json_object_new_int64(s->npids));
    bool q = !(s->flags & XA_NET_NO_QUEUES); /* unknown: null */
    json_object_object_add(j, "rx_queue", q ? json_object_new_int64(s->rx_queue) : NULL);
    json_object_object_add(j, "tx_queue", q ? json_object_new_int64(s->tx_queue) : NULL);
    json_object_object_add(j, "uid", json_object_new_int64(s->uid));
    json_object_object_add(j, "family", json_object_new_int(s->family));
    json_object_object_add(j, "type", json_object_new_int(s->type));
    bool pk = !strcmp(s->proto, "packet"), pk_known = q || !pk; /* see XA_NET_NO_QUEUES */
    json_object_object_add(j, "protocol", pk_known ? json_object_new_int(s->protocol) : NULL);
    if (pk)
        json_object_object_add(j, "ifindex", pk_known ? json_object_new_int(s->ifindex) : NULL);
    json_object_object_add(j, "in_table", json_object_new_boolean(s->flags & XA_NET_FROM_TABLE));
    if (s->flags & XA_NET_ADDR_CUT)
        json_object_object_add(j, "local_cut", json_object_new_boolean(1));
    tool_json_hex(j, "sk", s->sk);
    tool_json_line(j);
}

static void print_text(const struct xa_socket *s)
{
    char pids[160], local[48];
    const char *loc = s->local[0] ? s->local : "*";
    if (!strcmp(s->proto, "packet")) {
        if (s->flags & XA_NET_NO_QUEUES)
            snprintf(local, sizeof(local), "proto=?,if=?");
        else
            snprintf(local, sizeof(local), "proto=0x%04x,if=%d", (unsigned)s->protocol,
                     s->ifindex);
        loc = local;
    }
    char rq[12] = "-", tq[12] = "-"; /* unknown queues */
    if (!(s->flags & XA_NET_NO_QUEUES)) {
        snprintf(rq, sizeof(rq), "%" PRIu32, s->rx_queue);
        snprintf(tq, sizeof(tq), "%" PRIu32, s->tx_queue);
    }
    printf("%-6s %-11s %7s %7s %8" PRIu64 " %10" PRIu32 " %-14s %-40s %s\n",
           s->proto, s->state_name, rq, tq, s->inode, s->netns,
           pid_list(s, pids, sizeof(pids)), tool_text(loc, ESC_SPACE),
           s->remote[0] ? tool_text(s->remote, 0) : "*");
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    tool_example = "file:guest.img --json";
    struct tool_opts o = {0};
    const char *pos[1];
    tool_parse(argc, argv, &o, NULL, pos, 1, "TARGET [--json]");
    struct xa_instance *xa = tool_open(&o);
    struct xa_net_iter *it;
    if (xa_net_iter_new(xa, &it) < 0)
        tool_die(TOOL_ERR, "%s: %s", o.target, xa_errmsg(xa));
    struct tool_rows rows;
    tool_rows_init(&rows, o.json, "%-6s %-11s %7s %7s %8s %10s %-14s %-40s %s", "PROTO", "STATE",
                   "RECV-Q", "SEND-Q", "INODE", "NETNS", "PIDS", "LOCAL", "REMOTE");
    struct xa_socket s;
    int rc;
    bool noted = false;
    while ((rc = xa_net_iter_next(it, &s)) == 1) {
        tool_row(&rows);
        if (s.flags & XA_NET_NO_QUEUES && !noted) {
            noted = true;
            fprintf(stderr, "note: 32-bit kernel without BTF: queues unknown; only sockets a "
                            "process holds and the TCP and UDP hashes are listed\n");
        }
        if (o.json)
            print_json(&s);
        else
            print_text(&s);
    }
    int code = tool_rows_end(&rows, xa, rc, o.target, "socket list is partial after %zu sockets",
                             rows.n);
    xa_net_iter_free(it);
    xa_destroy(xa);
    return code;
}
