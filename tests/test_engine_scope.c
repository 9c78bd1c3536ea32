//  Scopes: go-store's ScopedStore (spec 2.3) and quotas, against the real
//  engine on real SQLite files: matrix 105-161 (spec 4.3), traps 6-9 (spec 5),
//  and where zstore goes beyond go-store on purpose:
//  - atomic quotas: several processes writing through one namespace never
//    take it past its limits (fork tests);
//  - byte-exact prefixes: no LIKE, so no ASCII case folding, no truncation at
//    NUL, no wildcards, and a correct upper bound after 0xFF bytes;
//  - lazy expiry and purge emit "expire" events (go-store: delete / none).
//
//  Matrix entries that do not apply, or apply only in an adapted form:
//  - 118, 126 (All/AllSeq iterators): the C scope has no iterator; ported as
//    zstore_scope_get_all, which returns the rows in key order.
//  - 133 (GroupsSeq stops early), 161 (GroupsSeq stops early on Store): Go
//    iterator early-break. zstore_scope_groups / zstore_engine_groups return
//    a complete list; there is nothing to stop. Not applicable.
//  - 135 (scoped GetSplit/GetFields): zstore_engine.h has no
//    zstore_scope_get_split / zstore_scope_get_fields. Adapted: written
//    through the scope, split through the engine on "<ns>:<group>".
//  - 138 (Watch/Unwatch closes the channel), 139 (Watch("*") with its own
//    16-slot channel, Unwatch("*") closes it), 140 (OnChange filter): no
//    channels and no scoped sinks in C. Adapted: engine event sinks carry the
//    full prefixed group ("tenant-a:config"); removing a sink stops
//    delivery; a case-sensitive prefix filter (what the broker applies for a
//    scoped subscription) selects exactly the namespace's events. Channel
//    closing, capacity and drop-newest do not apply.
//  - 108 (nil store): ported as a NULL engine. Nil *scoped* receivers and a
//    nil backing store inside a scope (spec 2.3 "Readiness") have no C
//    equivalent beyond zstore_scope_namespace (NULL) == "": the scope
//    functions take a valid scope by contract.
//  - 142 (quota-check query error, a Go stub driver): ported with a real
//    SQLite fault: an authorizer installed on the engine's connection (found
//    through sqlite3_auto_extension) denies count(), so the already-prepared
//    quota statement fails when SQLite re-prepares it.

#include "testkit.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SCOPES 8
#define T0 1700000000000

typedef struct {
    char *dir;
    char *path;
    zstore_engine_t *engine;
    testkit_recorder_t events;
    int64_t now;
    int sink;
    zstore_scope_t *scopes [MAX_SCOPES];
    size_t scope_count;
    zstore_engine_t *other;             //  a second engine on the same file
    testkit_recorder_t other_events;
} fixture_t;

static void
s_attach (fixture_t *fixture)
{
    zstore_engine_set_clock (fixture->engine, testkit_clock, &fixture->now);
    fixture->sink = zstore_engine_add_event_sink (fixture->engine, testkit_record_event,
                                                  &fixture->events);
    assert_true (fixture->sink > 0);
}

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    assert_non_null (fixture);
    fixture->dir = testkit_tempdir ();
    fixture->path = testkit_path (fixture->dir, "store.db");
    fixture->engine = testkit_engine (fixture->path);
    fixture->now = T0;
    s_attach (fixture);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    for (size_t index = 0; index < fixture->scope_count; index++)
        zstore_scope_destroy (&fixture->scopes [index]);
    zstore_engine_destroy (&fixture->engine);
    zstore_engine_destroy (&fixture->other);
    testkit_recorder_clear (&fixture->other_events);
    testkit_recorder_clear (&fixture->events);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->path);
    free (fixture);
    return 0;
}

//  --- Helpers --------------------------------------------------------------

//  A scope on engine, destroyed by the teardown.
static zstore_scope_t *
s_scope_on (fixture_t *fixture, zstore_engine_t *engine, const char *name, int64_t max_keys,
            int64_t max_groups)
{
    char *error = NULL;
    zstore_scope_t *scope = zstore_scope_new_with_quota (engine, name, max_keys, max_groups,
                                                         &error);
    if (!scope)
        fail_msg ("scope %s: %s", name, error ? error : "?");
    assert_null (error);
    assert_true (fixture->scope_count < MAX_SCOPES);
    fixture->scopes [fixture->scope_count++] = scope;
    return scope;
}

//  A scope on the fixture's engine.
static zstore_scope_t *
s_scope (fixture_t *fixture, const char *name, int64_t max_keys, int64_t max_groups)
{
    return s_scope_on (fixture, fixture->engine, name, max_keys, max_groups);
}

static int
s_set (zstore_scope_t *scope, zstore_bytes_t group, zstore_bytes_t key, zstore_bytes_t value)
{
    return zstore_scope_put (scope, group, key, value, NULL, NULL);
}

static int
s_set_ttl (zstore_scope_t *scope, zstore_bytes_t group, zstore_bytes_t key,
           zstore_bytes_t value, int64_t ttl_ms)
{
    zstore_write_t options = { true, ttl_ms, ZSTORE_ANY_REVISION };
    return zstore_scope_put (scope, group, key, value, &options, NULL);
}

static void
s_set_ok (fixture_t *fixture, zstore_scope_t *scope, const char *group, const char *key,
          const char *value)
{
    if (s_set (scope, zstore_str (group), zstore_str (key), zstore_str (value)) != ZSTORE_OK)
        fail_msg ("set %s/%s: %s", group, key, zstore_engine_error (fixture->engine));
}

static void
s_set_ttl_ok (fixture_t *fixture, zstore_scope_t *scope, const char *group, const char *key,
              const char *value, int64_t ttl_ms)
{
    if (s_set_ttl (scope, zstore_str (group), zstore_str (key), zstore_str (value), ttl_ms))
        fail_msg ("set %s/%s: %s", group, key, zstore_engine_error (fixture->engine));
}

static void
s_engine_set (fixture_t *fixture, zstore_bytes_t group, const char *key, const char *value)
{
    if (zstore_engine_set (fixture->engine, group, zstore_str (key), zstore_str (value), NULL))
        fail_msg ("engine set %s: %s", key, zstore_engine_error (fixture->engine));
}

static void
s_assert_quota (fixture_t *fixture, int code, const char *message)
{
    assert_int_equal (code, ZSTORE_QUOTA_EXCEEDED);
    assert_string_equal (zstore_engine_error (fixture->engine), message);
}

static void
s_assert_value (fixture_t *fixture, zstore_scope_t *scope, const char *group, const char *key,
                const char *expected)
{
    zstore_value_t value;
    int code = zstore_scope_get (scope, zstore_str (group), zstore_str (key), &value);
    if (code != ZSTORE_OK)
        fail_msg ("get %s/%s: %s", group, key, zstore_engine_error (fixture->engine));
    testkit_assert_bytes (value.data, value.size, expected);
    zstore_value_reset (&value);
}

static void
s_assert_missing (zstore_scope_t *scope, const char *group, const char *key)
{
    zstore_value_t value;
    assert_int_equal (zstore_scope_get (scope, zstore_str (group), zstore_str (key), &value),
                      ZSTORE_NOT_FOUND);
    assert_null (value.data);
}

static int64_t
s_count_all (fixture_t *fixture, zstore_scope_t *scope, zstore_bytes_t prefix)
{
    int64_t count = -1;
    int code = scope ? zstore_scope_count_all (scope, prefix, &count)
                     : zstore_engine_count_all (fixture->engine, prefix, &count);
    assert_int_equal (code, ZSTORE_OK);
    return count;
}

static int64_t
s_count (zstore_scope_t *scope, const char *group)
{
    int64_t count = -1;
    assert_int_equal (zstore_scope_count (scope, zstore_str (group), &count), ZSTORE_OK);
    return count;
}

//  Group names (scope NULL: the engine's), checked by the caller and freed.
static zstore_list_t *
s_groups (fixture_t *fixture, zstore_scope_t *scope, zstore_bytes_t prefix)
{
    zstore_list_t *list = NULL;
    int code = scope ? zstore_scope_groups (scope, prefix, &list)
                     : zstore_engine_groups (fixture->engine, prefix, &list);
    if (code != ZSTORE_OK)
        fail_msg ("groups: %s", zstore_engine_error (fixture->engine));
    assert_non_null (list);
    return list;
}

//  Asserts the list's keys are exactly expected, in order, then frees it.
static void
s_assert_list (zstore_list_t **list_p, const zstore_bytes_t *expected, size_t count)
{
    assert_non_null (*list_p);
    assert_int_equal (zstore_list_size (*list_p), count);
    for (size_t index = 0; index < count; index++) {
        const zstore_item_t *item = zstore_list_item (*list_p, index);
        assert_int_equal (item->key_size, expected [index].size);
        if (expected [index].size)
            assert_memory_equal (item->key, expected [index].data, expected [index].size);
    }
    zstore_list_destroy (list_p);
}

#define ASSERT_LIST(list_p, ...) do { \
    zstore_bytes_t names_ [] = { __VA_ARGS__ }; \
    s_assert_list ((list_p), names_, sizeof names_ / sizeof names_ [0]); \
} while (0)

#define ASSERT_GROUPS(fixture, scope, prefix, ...) do { \
    zstore_list_t *groups_list_ = s_groups ((fixture), (scope), (prefix)); \
    ASSERT_LIST (&groups_list_, __VA_ARGS__); \
} while (0)

static void
s_assert_no_groups (fixture_t *fixture, zstore_scope_t *scope, zstore_bytes_t prefix)
{
    zstore_list_t *list = s_groups (fixture, scope, prefix);
    s_assert_list (&list, NULL, 0);
}

//  Asserts event index has this type, group and key, as byte strings.
static void
s_assert_event (fixture_t *fixture, size_t index, zstore_event_type_t type,
                zstore_bytes_t group, zstore_bytes_t key)
{
    assert_true (index < fixture->events.size);
    testkit_event_t *event = &fixture->events.events [index];
    assert_int_equal (event->type, type);
    assert_int_equal (event->group_size, group.size);
    assert_memory_equal (event->group, group.data, group.size);
    assert_int_equal (event->key_size, key.size);
    if (key.size)
        assert_memory_equal (event->key, key.data, key.size);
}

static void
s_clear_events (fixture_t *fixture)
{
    testkit_recorder_clear (&fixture->events);
}

