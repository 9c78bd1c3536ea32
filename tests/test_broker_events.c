//  Events, snapshots and history over real sockets against the real
//  zstore-broker binary (PROTOCOL.md 3 and 4): topic isolation with
//  adversarial names, the late-joiner handshake, sequences, heartbeats and
//  beacons, expire events, snapshots (scopes, a large one read slowly,
//  limits), a consistent late join, history, a subscriber that never
//  reads, and a restart. No sleeps: every wait is a poll with a deadline.
//
//  Expected events come from oracles written here (escaping, scope
//  membership), not from the codec under test.

#include "broker_harness.h"

#include <signal.h>

#define TIMEOUT 5000                //  ms for a reply or an awaited message
#define QUIET 200                   //  ms of silence showing nothing more comes
#define NAME_CAP 64                 //  bytes of a group, key or value kept in a copy

//  A zstore_bytes_t initialiser from a literal, NUL bytes included.
#define B(s) { (s), sizeof (s) - 1 }

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    zsock_t *dealer;
    zstore_writer_t request;
    uint64_t id;                    //  of the last request
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    assert_non_null (fixture);
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "broker.db");
    zstore_writer_init (&fixture->request);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zsock_destroy (&fixture->dealer);
    if (fixture->broker)
        broker_stop (&fixture->broker, SIGTERM);
    zstore_writer_free (&fixture->request);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  Starts the broker on the fixture's database with this config (ZPL).
static void
s_start (fixture_t *fixture, const char *config)
{
    fixture->broker = broker_start (fixture->db_path, config, NULL, NULL);
    fixture->dealer = broker_dealer (fixture->broker);
}

//  --- Requests -----------------------------------------------------------

//  Starts a request map: id, op, ns (if not NULL) and extra pairs to follow.
static zstore_writer_t *
s_request (fixture_t *fixture, const char *op, const char *ns, uint32_t extra)
{
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 2 + extra + (ns ? 1 : 0));
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
s_put_bytes (zstore_writer_t *writer, const char *field, zstore_bytes_t bytes)
{
    zstore_write_key (writer, field);
    zstore_write_bytes (writer, bytes.data, bytes.size);
}

static void
s_put_uint (zstore_writer_t *writer, const char *field, uint64_t value)
{
    zstore_write_key (writer, field);
    zstore_write_uint (writer, value);
}

static void
s_put_int (zstore_writer_t *writer, const char *field, int64_t value)
{
    zstore_write_key (writer, field);
    zstore_write_int (writer, value);
}

//  Sends the request; the reply must come in time and carry our id.
static zstore_reader_t *
s_call (fixture_t *fixture)
{
    zstore_reader_t *reply = broker_call (fixture->dealer, &fixture->request, TIMEOUT);
    if (!reply)
        fail_msg ("request %llu: no reply within %d ms", (unsigned long long) fixture->id,
                  TIMEOUT);
    assert_int_equal (reply_uint (reply, "id"), fixture->id);
    return reply;
}

static zstore_reader_t *
s_call_ok (fixture_t *fixture)
{
    zstore_reader_t *reply = s_call (fixture);
    int status = reply_status (reply);
    if (status != ZSTORE_STATUS_OK) {
        size_t size = 0;
        const char *error = reply_bytes (reply, "error", &size);
        fail_msg ("status %d: %.*s", status, (int) size, error ? error : "");
    }
    return reply;
}

static uint64_t
s_call_rev (fixture_t *fixture)
{
    zstore_reader_t *reply = s_call_ok (fixture);
    uint64_t revision = reply_uint (reply, "rev");
    zstore_reader_destroy (&reply);
    return revision;
}

//  The reply's status, and its code must be that status's name.
static int
s_call_status (fixture_t *fixture)
{
    zstore_reader_t *reply = s_call (fixture);
    int status = reply_status (reply);
    size_t size = 0;
    const char *code = reply_bytes (reply, "code", &size);
    assert_non_null (code);
    assert_int_equal (size, strlen (zstore_status_name (status)));
    assert_memory_equal (code, zstore_status_name (status), size);
    zstore_reader_destroy (&reply);
    return status;
}

static uint64_t
s_set (fixture_t *fixture, const char *ns, zstore_bytes_t group, zstore_bytes_t key,
       zstore_bytes_t value)
{
    zstore_writer_t *writer = s_request (fixture, "set", ns, 3);
    s_put_bytes (writer, "group", group);
    s_put_bytes (writer, "key", key);
    s_put_bytes (writer, "value", value);
    uint64_t revision = s_call_rev (fixture);
    assert_true (revision > 0);
    return revision;
}

static uint64_t
s_set_ttl (fixture_t *fixture, zstore_bytes_t group, zstore_bytes_t key, zstore_bytes_t value,
           int64_t ttl)
{
    zstore_writer_t *writer = s_request (fixture, "set", NULL, 4);
    s_put_bytes (writer, "group", group);
    s_put_bytes (writer, "key", key);
    s_put_bytes (writer, "value", value);
    s_put_int (writer, "ttl", ttl);
    uint64_t revision = s_call_rev (fixture);
    assert_true (revision > 0);
    return revision;
}

static uint64_t
s_delete (fixture_t *fixture, const char *ns, zstore_bytes_t group, zstore_bytes_t key)
{
    zstore_writer_t *writer = s_request (fixture, "delete", ns, 2);
    s_put_bytes (writer, "group", group);
    s_put_bytes (writer, "key", key);
    return s_call_rev (fixture);
}

static uint64_t
s_delete_group (fixture_t *fixture, const char *ns, zstore_bytes_t group)
{
    zstore_writer_t *writer = s_request (fixture, "delete_group", ns, 1);
    s_put_bytes (writer, "group", group);
    return s_call_rev (fixture);
}

static uint64_t
s_delete_prefix (fixture_t *fixture, zstore_bytes_t prefix)
{
    zstore_writer_t *writer = s_request (fixture, "delete_prefix", NULL, 1);
    s_put_bytes (writer, "prefix", prefix);
    return s_call_rev (fixture);
}

//  The status of a get (ok or not_found).
static int
s_get (fixture_t *fixture, zstore_bytes_t group, zstore_bytes_t key)
{
    zstore_writer_t *writer = s_request (fixture, "get", NULL, 2);
    s_put_bytes (writer, "group", group);
    s_put_bytes (writer, "key", key);
    return s_call_status (fixture);
}

static bool
s_exists (fixture_t *fixture, zstore_bytes_t group, zstore_bytes_t key)
{
    zstore_writer_t *writer = s_request (fixture, "exists", NULL, 2);
    s_put_bytes (writer, "group", group);
    s_put_bytes (writer, "key", key);
    zstore_reader_t *reply = s_call_ok (fixture);
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    bool exists = false;
    assert_true (zstore_fields_bool (&fields, "exists", &exists));
    zstore_reader_destroy (&reply);
    return exists;
}

//  A ping answered in time; returns the broker's revision.
static uint64_t
s_ping (fixture_t *fixture)
{
    s_request (fixture, "ping", NULL, 0);
    zstore_reader_t *reply = s_call_ok (fixture);
    assert_int_equal (reply_uint (reply, "epoch"), fixture->broker->epoch);
    uint64_t revision = reply_uint (reply, "rev");
    zstore_reader_destroy (&reply);
    return revision;
}

static uint64_t
s_stats_uint (fixture_t *fixture, const char *field)
{
    s_request (fixture, "stats", NULL, 0);
    zstore_reader_t *reply = s_call_ok (fixture);
    uint64_t value = reply_uint (reply, field);
    zstore_reader_destroy (&reply);
    return value;
}

//  One operation of a txn request.
typedef struct {
    const char *op;                 //  "set", "delete", "delete_group"
    zstore_bytes_t group, key, value;
    bool has_ttl;
    int64_t ttl;
} txn_op_t;

static uint64_t
s_txn (fixture_t *fixture, const txn_op_t *ops, size_t count)
{
    zstore_writer_t *writer = s_request (fixture, "txn", NULL, 1);
    zstore_write_key (writer, "ops");
    zstore_write_array (writer, (uint32_t) count);
    for (size_t index = 0; index < count; index++) {
        const txn_op_t *op = &ops [index];
        bool is_set = strcmp (op->op, "set") == 0;
        bool has_key = strcmp (op->op, "delete_group") != 0;
        zstore_write_map (writer, 2 + has_key + is_set + op->has_ttl);
        zstore_write_key (writer, "op");
        zstore_write_str (writer, op->op);
        s_put_bytes (writer, "group", op->group);
        if (has_key)
            s_put_bytes (writer, "key", op->key);
        if (is_set)
            s_put_bytes (writer, "value", op->value);
        if (op->has_ttl)
            s_put_int (writer, "ttl", op->ttl);
    }
    uint64_t revision = s_call_rev (fixture);
    assert_true (revision > 0);
    return revision;
}

//  --- Bytes -------------------------------------------------------------

static bool
s_equal (const char *data, size_t size, zstore_bytes_t bytes)
{
    return size == bytes.size && (size == 0 || memcmp (data, bytes.data, size) == 0);
}

static bool
s_starts (const char *data, size_t size, zstore_bytes_t prefix)
{
    return size >= prefix.size
        && (prefix.size == 0 || memcmp (data, prefix.data, prefix.size) == 0);
}

//  Byte order, a prefix first.
static int
s_compare (const char *a, size_t a_size, const char *b, size_t b_size)
{
    size_t common = a_size < b_size ? a_size : b_size;
    int order = common ? memcmp (a, b, common) : 0;
    if (order)
        return order;
    return a_size < b_size ? -1 : a_size > b_size ? 1 : 0;
}

//  Printable form for messages: non-ASCII bytes as \xNN.
static const char *
s_printable (const char *data, size_t size, char *text, size_t text_size)
{
    size_t used = 0;
    for (size_t index = 0; index < size && used + 5 < text_size; index++) {
        unsigned char byte = (unsigned char) data [index];
        if (byte >= 0x20 && byte < 0x7F && byte != '\\')
            text [used++] = (char) byte;
        else
            used += (size_t) snprintf (text + used, text_size - used, "\\x%02x", byte);
    }
    text [used] = 0;
    return text;
}

static void
s_copy_name (char *target, size_t *target_size, const char *data, size_t size)
{
    if (size > NAME_CAP)
        fail_msg ("a name of %zu bytes is longer than this test keeps", size);
    if (size)
        memcpy (target, data, size);
    *target_size = size;
}

//  --- Events -----------------------------------------------------------

typedef struct {
    char type [16];
    char group [NAME_CAP];
    size_t group_size;
    char key [NAME_CAP];
    size_t key_size;
    char value [NAME_CAP];          //  the first NAME_CAP bytes
    size_t value_size;              //  the whole size
    uint64_t rev, prev_rev, idx, n, ts, expires_at;
    uint64_t epoch, seq, gseq, nseq;
} event_t;

typedef struct {
    event_t *items;
    size_t size;
    size_t capacity;
} events_t;

static event_t *
s_events_push (events_t *events)
{
    if (events->size == events->capacity) {
        events->capacity = events->capacity ? events->capacity * 2 : 64;
        events->items = realloc (events->items, events->capacity * sizeof (event_t));
        assert_non_null (events->items);
    }
    event_t *event = &events->items [events->size++];
    memset (event, 0, sizeof *event);
    return event;
}

static void
s_events_free (events_t *events)
{
    free (events->items);
    memset (events, 0, sizeof *events);
}

static bool
s_is (const event_t *event, const char *type)
{
    return strcmp (event->type, type) == 0;
}

static void
s_event_from_body (event_t *event, const zstore_event_body_t *body)
{
    memset (event, 0, sizeof *event);
    snprintf (event->type, sizeof event->type, "%s", body->type);
    s_copy_name (event->group, &event->group_size, body->group, body->group_size);
    s_copy_name (event->key, &event->key_size, body->key, body->key_size);
    event->value_size = body->value_size;
    if (body->value_size)
        memcpy (event->value, body->value, body->value_size < NAME_CAP ? body->value_size
                                                                        : NAME_CAP);
    event->rev = body->rev;
    event->prev_rev = body->prev_rev;
    event->idx = body->idx;
    event->n = body->n;
    event->ts = body->ts;
    event->expires_at = body->expires_at;
    event->epoch = body->epoch;
    event->seq = body->seq;
    event->gseq = body->gseq;
    event->nseq = body->nseq;
}

static const char *
s_describe (const event_t *event, char *text, size_t size)
{
    char group [NAME_CAP * 4 + 1], key [NAME_CAP * 4 + 1];
    //  A description for a failure message: truncating it is fine.
    if (snprintf (text, size, "%s \"%s\"/\"%s\" rev %llu idx %llu/%llu", event->type,
              s_printable (event->group, event->group_size, group, sizeof group),
              s_printable (event->key, event->key_size, key, sizeof key),
              (unsigned long long) event->rev, (unsigned long long) event->idx,
              (unsigned long long) event->n) >= (int) size)
        text [size - 1] = 0;
    return text;
}

//  Appends an expected change: type, group, key, rev.
static void
s_expect (events_t *log, const char *type, zstore_bytes_t group, zstore_bytes_t key,
          uint64_t revision)
{
    event_t *event = s_events_push (log);
    snprintf (event->type, sizeof event->type, "%s", type);
    s_copy_name (event->group, &event->group_size, group.data, group.size);
    s_copy_name (event->key, &event->key_size, key.data, key.size);
    event->rev = revision;
}

