/*  =========================================================================
    zstore_watch - every change in a scope, exactly once, in revision order
    (PROTOCOL.md 3 and 4).

    A watch subscribes to one of three streams and filters it locally:
      everything       "d"            counted by seq   (heartbeats carry seq)
      a namespace      "d" ns ":"     counted by nseq  (beacon "n" ns ":")
      a group          "d" E(g) 0     counted by gseq  (beacon "b" E(g) 0)
    A key, a key prefix or ("*", key) is a filter on one of these: a key or
    prefix watch subscribes to its group so that gseq counts every message
    it could miss and delete_group events (no key part) reach it.

    Losses are found from the counters, per epoch:
      - an event whose count is not the last + 1 (a gap);
      - a heartbeat whose seq is beyond the last (everything);
      - a beacon whose count is beyond the last (the lost last event);
      - a heartbeat after one that owed us a beacon, without it: the beacon
        itself was lost (the broker sends one per tick, only for groups
        and namespaces that had events since the previous tick, so a lost
        beacon is never repeated);
      - an epoch change (a restarted broker);
      - no message at all for 3 heartbeat intervals (learned from the
        heartbeats' ts).
    Repair replays `history` after the last delivered change, page by page;
    `too_old` (or history refused) turns it into a resync: RESYNC, then the
    scope's snapshot as STATE entries.

    Delivery goes through one queue, live events and replayed ones alike,
    and keeps each event's (rev, idx) once: an event is delivered only when
    it comes after the last delivered one. idx orders the events of one
    change, so a change cut by a loss is completed by the replay, never
    delivered twice in part.
    =========================================================================
*/

#include "zstore_client_private.h"
#include "zstore_watch.h"

#include <ctype.h>
#include <errno.h>

#define HISTORY_PAGE        1000    //  events per history request
#define DEFAULT_HEARTBEAT   1000    //  ms, until two heartbeats have shown the real one
#define SILENT_HEARTBEATS   3       //  intervals without any message before a check
#define SILENCE_SLACK       100     //  ms of timer jitter allowed on top
#define MARKER_RETRY        500     //  ms before asking for a marker with a fresh token

//  The stream subscribed to, which fixes the counter that numbers it.
typedef enum {
    STREAM_ALL,                     //  seq
    STREAM_NAMESPACE,               //  nseq
    STREAM_GROUP                    //  gseq
} s_stream_t;

//  The local filter on that stream.
typedef enum {
    FILTER_NONE,
    FILTER_KEY,                     //  one key (with its group's delete_group)
    FILTER_PREFIX                   //  keys starting with text
} s_filter_t;

typedef enum {
    REPAIR_NONE,
    REPAIR_HISTORY,
    REPAIR_SNAPSHOT
} s_repair_t;

//  One change to deliver: a live or replayed event, a resync or a state
//  entry. The byte strings live in data, each followed by a NUL.
typedef struct {
    zstore_change_type_t type;
    const char *group;  size_t group_size;
    const char *key;    size_t key_size;
    const char *value;  size_t value_size;
    uint64_t rev, idx, prev_rev, ts, expires_at, create_rev;
    bool closes;                    //  the last event of its change in this scope
    bool resync;                    //  resync or state: not subject to (rev, idx) order
    char data [];
} s_change_t;

struct _zstore_watch_t {
    zstore_client_t *client;        //  our own connection, no namespace
    zsock_t *sub;
    void *handle;                   //  its libzmq socket

    //  The scope
    s_stream_t stream;
    s_filter_t filter;
    char *ns;                       //  STREAM_NAMESPACE
    char *group;                    //  STREAM_GROUP: the stored group name
    size_t group_size;
    char *text;                     //  the filter's key or prefix
    size_t text_size;
    zstore_buffer_t beacon;         //  our beacon topic (empty for STREAM_ALL)
    zlistx_t *tokens;               //  sync tokens subscribed (char *)

    //  The live stream, per epoch
    uint64_t epoch;                 //  0 until known
    uint64_t count;                 //  last value of our counter seen
    bool counted;                   //  count is known
    uint64_t position;              //  seq of the last event (or marker) received
    bool dirty;                     //  stream events since the last heartbeat
    bool beacon_due;                //  the last heartbeat's tick owes us a beacon
    uint64_t due_rev;               //  that heartbeat's rev
    uint64_t heartbeat_ts;          //  of the last heartbeat
    uint64_t interval;              //  shortest heartbeat interval seen, 0 = unknown
    int64_t last_message;           //  zclock_mono of the last message received
    bool started;                   //  the sync marker has come

