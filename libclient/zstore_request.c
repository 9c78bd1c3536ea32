/*  =========================================================================
    zstore_request - the generic request builder, the reply object with its
    typed accessors, entries decoded from replies, and a reply as JSON.

    A request keeps its own fields as encoded msgpack pairs; the envelope
    (v, id, op, ns) is written around them at each send, so one request can
    be sent again with a fresh id after a reconnect. A reply keeps the
    parsed message; the byte strings it hands out are NUL-terminated copies
    cached in the reply (msgpack's own point into the wire buffer, which has
    no room for a NUL).
    =========================================================================
*/

#include "zstore_client_private.h"

#include <inttypes.h>
#include <math.h>

struct _zstore_request_t {
    char *op;
    zstore_writer_t fields;         //  the pairs added, encoded
    uint32_t pairs;
    bool has_ns;                    //  a pair named "ns" was added
    bool omit_ns;
    bool retry_safe;
    int status;                     //  ZSTORE_OK or the first add's problem
    char problem [160];
};

struct _zstore_reply_t {
    zstore_reader_t *reader;
    uint64_t id;
    int status;
    char *error;                    //  heap, "" when none
    zhashx_t *copies;               //  field name -> NUL-terminated copy of its bytes
};

//  --- Operations ---------------------------------------------------------

//  The reads: re-sent automatically after a lost reply. Keep this list and
//  the header comment of zstore_client.h the same.
static const char *s_idempotent_ops [] = {
    "ping", "get", "exists", "count", "group_exists", "get_all", "get_page", "count_all",
    "groups", "get_split", "get_fields", "render", "stats", "history", "snapshot_next",
    "snapshot_close"
};

bool
zstore_op_is_idempotent (const char *op)
{
    if (!op)
        return false;
    for (size_t index = 0; index < sizeof s_idempotent_ops / sizeof s_idempotent_ops [0]; index++)
        if (streq (op, s_idempotent_ops [index]))
            return true;
    return false;
}

//  --- Requests -----------------------------------------------------------

zstore_request_t *
zstore_request_new (const char *op)
{
    if (!op || !*op)
        return NULL;
    zstore_request_t *self = calloc (1, sizeof (zstore_request_t));
    if (!self)
        return NULL;
    self->op = strdup (op);
    if (!self->op) {
        free (self);
        return NULL;
    }
    zstore_writer_init (&self->fields);
    return self;
}

void
zstore_request_destroy (zstore_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_request_t *self = *self_p;
    zstore_writer_free (&self->fields);
    free (self->op);
    free (self);
    *self_p = NULL;
}

//  Records the first problem; later adds are ignored.
static void
s_request_problem (zstore_request_t *self, int code, const char *name, const char *problem)
{
    if (self->status != ZSTORE_OK)
        return;
    self->status = code;
    snprintf (self->problem, sizeof self->problem, "%s: field '%s' %s", self->op,
              name ? name : "(null)", problem);
}

//  Starts a pair: false (and the problem recorded) if the add is refused.
static bool
s_request_key (zstore_request_t *self, const char *name, bool value_ok)
{
    if (!self)
        return false;
    if (!name || !value_ok) {
        s_request_problem (self, ZSTORE_ARGUMENT, name, name ? "is NULL" : "has no name");
        return false;
    }
    if (self->status != ZSTORE_OK)
        return false;
    if (streq (name, "ns"))
        self->has_ns = true;
    zstore_write_key (&self->fields, name);
    self->pairs++;
    return true;
}

void
zstore_request_add_bytes (zstore_request_t *self, const char *name, const void *data,
                          size_t size)
{
    if (s_request_key (self, name, data || size == 0))
        zstore_write_bytes (&self->fields, data ? data : "", size);
}

void
zstore_request_add_str (zstore_request_t *self, const char *name, const char *text)
{
    if (s_request_key (self, name, text != NULL))
        zstore_write_str (&self->fields, text);
}

void
zstore_request_add_uint (zstore_request_t *self, const char *name, uint64_t value)
{
    if (s_request_key (self, name, true))
        zstore_write_uint (&self->fields, value);
}

void
zstore_request_add_int (zstore_request_t *self, const char *name, int64_t value)
{
    if (s_request_key (self, name, true))
        zstore_write_int (&self->fields, value);
}

void
zstore_request_add_bool (zstore_request_t *self, const char *name, bool value)
{
    if (s_request_key (self, name, true))
        zstore_write_bool (&self->fields, value);
}

void
zstore_request_add_raw (zstore_request_t *self, const char *name, const void *msgpack,
                        size_t size)
{
    if (s_request_key (self, name, msgpack && size > 0))
        zstore_write_raw (&self->fields, msgpack, size);
}

