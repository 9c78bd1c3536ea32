/*  zstore_engine_history - the most recent events, kept in the database.

    When the history limit is above 0, a change's events are inserted into
    zstore_history just before its COMMIT, inside the same write
    transaction: history and data commit together or not at all, and
    handles in several processes append in commit order (seq is allocated
    under the write lock, so revisions only grow with seq).

    The floor (zstore_meta's 'history_floor' row) is the highest revision
    whose events may be missing; every event with a higher revision is kept.
    It rises when trimming deletes old rows, and when revisions were
    committed without being recorded (history off, another handle without
    history, rows revised at open): a reader resuming from before those
    would otherwise miss changes without knowing. Revisions committed after
    the newest row and not recorded yet (the tail) are found at query time.

    Trimming is amortised: nothing is deleted until more than
    limit + max (limit / 100, 100) rows are kept, then the oldest go down to
    limit, so each commit pays O(1) on average. The slack is small because
    the commit that trims pays for all of it at once: 10,000 rows (a tenth
    of the default limit) held one request for about 15 ms.
*/

#include "zstore_engine_private.h"

#include <stdint.h>
#include <string.h>

//  Rows beyond the limit tolerated before a trim: max (limit / 100, 100).
#define HISTORY_SLACK_MIN 100

//  What a query or a recording needs to know.
typedef struct {
    uint64_t floor;                 //  'history_floor', 0 if none
    uint64_t last;                  //  revision of the newest row, 0 if none
    uint64_t revision;              //  the last committed revision (queries only)
} s_state_t;

static int
s_run (zstore_engine_t *self, zstore_statement_t id)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    return stmt ? zstore_engine_step_done (stmt) : SQLITE_ERROR;
}

static int
s_read_state (zstore_engine_t *self, const char *op, s_state_t *state)
{
    memset (state, 0, sizeof (*state));
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_STATE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        state->floor = (uint64_t) sqlite3_column_int64 (stmt, 0);
        state->last = (uint64_t) sqlite3_column_int64 (stmt, 1);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "read history");
}

//  The state and the last committed revision, for queries.
static int
s_read_query_state (zstore_engine_t *self, const char *op, s_state_t *state)
{
    int code = s_read_state (self, op, state);
    if (code == ZSTORE_OK && zstore_revision_read (self, self->db, &state->revision) != SQLITE_OK)
        code = zstore_engine_fail_sql (self, op, "read revision");
    return code;
}

//  The floor a reader must respect: the stored one, unless revisions were
//  committed after the newest row without being recorded; then nothing up
//  to the current revision can be served.
static uint64_t
s_effective_floor (const s_state_t *state)
{
    uint64_t kept = state->last > state->floor ? state->last : state->floor;
    return kept < state->revision ? state->revision : state->floor;
}

static int
s_raise_floor (zstore_engine_t *self, const char *op, uint64_t floor)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_FLOOR_WRITE);
    if (!stmt || sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) floor) != SQLITE_OK
    ||  zstore_engine_step_done (stmt) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "write history floor");
    return ZSTORE_OK;
}

//  --- Recording ----------------------------------------------------------

static int
s_bind_event (zstore_engine_t *self, sqlite3_stmt *stmt, size_t index)
{
    const zstore_staged_event_t *staged = &self->staged [index];
    const char *arena = self->arena;
    int rc = zstore_engine_bind_bytes (stmt, 5, zstore_bytes (arena + staged->group_offset,
                                                              staged->group_size));
    if (rc == SQLITE_OK)
        rc = zstore_engine_bind_bytes (stmt, 6, zstore_bytes (arena + staged->key_offset,
                                                              staged->key_size));
    if (rc == SQLITE_OK)
        rc = zstore_engine_bind_bytes (stmt, 7, zstore_bytes (arena + staged->value_offset,
                                                              staged->value_size));
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) staged->revision);
    //  Index and count within the change (a batch stages several).
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) (index - self->change_first));
    sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) (self->staged_size - self->change_first));
    sqlite3_bind_int (stmt, 4, (int) staged->type);
    sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) staged->prev_revision);
    sqlite3_bind_int64 (stmt, 9, staged->timestamp);
    sqlite3_bind_int64 (stmt, 10, staged->expires_at);
    return rc;
}

static int
s_insert_events (zstore_engine_t *self, const char *op)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_INSERT);
    if (!stmt)
        return ZSTORE_INTERNAL;
    for (size_t index = self->change_first; index < self->staged_size; index++) {
        if (s_bind_event (self, stmt, index) != SQLITE_OK
        ||  zstore_engine_step_done (stmt) != SQLITE_DONE)
            return zstore_engine_fail_sql (self, op, "record history");
    }
    return ZSTORE_OK;
}