    //  Delivery
    uint64_t rev;                   //  (rev, idx) of the last change delivered
    uint64_t idx;
    bool complete;                  //  every event of change rev is delivered
    zlistx_t *queue;                //  s_change_t to deliver, in order
    s_change_t *current;            //  handed out by the last next

    //  Repair
    s_repair_t repair;
    bool replaying;                 //  a history replay has begun
    uint64_t replay_after;          //  where its next page starts
    bool lost;                      //  the replay repairs a certain loss
    uint64_t replays;
    uint64_t resyncs;
};

//  --- Change types -------------------------------------------------------

static const struct {
    zstore_change_type_t type;
    const char *name;
} s_change_types [] = {
    { ZSTORE_CHANGE_SET,            "set" },
    { ZSTORE_CHANGE_DELETE,         "delete" },
    { ZSTORE_CHANGE_DELETE_GROUP,   "delete_group" },
    { ZSTORE_CHANGE_EXPIRE,         "expire" },
    { ZSTORE_CHANGE_RESYNC,         "resync" },
    { ZSTORE_CHANGE_STATE,          "state" }
};
#define S_CHANGE_TYPES (sizeof s_change_types / sizeof s_change_types [0])

const char *
zstore_change_type_name (zstore_change_type_t type)
{
    for (size_t index = 0; index < S_CHANGE_TYPES; index++)
        if (s_change_types [index].type == type)
            return s_change_types [index].name;
    return "unknown";
}

//  The type of an event's type name; 0 if it names none of the four.
static zstore_change_type_t
s_change_type (const char *name)
{
    for (size_t index = 0; index < 4; index++)
        if (streq (s_change_types [index].name, name))
            return s_change_types [index].type;
    return 0;
}

//  --- Changes ------------------------------------------------------------

static s_change_t *
s_change_new (zstore_change_type_t type, const char *group, size_t group_size,
              const char *key, size_t key_size, const char *value, size_t value_size)
{
    s_change_t *self = malloc (sizeof (s_change_t) + group_size + key_size + value_size + 3);
    if (!self)
        return NULL;
    memset (self, 0, sizeof (s_change_t));
    self->type = type;
    char *cursor = self->data;
    const char *sources [3] = { group, key, value };
    size_t sizes [3] = { group_size, key_size, value_size };
    const char **targets [3] = { &self->group, &self->key, &self->value };
    for (int index = 0; index < 3; index++) {
        if (sizes [index])
            memcpy (cursor, sources [index], sizes [index]);
        cursor [sizes [index]] = 0;
        *targets [index] = cursor;
        cursor += sizes [index] + 1;
    }
    self->group_size = group_size;
    self->key_size = key_size;
    self->value_size = value_size;
    return self;
}

static s_change_t *
s_change_from_event (const zstore_event_body_t *event)
{
    zstore_change_type_t type = s_change_type (event->type);
    s_change_t *self = s_change_new (type, event->group, event->group_size, event->key,
                                     event->key_size, event->value, event->value_size);
    if (!self)
        return NULL;
    self->rev = event->rev;
    self->idx = event->idx;
    self->prev_rev = event->prev_rev;
    self->ts = event->ts;
    self->expires_at = event->expires_at;
    self->create_rev = type == ZSTORE_CHANGE_SET && event->prev_rev == 0 ? event->rev : 0;
    return self;
}

static void
s_change_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

//  --- The scope ----------------------------------------------------------

//  True if an event of this type and key passes the watch's filter. A
//  delete_group removes the keys a key or prefix filter watches.
static bool
s_wanted (zstore_watch_t *self, zstore_change_type_t type, const char *key, size_t key_size)
{
    if (self->filter == FILTER_NONE || type == ZSTORE_CHANGE_DELETE_GROUP)
        return true;
    if (self->filter == FILTER_KEY)
        return key_size == self->text_size && memcmp (key, self->text, key_size) == 0;
    return key_size >= self->text_size && memcmp (key, self->text, self->text_size) == 0;
}

//  The scope map of history and snapshot requests: the stream's scope,
//  narrowed to the key or prefix when the stream is a group (a key in any
//  group is filtered here).
static void
s_add_scope (zstore_watch_t *self, zstore_request_t *request)
{
    bool narrow = self->stream == STREAM_GROUP;
    const char *key = narrow && self->filter == FILTER_KEY ? self->text : NULL;
    const char *prefix = narrow && self->filter == FILTER_PREFIX ? self->text : NULL;
    zstore_request_add_scope (request, self->stream == STREAM_NAMESPACE ? self->ns : NULL,
                              self->stream == STREAM_GROUP ? self->group : NULL, self->group_size,
                              key, key ? self->text_size : 0,
                              prefix, prefix ? self->text_size : 0);
}

