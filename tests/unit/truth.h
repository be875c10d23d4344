/*
 * truth.h -- what a guest said about itself (truth.json, written by
 * tests/guest/harness.py from tests/guest/init.sh's sections), for the C
 * tests that compare the library with it. Missing keys read as "", -1 or 0,
 * so a check on them fails instead of crashing.
 */
#ifndef XA_TEST_TRUTH_H
#define XA_TEST_TRUTH_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static inline const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v ? json_object_get_string(v) : "";
}

static inline long long jint(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v ? json_object_get_int64(v) : -1;
}

/* Addresses are written as hex strings ("0xffffffff81000000"). */
static inline uint64_t jhex(json_object *o, const char *key)
{
    return strtoull(jstr(o, key), NULL, 16);
}

/* The truth of the dump set in @set_dir ($XA_TEST_DUMPS/l4...), or NULL. */
static inline json_object *truth_load(const char *set_dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/truth.json", set_dir);
    return json_object_from_file(path);
}

#endif