//  The oldest and newest seq (0, 0 when empty): O(1) on the rowid.
static int
s_span (zstore_engine_t *self, int64_t *first_p, int64_t *last_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_SPAN);
    if (!stmt)
        return SQLITE_ERROR;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *first_p = sqlite3_column_int64 (stmt, 0);
        *last_p = sqlite3_column_int64 (stmt, 1);
        rc = SQLITE_OK;
    }
    sqlite3_reset (stmt);
    return rc;
}

//  The revision of the newest row with seq <= cut: the highest revision
//  deleted by a trim at cut, since revisions grow with seq.
static int
s_cut_revision (zstore_engine_t *self, int64_t cut, int64_t *revision_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_CUT_REVISION);
    if (!stmt)
        return SQLITE_ERROR;
    sqlite3_bind_int64 (stmt, 1, cut);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *revision_p = sqlite3_column_int64 (stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_reset (stmt);
    return rc;
}

//  Deletes the oldest rows down to the limit once the slack is used up;
//  the floor becomes the newest revision deleted.
static int
s_trim (zstore_engine_t *self, const char *op, zstore_history_cache_t *cache)
{
    int64_t limit = self->history_limit;
    int64_t slack = limit / 100 > HISTORY_SLACK_MIN ? limit / 100 : HISTORY_SLACK_MIN;
    //  seq has no holes (only the oldest rows are ever deleted), and were
    //  there some, the span would only overestimate the rows kept.
    int64_t rows = cache->last_seq - cache->first_seq + 1;
    if (!cache->first_seq || rows <= limit || rows - limit <= slack)
        return ZSTORE_OK;
    int64_t cut = cache->last_seq - limit;
    int64_t floor = 0;
    if (s_cut_revision (self, cut, &floor) != SQLITE_OK)
        return zstore_engine_fail_sql (self, op, "trim history");
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_TRIM);
    if (!stmt || sqlite3_bind_int64 (stmt, 1, cut) != SQLITE_OK
    ||  zstore_engine_step_done (stmt) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "trim history");
    cache->first_seq = cut + 1;
    cache->floor = (uint64_t) floor;
    return s_raise_floor (self, op, (uint64_t) floor);
}

//  The floor, the newest row's revision and the seq span, as stored. Inside
//  a batch they are read once: the batch holds the write lock, so only its
//  own changes move them, and recording keeps the copy up to date (a
//  change rolled back forgets it: zstore_engine_history_forget).
static int
s_recording_state (zstore_engine_t *self, const char *op, zstore_history_cache_t *cache)
{
    if (self->batch_open && self->history_cache.valid) {
        *cache = self->history_cache;
        return ZSTORE_OK;
    }
    s_state_t state;
    int code = s_read_state (self, op, &state);
    *cache = (zstore_history_cache_t) { .floor = state.floor, .last = state.last };
    if (code == ZSTORE_OK && s_span (self, &cache->first_seq, &cache->last_seq) != SQLITE_OK)
        code = zstore_engine_fail_sql (self, op, "measure history");
    return code;
}

int
zstore_engine_history_record (zstore_engine_t *self, const char *op, uint64_t revision)
{
    if (self->history_limit <= 0 || self->staged_size == self->change_first)
        return ZSTORE_OK;
    zstore_history_cache_t cache;
    int code = s_recording_state (self, op, &cache);
    self->history_cache.valid = false;      //  until this recording succeeds
    if (code)
        return code;
    //  Revisions between the last one kept and this one were committed
    //  without being recorded: they are gone for readers.
    uint64_t kept = cache.last > cache.floor ? cache.last : cache.floor;
    if (kept + 1 < revision) {
        code = s_raise_floor (self, op, revision - 1);
        cache.floor = revision - 1;
    }
    if (code == ZSTORE_OK)
        code = s_insert_events (self, op);
    if (code == ZSTORE_OK) {
        int64_t inserted = (int64_t) (self->staged_size - self->change_first);
        cache.last = revision;
        cache.last_seq = sqlite3_last_insert_rowid (self->db);
        if (!cache.first_seq)
            cache.first_seq = cache.last_seq - inserted + 1;
        code = s_trim (self, op, &cache);
    }
    if (code == ZSTORE_OK && self->batch_open) {
        cache.valid = true;
        self->history_cache = cache;
    }
    return code;
}

void
zstore_engine_history_forget (zstore_engine_t *self)
{
    self->history_cache.valid = false;
}

//  --- Reading --------------------------------------------------------------

