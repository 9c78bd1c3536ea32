/*  zstore_publisher - committed events and control messages on the XPUB
    socket (PROTOCOL.md 3). Each event gets the epoch's sequence numbers:
    seq (all events), gseq (its group), nseq (its namespace). Groups and
    namespaces that had events since the last heartbeat get a beacon with
    their latest sequence, so a subscriber notices a lost last event.

    The XPUB socket never blocks: a subscriber past its high-water mark
    loses messages (and sees the gap in its sequence), nobody else waits.

    With no subscription at all, events are counted (seq, gseq, nseq go on)
    but not encoded nor sent. The set of topics subscribed comes from the
    XPUB's subscription messages (verbose: every subscribe; an unsubscribe
    when a topic's last subscriber leaves, disconnects included). libzmq
    may apply a subscription before the broker reads it, so an event can be
    skipped that a brand-new subscriber would have got; that subscriber had
    received nothing yet (nothing was sent), and its sync marker, read after
    its subscription, comes before any event it is owed (PROTOCOL.md 4.1).
*/

#include "zstore_broker.h"

//  The sequence state of one group or namespace, keyed by its escaped name
//  (E() never produces a NUL, so the key is a C string).
typedef struct {
    uint64_t sequence;              //  events so far this epoch
    uint64_t revision;              //  revision of the latest
    bool dirty;                     //  events since the last beacon
    bool is_namespace;
    size_t name_size;               //  raw (unescaped) name size
    char name [];                   //  raw name, for the beacon topic
} s_counter_t;

struct _zstore_publisher_t {
    zsock_t *xpub;                  //  not owned
    void *handle;                   //  its libzmq socket
    uint64_t epoch;
    uint64_t sequence;              //  seq of the last event
    uint64_t published;             //  messages sent, control included
    zhashx_t *groups;               //  E(group) -> s_counter_t
    zhashx_t *namespaces;           //  E(namespace) -> s_counter_t
    zlistx_t *dirty;                //  counters to beacon (not owned)
    zhashx_t *subscribed;           //  topics with a subscriber (keys only)
    zstore_buffer_t topic;
    zstore_buffer_t key;
    zstore_writer_t body;
};

static void
s_counter_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

zstore_publisher_t *
zstore_publisher_new (zsock_t *xpub, uint64_t epoch)
{
    zstore_publisher_t *self = calloc (1, sizeof (zstore_publisher_t));
    if (!self)
        return NULL;
    self->xpub = xpub;
    self->handle = zsock_resolve (xpub);
    self->epoch = epoch;
    self->groups = zhashx_new ();
    self->namespaces = zhashx_new ();
    self->dirty = zlistx_new ();
    self->subscribed = zhashx_new ();
    zhashx_set_destructor (self->groups, s_counter_destroy);
    zhashx_set_destructor (self->namespaces, s_counter_destroy);
    zstore_buffer_init (&self->topic);
    zstore_buffer_init (&self->key);
    zstore_writer_init (&self->body);
    return self;
}

void
zstore_publisher_destroy (zstore_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_publisher_t *self = *self_p;
    zlistx_destroy (&self->dirty);
    zhashx_destroy (&self->subscribed);
    zhashx_destroy (&self->groups);
    zhashx_destroy (&self->namespaces);
    zstore_buffer_free (&self->topic);
    zstore_buffer_free (&self->key);
    zstore_writer_free (&self->body);
    free (self);
    *self_p = NULL;
}