static int
s_subscribe (zstore_watch_t *self, const void *topic, size_t size, bool subscribe)
{
    return zmq_setsockopt (self->handle, subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE,
                           topic, size);
}

//  Subscribes to the stream's events, its beacon and the heartbeats.
static int
s_subscribe_scope (zstore_watch_t *self)
{
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    int rc;
    if (self->stream == STREAM_ALL)
        rc = zstore_topic_everything (&topic);
    else
    if (self->stream == STREAM_NAMESPACE)
        rc = zstore_topic_namespace (&topic, self->ns, strlen (self->ns))
          || zstore_topic_namespace_beacon (&self->beacon, self->ns, strlen (self->ns));
    else
        rc = zstore_topic_group (&topic, self->group, self->group_size)
          || zstore_topic_group_beacon (&self->beacon, self->group, self->group_size);
    char heartbeat = ZSTORE_TOPIC_HEARTBEAT;
    if (rc == 0)
        rc = s_subscribe (self, topic.data, topic.size, true);
    if (rc == 0 && self->beacon.size)
        rc = s_subscribe (self, self->beacon.data, self->beacon.size, true);
    if (rc == 0)
        rc = s_subscribe (self, &heartbeat, 1, true);
    zstore_buffer_free (&topic);
    return rc;
}

//  --- The live stream ----------------------------------------------------

//  Asks for a replay, unless one is under way; before the sync marker
//  there is nothing to repair (every event so far is at or below it).
//  lost: something was lost for sure (counted in replays); else it is a
//  check where the counters cannot tell (a start, a silence).
static void
s_replay_needed (zstore_watch_t *self, bool lost)
{
    if (!self->started)
        return;
    if (lost)
        self->lost = true;
    if (self->repair == REPAIR_NONE) {
        self->repair = REPAIR_HISTORY;
        self->replaying = false;
    }
}

static void
s_lost (zstore_watch_t *self)
{
    s_replay_needed (self, true);
}

static void
s_verify (zstore_watch_t *self)
{
    s_replay_needed (self, false);
}

//  A new epoch restarts every counter; a restarted broker may have
//  committed changes it never published, so it also asks for a replay.
static void
s_check_epoch (zstore_watch_t *self, uint64_t epoch)
{
    if (epoch == self->epoch)
        return;
    bool restarted = self->epoch != 0;
    self->epoch = epoch;
    self->count = 0;
    self->counted = self->stream == STREAM_ALL;     //  seq is position itself
    self->position = 0;
    self->dirty = false;
    self->beacon_due = false;
    self->heartbeat_ts = 0;
    self->interval = 0;
    if (restarted)
        s_lost (self);
}

//  True if the event (rev, idx) comes after the last delivered one. Whole
//  changes up to rev: idx UINT64_MAX. A loss that ends before the delivered
//  position needs no repair: a replay already brought it.
static bool
s_is_after (zstore_watch_t *self, uint64_t rev, uint64_t idx)
{
    return rev > self->rev || (rev == self->rev && !self->complete && idx > self->idx);
}

static uint64_t
s_event_count (zstore_watch_t *self, const zstore_event_body_t *event)
{
    return self->stream == STREAM_ALL ? event->seq
         : self->stream == STREAM_NAMESPACE ? event->nseq : event->gseq;
}

//  The counter continues, or something was lost. With the count unknown
//  (at start, after a restart), only an event that is the very next one
//  of the whole store (seq = position + 1) proves nothing came between.
static void
s_on_event (zstore_watch_t *self, const msgpack_object *body)
{
    zstore_event_body_t event;
    zstore_fields_t fields;
    if (!zstore_event_body_read (body, &event, &fields) || !event.epoch
    ||  !s_change_type (event.type)) {
        s_lost (self);              //  an event we cannot read is an event lost
        return;
    }
    s_check_epoch (self, event.epoch);
    uint64_t count = s_event_count (self, &event);
    bool counted_before = self->counted;
    bool continues = self->counted ? count == self->count + 1 : event.seq == self->position + 1;
    self->count = count;
    self->counted = true;
    self->position = event.seq;
    self->dirty = true;
    if (!self->started || self->repair != REPAIR_NONE)
        return;                     //  at or below the marker / the replay brings it
    if (!continues) {               //  what was missed came before this event
        if (s_is_after (self, event.rev, event.idx)) {
            if (counted_before)
                s_lost (self);
            else
                s_verify (self);
        }
        return;
    }
    zstore_change_type_t type = s_change_type (event.type);
    if (!s_wanted (self, type, event.key, event.key_size))
        return;
    s_change_t *change = s_change_from_event (&event);
    if (!change || !zlistx_add_end (self->queue, change)) {
        free (change);
        s_lost (self);
        return;
    }
    change->closes = event.idx + 1 >= event.n;
}