//  Same type, group, key and revision.
static void
s_assert_same_change (const event_t *actual, const event_t *expected, const char *who,
                      size_t position)
{
    if (strcmp (actual->type, expected->type) == 0
    &&  s_equal (actual->group, actual->group_size,
                 zstore_bytes (expected->group, expected->group_size))
    &&  s_equal (actual->key, actual->key_size,
                 zstore_bytes (expected->key, expected->key_size))
    &&  actual->rev == expected->rev)
        return;
    char got [512], wanted [512];
    fail_msg ("%s, event %zu: got %s, expected %s", who, position,
              s_describe (actual, got, sizeof got), s_describe (expected, wanted, sizeof wanted));
}

//  Every field of a history event equals the published one.
static void
s_assert_same_event (const event_t *actual, const event_t *expected, const char *who,
                     size_t position)
{
    s_assert_same_change (actual, expected, who, position);
    size_t kept = expected->value_size < NAME_CAP ? expected->value_size : NAME_CAP;
    if (actual->value_size != expected->value_size
    ||  (kept && memcmp (actual->value, expected->value, kept) != 0)
    ||  actual->prev_rev != expected->prev_rev || actual->idx != expected->idx
    ||  actual->n != expected->n || actual->ts != expected->ts
    ||  actual->expires_at != expected->expires_at) {
        char text [512];
        fail_msg ("%s, event %zu (%s): value, prev_rev, idx, n, ts or expires_at differ"
                  " (prev_rev %llu vs %llu, ts %llu vs %llu, expires_at %llu vs %llu)", who,
                  position, s_describe (expected, text, sizeof text),
                  (unsigned long long) actual->prev_rev, (unsigned long long) expected->prev_rev,
                  (unsigned long long) actual->ts, (unsigned long long) expected->ts,
                  (unsigned long long) actual->expires_at,
                  (unsigned long long) expected->expires_at);
    }
}

//  --- Topics: the oracle ---------------------------------------------------

//  E(x): 0x00 -> 01 01, 0x01 -> 01 02 (PROTOCOL.md 3.2).
static void
s_escape (zstore_buffer_t *out, const char *data, size_t size)
{
    for (size_t index = 0; index < size; index++) {
        unsigned char byte = (unsigned char) data [index];
        if (byte <= 0x01) {
            char pair [2] = { 0x01, (char) (byte + 1) };
            zstore_buffer_append (out, pair, 2);
        }
        else
            zstore_buffer_append (out, data + index, 1);
    }
}

static void
s_append_nul (zstore_buffer_t *out)
{
    zstore_buffer_append (out, "", 1);
}

static void
s_oracle_topic (zstore_buffer_t *out, const event_t *event)
{
    zstore_buffer_reset (out);
    zstore_buffer_append (out, "d", 1);
    s_escape (out, event->group, event->group_size);
    s_append_nul (out);
    if (!s_is (event, "delete_group")) {
        s_escape (out, event->key, event->key_size);
        s_append_nul (out);
    }
}

typedef enum { SCOPE_ALL, SCOPE_NS, SCOPE_GROUP, SCOPE_PREFIX, SCOPE_KEY } scope_kind_t;

typedef struct {
    scope_kind_t kind;
    zstore_bytes_t name;            //  the namespace or the group
    zstore_bytes_t key;             //  the key or the key prefix
} scope_t;

static const char *
s_scope_text (const scope_t *scope, char *text, size_t size)
{
    static const char *kinds [] = { "everything", "namespace", "group", "key prefix", "key" };
    char name [NAME_CAP * 4 + 1], key [NAME_CAP * 4 + 1];
    if (snprintf (text, size, "%s \"%s\" \"%s\"", kinds [scope->kind],
                  s_printable (scope->name.data, scope->name.size, name, sizeof name),
                  s_printable (scope->key.data, scope->key.size, key, sizeof key)) >= (int) size)
        text [size - 1] = 0;                //  a label: truncating it is fine
    return text;
}

//  The subscription prefix of a scope (PROTOCOL.md 3.2's table).
static void
s_oracle_prefix (zstore_buffer_t *out, const scope_t *scope)
{
    zstore_buffer_reset (out);
    zstore_buffer_append (out, "d", 1);
    if (scope->kind == SCOPE_NS) {
        zstore_buffer_append (out, scope->name.data, scope->name.size);
        zstore_buffer_append (out, ":", 1);
    }
    else
    if (scope->kind != SCOPE_ALL) {
        s_escape (out, scope->name.data, scope->name.size);
        s_append_nul (out);
        if (scope->kind != SCOPE_GROUP)
            s_escape (out, scope->key.data, scope->key.size);
        if (scope->kind == SCOPE_KEY)
            s_append_nul (out);
    }
}

//  The same prefix from the codec's builders: the two must agree.
static void
s_codec_prefix (zstore_buffer_t *out, const scope_t *scope)
{
    int rc = -1;
    switch (scope->kind) {
        case SCOPE_ALL:
            rc = zstore_topic_everything (out);
            break;
        case SCOPE_NS:
            rc = zstore_topic_namespace (out, scope->name.data, scope->name.size);
            break;
        case SCOPE_GROUP:
            rc = zstore_topic_group (out, scope->name.data, scope->name.size);
            break;
        case SCOPE_PREFIX:
            rc = zstore_topic_key_prefix (out, scope->name.data, scope->name.size,
                                          scope->key.data, scope->key.size);
            break;
        case SCOPE_KEY:
            rc = zstore_topic_key (out, scope->name.data, scope->name.size, scope->key.data,
                                   scope->key.size);
            break;
    }
    assert_int_equal (rc, 0);
}

static bool
s_in_namespace (const char *group, size_t group_size, zstore_bytes_t ns)
{
    return group_size > ns.size && s_starts (group, group_size, ns) && group [ns.size] == ':';
}

//  Does a subscriber of the scope receive the event? (raw bytes, no topics)
static bool
s_scope_watches (const scope_t *scope, const event_t *event)
{
    bool group_event = s_is (event, "delete_group");
    bool same_group = s_equal (event->group, event->group_size, scope->name);
    switch (scope->kind) {
        case SCOPE_ALL:
            return true;
        case SCOPE_NS:
            return s_in_namespace (event->group, event->group_size, scope->name);
        case SCOPE_GROUP:
            return same_group;
        case SCOPE_PREFIX:
            return same_group && (group_event ? scope->key.size == 0
                                              : s_starts (event->key, event->key_size,
                                                          scope->key));
        case SCOPE_KEY:
            return same_group && !group_event && s_equal (event->key, event->key_size,
                                                          scope->key);
    }
    return false;
}

//  History: key and key-prefix scopes also hold their group's delete_group.
static bool
s_scope_history (const scope_t *scope, const event_t *event)
{
    return s_scope_watches (scope, event)
        || ((scope->kind == SCOPE_PREFIX || scope->kind == SCOPE_KEY)
            && s_is (event, "delete_group")
            && s_equal (event->group, event->group_size, scope->name));
}

//  Does a snapshot of the scope hold this (group, key)?
static bool
s_scope_holds (const scope_t *scope, const char *group, size_t group_size, const char *key,
               size_t key_size)
{
    bool same_group = s_equal (group, group_size, scope->name);
    switch (scope->kind) {
        case SCOPE_ALL:
            return true;
        case SCOPE_NS:
            return s_in_namespace (group, group_size, scope->name);
        case SCOPE_GROUP:
            return same_group;
        case SCOPE_PREFIX:
            return same_group && s_starts (key, key_size, scope->key);
        case SCOPE_KEY:
            return same_group && s_equal (key, key_size, scope->key);
    }
    return false;
}

static void
s_write_scope (zstore_writer_t *writer, const scope_t *scope)
{
    zstore_write_key (writer, "scope");
    switch (scope->kind) {
        case SCOPE_ALL:
            zstore_write_map (writer, 0);
            break;
        case SCOPE_NS:
            zstore_write_map (writer, 1);
            s_put_bytes (writer, "ns", scope->name);
            break;
        case SCOPE_GROUP:
            zstore_write_map (writer, 1);
            s_put_bytes (writer, "group", scope->name);
            break;
        case SCOPE_PREFIX:
            zstore_write_map (writer, 2);
            s_put_bytes (writer, "group", scope->name);
            s_put_bytes (writer, "prefix", scope->key);
            break;
        case SCOPE_KEY:
            zstore_write_map (writer, 2);
            s_put_bytes (writer, "group", scope->name);
            s_put_bytes (writer, "key", scope->key);
            break;
    }
}

//  --- Receiving -----------------------------------------------------------

typedef struct {
    char kind;                      //  'd', 'h', 'b', 'n' or 's'
    event_t event;                  //  'd'
    zstore_control_body_t control;  //  the others
    char name [NAME_CAP];           //  a beacon's group or namespace, a marker's token
    size_t name_size;
} message_t;

//  The map must have each of these fields as an unsigned integer.
static void
s_require (const msgpack_object *map, const char *const *names, size_t count,
           const char *what)
{
    for (size_t index = 0; index < count && names [index]; index++) {
        zstore_fields_t fields;
        zstore_fields_init (&fields, map);
        uint64_t value;
        if (!zstore_fields_uint (&fields, names [index], &value))
            fail_msg ("%s: %s", what, fields.error);
    }
}

//  The name inside a beacon topic: class byte, E(name), then terminator.
static void
s_beacon_name (message_t *message, const zstore_buffer_t *topic, char terminator)
{
    if (topic->size < 2 || topic->data [topic->size - 1] != terminator)
        fail_msg ("beacon topic of class '%c' does not end with its terminator", message->kind);
    zstore_buffer_t name;
    zstore_buffer_init (&name);
    assert_int_equal (zstore_topic_unescape (&name, topic->data + 1, topic->size - 2), 0);
    s_copy_name (message->name, &message->name_size, name.data, name.size);
    zstore_buffer_free (&name);
}

//  Receives one message within timeout ms (false on timeout) and checks its
//  form: a data event's topic is the oracle's topic of its body; control
//  bodies have their fields.
static bool
s_receive (zsock_t *sub, int timeout_ms, message_t *message)
{
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    zstore_reader_t *body = broker_receive (sub, &topic, timeout_ms);
    if (!body) {
        zstore_buffer_free (&topic);
        return false;
    }
    memset (message, 0, sizeof *message);
    assert_true (topic.size > 0);
    message->kind = topic.data [0];
    const msgpack_object *root = zstore_reader_root (body);
    zstore_fields_t fields;
    static const char *const sequences [] = { "epoch", "seq", "gseq", "nseq" };
    static const char *const heartbeat [] = { "epoch", "seq", "rev", "ts" };
    static const char *const beacon [] = { "epoch", "gseq", "rev", NULL };
    static const char *const ns_beacon [] = { "epoch", "nseq", "rev", NULL };
    static const char *const marker [] = { "epoch", "seq", "rev", NULL };
    if (message->kind == ZSTORE_TOPIC_DATA) {
        zstore_event_body_t event;
        if (!zstore_event_body_read (root, &event, &fields))
            fail_msg ("event body: %s", fields.error);
        s_require (root, sequences, 4, "event body");
        s_event_from_body (&message->event, &event);
        zstore_buffer_t expected;
        zstore_buffer_init (&expected);
        s_oracle_topic (&expected, &message->event);
        if (expected.size != topic.size || memcmp (expected.data, topic.data, topic.size)) {
            char got [512], wanted [512], text [512];
            fail_msg ("topic \"%s\" of %s should be \"%s\"",
                      s_printable (topic.data, topic.size, got, sizeof got),
                      s_describe (&message->event, text, sizeof text),
                      s_printable (expected.data, expected.size, wanted, sizeof wanted));
        }
        zstore_buffer_free (&expected);
    }
    else {
        if (!zstore_control_body_read (root, &message->control, &fields))
            fail_msg ("control body: %s", fields.error);
        if (message->kind == ZSTORE_TOPIC_HEARTBEAT) {
            assert_int_equal (topic.size, 1);
            s_require (root, heartbeat, 4, "heartbeat");
        }
        else
        if (message->kind == ZSTORE_TOPIC_BEACON) {
            s_require (root, beacon, 4, "group beacon");
            s_beacon_name (message, &topic, 0);
        }
        else
        if (message->kind == ZSTORE_TOPIC_NAMESPACE) {
            s_require (root, ns_beacon, 4, "namespace beacon");
            s_beacon_name (message, &topic, ':');
        }
        else
        if (message->kind == ZSTORE_TOPIC_SYNC) {
            s_require (root, marker, 4, "sync marker");
            s_copy_name (message->name, &message->name_size, topic.data + 1, topic.size - 1);
        }
        else
            fail_msg ("a message of unknown class 0x%02x", (unsigned char) message->kind);
    }
    zstore_reader_destroy (&body);
    zstore_buffer_free (&topic);
    return true;
}

//  The next message must be a data event, within TIMEOUT.
static void
s_receive_event (zsock_t *sub, event_t *event, const char *who)
{
    message_t message;
    if (!s_receive (sub, TIMEOUT, &message))
        fail_msg ("%s: no event within %d ms", who, TIMEOUT);
    if (message.kind != ZSTORE_TOPIC_DATA)
        fail_msg ("%s: a '%c' message where an event was due", who, message.kind);
    *event = message.event;
}

