/*  =========================================================================
    zstore_proto - the codec of the zstore wire protocol (PROTOCOL.md).

    Everything here is a pure function of its arguments: no global mutable
    state, so the broker and libclient may call it from any thread.
    =========================================================================
*/

#include "zstore_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Containers may nest this deep (the root map is level 1).
#define S_MAX_DEPTH 32

//  --- Status codes -------------------------------------------------------

static const char *s_status_names [ZSTORE_STATUS_COUNT] = {
    [ZSTORE_STATUS_OK]                  = "ok",
    [ZSTORE_STATUS_NOT_FOUND]           = "not_found",
    [ZSTORE_STATUS_QUOTA_EXCEEDED]      = "quota_exceeded",
    [ZSTORE_STATUS_INVALID]             = "invalid",
    [ZSTORE_STATUS_CLOSED]              = "closed",
    [ZSTORE_STATUS_CONFLICT]            = "conflict",
    [ZSTORE_STATUS_INTERNAL]            = "internal",
    [ZSTORE_STATUS_TOO_OLD]             = "too_old",
    [ZSTORE_STATUS_BAD_REQUEST]         = "bad_request",
    [ZSTORE_STATUS_UNKNOWN_OP]          = "unknown_op",
    [ZSTORE_STATUS_TOO_LARGE]           = "too_large",
    [ZSTORE_STATUS_UNSUPPORTED_VERSION] = "unsupported_version",
    [ZSTORE_STATUS_BUSY]                = "busy",
    [ZSTORE_STATUS_UNKNOWN_SNAPSHOT]    = "unknown_snapshot",
};

//  True if data[0..size) is exactly the C string name.
static bool
s_bytes_equal (const char *data, size_t size, const char *name)
{
    size_t name_size = strlen (name);
    return size == name_size && (size == 0 || memcmp (data, name, size) == 0);
}

const char *
zstore_status_name (int status)
{
    if (status < 0 || status >= ZSTORE_STATUS_COUNT)
        return "unknown";
    return s_status_names [status];
}

int
zstore_status_from_name (const char *name, size_t size)
{
    if (!name)
        return -1;
    for (int status = 0; status < ZSTORE_STATUS_COUNT; status++)
        if (s_bytes_equal (name, size, s_status_names [status]))
            return status;
    return -1;
}

//  --- A growable byte buffer ---------------------------------------------

void
zstore_buffer_init (zstore_buffer_t *self)
{
    self->data = NULL;
    self->size = 0;
    self->capacity = 0;
}

void
zstore_buffer_reset (zstore_buffer_t *self)
{
    self->size = 0;
    if (self->data)
        self->data [0] = 0;
}

void
zstore_buffer_free (zstore_buffer_t *self)
{
    free (self->data);
    zstore_buffer_init (self);
}

//  Makes room for needed bytes, doubling so appends stay amortized O(1).
static int
s_buffer_reserve (zstore_buffer_t *self, size_t needed)
{
    if (needed <= self->capacity)
        return 0;
    size_t capacity = self->capacity ? self->capacity : 64;
    while (capacity < needed)
        capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
    char *data = realloc (self->data, capacity);
    if (!data)
        return -1;
    self->data = data;
    self->capacity = capacity;
    return 0;
}

//  The data stays NUL-terminated after size (not counted), so a buffer
//  holding text or an escaped name can be used as a C string.
int
zstore_buffer_append (zstore_buffer_t *self, const void *data, size_t size)
{
    if (size > SIZE_MAX - self->size - 1
    ||  s_buffer_reserve (self, self->size + size + 1))
        return -1;
    if (size)
        memcpy (self->data + self->size, data, size);
    self->size += size;
    self->data [self->size] = 0;
    return 0;
}

//  --- UTF-8 ---------------------------------------------------------------

size_t
zstore_utf8_length (const void *data, size_t size)
{
    const unsigned char *text = data;
    if (size == 0)
        return 0;
    unsigned char lead = text [0];
    if (lead < 0x80)
        return 1;
    size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || length > size || lead == 0xC0 || lead == 0xC1)
        return 0;
    for (size_t index = 1; index < length; index++)
        if ((text [index] & 0xC0) != 0x80)
            return 0;
    unsigned char second = text [1];
    if ((lead == 0xE0 && second < 0xA0)         //  overlong
    ||  (lead == 0xED && second >= 0xA0)        //  surrogates
    ||  (lead == 0xF0 && second < 0x90)         //  overlong
    ||  (lead == 0xF4 && second >= 0x90))       //  beyond U+10FFFF
        return 0;
    return length;
}

bool
zstore_utf8_valid (const void *data, size_t size)
{
    const unsigned char *text = data;
    size_t offset = 0;
    while (offset < size) {
        size_t length = zstore_utf8_length (text + offset, size - offset);
        if (length == 0)
            return false;
        offset += length;
    }
    return true;
}

//  --- Topics -------------------------------------------------------------