static bool
s_read_control (const msgpack_object *body, zstore_control_body_t *control)
{
    zstore_fields_t fields;
    return zstore_control_body_read (body, control, &fields) && control->epoch;
}

//  Learns the interval (the shortest seen: ticks are never early, lost
//  heartbeats only lengthen it), checks seq for everything, and checks
//  that the beacon the previous tick owed us came.
static void
s_on_heartbeat (zstore_watch_t *self, const msgpack_object *body)
{
    zstore_control_body_t heartbeat;
    if (!s_read_control (body, &heartbeat))
        return;
    s_check_epoch (self, heartbeat.epoch);
    if (self->heartbeat_ts && heartbeat.ts > self->heartbeat_ts) {
        uint64_t interval = heartbeat.ts - self->heartbeat_ts;
        if (!self->interval || interval < self->interval)
            self->interval = interval;
    }
    self->heartbeat_ts = heartbeat.ts;
    if (self->stream == STREAM_ALL) {
        if (heartbeat.seq > self->count) {
            self->count = heartbeat.seq;
            if (s_is_after (self, heartbeat.rev, UINT64_MAX))
                s_lost (self);
        }
        return;
    }
    //  Stream events after the previous heartbeat made our group (or
    //  namespace) dirty: this tick's beacon follows this heartbeat at once,
    //  telling of events up to this heartbeat's rev.
    if (self->beacon_due && s_is_after (self, self->due_rev, UINT64_MAX))
        s_lost (self);
    self->beacon_due = self->dirty;
    self->due_rev = heartbeat.rev;
    self->dirty = false;
}

static void
s_on_beacon (zstore_watch_t *self, const char *topic, size_t size, const msgpack_object *body)
{
    zstore_control_body_t beacon;
    if (size != self->beacon.size || memcmp (topic, self->beacon.data, size)
    || !s_read_control (body, &beacon))
        return;
    s_check_epoch (self, beacon.epoch);
    uint64_t count = self->stream == STREAM_NAMESPACE ? beacon.nseq : beacon.gseq;
    self->beacon_due = false;
    //  Unknown count: events up to the beacon's rev may have been missed.
    bool after = s_is_after (self, beacon.rev, UINT64_MAX);
    bool lost = self->counted && count > self->count && after;
    bool unsure = !self->counted && after;
    if (!self->counted || count > self->count)
        self->count = count;
    self->counted = true;
    if (lost)
        s_lost (self);
    else
    if (unsure)
        s_verify (self);
}

static bool
s_is_token (zstore_watch_t *self, const char *topic, size_t size)
{
    for (char *token = zlistx_first (self->tokens); token; token = zlistx_next (self->tokens))
        if (strlen (token) == size && memcmp (token, topic, size) == 0)
            return true;
    return false;
}

//  The sync marker: the scope's subscriptions are live, changes after its
//  rev are ours to deliver.
static void
s_on_marker (zstore_watch_t *self, const char *topic, size_t size, const msgpack_object *body)
{
    zstore_control_body_t marker;
    if (self->started || !s_is_token (self, topic, size) || !s_read_control (body, &marker))
        return;
    s_check_epoch (self, marker.epoch);
    self->position = marker.seq;
    if (self->stream == STREAM_ALL) {
        self->count = marker.seq;
        self->counted = true;
    }
    self->rev = marker.rev;
    self->idx = 0;
    self->complete = true;
    self->started = true;
}

typedef void (s_handler_fn) (zstore_watch_t *self, const char *topic, size_t size,
                             const msgpack_object *body);

static void
s_handle_event (zstore_watch_t *self, const char *topic, size_t size, const msgpack_object *body)
{
    (void) topic; (void) size;
    s_on_event (self, body);
}

static void
s_handle_heartbeat (zstore_watch_t *self, const char *topic, size_t size,
                    const msgpack_object *body)
{
    (void) topic; (void) size;
    s_on_heartbeat (self, body);
}

