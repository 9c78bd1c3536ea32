//  Every request operation of PROTOCOL.md 2.4 (but snapshots and history)
//  over real sockets against the real zstore-broker binary: replies,
//  revisions, orders, namespaces and quotas, transactions, stats, binary
//  safety, and the error code of every failure a client can provoke.

#include "broker_harness.h"

#include <signal.h>

#define TIMEOUT 5000
#define COUNT(table) (sizeof (table) / sizeof ((table) [0]))
#define ONE_HOUR 3600000

//  No background purge during a test (expired rows stay until a request
//  removes them); two namespaces with quotas.
static const char *s_config =
    "timers\n"
    "    purge-interval = 86400000\n"
    "namespaces\n"
    "    quota-k\n"
    "        max-keys = 3\n"
    "    quota-g\n"
    "        max-groups = 2\n";

//  The code names of PROTOCOL.md 2.5, written out here rather than taken
//  from the codec, so that the broker is checked against the document.
static const char *s_code_names [] = {
    "ok", "not_found", "quota_exceeded", "invalid", "closed", "conflict", "internal",
    "too_old", "bad_request", "unknown_op", "too_large", "unsupported_version", "busy",
    "unknown_snapshot"
};

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    zsock_t *dealer;
    zstore_writer_t request;
    uint64_t id;                    //  of the last request built
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "broker.db");
    fixture->broker = broker_start (fixture->db_path, s_config, NULL, NULL);
    fixture->dealer = broker_dealer (fixture->broker);
    zstore_writer_init (&fixture->request);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zsock_destroy (&fixture->dealer);
    broker_stop (&fixture->broker, SIGTERM);
    zstore_writer_free (&fixture->request);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  --- Building requests ----------------------------------------------------

//  A request map: a fresh id, op, ns (unless NULL), then extra pairs that
//  the caller writes.
static zstore_writer_t *
s_request (fixture_t *fixture, const char *ns, const char *op, uint32_t extra)
{
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 2 + (ns ? 1 : 0) + extra);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, ++fixture->id);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, op);
    if (ns) {
        zstore_write_key (writer, "ns");
        zstore_write_str (writer, ns);
    }
    return writer;
}

static void
s_bytes (zstore_writer_t *writer, const char *field, const void *data, size_t size)
{
    zstore_write_key (writer, field);
    zstore_write_bytes (writer, data, size);
}

//  A C string's bytes, as bin.
static void
s_text (zstore_writer_t *writer, const char *field, const char *text)
{
    s_bytes (writer, field, text, strlen (text));
}

//  Bytes as msgpack str (any bytes: never validated as UTF-8).
static void
s_str (zstore_writer_t *writer, const char *field, const void *data, size_t size)
{
    zstore_write_key (writer, field);
    msgpack_pack_str (&writer->packer, size);
    msgpack_pack_str_body (&writer->packer, data, size);
}

static void
s_uint (zstore_writer_t *writer, const char *field, uint64_t value)
{
    zstore_write_key (writer, field);
    zstore_write_uint (writer, value);
}

static void
s_int (zstore_writer_t *writer, const char *field, int64_t value)
{
    zstore_write_key (writer, field);
    zstore_write_int (writer, value);
}

//  A txn request whose "ops" array of count maps the caller writes next.
static zstore_writer_t *
s_txn (fixture_t *fixture, const char *ns, uint32_t count)
{
    zstore_writer_t *writer = s_request (fixture, ns, "txn", 1);
    zstore_write_key (writer, "ops");
    zstore_write_array (writer, count);
    return writer;
}

//  One op map of a txn: op, then fields pairs the caller writes.
static zstore_writer_t *
s_txn_op (zstore_writer_t *writer, const char *op, uint32_t fields)
{
    zstore_write_map (writer, 1 + fields);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, op);
    return writer;
}

static void
s_txn_set (zstore_writer_t *writer, const char *group, const char *key, const char *value)
{
    s_txn_op (writer, "set", 3);
    s_text (writer, "group", group);
    s_text (writer, "key", key);
    s_text (writer, "value", value);
}

static void
s_txn_key_op (zstore_writer_t *writer, const char *op, const char *group, const char *key)
{
    s_txn_op (writer, op, 2);
    s_text (writer, "group", group);
    s_text (writer, "key", key);
}

//  --- Reading replies --------------------------------------------------------

static const msgpack_object *
s_root (zstore_reader_t *reply)
{
    return zstore_reader_root (reply);
}

//  A field of a map; NULL if absent.
static const msgpack_object *
s_find (const msgpack_object *map, const char *name)
{
    assert_int_equal (map->type, MSGPACK_OBJECT_MAP);
    zstore_fields_t fields;
    zstore_fields_init (&fields, map);
    return zstore_fields_find (&fields, name);
}

static const msgpack_object *
s_member (const msgpack_object *map, const char *name)
{
    const msgpack_object *member = s_find (map, name);
    if (!member)
        fail_msg ("field '%s' is missing", name);
    return member;
}

static uint64_t
s_member_uint (const msgpack_object *map, const char *name)
{
    const msgpack_object *member = s_member (map, name);
    if (member->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        fail_msg ("field '%s' is not an unsigned integer", name);
    return member->via.u64;
}

static bool
s_member_bool (const msgpack_object *map, const char *name)
{
    const msgpack_object *member = s_member (map, name);
    if (member->type != MSGPACK_OBJECT_BOOLEAN)
        fail_msg ("field '%s' is not a bool", name);
    return member->via.boolean;
}

static const msgpack_object_array *
s_member_array (const msgpack_object *map, const char *name)
{
    const msgpack_object *member = s_member (map, name);
    if (member->type != MSGPACK_OBJECT_ARRAY)
        fail_msg ("field '%s' is not an array", name);
    return &member->via.array;
}

//  The broker always answers byte strings as bin.
static void
s_assert_bin (const msgpack_object *object, const void *data, size_t size)
{
    assert_int_equal (object->type, MSGPACK_OBJECT_BIN);
    assert_int_equal (object->via.bin.size, size);
    if (size)
        assert_memory_equal (object->via.bin.ptr, data, size);
}

static void
s_assert_member_text (const msgpack_object *map, const char *name, const char *text)
{
    s_assert_bin (s_member (map, name), text, strlen (text));
}

//  A count in a stats map (op -> count, code -> count); 0 if absent.
static uint64_t
s_tally (const msgpack_object *map, const char *name)
{
    const msgpack_object *member = s_find (map, name);
    return member ? member->via.u64 : 0;
}

//  A reply (or txn result) map has this status, its code name, and (on
//  error) a message containing text.
static void
s_assert_map_status (const msgpack_object *map, int status, const char *text)
{
    const msgpack_object *error = s_find (map, "error");
    char message [1024] = "";
    if (error && error->type == MSGPACK_OBJECT_STR)
        snprintf (message, sizeof message, "%.*s", (int) error->via.str.size,
                  error->via.str.ptr);
    if (s_member_uint (map, "status") != (uint64_t) status)
        fail_msg ("status %d expected, got %d (%s)", status, (int) s_member_uint (map, "status"),
                  message);
    const msgpack_object *code = s_member (map, "code");
    assert_int_equal (code->type, MSGPACK_OBJECT_STR);
    assert_int_equal (code->via.str.size, strlen (s_code_names [status]));
    assert_memory_equal (code->via.str.ptr, s_code_names [status], code->via.str.size);
    if (status == ZSTORE_STATUS_OK) {
        assert_null (error);
        return;
    }
    assert_non_null (error);
    assert_int_equal (error->type, MSGPACK_OBJECT_STR);
    if (!strstr (message, text))
        fail_msg ("error \"%s\" does not contain \"%s\"", message, text);
}

static void
s_assert_status (zstore_reader_t *reply, int status, const char *text)
{
    assert_non_null (reply);
    s_assert_map_status (s_root (reply), status, text);
}

//  The keys of items, in order, are exactly keys (C strings).
static void
s_assert_keys (const msgpack_object_array *items, const char *const *keys, size_t count)
{
    assert_int_equal (items->size, count);
    for (size_t index = 0; index < count; index++)
        s_assert_member_text (&items->ptr [index], "key", keys [index]);
}

//  An array of byte strings (groups, parts) is exactly names.
static void
s_assert_names (const msgpack_object_array *array, const char *const *names, size_t count)
{
    assert_int_equal (array->size, count);
    for (size_t index = 0; index < count; index++)
        s_assert_bin (&array->ptr [index], names [index], strlen (names [index]));
}

//  --- Calls --------------------------------------------------------------------

//  Sends the request built last; the reply echoes its id.
static zstore_reader_t *
s_call (fixture_t *fixture)
{
    zstore_reader_t *reply = broker_call (fixture->dealer, &fixture->request, TIMEOUT);
    assert_non_null (reply);
    assert_int_equal (s_member_uint (s_root (reply), "id"), fixture->id);
    return reply;
}

static zstore_reader_t *
s_call_ok (fixture_t *fixture)
{
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    return reply;
}

//  Sends the request built last and expects this error.
static void
s_call_fails (fixture_t *fixture, int status, const char *text)
{
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, status, text);
    zstore_reader_destroy (&reply);
}

//  Sends the request built last; returns its reply's uint field.
static uint64_t
s_call_uint (fixture_t *fixture, const char *field)
{
    zstore_reader_t *reply = s_call_ok (fixture);
    uint64_t value = s_member_uint (s_root (reply), field);
    zstore_reader_destroy (&reply);
    return value;
}

static bool
s_call_bool (fixture_t *fixture, const char *field)
{
    zstore_reader_t *reply = s_call_ok (fixture);
    bool value = s_member_bool (s_root (reply), field);
    zstore_reader_destroy (&reply);
    return value;
}

static zstore_writer_t *
s_set_request (fixture_t *fixture, const char *ns, const char *group, const char *key,
               const char *value, uint32_t extra)
{
    zstore_writer_t *writer = s_request (fixture, ns, "set", 3 + extra);
    s_text (writer, "group", group);
    s_text (writer, "key", key);
    s_text (writer, "value", value);
    return writer;
}

//  A set that must succeed; returns its revision.
static uint64_t
s_set (fixture_t *fixture, const char *ns, const char *group, const char *key,
       const char *value)
{
    s_set_request (fixture, ns, group, key, value, 0);
    return s_call_uint (fixture, "rev");
}

static uint64_t
s_set_ttl (fixture_t *fixture, const char *ns, const char *group, const char *key,
           const char *value, int64_t ttl)
{
    s_int (s_set_request (fixture, ns, group, key, value, 1), "ttl", ttl);
    return s_call_uint (fixture, "rev");
}

//  A request of op with a group and a key (get, exists, delete...).
static zstore_writer_t *
s_key_request (fixture_t *fixture, const char *ns, const char *op, const char *group,
               const char *key, uint32_t extra)
{
    zstore_writer_t *writer = s_request (fixture, ns, op, 2 + extra);
    s_text (writer, "group", group);
    s_text (writer, "key", key);
    return writer;
}

