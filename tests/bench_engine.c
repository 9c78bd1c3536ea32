//  bench_engine - the engine beside bare SQLite, in the same run.
//
//  For each case it times the engine call and the bare SQLite statement
//  that does the same job (prepared once, no engine around it, on a
//  database with the engine's own schema, opened with the engine's flags),
//  and prints the median ns/op of several rounds and their ratio. Not a
//  test: it prints figures.
//
//  Usage: bench_engine [rounds] [directory for the file databases]

#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zstore_engine.h"

#define GROUP_SIZE 10000

//  The engine's schema, so that bare statements run on the same layout.
static const char *s_schema =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE entries (group_name TEXT NOT NULL, entry_key TEXT NOT NULL,"
    " entry_value TEXT NOT NULL, expires_at INTEGER, create_rev INTEGER NOT NULL DEFAULT 0,"
    " mod_rev INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (group_name, entry_key));"
    "CREATE INDEX zstore_entries_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;";

static const char *s_upsert =
    "INSERT INTO entries (group_name, entry_key, entry_value, expires_at) VALUES (?1, ?2, ?3, NULL)"
    " ON CONFLICT (group_name, entry_key) DO UPDATE SET entry_value = excluded.entry_value,"
    " expires_at = NULL";
static const char *s_select =
    "SELECT entry_value, expires_at FROM entries WHERE group_name = ?1 AND entry_key = ?2";
static const char *s_delete =
    "DELETE FROM entries WHERE group_name = ?1 AND entry_key = ?2";
static const char *s_select_all =
    "SELECT entry_key, entry_value FROM entries WHERE group_name = ?1"
    " AND (expires_at IS NULL OR expires_at > ?2) ORDER BY entry_key";

typedef struct {
    const char *name;
    const char *path;                 //  ":memory:" or a file
    const char *synchronous;          //  for file databases
    int ops;                          //  per round
} bench_case_t;

static double
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec * 1e9 + (double) now.tv_nsec;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *values, int count)
{
    qsort (values, (size_t) count, sizeof (double), s_compare);
    return count % 2 ? values [count / 2] : (values [count / 2 - 1] + values [count / 2]) / 2;
}

static void
s_key (char *buffer, size_t size, int index)
{
    snprintf (buffer, size, "key-%08d", index);
}

static void
s_check (int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf (stderr, "bench: %s failed: %d\n", what, rc);
        exit (1);
    }
}

//  --- bare SQLite --------------------------------------------------------

//  The engine's open flags: one thread owns a connection, so no SQLite
//  mutex (a serialized connection pays one per API call, ~13% of a get-all).
static sqlite3 *
s_bare_open (const char *path, const char *synchronous)
{
    sqlite3 *db = NULL;
    s_check (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX, NULL), "open");
    s_check (sqlite3_exec (db, s_schema, NULL, NULL, NULL), "schema");
    char pragma [64];
    snprintf (pragma, sizeof pragma, "PRAGMA synchronous=%s", synchronous);
    s_check (sqlite3_exec (db, pragma, NULL, NULL, NULL), "synchronous");
    return db;
}

static double
s_bare_set (sqlite3 *db, int ops, int offset)
{
    sqlite3_stmt *stmt;
    s_check (sqlite3_prepare_v2 (db, s_upsert, -1, &stmt, NULL), "prepare");
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, offset + index);
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
        sqlite3_bind_text (stmt, 3, "value", 5, SQLITE_STATIC);
        s_check (sqlite3_step (stmt), "upsert");
        sqlite3_reset (stmt);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    return elapsed / ops;
}

//  An overwrite's key and value: the filled keys in turn, with a value
//  that changes every pass, so that each write really changes the row.
static void
s_overwrite_key_value (int index, char *key, char *value, size_t size)
{
    s_key (key, size, index % GROUP_SIZE);
    snprintf (value, size, "value-%d", index / GROUP_SIZE);
}

