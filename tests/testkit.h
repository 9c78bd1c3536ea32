/*  testkit - helpers shared by the cmocka tests: temporary directories that
    hold real SQLite files, and an event recorder to register as a sink.
*/

#ifndef TESTKIT_H_INCLUDED
#define TESTKIT_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "zstore_engine.h"

//  A byte string from a string literal (keeps embedded NULs: sizeof - 1).
#define LIT(s) zstore_bytes ((s), sizeof (s) - 1)

//  A fresh directory under $TMPDIR (or /tmp); the caller frees the string.
char *
    testkit_tempdir (void);

//  rm -rf dir, then frees it; nulls the reference.
void
    testkit_tempdir_remove (char **dir_p);

//  "<dir>/<name>"; the caller frees it.
char *
    testkit_path (const char *dir, const char *name);

//  A copy of one event.
typedef struct {
    zstore_event_type_t type;
    char *group; size_t group_size;
    char *key; size_t key_size;
    char *value; size_t value_size;
    uint64_t revision;
    uint64_t prev_revision;
    int64_t timestamp;
    int64_t expires_at;
    uint32_t index;                 //  within its change
    uint32_t count;                 //  events of its change
} testkit_event_t;

typedef struct {
    testkit_event_t *events;
    size_t size;
    size_t capacity;
} testkit_recorder_t;

//  A zstore_event_fn: arg is a testkit_recorder_t.
void
    testkit_record_event (const zstore_event_t *event, void *arg);

void
    testkit_recorder_clear (testkit_recorder_t *self);

//  Asserts that event index has this type, group and key (C strings).
void
    testkit_assert_event (testkit_recorder_t *self, size_t index, zstore_event_type_t type,
                          const char *group, const char *key);

//  A controllable clock: a zstore_clock_fn whose arg is an int64_t (ms).
int64_t
    testkit_clock (void *arg);

//  Opens an engine on path, failing the test if it cannot.
zstore_engine_t *
    testkit_engine (const char *path);

//  An engine on a file in a temporary directory of its own: the fixture
//  of the engine tests that need nothing more. destroy closes the engine
//  (if still open) and removes the directory.
typedef struct {
    char *dir;
    char *path;
    zstore_engine_t *engine;
} testkit_store_t;

testkit_store_t *
    testkit_store_new (const char *file_name);
void
    testkit_store_destroy (testkit_store_t **self_p);

//  Opens a connection of its own (SQLite's default VFS) on the file and
//  asserts that PRAGMA integrity_check answers "ok".
void
    testkit_assert_integrity (const char *db_path);

//  Asserts a value equals the C string expected.
void
    testkit_assert_bytes (const char *data, size_t size, const char *expected);

#endif
