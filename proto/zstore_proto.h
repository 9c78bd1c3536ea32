/*  =========================================================================
    zstore_proto - the codec of the zstore wire protocol (PROTOCOL.md), shared
    by the broker and libclient so the two sides cannot drift.

    - status codes and their names;
    - topics: escaping of groups and keys, the subscription prefix of every
      watch scope, and the prefix test the broker uses to filter snapshots
      and history exactly as ZeroMQ filters subscriptions;
    - msgpack reading: a parsed message and typed, checked field access that
      produces the "bad_request" messages;
    - msgpack writing: a reusable buffer with typed writers;
    - the bodies both sides build or parse: event, heartbeat, beacon, sync
      marker, reply header.
    Depends on msgpack-c only (no ZeroMQ, no SQLite).
    =========================================================================
*/

#ifndef ZSTORE_PROTO_H_INCLUDED
#define ZSTORE_PROTO_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZSTORE_PROTO_VERSION 1

//  Status codes (PROTOCOL.md 2.5). 0-6 are the engine's codes.
typedef enum {
    ZSTORE_STATUS_OK = 0,
    ZSTORE_STATUS_NOT_FOUND = 1,
    ZSTORE_STATUS_QUOTA_EXCEEDED = 2,
    ZSTORE_STATUS_INVALID = 3,
    ZSTORE_STATUS_CLOSED = 4,
    ZSTORE_STATUS_CONFLICT = 5,
    ZSTORE_STATUS_INTERNAL = 6,
    ZSTORE_STATUS_TOO_OLD = 7,
    ZSTORE_STATUS_BAD_REQUEST = 8,
    ZSTORE_STATUS_UNKNOWN_OP = 9,
    ZSTORE_STATUS_TOO_LARGE = 10,
    ZSTORE_STATUS_UNSUPPORTED_VERSION = 11,
    ZSTORE_STATUS_BUSY = 12,
    ZSTORE_STATUS_UNKNOWN_SNAPSHOT = 13,
    ZSTORE_STATUS_COUNT = 14
} zstore_status_t;

//  "ok", "not_found", ... ; "unknown" outside the table.
const char *
    zstore_status_name (int status);

//  The status named name, or -1.
int
    zstore_status_from_name (const char *name, size_t size);

//  --- A growable byte buffer ---------------------------------------------

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} zstore_buffer_t;

void
    zstore_buffer_init (zstore_buffer_t *self);
void
    zstore_buffer_reset (zstore_buffer_t *self);     //  size 0, keeps memory
void
    zstore_buffer_free (zstore_buffer_t *self);
//  Returns 0, or -1 if out of memory.
int
    zstore_buffer_append (zstore_buffer_t *self, const void *data, size_t size);

//  --- UTF-8: which byte strings JSON may show as text ----------------------

//  The length (1-4) of the well-formed UTF-8 character at data, or 0 if it
//  is not one: no overlong forms, no surrogates, nothing above U+10FFFF.
size_t
    zstore_utf8_length (const void *data, size_t size);
bool
    zstore_utf8_valid (const void *data, size_t size);

//  --- Topics (PROTOCOL.md 3.2) -------------------------------------------

#define ZSTORE_TOPIC_DATA       'd'
#define ZSTORE_TOPIC_HEARTBEAT  'h'
#define ZSTORE_TOPIC_BEACON     'b'
#define ZSTORE_TOPIC_NAMESPACE  'n'
#define ZSTORE_TOPIC_SYNC       's'

//  Appends E(bytes): 0x00 -> 0x01 0x01, 0x01 -> 0x01 0x02, others as they are.
int
    zstore_topic_escape (zstore_buffer_t *topic, const char *data, size_t size);

//  Decodes E(x) from escaped[0..size) into out (reset first). -1 on a
//  malformed escape.
int
    zstore_topic_unescape (zstore_buffer_t *out, const char *escaped, size_t size);

//  Each of these resets topic, then writes the topic (for publishing) or
//  the subscription prefix (for watching):
//    data event:  "d" E(group) 0 E(key) 0
//    group event: "d" E(group) 0           (delete_group; also: group watch)
//    key prefix:  "d" E(group) 0 E(prefix)
//    namespace:   "d" ns ":"               (ns must be a valid namespace)
//    everything:  "d"
int
    zstore_topic_key (zstore_buffer_t *topic, const char *group, size_t group_size,
                      const char *key, size_t key_size);
