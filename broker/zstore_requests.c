/*  zstore_requests - requests in, replies out, with group commit.

    Requests arrive on the ROUTER as [routing id] [empty, from REQ] [body].
    When the socket is readable the broker takes every request waiting (up
    to BATCH_LIMIT) and, when there are several, applies them in one engine
    batch: each is still its own change with its own revision, but they
    share one COMMIT, so one fsync in the durable mode instead of one per
    request. Replies are held until that commit returns (in the durable
    mode: until the change is on disk) and only then sent; the batch's
    events are published by the commit, before the replies. If the commit
    fails, no change of the batch happened, and every request of the batch
    is answered `internal`.

    In the durable mode the commit does not flush: the flusher does, on its
    own thread, while the loop goes on (zstore_flusher.c). A reply is then
    held in a ring until the flush after its commit returns; so is any
    reply behind a held one, and a read's (it may have read a change not
    yet on disk). Events leave at commit, before the flush: a subscriber may
    see a change a power cut then loses; a client is never told "ok" for one.

    Replies are sent without blocking: ROUTER_MANDATORY makes a reply to a
    vanished peer fail with EHOSTUNREACH, and DONTWAIT makes a full peer
    fail with EAGAIN, instead of blocking or silently dropping; both are
    counted. Frames that cannot be answered are counted and dropped.
*/

#include "zstore_broker.h"

//  Requests taken per wake-up, and so per batch, before the loop looks at
//  timers and subscriptions again.
#define BATCH_LIMIT 256

//  A request has at most [routing id] [delimiter] [body].
#define MAX_FRAMES 3

typedef struct {
    zmq_msg_t frames [MAX_FRAMES];
    size_t count;                   //  frames kept (at most MAX_FRAMES)
    bool overflow;                  //  more frames than a request has
    bool answered;                  //  reply holds the reply to send
    zmq_msg_t reply;
} s_request_t;

//  A reply waiting for the flush of its revision (the durable mode).
typedef struct {
    zmq_msg_t routing_id;
    bool delimiter;
    zmq_msg_t reply;
    uint64_t revision;              //  sendable once this is on disk
} s_held_t;

struct _zstore_inbox_t {
    s_request_t requests [BATCH_LIMIT];
    size_t count;                   //  received in this wake-up
    size_t handled;                 //  dispatched so far
    size_t sent;                    //  replies sent (or dropped) so far
    int64_t now;                    //  the wake-up's time (ms), for stats
    //  Held replies, oldest first: a ring of capacity entries.
    s_held_t *held;
    size_t held_first;
    size_t held_count;
    size_t held_capacity;
};

zstore_inbox_t *
zstore_inbox_new (void)
{
    return calloc (1, sizeof (zstore_inbox_t));
}

void
zstore_inbox_destroy (zstore_inbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_inbox_t *self = *self_p;
    for (size_t index = 0; index < self->held_count; index++) {
        s_held_t *held = &self->held [(self->held_first + index) % self->held_capacity];
        zmq_msg_close (&held->routing_id);
        zmq_msg_close (&held->reply);
    }
    free (self->held);
    free (self);
    *self_p = NULL;
}

static void
s_request_close (s_request_t *request)
{
    for (size_t index = 0; index < request->count; index++)
        zmq_msg_close (&request->frames [index]);
    if (request->answered)
        zmq_msg_close (&request->reply);
    request->count = 0;
    request->answered = false;
}

//  Receives one whole multipart message without blocking; false if none.
static bool
s_request_receive (void *router, s_request_t *request)
{
    request->count = 0;
    request->overflow = false;
    request->answered = false;
    while (true) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return request->count > 0;
        }
        bool more = zmq_msg_more (&frame);
        if (request->count < MAX_FRAMES)
            request->frames [request->count++] = frame;
        else {
            request->overflow = true;
            zmq_msg_close (&frame);
        }
        if (!more)
            return true;
    }
}

//  [id] [body] from a DEALER, [id] [empty] [body] from a REQ; anything
//  else cannot be answered.
static bool
s_request_valid (const s_request_t *request, bool *delimiter_p)
{
    *delimiter_p = request->count == 3 && zmq_msg_size (&request->frames [1]) == 0;
    return !request->overflow && request->count >= 2 && (request->count == 2 || *delimiter_p);
}

static zmq_msg_t *
s_request_body (s_request_t *request)
{
    return &request->frames [request->count - 1];
}

//  Keeps the reply being built (broker->reply) with its request.
static void
s_request_hold_reply (s_request_t *request, zstore_writer_t *reply)
{
    if (zmq_msg_init_size (&request->reply, reply->buffer.size) != 0)
        return;                     //  no memory: no reply (counted as unroutable)
    memcpy (zmq_msg_data (&request->reply), reply->buffer.data, reply->buffer.size);
    request->answered = true;
}

