/*  =========================================================================
    zstore_client - the handle: a DEALER on the broker's request endpoint,
    the requests in flight, blocking calls with Lazy Pirate recovery,
    pipelined send/recv, the error state and the names of result codes.

    Every request gets a fresh id (a counter per client). Sent requests sit
    in `slots` (id -> slot) until collected; a reply is matched to its slot
    by id and kept there, also while the caller waits for another id, so
    nothing that arrives is lost. A reply whose id has no slot (a request
    already given up on) is stale and dropped.

    Lazy Pirate: when a blocking call gets no reply within the timeout, the
    DEALER is closed (linger 0: queued requests are dropped) and a new one
    connected, so that nothing of the old conversation can arrive any more.
    Requests still in flight are forgotten (their replies cannot come on the
    new socket); replies already received stay collectable. A read, or a
    write marked retry-safe, is then sent again with a new id.
    =========================================================================
*/

#include "zstore_client_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>

#define DEFAULT_REQUESTS    "tcp://127.0.0.1:5670"
#define DEFAULT_EVENTS      "tcp://127.0.0.1:5671"
#define DEFAULT_TIMEOUT_MS  5000
#define DEFAULT_RETRIES     2

//  A request sent and not collected: its reply once it has arrived.
typedef struct {
    uint64_t id;
    zstore_reply_t *reply;
    void *arrival;                  //  its handle in arrived, once it has a reply
} s_slot_t;

struct _zstore_client_t {
    char *requests;                 //  endpoints as given
    char *events;
    char *ns;                       //  NULL = none
    zsock_t *dealer;                //  NULL after a failed reconnect (reopened on send)
    zpoller_t *poller;              //  on dealer
    int timeout_ms;                 //  < 0: wait forever
    int retries;
    uint64_t last_id;
    zhashx_t *slots;                //  id as decimal text -> s_slot_t
    zlistx_t *arrived;              //  slots holding a reply, in arrival order
    zstore_writer_t writer;         //  encodes outgoing requests
    uint64_t reconnects;
    int code;                       //  of the last call
    char error [512];
};

//  --- Code names ---------------------------------------------------------

typedef struct {
    int code;
    const char *name;
} s_code_name_t;

//  The client's own codes; the protocol's come from the codec.
static const s_code_name_t s_client_codes [] = {
    { ZSTORE_TIMEOUT,           "timeout" },
    { ZSTORE_OUTCOME_UNKNOWN,   "outcome_unknown" },
    { ZSTORE_PROTOCOL_ERROR,    "protocol_error" },
    { ZSTORE_NO_MEMORY,         "no_memory" },
    { ZSTORE_INTERRUPTED,       "interrupted" },
    { ZSTORE_ARGUMENT,          "argument" }
};

//  Also used inside the library: a static function cannot be shadowed by
//  a same-named symbol of the application (the broker's engine has its
//  own zstore_code_name).
static const char *
s_code_name (int code)
{
    if (code >= 0 && code < ZSTORE_STATUS_COUNT)
        return zstore_status_name (code);
    for (size_t index = 0; index < sizeof s_client_codes / sizeof s_client_codes [0]; index++)
        if (s_client_codes [index].code == code)
            return s_client_codes [index].name;
    return "unknown";
}

const char *
zstore_code_name (int code)
{
    return s_code_name (code);
}

//  --- Error state --------------------------------------------------------

int
zstore_client_fail (zstore_client_t *self, int code, const char *format, ...)
{
    if (!self)
        return code;
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
    self->code = code;
    return code;
}

int
zstore_client_succeed (zstore_client_t *self)
{
    if (self) {
        self->error [0] = 0;
        self->code = ZSTORE_OK;
    }
    return ZSTORE_OK;
}

int
zstore_client_last_code (zstore_client_t *self)
{
    return self ? self->code : ZSTORE_ARGUMENT;
}

const char *
zstore_client_error (zstore_client_t *self)
{
    return self ? self->error : "no client";
}

uint64_t
zstore_client_reconnects (zstore_client_t *self)
{
    return self ? self->reconnects : 0;
}

//  --- Slots --------------------------------------------------------------

