/*  zstore_stats - the broker's counters and the stats reply
    (PROTOCOL.md 2.7).
*/

#include "zstore_broker.h"

#include <sys/stat.h>

void
zstore_stats_init (zstore_stats_t *self)
{
    memset (self, 0, sizeof (*self));
    self->clients = zhashx_new ();
}

void
zstore_stats_free (zstore_stats_t *self)
{
    zhashx_destroy (&self->clients);
}

//  Routing ids are binary: keep their hex form as the key, and as the item
//  the time of the client's last request (seconds; never 0, which
//  zhashx_lookup would mean "absent").
void
zstore_stats_client (zstore_stats_t *self, const void *routing_id, size_t size, int64_t now)
{
    //  Hex by table: this runs for every request (snprintf was 5% of a set).
    static const char digits [] = "0123456789abcdef";
    char key [2 * 256 + 1];
    size_t length = size > 256 ? 256 : size;
    const unsigned char *bytes = routing_id;
    for (size_t index = 0; index < length; index++) {
        key [2 * index] = digits [bytes [index] >> 4];
        key [2 * index + 1] = digits [bytes [index] & 15];
    }
    key [2 * length] = 0;
    zhashx_update (self->clients, key, (void *) (intptr_t) (now / 1000 + 1));
}

//  Forgets the clients idle for longer than the window: a client that
//  reconnects gets a new routing id, so a long-lived broker would
//  otherwise keep one entry for every connection it ever served.
void
zstore_stats_forget_clients (zstore_stats_t *self, int64_t now)
{
    intptr_t oldest = (intptr_t) ((now - ZSTORE_CLIENTS_WINDOW) / 1000 + 1);
    zlistx_t *idle = zlistx_new ();
    for (void *item = zhashx_first (self->clients); item; item = zhashx_next (self->clients))
        if ((intptr_t) item < oldest)
            zlistx_add_end (idle, (void *) zhashx_cursor (self->clients));
    //  The keys belong to the table: each is freed by its own delete.
    for (void *key = zlistx_first (idle); key; key = zlistx_next (idle))
        zhashx_delete (self->clients, key);
    zlistx_destroy (&idle);
}

//  The database's size on disk: the file and its WAL.
static uint64_t
s_database_bytes (const char *path)
{
    struct stat info;
    uint64_t total = 0;
    if (stat (path, &info) == 0)
        total += (uint64_t) info.st_size;
    char wal [4096];
    snprintf (wal, sizeof wal, "%s-wal", path);
    if (stat (wal, &info) == 0)
        total += (uint64_t) info.st_size;
    return total;
}

static void
s_write_counts (zstore_writer_t *writer, const char *field, const uint64_t *counts, size_t size,
                const char *(*name) (size_t))
{
    uint32_t used = 0;
    for (size_t index = 0; index < size; index++)
        used += counts [index] > 0;
    zstore_write_key (writer, field);
    zstore_write_map (writer, used);
    for (size_t index = 0; index < size; index++) {
        if (counts [index]) {
            zstore_write_key (writer, name (index));
            zstore_write_uint (writer, counts [index]);
        }
    }
}

static const char *
s_status_name (size_t index)
{
    return zstore_status_name ((int) index);
}

uint32_t
zstore_stats_write (zstore_broker_t *broker, zstore_writer_t *writer)
{
    zstore_stats_t *stats = &broker->stats;
    uint64_t first = 0, last = 0;
    zstore_engine_history_bounds (broker->engine, &first, &last);
    zstore_write_key (writer, "epoch");
    zstore_write_uint (writer, broker->epoch);
    zstore_write_key (writer, "rev");
    zstore_write_uint (writer, zstore_engine_revision (broker->engine));
    zstore_write_key (writer, "uptime_ms");
    zstore_write_uint (writer, (uint64_t) (zclock_time () - broker->started));
    zstore_write_key (writer, "clients");
    zstore_write_uint (writer, zhashx_size (stats->clients));
    s_write_counts (writer, "requests", stats->requests, zstore_dispatch_op_count (),
                    zstore_dispatch_op_name);
    s_write_counts (writer, "errors", stats->errors, ZSTORE_STATUS_COUNT, s_status_name);
    zstore_write_key (writer, "dropped");
    zstore_write_uint (writer, stats->dropped + stats->unroutable);
    zstore_write_key (writer, "events");
    zstore_write_uint (writer, zstore_publisher_published (broker->publisher));
    zstore_write_key (writer, "history_first");
    zstore_write_uint (writer, first);
    zstore_write_key (writer, "history_last");
    zstore_write_uint (writer, last);
    zstore_write_key (writer, "snapshots_open");
    zstore_write_uint (writer, zstore_snapshots_open (broker->snapshots));
    zstore_write_key (writer, "db_bytes");
    zstore_write_uint (writer, s_database_bytes (broker->config->db_path));
    zstore_write_key (writer, "batches");
    zstore_write_uint (writer, stats->batches);
    zstore_write_key (writer, "batched");
    zstore_write_uint (writer, stats->batched);
    zstore_write_key (writer, "flushes");
    zstore_write_uint (writer, broker->flusher ? zstore_flusher_flushes (broker->flusher) : 0);
    zstore_write_key (writer, "held");
    zstore_write_uint (writer, stats->held);
    //  The counters as they are now (waits for no checkpoint).
    zstore_checkpoint_stats_t checkpoints;
    zstore_engine_checkpoint_stats (broker->engine, UINT64_MAX, 0, &checkpoints);
    zstore_write_key (writer, "wal_restarts");
    zstore_write_uint (writer, checkpoints.restarts);
    return ZSTORE_STATS_PAIRS;
}
