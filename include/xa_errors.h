/*
 * xa_errors.h -- what libxenaccess and libxadisk share: the XA_E* error
 * codes and the XA_API / XA_NODISCARD markers.  Included by xenaccess.h and
 * xadisk.h; a program needs to include neither this nor the other library's
 * header to use one library.
 */
#ifndef XA_ERRORS_H
#define XA_ERRORS_H

#if defined(__GNUC__)
#define XA_API __attribute__((visibility("default")))
#define XA_NODISCARD __attribute__((warn_unused_result))
#else
#define XA_API
#define XA_NODISCARD
#endif

/** @defgroup errors Error codes
 *  Negated errno values where one fits. @{ */
#define XA_ERRNO_MAP(X)                                                        \
    X(XA_OK, 0, "success")                                                     \
    X(XA_ENOENT, -2, "not found")                                              \
    X(XA_EIO, -5, "input/output error")                                        \
    X(XA_ENOMEM, -12, "out of memory")                                         \
    X(XA_EACCES, -13, "permission denied")                                     \
    X(XA_EFAULT, -14, "virtual address not mapped")                            \
    X(XA_EBUSY, -16, "busy")                                                   \
    X(XA_EINVAL, -22, "invalid argument")                                      \
    X(XA_ERANGE, -34, "physical address outside guest memory")                 \
    X(XA_ENOTSUP, -95, "operation not supported by this target")               \
    X(XA_ETIMEDOUT, -110, "timed out")                                         \
    X(XA_EBADDATA, -1001, "corrupt or implausible guest data")                 \
    X(XA_ENOTBUILT, -1002, "backend not built in")                             \
    X(XA_EFORMAT, -1003, "unrecognised target format")                         \
    X(XA_ENOOS, -1004, "guest operating system not recognised")               \
    X(XA_ELIMIT, -1005, "safety limit reached (guest data too large or looping)") \
    X(XA_EPERM, -1006, "write access not enabled")                             \
    X(XA_EGONE, -1007, "target went away")

enum xa_error {
#define XA__ENUM(name, val, text) name = (val),
    XA_ERRNO_MAP(XA__ENUM)
#undef XA__ENUM
};
/** @} */

#endif /* XA_ERRORS_H */