int
zstore_topic_escape (zstore_buffer_t *topic, const char *data, size_t size)
{
    //  Copy runs of plain bytes in one append; escape 0x00 and 0x01
    size_t start = 0;
    for (size_t index = 0; index < size; index++) {
        unsigned char byte = (unsigned char) data [index];
        if (byte > 0x01)
            continue;
        const char escape [2] = { 0x01, (char) (byte + 1) };
        if (zstore_buffer_append (topic, data + start, index - start)
        ||  zstore_buffer_append (topic, escape, 2))
            return -1;
        start = index + 1;
    }
    return size > start ? zstore_buffer_append (topic, data + start, size - start) : 0;
}

int
zstore_topic_unescape (zstore_buffer_t *out, const char *escaped, size_t size)
{
    zstore_buffer_reset (out);
    size_t start = 0;
    size_t index = 0;
    while (index < size) {
        unsigned char byte = (unsigned char) escaped [index];
        if (byte > 0x01) {
            index++;
            continue;
        }
        //  A raw NUL never appears in E(x); 0x01 must start a full escape
        if (byte == 0x00 || index + 1 == size)
            return -1;
        unsigned char second = (unsigned char) escaped [index + 1];
        if (second != 0x01 && second != 0x02)
            return -1;
        const char decoded = (char) (second - 1);
        if (zstore_buffer_append (out, escaped + start, index - start)
        ||  zstore_buffer_append (out, &decoded, 1))
            return -1;
        index += 2;
        start = index;
    }
    return size > start ? zstore_buffer_append (out, escaped + start, size - start) : 0;
}

//  Resets topic to its class byte.
static int
s_topic_start (zstore_buffer_t *topic, char topic_class)
{
    zstore_buffer_reset (topic);
    return zstore_buffer_append (topic, &topic_class, 1);
}

//  Appends E(name) and its NUL terminator.
static int
s_topic_name (zstore_buffer_t *topic, const char *name, size_t size)
{
    return zstore_topic_escape (topic, name, size) || zstore_buffer_append (topic, "", 1)
         ? -1 : 0;
}

//  Appends a namespace and its ':'. Valid namespaces escape to themselves;
//  escaping anyway keeps "group starts with ns:" equivalent to "E(group)
//  starts with E(ns):" for any ns without ':'.
static int
s_topic_namespace_part (zstore_buffer_t *topic, const char *ns, size_t ns_size)
{
    if (ns_size && memchr (ns, ':', ns_size))
        return -1;
    return zstore_topic_escape (topic, ns, ns_size) || zstore_buffer_append (topic, ":", 1)
         ? -1 : 0;
}

int
zstore_topic_key (zstore_buffer_t *topic, const char *group, size_t group_size,
                  const char *key, size_t key_size)
{
    return s_topic_start (topic, ZSTORE_TOPIC_DATA)
        || s_topic_name (topic, group, group_size)
        || s_topic_name (topic, key, key_size) ? -1 : 0;
}

int
zstore_topic_group (zstore_buffer_t *topic, const char *group, size_t group_size)
{
    return s_topic_start (topic, ZSTORE_TOPIC_DATA)
        || s_topic_name (topic, group, group_size) ? -1 : 0;
}

int
zstore_topic_key_prefix (zstore_buffer_t *topic, const char *group, size_t group_size,
                         const char *prefix, size_t prefix_size)
{
    //  No terminator after the prefix: E preserves prefixes
    return s_topic_start (topic, ZSTORE_TOPIC_DATA)
        || s_topic_name (topic, group, group_size)
        || zstore_topic_escape (topic, prefix, prefix_size) ? -1 : 0;
}

//  The empty namespace is refused: "d:" would select the groups that start
//  with ':', not the groups of namespace "" (those without ':').
int
zstore_topic_namespace (zstore_buffer_t *topic, const char *ns, size_t ns_size)
{
    zstore_buffer_reset (topic);
    if (ns_size == 0)
        return -1;
    return s_topic_start (topic, ZSTORE_TOPIC_DATA)
        || s_topic_namespace_part (topic, ns, ns_size) ? -1 : 0;
}

int
zstore_topic_everything (zstore_buffer_t *topic)
{
    return s_topic_start (topic, ZSTORE_TOPIC_DATA);
}

int
zstore_topic_group_beacon (zstore_buffer_t *topic, const char *group, size_t group_size)
{
    return s_topic_start (topic, ZSTORE_TOPIC_BEACON)
        || s_topic_name (topic, group, group_size) ? -1 : 0;
}

//  Unlike the data watch, the empty namespace is fine here: "n:" is the
//  beacon of namespace "", the groups without ':' (PROTOCOL.md 3.3).
int
zstore_topic_namespace_beacon (zstore_buffer_t *topic, const char *ns, size_t ns_size)
{
    return s_topic_start (topic, ZSTORE_TOPIC_NAMESPACE)
        || s_topic_namespace_part (topic, ns, ns_size) ? -1 : 0;
}

