/*  =========================================================================
    zstore_txn - a transaction (PROTOCOL.md 2.6): operations encoded as they
    are added, sent as one `txn` request, and the results read back.

    A txn is never re-sent after a lost reply (ZSTORE_OUTCOME_UNKNOWN): even
    a txn of retry-safe writes may have been applied and then changed by
    someone else before the re-send, which would apply it twice.
    =========================================================================
*/

#include "zstore_client_private.h"

//  An operation's key, to fill the entries of get results.
typedef struct {
    char *key;
    size_t key_size;
} s_op_key_t;

struct _zstore_txn_t {
    zstore_writer_t ops;            //  the operation maps, encoded
    s_op_key_t *keys;               //  per operation (NULL key when it has none)
    size_t size;
    size_t capacity;
    int status;                     //  ZSTORE_OK, or the first bad add's code
    zstore_reply_t *reply;          //  of the last run
    int failed;                     //  index of the failing operation, -1
};

zstore_txn_t *
zstore_txn_new (void)
{
    zstore_txn_t *self = calloc (1, sizeof (zstore_txn_t));
    if (!self)
        return NULL;
    zstore_writer_init (&self->ops);
    self->failed = -1;
    return self;
}

void
zstore_txn_destroy (zstore_txn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_txn_t *self = *self_p;
    for (size_t index = 0; index < self->size; index++)
        free (self->keys [index].key);
    free (self->keys);
    zstore_writer_free (&self->ops);
    zstore_reply_destroy (&self->reply);
    free (self);
    *self_p = NULL;
}

size_t
zstore_txn_size (zstore_txn_t *self)
{
    return self ? self->size : 0;
}

//  --- Building -----------------------------------------------------------

//  Records the operation's key slot; false if out of memory.
static bool
s_txn_push_key (zstore_txn_t *self, const char *key)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        s_op_key_t *grown = realloc (self->keys, capacity * sizeof (s_op_key_t));
        if (!grown)
            return false;
        self->keys = grown;
        self->capacity = capacity;
    }
    s_op_key_t *slot = &self->keys [self->size];
    slot->key = key ? zstore_bytes_copy (key, strlen (key)) : NULL;
    slot->key_size = key ? strlen (key) : 0;
    if (key && !slot->key)
        return false;
    self->size++;
    return true;
}

//  Starts an operation map of 1 + pairs entries: op, then the caller's
//  pairs. Refuses NULL arguments (need_key: key must be given).
static int
s_txn_begin (zstore_txn_t *self, const char *op, uint32_t pairs, const char *name,
             const char *value, const char *key, bool need_key)
{
    if (!self)
        return ZSTORE_ARGUMENT;
    if (!value || (need_key && !key))
        return self->status = ZSTORE_ARGUMENT;
    if (!s_txn_push_key (self, key))
        return self->status = ZSTORE_NO_MEMORY;
    zstore_write_map (&self->ops, 1 + pairs);
    zstore_write_key (&self->ops, "op");
    zstore_write_str (&self->ops, op);
    zstore_write_key (&self->ops, name);
    zstore_write_bytes (&self->ops, value, strlen (value));
    if (key) {
        zstore_write_key (&self->ops, "key");
        zstore_write_bytes (&self->ops, key, strlen (key));
    }
    return ZSTORE_OK;
}

//  A whole operation of a name and an optional key.
static int
s_txn_simple (zstore_txn_t *self, const char *op, const char *group, const char *key,
              bool need_key)
{
    return s_txn_begin (self, op, need_key ? 2 : 1, "group", group, key, need_key);
}

int
zstore_txn_get (zstore_txn_t *self, const char *group, const char *key)
{
    return s_txn_simple (self, "get", group, key, true);
}

int
zstore_txn_exists (zstore_txn_t *self, const char *group, const char *key)
{
    return s_txn_simple (self, "exists", group, key, true);
}

int
zstore_txn_set (zstore_txn_t *self, const char *group, const char *key, const void *value,
                size_t value_size, const zstore_write_opts_t *opts)
{
    if (self && !value && value_size > 0)
        return self->status = ZSTORE_ARGUMENT;
    bool ttl = opts && opts->has_ttl;
    bool if_rev = opts && opts->if_rev >= 0;
    int code = s_txn_begin (self, "set", 3 + ttl + if_rev, "group", group, key, true);
    if (code)
        return code;
    zstore_write_key (&self->ops, "value");
    zstore_write_bytes (&self->ops, value ? value : "", value_size);
    if (ttl) {
        zstore_write_key (&self->ops, "ttl");
        zstore_write_int (&self->ops, opts->ttl_ms);
    }
    if (if_rev) {
        zstore_write_key (&self->ops, "if_rev");
        zstore_write_int (&self->ops, opts->if_rev);
    }
    return ZSTORE_OK;
}

//  if_rev -1: unconditional.
int
zstore_txn_delete (zstore_txn_t *self, const char *group, const char *key, int64_t if_rev)
{
    int code = s_txn_begin (self, "delete", 2 + (if_rev >= 0), "group", group, key, true);
    if (code == ZSTORE_OK && if_rev >= 0) {
        zstore_write_key (&self->ops, "if_rev");
        zstore_write_int (&self->ops, if_rev);
    }
    return code;
}