static const struct {
    char topic_class;
    s_handler_fn *handler;
} s_handlers [] = {
    { ZSTORE_TOPIC_DATA,        s_handle_event },
    { ZSTORE_TOPIC_HEARTBEAT,   s_handle_heartbeat },
    { ZSTORE_TOPIC_BEACON,      s_on_beacon },
    { ZSTORE_TOPIC_NAMESPACE,   s_on_beacon },
    { ZSTORE_TOPIC_SYNC,        s_on_marker }
};

//  Reads one message (topic + body) and hands it to its class's handler.
static void
s_read_message (zstore_watch_t *self)
{
    zmq_msg_t frames [2];
    zmq_msg_init (&frames [0]);
    zmq_msg_init (&frames [1]);
    int received = 0;
    bool more = true;
    while (more) {
        zmq_msg_t *frame = &frames [received < 2 ? received : 1];
        if (zmq_msg_recv (frame, self->handle, ZMQ_DONTWAIT) < 0)
            break;
        received++;
        more = zmq_msg_more (frame);
    }
    self->last_message = zclock_mono ();
    const char *topic = zmq_msg_data (&frames [0]);
    size_t size = zmq_msg_size (&frames [0]);
    zstore_reader_t *reader = NULL;
    if (received == 2 && size > 0) {
        char *error = NULL;
        reader = zstore_reader_new (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]),
                                    &error);
        free (error);
    }
    for (size_t index = 0; index < sizeof s_handlers / sizeof s_handlers [0]; index++)
        if (size > 0 && s_handlers [index].topic_class == topic [0]) {
            if (reader)
                s_handlers [index].handler (self, topic, size, zstore_reader_root (reader));
            else
            if (topic [0] == ZSTORE_TOPIC_DATA)
                s_lost (self);      //  an event we cannot read is an event lost
        }
    zstore_reader_destroy (&reader);
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
}

//  Waits up to wait_ms for the SUB to be readable. 1 readable, 0 not,
//  -1 interrupted by SIGINT.
static int
s_poll (zstore_watch_t *self, int64_t wait_ms)
{
    zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll (&item, 1, (long) (wait_ms > 0 ? wait_ms : 0));
    if (zsys_interrupted)
        return -1;
    return rc > 0 && (item.revents & ZMQ_POLLIN) ? 1 : 0;
}

//  --- Starting -----------------------------------------------------------

//  Subscribes to one more "s" + random token.
static int
s_ask_marker (zstore_watch_t *self)
{
    zuuid_t *uuid = zuuid_new ();
    if (!uuid)
        return -1;
    char *token = zsys_sprintf ("%c%s", ZSTORE_TOPIC_SYNC, zuuid_str (uuid));
    zuuid_destroy (&uuid);
    if (!token || !zlistx_add_end (self->tokens, token)) {
        zstr_free (&token);
        return -1;
    }
    return s_subscribe (self, token, strlen (token), true);
}

//  The handshake of PROTOCOL.md 4.1. A marker is sent without waiting, so
//  a full queue can drop it: after MARKER_RETRY ms without one, a fresh
//  token asks again (any of ours will do).
static bool
s_sync (zstore_watch_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + (timeout_ms < 0 ? 3600000 : timeout_ms);
    int64_t ask_at = 0;
    while (!self->started) {
        int64_t now = zclock_mono ();
        if (now >= deadline)
            break;
        if (now >= ask_at) {
            if (s_ask_marker (self))
                break;
            ask_at = now + MARKER_RETRY;
        }
        int ready = s_poll (self, (ask_at < deadline ? ask_at : deadline) - now);
        if (ready < 0)
            break;
        if (ready)
            s_read_message (self);
    }
    for (char *token = zlistx_first (self->tokens); token; token = zlistx_next (self->tokens))
        s_subscribe (self, token, strlen (token), false);
    zlistx_purge (self->tokens);
    self->last_message = zclock_mono ();
    return self->started;
}

