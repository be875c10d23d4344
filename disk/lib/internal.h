/* internal.h -- small helpers shared inside libxadisk. */
#ifndef XADISK_INTERNAL_H
#define XADISK_INTERNAL_H
/* Static text for an XA_E* code (libxadisk does not link libxenaccess). */
const char *xd_strerror(int err);
#endif