//  A request of op with one bytes field (group or prefix).
static zstore_writer_t *
s_one_field_request (fixture_t *fixture, const char *ns, const char *op, const char *field,
                     const char *value, uint32_t extra)
{
    zstore_writer_t *writer = s_request (fixture, ns, op, 1 + extra);
    s_text (writer, field, value);
    return writer;
}

static zstore_reader_t *
s_get (fixture_t *fixture, const char *ns, const char *group, const char *key)
{
    s_key_request (fixture, ns, "get", group, key, 0);
    return s_call (fixture);
}

static void
s_assert_value (fixture_t *fixture, const char *ns, const char *group, const char *key,
                const char *value)
{
    zstore_reader_t *reply = s_get (fixture, ns, group, key);
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    s_assert_member_text (s_root (reply), "value", value);
    zstore_reader_destroy (&reply);
}

static void
s_assert_absent (fixture_t *fixture, const char *ns, const char *group, const char *key)
{
    zstore_reader_t *reply = s_get (fixture, ns, group, key);
    s_assert_status (reply, ZSTORE_STATUS_NOT_FOUND, "store: not found");
    zstore_reader_destroy (&reply);
}

static uint64_t
s_delete (fixture_t *fixture, const char *ns, const char *group, const char *key)
{
    s_key_request (fixture, ns, "delete", group, key, 0);
    return s_call_uint (fixture, "rev");
}

static bool
s_exists (fixture_t *fixture, const char *ns, const char *group, const char *key)
{
    s_key_request (fixture, ns, "exists", group, key, 0);
    return s_call_bool (fixture, "exists");
}

static uint64_t
s_count (fixture_t *fixture, const char *ns, const char *group)
{
    s_one_field_request (fixture, ns, "count", "group", group, 0);
    return s_call_uint (fixture, "count");
}

//  count_all; prefix NULL: without the field.
static uint64_t
s_count_all (fixture_t *fixture, const char *ns, const char *prefix)
{
    if (prefix)
        s_one_field_request (fixture, ns, "count_all", "prefix", prefix, 0);
    else
        s_request (fixture, ns, "count_all", 0);
    return s_call_uint (fixture, "count");
}

//  The store's revision, from ping.
static uint64_t
s_revision (fixture_t *fixture)
{
    s_request (fixture, NULL, "ping", 0);
    return s_call_uint (fixture, "rev");
}

//  groups; prefix NULL: without the field. The caller destroys the reply.
static zstore_reader_t *
s_groups (fixture_t *fixture, const char *ns, const char *prefix)
{
    if (prefix)
        s_one_field_request (fixture, ns, "groups", "prefix", prefix, 0);
    else
        s_request (fixture, ns, "groups", 0);
    return s_call_ok (fixture);
}

static void
s_assert_groups (fixture_t *fixture, const char *ns, const char *prefix,
                 const char *const *names, size_t count)
{
    zstore_reader_t *reply = s_groups (fixture, ns, prefix);
    s_assert_names (s_member_array (s_root (reply), "groups"), names, count);
    zstore_reader_destroy (&reply);
}

static zstore_reader_t *
s_get_all (fixture_t *fixture, const char *ns, const char *group)
{
    s_one_field_request (fixture, ns, "get_all", "group", group, 0);
    return s_call_ok (fixture);
}

//  get_page by offset; the caller destroys the reply.
static zstore_reader_t *
s_page_offset (fixture_t *fixture, const char *ns, const char *group, uint64_t offset,
               uint64_t limit)
{
    zstore_writer_t *writer = s_one_field_request (fixture, ns, "get_page", "group", group, 2);
    s_uint (writer, "offset", offset);
    s_uint (writer, "limit", limit);
    return s_call_ok (fixture);
}

//  get_page by cursor; after NULL: the first page.
static zstore_reader_t *
s_page_after (fixture_t *fixture, const char *ns, const char *group, const char *after,
              uint64_t limit)
{
    zstore_writer_t *writer = s_one_field_request (fixture, ns, "get_page", "group", group,
                                                   after ? 2 : 1);
    s_uint (writer, "limit", limit);
    if (after)
        s_text (writer, "after", after);
    return s_call_ok (fixture);
}

//  A page has exactly these keys and this "more".
static void
s_assert_page (zstore_reader_t *reply, const char *const *keys, size_t count, bool more)
{
    s_assert_keys (s_member_array (s_root (reply), "items"), keys, count);
    assert_int_equal (s_member_bool (s_root (reply), "more"), more);
    zstore_reader_destroy (&reply);
}

//  purge; max 0: without the field. Returns the reply.
static zstore_reader_t *
s_purge (fixture_t *fixture, const char *ns, uint64_t max)
{
    zstore_writer_t *writer = s_request (fixture, ns, "purge", max ? 1 : 0);
    if (max)
        s_uint (writer, "max", max);
    return s_call_ok (fixture);
}

//  A purge removes exactly removed rows, committing revision (0: none).
static void
s_assert_purge (fixture_t *fixture, const char *ns, uint64_t max, uint64_t removed,
                uint64_t revision)
{
    zstore_reader_t *reply = s_purge (fixture, ns, max);
    assert_int_equal (s_member_uint (s_root (reply), "removed"), removed);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), revision);
    zstore_reader_destroy (&reply);
}

//  count keys "key-000".. in group, written by one txn; returns its rev.
static uint64_t
s_fill (fixture_t *fixture, const char *ns, const char *group, int count)
{
    zstore_writer_t *writer = s_txn (fixture, ns, (uint32_t) count);
    for (int index = 0; index < count; index++) {
        char key [16];
        snprintf (key, sizeof key, "key-%03d", index);
        s_txn_set (writer, group, key, key);
    }
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (s_member_array (s_root (reply), "results")->size, count);
    uint64_t revision = s_member_uint (s_root (reply), "rev");
    zstore_reader_destroy (&reply);
    return revision;
}

//  The stats reply; the caller destroys it.
static zstore_reader_t *
s_stats (fixture_t *fixture)
{
    s_request (fixture, NULL, "stats", 0);
    return s_call_ok (fixture);
}

//  --- ping -------------------------------------------------------------------

static void
test_ping_answers_epoch_rev_and_time (void **state)
{
    fixture_t *fixture = *state;
    uint64_t before = (uint64_t) zclock_time ();
    s_request (fixture, NULL, "ping", 0);
    zstore_reader_t *reply = s_call_ok (fixture);
    uint64_t after = (uint64_t) zclock_time ();
    assert_int_equal (s_member_uint (s_root (reply), "epoch"), fixture->broker->epoch);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 0);
    uint64_t time = s_member_uint (s_root (reply), "time");
    assert_true (time >= before && time <= after);
    zstore_reader_destroy (&reply);
    s_set (fixture, NULL, "g", "k", "v");
    assert_int_equal (s_revision (fixture), 1);
}

//  --- get ------------------------------------------------------------------

static void
test_get_returns_value_and_revisions (void **state)
{
    fixture_t *fixture = *state;
    uint64_t created = s_set (fixture, NULL, "config", "colour", "blue");
    s_set (fixture, NULL, "config", "other", "x");
    uint64_t modified = s_set (fixture, NULL, "config", "colour", "red");
    assert_int_equal (created, 1);
    assert_int_equal (modified, 3);
    zstore_reader_t *reply = s_get (fixture, NULL, "config", "colour");
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    s_assert_member_text (s_root (reply), "value", "red");
    assert_int_equal (s_member_uint (s_root (reply), "create_rev"), 1);
    assert_int_equal (s_member_uint (s_root (reply), "mod_rev"), 3);
    assert_int_equal (s_member_uint (s_root (reply), "expires_at"), 0);
    zstore_reader_destroy (&reply);
}

static void
test_get_missing_key_is_not_found (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "config", "colour", "blue");
    zstore_reader_t *reply = s_get (fixture, NULL, "config", "size");
    s_assert_status (reply, ZSTORE_STATUS_NOT_FOUND, "store.Get: config/size: store: not found");
    assert_null (s_find (s_root (reply), "value"));
    zstore_reader_destroy (&reply);
    s_assert_absent (fixture, NULL, "other", "colour");
}

//  Reading an expired key removes it: one change, and only the first time.
static void
test_get_expired_key_removes_it (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (s_set_ttl (fixture, NULL, "g", "k", "v", 0), 1);
    s_assert_absent (fixture, NULL, "g", "k");
    assert_int_equal (s_revision (fixture), 2);
    s_assert_absent (fixture, NULL, "g", "k");
    assert_int_equal (s_revision (fixture), 2);
    s_assert_purge (fixture, NULL, 0, 0, 0);            //  nothing left to purge
}

//  --- exists ----------------------------------------------------------------

static void
test_exists_answers_live_keys (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "live", "v");
    assert_true (s_exists (fixture, NULL, "g", "live"));
    assert_false (s_exists (fixture, NULL, "g", "absent"));
    assert_false (s_exists (fixture, NULL, "other", "live"));
}

//  Unlike get, exists on an expired key removes nothing.
static void
test_exists_is_a_pure_read (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, NULL, "g", "k", "v", 0);
    assert_false (s_exists (fixture, NULL, "g", "k"));
    assert_int_equal (s_revision (fixture), 1);
    s_assert_purge (fixture, NULL, 0, 1, 2);            //  the row was still there
}

//  --- set --------------------------------------------------------------------

static void
test_set_upsert_keeps_create_rev (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (s_set (fixture, NULL, "g", "k", "one"), 1);
    assert_int_equal (s_set (fixture, NULL, "g", "k", "two"), 2);
    assert_int_equal (s_set (fixture, NULL, "g", "k", "two"), 3);     //  same value: a change
    zstore_reader_t *reply = s_get (fixture, NULL, "g", "k");
    assert_int_equal (s_member_uint (s_root (reply), "create_rev"), 1);
    assert_int_equal (s_member_uint (s_root (reply), "mod_rev"), 3);
    zstore_reader_destroy (&reply);
}

static void
test_set_ttl_sets_expiry_and_set_without_ttl_clears_it (void **state)
{
    fixture_t *fixture = *state;
    s_request (fixture, NULL, "ping", 0);
    uint64_t before = s_call_uint (fixture, "time");
    s_set_ttl (fixture, NULL, "g", "k", "v", ONE_HOUR);
    s_request (fixture, NULL, "ping", 0);
    uint64_t after = s_call_uint (fixture, "time");
    zstore_reader_t *reply = s_get (fixture, NULL, "g", "k");
    uint64_t expires_at = s_member_uint (s_root (reply), "expires_at");
    assert_true (expires_at >= before + ONE_HOUR && expires_at <= after + ONE_HOUR);
    zstore_reader_destroy (&reply);

    s_set (fixture, NULL, "g", "k", "v2");
    reply = s_get (fixture, NULL, "g", "k");
    assert_int_equal (s_member_uint (s_root (reply), "expires_at"), 0);
    zstore_reader_destroy (&reply);
}

