/*  zstore_flusher - durable replies without stopping the loop to fsync.

    In the durable mode the engine commits with synchronous=NORMAL and this
    actor flushes the WAL (zstore_wal_file_sync) on a thread of its own.
    The loop publishes "everything up to revision R is committed, flush
    it" in an atomic and goes on applying requests; their replies wait
    (zstore_requests.c) until the actor answers with a revision at or past
    theirs.

    The actor follows the commits itself: when a flush returns it reads the
    latest revision asked for and, if there is one past what it flushed,
    flushes again at once. The flushes form a pipeline with one fsync in
    flight, each covering every commit made before it started, and none
    waits for the loop (which may be busy with a batch) to ask for it.
    Only an idle actor is woken, by a message on the pipe; the flag that
    says it sleeps is set before it looks a last time, so a revision
    published meanwhile is either seen or followed by a wake-up.

    Pipe messages: the loop sends "W" (wake up); the actor answers
    [revision:8][errno:4] when a flush that covers revision returned. After
    a failed flush it flushes no more: Linux may have dropped the pages
    that failed, so a later flush that succeeds proves nothing.
*/

#include "zstore_broker.h"

#include <stdatomic.h>

struct _zstore_flusher_t {
    zactor_t *actor;
    zstore_wal_file_t *wal;         //  owned; the actor thread uses it
    _Atomic uint64_t requested;     //  the highest revision asked for
    atomic_bool sleeping;           //  the actor waits for a wake-up
    uint64_t flushed;               //  the highest revision known on disk
    uint64_t flushes;               //  flushes done (for stats)
};

//  Waits for a wake-up; false on $TERM or a broken pipe.
static bool
s_actor_sleep (zsock_t *pipe)
{
    char *message = zstr_recv (pipe);
    bool awake = message && !streq (message, "$TERM");
    zstr_free (&message);
    return awake;
}

static void
s_flusher_actor (zsock_t *pipe, void *args)
{
    zstore_flusher_t *self = args;
    //  What zstore_flusher_new flushed: nothing can be asked before the
    //  signal lets it return.
    uint64_t flushed = atomic_load (&self->requested);
    bool failed = false;
    zsock_signal (pipe, 0);
    while (true) {
        uint64_t revision = atomic_load (&self->requested);
        if (revision > flushed && !failed) {
            //  Read before the flush: every commit up to it is in the file.
            int error = zstore_wal_file_sync (self->wal);
            zsock_send (pipe, "84", revision, (uint32_t) error);
            failed = error != 0;
            flushed = revision;
            continue;
        }
        atomic_store (&self->sleeping, true);
        if (atomic_load (&self->requested) > flushed && !failed
        &&  atomic_exchange (&self->sleeping, false))
            continue;               //  asked for meanwhile, and not woken
        if (!s_actor_sleep (pipe))
            break;
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
    self->flushed = revision;
    atomic_init (&self->requested, revision);
    atomic_init (&self->sleeping, false);
    self->actor = zactor_new (s_flusher_actor, self);
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
    uint64_t requested = atomic_load (&self->requested);
    if (requested <= self->flushed)
        return 0;
    int error = zstore_wal_file_sync (self->wal);
    if (!error) {
        self->flushed = requested;
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

//  The loop's side: publish, then wake the actor if it sleeps (see above).
void
zstore_flusher_request (zstore_flusher_t *self, uint64_t revision)
{
    if (revision <= atomic_load (&self->requested))
        return;
    atomic_store (&self->requested, revision);
    if (self->actor && atomic_exchange (&self->sleeping, false))
        zstr_send (self->actor, "W");
}

int
zstore_flusher_on_answer (zstore_flusher_t *self)
{
    uint64_t revision = 0;
    uint32_t error = 0;
    if (zsock_recv (self->actor, "84", &revision, &error) != 0)
        return EIO;
    if (error)
        return (int) error;
    self->flushes++;
    if (revision > self->flushed)
        self->flushed = revision;
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