static void
s_token_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static zstore_watch_t *
s_watch_new (zstore_client_t *client, s_stream_t stream, s_filter_t filter, const char *ns,
             const char *group, const char *text)
{
    const char *events = zstore_client_events_endpoint (client);
    if (!events) {
        zstore_client_fail (client, ZSTORE_ARGUMENT, "watch: the client has no events endpoint");
        return NULL;
    }
    zstore_watch_t *self = calloc (1, sizeof (zstore_watch_t));
    if (!self)
        return NULL;
    zstore_buffer_init (&self->beacon);
    self->stream = stream;
    self->filter = filter;
    self->queue = zlistx_new ();
    self->tokens = zlistx_new ();
    self->client = zstore_client_dup (client);
    self->sub = zsock_new (ZMQ_SUB);
    if (ns)
        self->ns = strdup (ns);
    if (group) {
        self->group_size = strlen (group);
        self->group = zstore_bytes_copy (group, self->group_size);
    }
    if (text) {
        self->text_size = strlen (text);
        self->text = zstore_bytes_copy (text, self->text_size);
    }
    bool ready = self->queue && self->tokens && self->client && self->sub
              && (self->ns || !ns) && (self->group || !group) && (self->text || !text);
    if (ready) {
        zlistx_set_destructor (self->queue, s_change_destroy);
        zlistx_set_destructor (self->tokens, s_token_destroy);
        self->handle = zsock_resolve (self->sub);
        ready = zstore_client_set_namespace (self->client, NULL) == ZSTORE_OK
             && zsock_connect (self->sub, "%s", events) == 0
             && s_subscribe_scope (self) == 0;
    }
    if (!ready) {
        zstore_client_fail (client, ZSTORE_NO_MEMORY, "watch: cannot open its sockets");
        zstore_watch_destroy (&self);
        return NULL;
    }
    if (!s_sync (self, zstore_client_timeout (client))) {
        zstore_client_fail (client, zsys_interrupted ? ZSTORE_INTERRUPTED : ZSTORE_TIMEOUT,
                            "watch: no sync marker from %s within %d ms", events,
                            zstore_client_timeout (client));
        zstore_watch_destroy (&self);
        return NULL;
    }
    return self;
}

//  The stored name of group under the client's namespace; the caller frees.
static char *
s_stored_group (zstore_client_t *client, const char *group)
{
    const char *ns = zstore_client_namespace (client);
    return ns ? zsys_sprintf ("%s:%s", ns, group) : strdup (group);
}

static bool
s_namespace_valid (const char *ns)
{
    if (!ns || !*ns)
        return false;
    for (const char *cursor = ns; *cursor; cursor++)
        if (!isalnum ((unsigned char) *cursor) && *cursor != '-')
            return false;
    return true;
}

zstore_watch_t *
zstore_watch_new (zstore_client_t *client, const char *group, const char *key)
{
    if (!client || !group || !key) {
        zstore_client_fail (client, ZSTORE_ARGUMENT, "watch: NULL client, group or key");
        return NULL;
    }
    bool any_group = streq (group, "*"), any_key = streq (key, "*");
    const char *ns = zstore_client_namespace (client);
    if (any_group)                  //  the namespace, or everything
        return s_watch_new (client, ns ? STREAM_NAMESPACE : STREAM_ALL,
                            any_key ? FILTER_NONE : FILTER_KEY, ns, NULL, any_key ? NULL : key);
    char *stored = s_stored_group (client, group);
    if (!stored)
        return NULL;
    zstore_watch_t *self = s_watch_new (client, STREAM_GROUP, any_key ? FILTER_NONE : FILTER_KEY,
                                        NULL, stored, any_key ? NULL : key);
    free (stored);
    return self;
}

zstore_watch_t *
zstore_watch_new_namespace (zstore_client_t *client, const char *ns)
{
    if (!client || !s_namespace_valid (ns)) {
        zstore_client_fail (client, ZSTORE_ARGUMENT, "watch: a namespace matches [a-zA-Z0-9-]+");
        return NULL;
    }
    return s_watch_new (client, STREAM_NAMESPACE, FILTER_NONE, ns, NULL, NULL);
}

zstore_watch_t *
zstore_watch_new_prefix (zstore_client_t *client, const char *group, const char *prefix)
{
    if (!client || !group || !prefix) {
        zstore_client_fail (client, ZSTORE_ARGUMENT, "watch: NULL client, group or prefix");
        return NULL;
    }
    char *stored = s_stored_group (client, group);
    if (!stored)
        return NULL;
    zstore_watch_t *self = s_watch_new (client, STREAM_GROUP, FILTER_PREFIX, NULL, stored, prefix);
    free (stored);
    return self;
}

void
zstore_watch_destroy (zstore_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_watch_t *self = *self_p;
    zsock_destroy (&self->sub);
    zstore_client_destroy (&self->client);
    zlistx_destroy (&self->queue);
    zlistx_destroy (&self->tokens);
    zstore_buffer_free (&self->beacon);
    free (self->current);
    free (self->ns);
    free (self->group);
    free (self->text);
    free (self);
    *self_p = NULL;
}

