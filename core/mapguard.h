/*
 * mapguard.h -- reading mapped files that may shrink under us. Internal.
 *
 * A dump file, or the file holding a live guest's RAM, is mapped whole. If
 * it is truncated while mapped (a dump being rewritten, QEMU gone and its
 * file cut, a storage error), touching a page beyond the new end raises
 * SIGBUS. Every such mapping is registered here. A process-wide SIGBUS
 * handler (installed on the first registration) recognises a fault inside
 * a registered mapping, puts a page of zeros in place of the lost page (so
 * the instruction that faulted completes, whoever executes it: a copy in
 * the core, a scan in the OS layer, a caller holding a page from
 * xa_access_*()), and marks the mapping as failed. From then on every core
 * call on that instance fails with a message naming the file: the zeros are
 * never returned as data by the library. Faults outside registered mappings
 * go to the handler that was there before (or the default action).
 *
 * Pages already handed to a caller (xa_access_*) stay readable after a
 * truncation, but the bytes of lost pages read as zero: a caller must treat
 * data read through such pointers as valid only if a later library call on
 * the instance still succeeds (xa_read_pa of one byte is enough).
 *
 * A program that installs its own SIGBUS handler after opening a target
 * replaces this one: it then gets the faults itself.
 */
#ifndef XA_CORE_MAPGUARD_H
#define XA_CORE_MAPGUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xa_instance;

/* Mappings guarded at once in one process. */
#define XA_MAPGUARD_MAX 1024

/*
 * Guard [addr, addr + len), mapped with @prot (PROT_*) from @fd (or -1; the
 * guard keeps a duplicate to tell a shrink in messages) for instance @xa. @label names it
 * in messages ("file:/path"). Returns a guard id >= 0, or a negative error
 * after xa__set_error().
 */
int xa__mapguard_add(struct xa_instance *xa, void *addr, size_t len, int prot, int fd,
                     const char *label);
/* Forget guard @id (before munmap). Ignores id < 0. */
void xa__mapguard_remove(int id);
/* Forget the guard of the mapping that starts at @addr, if any. */
void xa__mapguard_remove_at(const void *addr);

/* True once a fault hit mapping @id. */
bool xa__mapguard_faulted(int id);
/* Set the message for a faulted mapping @id and return XA_EIO. */
int xa__mapguard_error(struct xa_instance *xa, int id);

/* 0, or XA_EIO with the message when a mapping of @xa has faulted. One
 * atomic load, inline, when no fault ever happened in the process. */
extern atomic_ulong xa__mapguard_faults_total;
int xa__mapguard_check_slow(struct xa_instance *xa);
static inline int xa__mapguard_check(struct xa_instance *xa)
{
    if (atomic_load_explicit(&xa__mapguard_faults_total, memory_order_acquire) == 0)
        return 0;
    return xa__mapguard_check_slow(xa);
}

#endif /* XA_CORE_MAPGUARD_H */