//  None of the sockets gets anything for QUIET ms.
static void
s_assert_silent (zsock_t **subs, size_t count, const char *what)
{
    zpoller_t *poller = zpoller_new (NULL);
    for (size_t index = 0; index < count; index++)
        zpoller_add (poller, subs [index]);
    zsock_t *ready = zpoller_wait (poller, QUIET);
    zpoller_destroy (&poller);
    if (!ready)
        return;
    size_t which = 0;
    while (subs [which] != ready)
        which++;
    message_t message;
    assert_true (s_receive (ready, 0, &message));
    char text [512] = "";
    if (message.kind == ZSTORE_TOPIC_DATA)
        s_describe (&message.event, text, sizeof text);
    fail_msg ("%s %zu received an extra '%c' message %s", what, which, message.kind, text);
}

//  Receives until a heartbeat with this seq arrives (earlier messages are
//  dropped); returns it.
static message_t
s_await_heartbeat (zsock_t *sub, uint64_t seq)
{
    int64_t deadline = zclock_mono () + TIMEOUT;
    message_t message;
    while (zclock_mono () < deadline) {
        if (s_receive (sub, 100, &message) && message.kind == ZSTORE_TOPIC_HEARTBEAT
        &&  message.control.seq == seq)
            return message;
    }
    fail_msg ("no heartbeat with seq %llu within %d ms", (unsigned long long) seq, TIMEOUT);
    return message;
}

//  --- Logged changes: each records the events it must publish ----------------

static void
s_log_set (fixture_t *fixture, events_t *log, zstore_bytes_t group, zstore_bytes_t key)
{
    uint64_t revision = s_set (fixture, NULL, group, key, LIT ("value"));
    s_expect (log, "set", group, key, revision);
}

static void
s_log_delete (fixture_t *fixture, events_t *log, zstore_bytes_t group, zstore_bytes_t key)
{
    uint64_t revision = s_delete (fixture, NULL, group, key);
    assert_true (revision > 0);
    s_expect (log, "delete", group, key, revision);
}

static void
s_log_delete_group (fixture_t *fixture, events_t *log, zstore_bytes_t group)
{
    uint64_t revision = s_delete_group (fixture, NULL, group);
    assert_true (revision > 0);
    s_expect (log, "delete_group", group, LIT (""), revision);
}

//  An already-expired write, then a get that finds it expired.
static void
s_log_expire (fixture_t *fixture, events_t *log, zstore_bytes_t group, zstore_bytes_t key)
{
    uint64_t revision = s_set_ttl (fixture, group, key, LIT ("gone"), 0);
    s_expect (log, "set", group, key, revision);
    assert_int_equal (s_get (fixture, group, key), ZSTORE_STATUS_NOT_FOUND);
    s_expect (log, "expire", group, key, revision + 1);
}

//  Events of each scope, in order, exactly.
static void
s_assert_scope_events (zsock_t *sub, const scope_t *scope, const events_t *log)
{
    char who [512];
    s_scope_text (scope, who, sizeof who);
    size_t position = 0;
    for (size_t index = 0; index < log->size; index++) {
        if (!s_scope_watches (scope, &log->items [index]))
            continue;
        event_t event;
        s_receive_event (sub, &event, who);
        s_assert_same_change (&event, &log->items [index], who, position++);
    }
}

//  --- 1. Topic isolation ------------------------------------------------------

static const scope_t s_isolation_scopes [] = {
    { SCOPE_KEY, B ("orders"), B ("user-1") },
    { SCOPE_KEY, B ("g\0x"), B ("\x01") },
    { SCOPE_KEY, B (""), B ("") },
    { SCOPE_GROUP, B ("orders"), B ("") },
    { SCOPE_GROUP, B (""), B ("") },
    { SCOPE_GROUP, B ("\0"), B ("") },
    { SCOPE_GROUP, B ("a"), B ("") },
    { SCOPE_GROUP, B ("g:x/y"), B ("") },
    { SCOPE_NS, B ("tenant-a"), B ("") },
    { SCOPE_PREFIX, B ("orders"), B ("user-1") },
    { SCOPE_PREFIX, B ("g\0x"), B ("\x01") },
    { SCOPE_PREFIX, B ("\xff"), B ("") },
    { SCOPE_ALL, B (""), B ("") },
};

#define ISOLATION_SCOPES (sizeof s_isolation_scopes / sizeof s_isolation_scopes [0])

//  Names that differ from the watched ones by one byte, a NUL, an escape,
//  a case, a ':' or a prefix.
static void
s_isolation_changes (fixture_t *fixture, events_t *log)
{
    s_log_set (fixture, log, LIT ("orders"), LIT ("user-1"));
    s_log_set (fixture, log, LIT ("orders"), LIT ("user-10"));
    s_log_set (fixture, log, LIT ("orders"), LIT ("user-1\0"));
    s_log_set (fixture, log, LIT ("orders"), LIT ("user-2"));
    s_log_set (fixture, log, LIT ("orders"), LIT (""));
    s_log_set (fixture, log, LIT ("orders2"), LIT ("user-1"));
    s_log_set (fixture, log, LIT ("orders\0"), LIT ("user-1"));
    s_log_set (fixture, log, LIT ("order"), LIT ("user-1"));
    s_log_set (fixture, log, LIT ("tenant-a:orders"), LIT ("a:b/c"));
    uint64_t revision = s_set (fixture, "tenant-a", LIT ("orders"), LIT ("via-ns"), LIT ("v"));
    s_expect (log, "set", LIT ("tenant-a:orders"), LIT ("via-ns"), revision);
    s_log_set (fixture, log, LIT ("tenant-ab:orders"), LIT ("k"));
    s_log_set (fixture, log, LIT ("Tenant-A:orders"), LIT ("k"));
    s_log_set (fixture, log, LIT ("tenant-a"), LIT ("k"));
    s_log_set (fixture, log, LIT ("tenant-a:"), LIT (""));
    s_log_set (fixture, log, LIT ("tenant-a:x:y"), LIT ("k"));
    s_log_set (fixture, log, LIT (":tenant-a:"), LIT ("k"));
    s_log_set (fixture, log, LIT (""), LIT (""));
    s_log_set (fixture, log, LIT (""), LIT ("k"));
    s_log_set (fixture, log, LIT ("\0"), LIT ("\x01"));
    s_log_set (fixture, log, LIT ("\x01"), LIT ("\0"));
    s_log_set (fixture, log, LIT ("g\0x"), LIT ("\x01"));
    s_log_set (fixture, log, LIT ("g\0x"), LIT ("\x01\x02"));
    s_log_set (fixture, log, LIT ("g\0x"), LIT ("\x02"));
    s_log_set (fixture, log, LIT ("g\0x"), LIT ("\0"));
    s_log_set (fixture, log, LIT ("g\x01x"), LIT ("\x01"));
    s_log_set (fixture, log, LIT ("g\0"), LIT ("x\x01"));
    s_log_set (fixture, log, LIT ("a"), LIT ("k"));
    s_log_set (fixture, log, LIT ("a\0b"), LIT ("k"));
    s_log_set (fixture, log, LIT ("a\x01"), LIT ("k"));
    s_log_set (fixture, log, LIT ("a\x02"), LIT ("\xff"));
    s_log_set (fixture, log, LIT ("a:"), LIT ("k"));
    s_log_set (fixture, log, LIT ("\xff"), LIT ("\0"));
    s_log_set (fixture, log, LIT ("\xff\xff"), LIT ("k"));
    s_log_set (fixture, log, LIT ("g:x/y"), LIT ("k:/\0"));
    s_log_set (fixture, log, LIT ("g:x/"), LIT ("y"));
    s_log_delete (fixture, log, LIT ("orders"), LIT ("user-10"));
    s_log_delete (fixture, log, LIT ("g\0x"), LIT ("\x02"));
    revision = s_delete (fixture, "tenant-a", LIT ("orders"), LIT ("via-ns"));
    s_expect (log, "delete", LIT ("tenant-a:orders"), LIT ("via-ns"), revision);
    s_log_expire (fixture, log, LIT ("orders"), LIT ("user-2"));
    s_log_expire (fixture, log, LIT ("g\0x"), LIT ("\x01\x02"));
    s_log_expire (fixture, log, LIT ("\xff"), LIT ("\xff"));
    s_log_delete_group (fixture, log, LIT ("orders2"));
    s_log_delete_group (fixture, log, LIT (""));
    s_log_delete_group (fixture, log, LIT ("\0"));
    s_log_delete_group (fixture, log, LIT ("orders"));
    revision = s_delete_group (fixture, "tenant-a", LIT ("orders"));
    s_expect (log, "delete_group", LIT ("tenant-a:orders"), LIT (""), revision);
    //  Last, a transaction touching every scope: its events share a revision.
    txn_op_t ops [] = {
        { "set", B ("orders"), B ("user-1"), B ("again"), false, 0 },
        { "set", B ("g\0x"), B ("\x01"), B ("again"), false, 0 },
        { "set", B (""), B (""), B ("again"), false, 0 },
        { "set", B ("\0"), B ("\x01"), B ("again"), false, 0 },
        { "delete", B ("a"), B ("k"), B (""), false, 0 },
        { "set", B ("g:x/y"), B ("z"), B ("again"), false, 0 },
        { "set", B ("tenant-a:orders"), B ("fence"), B ("again"), false, 0 },
        { "set", B ("\xff"), B ("fence"), B ("again"), false, 0 },
    };
    revision = s_txn (fixture, ops, sizeof ops / sizeof ops [0]);
    for (size_t index = 0; index < sizeof ops / sizeof ops [0]; index++)
        s_expect (log, ops [index].op, ops [index].group, ops [index].key, revision);
}

static void
test_events_topic_isolation (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    heartbeat = 20\n");
    zsock_t *subs [ISOLATION_SCOPES];
    zstore_buffer_t prefix, codec;
    zstore_buffer_init (&prefix);
    zstore_buffer_init (&codec);
    for (size_t index = 0; index < ISOLATION_SCOPES; index++) {
        s_oracle_prefix (&prefix, &s_isolation_scopes [index]);
        s_codec_prefix (&codec, &s_isolation_scopes [index]);
        assert_int_equal (codec.size, prefix.size);
        assert_memory_equal (codec.data, prefix.data, prefix.size);
        subs [index] = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    }
    //  Control traffic flows meanwhile: heartbeats and beacons every 20 ms,
    //  and these handshakes put sync markers on the socket.
    zsock_t *control = broker_subscriber (fixture->broker, "h", 1);
    broker_subscribe (control, "b", 1);
    broker_subscribe (control, "n", 1);

    events_t log = { 0 };
    s_isolation_changes (fixture, &log);
    for (size_t index = 0; index < ISOLATION_SCOPES; index++)
        s_assert_scope_events (subs [index], &s_isolation_scopes [index], &log);

    //  Every scope had something to see, and some scopes missed some.
    for (size_t index = 0; index < ISOLATION_SCOPES; index++) {
        size_t watched = 0;
        for (size_t position = 0; position < log.size; position++)
            watched += s_scope_watches (&s_isolation_scopes [index], &log.items [position]);
        assert_true (watched > 0);
        assert_true (s_isolation_scopes [index].kind == SCOPE_ALL || watched < log.size);
    }
    //  Once a heartbeat after the last change is out, beacons too have been
    //  sent: none of them, nor anything else, reaches a data subscriber.
    message_t heartbeat = s_await_heartbeat (control, log.size);
    assert_int_equal (heartbeat.control.rev, log.items [log.size - 1].rev);
    assert_int_equal (heartbeat.control.epoch, fixture->broker->epoch);
    s_await_heartbeat (control, log.size);
    s_assert_silent (subs, ISOLATION_SCOPES, "data subscriber");

    for (size_t index = 0; index < ISOLATION_SCOPES; index++)
        zsock_destroy (&subs [index]);
    zsock_destroy (&control);
    zstore_buffer_free (&prefix);
    zstore_buffer_free (&codec);
    s_events_free (&log);
}

//  Control subscribers do get beacons for adversarial names, with the name
//  escaped in the topic.
static void
test_events_beacon_topics_escape_names (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    heartbeat = 20\n");
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    zstore_buffer_append (&prefix, "b", 1);
    s_escape (&prefix, "g\0x", 3);
    s_append_nul (&prefix);
    zsock_t *group = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    zsock_t *ns = broker_subscriber (fixture->broker, "ntenant-a:", 10);
    s_set (fixture, NULL, LIT ("g\0"), LIT ("k"), LIT ("v"));          //  not "g\0x"
    s_set (fixture, NULL, LIT ("tenant-ab:x"), LIT ("k"), LIT ("v"));  //  not tenant-a
    uint64_t first = s_set (fixture, NULL, LIT ("g\0x"), LIT ("k"), LIT ("v"));
    uint64_t second = s_set (fixture, NULL, LIT ("tenant-a:x"), LIT ("k"), LIT ("v"));
    message_t message;
    assert_true (s_receive (group, TIMEOUT, &message));
    assert_int_equal (message.kind, ZSTORE_TOPIC_BEACON);
    assert_true (s_equal (message.name, message.name_size, LIT ("g\0x")));
    assert_int_equal (message.control.gseq, 1);
    assert_int_equal (message.control.rev, first);
    assert_int_equal (message.control.epoch, fixture->broker->epoch);
    assert_true (s_receive (ns, TIMEOUT, &message));
    assert_int_equal (message.kind, ZSTORE_TOPIC_NAMESPACE);
    assert_true (s_equal (message.name, message.name_size, LIT ("tenant-a")));
    assert_int_equal (message.control.nseq, 1);
    assert_int_equal (message.control.rev, second);
    //  No change since: no more beacons.
    zsock_t *both [] = { group, ns };
    s_assert_silent (both, 2, "beacon subscriber");
    zsock_destroy (&group);
    zsock_destroy (&ns);
    zstore_buffer_free (&prefix);
}