//  ttl <= 0 writes a row (a change with a revision) that is already expired.
static void
test_set_ttl_not_positive_writes_expired_key (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "live", "v");
    assert_int_equal (s_set_ttl (fixture, NULL, "g", "zero", "v", 0), 2);
    assert_int_equal (s_set_ttl (fixture, NULL, "g", "negative", "v", -5000), 3);
    assert_false (s_exists (fixture, NULL, "g", "zero"));
    assert_false (s_exists (fixture, NULL, "g", "negative"));
    assert_int_equal (s_count (fixture, NULL, "g"), 1);
    s_assert_absent (fixture, NULL, "g", "zero");
    s_assert_absent (fixture, NULL, "g", "negative");
}

static void
test_set_if_rev_zero_creates_only (void **state)
{
    fixture_t *fixture = *state;
    s_int (s_set_request (fixture, NULL, "g", "k", "first", 1), "if_rev", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 1);
    s_int (s_set_request (fixture, NULL, "g", "k", "second", 1), "if_rev", 0);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT,
                  "g/k: revision mismatch: expected 0, current 1");
    s_assert_value (fixture, NULL, "g", "k", "first");
    assert_int_equal (s_revision (fixture), 1);
}

static void
test_set_if_rev_matches_mod_rev (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "one");
    uint64_t current = s_set (fixture, NULL, "g", "k", "two");
    s_int (s_set_request (fixture, NULL, "g", "k", "stale", 1), "if_rev", 1);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "revision mismatch: expected 1, current 2");
    s_assert_value (fixture, NULL, "g", "k", "two");
    s_int (s_set_request (fixture, NULL, "g", "k", "three", 1), "if_rev", (int64_t) current);
    assert_int_equal (s_call_uint (fixture, "rev"), 3);
    s_assert_value (fixture, NULL, "g", "k", "three");
}

static void
test_set_if_rev_on_missing_key_conflicts (void **state)
{
    fixture_t *fixture = *state;
    s_int (s_set_request (fixture, NULL, "g", "k", "v", 1), "if_rev", 7);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "expected 7, current 0");
    assert_false (s_exists (fixture, NULL, "g", "k"));
}

//  An expired key counts as absent for compare-and-set.
static void
test_set_if_rev_zero_over_expired_key (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, NULL, "g", "k", "old", 0);
    s_int (s_set_request (fixture, NULL, "g", "k", "new", 1), "if_rev", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 2);
    zstore_reader_t *reply = s_get (fixture, NULL, "g", "k");
    s_assert_member_text (s_root (reply), "value", "new");
    assert_int_equal (s_member_uint (s_root (reply), "create_rev"), 2);
    zstore_reader_destroy (&reply);
}

static void
test_set_negative_if_rev_is_invalid (void **state)
{
    fixture_t *fixture = *state;
    s_int (s_set_request (fixture, NULL, "g", "k", "v", 1), "if_rev", -1);
    s_call_fails (fixture, ZSTORE_STATUS_INVALID, "if_rev must be 0 or more");
    assert_false (s_exists (fixture, NULL, "g", "k"));
}

//  --- delete ------------------------------------------------------------------

static void
test_delete_removes_key_with_a_revision (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");
    s_set (fixture, NULL, "g", "other", "v");
    assert_int_equal (s_delete (fixture, NULL, "g", "k"), 3);
    s_assert_absent (fixture, NULL, "g", "k");
    s_assert_value (fixture, NULL, "g", "other", "v");
}

static void
test_delete_missing_key_is_rev_zero (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");
    assert_int_equal (s_delete (fixture, NULL, "g", "absent"), 0);
    assert_int_equal (s_delete (fixture, NULL, "absent", "k"), 0);
    assert_int_equal (s_revision (fixture), 1);
}

static void
test_delete_if_rev (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "one");
    s_set (fixture, NULL, "g", "k", "two");
    s_int (s_key_request (fixture, NULL, "delete", "g", "k", 1), "if_rev", 1);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "g/k: revision mismatch: expected 1, current 2");
    s_int (s_key_request (fixture, NULL, "delete", "g", "k", 1), "if_rev", 0);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "expected 0, current 2");
    s_assert_value (fixture, NULL, "g", "k", "two");
    s_int (s_key_request (fixture, NULL, "delete", "g", "k", 1), "if_rev", 2);
    assert_int_equal (s_call_uint (fixture, "rev"), 3);
    s_assert_absent (fixture, NULL, "g", "k");
    s_int (s_key_request (fixture, NULL, "delete", "g", "k", 1), "if_rev", -2);
    s_call_fails (fixture, ZSTORE_STATUS_INVALID, "if_rev must be 0 or more");
}

//  --- count, group_exists --------------------------------------------------

static void
test_count_counts_live_keys_of_one_group (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "a", "1");
    s_set (fixture, NULL, "g", "b", "2");
    s_set (fixture, NULL, "g", "c", "3");
    s_set_ttl (fixture, NULL, "g", "expired", "4", 0);
    s_set_ttl (fixture, NULL, "g", "later", "5", ONE_HOUR);
    s_set (fixture, NULL, "g2", "a", "1");
    assert_int_equal (s_count (fixture, NULL, "g"), 4);
    assert_int_equal (s_count (fixture, NULL, "g2"), 1);
    assert_int_equal (s_count (fixture, NULL, ""), 0);
    assert_int_equal (s_count (fixture, NULL, "absent"), 0);
}

static void
test_group_exists_needs_a_live_key (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "live", "k", "v");
    s_set_ttl (fixture, NULL, "expired", "k", "v", 0);
    s_one_field_request (fixture, NULL, "group_exists", "group", "live", 0);
    assert_true (s_call_bool (fixture, "exists"));
    s_one_field_request (fixture, NULL, "group_exists", "group", "expired", 0);
    assert_false (s_call_bool (fixture, "exists"));
    s_one_field_request (fixture, NULL, "group_exists", "group", "liv", 0);
    assert_false (s_call_bool (fixture, "exists"));
    s_delete (fixture, NULL, "live", "k");
    s_one_field_request (fixture, NULL, "group_exists", "group", "live", 0);
    assert_false (s_call_bool (fixture, "exists"));
}

//  --- delete_group, delete_prefix ------------------------------------------

static void
test_delete_group_removes_all_keys_in_one_revision (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "doomed", 5);                 //  rev 1
    s_set (fixture, NULL, "kept", "k", "v");             //  rev 2
    s_one_field_request (fixture, NULL, "delete_group", "group", "doomed", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 3);
    assert_int_equal (s_count (fixture, NULL, "doomed"), 0);
    assert_int_equal (s_count (fixture, NULL, "kept"), 1);
    s_one_field_request (fixture, NULL, "delete_group", "group", "doomed", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 0);
    assert_int_equal (s_revision (fixture), 3);
}

//  Byte-exact: not case-insensitive (go-store's LIKE), and "tenant-ab:"
//  does not start with "tenant-a:".
static void
test_delete_prefix_is_byte_exact (void **state)
{
    fixture_t *fixture = *state;
    const char *groups [] = { "tenant-a:orders", "tenant-a:users", "Tenant-A:orders",
                              "tenant-ab:orders", "tenant-a", "tenant-a;x" };
    for (size_t index = 0; index < COUNT (groups); index++)
        s_set (fixture, NULL, groups [index], "k", "v");
    s_one_field_request (fixture, NULL, "delete_prefix", "prefix", "tenant-a:", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), COUNT (groups) + 1);     //  one change
    const char *left [] = { "Tenant-A:orders", "tenant-a", "tenant-a;x", "tenant-ab:orders" };
    s_assert_groups (fixture, NULL, NULL, left, COUNT (left));
}

static void
test_delete_prefix_empty_deletes_everything (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "a", "k", "v");
    s_set (fixture, NULL, "b", "k", "v");
    s_set (fixture, NULL, "", "k", "v");
    s_one_field_request (fixture, NULL, "delete_prefix", "prefix", "", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 4);
    assert_int_equal (s_count_all (fixture, NULL, NULL), 0);
    s_one_field_request (fixture, NULL, "delete_prefix", "prefix", "", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 0);
}

static void
test_delete_prefix_matching_nothing_is_rev_zero (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "orders", "k", "v");
    s_one_field_request (fixture, NULL, "delete_prefix", "prefix", "orders2", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 0);
    s_one_field_request (fixture, NULL, "delete_prefix", "prefix", "Orders", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 0);
    assert_int_equal (s_count (fixture, NULL, "orders"), 1);
}

//  --- get_all ------------------------------------------------------------------

static void
test_get_all_returns_live_items_in_byte_order (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "b", "vb");                       //  rev 1
    s_set (fixture, NULL, "g", "a", "va");                       //  rev 2
    s_set (fixture, NULL, "g", "B", "vB");                       //  rev 3
    s_set (fixture, NULL, "g", "aa", "vaa");                     //  rev 4
    s_set_ttl (fixture, NULL, "g", "ab", "gone", 0);             //  rev 5
    s_set_ttl (fixture, NULL, "g", "b", "vb2", ONE_HOUR);        //  rev 6
    s_set (fixture, NULL, "g2", "a", "other group");
    zstore_reader_t *reply = s_get_all (fixture, NULL, "g");
    const msgpack_object_array *items = s_member_array (s_root (reply), "items");
    const char *keys [] = { "B", "a", "aa", "b" };
    s_assert_keys (items, keys, COUNT (keys));
    s_assert_member_text (&items->ptr [1], "value", "va");
    assert_int_equal (s_member_uint (&items->ptr [1], "create_rev"), 2);
    assert_int_equal (s_member_uint (&items->ptr [1], "mod_rev"), 2);
    assert_int_equal (s_member_uint (&items->ptr [1], "expires_at"), 0);
    s_assert_member_text (&items->ptr [3], "value", "vb2");
    assert_int_equal (s_member_uint (&items->ptr [3], "create_rev"), 1);
    assert_int_equal (s_member_uint (&items->ptr [3], "mod_rev"), 6);
    assert_true (s_member_uint (&items->ptr [3], "expires_at") > (uint64_t) zclock_time ());
    zstore_reader_destroy (&reply);
}

static void
test_get_all_of_missing_group_is_empty (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");
    zstore_reader_t *reply = s_get_all (fixture, NULL, "absent");
    assert_int_equal (s_member_array (s_root (reply), "items")->size, 0);
    zstore_reader_destroy (&reply);
}

//  --- get_page -----------------------------------------------------------------