void
zstore_request_add_scope (zstore_request_t *self, const char *ns, const void *group,
                          size_t group_size, const void *key, size_t key_size,
                          const void *prefix, size_t prefix_size)
{
    if (!s_request_key (self, "scope", true))
        return;
    zstore_writer_t *writer = &self->fields;
    zstore_write_map (writer, (ns ? 1 : 0) + (group ? 1 : 0) + (key ? 1 : 0) + (prefix ? 1 : 0));
    if (ns) {
        zstore_write_key (writer, "ns");
        zstore_write_str (writer, ns);
    }
    if (group) {
        zstore_write_key (writer, "group");
        zstore_write_bytes (writer, group, group_size);
    }
    if (key) {
        zstore_write_key (writer, "key");
        zstore_write_bytes (writer, key, key_size);
    }
    if (prefix) {
        zstore_write_key (writer, "prefix");
        zstore_write_bytes (writer, prefix, prefix_size);
    }
}

void
zstore_request_set_retry_safe (zstore_request_t *self, bool retry_safe)
{
    if (self)
        self->retry_safe = retry_safe;
}

const char *
zstore_request_op (zstore_request_t *self)
{
    return self->op;
}

bool
zstore_request_resendable (zstore_request_t *self)
{
    return self->retry_safe || zstore_op_is_idempotent (self->op);
}

void
zstore_request_omit_namespace (zstore_request_t *self)
{
    if (self)
        self->omit_ns = true;
}

int
zstore_request_status (zstore_request_t *self)
{
    if (self->status == ZSTORE_OK && zstore_writer_failed (&self->fields))
        s_request_problem (self, ZSTORE_NO_MEMORY, "(any)", "ran out of memory");
    return self->status;
}

const char *
zstore_request_problem (zstore_request_t *self)
{
    return self->problem;
}

int
zstore_request_encode (zstore_request_t *self, uint64_t id, const char *ns,
                       zstore_writer_t *writer)
{
    int status = zstore_request_status (self);
    if (status != ZSTORE_OK)
        return status;
    bool with_ns = ns && !self->has_ns && !self->omit_ns;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 3 + (with_ns ? 1 : 0) + self->pairs);
    zstore_write_key (writer, "v");
    zstore_write_uint (writer, ZSTORE_PROTO_VERSION);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, id);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, self->op);
    if (with_ns) {
        zstore_write_key (writer, "ns");
        zstore_write_str (writer, ns);
    }
    zstore_write_raw (writer, self->fields.buffer.data, self->fields.buffer.size);
    return zstore_writer_failed (writer) ? ZSTORE_NO_MEMORY : ZSTORE_OK;
}

//  --- Replies ------------------------------------------------------------

static void
s_copy_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

zstore_reply_t *
zstore_reply_decode (const void *data, size_t size, char **error_p)
{
    zstore_reply_t *self = calloc (1, sizeof (zstore_reply_t));
    if (!self) {
        if (error_p)
            *error_p = strdup ("out of memory");
        return NULL;
    }
    self->reader = zstore_reader_new (data, size, error_p);
    self->copies = zhashx_new ();
    if (!self->reader || !self->copies) {
        zstore_reply_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->copies, s_copy_destroy);
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (self->reader));
    uint64_t status = 0;
    bool present = false;
    const char *error = "";
    size_t error_size = 0;
    if (!zstore_fields_uint (&fields, "status", &status) || status > INT_MAX
    ||  !zstore_fields_opt_bytes (&fields, "error", &error, &error_size, &present)) {
        if (error_p)
            *error_p = strdup (fields.failed ? fields.error : "field 'status' is out of range");
        zstore_reply_destroy (&self);
        return NULL;
    }
    self->status = (int) status;
    zstore_fields_opt_uint (&fields, "id", &self->id, &present);
    self->error = zstore_bytes_copy (error, error_size);
    if (!self->error) {
        if (error_p)
            *error_p = strdup ("out of memory");
        zstore_reply_destroy (&self);
    }
    return self;
}

void
zstore_reply_destroy (zstore_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_reply_t *self = *self_p;
    zstore_reader_destroy (&self->reader);
    zhashx_destroy (&self->copies);
    free (self->error);
    free (self);
    *self_p = NULL;
}

uint64_t
zstore_reply_id (zstore_reply_t *self)
{
    return self ? self->id : 0;
}

int
zstore_reply_status (zstore_reply_t *self)
{
    return self ? self->status : ZSTORE_ARGUMENT;
}

const char *
zstore_reply_error (zstore_reply_t *self)
{
    return self ? self->error : "";
}