//  --- Repair -------------------------------------------------------------

//  Queues one history page; the last wanted event of each change closes it
//  (a page never ends inside a change).
static int
s_queue_history (zstore_watch_t *self, zstore_reply_t *reply)
{
    const msgpack_object *events = zstore_reply_field (reply, "events");
    bool more = false;
    if (!events || events->type != MSGPACK_OBJECT_ARRAY
    ||  !zstore_reply_bool (reply, "more", &more))
        return ZSTORE_PROTOCOL_ERROR;
    s_change_t *last = NULL;
    for (uint32_t index = 0; index < events->via.array.size; index++) {
        zstore_event_body_t event;
        zstore_fields_t fields;
        if (!zstore_event_body_read (&events->via.array.ptr [index], &event, &fields)
        ||  !s_change_type (event.type) || event.rev <= self->replay_after)
            return ZSTORE_PROTOCOL_ERROR;
        if (!s_wanted (self, s_change_type (event.type), event.key, event.key_size))
            continue;
        s_change_t *change = s_change_from_event (&event);
        if (!change || !zlistx_add_end (self->queue, change)) {
            free (change);
            return ZSTORE_NO_MEMORY;
        }
        if (last)
            last->closes = last->rev != change->rev;
        last = change;
    }
    if (last)
        last->closes = true;
    if (events->via.array.size) {
        zstore_fields_t fields;
        zstore_event_body_t event;
        const msgpack_object *final = &events->via.array.ptr [events->via.array.size - 1];
        zstore_event_body_read (final, &event, &fields);
        self->replay_after = event.rev;
    }
    if (!more)
        self->repair = REPAIR_NONE;
    else
    if (!events->via.array.size)
        return ZSTORE_PROTOCOL_ERROR;       //  "more" with nothing: would never end
    return ZSTORE_OK;
}

//  One history page after the last delivered change (or the change before
//  it, when it may be incomplete: its delivered events are dropped again).
static int
s_replay (zstore_watch_t *self)
{
    if (!self->replaying) {
        self->replaying = true;
        self->replay_after = self->complete || !self->rev ? self->rev : self->rev - 1;
        if (self->lost)
            self->replays++;
        self->lost = false;
    }
    zstore_request_t *request = zstore_request_new ("history");
    if (!request)
        return ZSTORE_NO_MEMORY;
    s_add_scope (self, request);
    zstore_request_add_uint (request, "after", self->replay_after);
    zstore_request_add_uint (request, "limit", HISTORY_PAGE);
    zstore_request_omit_namespace (request);
    zstore_reply_t *reply = NULL;
    int code = zstore_client_call (self->client, request, &reply);
    zstore_request_destroy (&request);
    if (code == ZSTORE_OK)
        code = s_queue_history (self, reply);
    zstore_reply_destroy (&reply);
    //  History no longer reaches back, or cannot be read at all (a broker
    //  error other than a passing one, or a reply we cannot read): resync.
    bool passing = code == ZSTORE_OK || code == ZSTORE_CLOSED || code == ZSTORE_BUSY
                || (code >= ZSTORE_TIMEOUT && code != ZSTORE_PROTOCOL_ERROR);
    if (!passing) {
        zlistx_purge (self->queue);
        self->repair = REPAIR_SNAPSHOT;
        code = ZSTORE_OK;
    }
    return code;
}

//  Queues RESYNC at the snapshot's rev, then each entry as STATE.
static int
s_resync (zstore_watch_t *self)
{
    const char *group = self->stream == STREAM_GROUP ? self->group : NULL;
    bool narrow = self->stream == STREAM_GROUP;
    zstore_entries_t entries;
    uint64_t rev = 0;
    int code = zstore_client_snapshot (self->client,
                                       self->stream == STREAM_NAMESPACE ? self->ns : NULL, group,
                                       narrow && self->filter == FILTER_KEY ? self->text : NULL,
                                       narrow && self->filter == FILTER_PREFIX ? self->text : NULL,
                                       &entries, &rev);
    if (code)
        return code;
    s_change_t *resync = s_change_new (ZSTORE_CHANGE_RESYNC, "", 0, "", 0, "", 0);
    code = resync && zlistx_add_end (self->queue, resync) ? ZSTORE_OK : ZSTORE_NO_MEMORY;
    if (code)
        free (resync);
    else
        resync->rev = rev;
    for (size_t index = 0; code == ZSTORE_OK && index < entries.size; index++) {
        zstore_entry_t *entry = &entries.entries [index];
        if (!s_wanted (self, ZSTORE_CHANGE_STATE, entry->key, entry->key_size))
            continue;
        s_change_t *state = s_change_new (ZSTORE_CHANGE_STATE, entry->group, entry->group_size,
                                          entry->key, entry->key_size, entry->value,
                                          entry->value_size);
        if (!state || !zlistx_add_end (self->queue, state)) {
            free (state);
            code = ZSTORE_NO_MEMORY;
            break;
        }
        state->rev = entry->mod_rev;
        state->create_rev = entry->create_rev;
        state->expires_at = entry->expires_at;
    }
    zstore_entries_clear (&entries);
    if (code) {
        zlistx_purge (self->queue);
        return code;
    }
    for (s_change_t *change = zlistx_first (self->queue); change;
         change = zlistx_next (self->queue))
        change->resync = true;
    self->repair = REPAIR_NONE;
    self->replaying = false;
    self->resyncs++;
    return ZSTORE_OK;
}

