//  Snapshots: every scope kind against a model of the rows, with names that
//  trip LIKE-style or C-string matching (NUL bytes, 0xFF bytes, tenant-a vs
//  tenant-ab, Tenant-A); expiry at open; pages of every size; a 200,000-key
//  file view read while 1,000 writes commit; in-memory stores; misuse;
//  destroying a view half read.

#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000

//  A zstore_bytes_t usable in static initialisers (keeps embedded NULs).
#define B(s) { (s), sizeof (s) - 1 }

typedef struct {
    char *dir;
    char *path;
    zstore_engine_t *engine;
    int64_t now;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->path = testkit_path (fixture->dir, "store.db");
    fixture->engine = testkit_engine (fixture->path);
    fixture->now = T0;
    zstore_engine_set_clock (fixture->engine, testkit_clock, &fixture->now);
    assert_int_equal (zstore_engine_set_synchronous (fixture->engine, ZSTORE_SYNC_OFF),
                      ZSTORE_OK);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_destroy (&fixture->engine);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->path);
    free (fixture);
    return 0;
}

//  --- Helpers ----------------------------------------------------------------

static zstore_view_scope_t
s_scope (zstore_scope_kind_t kind, zstore_bytes_t group, zstore_bytes_t key)
{
    zstore_view_scope_t scope = { kind, group, key };
    return scope;
}

static zstore_snapshot_t *
s_snapshot (zstore_engine_t *engine, zstore_view_scope_t scope)
{
    char *error = NULL;
    zstore_snapshot_t *snapshot = zstore_snapshot_new (engine, &scope, &error);
    if (!snapshot)
        fail_msg ("zstore_snapshot_new: %s", error ? error : "?");
    assert_null (error);
    return snapshot;
}

static zstore_list_t *
s_next (zstore_snapshot_t *snapshot, size_t limit)
{
    zstore_list_t *page = NULL;
    char *error = NULL;
    int code = zstore_snapshot_next (snapshot, limit, &page, &error);
    if (code)
        fail_msg ("zstore_snapshot_next: %s", error ? error : "?");
    assert_non_null (page);
    assert_true (zstore_list_size (page) <= limit);
    return page;
}

static void
s_append_copy (zstore_list_t *list, const zstore_item_t *item)
{
    zstore_item_t *copy = zstore_list_append_grouped (list, item->group, item->group_size,
                                                      item->key, item->key_size,
                                                      item->value, item->value_size);
    assert_non_null (copy);
    copy->create_revision = item->create_revision;
    copy->mod_revision = item->mod_revision;
    copy->expires_at = item->expires_at;
}

//  More rows than any view in these tests holds: a view that repeats rows
//  fails instead of looping.
#define MAX_ROWS 300000

//  Reads the rest of the view in pages of page_size: every page but the
//  last non-empty one is full, count follows, and then pages stay empty.
static zstore_list_t *
s_read_all (zstore_snapshot_t *snapshot, size_t page_size)
{
    zstore_list_t *all = zstore_list_new ();
    uint64_t handed_out = zstore_snapshot_count (snapshot);
    bool short_seen = false;
    while (true) {
        zstore_list_t *page = s_next (snapshot, page_size);
        size_t size = zstore_list_size (page);
        if (size)
            assert_false (short_seen);
        short_seen = short_seen || size < page_size;
        for (size_t index = 0; index < size; index++)
            s_append_copy (all, zstore_list_item (page, index));
        zstore_list_destroy (&page);
        assert_int_equal (zstore_snapshot_count (snapshot), handed_out + zstore_list_size (all));
        assert_true (zstore_list_size (all) <= MAX_ROWS);
        if (!size)
            break;
    }
    zstore_list_t *page = s_next (snapshot, page_size);
    assert_int_equal (zstore_list_size (page), 0);
    zstore_list_destroy (&page);
    return all;
}

