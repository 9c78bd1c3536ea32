/*  zstore_dispatch - one request body in, one reply body out (PROTOCOL.md 2).

    The request is parsed with the shared codec, checked (version, op,
    namespace), and handed to its handler through s_operations, the
    dispatch table. A handler reads its fields, calls the engine and writes
    the reply; or returns a status, and s_write_error answers it with the
    engine's message or the handler's own. Nothing here blocks and nothing
    here knows SQL.
*/

#include "zstore_request.h"

typedef int (s_handler_fn) (zstore_request_t *request);


//  Status for a field error: the codec holds the message.
int
zstore_request_bad (zstore_request_t *request)
{
    snprintf (request->error, sizeof request->error, "%s", request->fields.error);
    return ZSTORE_STATUS_BAD_REQUEST;
}

int
zstore_request_fail (zstore_request_t *request, int status, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (request->error, sizeof request->error, format, args);
    va_end (args);
    return status;
}

//  --- Names: "<ns>:<name>" when the request has a namespace ---------------

//  Reads a bytes field and prefixes the namespace; the result lives in the
//  broker's name buffer until the next call.
bool
zstore_request_scoped_field (zstore_request_t *request, const char *field, bool required, zstore_bytes_t *name)
{
    const char *data = "";
    size_t size = 0;
    bool present = true;
    bool ok = required ? zstore_fields_bytes (&request->fields, field, &data, &size)
                       : zstore_fields_opt_bytes (&request->fields, field, &data, &size,
                                                  &present);
    if (!ok)
        return false;
    if (!request->ns) {
        *name = zstore_bytes (data, size);
        return true;
    }
    zstore_buffer_t *buffer = &request->broker->name;
    zstore_buffer_reset (buffer);
    zstore_buffer_append (buffer, request->ns, strlen (request->ns));
    zstore_buffer_append (buffer, ":", 1);
    zstore_buffer_append (buffer, data, size);
    *name = zstore_bytes (buffer->data, buffer->size);
    return true;
}

static bool
s_bytes_field (zstore_request_t *request, const char *field, zstore_bytes_t *bytes)
{
    const char *data;
    size_t size;
    if (!zstore_fields_bytes (&request->fields, field, &data, &size))
        return false;
    *bytes = zstore_bytes (data, size);
    return true;
}

//  The scope of the request's namespace, with its configured quota.
static zstore_scope_t *
s_scope (zstore_request_t *request)
{
    zhashx_t *scopes = request->broker->scopes;
    zstore_scope_t *scope = zhashx_lookup (scopes, request->ns);
    if (scope)
        return scope;
    const zstore_quota_config_t *quota = zstore_config_quota (request->broker->config,
                                                              request->ns);
    scope = zstore_scope_new_with_quota (request->engine, request->ns,
                                         quota ? quota->max_keys : 0,
                                         quota ? quota->max_groups : 0, NULL);
    if (scope)
        zhashx_insert (scopes, request->ns, scope);
    return scope;
}

//  --- Reply writing --------------------------------------------------------

void
zstore_request_begin (zstore_request_t *request, uint32_t extra)
{
    zstore_reply_begin (request->writer, request->id, ZSTORE_STATUS_OK, NULL, extra);
}

void
zstore_request_write_item (zstore_writer_t *writer, const zstore_item_t *item, bool with_group)
{
    zstore_write_map (writer, with_group ? 6 : 5);
    if (with_group) {
        zstore_write_key (writer, "group");
        zstore_write_bytes (writer, item->group, item->group_size);
    }
    zstore_write_key (writer, "key");
    zstore_write_bytes (writer, item->key, item->key_size);
    zstore_write_key (writer, "value");
    zstore_write_bytes (writer, item->value, item->value_size);
    zstore_write_key (writer, "create_rev");
    zstore_write_uint (writer, item->create_revision);
    zstore_write_key (writer, "mod_rev");
    zstore_write_uint (writer, item->mod_revision);
    zstore_write_key (writer, "expires_at");
    zstore_write_uint (writer, item->expires_at > 0 ? (uint64_t) item->expires_at : 0);
}

