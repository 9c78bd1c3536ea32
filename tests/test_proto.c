//  zstore_proto: status names, topic escaping and matching (PROTOCOL.md 3.2,
//  byte for byte and as an adversarial property), the msgpack reader on
//  valid, malformed and random input, typed field access, the writer, and
//  the event, control and reply bodies.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zstore_proto.h"

//  A byte-string literal as (data, size): sizes count embedded NULs.
#define B(literal) literal, sizeof (literal) - 1

//  xorshift64*: deterministic, so a failure replays with the same seed.
static uint64_t
s_random (uint64_t *state)
{
    uint64_t value = *state;
    value ^= value >> 12;
    value ^= value << 25;
    value ^= value >> 27;
    *state = value;
    return value * 0x2545F4914F6CDD1DULL;
}

static void
s_assert_bytes (const char *data, size_t size, const char *expected, size_t expected_size)
{
    assert_int_equal (size, expected_size);
    if (size)
        assert_memory_equal (data, expected, size);
}

static void
s_assert_buffer (const zstore_buffer_t *buffer, const char *expected, size_t size)
{
    s_assert_bytes (buffer->data, buffer->size, expected, size);
}

//  Parses what a writer holds; the test fails if the reader refuses it.
static zstore_reader_t *
s_parse (const zstore_writer_t *writer)
{
    char *error = NULL;
    zstore_reader_t *reader = zstore_reader_new (writer->buffer.data, writer->buffer.size, &error);
    if (!reader)
        fail_msg ("reader refused a written message: %s", error ? error : "(no error)");
    return reader;
}

static void
s_expect_rejected (const void *data, size_t size, const char *message)
{
    char *error = NULL;
    zstore_reader_t *reader = zstore_reader_new (data, size, &error);
    assert_null (reader);
    assert_non_null (error);
    assert_string_equal (error, message);
    free (error);
}

//  The keys of a map, in order, are exactly names.
static void
s_assert_keys (const msgpack_object *map, const char *const *names, size_t count)
{
    assert_int_equal (map->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (map->via.map.size, count);
    for (size_t index = 0; index < count; index++) {
        const msgpack_object *key = &map->via.map.ptr [index].key;
        assert_int_equal (key->type, MSGPACK_OBJECT_STR);
        s_assert_bytes (key->via.str.ptr, key->via.str.size, names [index], strlen (names [index]));
    }
}

static const msgpack_object *
s_value (const msgpack_object *map, const char *name)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, map);
    const msgpack_object *value = zstore_fields_find (&fields, name);
    assert_non_null (value);
    return value;
}

//  --- Status codes -------------------------------------------------------

static void
test_status_names_both_ways (void **state)
{
    (void) state;
    static const char *names [ZSTORE_STATUS_COUNT] = {
        "ok", "not_found", "quota_exceeded", "invalid", "closed", "conflict", "internal",
        "too_old", "bad_request", "unknown_op", "too_large", "unsupported_version", "busy",
        "unknown_snapshot"
    };
    for (int status = 0; status < ZSTORE_STATUS_COUNT; status++) {
        assert_string_equal (zstore_status_name (status), names [status]);
        assert_int_equal (zstore_status_from_name (names [status], strlen (names [status])),
                          status);
    }
    assert_int_equal (ZSTORE_STATUS_UNKNOWN_SNAPSHOT, 13);
    assert_string_equal (zstore_status_name (-1), "unknown");
    assert_string_equal (zstore_status_name (ZSTORE_STATUS_COUNT), "unknown");
    assert_string_equal (zstore_status_name (INT_MIN), "unknown");
    assert_string_equal (zstore_status_name (INT_MAX), "unknown");
    //  Exact byte comparison: no prefixes, no case folding, sizes count
    assert_int_equal (zstore_status_from_name ("not_found", 3), -1);
    assert_int_equal (zstore_status_from_name (B ("ok\0")), -1);
    assert_int_equal (zstore_status_from_name (B ("OK")), -1);
    assert_int_equal (zstore_status_from_name (B ("")), -1);
    assert_int_equal (zstore_status_from_name (B ("unknown")), -1);
    assert_int_equal (zstore_status_from_name (NULL, 0), -1);
    assert_int_equal (zstore_status_from_name ("busyx", 4), ZSTORE_STATUS_BUSY);
}

//  --- Buffer -------------------------------------------------------------

static void
test_buffer_append_reset_free (void **state)
{
    (void) state;
    zstore_buffer_t buffer;
    zstore_buffer_init (&buffer);
    assert_int_equal (buffer.size, 0);
    assert_int_equal (zstore_buffer_append (&buffer, B ("a\0b")), 0);
    assert_int_equal (zstore_buffer_append (&buffer, "", 0), 0);
    assert_int_equal (zstore_buffer_append (&buffer, NULL, 0), 0);
    s_assert_buffer (&buffer, B ("a\0b"));
    assert_int_equal (buffer.data [buffer.size], 0);        //  terminated, not counted
    char *data = buffer.data;
    size_t capacity = buffer.capacity;
    zstore_buffer_reset (&buffer);
    assert_int_equal (buffer.size, 0);
    assert_ptr_equal (buffer.data, data);
    assert_int_equal (buffer.capacity, capacity);
    char *big = malloc (100000);
    memset (big, 'x', 100000);
    for (int round = 0; round < 10; round++)
        assert_int_equal (zstore_buffer_append (&buffer, big, 100000), 0);
    assert_int_equal (buffer.size, 1000000);
    assert_true (buffer.capacity > buffer.size);
    assert_memory_equal (buffer.data + 900000, big, 100000);
    free (big);
    zstore_buffer_free (&buffer);
    assert_null (buffer.data);
    assert_int_equal (buffer.size, 0);
    zstore_buffer_free (&buffer);                           //  idempotent
}

//  --- Escaping -----------------------------------------------------------

static void
test_escape_every_byte_value (void **state)
{
    (void) state;
    zstore_buffer_t escaped, decoded;
    zstore_buffer_init (&escaped);
    zstore_buffer_init (&decoded);
    char all [256];
    for (int value = 0; value < 256; value++) {
        const char byte = (char) value;
        all [value] = byte;
        zstore_buffer_reset (&escaped);
        assert_int_equal (zstore_topic_escape (&escaped, &byte, 1), 0);
        if (value == 0)
            s_assert_buffer (&escaped, B ("\x01\x01"));
        else
        if (value == 1)
            s_assert_buffer (&escaped, B ("\x01\x02"));
        else
            s_assert_buffer (&escaped, &byte, 1);
        assert_int_equal (zstore_topic_unescape (&decoded, escaped.data, escaped.size), 0);
        s_assert_buffer (&decoded, &byte, 1);
    }
    zstore_buffer_reset (&escaped);
    assert_int_equal (zstore_topic_escape (&escaped, all, sizeof all), 0);
    assert_int_equal (escaped.size, 258);
    assert_null (memchr (escaped.data, 0, escaped.size));
    s_assert_bytes (escaped.data, 6, B ("\x01\x01\x01\x02\x02\x03"));
    s_assert_bytes (escaped.data + 4, 254, all + 2, 254);
    assert_int_equal (zstore_topic_unescape (&decoded, escaped.data, escaped.size), 0);
    s_assert_buffer (&decoded, all, sizeof all);
    //  escape appends; unescape resets first
    assert_int_equal (zstore_topic_escape (&escaped, B ("z")), 0);
    assert_int_equal (escaped.size, 259);
    zstore_buffer_reset (&escaped);
    assert_int_equal (zstore_topic_escape (&escaped, NULL, 0), 0);
    assert_int_equal (escaped.size, 0);
    assert_int_equal (zstore_topic_unescape (&decoded, "", 0), 0);
    assert_int_equal (decoded.size, 0);
    zstore_buffer_free (&escaped);
    zstore_buffer_free (&decoded);
}

static void
test_escape_random_round_trip (void **state)
{
    (void) state;
    uint64_t seed = 0x5eed0001;
    zstore_buffer_t escaped, decoded, head;
    zstore_buffer_init (&escaped);
    zstore_buffer_init (&decoded);
    zstore_buffer_init (&head);
    for (int round = 0; round < 3000; round++) {
        char text [64];
        size_t size = s_random (&seed) % sizeof text;
        size_t specials = 0;
        for (size_t index = 0; index < size; index++) {
            uint64_t draw = s_random (&seed);
            //  Half the bytes are 0x00, 0x01 or 0x02: the ones escaping is about
            text [index] = (char) (draw & 1 ? (draw >> 8) % 3 : (draw >> 8) & 0xff);
            specials += (unsigned char) text [index] <= 1;
        }
        zstore_buffer_reset (&escaped);
        assert_int_equal (zstore_topic_escape (&escaped, text, size), 0);
        assert_int_equal (escaped.size, size + specials);
        assert_true (escaped.size == 0 || !memchr (escaped.data, 0, escaped.size));
        assert_int_equal (zstore_topic_unescape (&decoded, escaped.data, escaped.size), 0);
        s_assert_buffer (&decoded, text, size);
        //  E preserves prefixes: E(text[0..cut)) is a prefix of E(text)
        size_t cut = size ? s_random (&seed) % (size + 1) : 0;
        zstore_buffer_reset (&head);
        assert_int_equal (zstore_topic_escape (&head, text, cut), 0);
        assert_true (zstore_topic_matches (escaped.data, escaped.size, head.data, head.size));
    }
    zstore_buffer_free (&escaped);
    zstore_buffer_free (&decoded);
    zstore_buffer_free (&head);
}

static void
test_unescape_rejects_malformed (void **state)
{
    (void) state;
    static const struct {
        const char *data;
        size_t size;
    } cases [] = {
        { B ("\x01") },                 //  escape cut short
        { B ("abc\x01") },
        { B ("\x01\x00") },             //  0x01 must be followed by 0x01 or 0x02
        { B ("\x01\x03") },
        { B ("\x01" "a") },
        { B ("\x01\xff") },
        { B ("a\x01\x01\x01") },
        { B ("\x00") },                 //  a raw NUL never appears in E(x)
        { B ("ab\x00" "c") },
        { B ("\x01\x01\x00") },
    };
    zstore_buffer_t decoded;
    zstore_buffer_init (&decoded);
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++)
        assert_int_equal (zstore_topic_unescape (&decoded, cases [index].data, cases [index].size),
                          -1);
    zstore_buffer_free (&decoded);
}

//  --- Topics: the examples of PROTOCOL.md 3.2 ---------------------------