int
zstore_txn_count (zstore_txn_t *self, const char *group)
{
    return s_txn_simple (self, "count", group, NULL, false);
}

int
zstore_txn_delete_group (zstore_txn_t *self, const char *group)
{
    return s_txn_simple (self, "delete_group", group, NULL, false);
}

int
zstore_txn_delete_prefix (zstore_txn_t *self, const char *prefix)
{
    return s_txn_begin (self, "delete_prefix", 1, "prefix", prefix, NULL, false);
}

//  --- Running ------------------------------------------------------------

//  The ops array: its header, then the encoded maps.
static zstore_request_t *
s_txn_request (zstore_txn_t *self)
{
    zstore_writer_t array;
    zstore_writer_init (&array);
    zstore_write_array (&array, (uint32_t) self->size);
    zstore_write_raw (&array, self->ops.buffer.data, self->ops.buffer.size);
    zstore_request_t *request = zstore_request_new ("txn");
    if (zstore_writer_failed (&array))
        zstore_request_destroy (&request);
    else
        zstore_request_add_raw (request, "ops", array.buffer.data, array.buffer.size);
    zstore_writer_free (&array);
    return request;
}

int
zstore_client_txn (zstore_client_t *self, zstore_txn_t *txn, uint64_t *rev_p)
{
    if (rev_p)
        *rev_p = 0;
    if (!self || !txn)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "no client or txn");
    zstore_reply_destroy (&txn->reply);
    txn->failed = -1;
    if (txn->status != ZSTORE_OK || zstore_writer_failed (&txn->ops))
        return zstore_client_fail (self, txn->status ? txn->status : ZSTORE_NO_MEMORY,
                                   "txn: an operation was added with a NULL argument"
                                   " or out of memory");
    zstore_request_t *request = s_txn_request (txn);
    if (!request)
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    int code = zstore_client_call (self, request, &txn->reply);
    zstore_request_destroy (&request);
    uint64_t value = 0;
    if (code == ZSTORE_OK && !zstore_reply_uint (txn->reply, "rev", rev_p))
        code = zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "txn reply: no rev");
    if (code == ZSTORE_OK && (!zstore_reply_field (txn->reply, "results")
                              || zstore_reply_field (txn->reply, "results")->type
                                 != MSGPACK_OBJECT_ARRAY))
        code = zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "txn reply: no results");
    if (code != ZSTORE_OK && zstore_reply_uint (txn->reply, "failed", &value)
    &&  value < txn->size)
        txn->failed = (int) value;
    return code;
}

int
zstore_txn_failed_index (zstore_txn_t *self)
{
    return self ? self->failed : -1;
}

//  The result map of operation index, NULL when there is none (not run,
//  failed, out of range).
static const msgpack_object *
s_txn_result (zstore_txn_t *self, size_t index)
{
    if (!self || index >= self->size)
        return NULL;
    const msgpack_object *results = zstore_reply_field (self->reply, "results");
    if (!results || results->type != MSGPACK_OBJECT_ARRAY || index >= results->via.array.size)
        return NULL;
    const msgpack_object *result = &results->via.array.ptr [index];
    return result->type == MSGPACK_OBJECT_MAP ? result : NULL;
}

//  The failing operation's status is the txn's; an operation with no
//  result (others of a failed txn, an index out of range, before a run)
//  answers ZSTORE_ARGUMENT.
int
zstore_txn_result_status (zstore_txn_t *self, size_t index)
{
    if (self && self->failed >= 0 && index == (size_t) self->failed)
        return zstore_reply_status (self->reply);
    zstore_fields_t fields;
    zstore_fields_init (&fields, s_txn_result (self, index));
    uint64_t status;
    if (!zstore_fields_uint (&fields, "status", &status) || status > INT_MAX)
        return ZSTORE_ARGUMENT;
    return (int) status;
}

int
zstore_txn_result_entry (zstore_txn_t *self, size_t index, zstore_entry_t *entry)
{
    if (!entry)
        return ZSTORE_ARGUMENT;
    memset (entry, 0, sizeof (*entry));
    const msgpack_object *result = s_txn_result (self, index);
    int status = zstore_txn_result_status (self, index);
    if (!result || status != ZSTORE_OK)
        return status;
    int code = zstore_entry_read (entry, result, NULL);
    if (code == ZSTORE_OK && !entry->value)
        code = ZSTORE_ARGUMENT;     //  not a get
    if (code == ZSTORE_OK && self->keys [index].key) {
        free (entry->key);
        entry->key = zstore_bytes_copy (self->keys [index].key, self->keys [index].key_size);
        entry->key_size = self->keys [index].key_size;
        if (!entry->key)
            code = ZSTORE_NO_MEMORY;
    }
    if (code != ZSTORE_OK)
        zstore_entry_clear (entry);
    return code;
}

uint64_t
zstore_txn_result_count (zstore_txn_t *self, size_t index)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, s_txn_result (self, index));
    uint64_t count = 0;
    bool present;
    zstore_fields_opt_uint (&fields, "count", &count, &present);
    return count;
}

bool
zstore_txn_result_exists (zstore_txn_t *self, size_t index)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, s_txn_result (self, index));
    bool exists = false;
    zstore_fields_bool (&fields, "exists", &exists);
    return exists;
}