static void
test_get_page_offset_and_limit (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 5);
    const char *first [] = { "key-000", "key-001" };
    s_assert_page (s_page_offset (fixture, NULL, "g", 0, 2), first, 2, true);
    const char *middle [] = { "key-001", "key-002" };
    s_assert_page (s_page_offset (fixture, NULL, "g", 1, 2), middle, 2, true);
    const char *last [] = { "key-003", "key-004" };
    s_assert_page (s_page_offset (fixture, NULL, "g", 3, 2), last, 2, false);
    const char *tail [] = { "key-004" };
    s_assert_page (s_page_offset (fixture, NULL, "g", 4, 2), tail, 1, false);
    const char *all [] = { "key-000", "key-001", "key-002", "key-003", "key-004" };
    s_assert_page (s_page_offset (fixture, NULL, "g", 0, 100), all, 5, false);
}

//  Without offset, the page starts at the first key.
static void
test_get_page_offset_defaults_to_zero (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 3);
    const char *keys [] = { "key-000", "key-001" };
    s_assert_page (s_page_after (fixture, NULL, "g", NULL, 2), keys, 2, true);
}

static void
test_get_page_limit_zero_is_empty (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 3);
    s_assert_page (s_page_offset (fixture, NULL, "g", 0, 0), NULL, 0, true);
    s_assert_page (s_page_offset (fixture, NULL, "g", 3, 0), NULL, 0, false);
    s_assert_page (s_page_offset (fixture, NULL, "absent", 0, 0), NULL, 0, false);
}

static void
test_get_page_offset_past_end_is_empty (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 3);
    s_assert_page (s_page_offset (fixture, NULL, "g", 3, 10), NULL, 0, false);
    s_assert_page (s_page_offset (fixture, NULL, "g", 1000, 10), NULL, 0, false);
}

//  A cursor walk over 250 keys in pages of 40: 6 full pages, then 10 keys;
//  every key once, in order, "more" false only on the last page.
static void
test_get_page_cursor_walks_a_group (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "big", 250);
    char after [16] = "";
    int seen = 0, pages = 0;
    bool more = true;
    while (more) {
        zstore_reader_t *reply = s_page_after (fixture, NULL, "big", pages ? after : NULL, 40);
        const msgpack_object_array *items = s_member_array (s_root (reply), "items");
        more = s_member_bool (s_root (reply), "more");
        pages++;
        assert_int_equal (items->size, pages <= 6 ? 40 : 10);
        assert_int_equal (more, pages < 7);
        for (uint32_t index = 0; index < items->size; index++) {
            char key [16];
            snprintf (key, sizeof key, "key-%03d", seen++);
            s_assert_member_text (&items->ptr [index], "key", key);
            s_assert_member_text (&items->ptr [index], "value", key);
        }
        snprintf (after, sizeof after, "key-%03d", seen - 1);
        zstore_reader_destroy (&reply);
    }
    assert_int_equal (pages, 7);
    assert_int_equal (seen, 250);
}

//  A group that ends exactly at a page boundary: the last full page says
//  no more.
static void
test_get_page_cursor_exact_multiple_ends_without_more (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 4);
    const char *first [] = { "key-000", "key-001" };
    s_assert_page (s_page_after (fixture, NULL, "g", NULL, 2), first, 2, true);
    const char *second [] = { "key-002", "key-003" };
    s_assert_page (s_page_after (fixture, NULL, "g", "key-001", 2), second, 2, false);
    s_assert_page (s_page_after (fixture, NULL, "g", "key-003", 2), NULL, 0, false);
}

//  after: keys strictly greater, also when after is not a key; after wins
//  over offset.
static void
test_get_page_after_is_strictly_greater (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "g", 4);
    const char *from_gap [] = { "key-002", "key-003" };
    s_assert_page (s_page_after (fixture, NULL, "g", "key-001x", 5), from_gap, 2, false);
    const char *from_empty [] = { "key-000" };
    s_assert_page (s_page_after (fixture, NULL, "g", "", 1), from_empty, 1, true);
    zstore_writer_t *writer = s_one_field_request (fixture, NULL, "get_page", "group", "g", 3);
    s_uint (writer, "limit", 1);
    s_uint (writer, "offset", 0);
    s_text (writer, "after", "key-002");
    const char *cursor [] = { "key-003" };
    s_assert_page (s_call_ok (fixture), cursor, 1, false);
}

static void
test_get_page_rejects_missing_or_huge_limit (void **state)
{
    fixture_t *fixture = *state;
    s_one_field_request (fixture, NULL, "get_page", "group", "g", 0);
    s_call_fails (fixture, ZSTORE_STATUS_BAD_REQUEST, "field 'limit' is missing");
    s_uint (s_one_field_request (fixture, NULL, "get_page", "group", "g", 1), "limit",
            (uint64_t) INT32_MAX + 1);
    s_call_fails (fixture, ZSTORE_STATUS_INVALID, "too large");
}

//  --- count_all, groups ----------------------------------------------------------

static void
test_count_all_counts_live_keys_by_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, NULL, "app:a", 3);
    s_fill (fixture, NULL, "app:b", 2);
    s_set (fixture, NULL, "App:c", "k", "v");
    s_set (fixture, NULL, "apple", "k", "v");
    s_set_ttl (fixture, NULL, "app:a", "expired", "v", 0);
    assert_int_equal (s_count_all (fixture, NULL, NULL), 7);
    assert_int_equal (s_count_all (fixture, NULL, ""), 7);
    assert_int_equal (s_count_all (fixture, NULL, "app:"), 5);
    assert_int_equal (s_count_all (fixture, NULL, "app"), 6);
    assert_int_equal (s_count_all (fixture, NULL, "app:b"), 2);
    assert_int_equal (s_count_all (fixture, NULL, "zzz"), 0);
}

static void
test_groups_lists_live_groups_ascending (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "b", "k", "v");
    s_set (fixture, NULL, "a", "k", "v");
    s_set (fixture, NULL, "ab", "k", "v");
    s_set (fixture, NULL, "B", "k", "v");
    s_set_ttl (fixture, NULL, "c", "k", "v", 0);                 //  no live key
    s_set (fixture, NULL, "b", "k2", "v");
    const char *all [] = { "B", "a", "ab", "b" };
    s_assert_groups (fixture, NULL, NULL, all, COUNT (all));
    const char *with_a [] = { "a", "ab" };
    s_assert_groups (fixture, NULL, "a", with_a, COUNT (with_a));
    s_assert_groups (fixture, NULL, "c", NULL, 0);
}

//  With ns: only the namespace's groups, without the "<ns>:" prefix.
static void
test_groups_with_ns_strips_the_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "tenant-b", "orders", "k", "v");
    s_set (fixture, "tenant-b", "users", "k", "v");
    s_set (fixture, NULL, "tenant-bc:x", "k", "v");
    s_set (fixture, NULL, "Tenant-B:x", "k", "v");
    s_set (fixture, NULL, "plain", "k", "v");
    const char *scoped [] = { "orders", "users" };
    s_assert_groups (fixture, "tenant-b", NULL, scoped, COUNT (scoped));
    const char *users [] = { "users" };
    s_assert_groups (fixture, "tenant-b", "u", users, COUNT (users));
    const char *stored [] = { "Tenant-B:x", "plain", "tenant-b:orders", "tenant-b:users",
                              "tenant-bc:x" };
    s_assert_groups (fixture, NULL, NULL, stored, COUNT (stored));
}

//  --- get_split, get_fields, render ----------------------------------------

static void
s_assert_parts (fixture_t *fixture, const char *op, const char *key, const char *separator,
                const char *const *parts, size_t count)
{
    zstore_writer_t *writer = s_key_request (fixture, NULL, op, "g", key, separator ? 1 : 0);
    if (separator)
        s_text (writer, "sep", separator);
    zstore_reader_t *reply = s_call_ok (fixture);
    s_assert_names (s_member_array (s_root (reply), "parts"), parts, count);
    zstore_reader_destroy (&reply);
}

static void
test_get_split_splits_like_go (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "csv", "a,b,,c");
    s_set (fixture, NULL, "g", "word", "abc");
    s_set (fixture, NULL, "g", "empty", "");
    s_set (fixture, NULL, "g", "multi", "a::b::");
    const char *csv [] = { "a", "b", "", "c" };
    s_assert_parts (fixture, "get_split", "csv", ",", csv, COUNT (csv));
    const char *letters [] = { "a", "b", "c" };
    s_assert_parts (fixture, "get_split", "word", "", letters, COUNT (letters));
    const char *whole [] = { "abc" };
    s_assert_parts (fixture, "get_split", "word", ";", whole, COUNT (whole));
    const char *nothing [] = { "" };
    s_assert_parts (fixture, "get_split", "empty", ",", nothing, COUNT (nothing));
    const char *multi [] = { "a", "b", "" };
    s_assert_parts (fixture, "get_split", "multi", "::", multi, COUNT (multi));
    s_text (s_key_request (fixture, NULL, "get_split", "g", "absent", 1), "sep", ",");
    s_call_fails (fixture, ZSTORE_STATUS_NOT_FOUND, "g/absent: store: not found");
}

static void
test_get_fields_splits_on_white_space (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "text", "  alpha beta\t\ngamma  ");
    s_set (fixture, NULL, "g", "blank", " \t\n ");
    const char *words [] = { "alpha", "beta", "gamma" };
    s_assert_parts (fixture, "get_fields", "text", NULL, words, COUNT (words));
    s_assert_parts (fixture, "get_fields", "blank", NULL, NULL, 0);
    s_key_request (fixture, NULL, "get_fields", "g", "absent", 0);
    s_call_fails (fixture, ZSTORE_STATUS_NOT_FOUND, "g/absent: store: not found");
}

static zstore_reader_t *
s_render (fixture_t *fixture, const char *ns, const char *group, const char *source)
{
    zstore_writer_t *writer = s_one_field_request (fixture, ns, "render", "group", group, 1);
    s_text (writer, "template", source);
    return s_call (fixture);
}

static void
s_assert_render (fixture_t *fixture, const char *ns, const char *group, const char *source,
                 const char *output)
{
    zstore_reader_t *reply = s_render (fixture, ns, group, source);
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    s_assert_member_text (s_root (reply), "output", output);
    zstore_reader_destroy (&reply);
}

static void
test_render_substitutes_values (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "page", "name", "World");
    s_set (fixture, NULL, "page", "greeting", "Hello");
    s_set (fixture, NULL, "other", "name", "Mars");
    s_assert_render (fixture, NULL, "page", "{{ .greeting }}, {{ .name }}!", "Hello, World!");
    s_assert_render (fixture, NULL, "page", "[{{ .missing }}]", "[<no value>]");
    s_assert_render (fixture, NULL, "page", "{{ index . \"name\" }}", "World");
    s_assert_render (fixture, NULL, "absent", "{{ .name }}", "<no value>");
}