//  --- Namespaces (spec 2.3 Construction, trap 8) ---------------------------

//  105: Namespace() returns the name; a NULL scope gives "".
static void
test_namespace_accessor_returns_name (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = zstore_scope_new (fixture->engine, "tenant-1");
    assert_non_null (scope);
    assert_string_equal (zstore_scope_namespace (scope), "tenant-1");
    assert_int_equal (zstore_scope_max_keys (scope), 0);
    assert_int_equal (zstore_scope_max_groups (scope), 0);
    zstore_scope_destroy (&scope);
    assert_null (scope);
    assert_string_equal (zstore_scope_namespace (NULL), "");
}

//  106: letters, digits and hyphens are valid, hyphens alone too, no length
//  limit (a 300-byte name works end to end).
static void
test_namespace_valid_alphanumeric_hyphens (void **state)
{
    fixture_t *fixture = *state;
    const char *names [] = { "abc", "ABC", "123", "a-b-c", "tenant-42", "A1-B2", "tenant-1",
                             "-", "---", "z", "Z9-", "-a" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        assert_true (zstore_namespace_is_valid (zstore_str (names [index])));
        zstore_scope_t *scope = zstore_scope_new (fixture->engine, names [index]);
        assert_non_null (scope);
        assert_string_equal (zstore_scope_namespace (scope), names [index]);
        zstore_scope_destroy (&scope);
    }
    char long_name [301];
    memset (long_name, 'n', 300);
    long_name [300] = 0;
    zstore_scope_t *scope = s_scope (fixture, long_name, 0, 0);
    s_set_ok (fixture, scope, "g", "k", "v");
    char stored [310];
    snprintf (stored, sizeof stored, "%s:g", long_name);
    assert_int_equal (zstore_engine_get (fixture->engine, zstore_str (stored), LIT ("k"), NULL),
                      ZSTORE_OK);
}

//  107: the empty name (and a NULL name) is invalid.
static void
test_namespace_rejects_empty (void **state)
{
    fixture_t *fixture = *state;
    assert_false (zstore_namespace_is_valid (LIT ("")));
    assert_false (zstore_namespace_is_valid (zstore_bytes (NULL, 0)));
    assert_null (zstore_scope_new (fixture->engine, ""));
    assert_null (zstore_scope_new (fixture->engine, NULL));
}

//  108: a NULL engine gives no scope.
static void
test_namespace_rejects_null_engine (void **state)
{
    (void) state;
    assert_null (zstore_scope_new (NULL, "tenant-a"));
}

//  109, trap 8: every invalid character of 109, a trailing newline (a POSIX
//  "$" would accept "abc\n"), non-ASCII and NUL bytes.
static void
test_namespace_rejects_invalid_chars (void **state)
{
    fixture_t *fixture = *state;
    const char *names [] = { "foo.bar", "foo:bar", "foo bar", "foo/bar", "foo_bar", "tenant!",
                             "@ns", "abc\n", "\nabc", "abc\r", "a\tb", "tenant-a:", "caf\xc3\xa9",
                             ".", ":", " ", "/", "_", "!", "@", "a%", "a^", "a*" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        if (zstore_namespace_is_valid (zstore_str (names [index])))
            fail_msg ("\"%s\" accepted", names [index]);
        assert_null (zstore_scope_new (fixture->engine, names [index]));
    }
    assert_false (zstore_namespace_is_valid (LIT ("ab\0c")));
    assert_false (zstore_namespace_is_valid (LIT ("abc\0")));
    assert_false (zstore_namespace_is_valid (LIT ("\0")));
}

//  Trap 8: the full byte table, alone and in the middle of a name.
static void
test_namespace_byte_table (void **state)
{
    (void) state;
    for (int byte = 0; byte < 256; byte++) {
        bool expected = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')
                     || (byte >= '0' && byte <= '9') || byte == '-';
        char alone [1] = { (char) byte };
        char middle [3] = { 'a', (char) byte, 'a' };
        if (zstore_namespace_is_valid (zstore_bytes (alone, 1)) != expected
        ||  zstore_namespace_is_valid (zstore_bytes (middle, 3)) != expected)
            fail_msg ("byte 0x%02x: expected %s", byte, expected ? "valid" : "invalid");
    }
}

//  110: an invalid namespace, go-store's exact text.
static void
test_scope_new_with_quota_invalid_namespace_message (void **state)
{
    fixture_t *fixture = *state;
    char *error = NULL;
    assert_null (zstore_scope_new_with_quota (fixture->engine, "tenant_a", 0, 0, &error));
    assert_non_null (error);
    assert_non_null (strstr (error, "namespace"));
    assert_string_equal (error, "store.NewScopedWithQuota: namespace \"tenant_a\" is invalid;"
                         " use names like \"tenant-a\" or \"tenant-42\"");
    free (error);
    error = NULL;
    assert_null (zstore_scope_new_with_quota (fixture->engine, "", 0, 0, &error));
    assert_string_equal (error, "store.NewScopedWithQuota: namespace \"\" is invalid;"
                         " use names like \"tenant-a\" or \"tenant-42\"");
    free (error);
    //  Without error_p nothing leaks.
    assert_null (zstore_scope_new_with_quota (fixture->engine, "tenant_a", 0, 0, NULL));
}

//  111: a NULL engine.
static void
test_scope_new_with_quota_nil_engine_message (void **state)
{
    (void) state;
    char *error = NULL;
    assert_null (zstore_scope_new_with_quota (NULL, "tenant-a", 1, 1, &error));
    assert_non_null (error);
    assert_string_equal (error, "store.NewScopedWithQuota: store instance is nil");
    free (error);
}

//  112: a negative MaxKeys, go-store's exact text.
static void
test_scope_new_with_quota_negative_max_keys_message (void **state)
{
    fixture_t *fixture = *state;
    char *error = NULL;
    assert_null (zstore_scope_new_with_quota (fixture->engine, "tenant-a", -1, 0, &error));
    assert_non_null (error);
    assert_non_null (strstr (error, "zero or positive"));
    assert_string_equal (error, "store.NewScopedWithQuota: quota values must be zero or"
                         " positive; got MaxKeys=-1 MaxGroups=0");
    free (error);
}

//  113: a negative MaxGroups.
static void
test_scope_new_with_quota_negative_max_groups_message (void **state)
{
    fixture_t *fixture = *state;
    char *error = NULL;
    assert_null (zstore_scope_new_with_quota (fixture->engine, "tenant-a", 7, -3, &error));
    assert_non_null (error);
    assert_non_null (strstr (error, "zero or positive"));
    assert_string_equal (error, "store.NewScopedWithQuota: quota values must be zero or"
                         " positive; got MaxKeys=7 MaxGroups=-3");
    free (error);
}

//  114: the limits are kept; success leaves *error_p NULL.
static void
test_scope_new_with_quota_stores_limits (void **state)
{
    fixture_t *fixture = *state;
    char *error = (char *) "untouched";
    zstore_scope_t *scope = zstore_scope_new_with_quota (fixture->engine, "tenant-a", 4, 2,
                                                         &error);
    assert_non_null (scope);
    assert_null (error);
    assert_int_equal (zstore_scope_max_keys (scope), 4);
    assert_int_equal (zstore_scope_max_groups (scope), 2);
    zstore_scope_set_quota (scope, 9, 0);
    assert_int_equal (zstore_scope_max_keys (scope), 9);
    assert_int_equal (zstore_scope_max_groups (scope), 0);
    zstore_scope_destroy (&scope);
}

//  --- Scoped operations (spec 2.3 Methods) ---------------------------------

//  115, 117: SetIn / GetFrom round trip, with revisions and the set event.
static void
test_scope_set_in_get_from_round_trip (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    uint64_t revision = 0;
    assert_int_equal (zstore_scope_put (scope, LIT ("config"), LIT ("theme"), LIT ("dark"),
                                        NULL, &revision), ZSTORE_OK);
    assert_int_equal (revision, 1);
    zstore_value_t value;
    assert_int_equal (zstore_scope_get (scope, LIT ("config"), LIT ("theme"), &value), ZSTORE_OK);
    testkit_assert_bytes (value.data, value.size, "dark");
    assert_int_equal (value.create_revision, 1);
    assert_int_equal (value.mod_revision, 1);
    assert_int_equal (value.expires_at, 0);
    zstore_value_reset (&value);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "tenant-a:config", "theme");
    assert_string_equal (fixture->events.events [0].value, "dark");
}

//  116: Set/Get use "<ns>:default"; NotFound names the prefixed group.
static void
test_scope_default_group_helpers (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, ZSTORE_DEFAULT_GROUP, "k", "v");
    zstore_value_t value;
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("tenant-a:default"), LIT ("k"),
                                         &value), ZSTORE_OK);
    testkit_assert_bytes (value.data, value.size, "v");
    zstore_value_reset (&value);
    s_assert_value (fixture, scope, ZSTORE_DEFAULT_GROUP, "k", "v");
    assert_int_equal (zstore_scope_get (scope, zstore_str (ZSTORE_DEFAULT_GROUP),
                                        LIT ("missing"), NULL), ZSTORE_NOT_FOUND);
    assert_string_equal (zstore_engine_error (fixture->engine),
                         "store.Get: tenant-a:default/missing: store: not found");
}

//  118, 125, 126, 127: a group's rows in key order, only the namespace's.
static void
test_scope_get_all_sorted_and_isolated (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "items", "charlie", "3");
    s_set_ok (fixture, alpha, "items", "alpha", "1");
    s_set_ok (fixture, alpha, "items", "bravo", "2");
    s_set_ok (fixture, beta, "items", "delta", "4");
    zstore_list_t *rows = NULL;
    assert_int_equal (zstore_scope_get_all (alpha, LIT ("items"), &rows), ZSTORE_OK);
    assert_int_equal (zstore_list_size (rows), 3);
    testkit_assert_bytes (zstore_list_item (rows, 0)->value, zstore_list_item (rows, 0)->value_size,
                          "1");
    testkit_assert_bytes (zstore_list_item (rows, 2)->value, zstore_list_item (rows, 2)->value_size,
                          "3");
    ASSERT_LIST (&rows, LIT ("alpha"), LIT ("bravo"), LIT ("charlie"));
    assert_int_equal (zstore_scope_get_all (beta, LIT ("items"), &rows), ZSTORE_OK);
    ASSERT_LIST (&rows, LIT ("delta"));
    assert_int_equal (zstore_scope_get_all (beta, LIT ("none"), &rows), ZSTORE_OK);
    s_assert_list (&rows, NULL, 0);
}

