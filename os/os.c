/*
 * os.c -- the OS registry: the table of OS layers tried at xa_init() time.
 * The core runs them and dispatches the public OS functions to the one that
 * recognised the guest (core/os_api.c, core/procview_api.c).  Adding an OS
 * is a line here.
 */
#include <stddef.h>

#include "os/os.h"

static const struct xa_os_ops *const os_table[] = {
    &xa_os_linux,
    &xa_os_windows, /* after Linux: its memory search is the longer */
};

const struct xa_os_ops *const *xa__os_layers(size_t *count)
{
    *count = sizeof(os_table) / sizeof(os_table[0]);
    return os_table;
}