static void
test_topic_worked_examples (void **state)
{
    (void) state;
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    //  Worked examples, byte for byte
    assert_int_equal (zstore_topic_for_event (&topic, "set", B ("orders"), B ("user-1")), 0);
    s_assert_buffer (&topic, B ("dorders\0user-1\0"));
    assert_int_equal (zstore_topic_for_event (&topic, "set", B ("tenant-a:orders"), B ("a:b/c")), 0);
    s_assert_buffer (&topic, B ("dtenant-a:orders\0a:b/c\0"));
    assert_int_equal (zstore_topic_for_event (&topic, "set", B ("g\0x"), B ("\x01")), 0);
    s_assert_buffer (&topic, B ("dg\x01\x01x\0\x01\x02\0"));
    assert_int_equal (zstore_topic_for_event (&topic, "delete_group", B ("orders"), B ("")), 0);
    s_assert_buffer (&topic, B ("dorders\0"));
    //  delete and expire use the key topic; the key is ignored for delete_group
    assert_int_equal (zstore_topic_for_event (&topic, "delete", B ("orders"), B ("k")), 0);
    s_assert_buffer (&topic, B ("dorders\0k\0"));
    assert_int_equal (zstore_topic_for_event (&topic, "expire", B ("orders"), B ("")), 0);
    s_assert_buffer (&topic, B ("dorders\0\0"));
    assert_int_equal (zstore_topic_for_event (&topic, "delete_group", B ("orders"), B ("k")), 0);
    s_assert_buffer (&topic, B ("dorders\0"));

    //  The watch table
    assert_int_equal (zstore_topic_everything (&topic), 0);
    s_assert_buffer (&topic, B ("d"));
    assert_int_equal (zstore_topic_namespace (&topic, B ("tenant-a")), 0);
    s_assert_buffer (&topic, B ("dtenant-a:"));
    assert_int_equal (zstore_topic_group (&topic, B ("g")), 0);
    s_assert_buffer (&topic, B ("dg\0"));
    assert_int_equal (zstore_topic_key_prefix (&topic, B ("orders"), B ("user-")), 0);
    s_assert_buffer (&topic, B ("dorders\0user-"));
    assert_int_equal (zstore_topic_key_prefix (&topic, B ("g\0"), B ("\x01")), 0);
    s_assert_buffer (&topic, B ("dg\x01\x01\0\x01\x02"));
    assert_int_equal (zstore_topic_key (&topic, B ("orders"), B ("user-1")), 0);
    s_assert_buffer (&topic, B ("dorders\0user-1\0"));
    assert_int_equal (zstore_topic_key (&topic, B (""), B ("")), 0);
    s_assert_buffer (&topic, B ("d\0\0"));

    //  Beacons
    assert_int_equal (zstore_topic_group_beacon (&topic, B ("orders")), 0);
    s_assert_buffer (&topic, B ("borders\0"));
    assert_int_equal (zstore_topic_group_beacon (&topic, B ("a\0\x01")), 0);
    s_assert_buffer (&topic, B ("ba\x01\x01\x01\x02\0"));
    assert_int_equal (zstore_topic_namespace_beacon (&topic, B ("tenant-a")), 0);
    s_assert_buffer (&topic, B ("ntenant-a:"));
    assert_int_equal (zstore_topic_namespace_beacon (&topic, B ("")), 0);
    s_assert_buffer (&topic, B ("n:"));          //  the groups without ':'
    zstore_buffer_free (&topic);
}

//  The "why nothing else matches" column of the watch table.
static void
test_topic_near_misses (void **state)
{
    (void) state;
    zstore_buffer_t topic, prefix;
    zstore_buffer_init (&topic);
    zstore_buffer_init (&prefix);
    zstore_topic_group (&prefix, B ("orders"));
    zstore_topic_key (&topic, B ("orders2"), B ("k"));
    assert_false (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));
    zstore_topic_key (&topic, B ("orders"), B ("k"));
    assert_true (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));

    zstore_topic_key (&prefix, B ("orders"), B ("user-1"));
    zstore_topic_key (&topic, B ("orders"), B ("user-10"));
    assert_false (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));
    zstore_topic_key_prefix (&prefix, B ("orders"), B ("user-1"));
    assert_true (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));

    zstore_topic_namespace (&prefix, B ("tenant-a"));
    zstore_topic_key (&topic, B ("tenant-ab:orders"), B ("k"));
    assert_false (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));
    zstore_topic_key (&topic, B ("tenant-a:orders"), B ("k"));
    assert_true (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));
    zstore_topic_key (&topic, B ("tenant-a"), B ("k"));            //  no ':': not in it
    assert_false (zstore_topic_matches (topic.data, topic.size, prefix.data, prefix.size));
    zstore_buffer_free (&topic);
    zstore_buffer_free (&prefix);
}

static void
test_topic_namespace_rules (void **state)
{
    (void) state;
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    assert_int_equal (zstore_topic_namespace (&topic, B ("")), -1);
    assert_int_equal (zstore_topic_namespace (&topic, B ("a:b")), -1);
    assert_int_equal (zstore_topic_namespace (&topic, B (":")), -1);
    assert_int_equal (zstore_topic_namespace_beacon (&topic, B ("a:")), -1);
    assert_int_equal (zstore_topic_namespace (&topic, B ("tenant-42")), 0);
    s_assert_buffer (&topic, B ("dtenant-42:"));

    assert_int_equal (zstore_group_namespace_size (B ("tenant-a:orders")), 8);
    assert_int_equal (zstore_group_namespace_size (B ("a:b:c")), 1);
    assert_int_equal (zstore_group_namespace_size (B ("orders")), 0);
    assert_int_equal (zstore_group_namespace_size (B (":orders")), 0);
    assert_int_equal (zstore_group_namespace_size (B ("")), 0);
    assert_int_equal (zstore_group_namespace_size (NULL, 0), 0);
    assert_int_equal (zstore_group_namespace_size (B ("a\0b:c")), 3);
    zstore_buffer_free (&topic);
}

static void
test_topic_matches_is_byte_prefix (void **state)
{
    (void) state;
    assert_true (zstore_topic_matches (B ("dabc"), B ("")));
    assert_true (zstore_topic_matches (NULL, 0, NULL, 0));
    assert_true (zstore_topic_matches (B ("dabc"), B ("d")));
    assert_true (zstore_topic_matches (B ("dabc"), B ("dabc")));
    assert_false (zstore_topic_matches (B ("dabc"), B ("dabcd")));
    assert_false (zstore_topic_matches (B ("dabc"), B ("h")));
    assert_false (zstore_topic_matches (B ("d\0b"), B ("d\0c")));
    assert_true (zstore_topic_matches (B ("d\0b\0"), B ("d\0b")));
    assert_false (zstore_topic_matches (B (""), B ("d")));
}

//  --- Topics: the adversarial property ----------------------------------
//
//  Names from a small alphabet holding the bytes escaping is about, the
//  separators and the look-alike prefixes of PROTOCOL.md; for every event
//  (group, key) and every watch, the topic must match the watch's prefix
//  exactly when the event belongs to the watch by its definition.

typedef struct {
    char data [24];
    size_t size;
} s_name_t;

#define S_NAMES_MAX 128

static size_t
s_build_names (s_name_t *names)
{
    static const char alphabet [] = { 0x00, 0x01, 0x02, ':', '/', 'a', 'b', '0' };
    static const struct {
        const char *data;
        size_t size;
    } words [] = {
        { B ("orders") }, { B ("orders2") }, { B ("user-1") }, { B ("user-10") },
        { B ("tenant-a") }, { B ("tenant-ab") }, { B ("tenant-a:orders") },
        { B ("tenant-ab:orders") }, { B ("tenant-a:") }, { B ("a:b/c") }, { B ("g\0x") },
        { B ("\x01\x01\x02") }, { B ("a\0\x01") }, { B ("tenant-a\0") }, { B ("a:0:") },
    };
    size_t count = 0;
    memset (names, 0, S_NAMES_MAX * sizeof (s_name_t));
    count++;                                        //  the empty name
    for (size_t first = 0; first < sizeof alphabet; first++) {
        names [count].data [0] = alphabet [first];
        names [count++].size = 1;
    }
    for (size_t first = 0; first < sizeof alphabet; first++)
        for (size_t second = 0; second < sizeof alphabet; second++) {
            names [count].data [0] = alphabet [first];
            names [count].data [1] = alphabet [second];
            names [count++].size = 2;
        }
    for (size_t index = 0; index < sizeof words / sizeof words [0]; index++) {
        memcpy (names [count].data, words [index].data, words [index].size);
        names [count++].size = words [index].size;
    }
    assert_true (count <= S_NAMES_MAX);
    for (size_t one = 0; one < count; one++)        //  distinct, or "exactly" means nothing
        for (size_t other = one + 1; other < count; other++)
            assert_false (names [one].size == names [other].size
                       && memcmp (names [one].data, names [other].data, names [one].size) == 0);
    return count;
}

static bool
s_starts_with (const s_name_t *name, const char *prefix, size_t prefix_size)
{
    return zstore_topic_matches (name->data, name->size, prefix, prefix_size);
}

static bool
s_same (const s_name_t *one, const s_name_t *other)
{
    return one->size == other->size && memcmp (one->data, other->data, one->size) == 0;
}

typedef struct {
    const s_name_t *group;
    const s_name_t *key;            //  the empty name for a delete_group event
    bool group_event;
    zstore_buffer_t topic;
} s_event_t;

typedef enum {
    S_WATCH_EVERYTHING,
    S_WATCH_NAMESPACE,
    S_WATCH_GROUP,
    S_WATCH_KEY_PREFIX,
    S_WATCH_KEY
} s_watch_kind_t;

typedef struct {
    s_watch_kind_t kind;
    const s_name_t *name;           //  the namespace or the group
    const s_name_t *key;            //  the key or the key prefix
    zstore_buffer_t prefix;
} s_watch_t;

//  Whether the event belongs to the watch, by the watch's definition.
static bool
s_watch_wants (const s_watch_t *watch, const s_event_t *event)
{
    const s_name_t *group = event->group;
    switch (watch->kind) {
        case S_WATCH_EVERYTHING:
            return true;
        case S_WATCH_NAMESPACE:
            return s_starts_with (group, watch->name->data, watch->name->size)
                && group->size > watch->name->size
                && group->data [watch->name->size] == ':';
        case S_WATCH_GROUP:
            return s_same (group, watch->name);
        case S_WATCH_KEY_PREFIX:
            //  A delete_group event's key is empty: only the "" prefix takes it
            return s_same (group, watch->name)
                && s_starts_with (event->key, watch->key->data, watch->key->size);
        case S_WATCH_KEY:
            //  Its topic has no key part; the broker adds such events to key scopes itself
            return s_same (group, watch->name) && !event->group_event
                && s_same (event->key, watch->key);
    }
    return false;
}