void
zstore_request_write_items (zstore_writer_t *writer, const zstore_list_t *list, bool with_group)
{
    zstore_write_key (writer, "items");
    zstore_write_array (writer, (uint32_t) zstore_list_size (list));
    for (size_t index = 0; index < zstore_list_size (list); index++)
        zstore_request_write_item (writer, zstore_list_item (list, index), with_group);
}

//  A list of byte strings (group names, split parts): the items' keys.
static void
s_write_names (zstore_writer_t *writer, const char *field, const zstore_list_t *list)
{
    zstore_write_key (writer, field);
    zstore_write_array (writer, (uint32_t) zstore_list_size (list));
    for (size_t index = 0; index < zstore_list_size (list); index++) {
        const zstore_item_t *item = zstore_list_item (list, index);
        zstore_write_bytes (writer, item->key, item->key_size);
    }
}

static int
s_reply_revision (zstore_request_t *request, uint64_t revision)
{
    zstore_request_begin (request, 1);
    zstore_write_key (request->writer, "rev");
    zstore_write_uint (request->writer, revision);
    return ZSTORE_STATUS_OK;
}

static int
s_reply_uint (zstore_request_t *request, const char *field, uint64_t value)
{
    zstore_request_begin (request, 1);
    zstore_write_key (request->writer, field);
    zstore_write_uint (request->writer, value);
    return ZSTORE_STATUS_OK;
}

static int
s_reply_bool (zstore_request_t *request, const char *field, bool value)
{
    zstore_request_begin (request, 1);
    zstore_write_key (request->writer, field);
    zstore_write_bool (request->writer, value);
    return ZSTORE_STATUS_OK;
}

//  --- Keys -----------------------------------------------------------------

static int
s_op_ping (zstore_request_t *request)
{
    zstore_broker_t *broker = request->broker;
    zstore_request_begin (request, 3);
    zstore_write_key (request->writer, "epoch");
    zstore_write_uint (request->writer, broker->epoch);
    zstore_write_key (request->writer, "rev");
    zstore_write_uint (request->writer, zstore_engine_revision (request->engine));
    zstore_write_key (request->writer, "time");
    zstore_write_uint (request->writer, (uint64_t) zclock_time ());
    return ZSTORE_STATUS_OK;
}

static int
s_op_get (zstore_request_t *request)
{
    zstore_bytes_t group, key;
    if (!zstore_request_scoped_field (request, "group", true, &group) || !s_bytes_field (request, "key", &key))
        return zstore_request_bad (request);
    zstore_value_t value;
    int code = zstore_engine_get (request->engine, group, key, &value);
    if (code)
        return code;
    zstore_request_begin (request, 4);
    zstore_writer_t *writer = request->writer;
    zstore_write_key (writer, "value");
    zstore_write_bytes (writer, value.data, value.size);
    zstore_write_key (writer, "create_rev");
    zstore_write_uint (writer, value.create_revision);
    zstore_write_key (writer, "mod_rev");
    zstore_write_uint (writer, value.mod_revision);
    zstore_write_key (writer, "expires_at");
    zstore_write_uint (writer, value.expires_at > 0 ? (uint64_t) value.expires_at : 0);
    zstore_value_reset (&value);
    return ZSTORE_STATUS_OK;
}

static int
s_op_exists (zstore_request_t *request)
{
    zstore_bytes_t group, key;
    if (!zstore_request_scoped_field (request, "group", true, &group) || !s_bytes_field (request, "key", &key))
        return zstore_request_bad (request);
    bool exists = false;
    int code = zstore_engine_exists (request->engine, group, key, &exists);
    return code ? code : s_reply_bool (request, "exists", exists);
}