size_t
zstore_group_namespace_size (const char *group, size_t group_size)
{
    const char *colon = group_size ? memchr (group, ':', group_size) : NULL;
    return colon ? (size_t) (colon - group) : 0;
}

int
zstore_topic_for_event (zstore_buffer_t *topic, const char *type, const char *group,
                        size_t group_size, const char *key, size_t key_size)
{
    if (type && strcmp (type, "delete_group") == 0)
        return zstore_topic_group (topic, group, group_size);
    return zstore_topic_key (topic, group, group_size, key, key_size);
}

bool
zstore_topic_matches (const char *topic, size_t topic_size, const char *prefix,
                      size_t prefix_size)
{
    return prefix_size <= topic_size
        && (prefix_size == 0 || memcmp (topic, prefix, prefix_size) == 0);
}

//  --- Reading msgpack: checking the framing -----------------------------
//
//  msgpack-c allocates every array and map for the count its header
//  declares, before reading the elements: five bytes (dd ff ff ff ff) ask
//  for 96 GiB. So the raw bytes are walked first, allocating nothing: one
//  complete object, no trailing bytes, nesting at most S_MAX_DEPTH. Once
//  the walk has found every declared element (each takes a byte at least),
//  what msgpack-c allocates is a small multiple of the message size.

typedef enum {
    S_SCAN_OK,
    S_SCAN_TRUNCATED,
    S_SCAN_INVALID,
    S_SCAN_TOO_DEEP,
    S_SCAN_TRAILING
} s_scan_t;

static const char *s_scan_problems [] = {
    [S_SCAN_OK]        = "",
    [S_SCAN_TRUNCATED] = "truncated msgpack message",
    [S_SCAN_INVALID]   = "invalid msgpack data",
    [S_SCAN_TOO_DEEP]  = "message nested deeper than 32 levels",
    [S_SCAN_TRAILING]  = "trailing bytes after the message",
};

//  What follows a lead byte in 0xc0..0xdf (the MessagePack formats).
typedef enum {
    S_FORMAT_INVALID,
    S_FORMAT_FIXED,                 //  width bytes of payload
    S_FORMAT_BLOB,                  //  a width-byte length, then that many bytes
    S_FORMAT_EXT,                   //  a width-byte length, a type byte, the data
    S_FORMAT_ARRAY,                 //  a width-byte element count
    S_FORMAT_MAP                    //  a width-byte pair count
} s_format_kind_t;

typedef struct {
    unsigned char kind;
    unsigned char width;
} s_format_t;

static const s_format_t s_formats [32] = {
    { S_FORMAT_FIXED, 0 },          //  c0 nil
    { S_FORMAT_INVALID, 0 },        //  c1 never used
    { S_FORMAT_FIXED, 0 },          //  c2 false
    { S_FORMAT_FIXED, 0 },          //  c3 true
    { S_FORMAT_BLOB, 1 }, { S_FORMAT_BLOB, 2 }, { S_FORMAT_BLOB, 4 },       //  c4-c6 bin
    { S_FORMAT_EXT, 1 }, { S_FORMAT_EXT, 2 }, { S_FORMAT_EXT, 4 },          //  c7-c9 ext
    { S_FORMAT_FIXED, 4 }, { S_FORMAT_FIXED, 8 },                           //  ca-cb float
    { S_FORMAT_FIXED, 1 }, { S_FORMAT_FIXED, 2 },                           //  cc-cf uint
    { S_FORMAT_FIXED, 4 }, { S_FORMAT_FIXED, 8 },
    { S_FORMAT_FIXED, 1 }, { S_FORMAT_FIXED, 2 },                           //  d0-d3 int
    { S_FORMAT_FIXED, 4 }, { S_FORMAT_FIXED, 8 },
    { S_FORMAT_FIXED, 2 }, { S_FORMAT_FIXED, 3 }, { S_FORMAT_FIXED, 5 },    //  d4-d8 fixext:
    { S_FORMAT_FIXED, 9 }, { S_FORMAT_FIXED, 17 },                          //  type + data
    { S_FORMAT_BLOB, 1 }, { S_FORMAT_BLOB, 2 }, { S_FORMAT_BLOB, 4 },       //  d9-db str
    { S_FORMAT_ARRAY, 2 }, { S_FORMAT_ARRAY, 4 },                           //  dc-dd array
    { S_FORMAT_MAP, 2 }, { S_FORMAT_MAP, 4 },                               //  de-df map
};

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
} s_cursor_t;

static bool
s_cursor_skip (s_cursor_t *cursor, uint64_t size)
{
    if (size > cursor->size - cursor->offset)
        return false;
    cursor->offset += (size_t) size;
    return true;
}

//  Reads a big-endian unsigned integer of width bytes.
static bool
s_cursor_uint (s_cursor_t *cursor, size_t width, uint64_t *value)
{
    if (width > cursor->size - cursor->offset)
        return false;
    *value = 0;
    for (size_t index = 0; index < width; index++)
        *value = *value << 8 | cursor->data [cursor->offset + index];
    cursor->offset += width;
    return true;
}