static double
s_bare_overwrite (sqlite3 *db, int ops)
{
    sqlite3_stmt *stmt;
    s_check (sqlite3_prepare_v2 (db, s_upsert, -1, &stmt, NULL), "prepare");
    char key [32], value [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_overwrite_key_value (index, key, value, sizeof key);
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
        sqlite3_bind_text (stmt, 3, value, (int) strlen (value), SQLITE_STATIC);
        s_check (sqlite3_step (stmt), "upsert");
        sqlite3_reset (stmt);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    return elapsed / ops;
}

static double
s_bare_delete (sqlite3 *db, int ops)
{
    sqlite3_stmt *stmt;
    s_check (sqlite3_prepare_v2 (db, s_delete, -1, &stmt, NULL), "prepare");
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, index);
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
        s_check (sqlite3_step (stmt), "delete");
        sqlite3_reset (stmt);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    return elapsed / ops;
}

static double
s_bare_get (sqlite3 *db, int ops)
{
    sqlite3_stmt *stmt;
    s_check (sqlite3_prepare_v2 (db, s_select, -1, &stmt, NULL), "prepare");
    char key [32];
    size_t total = 0;
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, index % GROUP_SIZE);
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
        if (sqlite3_step (stmt) == SQLITE_ROW) {
            //  Copy the value out, as any caller must before the reset.
            char *copy = strdup ((const char *) sqlite3_column_text (stmt, 0));
            total += strlen (copy);
            free (copy);
        }
        sqlite3_reset (stmt);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    if (total == 0)
        fprintf (stderr, "bench: bare get found nothing\n");
    return elapsed / ops;
}

static double
s_bare_get_all (sqlite3 *db, int ops)
{
    sqlite3_stmt *stmt;
    s_check (sqlite3_prepare_v2 (db, s_select_all, -1, &stmt, NULL), "prepare");
    size_t rows = 0;
    double start = s_now_ns ();
    for (int op = 0; op < ops; op++) {
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) time (NULL) * 1000);
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            rows += (size_t) sqlite3_column_bytes (stmt, 0) > 0;
            rows += sqlite3_column_text (stmt, 1) != NULL;
        }
        sqlite3_reset (stmt);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    if (rows != (size_t) ops * GROUP_SIZE * 2)
        fprintf (stderr, "bench: bare get-all saw %zu rows\n", rows / 2);
    return elapsed / ops;
}

//  --- the engine ---------------------------------------------------------

static zstore_engine_t *
s_engine_open (const char *path, const char *synchronous)
{
    char *error = NULL;
    zstore_engine_t *engine = zstore_engine_new (path, &error);
    if (!engine) {
        fprintf (stderr, "bench: %s\n", error);
        exit (1);
    }
    zstore_engine_set_synchronous (engine, strcmp (synchronous, "FULL") == 0 ? ZSTORE_SYNC_FULL
                                                                           : ZSTORE_SYNC_NORMAL);
    return engine;
}

static double
s_engine_set (zstore_engine_t *engine, int ops, int offset)
{
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, offset + index);
        if (zstore_engine_set (engine, zstore_bytes ("bench", 5), zstore_str (key),
                               zstore_bytes ("value", 5), NULL)) {
            fprintf (stderr, "bench: %s\n", zstore_engine_error (engine));
            exit (1);
        }
    }
    return (s_now_ns () - start) / ops;
}

static double
s_engine_overwrite (zstore_engine_t *engine, int ops)
{
    char key [32], value [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_overwrite_key_value (index, key, value, sizeof key);
        if (zstore_engine_set (engine, zstore_bytes ("bench", 5), zstore_str (key),
                               zstore_str (value), NULL)) {
            fprintf (stderr, "bench: %s\n", zstore_engine_error (engine));
            exit (1);
        }
    }
    return (s_now_ns () - start) / ops;
}

static double
s_engine_delete (zstore_engine_t *engine, int ops)
{
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, index);
        if (zstore_engine_delete (engine, zstore_bytes ("bench", 5), zstore_str (key),
                                  ZSTORE_ANY_REVISION, NULL)) {
            fprintf (stderr, "bench: %s\n", zstore_engine_error (engine));
            exit (1);
        }
    }
    return (s_now_ns () - start) / ops;
}