static int
s_compare_items (const zstore_item_t *a, const zstore_item_t *b)
{
    int order = zstore_bytes_compare (a->group, a->group_size, b->group, b->group_size);
    return order ? order : zstore_bytes_compare (a->key, a->key_size, b->key, b->key_size);
}

//  Same rows, same order, same contents and metadata.
static void
s_assert_lists_equal (const zstore_list_t *actual, const zstore_list_t *expected)
{
    assert_int_equal (zstore_list_size (actual), zstore_list_size (expected));
    for (size_t index = 0; index < zstore_list_size (actual); index++) {
        const zstore_item_t *a = zstore_list_item (actual, index);
        const zstore_item_t *b = zstore_list_item (expected, index);
        assert_int_equal (s_compare_items (a, b), 0);
        assert_int_equal (a->value_size, b->value_size);
        assert_memory_equal (a->value, b->value, a->value_size);
        assert_int_equal (a->create_revision, b->create_revision);
        assert_int_equal (a->mod_revision, b->mod_revision);
        assert_int_equal (a->expires_at, b->expires_at);
    }
}

static void
s_assert_item (const zstore_item_t *item, zstore_bytes_t group, zstore_bytes_t key)
{
    assert_non_null (item);
    assert_int_equal (item->group_size, group.size);
    assert_memory_equal (item->group, group.data, group.size);
    assert_int_equal (item->key_size, key.size);
    assert_memory_equal (item->key, key.data, key.size);
}

//  --- A model of adversarial rows ------------------------------------------------

typedef struct {
    zstore_bytes_t group;
    zstore_bytes_t key;
    int64_t ttl_ms;                 //  0: no TTL; 10: expired at open; else live
} row_t;

static const row_t s_rows [] = {
    { B (""), B ("k"), 0 },
    { B ("a"), B ("k"), 0 },
    { B ("a\xff"), B ("k"), 0 },
    { B ("a\xff"), B ("k\0"), 0 },
    { B ("a\xff"), B ("expired"), 10 },
    { B ("a\xff\xff"), B ("k"), 0 },
    { B ("a\xff:b"), B ("k"), 0 },
    { B ("b"), B ("k"), 0 },
    { B ("tenant-a"), B ("k"), 0 },
    { B ("tenant-a:"), B ("k"), 0 },
    { B ("tenant-a:x"), B (""), 0 },
    { B ("tenant-a:x"), B ("k"), 0 },
    { B ("tenant-a:x"), B ("k\0"), 0 },
    { B ("tenant-a:x"), B ("k\0\0"), 0 },
    { B ("tenant-a:x"), B ("k1"), 0 },
    { B ("tenant-a:x"), B ("k2"), 60000 },
    { B ("tenant-a:x"), B ("k\xff"), 0 },
    { B ("tenant-a:x"), B ("k\xff\xff"), 0 },
    { B ("tenant-a:x"), B ("k\xffz"), 0 },
    { B ("tenant-a:x"), B ("l"), 0 },
    { B ("tenant-a:x"), B ("expired"), 10 },
    { B ("tenant-a:y"), B ("k"), 0 },
    { B ("tenant-a\0z"), B ("k"), 0 },
    { B ("tenant-a\0z"), B ("k\0"), 0 },
    { B ("tenant-ab:x"), B ("k"), 0 },
    { B ("Tenant-A:x"), B ("k"), 0 },
    { B ("TENANT-A:x"), B ("k"), 0 },
    { B ("tenant_a:x"), B ("k"), 0 },
    { B ("\xff"), B ("k"), 0 },
    { B ("\xff\xff"), B ("k"), 0 },
    { B ("\xff\xff"), B ("\xff"), 0 },
};
#define ROW_COUNT (sizeof s_rows / sizeof s_rows [0])

static bool
s_starts_with (zstore_bytes_t name, zstore_bytes_t prefix)
{
    return name.size >= prefix.size && memcmp (name.data, prefix.data, prefix.size) == 0;
}