//  Reads an item's header and, for a scalar, its payload. A container
//  leaves its element count in *children (a map's pairs count twice).
static s_scan_t
s_scan_item (s_cursor_t *cursor, bool *container, uint64_t *children)
{
    unsigned char lead = cursor->data [cursor->offset++];
    *container = false;
    if (lead <= 0x7f || lead >= 0xe0)
        return S_SCAN_OK;                               //  fixint
    if (lead <= 0x9f) {
        *container = true;                              //  fixmap, fixarray
        *children = lead <= 0x8f ? 2 * (uint64_t) (lead & 0x0f) : lead & 0x0f;
        return S_SCAN_OK;
    }
    if (lead <= 0xbf)                                   //  fixstr
        return s_cursor_skip (cursor, lead & 0x1f) ? S_SCAN_OK : S_SCAN_TRUNCATED;

    s_format_t format = s_formats [lead - 0xc0];
    uint64_t value;
    if (format.kind == S_FORMAT_INVALID)
        return S_SCAN_INVALID;
    if (format.kind == S_FORMAT_FIXED)
        return s_cursor_skip (cursor, format.width) ? S_SCAN_OK : S_SCAN_TRUNCATED;
    if (!s_cursor_uint (cursor, format.width, &value))
        return S_SCAN_TRUNCATED;
    if (format.kind == S_FORMAT_BLOB || format.kind == S_FORMAT_EXT) {
        uint64_t payload = value + (format.kind == S_FORMAT_EXT);
        return s_cursor_skip (cursor, payload) ? S_SCAN_OK : S_SCAN_TRUNCATED;
    }
    *container = true;
    *children = format.kind == S_FORMAT_MAP ? 2 * value : value;
    return S_SCAN_OK;
}

static s_scan_t
s_scan (const void *data, size_t size)
{
    s_cursor_t cursor = { data, size, 0 };
    //  remaining [depth]: items still to read at that depth; 0 is the root
    uint64_t remaining [S_MAX_DEPTH + 1] = { 1 };
    size_t depth = 0;
    while (true) {
        while (depth > 0 && remaining [depth] == 0)
            depth--;
        if (remaining [depth] == 0)
            break;
        if (cursor.offset == cursor.size)
            return S_SCAN_TRUNCATED;
        remaining [depth]--;
        bool container;
        uint64_t children = 0;
        s_scan_t result = s_scan_item (&cursor, &container, &children);
        if (result != S_SCAN_OK)
            return result;
        if (!container)
            continue;
        if (depth == S_MAX_DEPTH)
            return S_SCAN_TOO_DEEP;
        remaining [++depth] = children;
    }
    return cursor.offset == cursor.size ? S_SCAN_OK : S_SCAN_TRAILING;
}

//  --- Reading msgpack: the reader ---------------------------------------

struct _zstore_reader_t {
    msgpack_unpacked unpacked;
    char *data;                     //  our copy: str/bin objects point into it
    //  A reusable reader (zstore_reader_new_reusable): objects live in a
    //  zone kept from one parse to the next, strings in the caller's data.
    bool reusable;
    msgpack_zone zone;
    msgpack_object root;
};

//  Destroys the partial reader, sets *error_p to a copy of problem, and
//  returns NULL for the caller to return.
static zstore_reader_t *
s_reader_fail (zstore_reader_t **self_p, char **error_p, const char *problem)
{
    zstore_reader_destroy (self_p);
    if (error_p)
        *error_p = strdup (problem);
    return NULL;
}

zstore_reader_t *
zstore_reader_new (const void *data, size_t size, char **error_p)
{
    zstore_reader_t *self = NULL;
    if (error_p)
        *error_p = NULL;
    if (size == 0)
        return s_reader_fail (&self, error_p, "empty message");
    s_scan_t scan = s_scan (data, size);
    if (scan != S_SCAN_OK)
        return s_reader_fail (&self, error_p, s_scan_problems [scan]);

    self = calloc (1, sizeof (zstore_reader_t));
    if (!self)
        return s_reader_fail (&self, error_p, "out of memory");
    msgpack_unpacked_init (&self->unpacked);
    self->data = malloc (size);
    if (!self->data)
        return s_reader_fail (&self, error_p, "out of memory");
    memcpy (self->data, data, size);

    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked, self->data, size, &offset);
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        return s_reader_fail (&self, error_p, "out of memory");
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
        return s_reader_fail (&self, error_p, "invalid msgpack data");  //  the scan missed it
    if (self->unpacked.data.type != MSGPACK_OBJECT_MAP)
        return s_reader_fail (&self, error_p, "request must be a msgpack map");
    return self;
}

zstore_reader_t *
zstore_reader_new_reusable (void)
{
    zstore_reader_t *self = calloc (1, sizeof (zstore_reader_t));
    if (!self)
        return NULL;
    self->reusable = true;
    if (!msgpack_zone_init (&self->zone, MSGPACK_ZONE_CHUNK_SIZE)) {
        free (self);
        return NULL;
    }
    return self;
}