int
    zstore_topic_group (zstore_buffer_t *topic, const char *group, size_t group_size);
int
    zstore_topic_key_prefix (zstore_buffer_t *topic, const char *group, size_t group_size,
                             const char *prefix, size_t prefix_size);
int
    zstore_topic_namespace (zstore_buffer_t *topic, const char *ns, size_t ns_size);
int
    zstore_topic_everything (zstore_buffer_t *topic);

//  Beacons: "b" E(group) 0 and "n" ns ":".
int
    zstore_topic_group_beacon (zstore_buffer_t *topic, const char *group, size_t group_size);
int
    zstore_topic_namespace_beacon (zstore_buffer_t *topic, const char *ns, size_t ns_size);

//  The namespace of a stored group: its bytes before the first ':' (size 0
//  when there is no ':').
size_t
    zstore_group_namespace_size (const char *group, size_t group_size);

//  The topic of an event of this type ("delete_group" uses the group
//  topic); the same function decides publishing and scope filtering.
int
    zstore_topic_for_event (zstore_buffer_t *topic, const char *type, const char *group,
                            size_t group_size, const char *key, size_t key_size);

//  True if topic starts with prefix: ZeroMQ's subscription rule.
bool
    zstore_topic_matches (const char *topic, size_t topic_size, const char *prefix,
                          size_t prefix_size);

//  --- Reading msgpack ----------------------------------------------------

//  A parsed message. The objects it hands out live as long as it does.
typedef struct _zstore_reader_t zstore_reader_t;

//  Parses exactly one msgpack object filling data[0..size). Returns NULL and
//  *error_p (caller frees) if the data is not one complete msgpack object
//  or is not a map, or is nested deeper than 32 levels.
zstore_reader_t *
    zstore_reader_new (const void *data, size_t size, char **error_p);
void
    zstore_reader_destroy (zstore_reader_t **self_p);
const msgpack_object *
    zstore_reader_root (zstore_reader_t *self);
//  A reader for one message after another without allocating for each: it
//  keeps its memory, and does not copy the data, which must outlive the
//  result (until the next parse). zstore_reader_parse checks as
//  zstore_reader_new does; it returns the root map, or NULL with *error_p
//  (a constant string) set.
zstore_reader_t *
    zstore_reader_new_reusable (void);
const msgpack_object *
    zstore_reader_parse (zstore_reader_t *self, const void *data, size_t size,
                         const char **error_p);

//  Typed access to the fields of a map, checking types. The first problem
//  is kept (later calls return false without overwriting it), as a
//  readable bad_request message: "field 'group' is missing",
//  "field 'limit' must be an unsigned integer", ...
typedef struct {
    const msgpack_object *map;
    bool failed;
    char error [160];
} zstore_fields_t;

void
    zstore_fields_init (zstore_fields_t *self, const msgpack_object *map);

//  The raw field, NULL if absent (no error).
const msgpack_object *
    zstore_fields_find (zstore_fields_t *self, const char *name);

//  Required fields: false (and the error) if absent or of another type.
//  bytes: bin or str. uint: positive integer. int: any integer.
bool
    zstore_fields_bytes (zstore_fields_t *self, const char *name, const char **data,
                         size_t *size);
bool
    zstore_fields_uint (zstore_fields_t *self, const char *name, uint64_t *value);
bool
    zstore_fields_int (zstore_fields_t *self, const char *name, int64_t *value);
bool
    zstore_fields_bool (zstore_fields_t *self, const char *name, bool *value);
bool
    zstore_fields_array (zstore_fields_t *self, const char *name,
                         const msgpack_object_array **value);
bool
    zstore_fields_map (zstore_fields_t *self, const char *name, const msgpack_object **value);

//  Optional fields: true with *present false when absent; false (and the
//  error) only when present with another type.
bool
    zstore_fields_opt_bytes (zstore_fields_t *self, const char *name, const char **data,
                             size_t *size, bool *present);
bool
    zstore_fields_opt_uint (zstore_fields_t *self, const char *name, uint64_t *value,
                            bool *present);
bool
    zstore_fields_opt_int (zstore_fields_t *self, const char *name, int64_t *value,
                           bool *present);