static int
s_op_set (zstore_request_t *request)
{
    zstore_bytes_t group, key, value;
    zstore_write_t options = ZSTORE_WRITE_DEFAULTS;
    bool has_if = false;
    const char *group_data;
    size_t group_size;
    if (!zstore_fields_bytes (&request->fields, "group", &group_data, &group_size)
    ||  !s_bytes_field (request, "key", &key) || !s_bytes_field (request, "value", &value)
    ||  !zstore_fields_opt_int (&request->fields, "ttl", &options.ttl_ms, &options.has_ttl)
    ||  !zstore_fields_opt_int (&request->fields, "if_rev", &options.if_revision, &has_if))
        return zstore_request_bad (request);
    if (!has_if)
        options.if_revision = ZSTORE_ANY_REVISION;
    else
    if (options.if_revision < 0)
        return zstore_request_fail (request, ZSTORE_STATUS_INVALID, "if_rev must be 0 or more");
    group = zstore_bytes (group_data, group_size);
    uint64_t revision = 0;
    int code;
    if (request->ns) {
        //  Through the scope: its quota is checked inside the write.
        zstore_scope_t *scope = s_scope (request);
        if (!scope)
            return zstore_request_fail (request, ZSTORE_STATUS_INTERNAL, "out of memory");
        code = zstore_scope_put (scope, group, key, value, &options, &revision);
    }
    else
        code = zstore_engine_put (request->engine, group, key, value, &options, &revision);
    return code ? code : s_reply_revision (request, revision);
}

static int
s_op_delete (zstore_request_t *request)
{
    zstore_bytes_t group, key;
    int64_t if_revision = ZSTORE_ANY_REVISION;
    bool has_if = false;
    if (!zstore_request_scoped_field (request, "group", true, &group) || !s_bytes_field (request, "key", &key)
    ||  !zstore_fields_opt_int (&request->fields, "if_rev", &if_revision, &has_if))
        return zstore_request_bad (request);
    if (has_if && if_revision < 0)
        return zstore_request_fail (request, ZSTORE_STATUS_INVALID, "if_rev must be 0 or more");
    uint64_t revision = 0;
    int code = zstore_engine_delete (request->engine, group, key,
                                     has_if ? if_revision : ZSTORE_ANY_REVISION, &revision);
    return code ? code : s_reply_revision (request, revision);
}

static int
s_op_count (zstore_request_t *request)
{
    zstore_bytes_t group;
    if (!zstore_request_scoped_field (request, "group", true, &group))
        return zstore_request_bad (request);
    int64_t count = 0;
    int code = zstore_engine_count (request->engine, group, &count);
    return code ? code : s_reply_uint (request, "count", (uint64_t) count);
}

static int
s_op_group_exists (zstore_request_t *request)
{
    zstore_bytes_t group;
    if (!zstore_request_scoped_field (request, "group", true, &group))
        return zstore_request_bad (request);
    bool exists = false;
    int code = zstore_engine_group_exists (request->engine, group, &exists);
    return code ? code : s_reply_bool (request, "exists", exists);
}

//  --- Groups ---------------------------------------------------------------

static int
s_op_delete_group (zstore_request_t *request)
{
    zstore_bytes_t group;
    if (!zstore_request_scoped_field (request, "group", true, &group))
        return zstore_request_bad (request);
    uint64_t revision = 0;
    int code = zstore_engine_delete_group (request->engine, group, &revision);
    return code ? code : s_reply_revision (request, revision);
}

static int
s_op_delete_prefix (zstore_request_t *request)
{
    zstore_bytes_t prefix;
    if (!zstore_request_scoped_field (request, "prefix", false, &prefix))
        return zstore_request_bad (request);
    uint64_t revision = 0;
    int code = zstore_engine_delete_prefix (request->engine, prefix, &revision);
    return code ? code : s_reply_revision (request, revision);
}

static int
s_op_get_all (zstore_request_t *request)
{
    zstore_bytes_t group;
    if (!zstore_request_scoped_field (request, "group", true, &group))
        return zstore_request_bad (request);
    zstore_list_t *list = NULL;
    int code = zstore_engine_get_all (request->engine, group, &list);
    if (code)
        return code;
    zstore_request_begin (request, 1);
    zstore_request_write_items (request->writer, list, false);
    zstore_list_destroy (&list);
    return ZSTORE_STATUS_OK;
}

