/*  zstore_engine_checkpoint - WAL checkpoints on a thread of their own.

    By default SQLite checkpoints inside a commit: the commit that takes
    the WAL past 1000 pages copies all of it into the database file and
    fsyncs it, so one request in a few thousand waits for megabytes of I/O
    (measured: a 30-130 ms stall while a million expired rows are purged).
    With background checkpoints on, the handle's commits never checkpoint
    (wal_autocheckpoint 0); a thread with its own connection runs a PASSIVE
    checkpoint every interval instead. PASSIVE never waits for, nor blocks,
    the writer: it copies the frames no reader still needs, and the writer
    restarts the WAL from its start once everything was copied.

    Under a steady stream of writes that moment never comes: each PASSIVE
    copies what was there when it began while the writer adds more, and the
    WAL grows without end (measured: 2.1 GB beside a 118 MB database after
    a million pipelined sets). So when the WAL is past its limit
    (zstore_engine_set_wal_limit), the PASSIVE is followed at once by a
    RESTART checkpoint without a busy handler: if the writer lock is free it
    copies the few frames written meanwhile, holding writers off for that
    long, and makes the next write start the WAL over; if the writer or a
    reader is busy it gives up at once and the next interval tries again.
    journal_size_limit then cuts the file back to the limit.

    The thread touches nothing of the engine but its counters, under the
    mutex; its connection is its own, so SQLite needs no shared locking.
*/

#include "zstore_engine_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct _zstore_checkpointer_t {
    sqlite3 *db;                    //  the thread's own connection
    int interval_ms;
    int64_t wal_limit;              //  bytes; 0 = none (under the mutex)
    int page_size;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t changed;         //  stop asked, or a checkpoint ran
    bool stopping;
    zstore_checkpoint_stats_t stats;
};

static struct timespec
s_deadline (int interval_ms)
{
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += interval_ms / 1000;
    deadline.tv_nsec += (long) (interval_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

//  Past the limit, a RESTART that gives up rather than wait: true if the
//  next write starts the WAL over.
static bool
s_restart (zstore_checkpointer_t *self, int wal_frames)
{
    pthread_mutex_lock (&self->mutex);
    int64_t limit = self->wal_limit;
    pthread_mutex_unlock (&self->mutex);
    if (!limit || (int64_t) wal_frames * (self->page_size + 24) <= limit)
        return false;
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_RESTART, &frames,
                                        &copied);
    return rc == SQLITE_OK;
}

//  One PASSIVE checkpoint; BUSY (another checkpoint is running, in this
//  process or another) is not a failure.
static void
s_checkpoint (zstore_checkpointer_t *self)
{
    int wal_frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                        &copied);
    bool restarted = rc == SQLITE_OK && s_restart (self, wal_frames);
    pthread_mutex_lock (&self->mutex);
    self->stats.runs++;
    self->stats.restarts += restarted;
    if (rc == SQLITE_OK && wal_frames >= 0) {
        self->stats.wal_frames = (uint64_t) wal_frames;
        self->stats.copied = copied > 0 ? (uint64_t) copied : 0;
    }
    else
    if ((rc & 0xff) != SQLITE_BUSY)
        self->stats.failures++;     //  an error, or -1 frames: not in WAL mode
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->mutex);
}