const msgpack_object *
zstore_reader_parse (zstore_reader_t *self, const void *data, size_t size, const char **error_p)
{
    *error_p = NULL;
    self->root.type = MSGPACK_OBJECT_NIL;
    //  Keeps the zone's first chunk: no allocation for a usual request.
    msgpack_zone_clear (&self->zone);
    s_scan_t scan = size ? s_scan (data, size) : S_SCAN_TRUNCATED;
    size_t offset = 0;
    if (size == 0)
        *error_p = "empty message";
    else
    if (scan != S_SCAN_OK)
        *error_p = s_scan_problems [scan];
    else {
        msgpack_unpack_return rc = msgpack_unpack (data, size, &offset, &self->zone, &self->root);
        if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
            *error_p = "out of memory";
        else
        if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
            *error_p = "invalid msgpack data";
        else
        if (self->root.type != MSGPACK_OBJECT_MAP)
            *error_p = "request must be a msgpack map";
    }
    if (*error_p)
        self->root.type = MSGPACK_OBJECT_NIL;
    return *error_p ? NULL : &self->root;
}

void
zstore_reader_destroy (zstore_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_reader_t *self = *self_p;
    if (self->reusable)
        msgpack_zone_destroy (&self->zone);
    msgpack_unpacked_destroy (&self->unpacked);
    free (self->data);
    free (self);
    *self_p = NULL;
}

const msgpack_object *
zstore_reader_root (zstore_reader_t *self)
{
    return !self ? NULL : self->reusable ? &self->root : &self->unpacked.data;
}

//  --- Typed field access -------------------------------------------------

void
zstore_fields_init (zstore_fields_t *self, const msgpack_object *map)
{
    self->map = map;
    self->failed = false;
    self->error [0] = 0;
}

//  A map key names a field if it is str or bin with exactly its bytes.
static bool
s_key_is (const msgpack_object *key, const char *name)
{
    if (key->type == MSGPACK_OBJECT_STR)
        return s_bytes_equal (key->via.str.ptr, key->via.str.size, name);
    if (key->type == MSGPACK_OBJECT_BIN)
        return s_bytes_equal (key->via.bin.ptr, key->via.bin.size, name);
    return false;
}

const msgpack_object *
zstore_fields_find (zstore_fields_t *self, const char *name)
{
    if (!self || !name || !self->map || self->map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    const msgpack_object_map *map = &self->map->via.map;
    for (uint32_t index = 0; index < map->size; index++)
        if (s_key_is (&map->ptr [index].key, name))
            return &map->ptr [index].val;
    return NULL;
}

//  Records the first problem only.
static bool
s_fields_fail (zstore_fields_t *self, const char *name, const char *problem)
{
    if (!self->failed) {
        self->failed = true;
        snprintf (self->error, sizeof self->error, "field '%s' %s", name, problem);
    }
    return false;
}

//  Each check returns NULL if the object has the expected type, else what
//  is wrong with it.
typedef const char *(s_check_fn) (const msgpack_object *object);

static const char *
s_check_bytes (const msgpack_object *object)
{
    return object->type == MSGPACK_OBJECT_STR || object->type == MSGPACK_OBJECT_BIN
         ? NULL : "must be bytes (bin or str)";
}

static const char *
s_check_uint (const msgpack_object *object)
{
    return object->type == MSGPACK_OBJECT_POSITIVE_INTEGER
         ? NULL : "must be an unsigned integer";
}

static const char *
s_check_int (const msgpack_object *object)
{
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return NULL;
    if (object->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return "must be an integer";
    return object->via.u64 <= INT64_MAX ? NULL : "is out of range (a signed 64-bit integer)";
}

static const char *
s_check_bool (const msgpack_object *object)
{
    return object->type == MSGPACK_OBJECT_BOOLEAN ? NULL : "must be a boolean";
}

static const char *
s_check_array (const msgpack_object *object)
{
    return object->type == MSGPACK_OBJECT_ARRAY ? NULL : "must be an array";
}

static const char *
s_check_map (const msgpack_object *object)
{
    return object->type == MSGPACK_OBJECT_MAP ? NULL : "must be a map";
}

//  The field if present and well typed; NULL otherwise, with the error set
//  if it is present with another type (or, when required, absent). Nothing
//  is found once a problem has been recorded.
static const msgpack_object *
s_fields_get (zstore_fields_t *self, const char *name, s_check_fn *check, bool required)
{
    if (self->failed)
        return NULL;
    const msgpack_object *object = zstore_fields_find (self, name);
    if (!object) {
        if (required)
            s_fields_fail (self, name, "is missing");
        return NULL;
    }
    const char *problem = check (object);
    if (problem) {
        s_fields_fail (self, name, problem);
        return NULL;
    }
    return object;
}

static void
s_object_bytes (const msgpack_object *object, const char **data, size_t *size)
{
    //  str and bin share their layout in msgpack-c, but do not rely on it
    if (object->type == MSGPACK_OBJECT_STR) {
        *data = object->via.str.ptr;
        *size = object->via.str.size;
    }
    else {
        *data = object->via.bin.ptr;
        *size = object->via.bin.size;
    }
    if (!*data)
        *data = "";
}

bool
zstore_fields_bytes (zstore_fields_t *self, const char *name, const char **data, size_t *size)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_bytes, true);
    if (object)
        s_object_bytes (object, data, size);
    return object != NULL;
}