static int
s_op_get_page (zstore_request_t *request)
{
    zstore_bytes_t group, after;
    uint64_t offset = 0, limit = 0;
    bool has_offset, has_after;
    const char *after_data;
    size_t after_size;
    if (!zstore_request_scoped_field (request, "group", true, &group)
    ||  !zstore_fields_uint (&request->fields, "limit", &limit)
    ||  !zstore_fields_opt_uint (&request->fields, "offset", &offset, &has_offset)
    ||  !zstore_fields_opt_bytes (&request->fields, "after", &after_data, &after_size,
                                  &has_after))
        return zstore_request_bad (request);
    if (limit > INT32_MAX || offset > INT64_MAX)
        return zstore_request_fail (request, ZSTORE_STATUS_INVALID, "limit or offset too large");
    after = zstore_bytes (after_data, after_size);
    zstore_list_t *list = NULL;
    //  One more than asked tells whether another page follows.
    int code = has_after
        ? zstore_engine_get_page_after (request->engine, group, &after, (int64_t) limit + 1, &list)
        : zstore_engine_get_page (request->engine, group, (int64_t) offset, (int64_t) limit + 1,
                                  &list);
    if (code)
        return code;
    bool more = zstore_list_size (list) > limit;
    zstore_request_begin (request, 2);
    zstore_write_key (request->writer, "items");
    zstore_write_array (request->writer, (uint32_t) (more ? limit : zstore_list_size (list)));
    for (size_t index = 0; index < zstore_list_size (list) && index < limit; index++)
        zstore_request_write_item (request->writer, zstore_list_item (list, index), false);
    zstore_write_key (request->writer, "more");
    zstore_write_bool (request->writer, more);
    zstore_list_destroy (&list);
    return ZSTORE_STATUS_OK;
}

static int
s_op_count_all (zstore_request_t *request)
{
    zstore_bytes_t prefix;
    if (!zstore_request_scoped_field (request, "prefix", false, &prefix))
        return zstore_request_bad (request);
    int64_t count = 0;
    int code = zstore_engine_count_all (request->engine, prefix, &count);
    return code ? code : s_reply_uint (request, "count", (uint64_t) count);
}

static int
s_op_groups (zstore_request_t *request)
{
    const char *data = "";
    size_t size = 0;
    bool present;
    if (!zstore_fields_opt_bytes (&request->fields, "prefix", &data, &size, &present))
        return zstore_request_bad (request);
    zstore_list_t *list = NULL;
    int code;
    if (request->ns) {
        zstore_scope_t *scope = s_scope (request);
        code = scope ? zstore_scope_groups (scope, zstore_bytes (data, size), &list)
                     : ZSTORE_STATUS_INTERNAL;
    }
    else
        code = zstore_engine_groups (request->engine, zstore_bytes (data, size), &list);
    if (code)
        return code;
    zstore_request_begin (request, 1);
    s_write_names (request->writer, "groups", list);
    zstore_list_destroy (&list);
    return ZSTORE_STATUS_OK;
}

//  --- Values -----------------------------------------------------------------

static int
s_op_get_split (zstore_request_t *request)
{
    zstore_bytes_t group, key, separator;
    if (!zstore_request_scoped_field (request, "group", true, &group) || !s_bytes_field (request, "key", &key)
    ||  !s_bytes_field (request, "sep", &separator))
        return zstore_request_bad (request);
    zstore_list_t *parts = NULL;
    int code = zstore_engine_get_split (request->engine, group, key, separator, &parts);
    if (code)
        return code;
    zstore_request_begin (request, 1);
    s_write_names (request->writer, "parts", parts);
    zstore_list_destroy (&parts);
    return ZSTORE_STATUS_OK;
}

static int
s_op_get_fields (zstore_request_t *request)
{
    zstore_bytes_t group, key;
    if (!zstore_request_scoped_field (request, "group", true, &group) || !s_bytes_field (request, "key", &key))
        return zstore_request_bad (request);
    zstore_list_t *parts = NULL;
    int code = zstore_engine_get_fields (request->engine, group, key, &parts);
    if (code)
        return code;
    zstore_request_begin (request, 1);
    s_write_names (request->writer, "parts", parts);
    zstore_list_destroy (&parts);
    return ZSTORE_STATUS_OK;
}