static bool
s_equal (zstore_bytes_t a, zstore_bytes_t b)
{
    return a.size == b.size && memcmp (a.data, b.data, a.size) == 0;
}

static bool
s_in_scope (const row_t *row, const zstore_view_scope_t *scope)
{
    switch (scope->kind) {
        case ZSTORE_SCOPE_ALL:
            return true;
        case ZSTORE_SCOPE_GROUP_PREFIX:
            return s_starts_with (row->group, scope->group);
        case ZSTORE_SCOPE_GROUP:
            return s_equal (row->group, scope->group);
        case ZSTORE_SCOPE_KEY_PREFIX:
            return s_equal (row->group, scope->group) && s_starts_with (row->key, scope->key);
        case ZSTORE_SCOPE_KEY:
            return s_equal (row->group, scope->group) && s_equal (row->key, scope->key);
    }
    return false;
}

//  Writes the model (values "<index>"); *metadata gets each row's item.
static void
s_write_model (zstore_engine_t *engine, int64_t *now, zstore_list_t *metadata)
{
    for (size_t index = 0; index < ROW_COUNT; index++) {
        const row_t *row = &s_rows [index];
        char value [16];
        snprintf (value, sizeof value, "%zu", index);
        zstore_write_t options = { row->ttl_ms != 0, row->ttl_ms, ZSTORE_ANY_REVISION };
        uint64_t revision = 0;
        assert_int_equal (zstore_engine_put (engine, row->group, row->key, zstore_str (value),
                                             &options, &revision), ZSTORE_OK);
        zstore_item_t *item = zstore_list_append_grouped (metadata, row->group.data,
                                                          row->group.size, row->key.data,
                                                          row->key.size, value, strlen (value));
        item->create_revision = item->mod_revision = revision;
        item->expires_at = row->ttl_ms ? *now + row->ttl_ms : 0;
    }
    *now += 10;                     //  the rows with a TTL of 10 are now expired
}

//  The rows a scope should show, in (group, key) order.
static zstore_list_t *
s_expected (const zstore_list_t *metadata, const zstore_view_scope_t *scope)
{
    const zstore_item_t *sorted [ROW_COUNT];
    size_t size = 0;
    for (size_t index = 0; index < ROW_COUNT; index++)
        if (s_rows [index].ttl_ms != 10 && s_in_scope (&s_rows [index], scope))
            sorted [size++] = zstore_list_item (metadata, index);
    for (size_t index = 1; index < size; index++)          //  insertion sort
        for (size_t back = index; back > 0
             && s_compare_items (sorted [back - 1], sorted [back]) > 0; back--) {
            const zstore_item_t *swap = sorted [back];
            sorted [back] = sorted [back - 1];
            sorted [back - 1] = swap;
        }
    zstore_list_t *expected = zstore_list_new ();
    for (size_t index = 0; index < size; index++)
        s_append_copy (expected, sorted [index]);
    return expected;
}

typedef struct {
    zstore_scope_kind_t kind;
    zstore_bytes_t group;
    zstore_bytes_t key;
    size_t rows;                    //  hand-counted, so the model is checked too
} scope_case_t;