//  Sends topic + body without blocking; a full subscriber queue drops.
static void
s_send (zstore_publisher_t *self, const zstore_buffer_t *topic, const zstore_writer_t *body)
{
    if (zmq_send (self->handle, topic->data, topic->size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    zmq_send (self->handle, body->buffer.data, body->buffer.size, ZMQ_DONTWAIT);
    self->published++;
}

//  Bumps the counter of a group or namespace; returns its new sequence.
static uint64_t
s_bump (zstore_publisher_t *self, zhashx_t *table, const char *name, size_t size,
        bool is_namespace, uint64_t revision)
{
    zstore_buffer_reset (&self->key);
    zstore_topic_escape (&self->key, name, size);
    zstore_buffer_append (&self->key, "", 1);
    s_counter_t *counter = zhashx_lookup (table, self->key.data);
    if (!counter) {
        counter = calloc (1, sizeof (s_counter_t) + size + 1);
        if (!counter)
            return 0;
        counter->is_namespace = is_namespace;
        counter->name_size = size;
        if (size)
            memcpy (counter->name, name, size);
        zhashx_insert (table, self->key.data, counter);
    }
    counter->sequence++;
    counter->revision = revision;
    if (!counter->dirty) {
        counter->dirty = true;
        zlistx_add_end (self->dirty, counter);
    }
    return counter->sequence;
}

void
zstore_publisher_event (const zstore_event_t *event, void *arg)
{
    zstore_publisher_t *self = arg;
    const char *type = zstore_event_type_name (event->type);
    size_t namespace_size = zstore_group_namespace_size (event->group.data, event->group.size);
    zstore_event_body_t body = {
        .type = type,
        .group = event->group.data, .group_size = event->group.size,
        .key = event->key.data, .key_size = event->key.size,
        .value = event->value.data, .value_size = event->value.size,
        .rev = event->revision,
        .prev_rev = event->prev_revision,
        .idx = event->index,
        .n = event->count,
        .ts = (uint64_t) event->timestamp,
        .expires_at = event->expires_at > 0 ? (uint64_t) event->expires_at : 0,
        .epoch = self->epoch,
        .seq = ++self->sequence,
    };
    body.gseq = s_bump (self, self->groups, event->group.data, event->group.size, false,
                        event->revision);
    body.nseq = s_bump (self, self->namespaces, event->group.data, namespace_size, true,
                        event->revision);
    if (zhashx_size (self->subscribed) == 0)
        return;                     //  nobody could receive it
    zstore_topic_for_event (&self->topic, type, event->group.data, event->group.size,
                            event->key.data, event->key.size);
    zstore_writer_reset (&self->body);
    zstore_event_body_write (&self->body, &body, true);
    s_send (self, &self->topic, &self->body);
}

void
zstore_publisher_subscription (zstore_publisher_t *self, const char *topic, size_t size,
                               bool on)
{
    //  Keyed by E(topic), which holds no NUL (topics do: the separator).
    zstore_buffer_reset (&self->key);
    zstore_topic_escape (&self->key, topic, size);
    zstore_buffer_append (&self->key, "", 1);
    if (on)
        zhashx_insert (self->subscribed, self->key.data, self);    //  once per topic
    else
        zhashx_delete (self->subscribed, self->key.data);
}

static void
s_beacon (zstore_publisher_t *self, s_counter_t *counter)
{
    zstore_control_body_t body = { .epoch = self->epoch, .rev = counter->revision };
    zstore_control_kind_t kind;
    if (counter->is_namespace) {
        zstore_topic_namespace_beacon (&self->topic, counter->name, counter->name_size);
        body.nseq = counter->sequence;
        kind = ZSTORE_CONTROL_NAMESPACE_BEACON;
    }
    else {
        zstore_topic_group_beacon (&self->topic, counter->name, counter->name_size);
        body.gseq = counter->sequence;
        kind = ZSTORE_CONTROL_GROUP_BEACON;
    }
    zstore_writer_reset (&self->body);
    zstore_control_body_write (&self->body, kind, &body);
    s_send (self, &self->topic, &self->body);
    counter->dirty = false;
}

void
zstore_publisher_heartbeat (zstore_publisher_t *self, uint64_t revision, int64_t now)
{
    zstore_control_body_t body = {
        .epoch = self->epoch, .seq = self->sequence, .rev = revision, .ts = (uint64_t) now
    };
    zstore_buffer_reset (&self->topic);
    char heartbeat = ZSTORE_TOPIC_HEARTBEAT;
    zstore_buffer_append (&self->topic, &heartbeat, 1);
    zstore_writer_reset (&self->body);
    zstore_control_body_write (&self->body, ZSTORE_CONTROL_HEARTBEAT, &body);
    s_send (self, &self->topic, &self->body);
    for (s_counter_t *counter = zlistx_first (self->dirty); counter;
         counter = zlistx_next (self->dirty))
        s_beacon (self, counter);
    zlistx_purge (self->dirty);
}

void
zstore_publisher_sync (zstore_publisher_t *self, const char *topic, size_t size,
                       uint64_t revision)
{
    zstore_control_body_t body = { .epoch = self->epoch, .seq = self->sequence, .rev = revision };
    zstore_buffer_reset (&self->topic);
    zstore_buffer_append (&self->topic, topic, size);
    zstore_writer_reset (&self->body);
    zstore_control_body_write (&self->body, ZSTORE_CONTROL_SYNC, &body);
    s_send (self, &self->topic, &self->body);
}

uint64_t
zstore_publisher_published (zstore_publisher_t *self)
{
    return self->published;
}

uint64_t
zstore_publisher_sequence (zstore_publisher_t *self)
{
    return self->sequence;
}
