/*  =========================================================================
    zstore_broker - what the broker's files share. The broker owns one engine
    and serves it over ZeroMQ; its files, one concern each:

      zstore_broker_main.c  the zstore-broker command: config, signals, run
      zstore_server.c       sockets, the event loop, subscriptions, timers
      zstore_requests.c     requests in, group commit, replies out
      zstore_flusher.c      the durable mode's WAL flushes, on a thread
      zstore_dispatch.c     the operation table: a request map -> engine calls
      zstore_publisher.c    events, sequences, heartbeats, beacons, sync markers
      zstore_snapshots.c    open snapshots: ids, pages, idle expiry
      zstore_stats.c        counters and the stats reply
      zstore_config.c       settings

    No SQL here: everything about storage goes through zstore_engine.h.
    =========================================================================
*/

#ifndef ZSTORE_BROKER_H_INCLUDED
#define ZSTORE_BROKER_H_INCLUDED

#include <czmq.h>

#include "zstore_config.h"
#include "zstore_engine.h"
#include "zstore_proto.h"

//  --- Publisher: engine events and control messages on the XPUB socket ---

typedef struct _zstore_publisher_t zstore_publisher_t;

zstore_publisher_t *
    zstore_publisher_new (zsock_t *xpub, uint64_t epoch);
void
    zstore_publisher_destroy (zstore_publisher_t **self_p);
//  A zstore_event_fn: publishes one committed event (arg: the publisher).
//  With no subscription at all the event is counted in the sequences but
//  neither encoded nor sent: nobody could receive it.
void
    zstore_publisher_event (const zstore_event_t *event, void *arg);
//  A subscription message seen on the XPUB (on: \x01, off: \x00).
void
    zstore_publisher_subscription (zstore_publisher_t *self, const char *topic, size_t size,
                                   bool on);
//  The heartbeat, then a beacon for each group and namespace that had
//  events since the last heartbeat.
void
    zstore_publisher_heartbeat (zstore_publisher_t *self, uint64_t revision, int64_t now);
//  Answers a subscription to a sync token with a marker on that topic.
void
    zstore_publisher_sync (zstore_publisher_t *self, const char *topic, size_t size,
                           uint64_t revision);
uint64_t
    zstore_publisher_published (zstore_publisher_t *self);
uint64_t
    zstore_publisher_sequence (zstore_publisher_t *self);

//  --- Stats --------------------------------------------------------------

typedef struct {
    uint64_t requests [64];         //  per operation (dispatch table index)
    uint64_t errors [ZSTORE_STATUS_COUNT];
    uint64_t dropped;               //  frames that could not be answered
    uint64_t unroutable;            //  replies to peers gone or full
    uint64_t subscriptions;         //  subscribe messages seen on XPUB
    uint64_t batches;               //  group commits
    uint64_t batched;               //  requests answered by them
    uint64_t held;                  //  replies that waited for a flush
    zhashx_t *clients;              //  routing id -> last request (s)
    int64_t clients_forgotten;      //  when idle clients were last forgotten
} zstore_stats_t;

//  "clients" counts the connections that sent a request in this window (ms).
#define ZSTORE_CLIENTS_WINDOW 300000

void
    zstore_stats_init (zstore_stats_t *self);
void
    zstore_stats_free (zstore_stats_t *self);
void
    zstore_stats_client (zstore_stats_t *self, const void *routing_id, size_t size,
                         int64_t now);
//  Forgets clients idle for longer than ZSTORE_CLIENTS_WINDOW.
void
    zstore_stats_forget_clients (zstore_stats_t *self, int64_t now);

//  --- Snapshots ----------------------------------------------------------

typedef struct _zstore_snapshots_t zstore_snapshots_t;

zstore_snapshots_t *
    zstore_snapshots_new (size_t max_open, int64_t idle_ms);
void
    zstore_snapshots_destroy (zstore_snapshots_t **self_p);
//  Registers a snapshot (taking ownership); returns its id, 0 if full.
uint64_t
    zstore_snapshots_add (zstore_snapshots_t *self, zstore_snapshot_t *snapshot, int64_t now);
//  The snapshot with this id (touching its idle clock), or NULL.
zstore_snapshot_t *
    zstore_snapshots_get (zstore_snapshots_t *self, uint64_t id, int64_t now);
void
    zstore_snapshots_remove (zstore_snapshots_t *self, uint64_t id);
//  Closes snapshots idle for longer than the limit.
void
    zstore_snapshots_expire (zstore_snapshots_t *self, int64_t now);
size_t
    zstore_snapshots_open (zstore_snapshots_t *self);

//  --- Flusher (zstore_flusher.c): the durable mode's WAL flushes ----------

typedef struct _zstore_flusher_t zstore_flusher_t;