static int
s_op_render (zstore_request_t *request)
{
    zstore_bytes_t group, source;
    if (!zstore_request_scoped_field (request, "group", true, &group)
    ||  !s_bytes_field (request, "template", &source))
        return zstore_request_bad (request);
    char *output = NULL;
    size_t size = 0;
    int code = zstore_engine_render (request->engine, source, group, &output, &size);
    if (code)
        return code;
    zstore_request_begin (request, 1);
    zstore_write_key (request->writer, "output");
    zstore_write_bytes (request->writer, output, size);
    free (output);
    return ZSTORE_STATUS_OK;
}

static int
s_op_purge (zstore_request_t *request)
{
    uint64_t max = 0;
    bool has_max;
    if (!zstore_fields_opt_uint (&request->fields, "max", &max, &has_max))
        return zstore_request_bad (request);
    if (has_max && (max == 0 || max > INT32_MAX))
        return zstore_request_fail (request, ZSTORE_STATUS_INVALID, "max must be from 1 to %d", INT32_MAX);
    int64_t removed = 0;
    uint64_t before = zstore_engine_revision (request->engine);
    int code;
    if (request->ns) {
        zstore_scope_t *scope = s_scope (request);
        code = !scope ? ZSTORE_STATUS_INTERNAL
             : has_max ? zstore_scope_purge_expired_step (scope, (int64_t) max, &removed)
             : zstore_scope_purge_expired (scope, &removed);
    }
    else
    if (has_max)
        code = zstore_engine_purge_expired_step (request->engine, (int64_t) max, &removed);
    else
        code = zstore_engine_purge_expired (request->engine, &removed);
    if (code)
        return code;
    uint64_t after = zstore_engine_revision (request->engine);
    zstore_request_begin (request, 2);
    zstore_write_key (request->writer, "removed");
    zstore_write_uint (request->writer, (uint64_t) removed);
    zstore_write_key (request->writer, "rev");
    zstore_write_uint (request->writer, after > before ? after : 0);
    return ZSTORE_STATUS_OK;
}

//  --- Stats --------------------------------------------------------------

static int
s_op_stats (zstore_request_t *request)
{
    zstore_request_begin (request, ZSTORE_STATS_PAIRS);
    zstore_stats_write (request->broker, request->writer);
    return ZSTORE_STATUS_OK;
}


//  --- The table ----------------------------------------------------------

typedef struct {
    const char *name;
    s_handler_fn *handler;
    bool in_transaction;            //  allowed as a txn op
} s_operation_t;

static int s_op_txn (zstore_request_t *request);

static const s_operation_t s_operations [] = {
    { "ping", s_op_ping, false },
    { "get", s_op_get, true },
    { "exists", s_op_exists, true },
    { "set", s_op_set, true },
    { "delete", s_op_delete, true },
    { "count", s_op_count, true },
    { "group_exists", s_op_group_exists, false },
    { "delete_group", s_op_delete_group, true },
    { "delete_prefix", s_op_delete_prefix, true },
    { "get_all", s_op_get_all, false },
    { "get_page", s_op_get_page, false },
    { "count_all", s_op_count_all, false },
    { "groups", s_op_groups, false },
    { "get_split", s_op_get_split, false },
    { "get_fields", s_op_get_fields, false },
    { "render", s_op_render, false },
    { "purge", s_op_purge, false },
    { "txn", s_op_txn, false },
    { "snapshot", zstore_views_snapshot, false },
    { "snapshot_next", zstore_views_snapshot_next, false },
    { "snapshot_close", zstore_views_snapshot_close, false },
    { "history", zstore_views_history, false },
    { "stats", s_op_stats, false },
};

#define OPERATION_COUNT (sizeof s_operations / sizeof s_operations [0])

