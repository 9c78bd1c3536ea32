//  bench_engine - the engine beside bare SQLite, in the same run.
//
//  For each case it times the engine call and two bare SQLite loops doing
//  the same job (statements prepared once, no engine around them, on a
//  database with the engine's own schema, opened with the engine's flags):
//
//  - "bare": go-store's own statement for the operation (spec section 3),
//    run in autocommit, one statement per operation. This is the figure
//    the targets are measured against: the least SQL a store with go-store's
//    behaviour runs.
//  - "bare+revs": the same statement with zstore's row shape: writes set
//    create_rev/mod_rev from a counter kept in the loop, reads return them
//    (and the expiry) too. The engine's ratio to it is its own overhead
//    (transaction, staging, events, checks) without the cost of the data
//    zstore keeps beyond go-store.
//
//  Reads copy what they return out of SQLite, as any caller must before
//  the next step: a get copies the value; a get-all copies every row into
//  a zstore_list_t, the engine's own result container, so both sides pay
//  for the same container. It prints the median ns/op of several rounds
//  (fresh databases each round, sides in a rotating order) and the ratios
//  of the medians. Not a test: it prints figures.
//
//  Usage: bench_engine [rounds] [directory for the file databases] [case]
//                      [side]
//  case: run only the cases whose name contains this text; side: run only
//  "engine", "bare" or "bare+revs" (the others print 0), e.g. to count
//  instructions with valgrind --tool=callgrind.

#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zstore_engine.h"

#define GROUP_SIZE 10000
#define BATCH 100

//  The engine's schema, so that bare statements run on the same layout.
static const char *s_schema =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE entries (group_name TEXT NOT NULL, entry_key TEXT NOT NULL,"
    " entry_value TEXT NOT NULL, expires_at INTEGER, create_rev INTEGER NOT NULL DEFAULT 0,"
    " mod_rev INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (group_name, entry_key));"
    "CREATE INDEX zstore_entries_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;";

//  The two bare flavours.
typedef enum { BARE_GO_STORE, BARE_REVISIONS } bare_t;

//  Each bare statement, indexed by bare_t.
static const char *s_upsert [] = {
    "INSERT INTO entries (group_name, entry_key, entry_value, expires_at) VALUES (?1, ?2, ?3, NULL)"
    " ON CONFLICT (group_name, entry_key) DO UPDATE SET entry_value = excluded.entry_value,"
    " expires_at = NULL",
    "INSERT INTO entries (group_name, entry_key, entry_value, expires_at, create_rev, mod_rev)"
    " VALUES (?1, ?2, ?3, NULL, ?4, ?4) ON CONFLICT (group_name, entry_key) DO UPDATE SET"
    " entry_value = excluded.entry_value, expires_at = NULL, mod_rev = excluded.mod_rev",
};
static const char *s_select [] = {
    "SELECT entry_value, expires_at FROM entries WHERE group_name = ?1 AND entry_key = ?2",
    "SELECT entry_value, expires_at, create_rev, mod_rev FROM entries"
    " WHERE group_name = ?1 AND entry_key = ?2",
};
static const char *s_select_all [] = {
    "SELECT entry_key, entry_value FROM entries WHERE group_name = ?1"
    " AND (expires_at IS NULL OR expires_at > ?2) ORDER BY entry_key",
    "SELECT entry_key, entry_value, create_rev, mod_rev, expires_at FROM entries"
    " WHERE group_name = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY entry_key",
};
static const char *s_delete =
    "DELETE FROM entries WHERE group_name = ?1 AND entry_key = ?2";

typedef enum {
    CASE_SET, CASE_SET_BATCH, CASE_OVERWRITE, CASE_DELETE, CASE_GET, CASE_GET_ALL
} case_kind_t;

typedef struct {
    const char *name;
    case_kind_t kind;
    const char *path;                 //  ":memory:" or "file"
    const char *synchronous;          //  for file databases
    int ops;                          //  per round
    const char *go_store;             //  go-store's published ns/op, "-" if none
} bench_case_t;

//  The three sides of a round.
typedef enum { SIDE_ENGINE, SIDE_BARE, SIDE_BARE_REVISIONS, SIDE_COUNT } side_t;

//  What a bare loop works on.
typedef struct {
    sqlite3 *db;
    bare_t flavour;
    sqlite3_int64 revision;           //  the loop's own counter (BARE_REVISIONS)
} bare_db_t;

static double
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec * 1e9 + (double) now.tv_nsec;
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
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

//  An overwrite's key and value: the filled keys in turn, with a value
//  that changes every pass, so that each write really changes the row.
static void
s_overwrite_key_value (int index, char *key, char *value, size_t size)
{
    s_key (key, size, index % GROUP_SIZE);
    snprintf (value, size, "value-%d", index / GROUP_SIZE);
}

static void
s_check (int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf (stderr, "bench: %s failed: %d\n", what, rc);
        exit (1);
    }
}