//  119: GetPage (0, 2) in key order; the page arguments are validated.
static void
test_scope_get_page (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "g", "charlie", "3");
    s_set_ok (fixture, scope, "g", "alpha", "1");
    s_set_ok (fixture, scope, "g", "bravo", "2");
    zstore_list_t *page = NULL;
    assert_int_equal (zstore_scope_get_page (scope, LIT ("g"), 0, 2, &page), ZSTORE_OK);
    ASSERT_LIST (&page, LIT ("alpha"), LIT ("bravo"));
    assert_int_equal (zstore_scope_get_page (scope, LIT ("g"), 2, 5, &page), ZSTORE_OK);
    ASSERT_LIST (&page, LIT ("charlie"));
    assert_int_equal (zstore_scope_get_page (scope, LIT ("g"), 0, 0, &page), ZSTORE_OK);
    s_assert_list (&page, NULL, 0);
    assert_int_equal (zstore_scope_get_page (scope, LIT ("g"), -1, 2, &page), ZSTORE_INVALID);
    assert_null (page);
    assert_string_equal (zstore_engine_error (fixture->engine),
                         "store.GetPage: offset must be zero or positive");
    assert_int_equal (zstore_scope_get_page (scope, LIT ("g"), 0, -1, &page), ZSTORE_INVALID);
    assert_string_equal (zstore_engine_error (fixture->engine),
                         "store.GetPage: limit must be zero or positive");
}

//  120: the row is stored under "tenant-a:config"; the bare group is empty.
static void
test_scope_prefixes_group_in_engine (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "config", "k", "v");
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("tenant-a:config"), LIT ("k"),
                                         NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("config"), LIT ("k"), NULL),
                      ZSTORE_NOT_FOUND);
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("tenant-a:config"));
}

//  121: the same group and key in two namespaces are independent.
static void
test_scope_namespace_isolation (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "config", "colour", "blue");
    s_set_ok (fixture, beta, "config", "colour", "red");
    s_assert_value (fixture, alpha, "config", "colour", "blue");
    s_assert_value (fixture, beta, "config", "colour", "red");
    assert_int_equal (zstore_scope_delete (alpha, LIT ("config"), LIT ("colour"),
                                           ZSTORE_ANY_REVISION, NULL), ZSTORE_OK);
    s_assert_missing (alpha, "config", "colour");
    s_assert_value (fixture, beta, "config", "colour", "red");
}

//  122: Delete, then NotFound; one delete event with the prefixed group; a
//  second delete changes nothing.
static void
test_scope_delete (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "g", "k", "v");
    uint64_t revision = 0;
    assert_int_equal (zstore_scope_delete (scope, LIT ("g"), LIT ("k"), ZSTORE_ANY_REVISION,
                                           &revision), ZSTORE_OK);
    assert_int_equal (revision, 2);
    s_assert_missing (scope, "g", "k");
    assert_int_equal (zstore_scope_delete (scope, LIT ("g"), LIT ("k"), ZSTORE_ANY_REVISION,
                                           &revision), ZSTORE_OK);
    assert_int_equal (revision, 0);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE, "tenant-a:g", "k");
    assert_int_equal (fixture->events.events [1].prev_revision, 1);
}

//  123: DeleteGroup empties the group: one delete_group event.
static void
test_scope_delete_group (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "g", "a", "1");
    s_set_ok (fixture, scope, "g", "b", "2");
    s_set_ok (fixture, scope, "other", "c", "3");
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_group (scope, LIT ("g"), NULL), ZSTORE_OK);
    assert_int_equal (s_count (scope, "g"), 0);
    assert_int_equal (s_count (scope, "other"), 1);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:g", "");
}

//  124, trap 5: DeletePrefix("") wipes every group of the namespace, expired
//  ones too, one delete_group per group in ascending order; tenant-b stays.
static void
test_scope_delete_prefix_empty_wipes_own_namespace (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "sessions", "s", "1");
    s_set_ok (fixture, alpha, "config", "c", "2");
    s_set_ttl_ok (fixture, alpha, "old", "o", "3", 10);
    s_set_ok (fixture, beta, "config", "c", "4");
    fixture->now += 10;
    s_clear_events (fixture);
    uint64_t revision = 0;
    assert_int_equal (zstore_scope_delete_prefix (alpha, LIT (""), &revision), ZSTORE_OK);
    assert_int_equal (revision, 5);
    assert_int_equal (fixture->events.size, 3);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:config", "");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:old", "");
    testkit_assert_event (&fixture->events, 2, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:sessions",
                          "");
    assert_int_equal (s_count_all (fixture, alpha, LIT ("")), 0);
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("tenant-b:config"));
    s_assert_value (fixture, beta, "config", "c", "4");
}

//  Scoped DeletePrefix with a non-empty prefix stays inside the namespace.
static void
test_scope_delete_prefix_with_prefix (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "cache-1", "k", "1");
    s_set_ok (fixture, alpha, "cache-2", "k", "2");
    s_set_ok (fixture, alpha, "config", "k", "3");
    s_set_ok (fixture, beta, "cache-1", "k", "4");
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (alpha, LIT ("cache-"), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:cache-1", "");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:cache-2", "");
    ASSERT_GROUPS (fixture, alpha, LIT (""), LIT ("config"));
    ASSERT_GROUPS (fixture, beta, LIT (""), LIT ("cache-1"));
}

//  128: Count of a scoped group counts live rows only.
static void
test_scope_count (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "g", "a", "1");
    s_set_ok (fixture, scope, "g", "b", "2");
    s_set_ttl_ok (fixture, scope, "g", "c", "3", 5);
    s_set_ok (fixture, scope, "h", "d", "4");
    assert_int_equal (s_count (scope, "g"), 3);
    fixture->now += 5;
    assert_int_equal (s_count (scope, "g"), 2);
    assert_int_equal (s_count (scope, "none"), 0);
}

//  129, 130, traps 2-3: SetWithTTL is readable until its expiry, not at it;
//  the lazy removal emits an expire event with the prefixed group.
static void
test_scope_set_with_ttl_readable_then_expires (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ttl_ok (fixture, scope, "g", "session", "token", 1000);
    zstore_value_t value;
    assert_int_equal (zstore_scope_get (scope, LIT ("g"), LIT ("session"), &value), ZSTORE_OK);
    assert_int_equal (value.expires_at, T0 + 1000);
    zstore_value_reset (&value);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "tenant-a:g", "session");
    assert_int_equal (fixture->events.events [0].expires_at, T0 + 1000);
    fixture->now += 999;
    s_assert_value (fixture, scope, "g", "session", "token");
    fixture->now += 1;
    s_assert_missing (scope, "g", "session");
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_EXPIRE, "tenant-a:g", "session");
}

//  131: Render on a scoped group (needs the template renderer).
static void
test_scope_render (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "user", "name", "Alice");
    s_set_ok (fixture, beta, "user", "name", "Bob");
    char *output = NULL;
    size_t size = 0;
    int code = zstore_scope_render (alpha, LIT ("Hello {{ .name }}"), LIT ("user"), &output,
                                    &size);
    if (code != ZSTORE_OK)
        fail_msg ("render: %s", zstore_engine_error (fixture->engine));
    testkit_assert_bytes (output, size, "Hello Alice");
    free (output);
}

//  132: CountAll and Groups on the scope see its namespace only, names
//  stripped of "<ns>:".
static void
test_scope_count_all_and_groups (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ok (fixture, alpha, "config", "colour", "blue");
    s_set_ok (fixture, alpha, "sessions", "token", "abc");
    s_set_ok (fixture, beta, "config", "colour", "red");
    s_set_ok (fixture, beta, "config", "size", "xl");
    assert_int_equal (s_count_all (fixture, alpha, LIT ("")), 2);
    assert_int_equal (s_count_all (fixture, alpha, LIT ("config")), 1);
    assert_int_equal (s_count_all (fixture, beta, LIT ("")), 2);
    ASSERT_GROUPS (fixture, alpha, LIT (""), LIT ("config"), LIT ("sessions"));
    ASSERT_GROUPS (fixture, alpha, LIT ("conf"), LIT ("config"));
    s_assert_no_groups (fixture, alpha, LIT ("x"));
}

//  134: Groups are sorted by byte order and stripped.
static void
test_scope_groups_sorted (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "charlie", "k", "v");
    s_set_ok (fixture, scope, "alpha", "k", "v");
    s_set_ok (fixture, scope, "bravo", "k", "v");
    s_set_ok (fixture, scope, "Zulu", "k", "v");
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("Zulu"), LIT ("alpha"), LIT ("bravo"),
                   LIT ("charlie"));
}

//  135 (adapted: no scoped get_split/get_fields in the header): a scoped
//  value split with Go's strings.Split and strings.Fields via the engine.
static void
test_scope_split_and_fields_via_engine (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "g", "csv", "alpha,beta,gamma");
    s_set_ok (fixture, scope, "g", "text", "one two\tthree\n");
    zstore_list_t *parts = NULL;
    assert_int_equal (zstore_engine_get_split (fixture->engine, LIT ("tenant-a:g"), LIT ("csv"),
                                               LIT (","), &parts), ZSTORE_OK);
    ASSERT_LIST (&parts, LIT ("alpha"), LIT ("beta"), LIT ("gamma"));
    assert_int_equal (zstore_engine_get_fields (fixture->engine, LIT ("tenant-a:g"),
                                                LIT ("text"), &parts), ZSTORE_OK);
    ASSERT_LIST (&parts, LIT ("one"), LIT ("two"), LIT ("three"));
}