//  Takes the WAL file (flushing it once now: revision, the last committed,
//  is on disk from the start); NULL if that flush or the thread failed.
zstore_flusher_t *
    zstore_flusher_new (zstore_wal_file_t *wal, uint64_t revision);
void
    zstore_flusher_destroy (zstore_flusher_t **self_p);
//  The actor's pipe: readable when a flush returned (zstore_flusher_on_answer).
zsock_t *
    zstore_flusher_sock (zstore_flusher_t *self);
//  Asks for every commit up to revision to be flushed; a flush starts now
//  unless one is in flight (then the actor's next one covers it).
void
    zstore_flusher_request (zstore_flusher_t *self, uint64_t revision);
//  Takes a flush's answer; returns 0 or the flush's errno.
int
    zstore_flusher_on_answer (zstore_flusher_t *self);
//  The highest revision known to be on disk.
uint64_t
    zstore_flusher_flushed (zstore_flusher_t *self);
uint64_t
    zstore_flusher_flushes (zstore_flusher_t *self);
//  Stops the thread and flushes what is still asked, in this thread;
//  returns 0 or the errno.
int
    zstore_flusher_finish (zstore_flusher_t *self);

//  --- Requests (zstore_requests.c) ----------------------------------------

//  The requests of one wake-up and their held replies.
typedef struct _zstore_inbox_t zstore_inbox_t;

zstore_inbox_t *
    zstore_inbox_new (void);
void
    zstore_inbox_destroy (zstore_inbox_t **self_p);

//  The ROUTER's zloop reader: takes the requests waiting, applies them in
//  one engine batch (group commit) and answers them after its commit (in
//  the durable mode: after the flush that follows it).
int
    zstore_inbox_on_readable (zloop_t *loop, zsock_t *router, void *arg);
//  The flusher's zloop reader: sends the replies its flush made durable.
//  A failed flush stops the loop (the broker exits with an error).
int
    zstore_inbox_on_flushed (zloop_t *loop, zsock_t *pipe, void *arg);


//  --- The broker ---------------------------------------------------------

typedef struct {
    zstore_config_t *config;        //  not owned
    zstore_engine_t *engine;
    zsock_t *router;                //  requests
    zsock_t *xpub;                  //  events
    zloop_t *loop;
    uint64_t epoch;                 //  random, new at every start
    int64_t started;                //  Unix ms
    zstore_publisher_t *publisher;
    zstore_snapshots_t *snapshots;
    zhashx_t *scopes;               //  namespace -> zstore_scope_t *
    zstore_stats_t stats;
    zstore_reader_t *request_reader;    //  parses each request, reused
    zstore_writer_t reply;          //  the reply being built
    zstore_writer_t scratch;        //  nested results (transactions, lists)
    zstore_buffer_t name;           //  "<ns>:<group>" for the current request
    int purge_timer;                //  a pending purge continuation, or -1
    int64_t purge_rows;             //  rows of the next step (s_purge_adapt)
    zstore_inbox_t *inbox;          //  the requests being handled
    zstore_flusher_t *flusher;      //  the durable mode's flushes, or NULL
    bool failed;                    //  stopped on an error (exit status 1)
} zstore_broker_t;

//  Commits the open batch, if any, and sends the replies it held. For an
//  operation that cannot run inside a batch (a snapshot) to call first.
void
    zstore_inbox_commit (zstore_broker_t *broker);
//  At stop: flushes in this thread and sends every reply still held.
void
    zstore_inbox_drain (zstore_broker_t *broker);

//  --- Server (zstore_server.c) -------------------------------------------

//  Opens the engine, binds both sockets and prints the bound endpoints.
//  Returns NULL with *error_p (caller frees) on failure.
zstore_broker_t *
    zstore_broker_new (zstore_config_t *config, char **error_p);
void
    zstore_broker_destroy (zstore_broker_t **self_p);
//  Runs until SIGINT/SIGTERM (or zsys_interrupted). Returns 0, or -1 when
//  it stopped on an error (a failed WAL flush).
int
    zstore_broker_run (zstore_broker_t *self);

//  --- Dispatch (zstore_dispatch.c) ---------------------------------------

//  Handles one request body and leaves the reply body in self->reply.
void
    zstore_dispatch (zstore_broker_t *self, const void *body, size_t size);
//  The operation names, by index (for stats).
size_t
    zstore_dispatch_op_count (void);
const char *
    zstore_dispatch_op_name (size_t index);

//  Writes the stats reply's extra fields; returns how many pairs it wrote
//  (zstore_stats.c).
uint32_t
    zstore_stats_write (zstore_broker_t *broker, zstore_writer_t *writer);
#define ZSTORE_STATS_PAIRS 17

#endif