static const char *s_watch_kinds [] = { "everything", "namespace", "group", "key prefix", "key" };

static void
s_check_watch (const s_watch_t *watch, const s_event_t *events, size_t event_count)
{
    for (size_t index = 0; index < event_count; index++) {
        const s_event_t *event = &events [index];
        bool matches = zstore_topic_matches (event->topic.data, event->topic.size,
                                             watch->prefix.data, watch->prefix.size);
        if (matches != s_watch_wants (watch, event))
            fail_msg ("%s watch (%zu+%zu bytes): event %zu (group %zu bytes, key %zu bytes%s)"
                      " %s", s_watch_kinds [watch->kind], watch->name ? watch->name->size : 0,
                      watch->key ? watch->key->size : 0, index, event->group->size,
                      event->key->size, event->group_event ? ", delete_group" : "",
                      matches ? "matches but does not belong" : "belongs but does not match");
    }
}

static size_t
s_build_events (s_event_t *events, const s_name_t *names, size_t name_count)
{
    size_t count = 0;
    for (size_t group = 0; group < name_count; group++) {
        for (size_t key = 0; key < name_count; key++) {
            s_event_t *event = &events [count++];
            *event = (s_event_t) { &names [group], &names [key], false, { 0 } };
            zstore_buffer_init (&event->topic);
            assert_int_equal (zstore_topic_for_event (&event->topic, "set", names [group].data,
                              names [group].size, names [key].data, names [key].size), 0);
        }
        s_event_t *event = &events [count++];
        *event = (s_event_t) { &names [group], &names [0], true, { 0 } };
        zstore_buffer_init (&event->topic);
        assert_int_equal (zstore_topic_for_event (&event->topic, "delete_group", names [group].data,
                          names [group].size, "ignored", 7), 0);
    }
    return count;
}

//  Writes the watch's prefix; false for a namespace that is not one.
static bool
s_watch_prefix (s_watch_t *watch)
{
    zstore_buffer_init (&watch->prefix);
    const s_name_t *name = watch->name, *key = watch->key;
    switch (watch->kind) {
        case S_WATCH_EVERYTHING:
            return zstore_topic_everything (&watch->prefix) == 0;
        case S_WATCH_NAMESPACE:
            return zstore_topic_namespace (&watch->prefix, name->data, name->size) == 0;
        case S_WATCH_GROUP:
            return zstore_topic_group (&watch->prefix, name->data, name->size) == 0;
        case S_WATCH_KEY_PREFIX:
            return zstore_topic_key_prefix (&watch->prefix, name->data, name->size, key->data,
                                            key->size) == 0;
        case S_WATCH_KEY:
            return zstore_topic_key (&watch->prefix, name->data, name->size, key->data,
                                     key->size) == 0;
    }
    return false;
}

//  Control topics (heartbeat, beacons, sync markers) for the names.
static size_t
s_build_controls (zstore_buffer_t *controls, const s_name_t *names, size_t name_count)
{
    size_t count = 0;
    static const struct {
        const char *data;
        size_t size;
    } fixed [] = { { B ("h") }, { B ("s") }, { B ("stoken") }, { B ("s\0d\x01") }, { B ("sd") } };
    for (size_t index = 0; index < sizeof fixed / sizeof fixed [0]; index++) {
        zstore_buffer_init (&controls [count]);
        zstore_buffer_append (&controls [count++], fixed [index].data, fixed [index].size);
    }
    for (size_t index = 0; index < name_count; index++) {
        zstore_buffer_init (&controls [count]);
        assert_int_equal (zstore_topic_group_beacon (&controls [count++], names [index].data,
                                                     names [index].size), 0);
        zstore_buffer_init (&controls [count]);
        if (zstore_topic_namespace_beacon (&controls [count], names [index].data,
                                           names [index].size) == 0)
            count++;
        else
            zstore_buffer_free (&controls [count]);
    }
    return count;
}

static void
s_check_controls (const zstore_buffer_t *controls, size_t control_count, const s_watch_t *watches,
                  size_t watch_count, const s_event_t *events, size_t event_count)
{
    for (size_t control = 0; control < control_count; control++) {
        const zstore_buffer_t *topic = &controls [control];
        assert_true (topic->size > 0 && topic->data [0] != ZSTORE_TOPIC_DATA);
        for (size_t watch = 0; watch < watch_count; watch++)
            assert_false (zstore_topic_matches (topic->data, topic->size,
                                                watches [watch].prefix.data,
                                                watches [watch].prefix.size));
        //  ... and a control subscription (a whole control topic, or its class
        //  byte) takes no data event
        for (size_t event = 0; event < event_count; event++) {
            assert_false (zstore_topic_matches (events [event].topic.data, events [event].topic.size,
                                                topic->data, topic->size));
            assert_false (zstore_topic_matches (events [event].topic.data, events [event].topic.size,
                                                topic->data, 1));
        }
        //  A beacon's subscription takes its own beacon and no other
        for (size_t other = 0; other < control_count; other++)
            if (topic->data [0] == 'b' || topic->data [0] == 'n')
                assert_int_equal (zstore_topic_matches (controls [other].data, controls [other].size,
                                                        topic->data, topic->size),
                                  other == control);
    }
}

static void
test_topic_property_adversarial (void **state)
{
    (void) state;
    s_name_t names [S_NAMES_MAX];
    size_t name_count = s_build_names (names);
    size_t event_count = name_count * (name_count + 1);
    s_event_t *events = calloc (event_count, sizeof (s_event_t));
    assert_int_equal (s_build_events (events, names, name_count), event_count);

    size_t watch_max = 1 + 2 * name_count + 2 * name_count * name_count;
    s_watch_t *watches = calloc (watch_max, sizeof (s_watch_t));
    size_t watch_count = 0, namespaces = 0;
    watches [watch_count] = (s_watch_t) { S_WATCH_EVERYTHING, NULL, NULL, { 0 } };
    assert_true (s_watch_prefix (&watches [watch_count++]));
    for (size_t name = 0; name < name_count; name++) {
        const s_name_t *ns = &names [name];
        watches [watch_count] = (s_watch_t) { S_WATCH_NAMESPACE, ns, NULL, { 0 } };
        bool valid = ns->size > 0 && !memchr (ns->data, ':', ns->size);
        assert_int_equal (s_watch_prefix (&watches [watch_count]), valid);
        if (valid) {
            watch_count++;
            namespaces++;
        }
        else
            zstore_buffer_free (&watches [watch_count].prefix);
        watches [watch_count] = (s_watch_t) { S_WATCH_GROUP, ns, NULL, { 0 } };
        assert_true (s_watch_prefix (&watches [watch_count++]));
        for (size_t key = 0; key < name_count; key++) {
            watches [watch_count] = (s_watch_t) { S_WATCH_KEY_PREFIX, ns, &names [key], { 0 } };
            assert_true (s_watch_prefix (&watches [watch_count++]));
            watches [watch_count] = (s_watch_t) { S_WATCH_KEY, ns, &names [key], { 0 } };
            assert_true (s_watch_prefix (&watches [watch_count++]));
        }
    }
    assert_true (namespaces > 40);
    for (size_t watch = 0; watch < watch_count; watch++)
        s_check_watch (&watches [watch], events, event_count);

    zstore_buffer_t *controls = calloc (5 + 2 * name_count, sizeof (zstore_buffer_t));
    size_t control_count = s_build_controls (controls, names, name_count);
    s_check_controls (controls, control_count, watches, watch_count, events, event_count);

    for (size_t index = 0; index < control_count; index++)
        zstore_buffer_free (&controls [index]);
    for (size_t index = 0; index < watch_count; index++)
        zstore_buffer_free (&watches [index].prefix);
    for (size_t index = 0; index < event_count; index++)
        zstore_buffer_free (&events [index].topic);
    free (controls);
    free (watches);
    free (events);
}

//  --- Reader -------------------------------------------------------------