//  136: scoped PurgeExpired removes the namespace's expired row (one expire
//  event), leaves the live one.
static void
test_scope_purge_expired_removes_own (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ttl_ok (fixture, scope, "g", "temp", "1", 1);
    s_set_ok (fixture, scope, "g", "keep", "2");
    fixture->now += 1;
    s_clear_events (fixture);
    int64_t removed = -1;
    assert_int_equal (zstore_scope_purge_expired (scope, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_EXPIRE, "tenant-a:g", "temp");
    s_assert_missing (scope, "g", "temp");
    s_assert_value (fixture, scope, "g", "keep", "2");
    assert_int_equal (zstore_scope_purge_expired (scope, &removed), ZSTORE_OK);
    assert_int_equal (removed, 0);
}

//  137: purging tenant-a leaves tenant-b's expired row on disk (a global
//  purge still finds it).
static void
test_scope_purge_expired_namespace_local (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    s_set_ttl_ok (fixture, alpha, "g", "a", "1", 1);
    s_set_ttl_ok (fixture, beta, "g", "b", "2", 1);
    fixture->now += 1;
    s_clear_events (fixture);
    int64_t removed = -1;
    assert_int_equal (zstore_scope_purge_expired (alpha, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    assert_int_equal (zstore_engine_purge_expired (fixture->engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_EXPIRE, "tenant-a:g", "a");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_EXPIRE, "tenant-b:g", "b");
}

//  102, 138 (adapted): scoped writes reach engine sinks with the full
//  prefixed group; removing the sink stops delivery.
static void
test_scope_events_carry_prefixed_group (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    s_set_ok (fixture, scope, "config", "theme", "dark");
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "tenant-a:config", "theme");
    assert_string_equal (fixture->events.events [0].value, "dark");
    zstore_engine_remove_event_sink (fixture->engine, fixture->sink);
    s_set_ok (fixture, scope, "config", "theme", "light");
    assert_int_equal (fixture->events.size, 1);
}

//  Events whose group starts with prefix, byte-exact and case-sensitive
//  (go-store's HasPrefix in the scoped Watch("*") / OnChange filter).
static size_t
s_events_with_prefix (fixture_t *fixture, const char *prefix, size_t *first_p)
{
    size_t count = 0, length = strlen (prefix);
    for (size_t index = 0; index < fixture->events.size; index++) {
        testkit_event_t *event = &fixture->events.events [index];
        if (event->group_size >= length && memcmp (event->group, prefix, length) == 0) {
            if (count++ == 0)
                *first_p = index;
        }
    }
    return count;
}

//  139, 140 (adapted): events of every namespace, in commit order, with the
//  full group; a namespace filter picks only tenant-a's (not Tenant-A's,
//  not tenant-ab's).
static void
test_scope_events_filtered_by_namespace_prefix (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 0, 0);
    zstore_scope_t *upper = s_scope (fixture, "Tenant-A", 0, 0);
    zstore_scope_t *longer = s_scope (fixture, "tenant-ab", 0, 0);
    s_set_ok (fixture, beta, "config", "theme", "light");
    s_set_ok (fixture, alpha, "config", "theme", "dark");
    s_set_ok (fixture, upper, "config", "theme", "blue");
    s_set_ok (fixture, longer, "config", "theme", "red");
    assert_int_equal (fixture->events.size, 4);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "tenant-b:config", "theme");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_SET, "tenant-a:config", "theme");
    testkit_assert_event (&fixture->events, 2, ZSTORE_EVENT_SET, "Tenant-A:config", "theme");
    testkit_assert_event (&fixture->events, 3, ZSTORE_EVENT_SET, "tenant-ab:config", "theme");
    size_t first = 99;
    assert_int_equal (s_events_with_prefix (fixture, "tenant-a:", &first), 1);
    assert_int_equal (first, 1);
    assert_string_equal (fixture->events.events [first].value, "dark");
}

//  Appends a mismatch to report unless the call returned CLOSED with the
//  expected message.
static void
s_check_closed (zstore_engine_t *engine, int code, const char *expected, char *report,
                size_t report_size)
{
    const char *actual = zstore_engine_error (engine);
    if (code == ZSTORE_CLOSED && strcmp (actual, expected) == 0)
        return;
    size_t used = strlen (report);
    snprintf (report + used, report_size - used, "\n  want \"%s\" got %s \"%s\"", expected,
              zstore_engine_code_name (code), actual);
}

#define CHECK_CLOSED(call, expected) \
    s_check_closed (engine, (call), (expected), report, sizeof report)

//  Trap 13, spec 2.3 "Readiness": every scoped operation on a closed engine
//  is CLOSED, named with go-store's scoped op "store.ScopedStore.<Method>"
//  (Groups: "store.Groups"). All mismatches are reported at once.
static void
test_scope_closed_engine (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 5, 5);
    s_set_ok (fixture, scope, "g", "k", "v");
    assert_int_equal (zstore_engine_close (fixture->engine), ZSTORE_OK);
    zstore_engine_t *engine = fixture->engine;
    zstore_bytes_t g = LIT ("g"), k = LIT ("k"), v = LIT ("v");
    zstore_list_t *list = NULL;
    int64_t count = 0;
    char *output = NULL;
    char report [4096] = "";
    CHECK_CLOSED (zstore_scope_get (scope, g, k, NULL), "store.ScopedStore.Get: store is closed");
    CHECK_CLOSED (s_set (scope, g, k, v), "store.ScopedStore.SetIn: store is closed");
    CHECK_CLOSED (s_set_ttl (scope, g, k, v, 10), "store.ScopedStore.SetWithTTL: store is closed");
    CHECK_CLOSED (zstore_scope_delete (scope, g, k, ZSTORE_ANY_REVISION, NULL),
                  "store.ScopedStore.Delete: store is closed");
    CHECK_CLOSED (zstore_scope_delete_group (scope, g, NULL),
                  "store.ScopedStore.DeleteGroup: store is closed");
    CHECK_CLOSED (zstore_scope_delete_prefix (scope, g, NULL),
                  "store.ScopedStore.DeletePrefix: store is closed");
    CHECK_CLOSED (zstore_scope_count (scope, g, &count),
                  "store.ScopedStore.Count: store is closed");
    CHECK_CLOSED (zstore_scope_get_all (scope, g, &list),
                  "store.ScopedStore.GetAll: store is closed");
    CHECK_CLOSED (zstore_scope_get_page (scope, g, 0, 1, &list),
                  "store.ScopedStore.GetPage: store is closed");
    CHECK_CLOSED (zstore_scope_count_all (scope, g, &count),
                  "store.ScopedStore.CountAll: store is closed");
    CHECK_CLOSED (zstore_scope_groups (scope, g, &list), "store.Groups: store is closed");
    CHECK_CLOSED (zstore_scope_render (scope, LIT ("x"), g, &output, NULL),
                  "store.ScopedStore.Render: store is closed");
    CHECK_CLOSED (zstore_scope_purge_expired (scope, &count),
                  "store.ScopedStore.PurgeExpired: store is closed");
    assert_null (list);
    assert_null (output);
    if (*report) {
        print_error ("scoped operations on a closed engine:%s\n", report);
        fail ();
    }
}

//  --- Quotas (spec 2.3 Quota check, trap 9) --------------------------------

//  141: MaxKeys 5 allows 5 keys; the 6th is QUOTA_EXCEEDED, go-store's text.
static void
test_quota_max_keys_rejects_sixth (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 5, 0);
    char key [16];
    for (int index = 0; index < 5; index++) {
        snprintf (key, sizeof key, "k%d", index);
        s_set_ok (fixture, scope, ZSTORE_DEFAULT_GROUP, key, "v");
    }
    s_assert_quota (fixture, s_set (scope, LIT (ZSTORE_DEFAULT_GROUP), LIT ("k5"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (5): store: quota exceeded");
    assert_string_equal (zstore_engine_code_name (ZSTORE_QUOTA_EXCEEDED), "quota_exceeded");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 5);
}

//  sqlite3_auto_extension hook: remembers the last connection opened.
static sqlite3 *s_last_connection;

static int
s_capture_connection (sqlite3 *db, const char **error_p, const struct sqlite3_api_routines *api)
{
    (void) error_p;
    (void) api;
    s_last_connection = db;
    return SQLITE_OK;
}

//  An authorizer that denies the count() function (SQLITE_FUNCTION passes
//  the function's name as the second string).
static int
s_deny_count (void *arg, int action, const char *a, const char *name, const char *c,
              const char *d)
{
    (void) arg; (void) a; (void) c; (void) d;
    return action == SQLITE_FUNCTION && name && strcasecmp (name, "count") == 0 ? SQLITE_DENY
                                                                                 : SQLITE_OK;
}

//  142: a database failure inside the quota check is INTERNAL, "quota
//  check", not QUOTA_EXCEEDED; nothing is written, nothing is emitted; a
//  live key's upsert needs no check and still works.
static void
test_quota_check_query_error (void **state)
{
    fixture_t *fixture = *state;
    s_last_connection = NULL;
    assert_int_equal (sqlite3_auto_extension ((void (*) (void)) s_capture_connection), SQLITE_OK);
    fixture->other = testkit_engine (fixture->path);
    sqlite3_cancel_auto_extension ((void (*) (void)) s_capture_connection);
    sqlite3 *db = s_last_connection;
    s_last_connection = NULL;
    assert_non_null (db);
    zstore_engine_t *engine = fixture->other;
    testkit_recorder_t *events = &fixture->other_events;
    zstore_engine_add_event_sink (engine, testkit_record_event, events);
    zstore_scope_t *keys = s_scope_on (fixture, engine, "tenant-a", 5, 0);
    zstore_scope_t *groups = s_scope_on (fixture, engine, "tenant-b", 0, 5);
    //  Prepare the quota statements, then make SQLite re-prepare them.
    assert_int_equal (s_set (keys, LIT ("g"), LIT ("k1"), LIT ("v")), ZSTORE_OK);
    assert_int_equal (s_set (groups, LIT ("g1"), LIT ("k"), LIT ("v")), ZSTORE_OK);
    assert_int_equal (sqlite3_set_authorizer (db, s_deny_count, NULL), SQLITE_OK);
    uint64_t revision = zstore_engine_revision (engine);
    static const char expected [] = "store.ScopedStore.SetIn: quota check: not authorized";

    assert_int_equal (s_set (keys, LIT ("g"), LIT ("k2"), LIT ("v")), ZSTORE_INTERNAL);
    if (strncmp (zstore_engine_error (engine), expected, sizeof expected - 1) != 0)
        fail_msg ("unexpected message: %s", zstore_engine_error (engine));
    assert_int_equal (s_set (groups, LIT ("g2"), LIT ("k"), LIT ("v")), ZSTORE_INTERNAL);
    if (strncmp (zstore_engine_error (engine), expected, sizeof expected - 1) != 0)
        fail_msg ("unexpected message: %s", zstore_engine_error (engine));
    assert_int_equal (zstore_engine_revision (engine), revision);
    assert_int_equal (events->size, 2);
    //  Upserts of live keys skip the check.
    assert_int_equal (s_set (keys, LIT ("g"), LIT ("k1"), LIT ("w")), ZSTORE_OK);
    assert_int_equal (events->size, 3);

    assert_int_equal (sqlite3_set_authorizer (db, NULL, NULL), SQLITE_OK);
    assert_int_equal (zstore_scope_get (keys, LIT ("g"), LIT ("k2"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (s_set (keys, LIT ("g"), LIT ("k2"), LIT ("v")), ZSTORE_OK);
    assert_int_equal (s_set (groups, LIT ("g2"), LIT ("k"), LIT ("v")), ZSTORE_OK);
}

//  143: MaxKeys counts across the namespace's groups.
static void
test_quota_max_keys_across_groups (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 3, 0);
    s_set_ok (fixture, scope, "g1", "a", "1");
    s_set_ok (fixture, scope, "g2", "b", "2");
    s_set_ok (fixture, scope, "g3", "c", "3");
    s_assert_quota (fixture, s_set (scope, LIT ("g4"), LIT ("d"), LIT ("4")),
                    "store.ScopedStore.SetIn: key limit (3): store: quota exceeded");
    s_assert_quota (fixture, s_set (scope, LIT ("g1"), LIT ("e"), LIT ("5")),
                    "store.ScopedStore.SetIn: key limit (3): store: quota exceeded");
}

//  144, trap 9: at the limit, an upsert of a live key (plain or with TTL)
//  is allowed and is an update (prev_revision set, count unchanged).
static void
test_quota_upsert_of_live_key_allowed (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 1);
    s_set_ok (fixture, scope, "g", "a", "1");
    s_set_ok (fixture, scope, "g", "b", "2");
    s_set_ok (fixture, scope, "g", "a", "updated");
    s_set_ttl_ok (fixture, scope, "g", "b", "refreshed", 1000);
    s_assert_value (fixture, scope, "g", "a", "updated");
    s_assert_value (fixture, scope, "g", "b", "refreshed");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 2);
    assert_int_equal (fixture->events.size, 4);
    testkit_assert_event (&fixture->events, 2, ZSTORE_EVENT_SET, "tenant-a:g", "a");
    assert_int_equal (fixture->events.events [2].prev_revision, 1);
    testkit_assert_event (&fixture->events, 3, ZSTORE_EVENT_SET, "tenant-a:g", "b");
    assert_int_equal (fixture->events.events [3].prev_revision, 2);
}

//  145: deleting a key frees a slot.
static void
test_quota_delete_frees_slot (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 0);
    s_set_ok (fixture, scope, "g", "a", "1");
    s_set_ok (fixture, scope, "g", "b", "2");
    assert_int_equal (s_set (scope, LIT ("g"), LIT ("c"), LIT ("3")), ZSTORE_QUOTA_EXCEEDED);
    assert_int_equal (zstore_scope_delete (scope, LIT ("g"), LIT ("a"), ZSTORE_ANY_REVISION,
                                           NULL), ZSTORE_OK);
    s_set_ok (fixture, scope, "g", "c", "3");
    assert_int_equal (s_set (scope, LIT ("g"), LIT ("d"), LIT ("4")), ZSTORE_QUOTA_EXCEEDED);
}

