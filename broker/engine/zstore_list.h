/*  =========================================================================
    zstore_list - an ordered list of items (key, value, revisions) returned
    by the engine: a group's rows, group names, split parts.

    Strings are copied into blocks owned by the list, so item pointers stay
    valid until the list is destroyed. Every string is also NUL-terminated.
    =========================================================================
*/

#ifndef ZSTORE_LIST_H_INCLUDED
#define ZSTORE_LIST_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *group;              //  the group, where a list spans groups; else ""
    size_t group_size;
    const char *key;                //  the key, group name or part
    size_t key_size;
    const char *value;              //  "" where there is no value
    size_t value_size;
    uint64_t create_revision;
    uint64_t mod_revision;
    int64_t expires_at;             //  Unix ms, 0 = never
} zstore_item_t;

typedef struct _zstore_list_t zstore_list_t;

zstore_list_t *
    zstore_list_new (void);

void
    zstore_list_destroy (zstore_list_t **self_p);

//  Appends a copy of key and value; returns the new item, NULL if out of
//  memory. The caller may then fill in the revisions and expiry.
zstore_item_t *
    zstore_list_append (zstore_list_t *self, const char *key, size_t key_size,
                        const char *value, size_t value_size);

//  The same, with a group.
zstore_item_t *
    zstore_list_append_grouped (zstore_list_t *self, const char *group, size_t group_size,
                                const char *key, size_t key_size, const char *value,
                                size_t value_size);

//  Appends a copy of item: its revisions and expiry, and copies of its
//  strings (group too, if group_size is not 0); NULL if out of memory.
zstore_item_t *
    zstore_list_append_item (zstore_list_t *self, const zstore_item_t *item);

size_t
    zstore_list_size (const zstore_list_t *self);

//  The item at index, NULL past the end.
const zstore_item_t *
    zstore_list_item (const zstore_list_t *self, size_t index);

//  Binary search by key in a list sorted by key (byte order); NULL if absent.
const zstore_item_t *
    zstore_list_find (const zstore_list_t *self, const char *key, size_t key_size);

//  Byte-order comparison of two byte strings (memcmp, then length).
int
    zstore_bytes_compare (const char *a, size_t a_size, const char *b, size_t b_size);

#ifdef __cplusplus
}
#endif

#endif
