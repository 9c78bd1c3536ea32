/*  zstore_flusher - durable replies without stopping the loop to fsync.

    In the durable mode the engine commits with synchronous=NORMAL and this
    actor flushes the WAL (zstore_wal_file_sync) on a thread of its own.
    The loop asks for "everything up to revision R on disk" and goes on
    applying requests; their replies wait (zstore_requests.c) until the
    actor answers with a revision at or past theirs. Requests that arrive
    during a flush are covered by the next one, which starts as soon as
    the previous one returns: the flushes form a pipeline with one fsync
    in flight, each covering every commit made before it started.

    Pipe messages: the loop sends [revision:8]; the actor answers
    [revision:8][errno:4] when the flush that covers it returned. The actor
    takes every request waiting before it flushes (one flush for all).
*/

#include "zstore_broker.h"

struct _zstore_flusher_t {
    zactor_t *actor;
    zstore_wal_file_t *wal;         //  owned; the actor thread uses it
    uint64_t requested;             //  the highest revision asked for
    uint64_t flushed;               //  the highest revision known on disk
    bool busy;                      //  a flush is in flight
    uint64_t flushes;               //  flushes done (for stats)
};

//  Receives one request on the pipe: false on $TERM or a broken pipe.
static bool
s_actor_receive (zsock_t *pipe, uint64_t *revision)
{
    zframe_t *frame = zframe_recv (pipe);
    bool request = frame && zframe_size (frame) == sizeof (uint64_t);
    if (request) {
        uint64_t value;
        memcpy (&value, zframe_data (frame), sizeof value);
        if (value > *revision)
            *revision = value;
    }
    zframe_destroy (&frame);
    return request;
}

static void
s_flusher_actor (zsock_t *pipe, void *args)
{
    zstore_wal_file_t *wal = args;
    zsock_signal (pipe, 0);
    uint64_t revision = 0;
    while (s_actor_receive (pipe, &revision)) {
        bool running = true;
        while (running && (zsock_events (pipe) & ZMQ_POLLIN))
            running = s_actor_receive (pipe, &revision);
        if (!running)
            break;
        int error = zstore_wal_file_sync (wal);
        zsock_send (pipe, "84", revision, (uint32_t) error);
    }
}

zstore_flusher_t *
zstore_flusher_new (zstore_wal_file_t *wal, uint64_t revision)
{
    //  What was committed before (by an earlier broker, or at open) is
    //  flushed here once, so that it counts as on disk from the start.
    if (zstore_wal_file_sync (wal) != 0)
        return NULL;
    zstore_flusher_t *self = calloc (1, sizeof (zstore_flusher_t));
    if (!self)
        return NULL;
    self->wal = wal;
    self->requested = self->flushed = revision;
    self->actor = zactor_new (s_flusher_actor, wal);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    return self;
}

//  Stops the thread; a last flush in this thread covers what was asked.
int
zstore_flusher_finish (zstore_flusher_t *self)
{
    zactor_destroy (&self->actor);
    if (self->requested <= self->flushed)
        return 0;
    int error = zstore_wal_file_sync (self->wal);
    if (!error) {
        self->flushed = self->requested;
        self->flushes++;
    }
    return error;
}

void
zstore_flusher_destroy (zstore_flusher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_flusher_t *self = *self_p;
    zactor_destroy (&self->actor);
    zstore_wal_file_destroy (&self->wal);
    free (self);
    *self_p = NULL;
}

zsock_t *
zstore_flusher_sock (zstore_flusher_t *self)
{
    return zactor_sock (self->actor);
}

static void
s_start (zstore_flusher_t *self)
{
    uint64_t revision = self->requested;
    if (zsock_send (self->actor, "b", &revision, sizeof revision) == 0)
        self->busy = true;
}

void
zstore_flusher_request (zstore_flusher_t *self, uint64_t revision)
{
    if (revision > self->requested)
        self->requested = revision;
    if (!self->busy && self->actor && self->requested > self->flushed)
        s_start (self);
}

int
zstore_flusher_on_answer (zstore_flusher_t *self)
{
    uint64_t revision = 0;
    uint32_t error = 0;
    if (zsock_recv (self->actor, "84", &revision, &error) != 0)
        return EIO;
    self->busy = false;
    if (error)
        return (int) error;
    self->flushes++;
    if (revision > self->flushed)
        self->flushed = revision;
    if (self->requested > self->flushed)
        s_start (self);             //  what was committed during that flush
    return 0;
}

uint64_t
zstore_flusher_flushed (zstore_flusher_t *self)
{
    return self->flushed;
}

uint64_t
zstore_flusher_flushes (zstore_flusher_t *self)
{
    return self->flushes;
}