bool
zstore_fields_uint (zstore_fields_t *self, const char *name, uint64_t *value)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_uint, true);
    if (object)
        *value = object->via.u64;
    return object != NULL;
}

bool
zstore_fields_int (zstore_fields_t *self, const char *name, int64_t *value)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_int, true);
    if (object)
        *value = object->via.i64;     //  u64 <= INT64_MAX reads the same as i64
    return object != NULL;
}

bool
zstore_fields_bool (zstore_fields_t *self, const char *name, bool *value)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_bool, true);
    if (object)
        *value = object->via.boolean;
    return object != NULL;
}

bool
zstore_fields_array (zstore_fields_t *self, const char *name, const msgpack_object_array **value)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_array, true);
    if (object)
        *value = &object->via.array;
    return object != NULL;
}

bool
zstore_fields_map (zstore_fields_t *self, const char *name, const msgpack_object **value)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_map, true);
    if (object)
        *value = object;
    return object != NULL;
}

//  Outputs are left untouched when the field is absent, so callers may
//  preset defaults in them.
bool
zstore_fields_opt_bytes (zstore_fields_t *self, const char *name, const char **data,
                         size_t *size, bool *present)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_bytes, false);
    if (object)
        s_object_bytes (object, data, size);
    if (present)
        *present = object != NULL;
    return !self->failed;
}

bool
zstore_fields_opt_uint (zstore_fields_t *self, const char *name, uint64_t *value,
                        bool *present)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_uint, false);
    if (object)
        *value = object->via.u64;
    if (present)
        *present = object != NULL;
    return !self->failed;
}

bool
zstore_fields_opt_int (zstore_fields_t *self, const char *name, int64_t *value,
                       bool *present)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_int, false);
    if (object)
        *value = object->via.i64;
    if (present)
        *present = object != NULL;
    return !self->failed;
}

bool
zstore_fields_opt_map (zstore_fields_t *self, const char *name, const msgpack_object **value,
                       bool *present)
{
    const msgpack_object *object = s_fields_get (self, name, s_check_map, false);
    if (object)
        *value = object;
    if (present)
        *present = object != NULL;
    return !self->failed;
}

//  --- Writing msgpack ----------------------------------------------------

void
zstore_writer_init (zstore_writer_t *self)
{
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    self->failed = false;
}

void
zstore_writer_reset (zstore_writer_t *self)
{
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    self->failed = false;
}

void
zstore_writer_free (zstore_writer_t *self)
{
    msgpack_sbuffer_destroy (&self->buffer);
    zstore_writer_init (self);
}

//  msgpack-c's packer returns non-zero when the buffer cannot grow.
static void
s_check (zstore_writer_t *self, int rc)
{
    if (rc)
        self->failed = true;
}

//  A short string or bin goes into the buffer as one piece, header and
//  body: the packer would make two calls through its callback, and a
//  request's keys and small values are most of what is written. Same
//  bytes as msgpack-c's: fixstr below 32 bytes, bin 8 below 256.
#define SHORT_PIECE 62

static bool
s_write_short (zstore_writer_t *self, uint8_t tag, bool tag_holds_size, const void *data,
               size_t size)
{
    if (size > SHORT_PIECE)
        return false;
    char piece [SHORT_PIECE + 2];
    size_t header = 1;
    if (tag_holds_size)
        piece [0] = (char) (tag | size);
    else {
        piece [0] = (char) tag;
        piece [1] = (char) size;
        header = 2;
    }
    if (size)
        memcpy (piece + header, data, size);
    if (msgpack_sbuffer_write (&self->buffer, piece, header + size) != 0)
        self->failed = true;
    return true;
}

static void
s_write_str (zstore_writer_t *self, const char *text, size_t size)
{
    if (size < 32 && s_write_short (self, 0xa0, true, text, size))
        return;
    s_check (self, msgpack_pack_str (&self->packer, size));
    if (size)
        s_check (self, msgpack_pack_str_body (&self->packer, text, size));
}

void
zstore_write_map (zstore_writer_t *self, uint32_t pairs)
{
    s_check (self, msgpack_pack_map (&self->packer, pairs));
}

void
zstore_write_array (zstore_writer_t *self, uint32_t items)
{
    s_check (self, msgpack_pack_array (&self->packer, items));
}

void
zstore_write_key (zstore_writer_t *self, const char *name)
{
    s_write_str (self, name, strlen (name));
}