//  146, 152: zero means unlimited, for keys and for groups.
static void
test_quota_zero_is_unlimited (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    char name [16];
    for (int index = 0; index < 100; index++) {
        snprintf (name, sizeof name, "k%03d", index);
        s_set_ok (fixture, scope, "g", name, "v");
    }
    for (int index = 0; index < 50; index++) {
        snprintf (name, sizeof name, "g%02d", index);
        s_set_ok (fixture, scope, name, "k", "v");
    }
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 150);
    zstore_list_t *list = s_groups (fixture, scope, LIT (""));
    assert_int_equal (zstore_list_size (list), 51);
    zstore_list_destroy (&list);
}

//  147, trap 2: expired keys do not count; the boundary is expires_at <= now.
static void
test_quota_expired_keys_excluded (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 3, 0);
    s_set_ttl_ok (fixture, scope, "g", "e1", "x", 100);
    s_set_ttl_ok (fixture, scope, "g", "e2", "x", 100);
    s_set_ok (fixture, scope, "g", "live", "x");
    fixture->now += 99;
    assert_int_equal (s_set (scope, LIT ("g"), LIT ("n1"), LIT ("x")), ZSTORE_QUOTA_EXCEEDED);
    fixture->now += 1;
    s_set_ok (fixture, scope, "g", "n1", "x");
    s_set_ok (fixture, scope, "other", "n2", "x");
    s_assert_quota (fixture, s_set (scope, LIT ("g"), LIT ("n3"), LIT ("x")),
                    "store.ScopedStore.SetIn: key limit (3): store: quota exceeded");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 3);
}

//  148: SetWithTTL obeys MaxKeys, with its own op name.
static void
test_quota_set_with_ttl_enforced (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 0);
    s_set_ttl_ok (fixture, scope, "g", "a", "1", 60000);
    s_set_ttl_ok (fixture, scope, "g", "b", "2", 60000);
    s_assert_quota (fixture, s_set_ttl (scope, LIT ("g"), LIT ("c"), LIT ("3"), 60000),
                    "store.ScopedStore.SetWithTTL: key limit (2): store: quota exceeded");
    s_assert_quota (fixture, s_set (scope, LIT ("g"), LIT ("c"), LIT ("3")),
                    "store.ScopedStore.SetIn: key limit (2): store: quota exceeded");
}

//  149: MaxGroups 3 allows 3 groups; the 4th is QUOTA_EXCEEDED.
static void
test_quota_max_groups (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 3);
    s_set_ok (fixture, scope, "g1", "k", "v");
    s_set_ok (fixture, scope, "g2", "k", "v");
    s_set_ok (fixture, scope, "g3", "k", "v");
    s_assert_quota (fixture, s_set (scope, LIT ("g4"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (3): store: quota exceeded");
    s_assert_quota (fixture, s_set_ttl (scope, LIT ("g4"), LIT ("k"), LIT ("v"), 10),
                    "store.ScopedStore.SetWithTTL: group limit (3): store: quota exceeded");
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("g1"), LIT ("g2"), LIT ("g3"));
}

//  150: at the group limit, new keys in existing groups are allowed.
static void
test_quota_max_groups_existing_group_ok (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 2);
    s_set_ok (fixture, scope, "g1", "a", "1");
    s_set_ok (fixture, scope, "g2", "b", "2");
    s_set_ok (fixture, scope, "g1", "c", "3");
    s_set_ok (fixture, scope, "g2", "d", "4");
    s_set_ttl_ok (fixture, scope, "g2", "e", "5", 1000);
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 5);
    assert_int_equal (s_set (scope, LIT ("g3"), LIT ("a"), LIT ("1")), ZSTORE_QUOTA_EXCEEDED);
}

//  151: DeleteGroup frees a group slot.
static void
test_quota_max_groups_delete_and_recreate (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 2);
    s_set_ok (fixture, scope, "g1", "k", "v");
    s_set_ok (fixture, scope, "g2", "k", "v");
    assert_int_equal (s_set (scope, LIT ("g3"), LIT ("k"), LIT ("v")), ZSTORE_QUOTA_EXCEEDED);
    assert_int_equal (zstore_scope_delete_group (scope, LIT ("g1"), NULL), ZSTORE_OK);
    s_set_ok (fixture, scope, "g3", "k", "v");
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("g2"), LIT ("g3"));
}