static void
test_render_parse_error_is_invalid (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "page", "name", "World");
    zstore_reader_t *reply = s_render (fixture, NULL, "page", "Hello {{ .name ");
    s_assert_status (reply, ZSTORE_STATUS_INVALID, "store.Render: parse");
    assert_null (s_find (s_root (reply), "output"));
    zstore_reader_destroy (&reply);
    reply = s_render (fixture, NULL, "page", "{{ if .name }}x{{ end }}");
    s_assert_status (reply, ZSTORE_STATUS_INVALID, "store.Render: parse");
    zstore_reader_destroy (&reply);
}

//  --- purge ----------------------------------------------------------------------

static void
test_purge_removes_expired_rows (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, NULL, "a", "k1", "v", 0);                //  rev 1
    s_set_ttl (fixture, NULL, "a", "k2", "v", -1);               //  rev 2
    s_set_ttl (fixture, NULL, "b", "k1", "v", 0);                //  rev 3
    s_set (fixture, NULL, "a", "live", "v");                     //  rev 4
    s_set_ttl (fixture, NULL, "a", "later", "v", ONE_HOUR);      //  rev 5
    s_assert_purge (fixture, NULL, 0, 3, 6);
    assert_int_equal (s_count_all (fixture, NULL, NULL), 2);
    s_assert_purge (fixture, NULL, 0, 0, 0);
    assert_int_equal (s_revision (fixture), 6);
    s_assert_value (fixture, NULL, "a", "later", "v");
}

static void
test_purge_max_bounds_the_rows_removed (void **state)
{
    fixture_t *fixture = *state;
    for (int index = 0; index < 5; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        s_set_ttl (fixture, NULL, "g", key, "v", 0);             //  revs 1..5
    }
    s_assert_purge (fixture, NULL, 2, 2, 6);
    s_assert_purge (fixture, NULL, 2, 2, 7);
    s_assert_purge (fixture, NULL, 2, 1, 8);
    s_assert_purge (fixture, NULL, 2, 0, 0);
}

static void
test_purge_max_zero_is_invalid (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, NULL, "g", "k", "v", 0);
    s_uint (s_request (fixture, NULL, "purge", 1), "max", 0);
    s_call_fails (fixture, ZSTORE_STATUS_INVALID, "max must be from 1");
    s_assert_purge (fixture, NULL, 0, 1, 2);
}

//  With ns, only the namespace's expired rows go.
static void
test_purge_with_ns_removes_only_the_namespace (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, "tenant-b", "g", "k", "v", 0);           //  rev 1
    s_set_ttl (fixture, "tenant-b", "h", "k", "v", 0);           //  rev 2
    s_set_ttl (fixture, NULL, "g", "k", "v", 0);                 //  rev 3
    s_set_ttl (fixture, NULL, "tenant-bc:g", "k", "v", 0);       //  rev 4
    s_assert_purge (fixture, "tenant-b", 0, 2, 5);
    s_assert_purge (fixture, NULL, 0, 2, 6);
}

//  PROTOCOL.md 2.4: purge removes "at most max" - with a namespace too.
static void
test_purge_with_ns_honours_max (void **state)
{
    fixture_t *fixture = *state;
    for (int index = 0; index < 3; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        s_set_ttl (fixture, "tenant-b", "g", key, "v", 0);       //  revs 1..3
    }
    s_assert_purge (fixture, "tenant-b", 1, 1, 4);
    s_assert_purge (fixture, "tenant-b", 0, 2, 5);
}

//  --- stats ----------------------------------------------------------------------

static void
test_stats_counts_requests_per_op (void **state)
{
    fixture_t *fixture = *state;
    s_revision (fixture);
    s_revision (fixture);
    s_set (fixture, NULL, "g", "a", "v");
    s_set (fixture, NULL, "g", "b", "v");
    s_set (fixture, "tenant-b", "g", "c", "v");
    s_assert_absent (fixture, NULL, "g", "absent");              //  errors count too
    s_fill (fixture, NULL, "h", 3);                              //  one txn, not 3 sets
    zstore_reader_t *reply = s_stats (fixture);
    const msgpack_object *requests = s_member (s_root (reply), "requests");
    assert_int_equal (requests->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (requests->via.map.size, 5);
    assert_int_equal (s_tally (requests, "ping"), 2);
    assert_int_equal (s_tally (requests, "set"), 3);
    assert_int_equal (s_tally (requests, "get"), 1);
    assert_int_equal (s_tally (requests, "txn"), 1);
    assert_int_equal (s_tally (requests, "stats"), 1);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 4);
    assert_int_equal (s_member_uint (s_root (reply), "epoch"), fixture->broker->epoch);
    assert_int_equal (s_member_uint (s_root (reply), "clients"), 1);
    zstore_reader_destroy (&reply);
}

static void
test_stats_counts_errors_per_code (void **state)
{
    fixture_t *fixture = *state;
    s_assert_absent (fixture, NULL, "g", "a");
    s_assert_absent (fixture, NULL, "g", "b");
    s_int (s_set_request (fixture, NULL, "g", "k", "v", 1), "if_rev", 5);
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "revision mismatch");
    s_request (fixture, NULL, "frobnicate", 0);
    s_call_fails (fixture, ZSTORE_STATUS_UNKNOWN_OP, "frobnicate");
    s_request (fixture, "bad_ns", "ping", 0);
    s_call_fails (fixture, ZSTORE_STATUS_INVALID, "bad_ns");
    s_uint (s_request (fixture, NULL, "ping", 1), "v", 3);
    s_call_fails (fixture, ZSTORE_STATUS_UNSUPPORTED_VERSION, "version 3");
    zstore_reader_t *reply = broker_call_raw (fixture->dealer, "\xc1", 1, TIMEOUT);
    s_assert_status (reply, ZSTORE_STATUS_BAD_REQUEST, "");
    zstore_reader_destroy (&reply);
    reply = s_stats (fixture);
    const msgpack_object *errors = s_member (s_root (reply), "errors");
    assert_int_equal (errors->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (errors->via.map.size, 6);
    assert_int_equal (s_tally (errors, "not_found"), 2);
    assert_int_equal (s_tally (errors, "conflict"), 1);
    assert_int_equal (s_tally (errors, "unknown_op"), 1);
    assert_int_equal (s_tally (errors, "invalid"), 1);
    assert_int_equal (s_tally (errors, "unsupported_version"), 1);
    assert_int_equal (s_tally (errors, "bad_request"), 1);
    zstore_reader_destroy (&reply);
}

//  A failed transaction answers an error status: stats count it under its code.
static void
test_stats_counts_failed_transaction_error (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_txn (fixture, NULL, 1);
    s_int (s_txn_op (writer, "set", 4), "if_rev", 9);
    s_text (writer, "group", "g");
    s_text (writer, "key", "k");
    s_text (writer, "value", "v");
    s_call_fails (fixture, ZSTORE_STATUS_CONFLICT, "ops[0]");
    zstore_reader_t *reply = s_stats (fixture);
    const msgpack_object *errors = s_member (s_root (reply), "errors");
    assert_int_equal (s_tally (errors, "conflict"), 1);
    assert_int_equal (s_tally (s_member (s_root (reply), "requests"), "txn"), 1);
    zstore_reader_destroy (&reply);
}

//  --- txn ------------------------------------------------------------------------

static void
test_txn_commits_ops_under_one_revision (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "old", "v");                      //  rev 1
    s_set (fixture, NULL, "g", "b", "before");                   //  rev 2
    zstore_writer_t *writer = s_txn (fixture, NULL, 5);
    s_txn_set (writer, "g", "a", "1");
    s_txn_set (writer, "g", "b", "2");
    s_txn_key_op (writer, "delete", "g", "old");
    s_txn_key_op (writer, "exists", "g", "a");
    s_txn_op (writer, "count", 1);
    s_text (writer, "group", "g");
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 3);
    const msgpack_object_array *results = s_member_array (s_root (reply), "results");
    assert_int_equal (results->size, 5);
    for (uint32_t index = 0; index < 5; index++) {
        s_assert_map_status (&results->ptr [index], ZSTORE_STATUS_OK, "");
        assert_null (s_find (&results->ptr [index], "id"));
    }
    assert_int_equal (s_member_uint (&results->ptr [0], "rev"), 3);
    assert_int_equal (s_member_uint (&results->ptr [1], "rev"), 3);
    assert_int_equal (s_member_uint (&results->ptr [2], "rev"), 3);
    assert_true (s_member_bool (&results->ptr [3], "exists"));     //  sees its own write
    assert_int_equal (s_member_uint (&results->ptr [4], "count"), 2);
    zstore_reader_destroy (&reply);
    reply = s_get (fixture, NULL, "g", "b");
    s_assert_member_text (s_root (reply), "value", "2");
    assert_int_equal (s_member_uint (s_root (reply), "create_rev"), 2);
    assert_int_equal (s_member_uint (s_root (reply), "mod_rev"), 3);
    zstore_reader_destroy (&reply);
    s_assert_absent (fixture, NULL, "g", "old");
    assert_int_equal (s_revision (fixture), 3);
}

//  A get of a missing key is a result, not a failure: the txn commits.
static void
test_txn_get_missing_is_a_result (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "present", "here");               //  rev 1
    zstore_writer_t *writer = s_txn (fixture, NULL, 3);
    s_txn_key_op (writer, "get", "g", "absent");
    s_txn_set (writer, "g", "new", "v");
    s_txn_key_op (writer, "get", "g", "present");
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 2);
    const msgpack_object_array *results = s_member_array (s_root (reply), "results");
    assert_int_equal (results->size, 3);
    s_assert_map_status (&results->ptr [0], ZSTORE_STATUS_NOT_FOUND,
                         "g/absent: store: not found");
    assert_null (s_find (&results->ptr [0], "value"));
    s_assert_map_status (&results->ptr [1], ZSTORE_STATUS_OK, "");
    assert_int_equal (s_member_uint (&results->ptr [1], "rev"), 2);
    s_assert_member_text (&results->ptr [2], "value", "here");
    zstore_reader_destroy (&reply);
    s_assert_value (fixture, NULL, "g", "new", "v");
}

//  A txn of reads only changes nothing: rev 0.
static void
test_txn_of_reads_is_rev_zero (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");
    zstore_writer_t *writer = s_txn (fixture, NULL, 2);
    s_txn_key_op (writer, "get", "g", "k");
    s_txn_key_op (writer, "exists", "g", "nope");
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 0);
    const msgpack_object_array *results = s_member_array (s_root (reply), "results");
    s_assert_member_text (&results->ptr [0], "value", "v");
    assert_int_equal (s_member_uint (&results->ptr [0], "mod_rev"), 1);
    assert_false (s_member_bool (&results->ptr [1], "exists"));
    zstore_reader_destroy (&reply);
    assert_int_equal (s_revision (fixture), 1);
}