void
zstore_write_bytes (zstore_writer_t *self, const void *data, size_t size)
{
    if (s_write_short (self, 0xc4, false, data, size))
        return;
    s_check (self, msgpack_pack_bin (&self->packer, size));
    if (size)
        s_check (self, msgpack_pack_bin_body (&self->packer, data, size));
}

void
zstore_write_str (zstore_writer_t *self, const char *text)
{
    s_write_str (self, text, text ? strlen (text) : 0);
}

void
zstore_write_uint (zstore_writer_t *self, uint64_t value)
{
    s_check (self, msgpack_pack_uint64 (&self->packer, value));
}

void
zstore_write_int (zstore_writer_t *self, int64_t value)
{
    //  msgpack-c packs non-negative values in the unsigned formats
    s_check (self, msgpack_pack_int64 (&self->packer, value));
}

void
zstore_write_bool (zstore_writer_t *self, bool value)
{
    s_check (self, value ? msgpack_pack_true (&self->packer)
                         : msgpack_pack_false (&self->packer));
}

void
zstore_write_object (zstore_writer_t *self, const msgpack_object *object)
{
    if (object)
        s_check (self, msgpack_pack_object (&self->packer, *object));
    else
        s_check (self, msgpack_pack_nil (&self->packer));
}

void
zstore_write_raw (zstore_writer_t *self, const void *data, size_t size)
{
    if (size && msgpack_sbuffer_write (&self->buffer, (const char *) data, size) != 0)
        self->failed = true;
}

bool
zstore_writer_failed (zstore_writer_t *self)
{
    return self->failed;
}

//  --- Message bodies -----------------------------------------------------

//  A uint64_t member of a body struct, named as on the wire.
typedef struct {
    const char *name;
    size_t offset;
} s_counter_t;

static uint64_t *
s_counter (void *body, const s_counter_t *counter)
{
    return (uint64_t *) ((char *) body + counter->offset);
}

static uint64_t
s_counter_value (const void *body, const s_counter_t *counter)
{
    return *(const uint64_t *) ((const char *) body + counter->offset);
}

#define S_EVENT_COUNTER(name) { #name, offsetof (zstore_event_body_t, name) }
#define S_CONTROL_COUNTER(name) { #name, offsetof (zstore_control_body_t, name) }

static const char *s_event_types [] = { "set", "delete", "delete_group", "expire" };
#define S_EVENT_TYPES (sizeof s_event_types / sizeof s_event_types [0])

//  Every event carries these, after type, group, key and value.
static const s_counter_t s_event_counters [] = {
    S_EVENT_COUNTER (rev), S_EVENT_COUNTER (prev_rev), S_EVENT_COUNTER (idx),
    S_EVENT_COUNTER (n), S_EVENT_COUNTER (ts), S_EVENT_COUNTER (expires_at),
};
#define S_EVENT_COUNTERS (sizeof s_event_counters / sizeof s_event_counters [0])

//  Published events also carry these; history replies do not.
static const s_counter_t s_event_sequences [] = {
    S_EVENT_COUNTER (epoch), S_EVENT_COUNTER (seq), S_EVENT_COUNTER (gseq),
    S_EVENT_COUNTER (nseq),
};
#define S_EVENT_SEQUENCES (sizeof s_event_sequences / sizeof s_event_sequences [0])

static void
s_write_counters (zstore_writer_t *writer, const void *body, const s_counter_t *counters,
                  size_t count)
{
    for (size_t index = 0; index < count && counters [index].name; index++) {
        zstore_write_key (writer, counters [index].name);
        zstore_write_uint (writer, s_counter_value (body, &counters [index]));
    }
}

void
zstore_event_body_write (zstore_writer_t *writer, const zstore_event_body_t *event,
                         bool with_sequences)
{
    bool with_value = event->type && strcmp (event->type, "set") == 0;
    uint32_t pairs = 3 + (with_value ? 1 : 0) + S_EVENT_COUNTERS
                   + (with_sequences ? S_EVENT_SEQUENCES : 0);
    zstore_write_map (writer, pairs);
    zstore_write_key (writer, "type");
    zstore_write_str (writer, event->type);
    zstore_write_key (writer, "group");
    zstore_write_bytes (writer, event->group, event->group_size);
    zstore_write_key (writer, "key");
    zstore_write_bytes (writer, event->key, event->key_size);
    if (with_value) {
        zstore_write_key (writer, "value");
        zstore_write_bytes (writer, event->value, event->value_size);
    }
    s_write_counters (writer, event, s_event_counters, S_EVENT_COUNTERS);
    if (with_sequences)
        s_write_counters (writer, event, s_event_sequences, S_EVENT_SEQUENCES);
}

//  Reads counters into body; required ones must be present.
static bool
s_read_counters (zstore_fields_t *fields, void *body, const s_counter_t *counters,
                 size_t count, bool required)
{
    for (size_t index = 0; index < count && counters [index].name; index++) {
        uint64_t *value = s_counter (body, &counters [index]);
        if (required ? !zstore_fields_uint (fields, counters [index].name, value)
                     : !zstore_fields_opt_uint (fields, counters [index].name, value, NULL))
            return false;
    }
    return true;
}