//  Sends a reply to routing_id; a peer gone or full is counted. True if
//  zmq_msg_send took the reply.
static bool
s_send (zstore_broker_t *broker, zmq_msg_t *routing_id, bool delimiter, zmq_msg_t *reply)
{
    void *router = zsock_resolve (broker->router);
    int flags = ZMQ_DONTWAIT | ZMQ_SNDMORE;
    bool sent = zmq_send (router, zmq_msg_data (routing_id), zmq_msg_size (routing_id),
                          flags) >= 0;
    if (sent && delimiter)
        sent = zmq_send (router, "", 0, flags) >= 0;
    if (sent)
        sent = zmq_msg_send (reply, router, ZMQ_DONTWAIT) >= 0;
    if (!sent)
        broker->stats.unroutable++;
    return sent;
}

//  --- Held replies (the durable mode) ------------------------------------

static bool
s_held_grow (zstore_inbox_t *self)
{
    size_t capacity = self->held_capacity ? self->held_capacity * 2 : 256;
    s_held_t *held = malloc (capacity * sizeof (s_held_t));
    if (!held)
        return false;
    for (size_t index = 0; index < self->held_count; index++) {
        s_held_t *from = &self->held [(self->held_first + index) % self->held_capacity];
        held [index] = *from;               //  delimiter and revision
        zmq_msg_init (&held [index].routing_id);
        zmq_msg_move (&held [index].routing_id, &from->routing_id);
        zmq_msg_init (&held [index].reply);
        zmq_msg_move (&held [index].reply, &from->reply);
    }
    free (self->held);
    self->held = held;
    self->held_first = 0;
    self->held_capacity = capacity;
    return true;
}

//  Keeps the request's reply until revision is on disk; false if there is
//  no memory for it (the reply is then not sent: counted as unroutable).
static bool
s_hold (zstore_inbox_t *self, s_request_t *request, bool delimiter, uint64_t revision)
{
    if (self->held_count == self->held_capacity && !s_held_grow (self))
        return false;
    s_held_t *held = &self->held [(self->held_first + self->held_count) % self->held_capacity];
    zmq_msg_init (&held->routing_id);
    zmq_msg_move (&held->routing_id, &request->frames [0]);
    zmq_msg_init (&held->reply);
    zmq_msg_move (&held->reply, &request->reply);
    held->delimiter = delimiter;
    held->revision = revision;
    self->held_count++;
    return true;
}

//  Sends the held replies whose revision is on disk, oldest first.
static void
s_release (zstore_broker_t *broker, uint64_t flushed)
{
    zstore_inbox_t *self = broker->inbox;
    while (self->held_count) {
        s_held_t *held = &self->held [self->held_first];
        if (held->revision > flushed)
            break;
        if (!s_send (broker, &held->routing_id, held->delimiter, &held->reply))
            zmq_msg_close (&held->reply);
        zmq_msg_close (&held->routing_id);
        self->held_first = (self->held_first + 1) % self->held_capacity;
        self->held_count--;
    }
}

//  Sends the request's reply now or, in the durable mode, once what it
//  may have seen or written is on disk. Replies keep their order: one
//  waits too while replies before it wait.
static void
s_request_send_reply (zstore_broker_t *broker, s_request_t *request)
{
    bool delimiter;
    if (!s_request_valid (request, &delimiter))
        return;
    if (!request->answered) {
        broker->stats.unroutable++;
        return;
    }
    zstore_inbox_t *self = broker->inbox;
    uint64_t revision = zstore_engine_revision (broker->engine);
    if (broker->flusher
    &&  (self->held_count || revision > zstore_flusher_flushed (broker->flusher))) {
        if (s_hold (self, request, delimiter, revision)) {
            broker->stats.held++;
            request->answered = false;  //  the reply moved to the ring
        }
        else
            broker->stats.unroutable++;
        return;
    }
    if (s_send (broker, &request->frames [0], delimiter, &request->reply))
        request->answered = false;  //  zmq_msg_send took the message
}

//  Dispatches one request; its reply is held until the batch commits.
static void
s_request_handle (zstore_broker_t *broker, s_request_t *request)
{
    bool delimiter;
    if (!s_request_valid (request, &delimiter)) {
        broker->stats.dropped++;
        return;
    }
    zmq_msg_t *routing_id = &request->frames [0];
    zmq_msg_t *body = s_request_body (request);
    zstore_stats_client (&broker->stats, zmq_msg_data (routing_id), zmq_msg_size (routing_id),
                         broker->inbox->now);
    zstore_dispatch (broker, zmq_msg_data (body), zmq_msg_size (body));
    s_request_hold_reply (request, &broker->reply);
}