static const scope_case_t s_cases [] = {
    { ZSTORE_SCOPE_ALL, B (""), B (""), 29 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B (""), B (""), 29 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("tenant-a:"), B (""), 12 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("tenant-a"), B (""), 16 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("tenant-a\0"), B (""), 2 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("Tenant-A"), B (""), 1 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("a\xff"), B (""), 4 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("a"), B (""), 5 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("\xff"), B (""), 3 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("\xff\xff"), B (""), 2 },
    { ZSTORE_SCOPE_GROUP_PREFIX, B ("zzz"), B (""), 0 },
    { ZSTORE_SCOPE_GROUP, B ("tenant-a:x"), B (""), 10 },
    { ZSTORE_SCOPE_GROUP, B ("tenant-a"), B (""), 1 },
    { ZSTORE_SCOPE_GROUP, B ("tenant-a\0z"), B (""), 2 },
    { ZSTORE_SCOPE_GROUP, B (""), B (""), 1 },
    { ZSTORE_SCOPE_GROUP, B ("a\xff"), B (""), 2 },
    { ZSTORE_SCOPE_GROUP, B ("missing"), B (""), 0 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a:x"), B (""), 10 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a:x"), B ("k"), 8 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a:x"), B ("k\0"), 2 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a:x"), B ("k\xff"), 3 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a:x"), B ("k\xff\xff"), 1 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("tenant-a"), B ("k"), 1 },
    { ZSTORE_SCOPE_KEY_PREFIX, B ("\xff\xff"), B ("\xff"), 1 },
    { ZSTORE_SCOPE_KEY, B ("tenant-a:x"), B ("k"), 1 },
    { ZSTORE_SCOPE_KEY, B ("tenant-a:x"), B ("k\0"), 1 },
    { ZSTORE_SCOPE_KEY, B ("tenant-a:x"), B (""), 1 },
    { ZSTORE_SCOPE_KEY, B ("tenant-a:x"), B ("expired"), 0 },
    { ZSTORE_SCOPE_KEY, B ("Tenant-A:x"), B ("k"), 1 },
    { ZSTORE_SCOPE_KEY, B ("tenant-a\0z"), B ("k\0"), 1 },
};
#define CASE_COUNT (sizeof s_cases / sizeof s_cases [0])

//  Every case, read in pages of several sizes, equals the model.
static void
s_check_scopes (zstore_engine_t *engine, int64_t *now)
{
    zstore_list_t *metadata = zstore_list_new ();
    s_write_model (engine, now, metadata);
    size_t page_sizes [] = { 1, 2, 3, 5, 1000 };
    for (size_t which = 0; which < CASE_COUNT; which++) {
        const scope_case_t *test_case = &s_cases [which];
        zstore_view_scope_t scope = s_scope (test_case->kind, test_case->group, test_case->key);
        zstore_list_t *expected = s_expected (metadata, &scope);
        if (zstore_list_size (expected) != test_case->rows)
            fail_msg ("case %zu: the model gives %zu rows, %zu by hand", which,
                      zstore_list_size (expected), test_case->rows);
        for (size_t size = 0; size < sizeof page_sizes / sizeof page_sizes [0]; size++) {
            zstore_snapshot_t *snapshot = s_snapshot (engine, scope);
            assert_int_equal (zstore_snapshot_revision (snapshot), ROW_COUNT);
            zstore_list_t *all = s_read_all (snapshot, page_sizes [size]);
            s_assert_lists_equal (all, expected);
            assert_int_equal (zstore_snapshot_count (snapshot), test_case->rows);
            zstore_list_destroy (&all);
            zstore_snapshot_destroy (&snapshot);
        }
        zstore_list_destroy (&expected);
    }
    zstore_list_destroy (&metadata);
}

//  --- Scopes ------------------------------------------------------------------

static void
test_snapshot_scopes_on_a_file (void **state)
{
    fixture_t *fixture = *state;
    s_check_scopes (fixture->engine, &fixture->now);
}

static void
test_snapshot_scopes_in_memory (void **state)
{
    (void) state;
    const char *paths [] = { ":memory:", "" };
    for (size_t which = 0; which < 2; which++) {
        int64_t now = T0;
        zstore_engine_t *engine = testkit_engine (paths [which]);
        zstore_engine_set_clock (engine, testkit_clock, &now);
        s_check_scopes (engine, &now);
        zstore_engine_destroy (&engine);
    }
}