static void
s_slot_destroy (void **item)
{
    s_slot_t *slot = *item;
    if (slot) {
        zstore_reply_destroy (&slot->reply);
        free (slot);
    }
    *item = NULL;
}

//  The key of an id in slots.
static const char *
s_id_key (char *key, uint64_t id)
{
    snprintf (key, 24, "%" PRIu64, id);
    return key;
}

static s_slot_t *
s_slot_lookup (zstore_client_t *self, uint64_t id)
{
    char key [24];
    return zhashx_lookup (self->slots, s_id_key (key, id));
}

static void
s_slot_forget (zstore_client_t *self, s_slot_t *slot)
{
    char key [24];
    if (slot->arrival)
        zlistx_delete (self->arrived, slot->arrival);
    zhashx_delete (self->slots, s_id_key (key, slot->id));
}

//  Hands over the slot's reply and forgets the slot.
static zstore_reply_t *
s_slot_take (zstore_client_t *self, s_slot_t *slot)
{
    zstore_reply_t *reply = slot->reply;
    slot->reply = NULL;
    s_slot_forget (self, slot);
    return reply;
}

//  Forgets every request whose reply has not arrived.
static void
s_slots_forget_waiting (zstore_client_t *self)
{
    zlistx_t *keys = zhashx_keys (self->slots);
    if (!keys)
        return;
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys)) {
        s_slot_t *slot = zhashx_lookup (self->slots, key);
        if (slot && !slot->reply)
            zhashx_delete (self->slots, key);
    }
    zlistx_destroy (&keys);
}

//  --- The socket ---------------------------------------------------------

static void
s_dealer_close (zstore_client_t *self)
{
    zpoller_destroy (&self->poller);
    if (self->dealer) {
        //  Requests queued for a broker that does not answer are dropped
        //  now, not at context termination.
        zsock_set_linger (self->dealer, 0);
        zsock_destroy (&self->dealer);
    }
}

//  Opens and connects the DEALER. Replies are never refused for lack of
//  queue room (a pipelining caller may have many in flight): a full queue
//  on the broker's side would drop them.
static int
s_dealer_open (zstore_client_t *self)
{
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "cannot create a socket: %s",
                                   zmq_strerror (zmq_errno ()));
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);
    if (zsock_connect (self->dealer, "%s", self->requests) != 0) {
        int code = zstore_client_fail (self, ZSTORE_ARGUMENT, "cannot connect to %s: %s",
                                       self->requests, zmq_strerror (zmq_errno ()));
        zsock_destroy (&self->dealer);
        return code;
    }
    self->poller = zpoller_new (self->dealer, NULL);
    if (!self->poller) {
        zsock_destroy (&self->dealer);
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "cannot create a poller");
    }
    return ZSTORE_OK;
}

//  Lazy Pirate: a new socket, the old conversation abandoned.
static void
s_reconnect (zstore_client_t *self)
{
    s_dealer_close (self);
    s_slots_forget_waiting (self);
    self->reconnects++;
    s_dealer_open (self);           //  on failure the next send tries again
}

//  --- Receiving ----------------------------------------------------------

//  Files one reply frame under its slot; drops stale or malformed ones.
static void
s_file_reply (zstore_client_t *self, const void *data, size_t size)
{
    char *problem = NULL;
    zstore_reply_t *reply = zstore_reply_decode (data, size, &problem);
    if (!reply) {
        zsys_debug ("zstore_client: dropped a malformed reply: %s", problem ? problem : "?");
        free (problem);
        return;
    }
    s_slot_t *slot = s_slot_lookup (self, zstore_reply_id (reply));
    if (!slot || slot->reply) {
        zstore_reply_destroy (&reply);      //  stale: nobody waits for it
        return;
    }
    slot->reply = reply;
    slot->arrival = zlistx_add_end (self->arrived, slot);
}