//  --- 2. Late joiners -----------------------------------------------------------

#define LATE_TRIALS 200

static void
test_events_late_joiner_gets_first_event (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, NULL);
    const scope_t scope = { SCOPE_GROUP, B ("late"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    int missed = 0, trials = 0;
    for (; trials < LATE_TRIALS && missed < 5; trials++) {
        zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
        char key [16];
        snprintf (key, sizeof key, "k%03d", trials);
        uint64_t revision = s_set (fixture, NULL, LIT ("late"), zstore_bytes (key, strlen (key)),
                                   LIT ("v"));
        message_t message;
        if (s_receive (sub, 1000, &message)) {
            assert_int_equal (message.kind, ZSTORE_TOPIC_DATA);
            event_t expected = { .type = "set", .group = "late", .group_size = 4,
                                 .key_size = strlen (key), .rev = revision };
            memcpy (expected.key, key, strlen (key));
            s_assert_same_change (&message.event, &expected, "late joiner", 0);
        }
        else
            missed++;
        zsock_destroy (&sub);
    }
    if (missed)
        fail_msg ("%d of %d late joiners missed the first event after their handshake", missed,
                  trials);
    zstore_buffer_free (&prefix);
}

//  While nobody subscribes, events are neither built nor sent (stats
//  'events' stays 0, with heartbeats an hour apart), but their sequences go
//  on: the first event a later subscriber gets carries seq and gseq 6.
static void
test_events_unheard_are_counted_not_sent (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    heartbeat = 3600000\n");
    for (int index = 0; index < 5; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", index);
        s_set (fixture, NULL, LIT ("quiet"), zstore_bytes (key, strlen (key)), LIT ("v"));
    }
    assert_int_equal (s_stats_uint (fixture, "events"), 0);
    const scope_t scope = { SCOPE_GROUP, B ("quiet"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    s_set (fixture, NULL, LIT ("quiet"), LIT ("heard"), LIT ("v"));
    event_t event;
    s_receive_event (sub, &event, "the first subscriber");
    assert_int_equal (event.key_size, 5);
    assert_memory_equal (event.key, "heard", 5);
    assert_int_equal (event.seq, 6);
    assert_int_equal (event.gseq, 6);
    zsock_destroy (&sub);
    zstore_buffer_free (&prefix);
}

//  The handshake's marker comes on exactly the token's topic and tells
//  where the stream stands: epoch, the last seq, the revision.
static void
test_events_sync_marker_reports_position (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, NULL);
    for (int index = 0; index < 3; index++)
        s_set (fixture, NULL, LIT ("m"), LIT ("k"), LIT ("v"));
    s_txn (fixture, (txn_op_t []) { { "set", B ("m"), B ("a"), B ("v"), false, 0 },
                                    { "set", B ("m"), B ("b"), B ("v"), false, 0 } }, 2);
    zsock_t *sub = zsock_new_sub (fixture->broker->events, NULL);
    assert_non_null (sub);
    const char token [] = "s\0token\x01\xff-1";
    assert_int_equal (zmq_setsockopt (zsock_resolve (sub), ZMQ_SUBSCRIBE, token,
                                      sizeof token - 1), 0);
    message_t message;
    assert_true (s_receive (sub, TIMEOUT, &message));
    assert_int_equal (message.kind, ZSTORE_TOPIC_SYNC);
    assert_true (s_equal (message.name, message.name_size, zstore_bytes (token + 1,
                                                                         sizeof token - 2)));
    assert_int_equal (message.control.epoch, fixture->broker->epoch);
    assert_int_equal (message.control.seq, 5);
    assert_int_equal (message.control.rev, 4);
    //  One marker per subscription; another subscriber of the same token
    //  gets its own.
    s_assert_silent (&sub, 1, "token subscriber");
    zsock_t *other = zsock_new_sub (fixture->broker->events, NULL);
    assert_int_equal (zmq_setsockopt (zsock_resolve (other), ZMQ_SUBSCRIBE, token,
                                      sizeof token - 1), 0);
    assert_true (s_receive (other, TIMEOUT, &message));
    assert_int_equal (message.kind, ZSTORE_TOPIC_SYNC);
    zsock_destroy (&other);
    zsock_destroy (&sub);
}

//  --- 3. Sequences, heartbeats, beacons ---------------------------------------

#define COUNTERS_MAX 64

typedef struct {
    char name [NAME_CAP];
    size_t size;
    bool is_namespace;
    uint64_t sequence;              //  events this epoch
    uint64_t revision;              //  of the latest
    bool dirty;                     //  events since the last heartbeat
    uint64_t beaconed;              //  sequence in the latest beacon
} counter_t;

//  What a subscriber of everything and every control class must see.
typedef struct {
    uint64_t epoch;
    uint64_t seq, rev, idx, n;      //  of the last event
    counter_t counters [COUNTERS_MAX];
    size_t counter_count;
    size_t dirty [COUNTERS_MAX];    //  counters with events since the last tick, in order
    size_t dirty_count;
    size_t pending [COUNTERS_MAX];  //  beacons the last heartbeat's tick owes
    size_t pending_count, pending_next;
    size_t heartbeats, beacons;
    events_t events;
} model_t;

static size_t
s_model_counter (model_t *model, const char *name, size_t size, bool is_namespace)
{
    for (size_t index = 0; index < model->counter_count; index++) {
        counter_t *counter = &model->counters [index];
        if (counter->is_namespace == is_namespace
        &&  s_equal (counter->name, counter->size, zstore_bytes (name, size)))
            return index;
    }
    assert_true (model->counter_count < COUNTERS_MAX);
    counter_t *counter = &model->counters [model->counter_count];
    memset (counter, 0, sizeof *counter);
    s_copy_name (counter->name, &counter->size, name, size);
    counter->is_namespace = is_namespace;
    return model->counter_count++;
}

static uint64_t
s_model_bump (model_t *model, size_t index, uint64_t revision)
{
    counter_t *counter = &model->counters [index];
    counter->sequence++;
    counter->revision = revision;
    if (!counter->dirty) {
        counter->dirty = true;
        model->dirty [model->dirty_count++] = index;
    }
    return counter->sequence;
}

static void
s_model_event (model_t *model, const event_t *event)
{
    char text [512];
    s_describe (event, text, sizeof text);
    if (model->pending_next < model->pending_count)
        fail_msg ("%s arrived before the tick's beacons", text);
    assert_int_equal (event->epoch, model->epoch);
    if (event->seq != model->seq + 1)
        fail_msg ("%s: seq %llu after %llu", text, (unsigned long long) event->seq,
                  (unsigned long long) model->seq);
    if (model->seq > 0 && event->rev == model->rev) {
        assert_int_equal (event->idx, model->idx + 1);
        assert_int_equal (event->n, model->n);
    }
    else {
        //  A new change: the previous one was whole, and revisions step by one.
        assert_true (model->seq == 0 || model->idx + 1 == model->n);
        assert_int_equal (event->rev, model->rev + 1);
        assert_int_equal (event->idx, 0);
    }
    assert_true (event->idx < event->n);
    size_t group = s_model_counter (model, event->group, event->group_size, false);
    if (event->gseq != s_model_bump (model, group, event->rev))
        fail_msg ("%s: gseq %llu, expected %llu", text, (unsigned long long) event->gseq,
                  (unsigned long long) model->counters [group].sequence);
    size_t ns_size = zstore_group_namespace_size (event->group, event->group_size);
    size_t ns = s_model_counter (model, event->group, ns_size, true);
    if (event->nseq != s_model_bump (model, ns, event->rev))
        fail_msg ("%s: nseq %llu, expected %llu", text, (unsigned long long) event->nseq,
                  (unsigned long long) model->counters [ns].sequence);
    model->seq = event->seq;
    model->rev = event->rev;
    model->idx = event->idx;
    model->n = event->n;
    *s_events_push (&model->events) = *event;
}

static void
s_model_apply (model_t *model, const message_t *message)
{
    if (message->kind == ZSTORE_TOPIC_DATA) {
        s_model_event (model, &message->event);
        return;
    }
    const zstore_control_body_t *body = &message->control;
    assert_int_equal (body->epoch, model->epoch);
    if (message->kind == ZSTORE_TOPIC_HEARTBEAT) {
        if (model->pending_next < model->pending_count)
            fail_msg ("heartbeat before the previous tick's %zu beacons",
                      model->pending_count - model->pending_next);
        assert_int_equal (body->seq, model->seq);
        assert_int_equal (body->rev, model->rev);
        assert_true (model->seq == 0 || model->idx + 1 == model->n);
        //  This tick owes a beacon to each group and namespace with events
        //  since the previous one, in the order they first had one.
        memcpy (model->pending, model->dirty, model->dirty_count * sizeof (size_t));
        model->pending_count = model->dirty_count;
        model->pending_next = 0;
        for (size_t index = 0; index < model->dirty_count; index++)
            model->counters [model->dirty [index]].dirty = false;
        model->dirty_count = 0;
        model->heartbeats++;
        return;
    }
    if (message->kind != ZSTORE_TOPIC_BEACON && message->kind != ZSTORE_TOPIC_NAMESPACE)
        fail_msg ("unexpected '%c' message", message->kind);
    char name [NAME_CAP * 4 + 1];
    s_printable (message->name, message->name_size, name, sizeof name);
    if (model->pending_next == model->pending_count)
        fail_msg ("beacon '%c' \"%s\" that no heartbeat announced", message->kind, name);
    counter_t *counter = &model->counters [model->pending [model->pending_next++]];
    bool is_namespace = message->kind == ZSTORE_TOPIC_NAMESPACE;
    if (counter->is_namespace != is_namespace
    ||  !s_equal (counter->name, counter->size, zstore_bytes (message->name, message->name_size)))
        fail_msg ("beacon '%c' \"%s\" out of order or unexpected", message->kind, name);
    uint64_t sequence = is_namespace ? body->nseq : body->gseq;
    if (sequence != counter->sequence || body->rev != counter->revision)
        fail_msg ("beacon '%c' \"%s\": sequence %llu rev %llu, expected %llu rev %llu",
                  message->kind, name, (unsigned long long) sequence,
                  (unsigned long long) body->rev, (unsigned long long) counter->sequence,
                  (unsigned long long) counter->revision);
    counter->beaconed = sequence;
    model->beacons++;
}

//  Applies whatever has arrived.
static void
s_model_drain (zsock_t *sub, model_t *model)
{
    message_t message;
    while (s_receive (sub, 0, &message))
        s_model_apply (model, &message);
}

//  Applies messages until the model has seen this many heartbeats.
static void
s_model_await_heartbeats (zsock_t *sub, model_t *model, size_t heartbeats)
{
    int64_t deadline = zclock_mono () + TIMEOUT;
    message_t message;
    while (model->heartbeats < heartbeats && zclock_mono () < deadline)
        if (s_receive (sub, 100, &message))
            s_model_apply (model, &message);
    assert_true (model->heartbeats >= heartbeats);
}

static void
s_model_await_seq (zsock_t *sub, model_t *model, uint64_t seq)
{
    int64_t deadline = zclock_mono () + TIMEOUT;
    message_t message;
    while (model->seq < seq && zclock_mono () < deadline)
        if (s_receive (sub, 100, &message))
            s_model_apply (model, &message);
    assert_int_equal (model->seq, seq);
}

static void
test_events_sequences_heartbeats_beacons (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    heartbeat = 30\n");
    zsock_t *sub = broker_subscriber (fixture->broker, "d", 1);
    broker_subscribe (sub, "h", 1);
    broker_subscribe (sub, "b", 1);
    broker_subscribe (sub, "n", 1);
    model_t *model = calloc (1, sizeof (model_t));
    assert_non_null (model);
    model->epoch = fixture->broker->epoch;
    model->rev = fixture->broker->revision;
    s_model_await_heartbeats (sub, model, 1);          //  before any event: seq 0

    events_t log = { 0 };
    s_log_set (fixture, &log, LIT ("alpha"), LIT ("k1"));
    s_log_set (fixture, &log, LIT ("beta"), LIT ("k1"));
    s_log_set (fixture, &log, LIT ("tenant-a:x"), LIT ("k"));
    s_log_set (fixture, &log, LIT ("tenant-a:y"), LIT ("k"));
    s_log_set (fixture, &log, LIT ("tenant-b:x"), LIT ("k"));
    s_log_set (fixture, &log, LIT (""), LIT ("k"));
    s_log_set (fixture, &log, LIT (":lead"), LIT ("k"));     //  namespace ""
    s_log_set (fixture, &log, LIT ("x:"), LIT ("k"));
    s_log_set (fixture, &log, LIT ("n\0s:g"), LIT ("k"));    //  namespace "n\0s"
    uint64_t revision = s_set (fixture, "tenant-a", LIT ("z"), LIT ("k"), LIT ("v"));
    s_expect (&log, "set", LIT ("tenant-a:z"), LIT ("k"), revision);
    s_model_drain (sub, model);
    txn_op_t ops [] = {
        { "set", B ("alpha"), B ("t1"), B ("v"), false, 0 },
        { "set", B ("tenant-a:x"), B ("t2"), B ("v"), false, 0 },
        { "delete", B ("beta"), B ("k1"), B (""), false, 0 },
        { "set", B ("gamma"), B ("t3"), B ("v"), false, 0 },
    };
    uint64_t txn_revision = s_txn (fixture, ops, 4);
    for (size_t index = 0; index < 4; index++)
        s_expect (&log, ops [index].op, ops [index].group, ops [index].key, txn_revision);
    uint64_t prefix_revision = s_delete_prefix (fixture, LIT ("tenant-a:"));
    s_expect (&log, "delete_group", LIT ("tenant-a:x"), LIT (""), prefix_revision);
    s_expect (&log, "delete_group", LIT ("tenant-a:y"), LIT (""), prefix_revision);
    s_expect (&log, "delete_group", LIT ("tenant-a:z"), LIT (""), prefix_revision);
    for (int round = 0; round < 30; round++) {
        char key [16];
        snprintf (key, sizeof key, "r%02d", round);
        zstore_bytes_t bytes = zstore_bytes (key, strlen (key));
        s_log_set (fixture, &log, LIT ("alpha"), bytes);
        s_log_set (fixture, &log, LIT ("tenant-b:x"), bytes);
        if (round % 3 == 0)
            s_log_set (fixture, &log, round % 2 ? LIT ("tenant-a:y") : LIT ("delta"), bytes);
        s_model_drain (sub, model);
        if (round % 10 == 9)        //  a tick in the middle of the run
            s_model_await_heartbeats (sub, model, model->heartbeats + 1);
    }
    s_model_await_seq (sub, model, log.size);
    //  The next heartbeat follows every event; the one after it follows
    //  every beacon of its tick.
    s_model_await_heartbeats (sub, model, model->heartbeats + 2);

    assert_int_equal (model->events.size, log.size);
    for (size_t index = 0; index < log.size; index++)
        s_assert_same_change (&model->events.items [index], &log.items [index], "everything",
                              index);
    for (size_t index = 0; index < log.size; index++) {
        const event_t *event = &model->events.items [index];
        if (event->rev == txn_revision)
            assert_int_equal (event->n, 4);
        else
        if (event->rev == prefix_revision)
            assert_int_equal (event->n, 3);
        else
            assert_int_equal (event->n, 1);
    }
    //  Every group and namespace's latest beacon has its latest sequence.
    for (size_t index = 0; index < model->counter_count; index++) {
        const counter_t *counter = &model->counters [index];
        char name [NAME_CAP * 4 + 1];
        if (counter->dirty || counter->beaconed != counter->sequence)
            fail_msg ("%s \"%s\": beaconed %llu of %llu", counter->is_namespace ? "namespace"
                      : "group", s_printable (counter->name, counter->size, name, sizeof name),
                      (unsigned long long) counter->beaconed,
                      (unsigned long long) counter->sequence);
    }
    assert_true (model->heartbeats >= 6);
    assert_true (model->beacons >= model->counter_count);
    s_events_free (&model->events);
    free (model);
    s_events_free (&log);
    zsock_destroy (&sub);
}

//  --- 4. Expire events ----------------------------------------------------------

//  The background purge removes already-expired keys in steps of
//  purge-chunk rows, each step one change.
static void
test_events_purge_emits_expire (void **state)
{
    fixture_t *fixture = *state;
    //  A budget no step exceeds: the steps are purge-chunk rows each.
    s_start (fixture, "timers\n    purge-interval = 20\n    purge-chunk = 3\n"
                      "    purge-budget = 60000\n");
    const scope_t scope = { SCOPE_GROUP, B ("purge"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    //  Seven expired keys (ttl 0 and negative) and a live one.
    txn_op_t ops [8];
    char keys [8] [8];
    for (int index = 0; index < 8; index++) {
        snprintf (keys [index], sizeof keys [index], index < 7 ? "p%d" : "live", index);
        ops [index] = (txn_op_t) { "set", B ("purge"), zstore_bytes (keys [index],
                                   strlen (keys [index])), B ("v"), index < 7,
                                   index % 2 ? -1000 : 0 };
    }
    uint64_t revision = s_txn (fixture, ops, 8);
    for (int index = 0; index < 8; index++) {
        event_t event;
        s_receive_event (sub, &event, "purge group");
        assert_string_equal (event.type, "set");
        assert_int_equal (event.rev, revision);
        assert_int_equal (event.idx, index);
        assert_int_equal (event.n, 8);
        assert_true (s_equal (event.key, event.key_size, ops [index].key));
        if (index < 7)
            assert_true (event.expires_at > 0 && event.expires_at <= event.ts);
        else
            assert_int_equal (event.expires_at, 0);
    }
    //  Three steps: 3, 3 and 1 rows, revisions following the txn's.
    bool seen [7] = { false };
    const uint64_t step_sizes [] = { 3, 3, 1 };
    for (size_t step = 0; step < 3; step++) {
        for (uint64_t index = 0; index < step_sizes [step]; index++) {
            event_t event;
            s_receive_event (sub, &event, "purge group");
            assert_string_equal (event.type, "expire");
            assert_int_equal (event.rev, revision + 1 + step);
            assert_int_equal (event.idx, index);
            assert_int_equal (event.n, step_sizes [step]);
            assert_int_equal (event.prev_rev, revision);
            assert_int_equal (event.value_size, 0);
            assert_int_equal (event.expires_at, 0);
            assert_true (event.key_size == 2 && event.key [0] == 'p');
            int which = event.key [1] - '0';
            assert_true (which >= 0 && which < 7 && !seen [which]);
            seen [which] = true;
        }
    }
    assert_int_equal (s_get (fixture, LIT ("purge"), LIT ("p0")), ZSTORE_STATUS_NOT_FOUND);
    assert_true (s_exists (fixture, LIT ("purge"), LIT ("live")));
    //  Later purges find nothing: no more events.
    s_assert_silent (&sub, 1, "purge subscriber");
    assert_int_equal (s_ping (fixture), revision + 3);
    zsock_destroy (&sub);
    zstore_buffer_free (&prefix);
}

//  A get that finds a key expired removes it: one expire event. exists is
//  a pure read. Overwriting an expired key ends its life first.
static void
test_events_get_emits_expire (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    purge-interval = 86400000\n");
    const scope_t scope = { SCOPE_GROUP, B ("lazy"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);

    uint64_t revision = s_set_ttl (fixture, LIT ("lazy"), LIT ("k"), LIT ("v"), 0);
    event_t set;
    s_receive_event (sub, &set, "lazy group");
    assert_string_equal (set.type, "set");
    assert_int_equal (set.rev, revision);
    assert_true (set.expires_at > 0 && set.expires_at <= set.ts);
    assert_false (s_exists (fixture, LIT ("lazy"), LIT ("k")));
    assert_int_equal (s_get (fixture, LIT ("lazy"), LIT ("k")), ZSTORE_STATUS_NOT_FOUND);
    event_t expire;
    s_receive_event (sub, &expire, "lazy group");
    assert_string_equal (expire.type, "expire");
    assert_true (s_equal (expire.key, expire.key_size, LIT ("k")));
    assert_int_equal (expire.rev, revision + 1);
    assert_int_equal (expire.prev_rev, revision);
    assert_int_equal (expire.idx, 0);
    assert_int_equal (expire.n, 1);
    assert_int_equal (expire.seq, set.seq + 1);
    assert_int_equal (expire.gseq, set.gseq + 1);
    //  Gone now: another get changes nothing.
    assert_int_equal (s_get (fixture, LIT ("lazy"), LIT ("k")), ZSTORE_STATUS_NOT_FOUND);
    assert_int_equal (s_ping (fixture), revision + 1);

    //  Overwriting an expired key: its expiry, then a set of a new key.
    uint64_t second = s_set_ttl (fixture, LIT ("lazy"), LIT ("k2"), LIT ("v"), -5);
    event_t ignored;
    s_receive_event (sub, &ignored, "lazy group");
    uint64_t third = s_set (fixture, NULL, LIT ("lazy"), LIT ("k2"), LIT ("w"));
    event_t first_event, second_event;
    s_receive_event (sub, &first_event, "lazy group");
    s_receive_event (sub, &second_event, "lazy group");
    assert_string_equal (first_event.type, "expire");
    assert_int_equal (first_event.rev, third);
    assert_int_equal (first_event.prev_rev, second);
    assert_int_equal (first_event.idx, 0);
    assert_int_equal (first_event.n, 2);
    assert_string_equal (second_event.type, "set");
    assert_int_equal (second_event.rev, third);
    assert_int_equal (second_event.prev_rev, 0);
    assert_int_equal (second_event.idx, 1);
    assert_int_equal (second_event.expires_at, 0);
    s_assert_silent (&sub, 1, "lazy subscriber");
    zsock_destroy (&sub);
    zstore_buffer_free (&prefix);

    //  PROTOCOL.md 3.3: expires_at is "set with TTL: Unix ms; else 0". The
    //  purge's expire events carry 0; so must the get's.
    if (expire.expires_at != 0)
        fail_msg ("the expire event of a get carries expires_at %llu; PROTOCOL.md 3.3 says 0"
                  " for anything but a set with TTL (the purge's expire events carry 0)",
                  (unsigned long long) expire.expires_at);
}

//  --- 5. Snapshots -----------------------------------------------------------

typedef struct {
    char group [NAME_CAP];
    size_t group_size;
    char key [NAME_CAP];
    size_t key_size;
    char value [NAME_CAP];
    size_t value_size;
    uint64_t create_rev, mod_rev, expires_at;
} item_t;

typedef struct {
    item_t *items;
    size_t size;
    size_t capacity;
} items_t;

static item_t *
s_items_push (items_t *items)
{
    if (items->size == items->capacity) {
        items->capacity = items->capacity ? items->capacity * 2 : 256;
        items->items = realloc (items->items, items->capacity * sizeof (item_t));
        assert_non_null (items->items);
    }
    item_t *item = &items->items [items->size++];
    memset (item, 0, sizeof *item);
    return item;
}

static void
s_items_free (items_t *items)
{
    free (items->items);
    memset (items, 0, sizeof *items);
}

static int
s_item_order (const void *a, const void *b)
{
    const item_t *left = a, *right = b;
    int order = s_compare (left->group, left->group_size, right->group, right->group_size);
    return order ? order : s_compare (left->key, left->key_size, right->key, right->key_size);
}

//  One snapshot page: its items appended, the rest returned.
typedef struct {
    uint64_t snapshot, rev, count;
    bool done;
} page_t;

static page_t
s_read_page (zstore_reader_t *reply, items_t *items)
{
    page_t page;
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    const msgpack_object_array *array;
    if (!zstore_fields_uint (&fields, "snapshot", &page.snapshot)
    ||  !zstore_fields_uint (&fields, "rev", &page.rev)
    ||  !zstore_fields_uint (&fields, "count", &page.count)
    ||  !zstore_fields_bool (&fields, "done", &page.done)
    ||  !zstore_fields_array (&fields, "items", &array))
        fail_msg ("snapshot page: %s", fields.error);
    for (uint32_t index = 0; index < array->size; index++) {
        zstore_fields_t item_fields;
        zstore_fields_init (&item_fields, &array->ptr [index]);
        const char *group, *key, *value;
        size_t group_size, key_size, value_size;
        item_t *item = s_items_push (items);
        if (!zstore_fields_bytes (&item_fields, "group", &group, &group_size)
        ||  !zstore_fields_bytes (&item_fields, "key", &key, &key_size)
        ||  !zstore_fields_bytes (&item_fields, "value", &value, &value_size)
        ||  !zstore_fields_uint (&item_fields, "create_rev", &item->create_rev)
        ||  !zstore_fields_uint (&item_fields, "mod_rev", &item->mod_rev)
        ||  !zstore_fields_uint (&item_fields, "expires_at", &item->expires_at))
            fail_msg ("snapshot item: %s", item_fields.error);
        s_copy_name (item->group, &item->group_size, group, group_size);
        s_copy_name (item->key, &item->key_size, key, key_size);
        s_copy_name (item->value, &item->value_size, value, value_size);
    }
    return page;
}

//  Opens a snapshot; returns its first page.
static page_t
s_snapshot (fixture_t *fixture, const char *ns, const scope_t *scope, uint64_t limit,
            items_t *items)
{
    zstore_writer_t *writer = s_request (fixture, "snapshot", ns, 2);
    s_write_scope (writer, scope);
    s_put_uint (writer, "limit", limit);
    zstore_reader_t *reply = s_call_ok (fixture);
    page_t page = s_read_page (reply, items);
    zstore_reader_destroy (&reply);
    return page;
}

static page_t
s_snapshot_next (fixture_t *fixture, uint64_t snapshot, uint64_t limit, items_t *items)
{
    zstore_writer_t *writer = s_request (fixture, "snapshot_next", NULL, 2);
    s_put_uint (writer, "snapshot", snapshot);
    s_put_uint (writer, "limit", limit);
    zstore_reader_t *reply = s_call_ok (fixture);
    page_t page = s_read_page (reply, items);
    zstore_reader_destroy (&reply);
    return page;
}

//  The status of a snapshot_next (for ids that should be unknown).
static int
s_snapshot_next_status (fixture_t *fixture, uint64_t snapshot)
{
    zstore_writer_t *writer = s_request (fixture, "snapshot_next", NULL, 1);
    s_put_uint (writer, "snapshot", snapshot);
    return s_call_status (fixture);
}

static void
s_snapshot_close (fixture_t *fixture, uint64_t snapshot)
{
    zstore_writer_t *writer = s_request (fixture, "snapshot_close", NULL, 1);
    s_put_uint (writer, "snapshot", snapshot);
    zstore_reader_t *reply = s_call_ok (fixture);
    zstore_reader_destroy (&reply);
}

//  A whole snapshot in pages of limit; checks the pages agree and the
//  last one's count. Returns its revision.
static uint64_t
s_snapshot_all (fixture_t *fixture, const char *ns, const scope_t *scope, uint64_t limit,
                items_t *items)
{
    page_t page = s_snapshot (fixture, ns, scope, limit, items);
    uint64_t snapshot = page.snapshot, revision = page.rev;
    size_t pages = 1;
    while (!page.done) {
        assert_int_equal (items->size, pages * limit);
        page = s_snapshot_next (fixture, snapshot, limit, items);
        assert_int_equal (page.snapshot, snapshot);
        assert_int_equal (page.rev, revision);
        pages++;
    }
    assert_int_equal (page.count, items->size);
    assert_true (items->size < pages * limit);
    //  A finished snapshot is closed.
    assert_int_equal (s_snapshot_next_status (fixture, snapshot),
                      ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    return revision;
}

//  The model's items in the scope, in order, equal the snapshot's.
static void
s_assert_items (const items_t *model, const scope_t *scope, const items_t *items)
{
    char who [512];
    s_scope_text (scope, who, sizeof who);
    size_t position = 0;
    for (size_t index = 0; index < model->size; index++) {
        const item_t *expected = &model->items [index];
        if (!s_scope_holds (scope, expected->group, expected->group_size, expected->key,
                            expected->key_size))
            continue;
        char group [NAME_CAP * 4 + 1], key [NAME_CAP * 4 + 1];
        s_printable (expected->group, expected->group_size, group, sizeof group);
        s_printable (expected->key, expected->key_size, key, sizeof key);
        if (position >= items->size)
            fail_msg ("%s: snapshot lacks \"%s\"/\"%s\"", who, group, key);
        const item_t *actual = &items->items [position++];
        if (s_item_order (actual, expected) != 0
        ||  !s_equal (actual->value, actual->value_size,
                      zstore_bytes (expected->value, expected->value_size))
        ||  actual->create_rev != expected->create_rev || actual->mod_rev != expected->mod_rev
        ||  actual->expires_at != 0) {
            char got_group [NAME_CAP * 4 + 1], got_key [NAME_CAP * 4 + 1];
            fail_msg ("%s: item %zu is \"%s\"/\"%s\" (revs %llu/%llu), expected \"%s\"/\"%s\""
                      " (revs %llu/%llu)", who, position - 1,
                      s_printable (actual->group, actual->group_size, got_group,
                                   sizeof got_group),
                      s_printable (actual->key, actual->key_size, got_key, sizeof got_key),
                      (unsigned long long) actual->create_rev,
                      (unsigned long long) actual->mod_rev, group, key,
                      (unsigned long long) expected->create_rev,
                      (unsigned long long) expected->mod_rev);
        }
    }
    if (position != items->size)
        fail_msg ("%s: snapshot has %zu items, expected %zu", who, items->size, position);
}

//  Sets (group, key) and records it in the model of live items.
static void
s_model_set (fixture_t *fixture, items_t *model, zstore_bytes_t group, zstore_bytes_t key,
             zstore_bytes_t value)
{
    uint64_t revision = s_set (fixture, NULL, group, key, value);
    for (size_t index = 0; index < model->size; index++) {
        item_t *item = &model->items [index];
        if (s_equal (item->group, item->group_size, group)
        &&  s_equal (item->key, item->key_size, key)) {
            s_copy_name (item->value, &item->value_size, value.data, value.size);
            item->mod_rev = revision;
            return;
        }
    }
    item_t *item = s_items_push (model);
    s_copy_name (item->group, &item->group_size, group.data, group.size);
    s_copy_name (item->key, &item->key_size, key.data, key.size);
    s_copy_name (item->value, &item->value_size, value.data, value.size);
    item->create_rev = item->mod_rev = revision;
}

static void
test_events_snapshot_scopes (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "timers\n    purge-interval = 86400000\n");
    items_t model = { 0 };
    s_model_set (fixture, &model, LIT ("orders"), LIT ("user-1"), LIT ("a"));
    s_model_set (fixture, &model, LIT ("orders"), LIT ("user-10"), LIT ("b"));
    s_model_set (fixture, &model, LIT ("orders"), LIT ("user-1\0"), LIT ("c"));
    s_model_set (fixture, &model, LIT ("orders"), LIT ("user-2"), LIT ("d"));
    s_model_set (fixture, &model, LIT ("orders"), LIT (""), LIT ("e"));
    s_model_set (fixture, &model, LIT ("orders"), LIT ("user-2"), LIT ("d2"));   //  update
    s_model_set (fixture, &model, LIT ("orders2"), LIT ("user-1"), LIT ("f"));
    s_model_set (fixture, &model, LIT ("order"), LIT ("user-1"), LIT ("g"));
    s_model_set (fixture, &model, LIT ("tenant-a:x"), LIT ("k1"), LIT ("h"));
    s_model_set (fixture, &model, LIT ("tenant-a:x"), LIT ("k2"), LIT ("i"));
    s_model_set (fixture, &model, LIT ("tenant-a:y"), LIT ("k1"), LIT ("j"));
    s_model_set (fixture, &model, LIT ("tenant-a:"), LIT ("k1"), LIT ("k"));
    s_model_set (fixture, &model, LIT ("tenant-ab:x"), LIT ("k1"), LIT ("l"));
    s_model_set (fixture, &model, LIT ("Tenant-A:x"), LIT ("k1"), LIT ("m"));
    s_model_set (fixture, &model, LIT ("tenant-a"), LIT ("k1"), LIT ("n"));
    s_model_set (fixture, &model, LIT (""), LIT (""), LIT ("o"));
    s_model_set (fixture, &model, LIT ("\0"), LIT ("\x01"), LIT ("p"));
    s_model_set (fixture, &model, LIT ("\xff"), LIT ("\0k"), LIT ("q"));
    s_model_set (fixture, &model, LIT ("\xff"), LIT ("k"), LIT (""));
    s_model_set (fixture, &model, LIT ("\xff"), LIT ("\xff"), LIT ("r"));
    s_model_set (fixture, &model, LIT ("\xff"), LIT ("\xff\xff"), LIT ("s"));
    s_model_set (fixture, &model, LIT ("\xff"), LIT ("\xff\0"), LIT ("t"));
    s_model_set (fixture, &model, LIT ("\xff\xff"), LIT ("\xff"), LIT ("u"));
    //  Not live: deleted, expired, a deleted group.
    s_set (fixture, NULL, LIT ("orders"), LIT ("gone"), LIT ("x"));
    s_delete (fixture, NULL, LIT ("orders"), LIT ("gone"));
    s_set_ttl (fixture, LIT ("orders"), LIT ("user-1x"), LIT ("x"), 0);
    s_set_ttl (fixture, LIT ("tenant-a:x"), LIT ("k0"), LIT ("x"), -1);
    s_set (fixture, NULL, LIT ("dropped"), LIT ("k"), LIT ("x"));
    s_delete_group (fixture, NULL, LIT ("dropped"));
    qsort (model.items, model.size, sizeof (item_t), s_item_order);
    uint64_t revision = s_ping (fixture);

    const scope_t scopes [] = {
        { SCOPE_ALL, B (""), B ("") },
        { SCOPE_NS, B ("tenant-a"), B ("") },
        { SCOPE_GROUP, B ("orders"), B ("") },
        { SCOPE_GROUP, B (""), B ("") },
        { SCOPE_GROUP, B ("\xff"), B ("") },
        { SCOPE_GROUP, B ("nothing"), B ("") },
        { SCOPE_PREFIX, B ("orders"), B ("user-1") },
        { SCOPE_PREFIX, B ("\xff"), B ("\0") },
        { SCOPE_PREFIX, B ("\xff"), B ("\xff") },
        { SCOPE_PREFIX, B ("\xff"), B ("\xff\xff") },
        { SCOPE_PREFIX, B ("orders"), B ("") },
        { SCOPE_KEY, B ("orders"), B ("user-1") },
        { SCOPE_KEY, B ("orders"), B ("") },
        { SCOPE_KEY, B ("orders"), B ("gone") },
    };
    for (size_t index = 0; index < sizeof scopes / sizeof scopes [0]; index++) {
        for (uint64_t limit = 2; limit <= 1000; limit += 998) {
            items_t items = { 0 };
            assert_int_equal (s_snapshot_all (fixture, NULL, &scopes [index], limit, &items),
                              revision);
            s_assert_items (&model, &scopes [index], &items);
            s_items_free (&items);
        }
    }
    //  With the request's ns: scope {group} names "<ns>:<group>", scope {}
    //  the namespace; items carry the stored group name.
    const scope_t group_x = { SCOPE_GROUP, B ("x"), B ("") };
    const scope_t stored_x = { SCOPE_GROUP, B ("tenant-a:x"), B ("") };
    items_t items = { 0 };
    s_snapshot_all (fixture, "tenant-a", &group_x, 1, &items);
    s_assert_items (&model, &stored_x, &items);
    s_items_free (&items);
    const scope_t all = { SCOPE_ALL, B (""), B ("") };
    const scope_t tenant = { SCOPE_NS, B ("tenant-a"), B ("") };
    s_snapshot_all (fixture, "tenant-a", &all, 3, &items);
    s_assert_items (&model, &tenant, &items);
    s_items_free (&items);
    assert_int_equal (s_ping (fixture), revision);      //  reads changed nothing
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 0);
    s_items_free (&model);
}

//  200,000 keys read in pages by a client that writes and does other
//  requests between pages: the view stays at its revision, the broker
//  keeps answering.
#define BIG_KEYS 200000
#define BIG_TXN 1000

static void
s_big_key (char *key, size_t size, int number)
{
    snprintf (key, size, "k%06d", number);
}

static void
test_events_snapshot_large_slow_reader (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "zstore\n    sync = off\nhistory\n    events = 0\n");
    txn_op_t *ops = calloc (BIG_TXN, sizeof (txn_op_t));
    char (*keys) [2] [16] = calloc (BIG_TXN, sizeof *keys);
    assert_true (ops && keys);
    for (int base = 0; base < BIG_KEYS; base += BIG_TXN) {
        for (int index = 0; index < BIG_TXN; index++) {
            s_big_key (keys [index] [0], 16, base + index);
            snprintf (keys [index] [1], 16, "v%06d", base + index);
            ops [index] = (txn_op_t) { "set", B ("big"), zstore_bytes (keys [index] [0], 7),
                                       zstore_bytes (keys [index] [1], 7), false, 0 };
        }
        s_txn (fixture, ops, BIG_TXN);
    }
    free (ops);
    free (keys);
    uint64_t revision = s_ping (fixture);
    s_set (fixture, NULL, LIT ("other"), LIT ("k"), LIT ("v"));

    const scope_t scope = { SCOPE_GROUP, B ("big"), B ("") };
    items_t items = { 0 };
    page_t page = s_snapshot (fixture, NULL, &scope, 1000, &items);
    uint64_t snapshot = page.snapshot;
    assert_int_equal (page.rev, revision + 1);
    revision = page.rev;
    size_t received = 0, pages = 0;
    while (true) {
        for (size_t index = 0; index < items.size; index++, received++) {
            const item_t *item = &items.items [index];
            char key [16], value [16];
            s_big_key (key, sizeof key, (int) received);
            snprintf (value, sizeof value, "v%06d", (int) received);
            if (!s_equal (item->key, item->key_size, zstore_bytes (key, 7))
            ||  !s_equal (item->value, item->value_size, zstore_bytes (value, 7))
            ||  !s_equal (item->group, item->group_size, LIT ("big"))
            ||  item->mod_rev > revision)
                fail_msg ("snapshot item %zu: \"%.*s\" = \"%.*s\" (mod_rev %llu), expected"
                          " \"%s\" = \"%s\" as of rev %llu", received, (int) item->key_size,
                          item->key, (int) item->value_size, item->value,
                          (unsigned long long) item->mod_rev, key, value,
                          (unsigned long long) revision);
        }
        items.size = 0;
        if (page.done)
            break;
        //  The slow reader, between pages: writes ahead of and behind its
        //  cursor, a new key, a delete, then unrelated requests.
        char key [32];
        s_big_key (key, sizeof key, (int) ((received + 500) % BIG_KEYS));
        s_set (fixture, NULL, LIT ("big"), zstore_bytes (key, 7), LIT ("changed"));
        s_big_key (key, sizeof key, (int) (received / 2));
        s_set (fixture, NULL, LIT ("big"), zstore_bytes (key, 7), LIT ("changed"));
        s_big_key (key, sizeof key, (int) ((received + 999) % BIG_KEYS));
        s_delete (fixture, NULL, LIT ("big"), zstore_bytes (key, 7));
        snprintf (key, sizeof key, "k%06zu-new", received);
        s_set (fixture, NULL, LIT ("big"), zstore_bytes (key, strlen (key)), LIT ("new"));
        s_ping (fixture);
        assert_int_equal (s_get (fixture, LIT ("other"), LIT ("k")), ZSTORE_STATUS_OK);
        assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 1);
        page = s_snapshot_next (fixture, snapshot, 1000, &items);
        assert_int_equal (page.snapshot, snapshot);
        assert_int_equal (page.rev, revision);
        assert_true (page.done || items.size == 1000);
        pages++;
    }
    assert_int_equal (received, BIG_KEYS);
    assert_int_equal (page.count, BIG_KEYS);
    assert_true (pages >= BIG_KEYS / 1000);
    assert_int_equal (s_snapshot_next_status (fixture, snapshot), ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 0);
    assert_true (s_ping (fixture) > revision + 4 * (BIG_KEYS / 1000) - 10);
    s_items_free (&items);
}

//  Snapshot ids: unknown, closed, finished, idle; the open-snapshot limit.
static void
test_events_snapshot_limits_and_ids (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "limits\n    snapshots = 2\n    snapshot-idle = 300\n"
                      "timers\n    heartbeat = 20\n");
    for (int index = 0; index < 5; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        s_set (fixture, NULL, LIT ("s"), zstore_bytes (key, 2), LIT ("v"));
    }
    const scope_t scope = { SCOPE_GROUP, B ("s"), B ("") };
    assert_int_equal (s_snapshot_next_status (fixture, 987654321),
                      ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    items_t items = { 0 };
    page_t first = s_snapshot (fixture, NULL, &scope, 1, &items);
    page_t second = s_snapshot (fixture, NULL, &scope, 1, &items);
    assert_false (first.done || second.done);
    assert_int_not_equal (first.snapshot, second.snapshot);
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 2);
    zstore_writer_t *writer = s_request (fixture, "snapshot", NULL, 1);
    s_write_scope (writer, &scope);
    assert_int_equal (s_call_status (fixture), ZSTORE_STATUS_BUSY);

    s_snapshot_close (fixture, first.snapshot);
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 1);
    assert_int_equal (s_snapshot_next_status (fixture, first.snapshot),
                      ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    page_t third = s_snapshot (fixture, NULL, &scope, 1, &items);
    assert_int_not_equal (third.snapshot, first.snapshot);
    assert_int_not_equal (third.snapshot, second.snapshot);
    //  Reading the second to the end closes it.
    page_t page = second;
    while (!page.done)
        page = s_snapshot_next (fixture, second.snapshot, 2, &items);
    assert_int_equal (page.count, 5);
    assert_int_equal (s_snapshot_next_status (fixture, second.snapshot),
                      ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 1);

    //  The third, left idle past snapshot-idle (waited for by heartbeats'
    //  clock), is closed.
    zsock_t *clock = broker_subscriber (fixture->broker, "h", 1);
    message_t message;
    uint64_t start = 0, now = 0;
    int64_t deadline = zclock_mono () + TIMEOUT;
    while (now < start + 600 && zclock_mono () < deadline) {
        if (s_receive (clock, 100, &message)) {
            start = start ? start : message.control.ts;
            now = message.control.ts;
        }
    }
    assert_true (start && now >= start + 600);
    assert_int_equal (s_snapshot_next_status (fixture, third.snapshot),
                      ZSTORE_STATUS_UNKNOWN_SNAPSHOT);
    assert_int_equal (s_stats_uint (fixture, "snapshots_open"), 0);
    zsock_destroy (&clock);
    s_items_free (&items);
}

//  --- 6. A consistent late join, end to end --------------------------------

typedef struct {
    char value [NAME_CAP];
    size_t value_size;
    uint64_t create_rev, mod_rev;
} state_item_t;

static void
s_state_free (void **item)
{
    free (*item);
    *item = NULL;
}

static char *
s_state_key (const char *key, size_t size)
{
    static char text [NAME_CAP + 1];
    assert_true (size <= NAME_CAP && !memchr (key, 0, size));
    size = size <= NAME_CAP ? size : NAME_CAP;      //  (for the optimiser: assert returns)
    memcpy (text, key, size);
    text [size] = 0;
    return text;
}

static void
s_state_put (zhashx_t *state, const char *key, size_t key_size, const char *value,
             size_t value_size, uint64_t create_rev, uint64_t mod_rev)
{
    state_item_t *item = calloc (1, sizeof (state_item_t));
    assert_non_null (item);
    s_copy_name (item->value, &item->value_size, value, value_size);
    item->create_rev = create_rev;
    item->mod_rev = mod_rev;
    zhashx_update (state, s_state_key (key, key_size), item);
}

//  Applies one event to the reconstructed state, checking prev_rev.
static void
s_state_apply (zhashx_t *state, const event_t *event)
{
    char text [512];
    s_describe (event, text, sizeof text);
    if (s_is (event, "delete_group")) {
        zhashx_purge (state);
        return;
    }
    state_item_t *item = zhashx_lookup (state, s_state_key (event->key, event->key_size));
    if (event->prev_rev != (item ? item->mod_rev : 0))
        fail_msg ("%s: prev_rev %llu, the key's mod_rev is %llu", text,
                  (unsigned long long) event->prev_rev,
                  (unsigned long long) (item ? item->mod_rev : 0));
    if (s_is (event, "set"))
        s_state_put (state, event->key, event->key_size, event->value, event->value_size,
                     item ? item->create_rev : event->rev, event->rev);
    else
        zhashx_delete (state, s_state_key (event->key, event->key_size));
}

static void
test_events_late_join_reconstructs_state (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "zstore\n    sync = off\ntimers\n    purge-interval = 86400000\n");
    //  2,500 keys in "live", some in "other".
    txn_op_t ops [500];
    char keys [500] [16];
    for (int base = 0; base < 2500; base += 500) {
        for (int index = 0; index < 500; index++) {
            snprintf (keys [index], sizeof keys [index], "k%04d", base + index);
            ops [index] = (txn_op_t) { "set", B ("live"), zstore_bytes (keys [index], 5),
                                       zstore_bytes (keys [index], 5), false, 0 };
        }
        s_txn (fixture, ops, 500);
    }
    s_set (fixture, NULL, LIT ("other"), LIT ("k"), LIT ("v"));
    const scope_t scope = { SCOPE_GROUP, B ("live"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    //  Changes after the subscription, before the snapshot: their events
    //  are in the buffer and in the snapshot.
    s_set (fixture, NULL, LIT ("live"), LIT ("k0001"), LIT ("pre"));
    s_delete (fixture, NULL, LIT ("live"), LIT ("k0002"));

    zhashx_t *rebuilt = zhashx_new ();
    zhashx_set_destructor (rebuilt, s_state_free);
    items_t items = { 0 };
    page_t page = s_snapshot (fixture, NULL, &scope, 300, &items);
    uint64_t snapshot_rev = page.rev, last = 0;
    size_t received = 0;
    for (int round = 0; ; round++) {
        for (size_t index = 0; index < items.size; index++) {
            const item_t *item = &items.items [index];
            assert_true (s_equal (item->group, item->group_size, LIT ("live")));
            s_state_put (rebuilt, item->key, item->key_size, item->value, item->value_size,
                         item->create_rev, item->mod_rev);
        }
        received += items.size;
        items.size = 0;
        if (page.done)
            break;
        //  Writes between pages: ahead of the cursor, behind it, new keys,
        //  deletes, an expiry, and once the whole group goes.
        char key [16], value [16];
        snprintf (value, sizeof value, "r%d", round);
        zstore_bytes_t value_bytes = zstore_bytes (value, strlen (value));
        snprintf (key, sizeof key, "k%04d", (round * 300 + 150) % 2500);
        s_set (fixture, NULL, LIT ("live"), zstore_bytes (key, 5), value_bytes);
        snprintf (key, sizeof key, "k%04d", round * 10);
        s_set (fixture, NULL, LIT ("live"), zstore_bytes (key, 5), value_bytes);
        snprintf (key, sizeof key, "k%04d", (round * 300 + 299) % 2500);
        s_delete (fixture, NULL, LIT ("live"), zstore_bytes (key, 5));
        snprintf (key, sizeof key, "n%03d", round);
        s_set (fixture, NULL, LIT ("live"), zstore_bytes (key, 4), value_bytes);
        snprintf (key, sizeof key, "e%03d", round);
        s_set_ttl (fixture, LIT ("live"), zstore_bytes (key, 4), value_bytes, 0);
        assert_int_equal (s_get (fixture, LIT ("live"), zstore_bytes (key, 4)),
                          ZSTORE_STATUS_NOT_FOUND);
        s_set (fixture, NULL, LIT ("other"), LIT ("k"), value_bytes);
        if (round == 4)
            s_delete_group (fixture, NULL, LIT ("live"));
        last = s_set (fixture, NULL, LIT ("live"), LIT ("n000"), value_bytes);
        page = s_snapshot_next (fixture, page.snapshot, 300, &items);
        assert_int_equal (page.rev, snapshot_rev);
    }
    assert_int_equal (page.count, received);
    assert_int_equal (received, 2500 - 1);              //  k0002 was deleted
    assert_true (last > snapshot_rev);

    //  The buffered events: drop those the snapshot holds, apply the rest.
    size_t dropped = 0, applied = 0;
    uint64_t gseq = 0;
    event_t event = { .rev = 0 };
    while (event.rev < last) {
        s_receive_event (sub, &event, "live group");
        if (gseq)
            assert_int_equal (event.gseq, gseq + 1);
        gseq = event.gseq;
        if (event.rev <= snapshot_rev)
            dropped++;
        else {
            s_state_apply (rebuilt, &event);
            applied++;
        }
    }
    assert_int_equal (dropped, 2);
    assert_true (applied > 40);

    zstore_writer_t *writer = s_request (fixture, "get_all", NULL, 1);
    s_put_bytes (writer, "group", LIT ("live"));
    zstore_reader_t *reply = s_call_ok (fixture);
    const msgpack_object_array *array = reply_array (reply, "items");
    assert_int_equal (array->size, zhashx_size (rebuilt));
    for (uint32_t index = 0; index < array->size; index++) {
        zstore_fields_t fields;
        zstore_fields_init (&fields, &array->ptr [index]);
        const char *key, *value;
        size_t key_size, value_size;
        uint64_t create_rev, mod_rev;
        assert_true (zstore_fields_bytes (&fields, "key", &key, &key_size)
                  && zstore_fields_bytes (&fields, "value", &value, &value_size)
                  && zstore_fields_uint (&fields, "create_rev", &create_rev)
                  && zstore_fields_uint (&fields, "mod_rev", &mod_rev));
        state_item_t *item = zhashx_lookup (rebuilt, s_state_key (key, key_size));
        if (!item)
            fail_msg ("get_all has \"%.*s\", the rebuilt state does not", (int) key_size, key);
        if (!s_equal (item->value, item->value_size, zstore_bytes (value, value_size))
        ||  item->create_rev != create_rev || item->mod_rev != mod_rev)
            fail_msg ("\"%.*s\": rebuilt \"%.*s\" revs %llu/%llu, get_all \"%.*s\" revs"
                      " %llu/%llu", (int) key_size, key, (int) item->value_size, item->value,
                      (unsigned long long) item->create_rev, (unsigned long long) item->mod_rev,
                      (int) value_size, value, (unsigned long long) create_rev,
                      (unsigned long long) mod_rev);
    }
    zstore_reader_destroy (&reply);
    zhashx_destroy (&rebuilt);
    s_items_free (&items);
    zstore_buffer_free (&prefix);
    zsock_destroy (&sub);
}

//  --- 7. History ------------------------------------------------------------

//  A history request; returns its status, the events and more.
static int
s_history (fixture_t *fixture, const char *ns, const scope_t *scope, uint64_t after,
           uint64_t limit, events_t *events, bool *more)
{
    zstore_writer_t *writer = s_request (fixture, "history", ns, limit ? 3 : 2);
    s_write_scope (writer, scope);
    s_put_uint (writer, "after", after);
    if (limit)
        s_put_uint (writer, "limit", limit);
    zstore_reader_t *reply = s_call (fixture);
    int status = reply_status (reply);
    if (status == ZSTORE_STATUS_OK) {
        zstore_fields_t fields;
        zstore_fields_init (&fields, zstore_reader_root (reply));
        const msgpack_object_array *array;
        if (!zstore_fields_array (&fields, "events", &array)
        ||  !zstore_fields_bool (&fields, "more", more))
            fail_msg ("history reply: %s", fields.error);
        for (uint32_t index = 0; index < array->size; index++) {
            zstore_event_body_t body;
            zstore_fields_t event_fields;
            if (!zstore_event_body_read (&array->ptr [index], &body, &event_fields))
                fail_msg ("history event: %s", event_fields.error);
            //  PROTOCOL.md 4.3: without epoch and the sequences.
            static const char *const absent [] = { "epoch", "seq", "gseq", "nseq" };
            for (size_t field = 0; field < 4; field++)
                if (zstore_fields_find (&event_fields, absent [field]))
                    fail_msg ("a history event has '%s'", absent [field]);
            s_event_from_body (s_events_push (events), &body);
        }
    }
    zstore_reader_destroy (&reply);
    return status;
}

//  History of the scope after a revision equals the published events of
//  the scope after it, every field, in order.
static void
s_assert_history (fixture_t *fixture, const char *ns, const scope_t *query,
                  const scope_t *scope, uint64_t after, const events_t *published)
{
    char who [512];
    s_scope_text (scope, who, sizeof who);
    events_t events = { 0 };
    bool more = true;
    assert_int_equal (s_history (fixture, ns, query, after, 0, &events, &more),
                      ZSTORE_STATUS_OK);
    assert_false (more);
    size_t position = 0;
    for (size_t index = 0; index < published->size; index++) {
        const event_t *expected = &published->items [index];
        if (expected->rev <= after || !s_scope_history (scope, expected))
            continue;
        if (position >= events.size) {
            char text [512];
            fail_msg ("%s: history lacks %s", who, s_describe (expected, text, sizeof text));
        }
        s_assert_same_event (&events.items [position], expected, who, position);
        position++;
    }
    if (position != events.size) {
        char text [512];
        fail_msg ("%s: history has %zu events, expected %zu; the first extra: %s", who,
                  events.size, position,
                  s_describe (&events.items [position], text, sizeof text));
    }
    s_events_free (&events);
}

static void
test_events_history_replay (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "history\n    events = 100\ntimers\n    purge-interval = 86400000\n");
    zsock_t *everything = broker_subscriber (fixture->broker, "d", 1);
    //  50 changes.
    const char *groups [] = { "h1", "h1", "h1", "h2", "tenant-a:h", "tenant-ab:h", "h1", "h2",
                              "tenant-a:h", "h1" };
    const char *keys [] = { "k1", "k10", "k2", "k1", "k1", "k1", "k1", "k2", "k2", "k3" };
    for (int index = 0; index < 10; index++)
        s_set (fixture, NULL, zstore_str (groups [index]), zstore_str (keys [index]),
               LIT ("v"));
    uint64_t after = s_ping (fixture);
    txn_op_t ops [] = {
        { "set", B ("h1"), B ("k1"), B ("t"), false, 0 },
        { "set", B ("h2"), B ("k3"), B ("t"), false, 0 },
        { "set", B ("tenant-a:h"), B ("k3"), B ("t"), true, 60000 },
    };
    s_txn (fixture, ops, 3);
    s_delete (fixture, NULL, LIT ("h1"), LIT ("k2"));
    s_set (fixture, "tenant-a", LIT ("h"), LIT ("k4"), LIT ("ns"));
    s_delete_group (fixture, NULL, LIT ("h1"));
    for (int index = 14; index < 50; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index % 5);
        s_set (fixture, NULL, zstore_str (index % 3 == 0 ? "h1" : index % 3 == 1 ? "h2"
                                                                   : "tenant-a:h"),
               zstore_str (key), zstore_str (key));
    }
    uint64_t last = s_ping (fixture);
    assert_int_equal (last, 50);
    events_t published = { 0 };
    while (published.size == 0 || published.items [published.size - 1].rev < last)
        s_receive_event (everything, s_events_push (&published), "everything");
    assert_int_equal (published.size, 52);

    const scope_t scopes [] = {
        { SCOPE_ALL, B (""), B ("") },
        { SCOPE_NS, B ("tenant-a"), B ("") },
        { SCOPE_GROUP, B ("h1"), B ("") },
        { SCOPE_GROUP, B ("h2"), B ("") },
        { SCOPE_PREFIX, B ("h1"), B ("k1") },
        { SCOPE_KEY, B ("h1"), B ("k1") },
        { SCOPE_KEY, B ("h2"), B ("k3") },
    };
    for (size_t index = 0; index < sizeof scopes / sizeof scopes [0]; index++) {
        s_assert_history (fixture, NULL, &scopes [index], &scopes [index], after, &published);
        s_assert_history (fixture, NULL, &scopes [index], &scopes [index], 0, &published);
    }
    //  The key scope holds its group's delete_group.
    size_t group_events = 0;
    for (size_t index = 0; index < published.size; index++)
        group_events += s_is (&published.items [index], "delete_group")
                     && s_scope_history (&scopes [5], &published.items [index]);
    assert_int_equal (group_events, 1);
    //  A scope {group} with the request's ns.
    const scope_t group_h = { SCOPE_GROUP, B ("h"), B ("") };
    const scope_t stored_h = { SCOPE_GROUP, B ("tenant-a:h"), B ("") };
    s_assert_history (fixture, "tenant-a", &group_h, &stored_h, after, &published);

    //  Pages: limit cuts, more says so.
    events_t events = { 0 };
    bool more = false;
    assert_int_equal (s_history (fixture, NULL, &scopes [0], after, 4, &events, &more), 0);
    assert_true (more);
    assert_int_equal (events.size, 4);
    for (size_t index = 0; index < 4; index++)
        s_assert_same_event (&events.items [index], &published.items [10 + index], "limit 4",
                             index);
    events.size = 0;
    assert_int_equal (s_history (fixture, NULL, &scopes [0], after, published.size - 10,
                                 &events, &more), 0);
    assert_false (more);
    assert_int_equal (events.size, published.size - 10);
    events.size = 0;
    assert_int_equal (s_history (fixture, NULL, &scopes [0], last, 0, &events, &more), 0);
    assert_false (more);
    assert_int_equal (events.size, 0);

    //  300 changes in all: the start is no longer kept.
    for (int index = 50; index < 300; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        s_set (fixture, NULL, LIT ("h3"), zstore_str (key), LIT ("v"));
    }
    last = s_ping (fixture);
    assert_int_equal (last, 300);
    assert_int_equal (s_history (fixture, NULL, &scopes [0], 1, 0, &events, &more),
                      ZSTORE_STATUS_TOO_OLD);
    uint64_t first = s_stats_uint (fixture, "history_first");
    assert_int_equal (s_stats_uint (fixture, "history_last"), last);
    assert_true (first > 2 && first <= last - 100 + 1);
    events.size = 0;
    assert_int_equal (s_history (fixture, NULL, &scopes [0], first - 1, 10000, &events, &more),
                      ZSTORE_STATUS_OK);
    assert_false (more);
    assert_int_equal (events.size, last - first + 1);
    for (size_t index = 0; index < events.size; index++)
        assert_int_equal (events.items [index].rev, first + index);
    assert_int_equal (s_history (fixture, NULL, &scopes [0], first - 2, 0, &events, &more),
                      ZSTORE_STATUS_TOO_OLD);
    s_events_free (&events);
    s_events_free (&published);
    zsock_destroy (&everything);
}