const msgpack_object *
zstore_reply_root (zstore_reply_t *self)
{
    return self ? zstore_reader_root (self->reader) : NULL;
}

const msgpack_object *
zstore_reply_field (zstore_reply_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (self->reader));
    return zstore_fields_find (&fields, name);
}

bool
zstore_reply_uint (zstore_reply_t *self, const char *name, uint64_t *value)
{
    const msgpack_object *object = zstore_reply_field (self, name);
    if (!object || object->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    if (value)
        *value = object->via.u64;
    return true;
}

bool
zstore_reply_bool (zstore_reply_t *self, const char *name, bool *value)
{
    const msgpack_object *object = zstore_reply_field (self, name);
    if (!object || object->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    if (value)
        *value = object->via.boolean;
    return true;
}

//  The bytes of a bin or str object; false for other types.
static bool
s_object_bytes (const msgpack_object *object, const char **data, size_t *size)
{
    if (object && object->type == MSGPACK_OBJECT_BIN) {
        *data = object->via.bin.ptr;
        *size = object->via.bin.size;
        return true;
    }
    if (object && object->type == MSGPACK_OBJECT_STR) {
        *data = object->via.str.ptr;
        *size = object->via.str.size;
        return true;
    }
    return false;
}

bool
zstore_reply_bytes (zstore_reply_t *self, const char *name, const char **data, size_t *size)
{
    const char *bytes;
    size_t bytes_size;
    if (!s_object_bytes (zstore_reply_field (self, name), &bytes, &bytes_size))
        return false;
    char *copy = zhashx_lookup (self->copies, name);
    if (!copy) {
        copy = zstore_bytes_copy (bytes, bytes_size);
        if (!copy || zhashx_insert (self->copies, name, copy) != 0) {
            free (copy);
            return false;
        }
    }
    if (data)
        *data = copy;
    if (size)
        *size = bytes_size;
    return true;
}

//  --- Entries ------------------------------------------------------------

char *
zstore_bytes_copy (const void *data, size_t size)
{
    char *copy = malloc (size + 1);
    if (!copy)
        return NULL;
    if (size)
        memcpy (copy, data, size);
    copy [size] = 0;
    return copy;
}

void
zstore_entry_clear (zstore_entry_t *entry)
{
    if (!entry)
        return;
    free (entry->group);
    free (entry->key);
    free (entry->value);
    memset (entry, 0, sizeof (*entry));
}

void
zstore_entries_clear (zstore_entries_t *entries)
{
    if (!entries)
        return;
    for (size_t index = 0; index < entries->size; index++)
        zstore_entry_clear (&entries->entries [index]);
    free (entries->entries);
    memset (entries, 0, sizeof (*entries));
}

//  Copies an optional bytes field into *target (NULL when absent).
static int
s_entry_bytes (zstore_fields_t *fields, const char *name, char **target, size_t *target_size)
{
    const char *data;
    size_t size;
    bool present;
    if (!zstore_fields_opt_bytes (fields, name, &data, &size, &present))
        return ZSTORE_PROTOCOL_ERROR;
    if (!present)
        return ZSTORE_OK;
    *target = zstore_bytes_copy (data, size);
    *target_size = size;
    return *target ? ZSTORE_OK : ZSTORE_NO_MEMORY;
}

static int
s_entry_uint (zstore_fields_t *fields, const char *name, uint64_t *target)
{
    bool present;
    return zstore_fields_opt_uint (fields, name, target, &present)
         ? ZSTORE_OK : ZSTORE_PROTOCOL_ERROR;
}

//  An item map. History events carry "rev" (the change's) in place of
//  mod_rev: it is read as mod_rev.
static int
s_entry_from_map (zstore_entry_t *entry, const msgpack_object *map, char *problem)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, map);
    int code = s_entry_bytes (&fields, "group", &entry->group, &entry->group_size);
    if (!code)
        code = s_entry_bytes (&fields, "key", &entry->key, &entry->key_size);
    if (!code)
        code = s_entry_bytes (&fields, "value", &entry->value, &entry->value_size);
    if (!code)
        code = s_entry_uint (&fields, "create_rev", &entry->create_rev);
    if (!code)
        code = s_entry_uint (&fields, zstore_fields_find (&fields, "mod_rev") ? "mod_rev" : "rev",
                             &entry->mod_rev);
    if (!code)
        code = s_entry_uint (&fields, "expires_at", &entry->expires_at);
    if (!code && !entry->key)
        code = (entry->key = zstore_bytes_copy ("", 0)) ? ZSTORE_OK : ZSTORE_NO_MEMORY;
    if (code == ZSTORE_PROTOCOL_ERROR && problem)
        snprintf (problem, 160, "item: %.150s", fields.error);
    return code;
}