//  Items carry group, revisions and expiry; ungrouped lists say "".
static void
test_snapshot_items_carry_metadata (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    uint64_t created = 0, modified = 0;
    assert_int_equal (zstore_engine_set (engine, LIT ("g"), LIT ("k"), LIT ("1"), &created),
                      ZSTORE_OK);
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("k"), LIT ("2"), 500,
                                                  &modified), ZSTORE_OK);
    zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_KEY, LIT ("g"),
                                                               LIT ("k")));
    zstore_list_t *page = s_next (snapshot, 10);
    assert_int_equal (zstore_list_size (page), 1);
    const zstore_item_t *item = zstore_list_item (page, 0);
    s_assert_item (item, LIT ("g"), LIT ("k"));
    testkit_assert_bytes (item->value, item->value_size, "2");
    assert_int_equal (item->group [item->group_size], 0);
    assert_int_equal (item->create_revision, created);
    assert_int_equal (item->mod_revision, modified);
    assert_int_equal (item->expires_at, T0 + 500);
    zstore_list_destroy (&page);
    zstore_snapshot_destroy (&snapshot);
    assert_null (snapshot);
    zstore_snapshot_destroy (&snapshot);
    zstore_snapshot_destroy (NULL);

    zstore_list_t *list = NULL;
    assert_int_equal (zstore_engine_get_all (engine, LIT ("g"), &list), ZSTORE_OK);
    assert_non_null (zstore_list_item (list, 0)->group);
    assert_string_equal (zstore_list_item (list, 0)->group, "");
    assert_int_equal (zstore_list_item (list, 0)->group_size, 0);
    zstore_list_destroy (&list);
}

//  Liveness is judged by the clock at open: a row expiring exactly then is
//  out, one expiring after is in even once the clock has moved past it.
static void
test_snapshot_expiry_at_open (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    zstore_engine_set_with_ttl (engine, LIT ("x"), LIT ("before"), LIT ("v"), 5, NULL);
    zstore_engine_set_with_ttl (engine, LIT ("x"), LIT ("exactly"), LIT ("v"), 10, NULL);
    zstore_engine_set_with_ttl (engine, LIT ("x"), LIT ("later"), LIT ("v"), 11, NULL);
    zstore_engine_set (engine, LIT ("x"), LIT ("never"), LIT ("v"), NULL);
    fixture->now += 10;
    zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_GROUP, LIT ("x"),
                                                               LIT ("")));
    fixture->now += 1000;
    zstore_list_t *all = s_read_all (snapshot, 1);
    assert_int_equal (zstore_list_size (all), 2);
    s_assert_item (zstore_list_item (all, 0), LIT ("x"), LIT ("later"));
    s_assert_item (zstore_list_item (all, 1), LIT ("x"), LIT ("never"));
    zstore_list_destroy (&all);
    zstore_snapshot_destroy (&snapshot);
}

//  --- Pages -------------------------------------------------------------------

static void
s_set_rows (zstore_engine_t *engine, int groups, int keys)
{
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    for (int group = 0; group < groups; group++)
        for (int key = 0; key < keys; key++) {
            char group_name [32], key_name [32], value [32];
            snprintf (group_name, sizeof group_name, "big:%d", group);
            snprintf (key_name, sizeof key_name, "k%06d", key);
            snprintf (value, sizeof value, "v%d", group * keys + key);
            assert_int_equal (zstore_engine_set (engine, zstore_str (group_name),
                                                 zstore_str (key_name), zstore_str (value),
                                                 NULL), ZSTORE_OK);
        }
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_OK);
}

//  Row number (group * keys + key) of each item, checked in order from 0.
static void
s_assert_rows_in_order (const zstore_list_t *all, int groups, int keys)
{
    assert_int_equal (zstore_list_size (all), (size_t) (groups * keys));
    for (int row = 0; row < groups * keys; row++) {
        const zstore_item_t *item = zstore_list_item (all, (size_t) row);
        char group_name [32], key_name [32], value [32];
        snprintf (group_name, sizeof group_name, "big:%d", row / keys);
        snprintf (key_name, sizeof key_name, "k%06d", row % keys);
        snprintf (value, sizeof value, "v%d", row);
        s_assert_item (item, zstore_str (group_name), zstore_str (key_name));
        testkit_assert_bytes (item->value, item->value_size, value);
    }
}