//  --- 8. A subscriber that never reads --------------------------------------

#define SLOW_SETS 5000
#define SLOW_VALUE 8192

static void
test_events_deaf_subscriber_does_not_delay (void **state)
{
    fixture_t *fixture = *state;
    s_start (fixture, "zstore\n    sync = off\nlimits\n    events-hwm = 100\n"
                      "history\n    events = 0\n");
    const scope_t scope = { SCOPE_GROUP, B ("flood"), B ("") };
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    s_oracle_prefix (&prefix, &scope);
    zsock_t *deaf = zsock_new (ZMQ_SUB);
    assert_non_null (deaf);
    zsock_set_rcvhwm (deaf, 10);
    assert_int_equal (zsock_connect (deaf, "%s", fixture->broker->events), 0);
    broker_subscribe (deaf, prefix.data, prefix.size);
    zsock_t *reader = broker_subscriber (fixture->broker, prefix.data, prefix.size);

    char *value = malloc (SLOW_VALUE);
    assert_non_null (value);
    memset (value, 'x', SLOW_VALUE);
    uint64_t seen = 0;
    message_t message;
    for (int index = 0; index < SLOW_SETS; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%04d", index);
        s_set (fixture, NULL, LIT ("flood"), zstore_bytes (key, 5),
               zstore_bytes (value, SLOW_VALUE));
        //  Keep up: whatever has arrived, now.
        while (s_receive (reader, 0, &message)) {
            assert_int_equal (message.kind, ZSTORE_TOPIC_DATA);
            assert_int_equal (message.event.seq, seen + 1);
            assert_int_equal (message.event.gseq, seen + 1);
            assert_int_equal (message.event.value_size, SLOW_VALUE);
            snprintf (key, sizeof key, "k%04d", (int) seen);
            assert_true (s_equal (message.event.key, message.event.key_size,
                                  zstore_bytes (key, 5)));
            seen++;
        }
    }
    free (value);
    while (seen < SLOW_SETS) {
        if (!s_receive (reader, TIMEOUT, &message))
            fail_msg ("the reading subscriber got %llu of %d events", (unsigned long long) seen,
                      SLOW_SETS);
        assert_int_equal (message.event.seq, seen + 1);
        seen++;
    }
    //  The deaf one lost what did not fit: it sees a gap, nothing else.
    uint64_t deaf_count = 0, deaf_last = 0;
    while (s_receive (deaf, QUIET, &message)) {
        assert_int_equal (message.kind, ZSTORE_TOPIC_DATA);
        assert_true (message.event.seq > deaf_last);
        deaf_last = message.event.seq;
        deaf_count++;
    }
    assert_true (deaf_count > 0);
    if (deaf_count >= SLOW_SETS)
        fail_msg ("the deaf subscriber lost nothing: the test proves nothing");
    assert_int_equal (s_ping (fixture), SLOW_SETS);
    zsock_destroy (&deaf);
    zsock_destroy (&reader);
    zstore_buffer_free (&prefix);
}