static void *
s_run (void *arg)
{
    zstore_checkpointer_t *self = arg;
    pthread_mutex_lock (&self->mutex);
    while (!self->stopping) {
        struct timespec deadline = s_deadline (self->interval_ms);
        int rc = 0;
        while (!self->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait (&self->changed, &self->mutex, &deadline);
        if (self->stopping)
            break;
        pthread_mutex_unlock (&self->mutex);
        s_checkpoint (self);
        pthread_mutex_lock (&self->mutex);
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}

static void
s_checkpointer_destroy (zstore_checkpointer_t **self_p)
{
    zstore_checkpointer_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock (&self->mutex);
    self->stopping = true;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->mutex);
    pthread_join (self->thread, NULL);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->mutex);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

static zstore_checkpointer_t *
s_checkpointer_new (const char *path, int interval_ms, int64_t wal_limit, int page_size)
{
    zstore_checkpointer_t *self = calloc (1, sizeof (zstore_checkpointer_t));
    if (!self)
        return NULL;
    self->interval_ms = interval_ms;
    self->wal_limit = wal_limit;
    self->page_size = page_size;
    pthread_condattr_t attributes;
    pthread_condattr_init (&attributes);
    pthread_condattr_setclock (&attributes, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attributes);
    pthread_condattr_destroy (&attributes);
    pthread_mutex_init (&self->mutex, NULL);
    //  The connection learns that the file is in WAL mode when it first
    //  reads it; until then a checkpoint does nothing (and says -1 frames).
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK
    ||  sqlite3_exec (self->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)
        != SQLITE_OK
    ||  pthread_create (&self->thread, NULL, s_run, self) != 0) {
        pthread_cond_destroy (&self->changed);
        pthread_mutex_destroy (&self->mutex);
        sqlite3_close (self->db);
        free (self);
        return NULL;
    }
    return self;
}

static int
s_page_size (sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int size = 4096;
    if (sqlite3_prepare_v2 (db, "PRAGMA page_size", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        size = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
    return size;
}

int
zstore_engine_set_wal_limit (zstore_engine_t *self, int64_t kib)
{
    const char *op = "store.SetWALLimit";
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    if (kib < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: negative limit", op);
    self->wal_limit = kib * 1024;
    if (!zstore_engine_file (self))
        return ZSTORE_OK;           //  a memory database has no WAL
    //  After a restart, the file is cut back to the limit (-1: never).
    char pragma [64];
    snprintf (pragma, sizeof pragma, "PRAGMA journal_size_limit=%lld",
              kib ? (long long) self->wal_limit : -1LL);
    if (sqlite3_exec (self->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return zstore_engine_fail_sql (self, op, "set journal_size_limit");
    if (self->checkpointer) {
        pthread_mutex_lock (&self->checkpointer->mutex);
        self->checkpointer->wal_limit = self->wal_limit;
        pthread_mutex_unlock (&self->checkpointer->mutex);
    }
    return ZSTORE_OK;
}

int
zstore_engine_set_background_checkpoints (zstore_engine_t *self, int interval_ms)
{
    const char *op = "store.SetBackgroundCheckpoints";
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    if (interval_ms < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: negative interval", op);
    s_checkpointer_destroy (&self->checkpointer);
    if (!zstore_engine_file (self))
        return ZSTORE_OK;           //  a memory database has no WAL
    const char *pragma = interval_ms ? "PRAGMA wal_autocheckpoint=0"
                                     : "PRAGMA wal_autocheckpoint=1000";
    if (sqlite3_exec (self->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return zstore_engine_fail_sql (self, op, "set wal_autocheckpoint");
    if (interval_ms == 0)
        return ZSTORE_OK;
    self->checkpointer = s_checkpointer_new (zstore_engine_file (self), interval_ms,
                                             self->wal_limit, s_page_size (self->db));
    if (!self->checkpointer) {
        sqlite3_exec (self->db, "PRAGMA wal_autocheckpoint=1000", NULL, NULL, NULL);
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: cannot start the thread", op);
    }
    return ZSTORE_OK;
}

bool
zstore_engine_checkpoint_stats (zstore_engine_t *self, uint64_t after_runs, int timeout_ms,
                                zstore_checkpoint_stats_t *stats)
{
    zstore_checkpointer_t *checkpointer = self->checkpointer;
    *stats = (zstore_checkpoint_stats_t) { 0 };
    if (!checkpointer)
        return false;
    struct timespec deadline = s_deadline (timeout_ms);
    pthread_mutex_lock (&checkpointer->mutex);
    int rc = 0;
    while (checkpointer->stats.runs <= after_runs && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait (&checkpointer->changed, &checkpointer->mutex, &deadline);
    *stats = checkpointer->stats;
    pthread_mutex_unlock (&checkpointer->mutex);
    return stats->runs > after_runs;
}

void
zstore_engine_checkpoint_stop (zstore_engine_t *self)
{
    s_checkpointer_destroy (&self->checkpointer);
}