static void
test_reader_valid_map (void **state)
{
    (void) state;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    zstore_write_map (&writer, 4);
    zstore_write_key (&writer, "op");
    zstore_write_str (&writer, "get");
    zstore_write_key (&writer, "group");
    zstore_write_bytes (&writer, B ("g\0"));
    zstore_write_key (&writer, "id");
    zstore_write_uint (&writer, 7);
    zstore_write_key (&writer, "nested");
    zstore_write_map (&writer, 1);
    zstore_write_key (&writer, "a");
    zstore_write_array (&writer, 2);
    zstore_write_int (&writer, -1);
    zstore_write_bool (&writer, true);
    assert_false (zstore_writer_failed (&writer));

    //  The reader keeps its own copy: the caller's bytes may go away
    char *copy = malloc (writer.buffer.size);
    memcpy (copy, writer.buffer.data, writer.buffer.size);
    zstore_reader_t *reader = zstore_reader_new (copy, writer.buffer.size, NULL);
    memset (copy, 0xff, writer.buffer.size);
    free (copy);
    assert_non_null (reader);
    const msgpack_object *root = zstore_reader_root (reader);
    assert_int_equal (root->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (root->via.map.size, 4);
    zstore_fields_t fields;
    zstore_fields_init (&fields, root);
    const char *data;
    size_t size;
    assert_true (zstore_fields_bytes (&fields, "op", &data, &size));
    s_assert_bytes (data, size, B ("get"));
    assert_true (zstore_fields_bytes (&fields, "group", &data, &size));
    s_assert_bytes (data, size, B ("g\0"));
    const msgpack_object *nested;
    assert_true (zstore_fields_map (&fields, "nested", &nested));
    assert_int_equal (s_value (nested, "a")->via.array.size, 2);
    assert_false (fields.failed);
    zstore_reader_destroy (&reader);
    assert_null (reader);
    zstore_reader_destroy (&reader);                //  idempotent
    zstore_reader_destroy (NULL);
    assert_null (zstore_reader_root (NULL));

    //  The smallest request: an empty map
    reader = zstore_reader_new ("\x80", 1, NULL);
    assert_non_null (reader);
    assert_int_equal (zstore_reader_root (reader)->via.map.size, 0);
    zstore_reader_destroy (&reader);
    zstore_writer_free (&writer);
}

static void
test_reader_rejects_non_map_root (void **state)
{
    (void) state;
    static const struct {
        const char *data;
        size_t size;
    } roots [] = {
        { B ("\x91\x01") },             //  [1]
        { B ("\x90") },                 //  []
        { B ("\x05") },                 //  5
        { B ("\xff") },                 //  -1
        { B ("\xa1x") },                //  "x"
        { B ("\xc4\x01x") },            //  bin
        { B ("\xc0") },                 //  nil
        { B ("\xc3") },                 //  true
        { B ("\xcb\x3f\xf0\0\0\0\0\0\0") },  //  1.0
        { B ("\xd4\x01\x00") },         //  fixext 1
        { B ("\xdc\x00\x01\x80") },     //  array16 [{}]
    };
    for (size_t index = 0; index < sizeof roots / sizeof roots [0]; index++)
        s_expect_rejected (roots [index].data, roots [index].size, "request must be a msgpack map");
}

//  A map with one item of every format, to cut at every byte.
static void
s_write_every_format (zstore_writer_t *writer)
{
    char blob [300];
    memset (blob, 'b', sizeof blob);
    zstore_write_map (writer, 10);
    zstore_write_key (writer, "str8");
    msgpack_pack_str (&writer->packer, 40);
    msgpack_pack_str_body (&writer->packer, blob, 40);
    zstore_write_key (writer, "bin16");
    zstore_write_bytes (writer, blob, sizeof blob);
    zstore_write_key (writer, "u64");
    zstore_write_uint (writer, UINT64_MAX);
    zstore_write_key (writer, "i32");
    zstore_write_int (writer, -100000);
    zstore_write_key (writer, "f64");
    msgpack_pack_double (&writer->packer, 2.5);
    zstore_write_key (writer, "f32");
    msgpack_pack_float (&writer->packer, 1.5f);
    zstore_write_key (writer, "ext");
    msgpack_pack_ext (&writer->packer, 3, 7);
    msgpack_pack_ext_body (&writer->packer, "abc", 3);
    zstore_write_key (writer, "fixext");
    msgpack_pack_ext (&writer->packer, 4, 7);
    msgpack_pack_ext_body (&writer->packer, "abcd", 4);
    zstore_write_key (writer, "nil");
    msgpack_pack_nil (&writer->packer);
    zstore_write_key (writer, "arrays");
    zstore_write_array (writer, 2);
    zstore_write_array (writer, 0);
    zstore_write_map (writer, 1);
    zstore_write_bool (writer, false);
    zstore_write_str (writer, "");
}

static void
test_reader_rejects_truncated (void **state)
{
    (void) state;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    s_write_every_format (&writer);
    zstore_reader_t *reader = s_parse (&writer);
    zstore_reader_destroy (&reader);
    s_expect_rejected (writer.buffer.data, 0, "empty message");
    s_expect_rejected (NULL, 0, "empty message");
    for (size_t size = 1; size < writer.buffer.size; size++)
        s_expect_rejected (writer.buffer.data, size, "truncated msgpack message");
    zstore_writer_free (&writer);
}

static void
test_reader_rejects_trailing_bytes (void **state)
{
    (void) state;
    s_expect_rejected (B ("\x80\xc0"), "trailing bytes after the message");
    s_expect_rejected (B ("\x80\x80"), "trailing bytes after the message");
    s_expect_rejected (B ("\x81\xa1k\x01\x00"), "trailing bytes after the message");
    s_expect_rejected (B ("\x05\x80"), "trailing bytes after the message");
    char *error = (char *) "untouched";
    assert_null (zstore_reader_new (B ("\x80\x00"), NULL));      //  error_p may be NULL
    assert_null (zstore_reader_new (B ("\x80\x00"), &error));
    assert_string_equal (error, "trailing bytes after the message");
    free (error);
}

//  Well-formed UTF-8 only: JSON shows these bytes as text, others as base64.
static void
test_utf8_strict (void **state)
{
    (void) state;
    assert_int_equal (zstore_utf8_length ("a", 1), 1);
    assert_int_equal (zstore_utf8_length ("\xc3\xa9", 2), 2);             //  é
    assert_int_equal (zstore_utf8_length ("\xe2\x82\xac", 3), 3);         //  €
    assert_int_equal (zstore_utf8_length ("\xf4\x8f\xbf\xbf", 4), 4);     //  U+10FFFF
    assert_int_equal (zstore_utf8_length ("\xc3\xa9", 1), 0);              //  cut short
    assert_int_equal (zstore_utf8_length ("", 0), 0);
    assert_int_equal (zstore_utf8_length ("\xc0\xaf", 2), 0);              //  overlong
    assert_int_equal (zstore_utf8_length ("\xe0\x80\xaf", 3), 0);         //  overlong
    assert_int_equal (zstore_utf8_length ("\xed\xa0\x80", 3), 0);         //  surrogate
    assert_int_equal (zstore_utf8_length ("\xf4\x90\x80\x80", 4), 0);     //  > U+10FFFF
    assert_int_equal (zstore_utf8_length ("\x80", 1), 0);                  //  continuation
    assert_int_equal (zstore_utf8_length ("\xc3(", 2), 0);
    assert_true (zstore_utf8_valid ("", 0));
    assert_true (zstore_utf8_valid ("caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_false (zstore_utf8_valid ("caf\xc3", 4));
    assert_true (zstore_utf8_valid ("a\0b", 3));                           //  NUL is a character
}

//  The reusable reader: the same checks as zstore_reader_new, one message
//  after another, in place, and a good message after a bad one still works.
static void
test_reusable_reader (void **state)
{
    (void) state;
    zstore_reader_t *reader = zstore_reader_new_reusable ();
    assert_non_null (reader);
    const char *error = NULL;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    for (int round = 0; round < 3; round++) {
        zstore_writer_reset (&writer);
        s_write_every_format (&writer);
        const msgpack_object *root = zstore_reader_parse (reader, writer.buffer.data,
                                                          writer.buffer.size, &error);
        assert_non_null (root);
        assert_null (error);
        assert_ptr_equal (root, zstore_reader_root (reader));
        zstore_fields_t fields;
        zstore_fields_init (&fields, root);
        assert_non_null (zstore_fields_find (&fields, "arrays"));
        //  Strings point into the caller's data, not a copy.
        const char *text = NULL;
        size_t size = 0;
        assert_true (zstore_fields_bytes (&fields, "str8", &text, &size));
        assert_int_equal (size, 40);
        assert_true (text >= (const char *) writer.buffer.data
                     && text < (const char *) writer.buffer.data + writer.buffer.size);
        static const struct { const char *data; size_t size; const char *error; } bad [] = {
            { "", 0, "empty message" },
            { "\x81\xa1", 2, "truncated msgpack message" },
            { "\x80\x00", 2, "trailing bytes after the message" },
            { "\x05", 1, "request must be a msgpack map" },
            { "\xc1", 1, "invalid msgpack data" },
        };
        for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
            assert_null (zstore_reader_parse (reader, bad [index].data, bad [index].size, &error));
            assert_string_equal (error, bad [index].error);
            assert_int_equal (zstore_reader_root (reader)->type, MSGPACK_OBJECT_NIL);
        }
    }
    zstore_writer_free (&writer);
    zstore_reader_destroy (&reader);
    zstore_reader_destroy (&reader);     //  twice is harmless
}

//  Raw bytes of a request nesting depth containers: the root map, then
//  maps {"a": ...} or arrays [...] down to a 1 (or an empty innermost one).
static void
s_build_nested (zstore_buffer_t *message, int depth, bool maps, bool empty_innermost)
{
    zstore_buffer_reset (message);
    for (int level = 1; level <= depth; level++) {
        bool is_map = level == 1 || maps;
        if (level == depth && empty_innermost)
            zstore_buffer_append (message, is_map ? "\x80" : "\x90", 1);
        else
            zstore_buffer_append (message, is_map ? "\x81\xa1" "a" : "\x91", is_map ? 3 : 1);
    }
    if (!empty_innermost)
        zstore_buffer_append (message, "\x01", 1);
}

//  Nesting of an object, counting containers (a scalar is 0).
static int
s_depth (const msgpack_object *object)
{
    int deepest = 0;
    if (object->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t index = 0; index < object->via.array.size; index++) {
            int depth = s_depth (&object->via.array.ptr [index]);
            deepest = depth > deepest ? depth : deepest;
        }
    else
    if (object->type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < object->via.map.size; index++) {
            int key = s_depth (&object->via.map.ptr [index].key);
            int value = s_depth (&object->via.map.ptr [index].val);
            deepest = key > deepest ? key : deepest;
            deepest = value > deepest ? value : deepest;
        }
    else
        return 0;
    return deepest + 1;
}

static void
test_reader_nesting_limit (void **state)
{
    (void) state;
    zstore_buffer_t message;
    zstore_buffer_init (&message);
    for (int shape = 0; shape < 4; shape++) {
        bool maps = shape & 1, empty_innermost = shape & 2;
        for (int depth = 1; depth <= 40; depth++) {
            s_build_nested (&message, depth, maps, empty_innermost);
            char *error = NULL;
            zstore_reader_t *reader = zstore_reader_new (message.data, message.size, &error);
            if (depth <= 32) {
                assert_non_null (reader);
                assert_null (error);
                assert_int_equal (s_depth (zstore_reader_root (reader)), depth);
            }
            else {
                assert_null (reader);
                assert_string_equal (error, "message nested deeper than 32 levels");
            }
            zstore_reader_destroy (&reader);
            free (error);
        }
    }
    //  Very deep input is refused without recursion
    s_build_nested (&message, 200000, false, false);
    s_expect_rejected (message.data, message.size, "message nested deeper than 32 levels");
    //  Depth is found before the end: truncated deep input says so
    s_build_nested (&message, 33, true, false);
    s_expect_rejected (message.data, message.size - 1, "message nested deeper than 32 levels");
    zstore_buffer_free (&message);
}

//  Containers and blobs declaring more than the message holds are refused
//  before msgpack-c would allocate for them.
static void
test_reader_rejects_lying_sizes (void **state)
{
    (void) state;
    s_expect_rejected (B ("\xdd\xff\xff\xff\xff"), "truncated msgpack message");
    s_expect_rejected (B ("\xdf\xff\xff\xff\xff"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xdd\xff\xff\xff\xff"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xdf\x7f\xff\xff\xff\x01\x01"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xdc\x00\x04\x01\x01\x01"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xdb\xff\xff\xff\xff"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xc6\x00\x00\x00\x02" "x"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xc9\xff\xff\xff\xff\x01"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xd8\x01"), "truncated msgpack message");
    s_expect_rejected (B ("\x8f"), "truncated msgpack message");
    s_expect_rejected (B ("\x81\xa1" "a\xc1"), "invalid msgpack data");
    s_expect_rejected (B ("\xc1"), "invalid msgpack data");
    //  Exactly as many elements as bytes left is fine
    zstore_reader_t *reader = zstore_reader_new (B ("\x81\xa1" "a\x93\x01\x02\x03"), NULL);
    assert_non_null (reader);
    zstore_reader_destroy (&reader);
    reader = zstore_reader_new (B ("\x81\xa1" "a\xdc\x00\x02\xc2\xc3"), NULL);
    assert_non_null (reader);
    zstore_reader_destroy (&reader);
}

//  Random data: the reader never crashes or leaks; what it accepts is a
//  map of bounded depth that re-packs and re-reads to the same bytes.
static void
s_check_random_input (const char *data, size_t size, uint64_t *accepted)
{
    char *error = NULL;
    zstore_reader_t *reader = zstore_reader_new (data, size, &error);
    assert_true ((reader == NULL) != (error == NULL));
    free (error);
    if (!reader)
        return;
    (*accepted)++;
    const msgpack_object *root = zstore_reader_root (reader);
    assert_int_equal (root->type, MSGPACK_OBJECT_MAP);
    assert_true (s_depth (root) <= 32);
    //  Typed access on whatever came: only answers or errors
    zstore_fields_t fields;
    zstore_fields_init (&fields, root);
    const char *bytes;
    size_t bytes_size;
    uint64_t unsigned_value;
    int64_t signed_value;
    bool present;
    zstore_fields_opt_bytes (&fields, "a", &bytes, &bytes_size, &present);
    zstore_fields_init (&fields, root);
    zstore_fields_opt_uint (&fields, "a", &unsigned_value, &present);
    zstore_fields_init (&fields, root);
    zstore_fields_opt_int (&fields, "a", &signed_value, &present);

    zstore_writer_t first, second;
    zstore_writer_init (&first);
    zstore_writer_init (&second);
    zstore_write_object (&first, root);
    zstore_reader_t *again = s_parse (&first);
    zstore_write_object (&second, zstore_reader_root (again));
    s_assert_bytes (second.buffer.data, second.buffer.size, first.buffer.data, first.buffer.size);
    zstore_reader_destroy (&again);
    zstore_reader_destroy (&reader);
    zstore_writer_free (&first);
    zstore_writer_free (&second);
}

//  A byte that is often structural: container and blob headers, small ints.
static char
s_structural_byte (uint64_t *seed)
{
    static const unsigned char bytes [] = {
        0x80, 0x81, 0x82, 0x8f, 0x90, 0x91, 0x92, 0x9f, 0xa0, 0xa1, 0xa2, 0xbf, 0xc0, 0xc1,
        0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
        0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x00, 0x01, 0x7f,
        0xe0, 0xff
    };
    uint64_t draw = s_random (seed);
    return (char) (draw & 1 ? bytes [(draw >> 8) % sizeof bytes] : (draw >> 8) & 0xff);
}

static void
test_reader_random_bytes (void **state)
{
    (void) state;
    uint64_t seed = 0x5eed0002, accepted = 0;
    zstore_writer_t valid;
    zstore_writer_init (&valid);
    s_write_every_format (&valid);
    char data [1024];
    for (int round = 0; round < 6000; round++) {
        size_t size;
        int mode = round % 3;
        if (mode == 0) {                        //  uniform bytes
            size = s_random (&seed) % 48;
            for (size_t index = 0; index < size; index++)
                data [index] = (char) s_random (&seed);
        }
        else
        if (mode == 1) {                        //  mostly headers, after a map header
            size = 1 + s_random (&seed) % 40;
            data [0] = (char) (0x80 + s_random (&seed) % 4);
            for (size_t index = 1; index < size; index++)
                data [index] = s_structural_byte (&seed);
        }
        else {                                  //  a valid message, damaged
            size = valid.buffer.size;
            memcpy (data, valid.buffer.data, size);
            for (int flips = 1 + (int) (s_random (&seed) % 3); flips > 0; flips--)
                data [s_random (&seed) % size] = s_structural_byte (&seed);
            if (s_random (&seed) & 1)
                size = s_random (&seed) % (size + 1);
        }
        s_check_random_input (data, size, &accepted);
    }
    //  Both paths were exercised
    assert_true (accepted > 50);
    assert_true (accepted < 5000);
    zstore_writer_free (&valid);
}

//  Where msgpack-c's allocations stay small (no 16/32-bit container
//  headers), the reader must accept exactly what msgpack-c parses as one
//  map of depth <= 32 with nothing after it, and give the reason otherwise.
static void
test_reader_agrees_with_msgpack (void **state)
{
    (void) state;
    uint64_t seed = 0x5eed0003, accepted = 0;
    char data [32];
    for (int round = 0; round < 20000; round++) {
        size_t size = 1 + s_random (&seed) % sizeof data;
        data [0] = (char) (0x80 + s_random (&seed) % 3);
        for (size_t index = 1; index < size; index++) {
            data [index] = s_structural_byte (&seed);
            if ((unsigned char) data [index] >= 0xdc && (unsigned char) data [index] <= 0xdf)
                data [index] = (char) 0x92;
        }
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        size_t offset = 0;
        msgpack_unpack_return rc = msgpack_unpack_next (&unpacked, data, size, &offset);
        bool parsed = rc == MSGPACK_UNPACK_SUCCESS;
        bool deep = parsed && s_depth (&unpacked.data) > 32;
        bool expected = parsed && !deep && offset == size
                     && unpacked.data.type == MSGPACK_OBJECT_MAP;
        msgpack_unpacked_destroy (&unpacked);

        char *error = NULL;
        zstore_reader_t *reader = zstore_reader_new (data, size, &error);
        assert_int_equal (reader != NULL, expected);
        accepted += expected;
        zstore_reader_destroy (&reader);
        if (!error)
            continue;
        bool too_deep = strcmp (error, "message nested deeper than 32 levels") == 0;
        if (parsed && !deep)
            assert_string_equal (error, offset < size ? "trailing bytes after the message"
                                                      : "request must be a msgpack map");
        else
        if (rc == MSGPACK_UNPACK_CONTINUE)
            assert_true (too_deep || strcmp (error, "truncated msgpack message") == 0);
        else
        if (rc == MSGPACK_UNPACK_PARSE_ERROR)
            assert_true (too_deep || strcmp (error, "invalid msgpack data") == 0);
        else
            assert_true (too_deep);             //  msgpack-c's own depth limit
        free (error);
    }
    assert_true (accepted > 100);
}

//  --- Fields -------------------------------------------------------------

//  {group: bin "g\0", name: str "n", limit: 10, big: UINT64_MAX, neg: -5,
//   ttl: -1000, min: INT64_MIN, max: INT64_MAX, over: INT64_MAX + 1,
//   flag: true, ops: [1], scope: {}, float: 1.5, nil: nil,
//   bin "binkey": 1, 7: "int key", groups: "x", group: "second"}
static zstore_reader_t *
s_sample_request (void)
{
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    zstore_write_map (&writer, 18);
    zstore_write_key (&writer, "group");
    zstore_write_bytes (&writer, B ("g\0"));
    zstore_write_key (&writer, "name");
    zstore_write_str (&writer, "n");
    zstore_write_key (&writer, "limit");
    zstore_write_uint (&writer, 10);
    zstore_write_key (&writer, "big");
    zstore_write_uint (&writer, UINT64_MAX);
    zstore_write_key (&writer, "neg");
    zstore_write_int (&writer, -5);
    zstore_write_key (&writer, "ttl");
    zstore_write_int (&writer, -1000);
    zstore_write_key (&writer, "min");
    zstore_write_int (&writer, INT64_MIN);
    zstore_write_key (&writer, "max");
    zstore_write_int (&writer, INT64_MAX);
    zstore_write_key (&writer, "over");
    zstore_write_uint (&writer, (uint64_t) INT64_MAX + 1);
    zstore_write_key (&writer, "flag");
    zstore_write_bool (&writer, true);
    zstore_write_key (&writer, "ops");
    zstore_write_array (&writer, 1);
    zstore_write_uint (&writer, 1);
    zstore_write_key (&writer, "scope");
    zstore_write_map (&writer, 0);
    zstore_write_key (&writer, "float");
    msgpack_pack_double (&writer.packer, 1.5);
    zstore_write_key (&writer, "nil");
    msgpack_pack_nil (&writer.packer);
    zstore_write_bytes (&writer, B ("binkey"));
    zstore_write_uint (&writer, 1);
    zstore_write_uint (&writer, 7);
    zstore_write_str (&writer, "int key");
    zstore_write_key (&writer, "groups");
    zstore_write_str (&writer, "x");
    zstore_write_key (&writer, "group");
    zstore_write_str (&writer, "second");
    zstore_reader_t *reader = s_parse (&writer);
    zstore_writer_free (&writer);
    return reader;
}

//  Runs call on fresh fields over root; it must fail with text.
#define S_EXPECT_ERROR(root, call, text) \
    do { \
        zstore_fields_init (&fields, root); \
        assert_false (call); \
        assert_true (fields.failed); \
        assert_string_equal (fields.error, text); \
    } while (0)

static void
test_fields_typed_access (void **state)
{
    (void) state;
    zstore_reader_t *reader = s_sample_request ();
    const msgpack_object *root = zstore_reader_root (reader);
    zstore_fields_t fields;
    zstore_fields_init (&fields, root);
    const char *data;
    size_t size;
    uint64_t unsigned_value;
    int64_t signed_value;
    bool flag = false;
    const msgpack_object_array *array;
    const msgpack_object *map;
    assert_true (zstore_fields_bytes (&fields, "group", &data, &size));   //  the first wins
    s_assert_bytes (data, size, B ("g\0"));
    assert_true (zstore_fields_bytes (&fields, "name", &data, &size));
    s_assert_bytes (data, size, B ("n"));
    assert_true (zstore_fields_bytes (&fields, "groups", &data, &size));
    s_assert_bytes (data, size, B ("x"));
    assert_true (zstore_fields_uint (&fields, "limit", &unsigned_value));
    assert_int_equal (unsigned_value, 10);
    assert_true (zstore_fields_uint (&fields, "big", &unsigned_value));
    assert_true (unsigned_value == UINT64_MAX);
    assert_true (zstore_fields_uint (&fields, "binkey", &unsigned_value));   //  a bin key
    assert_int_equal (unsigned_value, 1);
    assert_true (zstore_fields_int (&fields, "ttl", &signed_value));
    assert_true (signed_value == -1000);
    assert_true (zstore_fields_int (&fields, "limit", &signed_value));
    assert_true (signed_value == 10);
    assert_true (zstore_fields_int (&fields, "min", &signed_value));
    assert_true (signed_value == INT64_MIN);
    assert_true (zstore_fields_int (&fields, "max", &signed_value));
    assert_true (signed_value == INT64_MAX);
    assert_true (zstore_fields_bool (&fields, "flag", &flag));
    assert_true (flag);
    assert_true (zstore_fields_array (&fields, "ops", &array));
    assert_int_equal (array->size, 1);
    assert_true (zstore_fields_map (&fields, "scope", &map));
    assert_int_equal (map->type, MSGPACK_OBJECT_MAP);
    assert_false (fields.failed);
    assert_string_equal (fields.error, "");

    //  find: raw objects, NULL without an error when absent
    assert_int_equal (zstore_fields_find (&fields, "float")->type, MSGPACK_OBJECT_FLOAT64);
    assert_int_equal (zstore_fields_find (&fields, "nil")->type, MSGPACK_OBJECT_NIL);
    assert_null (zstore_fields_find (&fields, "absent"));
    assert_null (zstore_fields_find (&fields, "grou"));
    assert_null (zstore_fields_find (&fields, "7"));          //  integer keys name nothing
    assert_null (zstore_fields_find (&fields, ""));
    assert_false (fields.failed);

    S_EXPECT_ERROR (root, zstore_fields_uint (&fields, "neg", &unsigned_value),
                    "field 'neg' must be an unsigned integer");
    S_EXPECT_ERROR (root, zstore_fields_uint (&fields, "float", &unsigned_value),
                    "field 'float' must be an unsigned integer");
    S_EXPECT_ERROR (root, zstore_fields_int (&fields, "over", &signed_value),
                    "field 'over' is out of range (a signed 64-bit integer)");
    S_EXPECT_ERROR (root, zstore_fields_int (&fields, "big", &signed_value),
                    "field 'big' is out of range (a signed 64-bit integer)");
    S_EXPECT_ERROR (root, zstore_fields_int (&fields, "float", &signed_value),
                    "field 'float' must be an integer");
    S_EXPECT_ERROR (root, zstore_fields_bytes (&fields, "nil", &data, &size),
                    "field 'nil' must be bytes (bin or str)");
    S_EXPECT_ERROR (root, zstore_fields_bool (&fields, "limit", &flag),
                    "field 'limit' must be a boolean");
    zstore_reader_destroy (&reader);
}

//  The messages of PROTOCOL.md's bad_request, exactly.
static void
test_fields_error_texts (void **state)
{
    (void) state;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    zstore_write_map (&writer, 6);
    zstore_write_key (&writer, "group");
    zstore_write_uint (&writer, 5);
    zstore_write_key (&writer, "limit");
    zstore_write_int (&writer, -1);
    zstore_write_key (&writer, "ttl");
    zstore_write_str (&writer, "s");
    zstore_write_key (&writer, "ops");
    zstore_write_map (&writer, 0);
    zstore_write_key (&writer, "scope");
    zstore_write_array (&writer, 0);
    zstore_write_key (&writer, "x");
    zstore_write_uint (&writer, 1);
    zstore_reader_t *reader = s_parse (&writer);
    const msgpack_object *root = zstore_reader_root (reader);
    msgpack_object empty = { .type = MSGPACK_OBJECT_MAP };
    zstore_fields_t fields;
    const char *data;
    size_t size;
    uint64_t unsigned_value;
    int64_t signed_value;
    bool flag, present;
    const msgpack_object_array *array;
    const msgpack_object *map;

    S_EXPECT_ERROR (&empty, zstore_fields_bytes (&fields, "group", &data, &size),
                    "field 'group' is missing");
    S_EXPECT_ERROR (&empty, zstore_fields_uint (&fields, "limit", &unsigned_value),
                    "field 'limit' is missing");
    S_EXPECT_ERROR (&empty, zstore_fields_int (&fields, "ttl", &signed_value),
                    "field 'ttl' is missing");
    S_EXPECT_ERROR (&empty, zstore_fields_bool (&fields, "x", &flag), "field 'x' is missing");
    S_EXPECT_ERROR (&empty, zstore_fields_array (&fields, "ops", &array), "field 'ops' is missing");
    S_EXPECT_ERROR (&empty, zstore_fields_map (&fields, "scope", &map), "field 'scope' is missing");
    S_EXPECT_ERROR (root, zstore_fields_bytes (&fields, "group", &data, &size),
                    "field 'group' must be bytes (bin or str)");
    S_EXPECT_ERROR (root, zstore_fields_uint (&fields, "limit", &unsigned_value),
                    "field 'limit' must be an unsigned integer");
    S_EXPECT_ERROR (root, zstore_fields_int (&fields, "ttl", &signed_value),
                    "field 'ttl' must be an integer");
    S_EXPECT_ERROR (root, zstore_fields_array (&fields, "ops", &array),
                    "field 'ops' must be an array");
    S_EXPECT_ERROR (root, zstore_fields_map (&fields, "scope", &map),
                    "field 'scope' must be a map");
    S_EXPECT_ERROR (root, zstore_fields_bool (&fields, "x", &flag), "field 'x' must be a boolean");
    //  Optional fields: the same texts when present with another type
    S_EXPECT_ERROR (root, zstore_fields_opt_bytes (&fields, "group", &data, &size, &present),
                    "field 'group' must be bytes (bin or str)");
    S_EXPECT_ERROR (root, zstore_fields_opt_uint (&fields, "limit", &unsigned_value, &present),
                    "field 'limit' must be an unsigned integer");
    S_EXPECT_ERROR (root, zstore_fields_opt_int (&fields, "ttl", &signed_value, &present),
                    "field 'ttl' must be an integer");
    S_EXPECT_ERROR (root, zstore_fields_opt_map (&fields, "scope", &map, &present),
                    "field 'scope' must be a map");
    assert_false (present);

    //  A missing or non-map map: every field is missing
    S_EXPECT_ERROR (NULL, zstore_fields_bytes (&fields, "group", &data, &size),
                    "field 'group' is missing");
    S_EXPECT_ERROR (s_value (root, "scope"), zstore_fields_bytes (&fields, "group", &data, &size),
                    "field 'group' is missing");
    zstore_reader_destroy (&reader);
    zstore_writer_free (&writer);
}

static void
test_fields_optional (void **state)
{
    (void) state;
    zstore_reader_t *reader = s_sample_request ();
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reader));
    const char *data = "preset";
    size_t size = 6;
    uint64_t unsigned_value = 42;
    int64_t signed_value = -42;
    const msgpack_object *map = NULL;
    bool present = true;
    //  Absent: true, present false, outputs untouched (callers preset defaults)
    assert_true (zstore_fields_opt_bytes (&fields, "after", &data, &size, &present));
    assert_false (present);
    s_assert_bytes (data, size, B ("preset"));
    present = true;
    assert_true (zstore_fields_opt_uint (&fields, "offset", &unsigned_value, &present));
    assert_false (present);
    assert_int_equal (unsigned_value, 42);
    present = true;
    assert_true (zstore_fields_opt_int (&fields, "if_rev", &signed_value, &present));
    assert_false (present);
    assert_true (signed_value == -42);
    present = true;
    assert_true (zstore_fields_opt_map (&fields, "where", &map, &present));
    assert_false (present);
    assert_null (map);
    assert_true (zstore_fields_opt_uint (&fields, "offset", &unsigned_value, NULL));
    //  Present
    assert_true (zstore_fields_opt_bytes (&fields, "name", &data, &size, &present));
    assert_true (present);
    s_assert_bytes (data, size, B ("n"));
    assert_true (zstore_fields_opt_uint (&fields, "limit", &unsigned_value, &present));
    assert_true (present);
    assert_int_equal (unsigned_value, 10);
    assert_true (zstore_fields_opt_int (&fields, "neg", &signed_value, &present));
    assert_true (present);
    assert_true (signed_value == -5);
    assert_true (zstore_fields_opt_map (&fields, "scope", &map, &present));
    assert_true (present);
    assert_non_null (map);
    assert_false (fields.failed);
    zstore_reader_destroy (&reader);
}

static void
test_fields_keep_first_error (void **state)
{
    (void) state;
    zstore_reader_t *reader = s_sample_request ();
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reader));
    uint64_t unsigned_value = 0;
    bool present;
    const char *data;
    size_t size;
    assert_false (zstore_fields_uint (&fields, "neg", &unsigned_value));
    assert_string_equal (fields.error, "field 'neg' must be an unsigned integer");
    assert_false (zstore_fields_bytes (&fields, "missing", &data, &size));
    assert_false (zstore_fields_bool (&fields, "limit", &present));
    //  Later calls fail even on good or absent fields, and keep the first text
    assert_false (zstore_fields_uint (&fields, "limit", &unsigned_value));
    assert_int_equal (unsigned_value, 0);
    assert_false (zstore_fields_opt_uint (&fields, "absent", &unsigned_value, &present));
    assert_false (zstore_fields_opt_bytes (&fields, "name", &data, &size, &present));
    assert_string_equal (fields.error, "field 'neg' must be an unsigned integer");
    //  find still answers
    assert_non_null (zstore_fields_find (&fields, "limit"));
    //  init clears
    zstore_fields_init (&fields, zstore_reader_root (reader));
    assert_false (fields.failed);
    assert_true (zstore_fields_uint (&fields, "limit", &unsigned_value));
    zstore_reader_destroy (&reader);
}