//  153: a group with only expired rows does not count.
static void
test_quota_max_groups_expired_group_excluded (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 2);
    s_set_ttl_ok (fixture, scope, "old", "k", "v", 10);
    s_set_ok (fixture, scope, "g1", "k", "v");
    assert_int_equal (s_set (scope, LIT ("g2"), LIT ("k"), LIT ("v")), ZSTORE_QUOTA_EXCEEDED);
    fixture->now += 10;
    s_set_ok (fixture, scope, "g2", "k", "v");
    s_assert_quota (fixture, s_set (scope, LIT ("g3"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (2): store: quota exceeded");
}

//  Trap 9: MaxGroups is checked when the target group has no live rows, so
//  a group holding only expired rows is a new group.
static void
test_quota_max_groups_expired_target_is_new (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 2);
    s_set_ttl_ok (fixture, scope, "old", "k", "v", 10);
    fixture->now += 10;
    s_set_ok (fixture, scope, "g1", "k", "v");
    s_set_ok (fixture, scope, "g2", "k", "v");
    s_assert_quota (fixture, s_set (scope, LIT ("old"), LIT ("other"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (2): store: quota exceeded");
    s_assert_quota (fixture, s_set (scope, LIT ("old"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (2): store: quota exceeded");
    s_set_ok (fixture, scope, "g1", "more", "v");
}

//  154: MaxKeys 10 and MaxGroups 2: the 3rd group fails on the group limit,
//  more keys in existing groups pass until the key limit.
static void
test_quota_both_limits (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 10, 2);
    s_set_ok (fixture, scope, "g1", "a", "1");
    s_set_ok (fixture, scope, "g2", "b", "2");
    s_assert_quota (fixture, s_set (scope, LIT ("g3"), LIT ("c"), LIT ("3")),
                    "store.ScopedStore.SetIn: group limit (2): store: quota exceeded");
    char key [16];
    for (int index = 0; index < 8; index++) {
        snprintf (key, sizeof key, "x%d", index);
        s_set_ok (fixture, scope, index % 2 ? "g1" : "g2", key, "v");
    }
    s_assert_quota (fixture, s_set (scope, LIT ("g1"), LIT ("last"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (10): store: quota exceeded");
    //  Both exceeded: the key limit is reported.
    s_assert_quota (fixture, s_set (scope, LIT ("g3"), LIT ("last"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (10): store: quota exceeded");
}

//  155: quotas are per namespace.
static void
test_quota_per_namespace (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *alpha = s_scope (fixture, "tenant-a", 1, 1);
    zstore_scope_t *beta = s_scope (fixture, "tenant-b", 1, 1);
    s_set_ok (fixture, alpha, "g", "k", "v");
    assert_int_equal (s_set (alpha, LIT ("g"), LIT ("k2"), LIT ("v")), ZSTORE_QUOTA_EXCEEDED);
    s_set_ok (fixture, beta, "h", "k", "v");
    assert_int_equal (s_set (beta, LIT ("g"), LIT ("k2"), LIT ("v")), ZSTORE_QUOTA_EXCEEDED);
}

//  Trap 9: a rejected write changes nothing and emits nothing: no row, no
//  revision, no event; an expired row it would have replaced stays (no
//  expire event) until a write is allowed, which then emits expire + set.
static void
test_quota_rejected_write_changes_nothing (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 1, 0);
    s_set_ttl_ok (fixture, scope, "g", "old", "x", 10);
    fixture->now += 10;
    s_set_ok (fixture, scope, "g", "live", "y");
    uint64_t revision = zstore_engine_revision (fixture->engine);
    assert_int_equal (revision, 2);
    s_clear_events (fixture);

    uint64_t reported = 99;
    assert_int_equal (zstore_scope_put (scope, LIT ("g"), LIT ("new"), LIT ("z"), NULL,
                                        &reported), ZSTORE_QUOTA_EXCEEDED);
    assert_int_equal (reported, 0);
    assert_int_equal (s_set (scope, LIT ("g"), LIT ("old"), LIT ("z")), ZSTORE_QUOTA_EXCEEDED);
    assert_int_equal (zstore_engine_revision (fixture->engine), revision);
    assert_int_equal (fixture->events.size, 0);
    bool exists = true;
    assert_int_equal (zstore_engine_exists (fixture->engine, LIT ("tenant-a:g"), LIT ("new"),
                                            &exists), ZSTORE_OK);
    assert_false (exists);
    assert_int_equal (s_count (scope, "g"), 1);

    //  Free the slot: rewriting the expired key ends its old life first.
    assert_int_equal (zstore_scope_delete (scope, LIT ("g"), LIT ("live"), ZSTORE_ANY_REVISION,
                                           NULL), ZSTORE_OK);
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_put (scope, LIT ("g"), LIT ("old"), LIT ("z"), NULL,
                                        &reported), ZSTORE_OK);
    assert_int_equal (reported, 4);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_EXPIRE, "tenant-a:g", "old");
    assert_int_equal (fixture->events.events [0].prev_revision, 1);
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_SET, "tenant-a:g", "old");
    assert_int_equal (fixture->events.events [1].prev_revision, 0);
    assert_int_equal (fixture->events.events [1].revision, 4);
}

//  Spec 2.3 "Properties": negative limits set after construction act as
//  unlimited, each dimension on its own.
static void
test_quota_negative_via_set_quota_is_unlimited (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 1, 1);
    zstore_scope_set_quota (scope, -1, -1);
    assert_int_equal (zstore_scope_max_keys (scope), -1);
    assert_int_equal (zstore_scope_max_groups (scope), -1);
    char name [16];
    for (int index = 0; index < 20; index++) {
        snprintf (name, sizeof name, "g%02d", index);
        s_set_ok (fixture, scope, name, "k", "v");
    }
    zstore_scope_set_quota (scope, -5, 21);
    s_set_ok (fixture, scope, "g20", "k", "v");
    s_set_ok (fixture, scope, "g20", "k2", "v");
    s_assert_quota (fixture, s_set (scope, LIT ("g21"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (21): store: quota exceeded");
    zstore_scope_set_quota (scope, 22, -1);
    s_assert_quota (fixture, s_set (scope, LIT ("g21"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (22): store: quota exceeded");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 22);
}

//  Spec 2.3: engine (Store) writes bypass the quota, but their rows count
//  against later scoped writes.
static void
test_quota_engine_writes_bypass_but_count (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 1);
    s_engine_set (fixture, LIT ("tenant-a:x"), "k1", "v");
    s_engine_set (fixture, LIT ("tenant-a:x"), "k2", "v");
    s_engine_set (fixture, LIT ("tenant-a:y"), "k3", "v");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 3);
    s_assert_quota (fixture, s_set (scope, LIT ("x"), LIT ("k4"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (2): store: quota exceeded");
    s_set_ok (fixture, scope, "x", "k1", "updated");
}

//  zstore: inside a transaction the quota sees the transaction's own
//  writes; a rejection does not doom it; events come after the commit.
static void
test_quota_inside_transaction (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 0);
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_set_ok (fixture, scope, "g", "a", "1");
    s_set_ok (fixture, scope, "g", "b", "2");
    s_assert_quota (fixture, s_set (scope, LIT ("g"), LIT ("c"), LIT ("3")),
                    "store.ScopedStore.SetIn: key limit (2): store: quota exceeded");
    assert_true (zstore_engine_in_transaction (fixture->engine));
    assert_int_equal (fixture->events.size, 0);
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_commit (fixture->engine, &revision), ZSTORE_OK);
    assert_int_equal (revision, 1);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "tenant-a:g", "a");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_SET, "tenant-a:g", "b");
    assert_int_equal (fixture->events.events [1].revision, 1);
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 2);
}

//  --- Atomic quotas across processes (zstore, trap 9 last point) -----------

#define CHILDREN 8
#define ATTEMPTS 20
#define LIMIT 50
#define OPEN_CYCLES 10

typedef struct {
    bool by_group;                  //  each write creates a group (max_groups), else a key
    bool open_together;             //  open after the start signal, all at once
} run_t;

typedef struct {
    int ok;
    int quota;
    int other;
    char error [200];
} tally_t;

static zstore_engine_t *
s_child_open (const char *path, const run_t *run, tally_t *tally, zstore_scope_t **scope_p)
{
    char *error = NULL;
    zstore_engine_t *engine = zstore_engine_new (path, &error);
    if (engine) {
        zstore_engine_set_synchronous (engine, ZSTORE_SYNC_OFF);
        *scope_p = zstore_scope_new_with_quota (engine, "tenant-a", run->by_group ? 0 : LIMIT,
                                                run->by_group ? LIMIT : 0, NULL);
    }
    else
        snprintf (tally->error, sizeof tally->error, "%s", error ? error : "open failed");
    free (error);
    return engine;
}

//  A child: its own engine and scope on the same file, then ATTEMPTS new
//  keys once the parent closes the start pipe. Never returns.
static void
s_child (const char *path, int child, const run_t *run, int ready_fd, int start_fd,
         int report_fd)
{
    alarm (60);                                     //  bounded, even if something hangs
    tally_t tally;
    memset (&tally, 0, sizeof tally);
    zstore_engine_t *engine = NULL;
    zstore_scope_t *scope = NULL;
    if (!run->open_together)
        engine = s_child_open (path, run, &tally, &scope);
    char byte = 'r';
    if (write (ready_fd, &byte, 1) != 1)
        _exit (4);
    while (read (start_fd, &byte, 1) < 0 && errno == EINTR)
        ;                                           //  EOF: go
    //  Opening together: several open/close cycles, so that opens meet
    //  other processes' first opens and last closes.
    for (int cycle = 0; run->open_together && cycle < OPEN_CYCLES && !tally.other; cycle++) {
        engine = s_child_open (path, run, &tally, &scope);
        if (!engine)
            tally.other++;
        else
        if (cycle < OPEN_CYCLES - 1) {
            zstore_scope_destroy (&scope);
            zstore_engine_destroy (&engine);
        }
    }
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        char group [32], key [32];
        if (run->by_group)
            snprintf (group, sizeof group, "g-%d-%02d", child, attempt);
        else
            snprintf (group, sizeof group, "shared");
        snprintf (key, sizeof key, "c%d-k%02d", child, attempt);
        int code = scope ? zstore_scope_put (scope, zstore_str (group), zstore_str (key),
                                             LIT ("v"), NULL, NULL)
                         : ZSTORE_INTERNAL;
        if (code == ZSTORE_OK)
            tally.ok++;
        else
        if (code == ZSTORE_QUOTA_EXCEEDED)
            tally.quota++;
        else
        if (tally.other++ == 0 && engine)
            snprintf (tally.error, sizeof tally.error, "%s", zstore_engine_error (engine));
    }
    zstore_scope_destroy (&scope);
    zstore_engine_destroy (&engine);
    ssize_t written = write (report_fd, &tally, sizeof tally);
    _exit (written == (ssize_t) sizeof tally ? 0 : 3);
}

//  Runs CHILDREN writers at once and sums their tallies. Unless
//  run->open_together, each child opens its engine before the next is
//  forked, so only the writes race. The fixture's engine is closed first
//  (no SQLite connection may cross a fork) and reopened afterwards.
static void
s_run_children (fixture_t *fixture, const run_t *run, tally_t *total)
{
    zstore_engine_destroy (&fixture->engine);
    int ready [2], start [2], report [2];
    assert_int_equal (pipe (ready), 0);
    assert_int_equal (pipe (start), 0);
    assert_int_equal (pipe (report), 0);
    pid_t pids [CHILDREN];
    int forked = 0;
    for (int child = 0; child < CHILDREN; child++) {
        pid_t pid = fork ();
        if (pid == 0) {
            close (ready [0]);
            close (start [1]);
            close (report [0]);
            s_child (fixture->path, child, run, ready [1], start [0], report [1]);
        }
        if (pid < 0)
            break;
        pids [forked++] = pid;
        char byte;
        while (read (ready [0], &byte, 1) < 0 && errno == EINTR)
            ;                                       //  opened (or failed to)
    }
    close (start [1]);                              //  all children go at once
    close (ready [1]);
    close (report [1]);
    char failures [512] = "";
    for (int index = 0; index < forked; index++) {
        int status = 0;
        while (waitpid (pids [index], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
            size_t used = strlen (failures);
            snprintf (failures + used, sizeof failures - used, " child %d: status 0x%x;",
                      index, (unsigned) status);
        }
    }
    memset (total, 0, sizeof *total);
    tally_t tally;
    int reports = 0;
    while (read (report [0], &tally, sizeof tally) == (ssize_t) sizeof tally) {
        reports++;
        total->ok += tally.ok;
        total->quota += tally.quota;
        total->other += tally.other;
        if (tally.other && !*total->error)
            memcpy (total->error, tally.error, sizeof total->error);
    }
    close (report [0]);
    close (start [0]);
    close (ready [0]);
    fixture->engine = testkit_engine (fixture->path);
    s_attach (fixture);
    assert_int_equal (forked, CHILDREN);
    if (*failures)
        fail_msg ("children failed:%s", failures);
    assert_int_equal (reports, CHILDREN);
    if (total->other)
        fail_msg ("%d writes failed with neither OK nor QUOTA_EXCEEDED, first: %s",
                  total->other, total->error);
}

//  The namespace holds exactly LIMIT keys (and groups, by_group), committed
//  as LIMIT changes.
static void
s_assert_limit_reached (fixture_t *fixture, const run_t *run, const tally_t *total)
{
    assert_int_equal (total->ok, LIMIT);
    assert_int_equal (total->quota, CHILDREN * ATTEMPTS - LIMIT);
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 0, 0);
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), LIMIT);
    zstore_list_t *groups = s_groups (fixture, scope, LIT (""));
    assert_int_equal (zstore_list_size (groups), run->by_group ? LIMIT : 1);
    zstore_list_destroy (&groups);
    assert_int_equal (zstore_engine_revision (fixture->engine), LIMIT);
}

//  zstore atomic quota: 8 processes x 20 new keys through max_keys 50 end
//  with exactly 50 live keys, and exactly 50 writes reported success.
static void
test_quota_atomic_max_keys_across_processes (void **state)
{
    fixture_t *fixture = *state;
    run_t run = { false, false };
    tally_t total;
    s_run_children (fixture, &run, &total);
    s_assert_limit_reached (fixture, &run, &total);
}

//  zstore atomic quota: the same with max_groups 50, one new group per write.
static void
test_quota_atomic_max_groups_across_processes (void **state)
{
    fixture_t *fixture = *state;
    run_t run = { true, false };
    tally_t total;
    s_run_children (fixture, &run, &total);
    s_assert_limit_reached (fixture, &run, &total);
}

//  Header: "Several processes may open the same file". 8 processes that
//  open the same file at the same moment, then write through max_keys 50:
//  every open succeeds and the quota holds.
static void
test_quota_atomic_processes_open_together (void **state)
{
    fixture_t *fixture = *state;
    run_t run = { false, true };
    tally_t total;
    s_run_children (fixture, &run, &total);
    s_assert_limit_reached (fixture, &run, &total);
}

//  --- Byte-exact prefixes (zstore; go-store's LIKE: traps 6-7) -------------

//  Trap 7: "Tenant-A" and "TENANT-A" keys do not count toward tenant-a's
//  key or group quota (go-store's LIKE shared them).
static void
test_prefix_case_namespaces_have_separate_quotas (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *lower = s_scope (fixture, "tenant-a", 2, 0);
    zstore_scope_t *upper = s_scope (fixture, "Tenant-A", 0, 0);
    zstore_scope_t *shout = s_scope (fixture, "TENANT-A", 0, 0);
    zstore_scope_t *groups = s_scope (fixture, "tenant-b", 0, 1);
    zstore_scope_t *groups_upper = s_scope (fixture, "Tenant-B", 0, 0);
    for (int index = 0; index < 5; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        s_set_ok (fixture, upper, index % 2 ? "g1" : "g2", key, "v");
        s_set_ok (fixture, groups_upper, key, "k", "v");
    }
    s_set_ok (fixture, shout, "g", "k", "v");
    s_set_ok (fixture, lower, "g", "k1", "v");
    s_set_ok (fixture, lower, "g", "k2", "v");
    s_assert_quota (fixture, s_set (lower, LIT ("g"), LIT ("k3"), LIT ("v")),
                    "store.ScopedStore.SetIn: key limit (2): store: quota exceeded");
    s_set_ok (fixture, groups, "only", "k", "v");
    s_assert_quota (fixture, s_set (groups, LIT ("second"), LIT ("k"), LIT ("v")),
                    "store.ScopedStore.SetIn: group limit (1): store: quota exceeded");
    assert_int_equal (s_count_all (fixture, lower, LIT ("")), 2);
    assert_int_equal (s_count_all (fixture, upper, LIT ("")), 5);
    assert_int_equal (s_count_all (fixture, shout, LIT ("")), 1);
    assert_int_equal (s_count_all (fixture, groups, LIT ("")), 1);
}

//  Trap 7: scoped DeletePrefix("") never touches the other-case namespaces.
static void
test_prefix_case_scoped_delete_prefix_stays_in_namespace (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *lower = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *upper = s_scope (fixture, "Tenant-A", 0, 0);
    zstore_scope_t *shout = s_scope (fixture, "TENANT-A", 0, 0);
    s_set_ok (fixture, lower, "config", "k", "1");
    s_set_ok (fixture, lower, "sessions", "k", "2");
    s_set_ok (fixture, upper, "config", "k", "3");
    s_set_ok (fixture, upper, "x", "k", "4");
    s_set_ok (fixture, shout, "config", "k", "5");
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (lower, LIT (""), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:config", "");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:sessions",
                          "");
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("TENANT-A:config"), LIT ("Tenant-A:config"),
                   LIT ("Tenant-A:x"));
    s_assert_value (fixture, upper, "config", "k", "3");
    s_assert_value (fixture, shout, "config", "k", "5");
}

//  Trap 7: scoped PurgeExpired, CountAll and Groups stay in their namespace;
//  Groups never returns an untrimmed other-case name.
static void
test_prefix_case_scoped_purge_count_groups (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *lower = s_scope (fixture, "tenant-a", 0, 0);
    zstore_scope_t *upper = s_scope (fixture, "Tenant-A", 0, 0);
    s_set_ok (fixture, lower, "g", "live", "1");
    s_set_ttl_ok (fixture, lower, "g", "old", "2", 10);
    s_set_ok (fixture, upper, "g", "live", "3");
    s_set_ok (fixture, upper, "h", "live", "4");
    s_set_ttl_ok (fixture, upper, "g", "old", "5", 10);
    fixture->now += 10;
    assert_int_equal (s_count_all (fixture, lower, LIT ("")), 1);
    assert_int_equal (s_count_all (fixture, upper, LIT ("")), 2);
    ASSERT_GROUPS (fixture, lower, LIT (""), LIT ("g"));
    ASSERT_GROUPS (fixture, upper, LIT (""), LIT ("g"), LIT ("h"));
    s_clear_events (fixture);
    int64_t removed = -1;
    assert_int_equal (zstore_scope_purge_expired (lower, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_EXPIRE, "tenant-a:g", "old");
    assert_int_equal (zstore_engine_purge_expired (fixture->engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_EXPIRE, "Tenant-A:g", "old");
}

//  "tenant-a:" matches neither "tenant-ab:x" nor its neighbours in byte
//  order ("tenant-a9:x" below, "tenant-a;" the exclusive upper bound), but
//  does match the scoped empty group "tenant-a:".
static void
test_prefix_longer_namespace_not_matched (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "tenant-a", 2, 0);
    zstore_scope_t *longer = s_scope (fixture, "tenant-ab", 0, 0);
    s_set_ok (fixture, longer, "x", "k", "v");
    s_engine_set (fixture, LIT ("tenant-a"), "k", "v");
    s_engine_set (fixture, LIT ("tenant-a9:x"), "k", "v");
    s_engine_set (fixture, LIT ("tenant-a;"), "k", "v");
    s_engine_set (fixture, LIT ("tenant-a;x"), "k", "v");
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 0);
    s_assert_no_groups (fixture, scope, LIT (""));
    s_set_ok (fixture, scope, "", "k", "v");
    s_set_ok (fixture, scope, "z", "k", "v");
    assert_int_equal (s_set (scope, LIT ("x"), LIT ("k"), LIT ("v")), ZSTORE_QUOTA_EXCEEDED);
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT (""), LIT ("z"));
    assert_int_equal (s_count_all (fixture, longer, LIT ("")), 1);
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (scope, LIT (""), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:", "");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE_GROUP, "tenant-a:z", "");
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("tenant-a"), LIT ("tenant-a9:x"),
                   LIT ("tenant-a;"), LIT ("tenant-a;x"), LIT ("tenant-ab:x"));
}

//  Trap 7: NUL bytes in groups are data (LIKE stopped at them): "a\0"
//  matches "a\0" and "a\0b", never "a", "ab" or "a\x01".
static void
test_prefix_nul_bytes_in_groups (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "ns", 0, 0);
    zstore_bytes_t names [] = { LIT ("a"), LIT ("a\0"), LIT ("a\0b"), LIT ("a\x01"), LIT ("ab"),
                                LIT ("b") };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++)
        assert_int_equal (s_set (scope, names [index], LIT ("k\0ey"), LIT ("v")), ZSTORE_OK);
    assert_int_equal (s_count_all (fixture, scope, LIT ("a\0")), 2);
    assert_int_equal (s_count_all (fixture, scope, LIT ("a")), 5);
    ASSERT_GROUPS (fixture, scope, LIT ("a\0"), LIT ("a\0"), LIT ("a\0b"));
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("a"), LIT ("a\0"), LIT ("a\0b"), LIT ("a\x01"),
                   LIT ("ab"), LIT ("b"));
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (scope, LIT ("a\0"), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 2);
    s_assert_event (fixture, 0, ZSTORE_EVENT_DELETE_GROUP, LIT ("ns:a\0"), LIT (""));
    s_assert_event (fixture, 1, ZSTORE_EVENT_DELETE_GROUP, LIT ("ns:a\0b"), LIT (""));
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("a"), LIT ("a\x01"), LIT ("ab"), LIT ("b"));
    assert_int_equal (zstore_scope_get (scope, LIT ("a"), LIT ("k\0ey"), NULL), ZSTORE_OK);
    assert_int_equal (zstore_scope_get (scope, LIT ("a"), LIT ("k"), NULL), ZSTORE_NOT_FOUND);
}