static void
test_txn_conflict_rolls_back_everything (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");                        //  rev 1
    zstore_writer_t *writer = s_txn (fixture, NULL, 3);
    s_txn_set (writer, "g", "a", "1");
    s_txn_key_op (writer, "delete", "g", "k");
    s_int (s_txn_op (writer, "set", 4), "if_rev", 99);
    s_text (writer, "group", "g");
    s_text (writer, "key", "c");
    s_text (writer, "value", "3");
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_CONFLICT, "ops[2]");
    s_assert_status (reply, ZSTORE_STATUS_CONFLICT, "revision mismatch: expected 99, current 0");
    assert_int_equal (s_member_uint (s_root (reply), "failed"), 2);
    assert_null (s_find (s_root (reply), "results"));
    zstore_reader_destroy (&reply);
    s_assert_absent (fixture, NULL, "g", "a");
    s_assert_value (fixture, NULL, "g", "k", "v");
    assert_int_equal (s_revision (fixture), 1);
}

static void
test_txn_quota_failure_rolls_back_everything (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_txn (fixture, "quota-k", 4);
    s_txn_set (writer, "g", "k1", "v");
    s_txn_set (writer, "g", "k2", "v");
    s_txn_set (writer, "h", "k3", "v");
    s_txn_set (writer, "h", "k4", "v");
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_QUOTA_EXCEEDED, "key limit");
    s_assert_status (reply, ZSTORE_STATUS_QUOTA_EXCEEDED, "ops[3]");
    assert_int_equal (s_member_uint (s_root (reply), "failed"), 3);
    zstore_reader_destroy (&reply);
    assert_int_equal (s_count_all (fixture, "quota-k", NULL), 0);
    assert_int_equal (s_revision (fixture), 0);
}

//  Only get, set, delete, count, delete_group, delete_prefix and exists.
static void
test_txn_rejects_disallowed_op (void **state)
{
    const char *disallowed [] = { "get_all", "group_exists", "txn", "ping", "purge" };
    fixture_t *fixture = *state;
    for (size_t index = 0; index < COUNT (disallowed); index++) {
        zstore_writer_t *writer = s_txn (fixture, NULL, 2);
        s_txn_set (writer, "g", "a", "1");
        s_txn_op (writer, disallowed [index], 1);
        s_text (writer, "group", "g");
        zstore_reader_t *reply = s_call (fixture);
        s_assert_status (reply, ZSTORE_STATUS_INVALID, "not allowed in a transaction");
        assert_int_equal (s_member_uint (s_root (reply), "failed"), 1);
        zstore_reader_destroy (&reply);
    }
    s_assert_absent (fixture, NULL, "g", "a");
    assert_int_equal (s_revision (fixture), 0);
}

static void
test_txn_rejects_unknown_op (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_txn (fixture, NULL, 2);
    s_txn_set (writer, "g", "a", "1");
    s_txn_op (writer, "frobnicate", 0);
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_UNKNOWN_OP, "ops[1]");
    assert_int_equal (s_member_uint (s_root (reply), "failed"), 1);
    zstore_reader_destroy (&reply);
    s_assert_absent (fixture, NULL, "g", "a");
}

static void
test_txn_malformed_ops_are_bad_request (void **state)
{
    fixture_t *fixture = *state;
    s_text (s_request (fixture, NULL, "txn", 1), "ops", "set");
    s_call_fails (fixture, ZSTORE_STATUS_BAD_REQUEST, "field 'ops'");
    s_request (fixture, NULL, "txn", 0);
    s_call_fails (fixture, ZSTORE_STATUS_BAD_REQUEST, "field 'ops' is missing");
    zstore_writer_t *writer = s_txn (fixture, NULL, 2);
    s_txn_set (writer, "g", "a", "1");
    zstore_write_uint (writer, 7);
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_BAD_REQUEST, "ops[1] must be a map");
    assert_int_equal (s_member_uint (s_root (reply), "failed"), 1);
    zstore_reader_destroy (&reply);
    writer = s_txn (fixture, NULL, 1);
    s_txn_op (writer, "set", 2);
    s_text (writer, "group", "g");
    s_text (writer, "key", "k");
    s_call_fails (fixture, ZSTORE_STATUS_BAD_REQUEST, "field 'value' is missing");
    s_assert_absent (fixture, NULL, "g", "a");
}

static void
test_txn_empty_ops_commit_nothing (void **state)
{
    fixture_t *fixture = *state;
    s_txn (fixture, NULL, 0);
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (s_member_array (s_root (reply), "results")->size, 0);
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 0);
    zstore_reader_destroy (&reply);
}

//  The txn's ns applies to every op; delete_group and delete_prefix too.
static void
test_txn_ns_applies_to_every_op (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "unscoped");                 //  rev 1
    s_set (fixture, NULL, "tenant-b:old", "k", "v");             //  rev 2
    s_set (fixture, NULL, "tenant-b:gone", "k", "v");            //  rev 3
    zstore_writer_t *writer = s_txn (fixture, "tenant-b", 5);
    s_txn_set (writer, "g", "k", "scoped");
    s_txn_op (writer, "count", 1);
    s_text (writer, "group", "g");
    s_txn_op (writer, "delete_group", 1);
    s_text (writer, "group", "old");
    s_txn_op (writer, "delete_prefix", 1);
    s_text (writer, "prefix", "go");
    s_txn_key_op (writer, "get", "g", "k");
    zstore_reader_t *reply = s_call_ok (fixture);
    const msgpack_object_array *results = s_member_array (s_root (reply), "results");
    assert_int_equal (s_member_uint (&results->ptr [1], "count"), 1);
    s_assert_member_text (&results->ptr [4], "value", "scoped");
    assert_int_equal (s_member_uint (s_root (reply), "rev"), 4);
    zstore_reader_destroy (&reply);
    s_assert_value (fixture, NULL, "tenant-b:g", "k", "scoped");
    s_assert_value (fixture, NULL, "g", "k", "unscoped");
    const char *left [] = { "g", "tenant-b:g" };
    s_assert_groups (fixture, NULL, NULL, left, COUNT (left));
}

//  --- namespaces -----------------------------------------------------------------

//  Key operations with ns address "<ns>:<group>".
static void
test_ns_key_ops_address_the_prefixed_group (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "plain");
    assert_int_equal (s_set (fixture, "tenant-b", "g", "k", "scoped"), 2);
    s_assert_value (fixture, NULL, "tenant-b:g", "k", "scoped");
    s_assert_value (fixture, "tenant-b", "g", "k", "scoped");
    s_assert_value (fixture, NULL, "g", "k", "plain");
    assert_true (s_exists (fixture, "tenant-b", "g", "k"));
    assert_false (s_exists (fixture, "tenant-c", "g", "k"));
    assert_int_equal (s_count (fixture, "tenant-b", "g"), 1);
    s_one_field_request (fixture, "tenant-b", "group_exists", "group", "g", 0);
    assert_true (s_call_bool (fixture, "exists"));
    s_one_field_request (fixture, "tenant-c", "group_exists", "group", "g", 0);
    assert_false (s_call_bool (fixture, "exists"));
    zstore_reader_t *reply = s_get (fixture, "tenant-b", "g", "absent");
    s_assert_status (reply, ZSTORE_STATUS_NOT_FOUND, "tenant-b:g/absent");
    zstore_reader_destroy (&reply);
    assert_int_equal (s_delete (fixture, "tenant-b", "g", "k"), 3);
    s_assert_absent (fixture, NULL, "tenant-b:g", "k");
    s_assert_value (fixture, NULL, "g", "k", "plain");
}

static void
test_ns_group_ops_address_the_prefixed_group (void **state)
{
    fixture_t *fixture = *state;
    s_fill (fixture, "tenant-b", "g", 3);
    s_fill (fixture, NULL, "g", 5);
    s_set (fixture, NULL, "tenant-bc:g", "k", "v");
    zstore_reader_t *reply = s_get_all (fixture, "tenant-b", "g");
    const char *keys [] = { "key-000", "key-001", "key-002" };
    s_assert_keys (s_member_array (s_root (reply), "items"), keys, COUNT (keys));
    zstore_reader_destroy (&reply);
    const char *page [] = { "key-001" };
    s_assert_page (s_page_offset (fixture, "tenant-b", "g", 1, 1), page, 1, true);
    const char *after [] = { "key-002" };
    s_assert_page (s_page_after (fixture, "tenant-b", "g", "key-001", 5), after, 1, false);
    assert_int_equal (s_count_all (fixture, "tenant-b", NULL), 3);
    assert_int_equal (s_count_all (fixture, "tenant-b", "g"), 3);
    assert_int_equal (s_count_all (fixture, "tenant-b", "h"), 0);
    s_one_field_request (fixture, "tenant-b", "delete_group", "group", "g", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 4);
    assert_int_equal (s_count (fixture, NULL, "tenant-b:g"), 0);
    assert_int_equal (s_count (fixture, NULL, "g"), 5);
}

//  delete_prefix with ns: "<ns>:<prefix>"; an empty prefix is the whole
//  namespace and nothing outside it.
static void
test_ns_delete_prefix_stays_in_the_namespace (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "tenant-b", "orders", "k", "v");
    s_set (fixture, "tenant-b", "users", "k", "v");
    s_set (fixture, NULL, "tenant-bc:orders", "k", "v");
    s_set (fixture, NULL, "orders", "k", "v");
    s_one_field_request (fixture, "tenant-b", "delete_prefix", "prefix", "ord", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 5);
    const char *scoped [] = { "users" };
    s_assert_groups (fixture, "tenant-b", NULL, scoped, COUNT (scoped));
    s_one_field_request (fixture, "tenant-b", "delete_prefix", "prefix", "", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 6);
    const char *left [] = { "orders", "tenant-bc:orders" };
    s_assert_groups (fixture, NULL, NULL, left, COUNT (left));
}

static void
test_ns_value_ops_address_the_prefixed_group (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "tenant-b", "g", "k", "a b,c");
    s_set (fixture, NULL, "g", "k", "x y,z");
    zstore_writer_t *writer = s_key_request (fixture, "tenant-b", "get_split", "g", "k", 1);
    s_text (writer, "sep", ",");
    zstore_reader_t *reply = s_call_ok (fixture);
    const char *split [] = { "a b", "c" };
    s_assert_names (s_member_array (s_root (reply), "parts"), split, COUNT (split));
    zstore_reader_destroy (&reply);
    s_key_request (fixture, "tenant-b", "get_fields", "g", "k", 0);
    reply = s_call_ok (fixture);
    const char *fields [] = { "a", "b,c" };
    s_assert_names (s_member_array (s_root (reply), "parts"), fields, COUNT (fields));
    zstore_reader_destroy (&reply);
    s_assert_render (fixture, "tenant-b", "g", "{{ .k }}", "a b,c");
}

//  Namespaces are byte-exact names: "Tenant-B" is another namespace.
static void
test_ns_names_are_case_sensitive (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "tenant-b", "g", "k", "lower");
    s_set (fixture, "Tenant-B", "g", "k", "upper");
    s_assert_value (fixture, "tenant-b", "g", "k", "lower");
    s_assert_value (fixture, "Tenant-B", "g", "k", "upper");
    assert_int_equal (s_count_all (fixture, "tenant-b", NULL), 1);
}

