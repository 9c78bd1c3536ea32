#define _GNU_SOURCE          //  asprintf, nftw
#include "testkit.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
testkit_tempdir (void)
{
    const char *base = getenv ("TMPDIR");
    char *dir = NULL;
    assert_true (asprintf (&dir, "%s/zstore-test-XXXXXX", base && *base ? base : "/tmp") > 0);
    assert_non_null (mkdtemp (dir));
    return dir;
}

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info; (void) flag; (void) ftw;
    return remove (path);
}

void
testkit_tempdir_remove (char **dir_p)
{
    if (!dir_p || !*dir_p)
        return;
    nftw (*dir_p, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (*dir_p);
    *dir_p = NULL;
}

char *
testkit_path (const char *dir, const char *name)
{
    char *path = NULL;
    assert_true (asprintf (&path, "%s/%s", dir, name) > 0);
    return path;
}

static char *
s_copy (zstore_bytes_t bytes)
{
    char *copy = malloc (bytes.size + 1);
    assert_non_null (copy);
    if (bytes.size)
        memcpy (copy, bytes.data, bytes.size);
    copy [bytes.size] = 0;
    return copy;
}

void
testkit_record_event (const zstore_event_t *event, void *arg)
{
    testkit_recorder_t *self = arg;
    if (self->size == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->events = realloc (self->events, self->capacity * sizeof (testkit_event_t));
        assert_non_null (self->events);
    }
    testkit_event_t *copy = &self->events [self->size++];
    copy->type = event->type;
    copy->group = s_copy (event->group);
    copy->group_size = event->group.size;
    copy->key = s_copy (event->key);
    copy->key_size = event->key.size;
    copy->value = s_copy (event->value);
    copy->value_size = event->value.size;
    copy->revision = event->revision;
    copy->prev_revision = event->prev_revision;
    copy->timestamp = event->timestamp;
    copy->expires_at = event->expires_at;
    copy->index = event->index;
    copy->count = event->count;
}

void
testkit_recorder_clear (testkit_recorder_t *self)
{
    for (size_t index = 0; index < self->size; index++) {
        free (self->events [index].group);
        free (self->events [index].key);
        free (self->events [index].value);
    }
    free (self->events);
    memset (self, 0, sizeof (*self));
}

void
testkit_assert_event (testkit_recorder_t *self, size_t index, zstore_event_type_t type,
                      const char *group, const char *key)
{
    assert_true (index < self->size);
    testkit_event_t *event = &self->events [index];
    assert_int_equal (event->type, type);
    assert_string_equal (event->group, group);
    assert_string_equal (event->key, key);
}

int64_t
testkit_clock (void *arg)
{
    return *(int64_t *) arg;
}

zstore_engine_t *
testkit_engine (const char *path)
{
    char *error = NULL;
    zstore_engine_t *engine = zstore_engine_new (path, &error);
    if (!engine)
        fail_msg ("zstore_engine_new (%s): %s", path, error ? error : "?");
    return engine;
}

testkit_store_t *
testkit_store_new (const char *file_name)
{
    testkit_store_t *self = calloc (1, sizeof (testkit_store_t));
    assert_non_null (self);
    self->dir = testkit_tempdir ();
    self->path = testkit_path (self->dir, file_name);
    self->engine = testkit_engine (self->path);
    return self;
}

void
testkit_store_destroy (testkit_store_t **self_p)
{
    testkit_store_t *self = *self_p;
    if (!self)
        return;
    zstore_engine_destroy (&self->engine);
    testkit_tempdir_remove (&self->dir);
    free (self->path);
    free (self);
    *self_p = NULL;
}

void
testkit_assert_integrity (const char *db_path)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (db_path, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (stmt, 0), "ok");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

void
testkit_assert_bytes (const char *data, size_t size, const char *expected)
{
    assert_int_equal (size, strlen (expected));
    assert_memory_equal (data, expected, size);
}