//  157, trap 6: '_', '%' and '^' are literal bytes: "user_" gives 3,
//  "user%" gives 1 (on the engine, as go-store's test, and in a scope);
//  no case folding ("USER_1").
static void
test_prefix_like_wildcards_are_literal (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "ns", 0, 0);
    const char *names [] = { "user_1", "user_2", "user%test", "user_test", "userX1", "USER_1",
                             "user^x", "user^^y", "user^_z" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        s_engine_set (fixture, zstore_str (names [index]), "k", "v");
        s_set_ok (fixture, scope, names [index], "k", "v");
    }
    assert_int_equal (s_count_all (fixture, NULL, LIT ("user_")), 3);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("user%")), 1);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("user^")), 3);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("user^^")), 1);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("user^_")), 1);
    assert_int_equal (s_count_all (fixture, scope, LIT ("user_")), 3);
    assert_int_equal (s_count_all (fixture, scope, LIT ("user%")), 1);
    assert_int_equal (s_count_all (fixture, scope, LIT ("user^")), 3);
    ASSERT_GROUPS (fixture, scope, LIT ("user_"), LIT ("user_1"), LIT ("user_2"),
                   LIT ("user_test"));
    ASSERT_GROUPS (fixture, NULL, LIT ("user%"), LIT ("user%test"));
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (scope, LIT ("user%"), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "ns:user%test", "");
}

