/*
 * os.c -- the OS registry: the table of OS layers tried at xa_init() time,
 * and the active layer's life (destroy, flush). The public OS functions
 * that dispatch to it are the core's (core/os_api.c, core/procview_api.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "os/os.h"

/* Tried in order; a layer that answers XA_ENOOS lets the next one try. */
static const struct xa_os_ops *const os_table[] = {
    &xa_os_linux,
    &xa_os_windows, /* after Linux: its memory search is the longer */
};

int xa__os_init(struct xa_instance *xa, const struct xa_init_opts *opts)
{
    /* Why each layer said no, joined: the first one's reason stays first. */
    char why[XA_ERRMSG_LEN] = "";
    for (size_t i = 0; i < sizeof(os_table) / sizeof(os_table[0]); i++) {
        void *state = NULL;
        xa->errmsg[0] = '\0';
        int rc = os_table[i]->init(xa, opts, &state);
        if (rc == 0) {
            xa->os_ops = os_table[i];
            xa->os = state;
            xa->os_err = 0;
            xa->errmsg[0] = '\0';
            return 0;
        }
        if (rc != XA_ENOOS)
            return rc;
        if (xa->errmsg[0]) {
            size_t n = strlen(why);
            snprintf(why + n, sizeof(why) - n, "%s%s", n ? "; " : "", xa->errmsg);
        }
    }
    if (why[0])
        return xa__set_error(xa, XA_ENOOS, "guest operating system not recognised: %s", why);
    return xa__set_error(xa, XA_ENOOS, "guest operating system not recognised");
}

void xa__os_destroy(struct xa_instance *xa)
{
    if (!xa || !xa->os_ops)
        return;
    xa->os_ops->destroy(xa->os);
    xa->os_ops = NULL;
    xa->os = NULL;
}

void xa__os_flush(struct xa_instance *xa)
{
    if (xa && xa->os_ops && xa->os_ops->flush)
        xa->os_ops->flush(xa->os);
}