static void
test_ns_invalid_name_is_invalid (void **state)
{
    const char *names [] = { "tenant:a", "tenant_a", "", "tenant a", "tenant/a" };
    fixture_t *fixture = *state;
    for (size_t index = 0; index < COUNT (names); index++) {
        s_set_request (fixture, names [index], "g", "k", "v", 0);
        s_call_fails (fixture, ZSTORE_STATUS_INVALID, "is invalid");
    }
    assert_int_equal (s_count_all (fixture, NULL, NULL), 0);
}

//  --- quotas -------------------------------------------------------------------

static void
test_quota_max_keys_rejects_a_new_key (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "quota-k", "g", "k1", "v");
    s_set (fixture, "quota-k", "g", "k2", "v");
    s_set (fixture, "quota-k", "h", "k3", "v");
    s_set_request (fixture, "quota-k", "h", "k4", "v", 0);
    s_call_fails (fixture, ZSTORE_STATUS_QUOTA_EXCEEDED, "key limit (3)");
    s_set_request (fixture, "quota-k", "g", "k4", "v", 0);
    zstore_reader_t *reply = s_call (fixture);
    s_assert_status (reply, ZSTORE_STATUS_QUOTA_EXCEEDED, "quota exceeded");
    assert_int_equal (s_member_uint (s_root (reply), "status"), 2);
    assert_null (s_find (s_root (reply), "rev"));
    zstore_reader_destroy (&reply);
    assert_int_equal (s_count_all (fixture, "quota-k", NULL), 3);
    assert_false (s_exists (fixture, "quota-k", "g", "k4"));
    assert_int_equal (s_revision (fixture), 3);
}

//  At the limit, an upsert of an existing key and a key freed by a delete
//  are allowed; other namespaces and unscoped groups are not limited.
static void
test_quota_max_keys_allows_upsert_and_reuse (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "quota-k", "g", "k1", "v");
    s_set (fixture, "quota-k", "g", "k2", "v");
    s_set (fixture, "quota-k", "g", "k3", "v");
    assert_int_equal (s_set (fixture, "quota-k", "g", "k1", "updated"), 4);
    s_assert_value (fixture, "quota-k", "g", "k1", "updated");
    s_delete (fixture, "quota-k", "g", "k2");
    assert_int_equal (s_set (fixture, "quota-k", "g", "k4", "v"), 6);
    s_set (fixture, "tenant-b", "g", "k5", "v");
    s_set (fixture, NULL, "g", "k6", "v");
    assert_int_equal (s_count_all (fixture, "quota-k", NULL), 3);
}

//  Expired keys do not count against the quota.
static void
test_quota_ignores_expired_keys (void **state)
{
    fixture_t *fixture = *state;
    s_set_ttl (fixture, "quota-k", "g", "old1", "v", 0);
    s_set_ttl (fixture, "quota-k", "g", "old2", "v", 0);
    s_set (fixture, "quota-k", "g", "k1", "v");
    s_set (fixture, "quota-k", "g", "k2", "v");
    s_set (fixture, "quota-k", "g", "k3", "v");
    s_set_request (fixture, "quota-k", "g", "k4", "v", 0);
    s_call_fails (fixture, ZSTORE_STATUS_QUOTA_EXCEEDED, "key limit");
}

static void
test_quota_max_groups_rejects_a_new_group (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "quota-g", "g1", "k", "v");
    s_set (fixture, "quota-g", "g2", "k", "v");
    s_set (fixture, "quota-g", "g1", "more", "v");               //  not a new group
    s_set_request (fixture, "quota-g", "g3", "k", "v", 0);
    s_call_fails (fixture, ZSTORE_STATUS_QUOTA_EXCEEDED, "group limit (2)");
    const char *groups [] = { "g1", "g2" };
    s_assert_groups (fixture, "quota-g", NULL, groups, COUNT (groups));
    s_one_field_request (fixture, "quota-g", "delete_group", "group", "g2", 0);
    assert_int_equal (s_call_uint (fixture, "rev"), 4);
    assert_int_equal (s_set (fixture, "quota-g", "g3", "k", "v"), 5);
}

//  --- binary safety ------------------------------------------------------------

static const char s_group_bin [] = "g\0\xff";
static const char s_key_bin [] = "\0k\xff\x01";
static const char s_value_bin [] = "\0\x01\xff\0v";

#define BIN(name) (name), sizeof (name) - 1

static void
test_binary_nul_and_ff_bytes_round_trip (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_request (fixture, NULL, "set", 3);
    s_bytes (writer, "group", BIN (s_group_bin));
    s_bytes (writer, "key", BIN (s_key_bin));
    s_bytes (writer, "value", BIN (s_value_bin));
    assert_int_equal (s_call_uint (fixture, "rev"), 1);
    s_set (fixture, NULL, "g", "k", "v");                        //  a prefix of both

    writer = s_request (fixture, NULL, "get", 2);
    s_bytes (writer, "group", BIN (s_group_bin));
    s_bytes (writer, "key", BIN (s_key_bin));
    zstore_reader_t *reply = s_call_ok (fixture);
    s_assert_bin (s_member (s_root (reply), "value"), BIN (s_value_bin));
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, NULL, "get_all", 1);
    s_bytes (writer, "group", BIN (s_group_bin));
    reply = s_call_ok (fixture);
    const msgpack_object_array *items = s_member_array (s_root (reply), "items");
    assert_int_equal (items->size, 1);
    s_assert_bin (s_member (&items->ptr [0], "key"), BIN (s_key_bin));
    s_assert_bin (s_member (&items->ptr [0], "value"), BIN (s_value_bin));
    zstore_reader_destroy (&reply);

    reply = s_groups (fixture, NULL, NULL);
    const msgpack_object_array *groups = s_member_array (s_root (reply), "groups");
    assert_int_equal (groups->size, 2);
    s_assert_bin (&groups->ptr [0], "g", 1);
    s_assert_bin (&groups->ptr [1], BIN (s_group_bin));
    zstore_reader_destroy (&reply);
    assert_int_equal (s_count (fixture, NULL, "g"), 1);
}

//  A NUL inside a prefix is an ordinary byte, and 0xFF has no successor.
static void
test_binary_prefixes_with_nul_and_ff (void **state)
{
    fixture_t *fixture = *state;
    const char *values [] = { "a", "a\x01", "b" };
    for (size_t index = 0; index < COUNT (values); index++)
        s_set (fixture, NULL, values [index], "k", "v");
    zstore_writer_t *writer = s_request (fixture, NULL, "set", 3);
    s_bytes (writer, "group", "a\0x", 3);
    s_text (writer, "key", "k");
    s_text (writer, "value", "v");
    assert_int_equal (s_call_uint (fixture, "rev"), 4);
    writer = s_request (fixture, NULL, "set", 3);
    s_bytes (writer, "group", "\xff\xff", 2);
    s_text (writer, "key", "k");
    s_text (writer, "value", "v");
    assert_int_equal (s_call_uint (fixture, "rev"), 5);

    s_bytes (s_request (fixture, NULL, "count_all", 1), "prefix", "a\0", 2);
    assert_int_equal (s_call_uint (fixture, "count"), 1);
    s_bytes (s_request (fixture, NULL, "count_all", 1), "prefix", "\xff", 1);
    assert_int_equal (s_call_uint (fixture, "count"), 1);
    s_bytes (s_request (fixture, NULL, "delete_prefix", 1), "prefix", "a\0", 2);
    assert_int_equal (s_call_uint (fixture, "rev"), 6);
    s_bytes (s_request (fixture, NULL, "delete_prefix", 1), "prefix", "\xff", 1);
    assert_int_equal (s_call_uint (fixture, "rev"), 7);
    const char *left [] = { "a", "a\x01", "b" };
    s_assert_groups (fixture, NULL, NULL, left, COUNT (left));
}

//  Keys sort by bytes: "" < "\0" < "\x01" < "A" < "a" < "\xff".
static void
test_binary_keys_sort_bytewise (void **state)
{
    fixture_t *fixture = *state;
    static const struct { const char *data; size_t size; } keys [] = {
        { "a", 1 }, { "\xff", 1 }, { "", 0 }, { "\x01", 1 }, { "A", 1 }, { "\0", 1 }
    };
    static const int order [] = { 2, 5, 3, 4, 0, 1 };
    for (size_t index = 0; index < COUNT (keys); index++) {
        zstore_writer_t *writer = s_request (fixture, NULL, "set", 3);
        s_text (writer, "group", "g");
        s_bytes (writer, "key", keys [index].data, keys [index].size);
        s_bytes (writer, "value", keys [index].data, keys [index].size);
        assert_int_equal (s_call_uint (fixture, "rev"), index + 1);
    }
    zstore_reader_t *reply = s_get_all (fixture, NULL, "g");
    const msgpack_object_array *items = s_member_array (s_root (reply), "items");
    assert_int_equal (items->size, COUNT (keys));
    for (size_t index = 0; index < COUNT (order); index++)
        s_assert_bin (s_member (&items->ptr [index], "key"), keys [order [index]].data,
                      keys [order [index]].size);
    zstore_reader_destroy (&reply);
}

static void
test_binary_empty_group_key_and_value (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (s_set (fixture, NULL, "", "", ""), 1);
    s_assert_value (fixture, NULL, "", "", "");
    assert_true (s_exists (fixture, NULL, "", ""));
    assert_int_equal (s_count (fixture, NULL, ""), 1);
    const char *groups [] = { "" };
    s_assert_groups (fixture, NULL, NULL, groups, COUNT (groups));
}

static void
test_binary_large_value_round_trips (void **state)
{
    fixture_t *fixture = *state;
    size_t size = 100000;
    char *value = malloc (size);
    for (size_t index = 0; index < size; index++)
        value [index] = (char) ((index * 31 + index / 256) & 0xFF);
    zstore_writer_t *writer = s_request (fixture, NULL, "set", 3);
    s_text (writer, "group", "big");
    s_text (writer, "key", "blob");
    s_bytes (writer, "value", value, size);
    assert_int_equal (s_call_uint (fixture, "rev"), 1);
    zstore_reader_t *reply = s_get (fixture, NULL, "big", "blob");
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    s_assert_bin (s_member (s_root (reply), "value"), value, size);
    zstore_reader_destroy (&reply);
    free (value);
}

