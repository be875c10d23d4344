/*
 * fuzz_common.h -- shared by the fuzz targets: the libFuzzer entry points,
 * a reader that takes bytes off the front of an input, and in-memory files
 * (memfd) that the file backend can open as "file:/proc/self/fd/N".
 */
#ifndef XA_FUZZ_COMMON_H
#define XA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Takes little-endian integers off the front of the input; zeros once spent. */
struct fuzz_reader {
    const uint8_t *p;
    size_t left;
};

static inline uint64_t fz_take(struct fuzz_reader *r, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = 0;
        if (r->left) {
            b = *r->p++;
            r->left--;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

/* A Linux in-memory file, for targets that go through the file backend. */
struct fz_memfile {
    int fd;
    char target[64]; /* "file:/proc/self/fd/N" */
    char path[48];   /* "/proc/self/fd/N" */
};

static inline void fz_memfile_open(struct fz_memfile *m, const char *name)
{
    m->fd = memfd_create(name, MFD_CLOEXEC);
    if (m->fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
    snprintf(m->target, sizeof(m->target), "file:%s", m->path);
}

/* Replace the file's whole content. */
static inline void fz_memfile_set(struct fz_memfile *m, const void *data, size_t len)
{
    if (ftruncate(m->fd, 0) < 0 || ftruncate(m->fd, (off_t)len) < 0 ||
        (len && pwrite(m->fd, data, len, 0) != (ssize_t)len)) {
        perror("memfd write");
        abort();
    }
}

#endif /* XA_FUZZ_COMMON_H */