static const s_operation_t *
s_operation (const char *name, size_t size, size_t *index_p)
{
    for (size_t index = 0; index < OPERATION_COUNT; index++) {
        if (strlen (s_operations [index].name) == size
        &&  memcmp (s_operations [index].name, name, size) == 0) {
            *index_p = index;
            return &s_operations [index];
        }
    }
    return NULL;
}

size_t
zstore_dispatch_op_count (void)
{
    return OPERATION_COUNT;
}

const char *
zstore_dispatch_op_name (size_t index)
{
    return index < OPERATION_COUNT ? s_operations [index].name : "";
}

//  An error reply: the handler's message, else the engine's.
static void
s_write_error (zstore_request_t *request, int status, uint32_t extra)
{
    const char *message = request->error [0] ? request->error
                                              : zstore_engine_error (request->engine);
    zstore_reply_begin (request->writer, request->id, status, message, extra);
}

//  --- Transactions -------------------------------------------------------

//  Runs one txn op into the scratch writer; returns its status.
static int
s_txn_step (zstore_request_t *request, const msgpack_object *op_map, size_t position)
{
    zstore_request_t step = *request;
    step.id = NULL;
    step.writer = &request->broker->scratch;
    step.error [0] = 0;
    if (op_map->type != MSGPACK_OBJECT_MAP)
        return zstore_request_fail (request, ZSTORE_STATUS_BAD_REQUEST, "ops[%zu] must be a map", position);
    zstore_fields_init (&step.fields, op_map);
    const char *name;
    size_t size, index;
    if (!zstore_fields_bytes (&step.fields, "op", &name, &size))
        return zstore_request_fail (request, ZSTORE_STATUS_BAD_REQUEST, "ops[%zu]: %s", position,
                       step.fields.error);
    const s_operation_t *operation = s_operation (name, size, &index);
    if (!operation || !operation->in_transaction)
        return zstore_request_fail (request, operation ? ZSTORE_STATUS_INVALID : ZSTORE_STATUS_UNKNOWN_OP,
                       "ops[%zu]: op \"%.*s\" is not allowed in a transaction", position,
                       (int) size, name);
    int status = operation->handler (&step);
    bool get_missing = status == ZSTORE_STATUS_NOT_FOUND && strcmp (operation->name, "get") == 0;
    if (get_missing)
        s_write_error (&step, status, 0);       //  a result, not a failure
    else
    if (status)
        zstore_request_fail (request, status, "ops[%zu] (%s): %s", position, operation->name,
                step.error [0] ? step.error : zstore_engine_error (request->engine));
    return get_missing ? ZSTORE_STATUS_OK : status;
}

static int
s_op_txn (zstore_request_t *request)
{
    const msgpack_object_array *ops;
    if (!zstore_fields_array (&request->fields, "ops", &ops))
        return zstore_request_bad (request);
    zstore_writer_reset (&request->broker->scratch);
    int status = zstore_engine_begin (request->engine);
    if (status)
        return status;
    uint32_t position;
    for (position = 0; position < ops->size && status == ZSTORE_STATUS_OK; position++)
        status = s_txn_step (request, &ops->ptr [position], position);
    uint64_t revision = 0;
    if (status) {
        zstore_engine_rollback (request->engine);
        request->broker->stats.errors [status < ZSTORE_STATUS_COUNT ? status
                                                                    : ZSTORE_STATUS_INTERNAL]++;
        s_write_error (request, status, 1);
        zstore_write_key (request->writer, "failed");
        zstore_write_uint (request->writer, position - 1);
        return ZSTORE_STATUS_OK;                //  the reply is written
    }
    status = zstore_engine_commit (request->engine, &revision);
    if (status)
        return status;
    zstore_request_begin (request, 2);
    zstore_write_key (request->writer, "results");
    zstore_write_array (request->writer, ops->size);
    msgpack_sbuffer *scratch = &request->broker->scratch.buffer;
    zstore_write_raw (request->writer, scratch->data, scratch->size);
    zstore_write_key (request->writer, "rev");
    zstore_write_uint (request->writer, revision);
    return ZSTORE_STATUS_OK;
}