static double
s_engine_get (zstore_engine_t *engine, int ops)
{
    char key [32];
    size_t total = 0;
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, index % GROUP_SIZE);
        zstore_value_t value;
        if (zstore_engine_get (engine, zstore_bytes ("bench", 5), zstore_str (key), &value) == 0)
            total += value.size;
        zstore_value_reset (&value);
    }
    double elapsed = s_now_ns () - start;
    if (total == 0)
        fprintf (stderr, "bench: engine get found nothing\n");
    return elapsed / ops;
}

static double
s_engine_get_all (zstore_engine_t *engine, int ops)
{
    size_t rows = 0;
    double start = s_now_ns ();
    for (int op = 0; op < ops; op++) {
        zstore_list_t *list = NULL;
        zstore_engine_get_all (engine, zstore_bytes ("bench", 5), &list);
        rows += zstore_list_size (list);
        zstore_list_destroy (&list);
    }
    double elapsed = s_now_ns () - start;
    if (rows != (size_t) ops * GROUP_SIZE)
        fprintf (stderr, "bench: engine get-all saw %zu rows\n", rows);
    return elapsed / ops;
}

//  --- cases --------------------------------------------------------------

typedef enum {
    CASE_SET, CASE_SET_BATCH, CASE_OVERWRITE, CASE_DELETE, CASE_GET, CASE_GET_ALL
} case_kind_t;

#define BATCH 100

//  Sets in transactions of BATCH, on each side: the engine's cost per
//  operation without the cost per transaction (what group commit shares).
static double
s_engine_set_batched (zstore_engine_t *engine, int ops, int offset)
{
    double total = 0;
    for (int done = 0; done < ops; done += BATCH) {
        double start = s_now_ns ();
        zstore_engine_begin (engine);
        s_engine_set (engine, BATCH, offset + done);
        zstore_engine_commit (engine, NULL);
        total += s_now_ns () - start;
    }
    return total / ops;
}

static double
s_bare_set_batched (sqlite3 *db, int ops, int offset)
{
    double total = 0;
    for (int done = 0; done < ops; done += BATCH) {
        double start = s_now_ns ();
        sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        s_bare_set (db, BATCH, offset + done);
        sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
        total += s_now_ns () - start;
    }
    return total / ops;
}

static void
s_fill_engine (zstore_engine_t *engine)
{
    zstore_engine_begin (engine);
    s_engine_set (engine, GROUP_SIZE, 0);
    zstore_engine_commit (engine, NULL);
}

static void
s_fill_bare (sqlite3 *db)
{
    sqlite3_exec (db, "BEGIN", NULL, NULL, NULL);
    s_bare_set (db, GROUP_SIZE, 0);
    sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
}

static char *
s_case_path (const bench_case_t *bench, const char *dir, const char *side, int round)
{
    char *path = NULL;
    if (strcmp (bench->path, ":memory:") == 0)
        return strdup (":memory:");
    if (asprintf (&path, "%s/bench-%s-%d.db", dir, side, round) < 0)
        exit (1);
    return path;
}

static void
s_remove_db (const char *path)
{
    if (strcmp (path, ":memory:") == 0)
        return;
    char sidecar [4096];
    unlink (path);
    snprintf (sidecar, sizeof sidecar, "%s-wal", path);
    unlink (sidecar);
    snprintf (sidecar, sizeof sidecar, "%s-shm", path);
    unlink (sidecar);
}

//  One side's ns/op in one round of one case.
static double
s_measure (case_kind_t kind, bool engine_turn, zstore_engine_t *engine, sqlite3 *db, int ops)
{
    switch (kind) {
        case CASE_SET:
            return engine_turn ? s_engine_set (engine, ops, GROUP_SIZE)
                               : s_bare_set (db, ops, GROUP_SIZE);
        case CASE_SET_BATCH:
            return engine_turn ? s_engine_set_batched (engine, ops, GROUP_SIZE)
                               : s_bare_set_batched (db, ops, GROUP_SIZE);
        case CASE_OVERWRITE:
            return engine_turn ? s_engine_overwrite (engine, ops) : s_bare_overwrite (db, ops);
        case CASE_DELETE:
            return engine_turn ? s_engine_delete (engine, ops) : s_bare_delete (db, ops);
        case CASE_GET:
            return engine_turn ? s_engine_get (engine, ops) : s_bare_get (db, ops);
        case CASE_GET_ALL:
            return engine_turn ? s_engine_get_all (engine, ops) : s_bare_get_all (db, ops);
    }
    return 0;
}

