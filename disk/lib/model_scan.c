/* model_scan.c -- the first walk from the root that builds the model (no
 * events).  Bounded like the rest: see model.c. */
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#include "model_priv.h"

int model_scan(struct xd_model *m)
{
    model_free_nodes(m);
    ext2fs_flush_icache(m->fs);
    struct istate st;
    if (model_read_state(m, ROOT_INO, &st) < 0 || !st.alive || !LINUX_S_ISDIR(st.mode)) {
        snprintf(m->err, sizeof(m->err), "root directory unreadable");
        return XA_EBADDATA;
    }
    if (!model_new_node(m, ROOT_INO, &st))
        return XA_ENOMEM;
    uint32_t *queue = malloc(sizeof(uint32_t) * 1024);
    size_t qh = 0, qn = 0, qcap = 1024;
    if (!queue)
        return XA_ENOMEM;
    queue[qn++] = ROOT_INO;
    int rc = 0;
    while (qh < qn && rc == 0) {
        struct xd_node *d = node_get(m, queue[qh++]);
        rc = model_read_dir(m, d->ino, &d->ents, &d->nents);
        for (size_t i = 0; rc == 0 && i < d->nents; i++) {
            uint32_t c = d->ents[i].ino;
            struct xd_node *cn = node_get(m, c);
            if (!cn) {
                if (m->nodes.count >= m->inodes_count) {
                    rc = XA_ELIMIT;
                    break;
                }
                if (model_read_state(m, c, &st) < 0) {
                    m->bad++;
                    continue;
                }
                if (!st.alive) { /* a file being made: its inode may come later */
                    if (!ahead_hold(m, d->ino, c, d->ents[i].name))
                        m->bad++;
                    continue;
                }
                cn = model_new_node(m, c, &st);
                if (!cn) {
                    rc = XA_ENOMEM;
                    break;
                }
                if (LINUX_S_ISDIR(st.mode)) {
                    if (qn == qcap) {
                        uint32_t *q2 = realloc(queue, qcap * 2 * sizeof(*queue));
                        if (!q2) {
                            rc = XA_ENOMEM;
                            break;
                        }
                        queue = q2;
                        qcap *= 2;
                    }
                    queue[qn++] = c;
                }
            }
            rc = model_add_link(cn, d->ino, d->ents[i].name);
        }
    }
    free(queue);
    return rc;
}