//  Outside a write transaction, reads run in a read transaction of their
//  own, so that the floor and the rows come from the same commit even when
//  another process trims in between.
static int
s_read_begin (zstore_engine_t *self, const char *op, bool *own_p)
{
    *own_p = !self->write_open && !self->batch_open;
    if (*own_p && s_run (self, STMT_READ_BEGIN) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "begin read");
    return ZSTORE_OK;
}

static void
s_read_end (zstore_engine_t *self, bool own)
{
    if (!own || sqlite3_get_autocommit (self->db))
        return;
    if (s_run (self, STMT_COMMIT) != SQLITE_DONE)
        s_run (self, STMT_ROLLBACK);
}

static zstore_event_t
s_row_event (sqlite3_stmt *stmt)
{
    zstore_event_t event = {
        .revision = (uint64_t) sqlite3_column_int64 (stmt, 0),
        .index = (uint32_t) sqlite3_column_int64 (stmt, 1),
        .count = (uint32_t) sqlite3_column_int64 (stmt, 2),
        .type = (zstore_event_type_t) sqlite3_column_int (stmt, 3),
        .group = zstore_engine_column_bytes (stmt, 4),
        .key = zstore_engine_column_bytes (stmt, 5),
        .value = zstore_engine_column_bytes (stmt, 6),
        .prev_revision = (uint64_t) sqlite3_column_int64 (stmt, 7),
        .timestamp = sqlite3_column_int64 (stmt, 8),
        .expires_at = sqlite3_column_int64 (stmt, 9),
    };
    return event;
}

static int
s_query (zstore_engine_t *self, const char *op, uint64_t after,
         zstore_event_filter_fn *filter, void *filter_arg, size_t limit,
         zstore_event_fn *each, void *each_arg, bool *more_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_HISTORY_AFTER);
    if (!stmt)
        return ZSTORE_INTERNAL;
    sqlite3_bind_int64 (stmt, 1, after > INT64_MAX ? INT64_MAX : (sqlite3_int64) after);
    size_t delivered = 0;
    uint64_t last_revision = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        zstore_event_t event = s_row_event (stmt);
        if (filter && !filter (&event, filter_arg))
            continue;
        //  A page never ends inside a change: the caller continues with
        //  after = the last revision it got and misses nothing. So a change
        //  that straddles the limit is delivered whole.
        if (delivered >= limit && event.revision != last_revision) {
            *more_p = true;
            rc = SQLITE_DONE;
            break;
        }
        if (each)
            each (&event, each_arg);
        delivered++;
        last_revision = event.revision;
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "query history");
}

static int
s_check_reaches (zstore_engine_t *self, const char *op, uint64_t after)
{
    s_state_t state;
    int code = s_read_query_state (self, op, &state);
    if (code)
        return code;
    uint64_t floor = s_effective_floor (&state);
    if (after >= floor)
        return ZSTORE_OK;
    return zstore_engine_fail (self, ZSTORE_TOO_OLD,
                               "%s: revision %llu is older than the history (first kept: %llu)",
                               op, (unsigned long long) after,
                               (unsigned long long) floor + 1);
}

//  --- Public ---------------------------------------------------------------

int
zstore_engine_set_history_limit (zstore_engine_t *self, int64_t events_limit)
{
    int code = zstore_engine_check_open (self, "store.SetHistoryLimit");
    if (code)
        return code;
    if (events_limit < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.SetHistoryLimit: limit must be zero or positive");
    self->history_limit = events_limit;
    return ZSTORE_OK;
}

int
zstore_engine_history (zstore_engine_t *self, uint64_t after, zstore_event_filter_fn *filter,
                       void *filter_arg, size_t limit, zstore_event_fn *each, void *each_arg,
                       bool *more_p)
{
    const char *op = ZSTORE_OP (self, "History");
    bool more = false, own = false;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = s_read_begin (self, op, &own);
    if (code == ZSTORE_OK)
        code = s_check_reaches (self, op, after);
    if (code == ZSTORE_OK)
        code = s_query (self, op, after, filter, filter_arg, limit, each, each_arg, &more);
    if (self->db)
        s_read_end (self, own);
    if (more_p)
        *more_p = code == ZSTORE_OK && more;
    return code;
}

int
zstore_engine_history_bounds (zstore_engine_t *self, uint64_t *first_p, uint64_t *last_p)
{
    const char *op = ZSTORE_OP (self, "HistoryBounds");
    s_state_t state = { 0, 0, 0 };
    bool own = false;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = s_read_begin (self, op, &own);
    if (code == ZSTORE_OK)
        code = s_read_query_state (self, op, &state);
    if (self->db)
        s_read_end (self, own);
    if (first_p)
        *first_p = code ? 0 : s_effective_floor (&state) + 1;
    if (last_p)
        *last_p = code ? 0 : state.revision;
    return code;
}