//  Any page size covers every row exactly once, in (group, key) order.
static void
test_snapshot_pages_cover_everything_once (void **state)
{
    fixture_t *fixture = *state;
    s_set_rows (fixture->engine, 7, 71);
    size_t page_sizes [] = { 1, 2, 3, 7, 70, 71, 72, 496, 497, 498, 100000, SIZE_MAX };
    for (size_t which = 0; which < sizeof page_sizes / sizeof page_sizes [0]; which++) {
        zstore_snapshot_t *snapshot = s_snapshot (fixture->engine,
                                                  s_scope (ZSTORE_SCOPE_ALL, LIT (""), LIT ("")));
        zstore_list_t *all = s_read_all (snapshot, page_sizes [which]);
        s_assert_rows_in_order (all, 7, 71);
        assert_int_equal (zstore_snapshot_count (snapshot), 497);
        zstore_list_destroy (&all);
        zstore_snapshot_destroy (&snapshot);
    }
}

//  One write of five kinds, spread over the rows: overwrite, delete, a new
//  key, a new group between existing ones, a TTL'd overwrite.
static void
s_write_during_read (zstore_engine_t *engine, int write, int keys, uint64_t *revision_p)
{
    int row = (int) (((int64_t) write * 7919) % (4 * keys));
    char group [32], key [32];
    snprintf (group, sizeof group, "big:%d", row / keys);
    snprintf (key, sizeof key, "k%06d", row % keys);
    int code = ZSTORE_OK;
    switch (write % 5) {
        case 0:
            code = zstore_engine_set (engine, zstore_str (group), zstore_str (key),
                                      LIT ("changed"), revision_p);
            break;
        case 1:
            code = zstore_engine_delete (engine, zstore_str (group), zstore_str (key),
                                         ZSTORE_ANY_REVISION, revision_p);
            break;
        case 2:
            strcat (key, "+new");
            code = zstore_engine_set (engine, zstore_str (group), zstore_str (key), LIT ("new"),
                                      revision_p);
            break;
        case 3:
            strcat (group, "a");
            code = zstore_engine_set (engine, zstore_str (group), zstore_str (key), LIT ("new"),
                                      revision_p);
            break;
        case 4:
            code = zstore_engine_set_with_ttl (engine, zstore_str (group), zstore_str (key),
                                               LIT ("short"), 1, revision_p);
            break;
    }
    if (code)
        fail_msg ("write %d: %s", write, zstore_engine_error (engine));
}

//  200,000 keys read in pages while 1,000 writes commit on the engine's
//  connection between pages: the writes are not blocked, and the view shows
//  exactly the rows of its revision.
static void
test_snapshot_large_file_with_concurrent_writes (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    const int keys = 50000;
    s_set_rows (engine, 4, keys);
    uint64_t at_open = zstore_engine_revision (engine);
    zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_ALL, LIT (""),
                                                               LIT ("")));
    assert_int_equal (zstore_snapshot_revision (snapshot), at_open);

    zstore_list_t *all = zstore_list_new ();
    int writes = 0;
    while (true) {
        zstore_list_t *page = s_next (snapshot, 997);
        size_t size = zstore_list_size (page);
        for (size_t index = 0; index < size; index++) {
            const zstore_item_t *item = zstore_list_item (page, index);
            assert_int_equal (item->mod_revision, at_open);
            s_append_copy (all, item);
        }
        zstore_list_destroy (&page);
        assert_true (zstore_list_size (all) <= MAX_ROWS);
        if (!size)
            break;
        for (int write = 0; write < 5 && writes < 1000; write++, writes++) {
            uint64_t revision = 0;
            s_write_during_read (engine, writes, keys, &revision);
            assert_int_equal (revision, at_open + (uint64_t) writes + 1);
        }
    }
    assert_int_equal (writes, 1000);
    assert_int_equal (zstore_snapshot_count (snapshot), 200000);
    assert_int_equal (zstore_snapshot_revision (snapshot), at_open);
    s_assert_rows_in_order (all, 4, keys);
    zstore_list_destroy (&all);
    zstore_snapshot_destroy (&snapshot);

    //  The writes did land: a new view sees them.
    assert_int_equal (zstore_engine_revision (engine), at_open + 1000);
    snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_KEY, LIT ("big:0"), LIT ("k000000")));
    zstore_list_t *page = s_next (snapshot, 10);
    assert_int_equal (zstore_list_size (page), 1);
    testkit_assert_bytes (zstore_list_item (page, 0)->value,
                          zstore_list_item (page, 0)->value_size, "changed");
    zstore_list_destroy (&page);
    zstore_snapshot_destroy (&snapshot);
    int64_t count = 0;
    assert_int_equal (zstore_engine_count_all (engine, LIT ("big:1a"), &count), ZSTORE_OK);
    assert_true (count > 0);
}