//  --- Delivery -----------------------------------------------------------

//  The next change to deliver, or NULL: events at or before the last one
//  delivered (by rev, then idx within an incomplete change) are dropped.
static s_change_t *
s_take (zstore_watch_t *self)
{
    s_change_t *change;
    while ((change = zlistx_detach (self->queue, NULL))) {
        if (change->resync) {
            if (change->type == ZSTORE_CHANGE_RESYNC) {
                self->rev = change->rev;
                self->complete = true;
            }
            return change;
        }
        if (s_is_after (self, change->rev, change->idx)) {
            self->rev = change->rev;
            self->idx = change->idx;
            self->complete = change->closes;
            return change;
        }
        free (change);
    }
    return NULL;
}

static void
s_fill (const s_change_t *source, zstore_change_t *change)
{
    *change = (zstore_change_t) {
        .type = source->type,
        .group = source->group, .group_size = source->group_size,
        .key = source->key, .key_size = source->key_size,
        .value = source->value, .value_size = source->value_size,
        .rev = source->rev,
        .prev_rev = source->prev_rev,
        .ts = source->ts,
        .expires_at = source->expires_at,
        .create_rev = source->create_rev,
    };
}

static int64_t
s_silence_ms (zstore_watch_t *self)
{
    uint64_t interval = self->interval ? self->interval : DEFAULT_HEARTBEAT;
    return (int64_t) interval * SILENT_HEARTBEATS + SILENCE_SLACK;
}

//  Waits for one message until deadline (-1: none) and handles it. After
//  SILENT_HEARTBEATS intervals without any message, checks history (a
//  broker that is gone makes the check fail: the caller hears of it).
static int
s_receive (zstore_watch_t *self, int64_t deadline)
{
    int64_t now = zclock_mono ();
    int64_t silent_at = self->last_message + s_silence_ms (self);
    int64_t until = deadline >= 0 && deadline < silent_at ? deadline : silent_at;
    int ready = s_poll (self, until - now);
    if (ready < 0)
        return ZSTORE_INTERRUPTED;
    if (ready) {
        s_read_message (self);
        return ZSTORE_OK;
    }
    now = zclock_mono ();
    if (now >= silent_at) {
        self->last_message = now;
        s_verify (self);
        return ZSTORE_OK;
    }
    return deadline >= 0 && now >= deadline ? ZSTORE_TIMEOUT : ZSTORE_OK;
}

int
zstore_watch_next (zstore_watch_t *self, zstore_change_t *change, int timeout_ms)
{
    if (!self || !change)
        return ZSTORE_ARGUMENT;
    free (self->current);
    self->current = NULL;
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (true) {
        self->current = s_take (self);
        if (self->current) {
            s_fill (self->current, change);
            return ZSTORE_OK;
        }
        int code = self->repair == REPAIR_HISTORY ? s_replay (self)
                 : self->repair == REPAIR_SNAPSHOT ? s_resync (self)
                 : s_receive (self, deadline);
        if (code)
            return code;
    }
}

uint64_t
zstore_watch_rev (zstore_watch_t *self)
{
    return self ? self->rev : 0;
}

uint64_t
zstore_watch_replays (zstore_watch_t *self)
{
    return self ? self->replays : 0;
}

uint64_t
zstore_watch_resyncs (zstore_watch_t *self)
{
    return self ? self->resyncs : 0;
}

void *
zstore_watch_socket (zstore_watch_t *self)
{
    return self ? self->sub : NULL;
}