//  Reads every reply already queued on the socket, without waiting.
static void
s_drain (zstore_client_t *self)
{
    if (!self->dealer)
        return;
    void *handle = zsock_resolve (self->dealer);
    zmq_msg_t message;
    while (true) {
        zmq_msg_init (&message);
        if (zmq_msg_recv (&message, handle, ZMQ_DONTWAIT) < 0)
            break;
        //  A reply is one frame; anything multi-part is not ours to read.
        bool single = !zmq_msg_more (&message);
        if (single)
            s_file_reply (self, zmq_msg_data (&message), zmq_msg_size (&message));
        while (zmq_msg_more (&message)) {
            zmq_msg_close (&message);
            zmq_msg_init (&message);
            if (zmq_msg_recv (&message, handle, ZMQ_DONTWAIT) < 0)
                break;
        }
        zmq_msg_close (&message);
    }
    zmq_msg_close (&message);
}

//  Waits for the reply to id (0: any) until the deadline (< 0: none).
//  NULL with the client's code set: ZSTORE_TIMEOUT, ZSTORE_INTERRUPTED, or
//  ZSTORE_ARGUMENT if nothing could ever answer.
static zstore_reply_t *
s_wait (zstore_client_t *self, uint64_t id, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (true) {
        s_drain (self);
        s_slot_t *slot = id ? s_slot_lookup (self, id) : zlistx_first (self->arrived);
        if (slot && slot->reply) {
            zstore_client_succeed (self);
            return s_slot_take (self, slot);
        }
        if (id && !slot) {
            zstore_client_fail (self, ZSTORE_ARGUMENT, "request %" PRIu64 " is not pending"
                                " (collected already, or lost in a reconnect)", id);
            return NULL;
        }
        if (!id && zhashx_size (self->slots) == 0) {
            zstore_client_fail (self, ZSTORE_ARGUMENT, "no request is pending");
            return NULL;
        }
        int64_t wait = deadline < 0 ? -1 : deadline - zclock_mono ();
        if (deadline >= 0 && wait <= 0) {
            zstore_client_fail (self, ZSTORE_TIMEOUT, "no reply within %d ms from %s",
                                timeout_ms, self->requests);
            return NULL;
        }
        if (!self->poller) {
            zstore_client_fail (self, ZSTORE_TIMEOUT, "not connected to %s", self->requests);
            return NULL;
        }
        zpoller_wait (self->poller, (int) wait);
        if (zpoller_terminated (self->poller)) {
            zstore_client_fail (self, ZSTORE_INTERRUPTED, "interrupted");
            return NULL;
        }
    }
}

//  --- Sending ------------------------------------------------------------

//  Queues one frame, waiting up to timeout_ms while the send queue is full
//  (a broker that is not reading).
static int
s_send_frame (zstore_client_t *self, const void *data, size_t size, int timeout_ms)
{
    void *handle = zsock_resolve (self->dealer);
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (zmq_send (handle, data, size, ZMQ_DONTWAIT) < 0) {
        if (zmq_errno () != EAGAIN && zmq_errno () != EINTR)
            return zstore_client_fail (self, ZSTORE_INTERNAL, "cannot send to %s: %s",
                                       self->requests, zmq_strerror (zmq_errno ()));
        if (zsys_interrupted)
            return zstore_client_fail (self, ZSTORE_INTERRUPTED, "interrupted");
        int64_t wait = deadline < 0 ? -1 : deadline - zclock_mono ();
        if (deadline >= 0 && wait <= 0)
            return zstore_client_fail (self, ZSTORE_TIMEOUT, "cannot send to %s within %d ms:"
                                       " its queue is full", self->requests, timeout_ms);
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLOUT, 0 };
        zmq_poll (&item, 1, (long) wait);
    }
    return ZSTORE_OK;
}

//  Sends the request with a new id and files a slot for its reply.
//  Returns the id, or 0 with the client's code set.
static uint64_t
s_send (zstore_client_t *self, zstore_request_t *request, int timeout_ms)
{
    if (!self->dealer && s_dealer_open (self) != ZSTORE_OK)
        return 0;
    uint64_t id = ++self->last_id;
    int code = zstore_request_encode (request, id, self->ns, &self->writer);
    if (code != ZSTORE_OK) {
        zstore_client_fail (self, code, "%s", code == ZSTORE_NO_MEMORY ? "out of memory"
                                              : zstore_request_problem (request));
        return 0;
    }
    s_slot_t *slot = calloc (1, sizeof (s_slot_t));
    char key [24];
    if (!slot || zhashx_insert (self->slots, s_id_key (key, id), slot) != 0) {
        free (slot);
        zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
        return 0;
    }
    slot->id = id;
    code = s_send_frame (self, self->writer.buffer.data, self->writer.buffer.size, timeout_ms);
    if (code != ZSTORE_OK) {
        s_slot_forget (self, slot);
        return 0;
    }
    zstore_client_succeed (self);
    return id;
}