//  --- Entry --------------------------------------------------------------

//  The namespace field: absent, or a valid namespace name.
static int
s_read_namespace (zstore_request_t *request, char *buffer, size_t buffer_size)
{
    const char *data;
    size_t size;
    bool present;
    if (!zstore_fields_opt_bytes (&request->fields, "ns", &data, &size, &present))
        return zstore_request_bad (request);
    if (!present)
        return ZSTORE_STATUS_OK;
    if (size >= buffer_size || !zstore_namespace_is_valid (zstore_bytes (data, size)))
        return zstore_request_fail (request, ZSTORE_STATUS_INVALID, "namespace \"%.*s\" is invalid; use"
                       " names like \"tenant-a\" or \"tenant-42\"", (int) (size < 64 ? size : 64),
                       data);
    memcpy (buffer, data, size);
    buffer [size] = 0;
    request->ns = buffer;
    return ZSTORE_STATUS_OK;
}

static int
s_check_version (zstore_request_t *request)
{
    uint64_t version = ZSTORE_PROTO_VERSION;
    bool present;
    if (!zstore_fields_opt_uint (&request->fields, "v", &version, &present))
        return zstore_request_bad (request);
    if (version != ZSTORE_PROTO_VERSION)
        return zstore_request_fail (request, ZSTORE_STATUS_UNSUPPORTED_VERSION,
                       "protocol version %llu is not supported; this broker speaks 1",
                       (unsigned long long) version);
    return ZSTORE_STATUS_OK;
}

static int
s_route (zstore_request_t *request, char *ns_buffer, size_t ns_size, size_t *op_index_p)
{
    int status = s_check_version (request);
    if (status == ZSTORE_STATUS_OK)
        status = s_read_namespace (request, ns_buffer, ns_size);
    if (status)
        return status;
    const char *name;
    size_t size;
    if (!zstore_fields_bytes (&request->fields, "op", &name, &size))
        return zstore_request_bad (request);
    const s_operation_t *operation = s_operation (name, size, op_index_p);
    if (!operation)
        return zstore_request_fail (request, ZSTORE_STATUS_UNKNOWN_OP, "unknown op \"%.*s\"",
                       (int) (size < 64 ? size : 64), name);
    request->broker->stats.requests [*op_index_p]++;
    return operation->handler (request);
}

void
zstore_dispatch (zstore_broker_t *self, const void *body, size_t size)
{
    zstore_request_t request = { .broker = self, .engine = self->engine, .writer = &self->reply };
    zstore_writer_reset (&self->reply);
    int status;
    char ns [128];
    size_t op_index = 0;
    //  Parsed even when too large (the transport's hard limit bounds it),
    //  so that the too_large reply carries the request's id. In place, with
    //  the broker's reader: the body outlives the reply being built.
    const char *error = NULL;
    const msgpack_object *root = zstore_reader_parse (self->request_reader, body, size, &error);
    if (root) {
        zstore_fields_init (&request.fields, root);
        request.id = zstore_fields_find (&request.fields, "id");
    }
    if (size > (size_t) self->config->max_request)
        status = zstore_request_fail (&request, ZSTORE_STATUS_TOO_LARGE, "request of %zu bytes"
                                      " is larger than the limit of %lld", size,
                                      (long long) self->config->max_request);
    else
    if (root)
        status = s_route (&request, ns, sizeof ns, &op_index);
    else
        status = zstore_request_fail (&request, ZSTORE_STATUS_BAD_REQUEST, "%s", error);
    //  A reply that could not be built whole (out of memory) is not sent
    //  half-written.
    if (status == ZSTORE_STATUS_OK && zstore_writer_failed (&self->reply))
        status = zstore_request_fail (&request, ZSTORE_STATUS_INTERNAL,
                                      "out of memory building the reply");
    if (status) {
        self->stats.errors [status < ZSTORE_STATUS_COUNT ? status : ZSTORE_STATUS_INTERNAL]++;
        zstore_writer_reset (&self->reply);
        s_write_error (&request, status, 0);
    }
}
