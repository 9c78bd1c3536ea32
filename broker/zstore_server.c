/*  zstore_server - the broker's sockets and its one event loop (zloop).

    The ROUTER is read by zstore_requests.c (requests in, group commit,
    replies out). The XPUB socket is read here: subscription messages are
    how the late joiner handshake works (a subscription to "s<token>" is
    answered with a marker on that topic, PROTOCOL.md 4.1). Timers send
    heartbeats and beacons, expire idle snapshots, and purge expired keys
    in bounded steps between batches of requests.
*/

#include "zstore_broker.h"

#include <sys/stat.h>

static uint64_t
s_random_epoch (void)
{
    uint64_t epoch = 0;
    FILE *random = fopen ("/dev/urandom", "rb");
    if (random) {
        if (fread (&epoch, sizeof epoch, 1, random) != 1)
            epoch = 0;
        fclose (random);
    }
    if (!epoch)
        epoch = (uint64_t) zclock_time () ^ ((uint64_t) getpid () << 32);
    //  53 bits: exact in every client language's numbers (JSON, JavaScript).
    epoch &= 0x1FFFFFFFFFFFFFull;
    return epoch ? epoch : 1;
}

static char *
s_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    return message;
}

//  Options a bound socket passes to its connections must be set before
//  bind: libzmq copies them into the listener when it binds.
static void
s_set_router_options (zsock_t *router, zstore_config_t *config)
{
    zsock_set_router_mandatory (router, 1);
    //  Replies a client has not read yet, per client, before more are
    //  dropped: a group commit answers a whole batch at once, and a
    //  pipelining client may have thousands in flight (libzmq's default
    //  is 1000).
    zsock_set_sndhwm (router, (int) config->replies_hwm);
    //  The transport's hard limit; the soft limit (max_request) gets a
    //  too_large reply instead of a dropped connection.
    zsock_set_maxmsgsize (router, (int) (config->max_request * 4));
}

static void
s_set_xpub_options (zsock_t *xpub, zstore_config_t *config)
{
    zsock_set_sndhwm (xpub, (int) config->events_hwm);
    //  Every subscription message, duplicates included, reaches the broker:
    //  each sync token must be answered.
    zsock_set_xpub_verbose (xpub, 1);
}

//  Creates, configures and binds a socket, and prints the endpoint
//  actually bound (for ":*" ports).
static zsock_t *
s_bind (int type, const char *endpoint, const char *what, zstore_config_t *config,
        void (*configure) (zsock_t *, zstore_config_t *), char **error_p)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        *error_p = s_error ("cannot create the %s socket", what);
        return NULL;
    }
    configure (sock, config);
    //  ZMTP heartbeats reap dead TCP peers (power-off, half-open).
    zsock_set_heartbeat_ivl (sock, 5000);
    zsock_set_heartbeat_timeout (sock, 15000);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        *error_p = s_error ("cannot bind %s endpoint %s: %s", what, endpoint,
                            zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    printf ("zstore-broker: %s %s\n", what, zsock_endpoint (sock));
    return sock;
}

//  The durable mode on a file: commits write the WAL without flushing
//  (synchronous=NORMAL) and the flusher's thread flushes it before the
//  replies leave (zstore_flusher.c): the same promise as FULL, without
//  the loop stopping for each fsync.
static int
s_start_flusher (zstore_broker_t *self, char **error_p)
{
    if (self->config->sync != ZSTORE_SYNC_FULL)
        return 0;
    zstore_wal_file_t *wal = zstore_engine_wal_file (self->engine);
    if (!wal)
        return 0;                   //  a memory database: nothing to flush
    self->flusher = zstore_flusher_new (wal, zstore_engine_revision (self->engine));
    if (!self->flusher) {
        zstore_wal_file_destroy (&wal);
        *error_p = s_error ("cannot start the WAL flusher: %s", strerror (errno));
        return -1;
    }
    if (zstore_engine_set_synchronous (self->engine, ZSTORE_SYNC_NORMAL))
        return -1;
    return 0;
}