uint64_t
zstore_client_send (zstore_client_t *self, zstore_request_t *request)
{
    if (!self || !request) {
        zstore_client_fail (self, ZSTORE_ARGUMENT, "no request");
        return 0;
    }
    return s_send (self, request, self->timeout_ms);
}

zstore_reply_t *
zstore_client_recv (zstore_client_t *self, uint64_t id, int timeout_ms)
{
    if (!self)
        return NULL;
    return s_wait (self, id, timeout_ms);
}

size_t
zstore_client_pending (zstore_client_t *self)
{
    return self ? zhashx_size (self->slots) : 0;
}

//  --- Blocking calls -----------------------------------------------------

//  A reply arrived: its status is the call's result.
static int
s_call_answered (zstore_client_t *self, zstore_reply_t *reply, zstore_reply_t **reply_p)
{
    int status = zstore_reply_status (reply);
    if (status == ZSTORE_OK)
        zstore_client_succeed (self);
    else
        zstore_client_fail (self, status, "%s: %s", s_code_name (status),
                            *zstore_reply_error (reply) ? zstore_reply_error (reply)
                                                        : "(no message)");
    if (reply_p)
        *reply_p = reply;
    else
        zstore_reply_destroy (&reply);
    return status;
}

//  Every attempt went unanswered.
static int
s_call_unanswered (zstore_client_t *self, zstore_request_t *request, int attempts,
                   int timeout_ms)
{
    const char *op = zstore_request_op (request);
    if (zstore_op_is_idempotent (op))
        return zstore_client_fail (self, ZSTORE_TIMEOUT, "%s: no reply from %s within %d ms"
                                   " (%d attempts)", op, self->requests, timeout_ms, attempts);
    return zstore_client_fail (self, ZSTORE_OUTCOME_UNKNOWN, "%s: no reply from %s within"
                               " %d ms (%d attempts); the write may or may not have been"
                               " applied", op, self->requests, timeout_ms, attempts);
}

int
zstore_client_call_timeout (zstore_client_t *self, zstore_request_t *request, int timeout_ms,
                            zstore_reply_t **reply_p)
{
    if (reply_p)
        *reply_p = NULL;
    if (!self || !request)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "no request");
    int attempts = 1 + (zstore_request_resendable (request) ? self->retries : 0);
    int attempt = 0;
    bool sent = false;              //  at least one attempt reached the socket
    while (attempt++ < attempts) {
        uint64_t id = s_send (self, request, timeout_ms);
        if (!id && self->code != ZSTORE_TIMEOUT)
            return self->code;      //  a bad request, interrupted...
        sent |= id != 0;
        zstore_reply_t *reply = id ? s_wait (self, id, timeout_ms) : NULL;
        if (reply)
            return s_call_answered (self, reply, reply_p);
        if (self->code == ZSTORE_INTERRUPTED) {
            s_slot_t *slot = s_slot_lookup (self, id);
            if (slot)
                s_slot_forget (self, slot);
            return ZSTORE_INTERRUPTED;
        }
        s_reconnect (self);
    }
    if (!sent)                      //  nothing left the client: nothing was applied
        return zstore_client_fail (self, ZSTORE_TIMEOUT, "%s: cannot send to %s: %s",
                                   zstore_request_op (request), self->requests, self->error);
    return s_call_unanswered (self, request, attempts, timeout_ms);
}

int
zstore_client_call (zstore_client_t *self, zstore_request_t *request, zstore_reply_t **reply_p)
{
    return zstore_client_call_timeout (self, request, self ? self->timeout_ms : 0, reply_p);
}

//  --- The handle ---------------------------------------------------------