//  The batch's commit failed: no change of it happened, whatever its
//  replies said. Each is replaced by an `internal` reply (with its id).
static void
s_request_fail (zstore_broker_t *broker, s_request_t *request, const char *message)
{
    bool delimiter;
    if (!s_request_valid (request, &delimiter))
        return;
    zmq_msg_t *body = s_request_body (request);
    zstore_reader_t *reader = zstore_reader_new (zmq_msg_data (body), zmq_msg_size (body), NULL);
    zstore_fields_t fields;
    zstore_fields_init (&fields, reader ? zstore_reader_root (reader) : NULL);
    const msgpack_object *id = reader ? zstore_fields_find (&fields, "id") : NULL;
    //  Its own writer: broker->reply may hold the reply being built (a
    //  snapshot's, committing the batch before it opens).
    zstore_writer_t reply;
    zstore_writer_init (&reply);
    zstore_reply_begin (&reply, id, ZSTORE_STATUS_INTERNAL, message, 0);
    zstore_reader_destroy (&reader);
    if (request->answered)
        zmq_msg_close (&request->reply);
    request->answered = false;
    s_request_hold_reply (request, &reply);
    zstore_writer_free (&reply);
    broker->stats.errors [ZSTORE_STATUS_INTERNAL]++;
}

//  Commits the batch, if one is open, and sends every reply held so far.
void
zstore_inbox_commit (zstore_broker_t *broker)
{
    zstore_inbox_t *self = broker->inbox;
    bool batch = zstore_engine_in_batch (broker->engine);
    if (batch) {
        broker->stats.batches++;
        broker->stats.batched += self->handled - self->sent;
    }
    if (batch && zstore_engine_batch_commit (broker->engine) != ZSTORE_OK) {
        const char *message = zstore_engine_error (broker->engine);
        zsys_error ("zstore-broker: group commit failed: %s", message);
        for (size_t index = self->sent; index < self->handled; index++)
            if (self->requests [index].answered)
                s_request_fail (broker, &self->requests [index], message);
    }
    for (; self->sent < self->handled; self->sent++) {
        s_request_t *request = &self->requests [self->sent];
        if (request->answered)
            s_request_send_reply (broker, request);
    }
    if (broker->flusher && self->held_count)
        zstore_flusher_request (broker->flusher, zstore_engine_revision (broker->engine));
}

int
zstore_inbox_on_flushed (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void) loop; (void) pipe;
    zstore_broker_t *broker = arg;
    int error = zstore_flusher_on_answer (broker->flusher);
    if (error) {
        //  The WAL could not be made durable: what it holds is not safe to
        //  acknowledge, and later flushes cannot be trusted either (Linux
        //  may drop the failed pages). Stop; the replies held stay unsent.
        zsys_error ("zstore-broker: flushing the WAL failed: %s; stopping", strerror (error));
        broker->failed = true;
        return -1;
    }
    s_release (broker, zstore_flusher_flushed (broker->flusher));
    return 0;
}

void
zstore_inbox_drain (zstore_broker_t *broker)
{
    if (!broker->flusher || broker->failed)
        return;
    int error = zstore_flusher_finish (broker->flusher);
    if (error) {
        zsys_error ("zstore-broker: flushing the WAL failed: %s", strerror (error));
        broker->failed = true;
        return;
    }
    s_release (broker, zstore_flusher_flushed (broker->flusher));
}

//  Handles the requests received, in one batch when there are several.
//  An operation that must not run inside a batch (a snapshot) calls
//  zstore_inbox_commit first; later requests then commit on their own.
static void
s_inbox_handle (zstore_broker_t *broker)
{
    zstore_inbox_t *self = broker->inbox;
    self->handled = self->sent = 0;
    for (size_t index = 0; index < self->count; index++) {
        //  A batch for two requests or more (a lone one commits alone).
        if (!zstore_engine_in_batch (broker->engine) && self->count - index > 1
        &&  zstore_engine_batch_begin (broker->engine) != ZSTORE_OK)
            zsys_warning ("zstore-broker: no batch: %s", zstore_engine_error (broker->engine));
        s_request_handle (broker, &self->requests [index]);
        self->handled = index + 1;
        if (!zstore_engine_in_batch (broker->engine))
            zstore_inbox_commit (broker);   //  committed already: answer now
    }
    zstore_inbox_commit (broker);
    for (size_t index = 0; index < self->count; index++)
        s_request_close (&self->requests [index]);
    self->count = 0;
}

int
zstore_inbox_on_readable (zloop_t *loop, zsock_t *router, void *arg)
{
    (void) loop;
    zstore_broker_t *broker = arg;
    zstore_inbox_t *self = broker->inbox;
    void *handle = zsock_resolve (router);
    while (self->count < BATCH_LIMIT && s_request_receive (handle, &self->requests [self->count]))
        self->count++;
    self->now = zclock_time ();
    if (self->count)
        s_inbox_handle (broker);
    return 0;
}
