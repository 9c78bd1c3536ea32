/*  zstore_list - see zstore_list.h. Strings live in a chain of blocks so that
    appending never moves earlier strings (a GetAll of 10,000 keys costs a
    handful of allocations, not 20,000).
*/

#include "zstore_list.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)

typedef struct block_t {
    struct block_t *next;
    size_t used;
    size_t capacity;
    char data [];
} block_t;

struct _zstore_list_t {
    zstore_item_t *items;           //  the items, in append order
    size_t size;                    //  items in use
    size_t capacity;                //  items allocated
    block_t *blocks;                //  string storage, newest first
};

zstore_list_t *
zstore_list_new (void)
{
    return calloc (1, sizeof (zstore_list_t));
}

void
zstore_list_destroy (zstore_list_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_list_t *self = *self_p;
    block_t *block = self->blocks;
    while (block) {
        block_t *next = block->next;
        free (block);
        block = next;
    }
    free (self->items);
    free (self);
    *self_p = NULL;
}

//  Reserves size bytes of string storage.
static char *
s_reserve (zstore_list_t *self, size_t size)
{
    block_t *block = self->blocks;
    if (!block || block->capacity - block->used < size) {
        size_t capacity = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        block = malloc (sizeof (block_t) + capacity);
        if (!block)
            return NULL;
        block->used = 0;
        block->capacity = capacity;
        //  A block made for one large string goes behind the current one,
        //  so the current block keeps serving small strings.
        if (self->blocks && capacity > BLOCK_SIZE) {
            block->next = self->blocks->next;
            self->blocks->next = block;
        }
        else {
            block->next = self->blocks;
            self->blocks = block;
        }
    }
    char *result = block->data + block->used;
    block->used += size;
    return result;
}

//  Copies size bytes and a terminating NUL to dest; returns the copy.
static const char *
s_copy_string (char *dest, const char *source, size_t size)
{
    if (size)
        memcpy (dest, source, size);
    dest [size] = 0;
    return dest;
}

//  Appends a copy of source: its fields, and its strings into the blocks.
static zstore_item_t *
s_append (zstore_list_t *self, const zstore_item_t *source)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        zstore_item_t *items = realloc (self->items, capacity * sizeof (zstore_item_t));
        if (!items)
            return NULL;
        self->items = items;
        self->capacity = capacity;
    }
    //  One reservation for all three strings: one bounds check per row.
    //  Ungrouped items share a static "", so they cost no group byte.
    size_t group_bytes = source->group_size ? source->group_size + 1 : 0;
    char *strings = s_reserve (self, group_bytes + source->key_size + source->value_size + 2);
    if (!strings)
        return NULL;
    zstore_item_t *item = &self->items [self->size++];
    *item = *source;
    item->group = group_bytes ? s_copy_string (strings, source->group, source->group_size) : "";
    item->key = s_copy_string (strings + group_bytes, source->key, source->key_size);
    item->value = s_copy_string (strings + group_bytes + source->key_size + 1, source->value,
                                 source->value_size);
    return item;
}

zstore_item_t *
zstore_list_append_grouped (zstore_list_t *self, const char *group, size_t group_size,
                            const char *key, size_t key_size, const char *value,
                            size_t value_size)
{
    zstore_item_t source = {
        .group = group, .group_size = group_size,
        .key = key, .key_size = key_size,
        .value = value, .value_size = value_size,
    };
    return s_append (self, &source);
}

zstore_item_t *
zstore_list_append_item (zstore_list_t *self, const zstore_item_t *item)
{
    return s_append (self, item);
}

zstore_item_t *
zstore_list_append (zstore_list_t *self, const char *key, size_t key_size,
                    const char *value, size_t value_size)
{
    return zstore_list_append_grouped (self, "", 0, key, key_size, value, value_size);
}

size_t
zstore_list_size (const zstore_list_t *self)
{
    return self ? self->size : 0;
}

const zstore_item_t *
zstore_list_item (const zstore_list_t *self, size_t index)
{
    return self && index < self->size ? &self->items [index] : NULL;
}

int
zstore_bytes_compare (const char *a, size_t a_size, const char *b, size_t b_size)
{
    size_t common = a_size < b_size ? a_size : b_size;
    int order = common ? memcmp (a, b, common) : 0;
    if (order)
        return order;
    return a_size < b_size ? -1 : a_size > b_size ? 1 : 0;
}

const zstore_item_t *
zstore_list_find (const zstore_list_t *self, const char *key, size_t key_size)
{
    size_t low = 0, high = zstore_list_size (self);
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const zstore_item_t *item = &self->items [middle];
        int order = zstore_bytes_compare (item->key, item->key_size, key, key_size);
        if (order == 0)
            return item;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}