static void
s_engine_check (zstore_engine_t *engine, int code)
{
    if (code != ZSTORE_OK) {
        fprintf (stderr, "bench: %s\n", zstore_engine_error (engine));
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

static sqlite3_stmt *
s_prepare (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    s_check (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL), "prepare");
    return stmt;
}

static void
s_bare_upsert (bare_db_t *bare, sqlite3_stmt *stmt, const char *key, const char *value)
{
    sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, value, (int) strlen (value), SQLITE_STATIC);
    if (bare->flavour == BARE_REVISIONS)
        sqlite3_bind_int64 (stmt, 4, ++bare->revision);
    s_check (sqlite3_step (stmt), "upsert");
    sqlite3_reset (stmt);
}

static double
s_bare_set (bare_db_t *bare, int ops, int offset)
{
    sqlite3_stmt *stmt = s_prepare (bare->db, s_upsert [bare->flavour]);
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, offset + index);
        s_bare_upsert (bare, stmt, key, "value");
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    return elapsed / ops;
}

static double
s_bare_overwrite (bare_db_t *bare, int ops)
{
    sqlite3_stmt *stmt = s_prepare (bare->db, s_upsert [bare->flavour]);
    char key [32], value [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_overwrite_key_value (index, key, value, sizeof key);
        s_bare_upsert (bare, stmt, key, value);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    return elapsed / ops;
}

static double
s_bare_delete (bare_db_t *bare, int ops)
{
    sqlite3_stmt *stmt = s_prepare (bare->db, s_delete);
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

//  go-store's Get: the value copied out, the expiry checked.
static double
s_bare_get (bare_db_t *bare, int ops)
{
    sqlite3_stmt *stmt = s_prepare (bare->db, s_select [bare->flavour]);
    char key [32];
    size_t total = 0;
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, index % GROUP_SIZE);
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, key, (int) strlen (key), SQLITE_STATIC);
        if (sqlite3_step (stmt) == SQLITE_ROW) {
            int64_t expires_at = sqlite3_column_int64 (stmt, 1);
            uint64_t revisions = 0;
            if (bare->flavour == BARE_REVISIONS)
                revisions = (uint64_t) (sqlite3_column_int64 (stmt, 2)
                                        + sqlite3_column_int64 (stmt, 3));
            const char *data = (const char *) sqlite3_column_text (stmt, 0);
            size_t size = (size_t) sqlite3_column_bytes (stmt, 0);
            char *copy = malloc (size + 1);
            memcpy (copy, data, size);
            copy [size] = 0;
            if (expires_at == 0 || expires_at > s_now_ms ())
                total += size + (revisions > 0);
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

//  go-store's GetAll, into the engine's own result container.
static double
s_bare_get_all (bare_db_t *bare, int ops)
{
    sqlite3_stmt *stmt = s_prepare (bare->db, s_select_all [bare->flavour]);
    size_t rows = 0;
    double start = s_now_ns ();
    for (int op = 0; op < ops; op++) {
        zstore_list_t *list = zstore_list_new ();
        sqlite3_bind_text (stmt, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, s_now_ms ());
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            zstore_item_t row = {
                .group = "",
                .key = (const char *) sqlite3_column_text (stmt, 0),
                .key_size = (size_t) sqlite3_column_bytes (stmt, 0),
                .value = (const char *) sqlite3_column_text (stmt, 1),
                .value_size = (size_t) sqlite3_column_bytes (stmt, 1),
            };
            if (bare->flavour == BARE_REVISIONS) {
                row.create_revision = (uint64_t) sqlite3_column_int64 (stmt, 2);
                row.mod_revision = (uint64_t) sqlite3_column_int64 (stmt, 3);
                row.expires_at = sqlite3_column_int64 (stmt, 4);
            }
            if (!zstore_list_append_item (list, &row))
                exit (1);
        }
        sqlite3_reset (stmt);
        rows += zstore_list_size (list);
        zstore_list_destroy (&list);
    }
    double elapsed = s_now_ns () - start;
    sqlite3_finalize (stmt);
    if (rows != (size_t) ops * GROUP_SIZE)
        fprintf (stderr, "bench: bare get-all saw %zu rows\n", rows);
    return elapsed / ops;
}

//  Sets in transactions of BATCH: the cost per operation without the cost
//  per transaction (what group commit shares).
static double
s_bare_set_batched (bare_db_t *bare, int ops, int offset)
{
    double total = 0;
    for (int done = 0; done < ops; done += BATCH) {
        double start = s_now_ns ();
        sqlite3_exec (bare->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        s_bare_set (bare, BATCH, offset + done);
        sqlite3_exec (bare->db, "COMMIT", NULL, NULL, NULL);
        total += s_now_ns () - start;
    }
    return total / ops;
}

static void
s_fill_bare (bare_db_t *bare)
{
    sqlite3_exec (bare->db, "BEGIN", NULL, NULL, NULL);
    s_bare_set (bare, GROUP_SIZE, 0);
    sqlite3_exec (bare->db, "COMMIT", NULL, NULL, NULL);
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
    zstore_sync_t mode = strcmp (synchronous, "FULL") == 0 ? ZSTORE_SYNC_FULL
                       : strcmp (synchronous, "NORMAL") == 0 ? ZSTORE_SYNC_NORMAL
                       : ZSTORE_SYNC_OFF;
    s_engine_check (engine, zstore_engine_set_synchronous (engine, mode));
    return engine;
}

static double
s_engine_set (zstore_engine_t *engine, int ops, int offset)
{
    char key [32];
    double start = s_now_ns ();
    for (int index = 0; index < ops; index++) {
        s_key (key, sizeof key, offset + index);
        s_engine_check (engine, zstore_engine_set (engine, zstore_bytes ("bench", 5),
                                                   zstore_str (key), zstore_bytes ("value", 5),
                                                   NULL));
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
        s_engine_check (engine, zstore_engine_set (engine, zstore_bytes ("bench", 5),
                                                   zstore_str (key), zstore_str (value), NULL));
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
        s_engine_check (engine, zstore_engine_delete (engine, zstore_bytes ("bench", 5),
                                                      zstore_str (key), ZSTORE_ANY_REVISION,
                                                      NULL));
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

static double
s_engine_set_batched (zstore_engine_t *engine, int ops, int offset)
{
    double total = 0;
    for (int done = 0; done < ops; done += BATCH) {
        double start = s_now_ns ();
        s_engine_check (engine, zstore_engine_begin (engine));
        s_engine_set (engine, BATCH, offset + done);
        s_engine_check (engine, zstore_engine_commit (engine, NULL));
        total += s_now_ns () - start;
    }
    return total / ops;
}

static void
s_fill_engine (zstore_engine_t *engine)
{
    s_engine_check (engine, zstore_engine_begin (engine));
    s_engine_set (engine, GROUP_SIZE, 0);
    s_engine_check (engine, zstore_engine_commit (engine, NULL));
}

//  --- cases --------------------------------------------------------------

static char *
s_case_path (const bench_case_t *bench, const char *dir, int side, int round)
{
    char *path = NULL;
    if (strcmp (bench->path, ":memory:") == 0)
        return strdup (":memory:");
    if (asprintf (&path, "%s/bench-%d-%d-%d.db", dir, (int) getpid (), side, round) < 0)
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

static double
s_measure_engine (case_kind_t kind, zstore_engine_t *engine, int ops)
{
    switch (kind) {
        case CASE_SET:          return s_engine_set (engine, ops, GROUP_SIZE);
        case CASE_SET_BATCH:    return s_engine_set_batched (engine, ops, GROUP_SIZE);
        case CASE_OVERWRITE:    return s_engine_overwrite (engine, ops);
        case CASE_DELETE:       return s_engine_delete (engine, ops);
        case CASE_GET:          return s_engine_get (engine, ops);
        case CASE_GET_ALL:      return s_engine_get_all (engine, ops);
    }
    return 0;
}

static double
s_measure_bare (case_kind_t kind, bare_db_t *bare, int ops)
{
    switch (kind) {
        case CASE_SET:          return s_bare_set (bare, ops, GROUP_SIZE);
        case CASE_SET_BATCH:    return s_bare_set_batched (bare, ops, GROUP_SIZE);
        case CASE_OVERWRITE:    return s_bare_overwrite (bare, ops);
        case CASE_DELETE:       return s_bare_delete (bare, ops);
        case CASE_GET:          return s_bare_get (bare, ops);
        case CASE_GET_ALL:      return s_bare_get_all (bare, ops);
    }
    return 0;
}

//  One side's ns/op in one round of one case, on a fresh database.
static double
s_side (const bench_case_t *bench, side_t side, const char *dir, int round)
{
    char *path = s_case_path (bench, dir, side, round);
    bool filled = bench->kind != CASE_SET && bench->kind != CASE_SET_BATCH;
    double ns;
    if (side == SIDE_ENGINE) {
        zstore_engine_t *engine = s_engine_open (path, bench->synchronous);
        if (filled)
            s_fill_engine (engine);
        ns = s_measure_engine (bench->kind, engine, bench->ops);
        zstore_engine_destroy (&engine);
    }
    else {
        bare_db_t bare = {
            s_bare_open (path, bench->synchronous),
            side == SIDE_BARE ? BARE_GO_STORE : BARE_REVISIONS, 0
        };
        if (filled)
            s_fill_bare (&bare);
        ns = s_measure_bare (bench->kind, &bare, bench->ops);
        sqlite3_close (bare.db);
    }
    s_remove_db (path);
    free (path);
    return ns;
}

static const char *s_filter = NULL;
static const char *s_side_names [SIDE_COUNT] = { "engine", "bare", "bare+revs" };
static const char *s_only_side = NULL;

static void
s_run (const bench_case_t *bench, const char *dir, int rounds)
{
    if (s_filter && !strstr (bench->name, s_filter))
        return;
    double ns [SIDE_COUNT][rounds];
    //  Each round rotates which side goes first, so that none always runs
    //  on a warmer (or a colder) machine.
    for (int round = 0; round < rounds; round++)
        for (int turn = 0; turn < SIDE_COUNT; turn++) {
            side_t side = (side_t) ((turn + round) % SIDE_COUNT);
            bool skip = s_only_side && strcmp (s_only_side, s_side_names [side]) != 0;
            ns [side][round] = skip ? 0 : s_side (bench, side, dir, round);
        }
    double engine = s_median (ns [SIDE_ENGINE], rounds);
    double bare = s_median (ns [SIDE_BARE], rounds);
    double bare_revisions = s_median (ns [SIDE_BARE_REVISIONS], rounds);
    printf ("%-27s %10.0f %10.0f %6.2fx %10.0f %6.2fx %10s\n", bench->name, engine, bare,
            engine / bare, bare_revisions, engine / bare_revisions, bench->go_store);
    fflush (stdout);
}

int
main (int argc, char *argv [])
{
    int rounds = argc > 1 ? atoi (argv [1]) : 5;
    const char *dir = argc > 2 ? argv [2] : ".";
    s_filter = argc > 3 ? argv [3] : NULL;
    s_only_side = argc > 4 ? argv [4] : NULL;
    if (rounds < 1)
        rounds = 1;
    static const bench_case_t cases [] = {
        { "set (memory)", CASE_SET, ":memory:", "OFF", 100000, "10290" },
        { "set, 100 per txn (memory)", CASE_SET_BATCH, ":memory:", "OFF", 100000, "-" },
        { "set, existing key (memory)", CASE_OVERWRITE, ":memory:", "OFF", 100000, "-" },
        { "delete (memory)", CASE_DELETE, ":memory:", "OFF", GROUP_SIZE, "-" },
        { "get (memory)", CASE_GET, ":memory:", "OFF", 200000, "3589" },
        { "get-all 10k keys (memory)", CASE_GET_ALL, ":memory:", "OFF", 50, "4741451" },
        { "set (WAL, sync NORMAL)", CASE_SET, "file", "NORMAL", 20000, "-" },
        { "set (WAL, sync FULL)", CASE_SET, "file", "FULL", 500, "265868" },
    };
    printf ("zstore engine beside bare SQLite %s: median ns/op of %d rounds\n",
            sqlite3_libversion (), rounds);
    printf ("%-27s %10s %10s %7s %10s %7s %10s\n", "case", "engine", "bare", "ratio",
            "bare+revs", "ratio", "go-store");
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++)
        s_run (&cases [index], dir, rounds);
    return 0;
}