int
zstore_entry_read (zstore_entry_t *entry, const msgpack_object *object, char *problem)
{
    memset (entry, 0, sizeof (*entry));
    const char *data;
    size_t size;
    int code;
    if (s_object_bytes (object, &data, &size)) {
        entry->key = zstore_bytes_copy (data, size);
        entry->key_size = size;
        code = entry->key ? ZSTORE_OK : ZSTORE_NO_MEMORY;
    }
    else
    if (object && object->type == MSGPACK_OBJECT_MAP)
        code = s_entry_from_map (entry, object, problem);
    else {
        code = ZSTORE_PROTOCOL_ERROR;
        if (problem)
            snprintf (problem, 160, "an entry must be a map or bytes");
    }
    if (code != ZSTORE_OK)
        zstore_entry_clear (entry);
    return code;
}

static int
s_copy_field (char **target, size_t *target_size, const char *source, size_t source_size)
{
    *target_size = source_size;
    if (!source)
        return ZSTORE_OK;
    *target = zstore_bytes_copy (source, source_size);
    return *target ? ZSTORE_OK : ZSTORE_NO_MEMORY;
}

int
zstore_entry_copy (zstore_entry_t *entry, const zstore_entry_t *source)
{
    *entry = *source;
    entry->group = entry->key = entry->value = NULL;
    int code = s_copy_field (&entry->group, &entry->group_size, source->group,
                             source->group_size);
    if (!code)
        code = s_copy_field (&entry->key, &entry->key_size, source->key, source->key_size);
    if (!code)
        code = s_copy_field (&entry->value, &entry->value_size, source->value,
                             source->value_size);
    if (code)
        zstore_entry_clear (entry);
    return code;
}

int
zstore_entries_append (zstore_entries_t *entries, zstore_entry_t *entry)
{
    //  The capacity is not stored: 16 at first, then doubled whenever size
    //  reaches a power of two (entries grow only through this function).
    size_t size = entries->size;
    if (size == 0 || (size >= 16 && (size & (size - 1)) == 0)) {
        size_t capacity = size ? size * 2 : 16;
        zstore_entry_t *grown = realloc (entries->entries, capacity * sizeof (zstore_entry_t));
        if (!grown)
            return ZSTORE_NO_MEMORY;
        entries->entries = grown;
    }
    entries->entries [entries->size++] = *entry;
    memset (entry, 0, sizeof (*entry));
    return ZSTORE_OK;
}

int
zstore_reply_entries (zstore_reply_t *self, const char *name, zstore_entries_t *entries)
{
    if (!entries)
        return ZSTORE_ARGUMENT;
    memset (entries, 0, sizeof (*entries));
    const msgpack_object *array = zstore_reply_field (self, name);
    if (!array || array->type != MSGPACK_OBJECT_ARRAY)
        return ZSTORE_PROTOCOL_ERROR;
    for (uint32_t index = 0; index < array->via.array.size; index++) {
        zstore_entry_t entry;
        int code = zstore_entry_read (&entry, &array->via.array.ptr [index], NULL);
        if (code == ZSTORE_OK && (code = zstore_entries_append (entries, &entry)))
            zstore_entry_clear (&entry);
        if (code != ZSTORE_OK) {
            zstore_entries_clear (entries);
            return code;
        }
    }
    zstore_reply_bool (self, "more", &entries->more);
    return ZSTORE_OK;
}

//  --- JSON ---------------------------------------------------------------

//  The text being written; failed once an append ran out of memory.
typedef struct {
    zstore_buffer_t buffer;
    bool failed;
} s_json_t;

static void
s_json_put (s_json_t *out, const void *data, size_t size)
{
    if (!out->failed && zstore_buffer_append (&out->buffer, data, size) != 0)
        out->failed = true;
}

static void
s_json_text (s_json_t *out, const char *text)
{
    s_json_put (out, text, strlen (text));
}

//  A JSON string of valid UTF-8: quotes, backslashes and control
//  characters escaped.
static void
s_json_string (s_json_t *out, const char *data, size_t size)
{
    s_json_put (out, "\"", 1);
    size_t run = 0;                 //  start of the bytes not yet written
    for (size_t index = 0; index < size; index++) {
        unsigned char c = (unsigned char) data [index];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        s_json_put (out, data + run, index - run);
        run = index + 1;
        char escape [8];
        switch (c) {
            case '"':  s_json_text (out, "\\\""); break;
            case '\\': s_json_text (out, "\\\\"); break;
            case '\n': s_json_text (out, "\\n"); break;
            case '\r': s_json_text (out, "\\r"); break;
            case '\t': s_json_text (out, "\\t"); break;
            case '\b': s_json_text (out, "\\b"); break;
            case '\f': s_json_text (out, "\\f"); break;
            default:
                snprintf (escape, sizeof escape, "\\u%04x", c);
                s_json_text (out, escape);
        }
    }
    s_json_put (out, data + run, size - run);
    s_json_put (out, "\"", 1);
}