static int
s_open_engine (zstore_broker_t *self, char **error_p)
{
    char *error = NULL;
    self->engine = zstore_engine_new (self->config->db_path, &error);
    if (!self->engine) {
        *error_p = s_error ("cannot open %s: %s", self->config->db_path, error ? error : "");
        free (error);
        return -1;
    }
    //  Checkpoints off the request path: no commit waits for one.
    if (zstore_engine_set_synchronous (self->engine, self->config->sync)
    ||  zstore_engine_set_cache_size (self->engine, self->config->cache)
    ||  zstore_engine_set_history_limit (self->engine, self->config->history)
    ||  zstore_engine_set_background_checkpoints (self->engine, (int) self->config->checkpoint)
    ||  zstore_engine_set_wal_limit (self->engine, self->config->wal)
    ||  s_start_flusher (self, error_p)) {
        if (!*error_p)
            *error_p = s_error ("%s", zstore_engine_error (self->engine));
        return -1;
    }
    printf ("zstore-broker: database %s (revision %llu)\n", self->config->db_path,
            (unsigned long long) zstore_engine_revision (self->engine));
    return 0;
}

static void
s_scope_destroy (void **item)
{
    zstore_scope_destroy ((zstore_scope_t **) item);
}

zstore_broker_t *
zstore_broker_new (zstore_config_t *config, char **error_p)
{
    *error_p = NULL;
    zstore_broker_t *self = calloc (1, sizeof (zstore_broker_t));
    if (!self)
        return NULL;
    self->config = config;
    self->epoch = s_random_epoch ();
    self->started = zclock_time ();
    self->purge_timer = -1;
    zstore_stats_init (&self->stats);
    zstore_writer_init (&self->reply);
    zstore_writer_init (&self->scratch);
    zstore_buffer_init (&self->name);
    self->scopes = zhashx_new ();
    zhashx_set_destructor (self->scopes, s_scope_destroy);
    self->snapshots = zstore_snapshots_new ((size_t) config->snapshots, config->snapshot_idle);
    self->inbox = zstore_inbox_new ();
    self->request_reader = zstore_reader_new_reusable ();
    if (!self->inbox || !self->request_reader) {
        *error_p = s_error ("out of memory");
        zstore_broker_destroy (&self);
        return NULL;
    }
    if (s_open_engine (self, error_p)
    ||  !(self->router = s_bind (ZMQ_ROUTER, config->requests_endpoint, "requests", config,
                                 s_set_router_options, error_p))
    ||  !(self->xpub = s_bind (ZMQ_XPUB, config->events_endpoint, "events", config,
                               s_set_xpub_options, error_p))) {
        zstore_broker_destroy (&self);
        return NULL;
    }
    self->publisher = zstore_publisher_new (self->xpub, self->epoch);
    zstore_engine_add_event_sink (self->engine, zstore_publisher_event, self->publisher);
    printf ("zstore-broker: epoch %llu\n", (unsigned long long) self->epoch);
    fflush (stdout);
    return self;
}

void
zstore_broker_destroy (zstore_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_broker_t *self = *self_p;
    zloop_destroy (&self->loop);
    zstore_flusher_destroy (&self->flusher);
    zstore_snapshots_destroy (&self->snapshots);
    zstore_inbox_destroy (&self->inbox);
    zstore_reader_destroy (&self->request_reader);
    zhashx_destroy (&self->scopes);
    //  Closing the engine checkpoints the WAL: every acknowledged write is
    //  in the database file afterwards.
    zstore_engine_destroy (&self->engine);
    zstore_publisher_destroy (&self->publisher);
    zsock_destroy (&self->router);
    zsock_destroy (&self->xpub);
    zstore_writer_free (&self->reply);
    zstore_writer_free (&self->scratch);
    zstore_buffer_free (&self->name);
    zstore_stats_free (&self->stats);
    free (self);
    *self_p = NULL;
}

//  --- Subscriptions ------------------------------------------------------