//  --- Writer -------------------------------------------------------------

static void
test_writer_types (void **state)
{
    (void) state;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    assert_false (zstore_writer_failed (&writer));
    zstore_write_map (&writer, 1);
    zstore_write_key (&writer, "v");
    zstore_write_array (&writer, 12);
    zstore_write_bytes (&writer, B ("a\0"));
    zstore_write_bytes (&writer, NULL, 0);
    zstore_write_str (&writer, "hi");
    zstore_write_str (&writer, "");
    zstore_write_uint (&writer, 0);
    zstore_write_uint (&writer, UINT64_MAX);
    zstore_write_int (&writer, -1);
    zstore_write_int (&writer, INT64_MIN);
    zstore_write_int (&writer, 5);
    zstore_write_bool (&writer, true);
    zstore_write_bool (&writer, false);
    zstore_write_object (&writer, NULL);
    assert_false (zstore_writer_failed (&writer));

    zstore_reader_t *reader = s_parse (&writer);
    const msgpack_object *array = s_value (zstore_reader_root (reader), "v");
    assert_int_equal (array->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (array->via.array.size, 12);
    const msgpack_object *items = array->via.array.ptr;
    assert_int_equal (items [0].type, MSGPACK_OBJECT_BIN);
    s_assert_bytes (items [0].via.bin.ptr, items [0].via.bin.size, B ("a\0"));
    assert_int_equal (items [1].type, MSGPACK_OBJECT_BIN);
    assert_int_equal (items [1].via.bin.size, 0);
    assert_int_equal (items [2].type, MSGPACK_OBJECT_STR);
    s_assert_bytes (items [2].via.str.ptr, items [2].via.str.size, B ("hi"));
    assert_int_equal (items [3].type, MSGPACK_OBJECT_STR);
    assert_int_equal (items [3].via.str.size, 0);
    assert_int_equal (items [4].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal (items [4].via.u64, 0);
    assert_true (items [5].via.u64 == UINT64_MAX);
    assert_int_equal (items [6].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_true (items [6].via.i64 == -1);
    assert_true (items [7].via.i64 == INT64_MIN);
    assert_int_equal (items [8].type, MSGPACK_OBJECT_POSITIVE_INTEGER);    //  a uint on the wire
    assert_int_equal (items [8].via.u64, 5);
    assert_int_equal (items [9].type, MSGPACK_OBJECT_BOOLEAN);
    assert_true (items [9].via.boolean);
    assert_false (items [10].via.boolean);
    assert_int_equal (items [11].type, MSGPACK_OBJECT_NIL);
    zstore_reader_destroy (&reader);
    zstore_writer_free (&writer);
}

static void
test_writer_reset_and_object_copy (void **state)
{
    (void) state;
    zstore_writer_t writer, copy;
    zstore_writer_init (&writer);
    zstore_writer_init (&copy);
    s_write_every_format (&writer);
    char *data = writer.buffer.data;
    zstore_writer_reset (&writer);
    assert_int_equal (writer.buffer.size, 0);
    assert_false (zstore_writer_failed (&writer));
    zstore_write_map (&writer, 0);
    assert_ptr_equal (writer.buffer.data, data);            //  memory kept
    s_assert_bytes (writer.buffer.data, writer.buffer.size, B ("\x80"));

    //  write_object copies a parsed object: canonical input comes back as is
    zstore_writer_reset (&writer);
    s_write_every_format (&writer);
    zstore_reader_t *reader = s_parse (&writer);
    zstore_write_object (&copy, zstore_reader_root (reader));
    zstore_reader_destroy (&reader);
    s_assert_bytes (copy.buffer.data, copy.buffer.size, writer.buffer.data, writer.buffer.size);

    zstore_writer_free (&writer);
    assert_null (writer.buffer.data);
    zstore_writer_free (&writer);                           //  idempotent
    zstore_write_map (&writer, 0);                          //  still usable after free
    s_assert_bytes (writer.buffer.data, writer.buffer.size, B ("\x80"));
    zstore_writer_free (&writer);
    zstore_writer_free (&copy);
}

//  --- Event bodies -------------------------------------------------------

static void
test_event_round_trip_with_sequences (void **state)
{
    (void) state;
    zstore_event_body_t event = {
        .type = "set",
        .group = "tenant-a:orders", .group_size = 15,
        .key = "k\0\x01", .key_size = 3,
        .value = "v\0", .value_size = 2,
        .rev = 10, .prev_rev = 9, .idx = 1, .n = 3, .ts = 1700000000000ULL,
        .expires_at = 1700000060000ULL, .epoch = UINT64_MAX, .seq = 100, .gseq = 7, .nseq = 8
    };
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    zstore_event_body_write (&writer, &event, true);
    assert_false (zstore_writer_failed (&writer));
    zstore_reader_t *reader = s_parse (&writer);
    const msgpack_object *root = zstore_reader_root (reader);
    const char *keys [] = { "type", "group", "key", "value", "rev", "prev_rev", "idx", "n", "ts",
                            "expires_at", "epoch", "seq", "gseq", "nseq" };
    s_assert_keys (root, keys, 14);
    assert_int_equal (s_value (root, "type")->type, MSGPACK_OBJECT_STR);
    assert_int_equal (s_value (root, "group")->type, MSGPACK_OBJECT_BIN);
    assert_int_equal (s_value (root, "key")->type, MSGPACK_OBJECT_BIN);
    assert_int_equal (s_value (root, "value")->type, MSGPACK_OBJECT_BIN);
    for (size_t index = 4; index < 14; index++)
        assert_int_equal (root->via.map.ptr [index].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);

    zstore_event_body_t read;
    zstore_fields_t fields;
    assert_true (zstore_event_body_read (root, &read, &fields));
    assert_string_equal (read.type, "set");
    s_assert_bytes (read.group, read.group_size, event.group, event.group_size);
    s_assert_bytes (read.key, read.key_size, event.key, event.key_size);
    s_assert_bytes (read.value, read.value_size, event.value, event.value_size);
    assert_int_equal (read.rev, 10);
    assert_int_equal (read.prev_rev, 9);
    assert_int_equal (read.idx, 1);
    assert_int_equal (read.n, 3);
    assert_true (read.ts == 1700000000000ULL);
    assert_true (read.expires_at == 1700000060000ULL);
    assert_true (read.epoch == UINT64_MAX);
    assert_int_equal (read.seq, 100);
    assert_int_equal (read.gseq, 7);
    assert_int_equal (read.nseq, 8);
    zstore_reader_destroy (&reader);
    assert_string_equal (read.type, "set");                 //  static, outlives the reader
    zstore_writer_free (&writer);
}

//  Every type, as history writes them: no value unless set, no sequences.
static void
test_event_types_without_sequences (void **state)
{
    (void) state;
    static const char *types [] = { "set", "delete", "delete_group", "expire" };
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    for (size_t index = 0; index < 4; index++) {
        char type [16];
        snprintf (type, sizeof type, "%s", types [index]);  //  not the static string
        bool is_set = index == 0;
        zstore_event_body_t event = {
            .type = type, .group = "g", .group_size = 1, .key = "", .key_size = 0,
            .value = is_set ? "" : "ignored", .value_size = is_set ? 0 : 7,
            .rev = 5, .prev_rev = 4, .n = 1, .ts = 99, .seq = 77   //  seq is not written
        };
        zstore_writer_reset (&writer);
        zstore_event_body_write (&writer, &event, false);
        zstore_reader_t *reader = s_parse (&writer);
        const msgpack_object *root = zstore_reader_root (reader);
        const char *with_value [] = { "type", "group", "key", "value", "rev", "prev_rev", "idx",
                                      "n", "ts", "expires_at" };
        const char *without_value [] = { "type", "group", "key", "rev", "prev_rev", "idx", "n",
                                         "ts", "expires_at" };
        if (is_set)
            s_assert_keys (root, with_value, 10);
        else
            s_assert_keys (root, without_value, 9);
        zstore_event_body_t read;
        zstore_fields_t fields;
        assert_true (zstore_event_body_read (root, &read, &fields));
        assert_string_equal (read.type, types [index]);
        assert_ptr_not_equal (read.type, type);
        assert_non_null (read.value);
        assert_int_equal (read.value_size, 0);
        assert_int_equal (read.key_size, 0);
        assert_int_equal (read.rev, 5);
        assert_int_equal (read.ts, 99);
        assert_int_equal (read.epoch, 0);
        assert_int_equal (read.seq, 0);
        assert_int_equal (read.gseq, 0);
        assert_int_equal (read.nseq, 0);
        zstore_reader_destroy (&reader);
    }
    zstore_writer_free (&writer);
}

//  Writes {type: type, group, key, rev..expires_at} minus the field named
//  skip, with rev as a str if bad_rev.
static zstore_reader_t *
s_event_map (const char *type, const char *skip, bool bad_rev, bool str_group)
{
    static const char *counters [] = { "rev", "prev_rev", "idx", "n", "ts", "expires_at" };
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    uint32_t pairs = 9 - (skip ? 1 : 0);
    zstore_write_map (&writer, pairs);
    if (!skip || strcmp (skip, "type")) {
        zstore_write_key (&writer, "type");
        zstore_write_str (&writer, type);
    }
    zstore_write_key (&writer, "group");
    if (str_group)
        zstore_write_str (&writer, "g");
    else
        zstore_write_bytes (&writer, B ("g"));
    zstore_write_key (&writer, "key");
    zstore_write_bytes (&writer, B ("k"));
    for (size_t index = 0; index < 6; index++) {
        if (skip && strcmp (skip, counters [index]) == 0)
            continue;
        zstore_write_key (&writer, counters [index]);
        if (bad_rev && index == 0)
            zstore_write_str (&writer, "1");
        else
            zstore_write_uint (&writer, index + 1);
    }
    zstore_reader_t *reader = s_parse (&writer);
    zstore_writer_free (&writer);
    return reader;
}

static void
test_event_read_errors (void **state)
{
    (void) state;
    zstore_event_body_t event;
    zstore_fields_t fields;
    zstore_reader_t *reader = s_event_map ("set", NULL, false, true);
    assert_true (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    s_assert_bytes (event.group, event.group_size, B ("g"));     //  str accepted
    assert_int_equal (event.expires_at, 6);
    zstore_reader_destroy (&reader);

    reader = s_event_map ("update", NULL, false, false);
    assert_false (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    assert_string_equal (fields.error, "field 'type' must be set, delete, delete_group or expire");
    zstore_reader_destroy (&reader);
    reader = s_event_map ("se", NULL, false, false);
    assert_false (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    zstore_reader_destroy (&reader);
    reader = s_event_map ("set", "type", false, false);
    assert_false (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    assert_string_equal (fields.error, "field 'type' is missing");
    zstore_reader_destroy (&reader);
    reader = s_event_map ("set", "ts", false, false);
    assert_false (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    assert_string_equal (fields.error, "field 'ts' is missing");
    zstore_reader_destroy (&reader);
    reader = s_event_map ("delete", NULL, true, false);
    assert_false (zstore_event_body_read (zstore_reader_root (reader), &event, &fields));
    assert_string_equal (fields.error, "field 'rev' must be an unsigned integer");
    zstore_reader_destroy (&reader);

    msgpack_object scalar = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER };
    assert_false (zstore_event_body_read (&scalar, &event, &fields));
    assert_string_equal (fields.error, "event must be a msgpack map");
    assert_false (zstore_event_body_read (NULL, &event, &fields));
    assert_true (fields.failed);
}

//  --- Control bodies -----------------------------------------------------

static void
test_control_bodies (void **state)
{
    (void) state;
    static const struct {
        zstore_control_kind_t kind;
        const char *keys [4];
        size_t count;
    } shapes [] = {
        { ZSTORE_CONTROL_HEARTBEAT, { "epoch", "seq", "rev", "ts" }, 4 },
        { ZSTORE_CONTROL_GROUP_BEACON, { "epoch", "gseq", "rev" }, 3 },
        { ZSTORE_CONTROL_NAMESPACE_BEACON, { "epoch", "nseq", "rev" }, 3 },
        { ZSTORE_CONTROL_SYNC, { "epoch", "seq", "rev" }, 3 },
    };
    const zstore_control_body_t body = {
        .epoch = UINT64_MAX - 1, .seq = 11, .gseq = 12, .nseq = 13, .rev = 14, .ts = 15
    };
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    for (size_t index = 0; index < 4; index++) {
        zstore_writer_reset (&writer);
        zstore_control_body_write (&writer, shapes [index].kind, &body);
        assert_false (zstore_writer_failed (&writer));
        zstore_reader_t *reader = s_parse (&writer);
        s_assert_keys (zstore_reader_root (reader), shapes [index].keys, shapes [index].count);
        zstore_control_body_t read;
        memset (&read, 0xaa, sizeof read);
        zstore_fields_t fields;
        assert_true (zstore_control_body_read (zstore_reader_root (reader), &read, &fields));
        //  What the kind carries comes back; the rest reads 0
        zstore_control_body_t expected = { .epoch = body.epoch, .rev = body.rev };
        if (shapes [index].kind == ZSTORE_CONTROL_HEARTBEAT) {
            expected.seq = body.seq;
            expected.ts = body.ts;
        }
        else
        if (shapes [index].kind == ZSTORE_CONTROL_GROUP_BEACON)
            expected.gseq = body.gseq;
        else
        if (shapes [index].kind == ZSTORE_CONTROL_NAMESPACE_BEACON)
            expected.nseq = body.nseq;
        else
            expected.seq = body.seq;
        assert_memory_equal (&read, &expected, sizeof read);
        zstore_reader_destroy (&reader);
    }
    //  A kind outside the enum writes nothing and marks the writer failed
    zstore_writer_reset (&writer);
    zstore_control_body_write (&writer, (zstore_control_kind_t) 99, &body);
    assert_true (zstore_writer_failed (&writer));
    assert_int_equal (writer.buffer.size, 0);
    zstore_writer_reset (&writer);
    assert_false (zstore_writer_failed (&writer));
    zstore_writer_free (&writer);
}

static void
test_control_read_errors (void **state)
{
    (void) state;
    zstore_control_body_t body;
    zstore_fields_t fields;
    zstore_reader_t *reader = zstore_reader_new (B ("\x82\xa5" "epoch\x01\xa3" "seq\xa1" "x"), NULL);
    assert_non_null (reader);
    assert_false (zstore_control_body_read (zstore_reader_root (reader), &body, &fields));
    assert_string_equal (fields.error, "field 'seq' must be an unsigned integer");
    zstore_reader_destroy (&reader);
    reader = zstore_reader_new (B ("\x80"), NULL);
    assert_true (zstore_control_body_read (zstore_reader_root (reader), &body, &fields));
    assert_int_equal (body.epoch + body.seq + body.gseq + body.nseq + body.rev + body.ts, 0);
    zstore_reader_destroy (&reader);
    msgpack_object array = { .type = MSGPACK_OBJECT_ARRAY };
    assert_false (zstore_control_body_read (&array, &body, &fields));
    assert_string_equal (fields.error, "control body must be a msgpack map");
}

//  --- Reply header -------------------------------------------------------

static void
test_reply_begin_plain (void **state)
{
    (void) state;
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    zstore_reply_begin (&writer, NULL, ZSTORE_STATUS_OK, NULL, 0);
    assert_false (zstore_writer_failed (&writer));
    s_assert_bytes (writer.buffer.data, writer.buffer.size,
                    B ("\x82\xa6" "status\x00\xa4" "code\xa2" "ok"));
    zstore_reader_t *reader = s_parse (&writer);
    const char *keys [] = { "status", "code" };
    s_assert_keys (zstore_reader_root (reader), keys, 2);
    zstore_reader_destroy (&reader);
    zstore_writer_free (&writer);
}

static void
test_reply_begin_with_id_error_and_extra (void **state)
{
    (void) state;
    //  Request ids as uint, str and bin: each echoed with its type and bytes
    zstore_reader_t *request = zstore_reader_new (
        B ("\x83\xa1" "u\xcd\x12\x34\xa1" "s\xa3" "abc\xa1" "b\xc4\x02\x00\x01"), NULL);
    assert_non_null (request);
    const msgpack_object *root = zstore_reader_root (request);
    static const char *id_names [] = { "u", "s", "b" };
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    for (size_t index = 0; index < 3; index++) {
        const msgpack_object *id = s_value (root, id_names [index]);
        zstore_writer_reset (&writer);
        zstore_reply_begin (&writer, id, ZSTORE_STATUS_NOT_FOUND, "no such key", 1);
        zstore_write_key (&writer, "rev");
        zstore_write_uint (&writer, 5);
        assert_false (zstore_writer_failed (&writer));
        zstore_reader_t *reply = s_parse (&writer);
        const msgpack_object *map = zstore_reader_root (reply);
        const char *keys [] = { "id", "status", "code", "error", "rev" };
        s_assert_keys (map, keys, 5);
        assert_true (msgpack_object_equal (*s_value (map, "id"), *id));
        assert_int_equal (s_value (map, "id")->type, id->type);
        const msgpack_object *status = s_value (map, "status");
        assert_int_equal (status->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        assert_int_equal (status->via.u64, ZSTORE_STATUS_NOT_FOUND);
        zstore_fields_t fields;
        zstore_fields_init (&fields, map);
        const char *data;
        size_t size;
        assert_true (zstore_fields_bytes (&fields, "code", &data, &size));
        s_assert_bytes (data, size, B ("not_found"));
        assert_true (zstore_fields_bytes (&fields, "error", &data, &size));
        s_assert_bytes (data, size, B ("no such key"));
        assert_int_equal (s_value (map, "error")->type, MSGPACK_OBJECT_STR);
        zstore_reader_destroy (&reply);
    }
    //  Error without id
    zstore_writer_reset (&writer);
    zstore_reply_begin (&writer, NULL, ZSTORE_STATUS_BAD_REQUEST, "field 'group' is missing", 0);
    zstore_reader_t *reply = s_parse (&writer);
    const char *keys [] = { "status", "code", "error" };
    s_assert_keys (zstore_reader_root (reply), keys, 3);
    assert_int_equal (s_value (zstore_reader_root (reply), "status")->via.u64, 8);
    zstore_reader_destroy (&reply);
    zstore_reader_destroy (&request);
    zstore_writer_free (&writer);
}

//  The writer's str and bin are byte for byte what msgpack-c's packer
//  writes, at every size around its short path and format boundaries.
static void
test_writer_matches_msgpack_c (void **state)
{
    (void) state;
    char data [300];
    for (size_t index = 0; index < sizeof data; index++)
        data [index] = (char) ('a' + index % 26);
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    for (size_t size = 0; size < sizeof data; size++) {
        msgpack_sbuffer expected;
        msgpack_sbuffer_init (&expected);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &expected, msgpack_sbuffer_write);
        msgpack_pack_bin (&packer, size);
        msgpack_pack_bin_body (&packer, data, size);
        msgpack_pack_str (&packer, size);
        msgpack_pack_str_body (&packer, data, size);
        char text [sizeof data + 1];
        memcpy (text, data, size);
        text [size] = 0;
        zstore_writer_reset (&writer);
        zstore_write_bytes (&writer, data, size);
        zstore_write_str (&writer, text);
        assert_false (zstore_writer_failed (&writer));
        assert_int_equal (writer.buffer.size, expected.size);
        assert_memory_equal (writer.buffer.data, expected.data, expected.size);
        msgpack_sbuffer_destroy (&expected);
    }
    zstore_writer_free (&writer);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_status_names_both_ways),
        cmocka_unit_test (test_buffer_append_reset_free),
        cmocka_unit_test (test_writer_matches_msgpack_c),
        cmocka_unit_test (test_escape_every_byte_value),
        cmocka_unit_test (test_escape_random_round_trip),
        cmocka_unit_test (test_unescape_rejects_malformed),
        cmocka_unit_test (test_topic_worked_examples),
        cmocka_unit_test (test_topic_near_misses),
        cmocka_unit_test (test_topic_namespace_rules),
        cmocka_unit_test (test_topic_matches_is_byte_prefix),
        cmocka_unit_test (test_topic_property_adversarial),
        cmocka_unit_test (test_reader_valid_map),
        cmocka_unit_test (test_reader_rejects_non_map_root),
        cmocka_unit_test (test_reader_rejects_truncated),
        cmocka_unit_test (test_reader_rejects_trailing_bytes),
        cmocka_unit_test (test_reader_nesting_limit),
        cmocka_unit_test (test_reader_rejects_lying_sizes),
        cmocka_unit_test (test_reader_random_bytes),
        cmocka_unit_test (test_reader_agrees_with_msgpack),
        cmocka_unit_test (test_fields_typed_access),
        cmocka_unit_test (test_fields_error_texts),
        cmocka_unit_test (test_fields_optional),
        cmocka_unit_test (test_fields_keep_first_error),
        cmocka_unit_test (test_writer_types),
        cmocka_unit_test (test_writer_reset_and_object_copy),
        cmocka_unit_test (test_event_round_trip_with_sequences),
        cmocka_unit_test (test_event_types_without_sequences),
        cmocka_unit_test (test_event_read_errors),
        cmocka_unit_test (test_control_bodies),
        cmocka_unit_test (test_control_read_errors),
        cmocka_unit_test (test_reusable_reader),
        cmocka_unit_test (test_utf8_strict),
        cmocka_unit_test (test_reply_begin_plain),
        cmocka_unit_test (test_reply_begin_with_id_error_and_extra),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