//  Starts reading a body: the object must be a map.
static bool
s_body_start (zstore_fields_t *fields, const msgpack_object *map, const char *what)
{
    zstore_fields_init (fields, map);
    if (map && map->type == MSGPACK_OBJECT_MAP)
        return true;
    fields->failed = true;
    snprintf (fields->error, sizeof fields->error, "%s must be a msgpack map", what);
    return false;
}

static bool
s_read_event_type (zstore_fields_t *fields, zstore_event_body_t *event)
{
    const char *name;
    size_t size;
    if (!zstore_fields_bytes (fields, "type", &name, &size))
        return false;
    for (size_t index = 0; index < S_EVENT_TYPES; index++)
        if (s_bytes_equal (name, size, s_event_types [index])) {
            event->type = s_event_types [index];
            return true;
        }
    return s_fields_fail (fields, "type", "must be set, delete, delete_group or expire");
}

bool
zstore_event_body_read (const msgpack_object *map, zstore_event_body_t *event,
                        zstore_fields_t *fields)
{
    memset (event, 0, sizeof *event);
    event->value = "";              //  absent unless the type is set
    return s_body_start (fields, map, "event")
        && s_read_event_type (fields, event)
        && zstore_fields_bytes (fields, "group", &event->group, &event->group_size)
        && zstore_fields_bytes (fields, "key", &event->key, &event->key_size)
        && zstore_fields_opt_bytes (fields, "value", &event->value, &event->value_size, NULL)
        && s_read_counters (fields, event, s_event_counters, S_EVENT_COUNTERS, true)
        && s_read_counters (fields, event, s_event_sequences, S_EVENT_SEQUENCES, false);
}

//  The fields of each control body, in wire order (NULL-named = unused).
static const s_counter_t s_control_layouts [][4] = {
    [ZSTORE_CONTROL_HEARTBEAT] = {
        S_CONTROL_COUNTER (epoch), S_CONTROL_COUNTER (seq), S_CONTROL_COUNTER (rev),
        S_CONTROL_COUNTER (ts) },
    [ZSTORE_CONTROL_GROUP_BEACON] = {
        S_CONTROL_COUNTER (epoch), S_CONTROL_COUNTER (gseq), S_CONTROL_COUNTER (rev) },
    [ZSTORE_CONTROL_NAMESPACE_BEACON] = {
        S_CONTROL_COUNTER (epoch), S_CONTROL_COUNTER (nseq), S_CONTROL_COUNTER (rev) },
    [ZSTORE_CONTROL_SYNC] = {
        S_CONTROL_COUNTER (epoch), S_CONTROL_COUNTER (seq), S_CONTROL_COUNTER (rev) },
};
#define S_CONTROL_KINDS (sizeof s_control_layouts / sizeof s_control_layouts [0])
#define S_CONTROL_SLOTS (sizeof s_control_layouts [0] / sizeof s_control_layouts [0][0])

//  Every field any control body has: what a reader looks for.
static const s_counter_t s_control_counters [] = {
    S_CONTROL_COUNTER (epoch), S_CONTROL_COUNTER (seq), S_CONTROL_COUNTER (gseq),
    S_CONTROL_COUNTER (nseq), S_CONTROL_COUNTER (rev), S_CONTROL_COUNTER (ts),
};
#define S_CONTROL_COUNTERS (sizeof s_control_counters / sizeof s_control_counters [0])

void
zstore_control_body_write (zstore_writer_t *writer, zstore_control_kind_t kind,
                           const zstore_control_body_t *body)
{
    if ((size_t) kind >= S_CONTROL_KINDS) {
        writer->failed = true;      //  a caller bug: write nothing, flag it
        return;
    }
    const s_counter_t *layout = s_control_layouts [kind];
    uint32_t pairs = 0;
    while (pairs < S_CONTROL_SLOTS && layout [pairs].name)
        pairs++;
    zstore_write_map (writer, pairs);
    s_write_counters (writer, body, layout, pairs);
}

bool
zstore_control_body_read (const msgpack_object *map, zstore_control_body_t *body,
                          zstore_fields_t *fields)
{
    memset (body, 0, sizeof *body);
    return s_body_start (fields, map, "control body")
        && s_read_counters (fields, body, s_control_counters, S_CONTROL_COUNTERS, false);
}

void
zstore_reply_begin (zstore_writer_t *writer, const msgpack_object *id, int status,
                    const char *error, uint32_t extra)
{
    zstore_write_map (writer, 2 + (id ? 1 : 0) + (error ? 1 : 0) + extra);
    if (id) {
        zstore_write_key (writer, "id");
        zstore_write_object (writer, id);
    }
    zstore_write_key (writer, "status");
    zstore_write_int (writer, status);
    zstore_write_key (writer, "code");
    zstore_write_str (writer, zstore_status_name (status));
    if (error) {
        zstore_write_key (writer, "error");
        zstore_write_str (writer, error);
    }
}