//  zstore ranges: the upper bound after trailing 0xFF bytes ("a\xff" ->
//  "b"), and no upper bound for all-0xFF prefixes.
static void
test_prefix_trailing_ff_bytes (void **state)
{
    fixture_t *fixture = *state;
    zstore_bytes_t names [] = { LIT ("a"), LIT ("a\xff"), LIT ("a\xff\x01"), LIT ("a\xff\xff"),
                                LIT ("a\xff\xff\xff"), LIT ("b"), LIT ("b\xff"), LIT ("\xfe"),
                                LIT ("\xff"), LIT ("\xff\xff") };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++)
        s_engine_set (fixture, names [index], "k", "v");
    assert_int_equal (s_count_all (fixture, NULL, LIT ("a")), 5);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("a\xff")), 4);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("a\xff\xff")), 2);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("\xff")), 2);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("\xff\xff")), 1);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("\xfe")), 1);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("b")), 2);
    ASSERT_GROUPS (fixture, NULL, LIT ("a\xff"), LIT ("a\xff"), LIT ("a\xff\x01"),
                   LIT ("a\xff\xff"), LIT ("a\xff\xff\xff"));
    ASSERT_GROUPS (fixture, NULL, LIT ("\xff"), LIT ("\xff"), LIT ("\xff\xff"));
    s_clear_events (fixture);
    assert_int_equal (zstore_engine_delete_prefix (fixture->engine, LIT ("a\xff"), NULL),
                      ZSTORE_OK);
    assert_int_equal (fixture->events.size, 4);
    s_assert_event (fixture, 0, ZSTORE_EVENT_DELETE_GROUP, LIT ("a\xff"), LIT (""));
    s_assert_event (fixture, 1, ZSTORE_EVENT_DELETE_GROUP, LIT ("a\xff\x01"), LIT (""));
    s_assert_event (fixture, 2, ZSTORE_EVENT_DELETE_GROUP, LIT ("a\xff\xff"), LIT (""));
    s_assert_event (fixture, 3, ZSTORE_EVENT_DELETE_GROUP, LIT ("a\xff\xff\xff"), LIT (""));
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("a"), LIT ("b"), LIT ("b\xff"), LIT ("\xfe"),
                   LIT ("\xff"), LIT ("\xff\xff"));
    assert_int_equal (zstore_engine_delete_prefix (fixture->engine, LIT ("\xff"), NULL),
                      ZSTORE_OK);
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("a"), LIT ("b"), LIT ("b\xff"), LIT ("\xfe"));
}

//  The same bounds inside a scope: group prefixes ending in 0xFF; purge of
//  a scope whose groups end in 0xFF.
static void
test_prefix_trailing_ff_in_scope (void **state)
{
    fixture_t *fixture = *state;
    zstore_scope_t *scope = s_scope (fixture, "ns", 0, 0);
    zstore_scope_t *next = s_scope (fixture, "nt", 0, 0);
    zstore_bytes_t names [] = { LIT ("x"), LIT ("\xfe"), LIT ("\xff"), LIT ("\xff\xff") };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        assert_int_equal (s_set (scope, names [index], LIT ("k"), LIT ("v")), ZSTORE_OK);
        assert_int_equal (s_set_ttl (scope, names [index], LIT ("t"), LIT ("v"), 5), ZSTORE_OK);
    }
    s_set_ttl_ok (fixture, next, "\xff", "t", "v", 5);
    s_engine_set (fixture, LIT ("ns;"), "k", "v");
    assert_int_equal (s_count_all (fixture, scope, LIT ("\xff")), 4);
    fixture->now += 5;
    assert_int_equal (s_count_all (fixture, scope, LIT ("\xff")), 2);
    assert_int_equal (s_count_all (fixture, scope, LIT ("")), 4);
    ASSERT_GROUPS (fixture, scope, LIT ("\xff"), LIT ("\xff"), LIT ("\xff\xff"));
    ASSERT_GROUPS (fixture, scope, LIT (""), LIT ("x"), LIT ("\xfe"), LIT ("\xff"),
                   LIT ("\xff\xff"));
    int64_t removed = -1;
    assert_int_equal (zstore_scope_purge_expired (scope, &removed), ZSTORE_OK);
    assert_int_equal (removed, 4);
    assert_int_equal (zstore_engine_purge_expired (fixture->engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    s_clear_events (fixture);
    assert_int_equal (zstore_scope_delete_prefix (scope, LIT ("\xff"), NULL), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 2);
    s_assert_event (fixture, 0, ZSTORE_EVENT_DELETE_GROUP, LIT ("ns:\xff"), LIT (""));
    s_assert_event (fixture, 1, ZSTORE_EVENT_DELETE_GROUP, LIT ("ns:\xff\xff"), LIT (""));
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("ns:x"), LIT ("ns:\xfe"), LIT ("ns;"));
}

//  --- Store-level prefix helpers of scope_test.go (156, 158-160) ----------

//  156: CountAll("ns-a:") 3, ("ns-b:") 1.
static void
test_count_all_with_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_engine_set (fixture, LIT ("ns-a:group-1"), "k1", "v");
    s_engine_set (fixture, LIT ("ns-a:group-1"), "k2", "v");
    s_engine_set (fixture, LIT ("ns-a:group-2"), "k1", "v");
    s_engine_set (fixture, LIT ("ns-b:group-1"), "k1", "v");
    assert_int_equal (s_count_all (fixture, NULL, LIT ("ns-a:")), 3);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("ns-b:")), 1);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("ns-c:")), 0);
}

//  158: CountAll("") counts every live row.
static void
test_count_all_empty_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_engine_set (fixture, LIT ("g1"), "k", "v");
    s_engine_set (fixture, LIT ("g2"), "k", "v");
    assert_int_equal (zstore_engine_set_with_ttl (fixture->engine, LIT ("g3"), LIT ("k"),
                                                  LIT ("v"), 0, NULL), ZSTORE_OK);
    assert_int_equal (s_count_all (fixture, NULL, LIT ("")), 2);
}

//  159: Groups("ns-a:") lists that prefix's groups, full names, sorted.
static void
test_groups_with_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_engine_set (fixture, LIT ("ns-a:group-2"), "k", "v");
    s_engine_set (fixture, LIT ("ns-a:group-1"), "k", "v");
    s_engine_set (fixture, LIT ("ns-b:group-1"), "k", "v");
    ASSERT_GROUPS (fixture, NULL, LIT ("ns-a:"), LIT ("ns-a:group-1"), LIT ("ns-a:group-2"));
}

//  160: Groups("") lists every group with live rows.
static void
test_groups_empty_prefix (void **state)
{
    fixture_t *fixture = *state;
    s_engine_set (fixture, LIT ("g2"), "k", "v");
    s_engine_set (fixture, LIT ("g1"), "k", "v");
    ASSERT_GROUPS (fixture, NULL, LIT (""), LIT ("g1"), LIT ("g2"));
}

#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        TEST (test_namespace_accessor_returns_name),
        TEST (test_namespace_valid_alphanumeric_hyphens),
        TEST (test_namespace_rejects_empty),
        TEST (test_namespace_rejects_null_engine),
        TEST (test_namespace_rejects_invalid_chars),
        TEST (test_namespace_byte_table),
        TEST (test_scope_new_with_quota_invalid_namespace_message),
        TEST (test_scope_new_with_quota_nil_engine_message),
        TEST (test_scope_new_with_quota_negative_max_keys_message),
        TEST (test_scope_new_with_quota_negative_max_groups_message),
        TEST (test_scope_new_with_quota_stores_limits),
        TEST (test_scope_set_in_get_from_round_trip),
        TEST (test_scope_default_group_helpers),
        TEST (test_scope_get_all_sorted_and_isolated),
        TEST (test_scope_get_page),
        TEST (test_scope_prefixes_group_in_engine),
        TEST (test_scope_namespace_isolation),
        TEST (test_scope_delete),
        TEST (test_scope_delete_group),
        TEST (test_scope_delete_prefix_empty_wipes_own_namespace),
        TEST (test_scope_delete_prefix_with_prefix),
        TEST (test_scope_count),
        TEST (test_scope_set_with_ttl_readable_then_expires),
        TEST (test_scope_render),
        TEST (test_scope_count_all_and_groups),
        TEST (test_scope_groups_sorted),
        TEST (test_scope_split_and_fields_via_engine),
        TEST (test_scope_purge_expired_removes_own),
        TEST (test_scope_purge_expired_namespace_local),
        TEST (test_scope_events_carry_prefixed_group),
        TEST (test_scope_events_filtered_by_namespace_prefix),
        TEST (test_scope_closed_engine),
        TEST (test_quota_max_keys_rejects_sixth),
        TEST (test_quota_check_query_error),
        TEST (test_quota_max_keys_across_groups),
        TEST (test_quota_upsert_of_live_key_allowed),
        TEST (test_quota_delete_frees_slot),
        TEST (test_quota_zero_is_unlimited),
        TEST (test_quota_expired_keys_excluded),
        TEST (test_quota_set_with_ttl_enforced),
        TEST (test_quota_max_groups),
        TEST (test_quota_max_groups_existing_group_ok),
        TEST (test_quota_max_groups_delete_and_recreate),
        TEST (test_quota_max_groups_expired_group_excluded),
        TEST (test_quota_max_groups_expired_target_is_new),
        TEST (test_quota_both_limits),
        TEST (test_quota_per_namespace),
        TEST (test_quota_rejected_write_changes_nothing),
        TEST (test_quota_negative_via_set_quota_is_unlimited),
        TEST (test_quota_engine_writes_bypass_but_count),
        TEST (test_quota_inside_transaction),
        TEST (test_quota_atomic_max_keys_across_processes),
        TEST (test_quota_atomic_max_groups_across_processes),
        TEST (test_quota_atomic_processes_open_together),
        TEST (test_prefix_case_namespaces_have_separate_quotas),
        TEST (test_prefix_case_scoped_delete_prefix_stays_in_namespace),
        TEST (test_prefix_case_scoped_purge_count_groups),
        TEST (test_prefix_longer_namespace_not_matched),
        TEST (test_prefix_nul_bytes_in_groups),
        TEST (test_prefix_like_wildcards_are_literal),
        TEST (test_prefix_trailing_ff_bytes),
        TEST (test_prefix_trailing_ff_in_scope),
        TEST (test_count_all_with_prefix),
        TEST (test_count_all_empty_prefix),
        TEST (test_groups_with_prefix),
        TEST (test_groups_empty_prefix),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