//  Subscription messages: \x01 topic (subscribe) or \x00 topic.
static int
s_on_subscriptions (zloop_t *loop, zsock_t *xpub, void *arg)
{
    (void) loop;
    zstore_broker_t *self = arg;
    zframe_t *frame = zframe_recv (xpub);
    if (!frame)
        return 0;
    const char *data = (const char *) zframe_data (frame);
    size_t size = zframe_size (frame);
    if (size >= 1 && (data [0] == 0 || data [0] == 1))
        zstore_publisher_subscription (self->publisher, data + 1, size - 1, data [0] == 1);
    if (size >= 1 && data [0] == 1) {
        self->stats.subscriptions++;
        if (size >= 2 && data [1] == ZSTORE_TOPIC_SYNC)
            zstore_publisher_sync (self->publisher, data + 1, size - 1,
                                   zstore_engine_revision (self->engine));
    }
    zframe_destroy (&frame);
    return 0;
}

//  --- Timers -------------------------------------------------------------

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop; (void) timer_id;
    zstore_broker_t *self = arg;
    zstore_publisher_heartbeat (self->publisher, zstore_engine_revision (self->engine),
                                zclock_time ());
    int64_t now = zclock_time ();
    zstore_snapshots_expire (self->snapshots, now);
    //  Once a minute: a pass over every client entry.
    if (now - self->stats.clients_forgotten >= 60000) {
        zstore_stats_forget_clients (&self->stats, now);
        self->stats.clients_forgotten = now;
    }
    return 0;
}

//  The rows of the next step, so that a step takes about the budget: a
//  request that arrives during a step waits for it, so the step's time,
//  not its rows, is what must be bounded. Halved when over the budget,
//  grown by a quarter when well under, within [1, purge-chunk].
static void
s_purge_adapt (zstore_broker_t *self, int64_t removed, int64_t elapsed_us)
{
    int64_t budget_us = self->config->purge_budget * 1000;
    int64_t rows = self->purge_rows;
    if (elapsed_us > budget_us)
        rows = rows / 2;
    else
    if (removed == rows && elapsed_us < budget_us / 2)
        rows = rows + rows / 4 + 1;
    self->purge_rows = rows < 1 ? 1 : rows > self->config->purge_chunk ? self->config->purge_chunk
                                                                        : rows;
}

//  One bounded purge step; if it was full, the next step is scheduled at
//  once, so requests waiting in between are served between steps.
static int
s_on_purge (zloop_t *loop, int timer_id, void *arg)
{
    zstore_broker_t *self = arg;
    if (timer_id == self->purge_timer)
        self->purge_timer = -1;
    //  Start small: the first step of a round must not be the stall.
    if (self->purge_rows < 1)
        self->purge_rows = self->config->purge_chunk < 64 ? self->config->purge_chunk : 64;
    int64_t rows = self->purge_rows, removed = 0;
    int64_t started = zclock_usecs ();
    if (zstore_engine_purge_expired_step (self->engine, rows, &removed)) {
        zsys_warning ("zstore-broker: purge: %s", zstore_engine_error (self->engine));
        return 0;
    }
    s_purge_adapt (self, removed, zclock_usecs () - started);
    if (removed == rows && self->purge_timer < 0)
        self->purge_timer = zloop_timer (loop, 1, 1, s_on_purge, self);
    return 0;
}

int
zstore_broker_run (zstore_broker_t *self)
{
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->router, zstore_inbox_on_readable, self);
    zloop_reader (self->loop, self->xpub, s_on_subscriptions, self);
    if (self->flusher)
        zloop_reader (self->loop, zstore_flusher_sock (self->flusher), zstore_inbox_on_flushed,
                      self);
    zloop_timer (self->loop, (size_t) self->config->heartbeat, 0, s_on_heartbeat, self);
    zloop_timer (self->loop, (size_t) self->config->purge_interval, 0, s_on_purge, self);
    printf ("zstore-broker: ready\n");
    fflush (stdout);
    //  Returns when SIGINT/SIGTERM sets zsys_interrupted.
    zloop_start (self->loop);
    zstore_inbox_drain (self);
    printf ("zstore-broker: stopping at revision %llu\n",
            (unsigned long long) zstore_engine_revision (self->engine));
    fflush (stdout);
    return self->failed ? -1 : 0;
}