//  Every kind of write carries on while a file view is open; the view
//  keeps its rows, and the engine may even go away before it.
static void
test_snapshot_file_does_not_block_writers (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set_rows (engine, 2, 50);
    zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_GROUP_PREFIX,
                                                               LIT ("big:"), LIT ("")));
    zstore_list_t *first = s_next (snapshot, 30);

    assert_int_equal (zstore_engine_delete_group (engine, LIT ("big:1"), NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_set (engine, LIT ("big:0"), LIT ("k000040"), LIT ("x"),
                                         NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_set (engine, LIT ("big:0"), LIT ("k000030+"), LIT ("x"),
                                         NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("big:0"), LIT ("k000045"),
                                                  LIT ("x"), 1, NULL), ZSTORE_OK);
    fixture->now += 1;
    int64_t removed = 0;
    assert_int_equal (zstore_engine_purge_expired (engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);
    zstore_engine_destroy (&fixture->engine);

    zstore_list_t *rest = s_read_all (snapshot, 7);
    zstore_list_t *all = zstore_list_new ();
    for (size_t index = 0; index < zstore_list_size (first); index++)
        s_append_copy (all, zstore_list_item (first, index));
    for (size_t index = 0; index < zstore_list_size (rest); index++)
        s_append_copy (all, zstore_list_item (rest, index));
    s_assert_rows_in_order (all, 2, 50);
    zstore_list_destroy (&first);
    zstore_list_destroy (&rest);
    zstore_list_destroy (&all);
    zstore_snapshot_destroy (&snapshot);
}

//  An in-memory store's view is a copy: later writes stay out of it.
static void
test_snapshot_memory_ignores_later_writes (void **state)
{
    (void) state;
    zstore_engine_t *engine = testkit_engine (":memory:");
    s_set_rows (engine, 3, 40);
    uint64_t at_open = zstore_engine_revision (engine);
    zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_ALL, LIT (""),
                                                               LIT ("")));
    zstore_list_t *all = zstore_list_new ();
    for (int write = 0; ; write++) {
        zstore_list_t *page = s_next (snapshot, 11);
        size_t size = zstore_list_size (page);
        for (size_t index = 0; index < size; index++)
            s_append_copy (all, zstore_list_item (page, index));
        zstore_list_destroy (&page);
        assert_true (zstore_list_size (all) <= MAX_ROWS);
        if (!size)
            break;
        s_write_during_read (engine, write, 40, NULL);
    }
    s_assert_rows_in_order (all, 3, 40);
    assert_int_equal (zstore_snapshot_revision (snapshot), at_open);
    assert_true (zstore_engine_revision (engine) > at_open + 5);
    zstore_list_destroy (&all);
    zstore_snapshot_destroy (&snapshot);
    zstore_engine_destroy (&engine);
}