//  A transport we can connect to, with an address after it. ZeroMQ checks
//  the address itself on connect.
static bool
s_endpoint_valid (const char *endpoint)
{
    static const char *transports [] = { "tcp://", "ipc://", "inproc://" };
    if (!endpoint)
        return false;
    for (size_t index = 0; index < sizeof transports / sizeof transports [0]; index++) {
        size_t length = strlen (transports [index]);
        if (strncmp (endpoint, transports [index], length) == 0 && endpoint [length])
            return true;
    }
    return false;
}

zstore_client_t *
zstore_client_new (const char *requests_endpoint, const char *events_endpoint)
{
    if (!s_endpoint_valid (requests_endpoint)
    ||  (events_endpoint && !s_endpoint_valid (events_endpoint)))
        return NULL;
    zstore_client_t *self = calloc (1, sizeof (zstore_client_t));
    if (!self)
        return NULL;
    self->timeout_ms = DEFAULT_TIMEOUT_MS;
    self->retries = DEFAULT_RETRIES;
    zstore_writer_init (&self->writer);
    self->requests = strdup (requests_endpoint);
    self->events = events_endpoint ? strdup (events_endpoint) : NULL;
    self->slots = zhashx_new ();
    if (self->slots)
        zhashx_set_destructor (self->slots, s_slot_destroy);
    self->arrived = zlistx_new ();
    if (!self->requests || (events_endpoint && !self->events) || !self->slots
    ||  !self->arrived || s_dealer_open (self) != ZSTORE_OK)
        zstore_client_destroy (&self);
    return self;
}

void
zstore_client_destroy (zstore_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_client_t *self = *self_p;
    s_dealer_close (self);
    zlistx_destroy (&self->arrived);
    zhashx_destroy (&self->slots);
    zstore_writer_free (&self->writer);
    free (self->requests);
    free (self->events);
    free (self->ns);
    free (self);
    *self_p = NULL;
}

zstore_client_t *
zstore_client_new_from_env (void)
{
    const char *requests = getenv ("ZSTORE_REQUESTS");
    const char *events = getenv ("ZSTORE_EVENTS");
    return zstore_client_new (requests && *requests ? requests : DEFAULT_REQUESTS,
                              events && *events ? events : DEFAULT_EVENTS);
}

zstore_client_t *
zstore_client_dup (zstore_client_t *self)
{
    if (!self)
        return NULL;
    zstore_client_t *copy = zstore_client_new (self->requests, self->events);
    if (copy && self->ns && zstore_client_set_namespace (copy, self->ns) != ZSTORE_OK)
        zstore_client_destroy (&copy);
    if (copy) {
        copy->timeout_ms = self->timeout_ms;
        copy->retries = self->retries;
    }
    return copy;
}

const char *
zstore_client_requests_endpoint (zstore_client_t *self)
{
    return self ? self->requests : NULL;
}

const char *
zstore_client_events_endpoint (zstore_client_t *self)
{
    return self ? self->events : NULL;
}

//  A negative timeout waits forever (a lost reply then blocks the call).
void
zstore_client_set_timeout (zstore_client_t *self, int timeout_ms)
{
    if (self)
        self->timeout_ms = timeout_ms;
}

int
zstore_client_timeout (zstore_client_t *self)
{
    return self ? self->timeout_ms : 0;
}

int
zstore_client_retries (zstore_client_t *self)
{
    return self ? self->retries : 0;
}

void
zstore_client_set_retries (zstore_client_t *self, int retries)
{
    if (self)
        self->retries = retries > 0 ? retries : 0;
}

//  ^[a-zA-Z0-9-]+$, as the broker checks it.
static bool
s_namespace_valid (const char *ns)
{
    if (!*ns)
        return false;
    for (const char *c = ns; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
           || *c == '-'))
            return false;
    return true;
}

int
zstore_client_set_namespace (zstore_client_t *self, const char *ns)
{
    if (!self)
        return ZSTORE_ARGUMENT;
    if (ns && !s_namespace_valid (ns))
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "namespace \"%.200s\" is invalid:"
                                   " use letters, digits and '-'", ns);
    char *copy = NULL;
    if (ns && !(copy = strdup (ns)))
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    free (self->ns);
    self->ns = copy;
    return zstore_client_succeed (self);
}

const char *
zstore_client_namespace (zstore_client_t *self)
{
    return self ? self->ns : NULL;
}