bool
    zstore_fields_opt_map (zstore_fields_t *self, const char *name, const msgpack_object **value,
                           bool *present);

//  --- Writing msgpack ----------------------------------------------------

//  A reusable output buffer with its packer. The packer points at buffer:
//  do not copy a writer after zstore_writer_init.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    bool failed;                    //  a write ran out of memory since the last reset
} zstore_writer_t;

void
    zstore_writer_init (zstore_writer_t *self);
void
    zstore_writer_reset (zstore_writer_t *self);    //  empty, keeps memory
void
    zstore_writer_free (zstore_writer_t *self);

//  Thin typed writers (msgpack-c's packer returns are folded into one
//  "failed" state checked by zstore_writer_failed).
void
    zstore_write_map (zstore_writer_t *self, uint32_t pairs);
void
    zstore_write_array (zstore_writer_t *self, uint32_t items);
void
    zstore_write_key (zstore_writer_t *self, const char *name);       //  a str key
void
    zstore_write_bytes (zstore_writer_t *self, const void *data, size_t size);  //  bin
void
    zstore_write_str (zstore_writer_t *self, const char *text);
void
    zstore_write_uint (zstore_writer_t *self, uint64_t value);
void
    zstore_write_int (zstore_writer_t *self, int64_t value);
void
    zstore_write_bool (zstore_writer_t *self, bool value);
void
    zstore_write_object (zstore_writer_t *self, const msgpack_object *object);  //  a copy
//  Appends bytes that are already msgpack (an encoded object or several).
void
    zstore_write_raw (zstore_writer_t *self, const void *data, size_t size);
bool
    zstore_writer_failed (zstore_writer_t *self);

//  --- Message bodies -----------------------------------------------------

//  A change event (PROTOCOL.md 3.3). In a decoded event the byte strings
//  point into the reader's memory.
typedef struct {
    const char *type;               //  "set", "delete", "delete_group", "expire"
    const char *group;  size_t group_size;
    const char *key;    size_t key_size;
    const char *value;  size_t value_size;
    uint64_t rev;
    uint64_t prev_rev;
    uint64_t idx;
    uint64_t n;
    uint64_t ts;
    uint64_t expires_at;
    uint64_t epoch;                 //  0 in history replies (not sent)
    uint64_t seq;
    uint64_t gseq;
    uint64_t nseq;
} zstore_event_body_t;

//  Writes an event map. with_sequences false leaves out epoch and the three
//  sequences (history replies).
void
    zstore_event_body_write (zstore_writer_t *writer, const zstore_event_body_t *event,
                             bool with_sequences);

//  Reads an event map; false and fields->error on a missing/mistyped field.
//  type is set to one of the four static strings above.
bool
    zstore_event_body_read (const msgpack_object *map, zstore_event_body_t *event,
                            zstore_fields_t *fields);

//  Heartbeat {epoch, seq, rev, ts}, beacons {epoch, gseq|nseq, rev}, and
//  sync markers {epoch, seq, rev}: one shape, fields absent are 0.
typedef struct {
    uint64_t epoch;
    uint64_t seq;
    uint64_t gseq;
    uint64_t nseq;
    uint64_t rev;
    uint64_t ts;
} zstore_control_body_t;

typedef enum {
    ZSTORE_CONTROL_HEARTBEAT,       //  epoch, seq, rev, ts
    ZSTORE_CONTROL_GROUP_BEACON,    //  epoch, gseq, rev
    ZSTORE_CONTROL_NAMESPACE_BEACON,//  epoch, nseq, rev
    ZSTORE_CONTROL_SYNC             //  epoch, seq, rev
} zstore_control_kind_t;

void
    zstore_control_body_write (zstore_writer_t *writer, zstore_control_kind_t kind,
                               const zstore_control_body_t *body);
bool
    zstore_control_body_read (const msgpack_object *map, zstore_control_body_t *body,
                              zstore_fields_t *fields);

//  Starts a reply map of 2 + (id ? 1 : 0) + (error ? 1 : 0) + extra pairs:
//  id (copied as sent, if not NULL), status, code, error (if not NULL).
//  The caller then writes extra key/value pairs.
void
    zstore_reply_begin (zstore_writer_t *writer, const msgpack_object *id, int status,
                        const char *error, uint32_t extra);

#ifdef __cplusplus
}
#endif

#endif