//  Destroying a view half read frees everything (the sanitizer checks) and
//  leaves the engine fully usable.
static void
test_snapshot_destroy_half_read (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *memory = testkit_engine (":memory:");
    zstore_engine_t *engines [] = { fixture->engine, memory };
    for (size_t which = 0; which < 2; which++) {
        zstore_engine_t *engine = engines [which];
        s_set_rows (engine, 2, 100);
        zstore_snapshot_t *snapshot = s_snapshot (engine, s_scope (ZSTORE_SCOPE_ALL, LIT (""),
                                                                   LIT ("")));
        zstore_list_t *page = s_next (snapshot, 10);
        assert_int_equal (zstore_list_size (page), 10);
        zstore_list_destroy (&page);
        zstore_snapshot_destroy (&snapshot);
        zstore_snapshot_t *unread = s_snapshot (engine, s_scope (ZSTORE_SCOPE_GROUP, LIT ("big:1"),
                                                                 LIT ("")));
        zstore_snapshot_destroy (&unread);
        assert_int_equal (zstore_engine_delete_prefix (engine, LIT ("big:"), NULL), ZSTORE_OK);
        int64_t count = -1;
        assert_int_equal (zstore_engine_count_all (engine, LIT (""), &count), ZSTORE_OK);
        assert_int_equal (count, 0);
    }
    assert_int_equal (zstore_engine_close (fixture->engine), ZSTORE_OK);
    zstore_engine_destroy (&memory);
}

//  --- Misuse ------------------------------------------------------------------

static void
s_assert_open_fails (zstore_engine_t *engine, const zstore_view_scope_t *scope,
                     const char *message)
{
    char *error = NULL;
    assert_null (zstore_snapshot_new (engine, scope, &error));
    assert_non_null (error);
    assert_string_equal (error, message);
    free (error);
    assert_null (zstore_snapshot_new (engine, scope, NULL));
}

static void
test_snapshot_misuse (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    zstore_view_scope_t all = s_scope (ZSTORE_SCOPE_ALL, LIT (""), LIT (""));
    zstore_view_scope_t unknown = s_scope ((zstore_scope_kind_t) 99, LIT (""), LIT (""));
    s_assert_open_fails (NULL, &all, "store.Snapshot: store is nil");
    s_assert_open_fails (engine, NULL, "store.Snapshot: unknown scope");
    s_assert_open_fails (engine, &unknown, "store.Snapshot: unknown scope");

    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    s_assert_open_fails (engine, &all, "store.Snapshot: a transaction is open");
    assert_int_equal (zstore_engine_rollback (engine), ZSTORE_OK);

    zstore_snapshot_t *snapshot = s_snapshot (engine, all);
    zstore_list_t *page = (zstore_list_t *) 1;
    char *error = NULL;
    assert_int_equal (zstore_snapshot_next (snapshot, 0, &page, &error), ZSTORE_INVALID);
    assert_null (page);
    assert_string_equal (error, "store.Snapshot: limit must be positive");
    free (error);
    assert_int_equal (zstore_snapshot_next (snapshot, 1, NULL, NULL), ZSTORE_INVALID);
    assert_int_equal (zstore_snapshot_next (NULL, 1, &page, NULL), ZSTORE_INVALID);
    assert_int_equal (zstore_snapshot_count (NULL), 0);
    assert_int_equal (zstore_snapshot_revision (NULL), 0);
    zstore_snapshot_destroy (&snapshot);

    zstore_engine_close (engine);
    s_assert_open_fails (engine, &all, "store.Snapshot: store is closed");
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_snapshot_scopes_on_a_file),
        TEST (test_snapshot_scopes_in_memory),
        TEST (test_snapshot_items_carry_metadata),
        TEST (test_snapshot_expiry_at_open),
        TEST (test_snapshot_pages_cover_everything_once),
        TEST (test_snapshot_large_file_with_concurrent_writes),
        TEST (test_snapshot_file_does_not_block_writers),
        TEST (test_snapshot_memory_ignores_later_writes),
        TEST (test_snapshot_destroy_half_read),
        TEST (test_snapshot_misuse),
    };
    return cmocka_run_group_tests_name ("engine snapshot", tests, NULL, NULL);
}