static void
s_base64 (s_json_t *out, const unsigned char *data, size_t size)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t index = 0; index < size; index += 3) {
        uint32_t group = (uint32_t) data [index] << 16;
        if (index + 1 < size)
            group |= (uint32_t) data [index + 1] << 8;
        if (index + 2 < size)
            group |= data [index + 2];
        char quad [4] = {
            alphabet [(group >> 18) & 63], alphabet [(group >> 12) & 63],
            index + 1 < size ? alphabet [(group >> 6) & 63] : '=',
            index + 2 < size ? alphabet [group & 63] : '='
        };
        s_json_put (out, quad, 4);
    }
}

//  Bytes: a string if valid UTF-8, else {"base64": "..."}.
static void
s_json_bytes (s_json_t *out, const char *data, size_t size)
{
    if (zstore_utf8_valid (data, size)) {
        s_json_string (out, data, size);
        return;
    }
    s_json_text (out, "{\"base64\":\"");
    s_base64 (out, (const unsigned char *) data, size);
    s_json_text (out, "\"}");
}

static void s_json_object (s_json_t *out, const msgpack_object *object);

//  A map key: JSON keys are strings, so a non-bytes key is written as the
//  string of its JSON text.
static void
s_json_key (s_json_t *out, const msgpack_object *key)
{
    const char *data;
    size_t size;
    if (s_object_bytes (key, &data, &size) && zstore_utf8_valid (data, size)) {
        s_json_string (out, data, size);
        return;
    }
    s_json_t text = { .failed = false };
    zstore_buffer_init (&text.buffer);
    s_json_object (&text, key);
    out->failed |= text.failed;
    s_json_string (out, text.buffer.data ? text.buffer.data : "", text.buffer.size);
    zstore_buffer_free (&text.buffer);
}

static void
s_json_number (s_json_t *out, const msgpack_object *object)
{
    char number [40];
    if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf (number, sizeof number, "%" PRIu64, object->via.u64);
    else
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf (number, sizeof number, "%" PRId64, object->via.i64);
    else
    if (isfinite (object->via.f64))
        snprintf (number, sizeof number, "%.17g", object->via.f64);
    else
        snprintf (number, sizeof number, "null");     //  JSON has no inf or nan
    s_json_text (out, number);
}

static void
s_json_object (s_json_t *out, const msgpack_object *object)
{
    switch (object->type) {
        case MSGPACK_OBJECT_NIL:
            s_json_text (out, "null");
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            s_json_text (out, object->via.boolean ? "true" : "false");
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            s_json_number (out, object);
            break;
        case MSGPACK_OBJECT_STR:
            s_json_bytes (out, object->via.str.ptr, object->via.str.size);
            break;
        case MSGPACK_OBJECT_BIN:
            s_json_bytes (out, object->via.bin.ptr, object->via.bin.size);
            break;
        case MSGPACK_OBJECT_ARRAY:
            s_json_put (out, "[", 1);
            for (uint32_t index = 0; index < object->via.array.size; index++) {
                if (index)
                    s_json_put (out, ",", 1);
                s_json_object (out, &object->via.array.ptr [index]);
            }
            s_json_put (out, "]", 1);
            break;
        case MSGPACK_OBJECT_MAP:
            s_json_put (out, "{", 1);
            for (uint32_t index = 0; index < object->via.map.size; index++) {
                if (index)
                    s_json_put (out, ",", 1);
                s_json_key (out, &object->via.map.ptr [index].key);
                s_json_put (out, ":", 1);
                s_json_object (out, &object->via.map.ptr [index].val);
            }
            s_json_put (out, "}", 1);
            break;
        default:                    //  ext: not used by the protocol
            s_json_text (out, "null");
    }
}

char *
zstore_reply_json (zstore_reply_t *self)
{
    if (!self)
        return NULL;
    s_json_t out = { .failed = false };
    zstore_buffer_init (&out.buffer);
    s_json_object (&out, zstore_reply_root (self));
    char *text = out.failed ? NULL : zstore_bytes_copy (out.buffer.data ? out.buffer.data : "",
                                                        out.buffer.size);
    zstore_buffer_free (&out.buffer);
    return text;
}