//  One round of one case on each side; fresh databases every round.
static void
s_round (const bench_case_t *bench, case_kind_t kind, const char *dir, int round,
         double *engine_ns, double *bare_ns)
{
    char *engine_path = s_case_path (bench, dir, "engine", round);
    char *bare_path = s_case_path (bench, dir, "bare", round);
    zstore_engine_t *engine = s_engine_open (engine_path, bench->synchronous);
    sqlite3 *db = s_bare_open (bare_path, bench->synchronous);
    if (kind != CASE_SET) {
        s_fill_engine (engine);
        s_fill_bare (db);
    }
    //  Alternate which side goes first, so neither always runs on a
    //  warmer cache.
    for (int side = 0; side < 2; side++) {
        bool engine_turn = (side + round) % 2 == 0;
        double ns = s_measure (kind, engine_turn, engine, db, bench->ops);
        *(engine_turn ? engine_ns : bare_ns) = ns;
    }
    zstore_engine_destroy (&engine);
    sqlite3_close (db);
    s_remove_db (engine_path);
    s_remove_db (bare_path);
    free (engine_path);
    free (bare_path);
}

static void
s_run (const bench_case_t *bench, case_kind_t kind, const char *dir, int rounds,
       const char *go_store)
{
    double engine_ns [rounds], bare_ns [rounds];
    for (int round = 0; round < rounds; round++)
        s_round (bench, kind, dir, round, &engine_ns [round], &bare_ns [round]);
    double engine = s_median (engine_ns, rounds), bare = s_median (bare_ns, rounds);
    printf ("%-28s %14.0f %14.0f %8.2fx %14s\n", bench->name, engine, bare, engine / bare,
            go_store);
}

int
main (int argc, char *argv [])
{
    int rounds = argc > 1 ? atoi (argv [1]) : 5;
    const char *dir = argc > 2 ? argv [2] : ".";
    if (rounds < 1)
        rounds = 1;
    printf ("zstore engine beside bare SQLite %s: median ns/op of %d rounds\n",
            sqlite3_libversion (), rounds);
    printf ("%-28s %14s %14s %9s %14s\n", "case", "engine", "bare sqlite", "ratio",
            "go-store");
    bench_case_t set_memory = { "set (memory)", ":memory:", "OFF", 100000 };
    bench_case_t set_batched = { "set, 100 per txn (memory)", ":memory:", "OFF", 100000 };
    bench_case_t overwrite = { "set, existing key (memory)", ":memory:", "OFF", 100000 };
    bench_case_t delete_memory = { "delete (memory)", ":memory:", "OFF", GROUP_SIZE };
    bench_case_t get_memory = { "get (memory)", ":memory:", "OFF", 200000 };
    bench_case_t get_all = { "get-all 10k keys (memory)", ":memory:", "OFF", 50 };
    bench_case_t set_normal = { "set (WAL, sync NORMAL)", "file", "NORMAL", 20000 };
    bench_case_t set_full = { "set (WAL, sync FULL)", "file", "FULL", 500 };
    s_run (&set_memory, CASE_SET, dir, rounds, "10290");
    s_run (&set_batched, CASE_SET_BATCH, dir, rounds, "-");
    s_run (&overwrite, CASE_OVERWRITE, dir, rounds, "-");
    s_run (&delete_memory, CASE_DELETE, dir, rounds, "-");
    s_run (&get_memory, CASE_GET, dir, rounds, "3589");
    s_run (&get_all, CASE_GET_ALL, dir, rounds, "4741451");
    s_run (&set_normal, CASE_SET, dir, rounds, "-");
    s_run (&set_full, CASE_SET, dir, rounds, "265868");
    return 0;
}