//  Fields sent as msgpack str are taken byte for byte (NUL and invalid
//  UTF-8 included), and read back as bin.
static void
test_binary_str_fields_are_accepted (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_request (fixture, NULL, "set", 3);
    s_str (writer, "group", BIN (s_group_bin));
    s_str (writer, "key", BIN (s_key_bin));
    s_str (writer, "value", BIN (s_value_bin));
    assert_int_equal (s_call_uint (fixture, "rev"), 1);
    writer = s_request (fixture, NULL, "get", 2);
    s_bytes (writer, "group", BIN (s_group_bin));
    s_bytes (writer, "key", BIN (s_key_bin));
    zstore_reader_t *reply = s_call_ok (fixture);
    s_assert_bin (s_member (s_root (reply), "value"), BIN (s_value_bin));
    zstore_reader_destroy (&reply);
    writer = s_request (fixture, NULL, "exists", 2);
    s_str (writer, "group", BIN (s_group_bin));
    s_str (writer, "key", BIN (s_key_bin));
    assert_true (s_call_bool (fixture, "exists"));
}

//  --- requests in general ------------------------------------------------------

//  The id is echoed as sent: str and bin ids too; no id, no id.
static void
test_request_id_is_echoed_as_sent (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 2);
    s_str (writer, "id", "req-1", 5);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, "ping");
    zstore_reader_t *reply = broker_call (fixture->dealer, writer, TIMEOUT);
    const msgpack_object *id = s_member (s_root (reply), "id");
    assert_int_equal (id->type, MSGPACK_OBJECT_STR);
    assert_int_equal (id->via.str.size, 5);
    assert_memory_equal (id->via.str.ptr, "req-1", 5);
    zstore_reader_destroy (&reply);

    zstore_writer_reset (writer);
    zstore_write_map (writer, 2);
    s_bytes (writer, "id", "\0\xff", 2);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, "ping");
    reply = broker_call (fixture->dealer, writer, TIMEOUT);
    s_assert_bin (s_member (s_root (reply), "id"), "\0\xff", 2);
    zstore_reader_destroy (&reply);

    zstore_writer_reset (writer);
    zstore_write_map (writer, 1);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, "ping");
    reply = broker_call (fixture->dealer, writer, TIMEOUT);
    s_assert_status (reply, ZSTORE_STATUS_OK, "");
    assert_null (s_find (s_root (reply), "id"));
    zstore_reader_destroy (&reply);
}

//  v 1 is spoken; unknown fields are ignored.
static void
test_request_version_one_and_unknown_fields (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_set_request (fixture, NULL, "g", "k", "v", 2);
    s_uint (writer, "v", 1);
    s_text (writer, "colour", "ignored");
    assert_int_equal (s_call_uint (fixture, "rev"), 1);
    s_assert_value (fixture, NULL, "g", "k", "v");
}

//  A set request one byte over the default max-request (1 MiB) of value.
static void
s_oversized_set (fixture_t *fixture)
{
    size_t size = (1 << 20) + 1;
    char *value = malloc (size + 1);
    memset (value, 'x', size);
    value [size] = 0;
    s_set_request (fixture, NULL, "g", "huge", value, 0);
    free (value);
}

//  Every error a client can provoke with the operations here, with its
//  status number and code name (checked in s_assert_status).
static void
test_errors_carry_status_and_code_name (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, NULL, "g", "k", "v");
    s_key_request (fixture, NULL, "get", "g", "absent", 0);
    s_call_fails (fixture, 1, "store: not found");
    s_set (fixture, "quota-k", "g", "k1", "v");
    s_set (fixture, "quota-k", "g", "k2", "v");
    s_set (fixture, "quota-k", "g", "k3", "v");
    s_set_request (fixture, "quota-k", "g", "k4", "v", 0);
    s_call_fails (fixture, 2, "store: quota exceeded");
    s_key_request (fixture, "no:colons", "get", "g", "k", 0);
    s_call_fails (fixture, 3, "namespace \"no:colons\" is invalid");
    s_int (s_set_request (fixture, NULL, "g", "k", "v", 1), "if_rev", 0);
    s_call_fails (fixture, 5, "revision mismatch");
    zstore_writer_t *writer = s_request (fixture, NULL, "get", 2);
    s_text (writer, "group", "g");
    s_uint (writer, "key", 5);
    s_call_fails (fixture, 8, "field 'key'");
    s_request (fixture, NULL, "snapshots", 0);
    s_call_fails (fixture, 9, "unknown op \"snapshots\"");
    s_uint (s_request (fixture, NULL, "ping", 1), "v", 2);
    s_call_fails (fixture, 11, "this broker speaks 1");
    s_oversized_set (fixture);
    zstore_reader_t *reply = broker_call (fixture->dealer, &fixture->request, TIMEOUT);
    s_assert_status (reply, 10, "larger than the limit");
    zstore_reader_destroy (&reply);
    s_assert_value (fixture, NULL, "g", "k", "v");
}

//  PROTOCOL.md 2.3: the reply carries the id "if the request had one" -
//  a too_large reply too, or a client with requests in flight cannot tell
//  which one it answers.
static void
test_errors_too_large_reply_echoes_id (void **state)
{
    fixture_t *fixture = *state;
    s_oversized_set (fixture);
    s_call_fails (fixture, ZSTORE_STATUS_TOO_LARGE, "larger than the limit");
}

//  Restarts the broker on the same database with another configuration,
//  and connects a new DEALER to it.
static void
s_restart (fixture_t *fixture, const char *config)
{
    zsock_destroy (&fixture->dealer);
    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, config, NULL, NULL);
    fixture->dealer = broker_dealer (fixture->broker);
}

//  The codes of the views (snapshots, history) a client can provoke: one
//  request each, for the status and the code name.
static void
test_errors_of_views_carry_status_and_code_name (void **state)
{
    fixture_t *fixture = *state;
    s_restart (fixture, "limits\n    snapshots = 1\nhistory\n    events = 0\n");
    s_fill (fixture, NULL, "g", 2);
    zstore_writer_t *writer = s_request (fixture, NULL, "snapshot", 2);
    zstore_write_key (writer, "scope");
    zstore_write_map (writer, 0);
    s_uint (writer, "limit", 1);
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_false (s_member_bool (s_root (reply), "done"));
    zstore_reader_destroy (&reply);
    s_request (fixture, NULL, "snapshot", 0);
    s_call_fails (fixture, 12, "retry later");
    s_uint (s_request (fixture, NULL, "snapshot_next", 1), "snapshot", 999);
    s_call_fails (fixture, 13, "snapshot 999 is unknown");
    s_uint (s_request (fixture, NULL, "history", 1), "after", 0);
    s_call_fails (fixture, 7, "older than the history");
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_ping_answers_epoch_rev_and_time),
        TEST (test_get_returns_value_and_revisions),
        TEST (test_get_missing_key_is_not_found),
        TEST (test_get_expired_key_removes_it),
        TEST (test_exists_answers_live_keys),
        TEST (test_exists_is_a_pure_read),
        TEST (test_set_upsert_keeps_create_rev),
        TEST (test_set_ttl_sets_expiry_and_set_without_ttl_clears_it),
        TEST (test_set_ttl_not_positive_writes_expired_key),
        TEST (test_set_if_rev_zero_creates_only),
        TEST (test_set_if_rev_matches_mod_rev),
        TEST (test_set_if_rev_on_missing_key_conflicts),
        TEST (test_set_if_rev_zero_over_expired_key),
        TEST (test_set_negative_if_rev_is_invalid),
        TEST (test_delete_removes_key_with_a_revision),
        TEST (test_delete_missing_key_is_rev_zero),
        TEST (test_delete_if_rev),
        TEST (test_count_counts_live_keys_of_one_group),
        TEST (test_group_exists_needs_a_live_key),
        TEST (test_delete_group_removes_all_keys_in_one_revision),
        TEST (test_delete_prefix_is_byte_exact),
        TEST (test_delete_prefix_empty_deletes_everything),
        TEST (test_delete_prefix_matching_nothing_is_rev_zero),
        TEST (test_get_all_returns_live_items_in_byte_order),
        TEST (test_get_all_of_missing_group_is_empty),
        TEST (test_get_page_offset_and_limit),
        TEST (test_get_page_offset_defaults_to_zero),
        TEST (test_get_page_limit_zero_is_empty),
        TEST (test_get_page_offset_past_end_is_empty),
        TEST (test_get_page_cursor_walks_a_group),
        TEST (test_get_page_cursor_exact_multiple_ends_without_more),
        TEST (test_get_page_after_is_strictly_greater),
        TEST (test_get_page_rejects_missing_or_huge_limit),
        TEST (test_count_all_counts_live_keys_by_prefix),
        TEST (test_groups_lists_live_groups_ascending),
        TEST (test_groups_with_ns_strips_the_prefix),
        TEST (test_get_split_splits_like_go),
        TEST (test_get_fields_splits_on_white_space),
        TEST (test_render_substitutes_values),
        TEST (test_render_parse_error_is_invalid),
        TEST (test_purge_removes_expired_rows),
        TEST (test_purge_max_bounds_the_rows_removed),
        TEST (test_purge_max_zero_is_invalid),
        TEST (test_purge_with_ns_removes_only_the_namespace),
        TEST (test_purge_with_ns_honours_max),
        TEST (test_stats_counts_requests_per_op),
        TEST (test_stats_counts_errors_per_code),
        TEST (test_stats_counts_failed_transaction_error),
        TEST (test_txn_commits_ops_under_one_revision),
        TEST (test_txn_get_missing_is_a_result),
        TEST (test_txn_of_reads_is_rev_zero),
        TEST (test_txn_conflict_rolls_back_everything),
        TEST (test_txn_quota_failure_rolls_back_everything),
        TEST (test_txn_rejects_disallowed_op),
        TEST (test_txn_rejects_unknown_op),
        TEST (test_txn_malformed_ops_are_bad_request),
        TEST (test_txn_empty_ops_commit_nothing),
        TEST (test_txn_ns_applies_to_every_op),
        TEST (test_ns_key_ops_address_the_prefixed_group),
        TEST (test_ns_group_ops_address_the_prefixed_group),
        TEST (test_ns_delete_prefix_stays_in_the_namespace),
        TEST (test_ns_value_ops_address_the_prefixed_group),
        TEST (test_ns_names_are_case_sensitive),
        TEST (test_ns_invalid_name_is_invalid),
        TEST (test_quota_max_keys_rejects_a_new_key),
        TEST (test_quota_max_keys_allows_upsert_and_reuse),
        TEST (test_quota_ignores_expired_keys),
        TEST (test_quota_max_groups_rejects_a_new_group),
        TEST (test_binary_nul_and_ff_bytes_round_trip),
        TEST (test_binary_prefixes_with_nul_and_ff),
        TEST (test_binary_keys_sort_bytewise),
        TEST (test_binary_empty_group_key_and_value),
        TEST (test_binary_large_value_round_trips),
        TEST (test_binary_str_fields_are_accepted),
        TEST (test_request_id_is_echoed_as_sent),
        TEST (test_request_version_one_and_unknown_fields),
        TEST (test_errors_carry_status_and_code_name),
        TEST (test_errors_too_large_reply_echoes_id),
        TEST (test_errors_of_views_carry_status_and_code_name),
    };
    return cmocka_run_group_tests_name ("broker_ops", tests, NULL, NULL);
}
