/*
 * short_image.h -- noticing a memory image cut short (an interrupted copy or
 * download), so that the user reads "the file is shorter than the guest's
 * memory" rather than only the symptom ("no Linux kernel found", a broken
 * task list). Uses only the public API.
 */
#ifndef XA_SHORT_IMAGE_H
#define XA_SHORT_IMAGE_H

#include <stddef.h>

#include "xenaccess.h"

/* After the kernel was found: warn (one line) when a file target ends
 * before the memory its kernel says it has (max_pfn). */
void short_image_warn(struct xa_instance *xa, const char *target);

/* When no kernel was found in a file target: a hint to append to the error
 * (" (...)"), or "" for other targets. */
void short_image_hint(struct xa_instance *xa, char *out, size_t size);

#endif /* XA_SHORT_IMAGE_H */