//  --- 9. Restart ---------------------------------------------------------------

static void
test_events_restart_changes_epoch (void **state)
{
    fixture_t *fixture = *state;
    const char *config = "timers\n    heartbeat = 50\n";
    char requests [256], events [256];
    broker_restartable_endpoints (requests, events, sizeof requests);
    fixture->broker = broker_start (fixture->db_path, config, requests, events);
    fixture->dealer = broker_dealer (fixture->broker);
    zsock_t *sub = broker_subscriber (fixture->broker, "h", 1);
    broker_subscribe (sub, "d", 1);
    for (int index = 0; index < 3; index++)
        s_set (fixture, NULL, LIT ("r"), LIT ("k"), LIT ("v"));
    message_t heartbeat = s_await_heartbeat (sub, 3);
    uint64_t old_epoch = fixture->broker->epoch;
    assert_int_equal (heartbeat.control.epoch, old_epoch);
    assert_int_equal (heartbeat.control.rev, 3);

    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, config, requests, events);
    assert_int_not_equal (fixture->broker->epoch, old_epoch);
    assert_int_equal (fixture->broker->revision, 3);

    //  The same SUB reconnects by itself; the first heartbeat of the new
    //  epoch carries the revision on and a sequence restarted at 0.
    int64_t deadline = zclock_mono () + 2 * TIMEOUT;
    message_t message = { 0 };
    bool seen = false;
    while (!seen && zclock_mono () < deadline) {
        if (!s_receive (sub, 100, &message))
            continue;
        if (message.kind == ZSTORE_TOPIC_HEARTBEAT && message.control.epoch != old_epoch)
            seen = true;
        else        //  old-epoch leftovers only
            assert_int_equal (message.kind == ZSTORE_TOPIC_DATA ? message.event.epoch
                                                                 : message.control.epoch,
                              old_epoch);
    }
    assert_true (seen);
    assert_int_equal (message.control.epoch, fixture->broker->epoch);
    assert_int_equal (message.control.seq, 0);
    assert_int_equal (message.control.rev, 3);
    broker_subscribe (sub, "d", 1);         //  every resent subscription is live
    uint64_t revision = s_set (fixture, NULL, LIT ("r"), LIT ("k"), LIT ("after"));
    assert_int_equal (revision, 4);
    while (s_receive (sub, TIMEOUT, &message) && message.kind != ZSTORE_TOPIC_DATA)
        assert_int_equal (message.control.epoch, fixture->broker->epoch);
    assert_int_equal (message.kind, ZSTORE_TOPIC_DATA);
    assert_int_equal (message.event.epoch, fixture->broker->epoch);
    assert_int_equal (message.event.seq, 1);
    assert_int_equal (message.event.gseq, 1);
    assert_int_equal (message.event.nseq, 1);
    assert_int_equal (message.event.rev, 4);
    assert_int_equal (message.event.prev_rev, 3);
    s_await_heartbeat (sub, 1);
    zsock_destroy (&sub);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_events_topic_isolation),
        TEST (test_events_beacon_topics_escape_names),
        TEST (test_events_late_joiner_gets_first_event),
        TEST (test_events_unheard_are_counted_not_sent),
        TEST (test_events_sync_marker_reports_position),
        TEST (test_events_sequences_heartbeats_beacons),
        TEST (test_events_purge_emits_expire),
        TEST (test_events_get_emits_expire),
        TEST (test_events_snapshot_scopes),
        TEST (test_events_snapshot_large_slow_reader),
        TEST (test_events_snapshot_limits_and_ids),
        TEST (test_events_late_join_reconstructs_state),
        TEST (test_events_history_replay),
        TEST (test_events_deaf_subscriber_does_not_delay),
        TEST (test_events_restart_changes_epoch),
    };
    return cmocka_run_group_tests_name ("broker events", tests, NULL, NULL);
}
