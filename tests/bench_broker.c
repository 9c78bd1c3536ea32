/*  bench_broker - a load generator for a running zstore-broker.

    Request modes: C clients (one DEALER each) keep W requests in flight each
    until N operations completed; prints operations per second and latency
    percentiles. Event mode: one writer at a given rate, S subscribers;
    prints delivered events per second, loss and set-to-event latency.
    Engine mode: the engine's own batched upsert rate on a file, for the
    "pipelined set vs engine" ratio.

    bench_broker --mode set|get|mix|purge --requests EP [--clients C] [--wire W]
                 [--inflight W] [--ops N] [--keys K] [--value-size V] [--ttl MS]
    bench_broker --mode events --requests EP --events EP [--rate R]
                 [--subscribers S] [--ops N] [--value-size V]
    bench_broker --mode engine --db FILE [--sync full|normal|off] [--ops N]
    bench_broker --mode echo-server --requests EP    (a bare ROUTER: the ceiling)

    --wire libzmq (the default) gives each client a libzmq DEALER or SUB;
    --wire zmtp speaks ZMTP 3.0 on plain sockets from this one thread
    (bench_zmtp.c), as light as redis-benchmark: on a 2-core machine the
    generator's own CPU is taken from the broker it measures.

    Output: one line per run, "name value" pairs, easy to grep or parse.
*/

#include "bench_zmtp.h"
#include "zstore_engine.h"
#include "zstore_proto.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define GROUP "bench"
#define MAX_CLIENTS 1024
#define SLOT_BITS 16                //  request id = client << 16 | slot

typedef struct {
    const char *mode;
    const char *requests;
    const char *events;
    const char *db;
    const char *sync;
    int clients;
    int inflight;
    int64_t ops;
    int64_t keys;
    int value_size;
    int rate;
    int subscribers;
    int64_t ttl_ms;
    const char *key_order;          //  engine: random (the load's) or sequential
    int64_t history;                //  engine: history/events limit
    const char *wire;               //  libzmq (sockets) or zmtp (bench_zmtp)
    bool zmtp;                      //  wire is zmtp
} options_t;

//  --- Small tools ---------------------------------------------------------

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static void
s_die (const char *message)
{
    fprintf (stderr, "bench_broker: %s\n", message);
    exit (1);
}

//  Latencies in ns, percentiles by sorting at the end.
typedef struct {
    int64_t *values;
    size_t size;
    size_t capacity;
} samples_t;

static void
s_sample (samples_t *self, int64_t value)
{
    if (self->size == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 65536;
        self->values = realloc (self->values, self->capacity * sizeof (int64_t));
        if (!self->values)
            s_die ("out of memory");
    }
    self->values [self->size++] = value;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static double
s_percentile_us (samples_t *self, double fraction)
{
    if (!self->size)
        return 0;
    size_t index = (size_t) (fraction * (double) (self->size - 1) + 0.5);
    return (double) self->values [index] / 1000.0;
}

static void
s_print_latency (samples_t *self)
{
    qsort (self->values, self->size, sizeof (int64_t), s_compare);
    printf (" p50_us %.1f p99_us %.1f p999_us %.1f max_us %.1f", s_percentile_us (self, 0.5),
            s_percentile_us (self, 0.99), s_percentile_us (self, 0.999),
            s_percentile_us (self, 1.0));
}

//  --- Requests -----------------------------------------------------------

static void
s_write_request (zstore_writer_t *writer, uint64_t id, const char *op, int64_t key_index,
                 const char *value, int value_size, int64_t ttl_ms)
{
    char key [32];
    int key_size = snprintf (key, sizeof key, "key:%010" PRId64, key_index);
    bool is_set = strcmp (op, "set") == 0;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 4 + (is_set ? 1 : 0) + (is_set && ttl_ms ? 1 : 0));
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, id);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, op);
    zstore_write_key (writer, "group");
    zstore_write_bytes (writer, GROUP, strlen (GROUP));
    zstore_write_key (writer, "key");
    zstore_write_bytes (writer, key, (size_t) key_size);
    if (is_set) {
        zstore_write_key (writer, "value");
        zstore_write_bytes (writer, value, (size_t) value_size);
        if (ttl_ms) {
            zstore_write_key (writer, "ttl");
            zstore_write_int (writer, ttl_ms);
        }
    }
}

//  The load: every client keeps `inflight` requests out until `ops` are done.
typedef struct {
    const options_t *options;
    void *sockets [MAX_CLIENTS];    //  --wire libzmq
    bench_zmtp_t *peers [MAX_CLIENTS];  //  --wire zmtp
    int64_t *sent_at;               //  [client * inflight + slot]
    int64_t sent;
    int64_t done;
    int64_t errors;
    int64_t next_key;               //  sequential keys for a preload
    bool sequential;
    int get_percent;                //  100 get, 0 set, 90 mix
    int64_t ttl_ms;
    char *value;
    zstore_writer_t writer;
    samples_t latency;
    unsigned random_state;
} load_t;

static void
s_load_send (load_t *self, int client, int slot)
{
    const options_t *options = self->options;
    unsigned draw = (unsigned) rand_r (&self->random_state);
    int64_t key = self->sequential ? self->next_key++ : (int64_t) (draw % (unsigned) options->keys);
    bool get = (int) (rand_r (&self->random_state) % 100) < self->get_percent;
    uint64_t id = ((uint64_t) client << SLOT_BITS) | (uint64_t) slot;
    s_write_request (&self->writer, id, get ? "get" : "set", key, self->value,
                     options->value_size, self->ttl_ms);
    self->sent_at [client * options->inflight + slot] = s_now_ns ();
    if (options->zmtp)              //  written by the caller's flush
        bench_zmtp_queue (self->peers [client], self->writer.buffer.data,
                          self->writer.buffer.size, false);
    else
    if (zmq_send (self->sockets [client], self->writer.buffer.data, self->writer.buffer.size, 0)
        < 0)
        s_die ("send failed");
    self->sent++;
}

//  Takes one reply; sends the next request on the freed slot.
static void
s_load_receive (load_t *self, int client, const void *data, size_t size)
{
    zstore_reader_t *reply = zstore_reader_new (data, size, NULL);
    if (!reply)
        s_die ("a reply is not msgpack");
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    uint64_t id = 0, status = 0;
    if (!zstore_fields_uint (&fields, "id", &id)
    ||  !zstore_fields_uint (&fields, "status", &status))
        s_die (fields.error);
    zstore_reader_destroy (&reply);
    if (status != ZSTORE_STATUS_OK && status != ZSTORE_STATUS_NOT_FOUND)
        self->errors++;
    int slot = (int) (id & ((1u << SLOT_BITS) - 1));
    int64_t now = s_now_ns ();
    s_sample (&self->latency, now - self->sent_at [client * self->options->inflight + slot]);
    self->done++;
    if (self->sent < self->options->ops)
        s_load_send (self, client, slot);
}

//  Reads every reply waiting on one client until libzmq says none is left.
//  ZMQ_FD only signals that the socket's state may have changed, so the
//  socket is drained and ZMQ_EVENTS asked before epoll is trusted again.
static void
s_load_drain (load_t *self, int client, zmq_msg_t *message)
{
    void *socket = self->sockets [client];
    while (true) {
        while (zmq_msg_recv (message, socket, ZMQ_DONTWAIT) >= 0)
            s_load_receive (self, client, zmq_msg_data (message), zmq_msg_size (message));
        int events = 0;
        size_t size = sizeof events;
        if (zmq_getsockopt (socket, ZMQ_EVENTS, &events, &size) || !(events & ZMQ_POLLIN))
            return;
    }
}

//  --wire zmtp: one read takes every reply waiting; the requests they free
//  leave in one write.
static void
s_load_drain_zmtp (load_t *self, int client)
{
    bench_zmtp_t *peer = self->peers [client];
    if (!bench_zmtp_fill (peer))
        s_die ("the broker closed a connection");
    bench_zmtp_frame_t frame;
    while (bench_zmtp_next (peer, &frame))
        s_load_receive (self, client, frame.data, frame.size);
    bench_zmtp_flush (peer);
}

static void
s_load_ready (load_t *self, int client, zmq_msg_t *message)
{
    if (self->options->zmtp)
        s_load_drain_zmtp (self, client);
    else
        s_load_drain (self, client, message);
}

//  epoll over the sockets' ZMQ_FDs: one wake-up costs what is ready, not
//  what is connected, so the generator stays light beside the broker it
//  shares the machine with (zmq_poll walks every socket on every call).
static void
s_load_run (load_t *self)
{
    const options_t *options = self->options;
    int poller = epoll_create1 (EPOLL_CLOEXEC);
    if (poller < 0)
        s_die ("epoll_create1 failed");
    for (int client = 0; client < options->clients; client++) {
        int fd;
        size_t size = sizeof fd;
        if (options->zmtp)
            fd = bench_zmtp_fd (self->peers [client]);
        else
            zmq_getsockopt (self->sockets [client], ZMQ_FD, &fd, &size);
        struct epoll_event event = { .events = EPOLLIN, .data.u32 = (uint32_t) client };
        if (epoll_ctl (poller, EPOLL_CTL_ADD, fd, &event))
            s_die ("epoll_ctl failed");
    }
    for (int client = 0; client < options->clients; client++) {
        for (int slot = 0; slot < options->inflight && self->sent < options->ops; slot++)
            s_load_send (self, client, slot);
        if (options->zmtp)
            bench_zmtp_flush (self->peers [client]);
    }
    zmq_msg_t message;
    zmq_msg_init (&message);
    //  A libzmq socket signals its fd only after a read found it empty:
    //  read each once before trusting epoll.
    if (!options->zmtp)
        for (int client = 0; client < options->clients; client++)
            s_load_drain (self, client, &message);
    struct epoll_event ready [MAX_CLIENTS];
    while (self->done < self->sent) {
        int count = epoll_wait (poller, ready, MAX_CLIENTS, 10000);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            s_die ("no reply for 10 s");
        for (int index = 0; index < count; index++)
            s_load_ready (self, (int) ready [index].data.u32, &message);
    }
    zmq_msg_close (&message);
    close (poller);
}

static load_t *
s_load_new (const options_t *options, void *context)
{
    load_t *self = calloc (1, sizeof (load_t));
    self->options = options;
    self->random_state = 12345;
    self->sent_at = calloc ((size_t) options->clients * (size_t) options->inflight,
                            sizeof (int64_t));
    self->value = malloc ((size_t) options->value_size + 1);
    memset (self->value, 'x', (size_t) options->value_size);
    zstore_writer_init (&self->writer);
    for (int client = 0; client < options->clients; client++) {
        if (options->zmtp) {
            self->peers [client] = bench_zmtp_connect (options->requests, "DEALER");
            continue;
        }
        self->sockets [client] = zmq_socket (context, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (self->sockets [client], ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect (self->sockets [client], options->requests))
            s_die ("cannot connect to --requests");
    }
    return self;
}

static void
s_load_destroy (load_t **self_p)
{
    load_t *self = *self_p;
    for (int client = 0; client < self->options->clients; client++)
        if (self->options->zmtp)
            bench_zmtp_destroy (&self->peers [client]);
        else
            zmq_close (self->sockets [client]);
    zstore_writer_free (&self->writer);
    free (self->latency.values);
    free (self->sent_at);
    free (self->value);
    free (self);
    *self_p = NULL;
}

//  Writes every key once (16 x 16 pipelined), so gets find them.
static void
s_preload (const options_t *options, void *context)
{
    options_t preload = *options;
    preload.clients = 16;
    preload.inflight = 16;
    preload.ops = options->keys;
    load_t *load = s_load_new (&preload, context);
    load->sequential = true;
    int64_t start = s_now_ns ();
    s_load_run (load);
    fprintf (stderr, "bench_broker: preloaded %" PRId64 " keys in %.2f s\n", options->keys,
             (double) (s_now_ns () - start) / 1e9);
    s_load_destroy (&load);
}

static void
s_run_requests (const options_t *options, void *context)
{
    const char *mode = options->mode;
    int get_percent = strcmp (mode, "set") == 0 ? 0 : strcmp (mode, "mix") == 0 ? 90 : 100;
    //  purge: gets of keys loaded (with a TTL) beforehand, while the broker
    //  purges them; get and mix load the keys first.
    if (get_percent && strcmp (mode, "purge") != 0)
        s_preload (options, context);
    load_t *load = s_load_new (options, context);
    load->get_percent = get_percent;
    load->ttl_ms = options->ttl_ms;
    int64_t start = s_now_ns ();
    s_load_run (load);
    double seconds = (double) (s_now_ns () - start) / 1e9;
    printf ("mode %s clients %d inflight %d ops %" PRId64 " value_size %d ops_per_sec %.0f",
            mode, options->clients, options->inflight, load->done, options->value_size,
            (double) load->done / seconds);
    s_print_latency (&load->latency);
    printf (" errors %" PRId64 "\n", load->errors);
    s_load_destroy (&load);
}

//  --- Events ---------------------------------------------------------------

typedef struct {
    void *socket;                   //  --wire libzmq
    bench_zmtp_t *peer;             //  --wire zmtp
    bool topic_read;                //  zmtp: the next frame is an event's body
    zstore_reader_t *reader;        //  reused for every event
    int64_t received;
    uint64_t last_seq;
    int64_t gaps;
} subscriber_t;

static void
s_subscriber_start_libzmq (subscriber_t *self, void *context, const char *endpoint,
                           const zstore_buffer_t *topic, const char *token, int token_size)
{
    self->socket = zmq_socket (context, ZMQ_SUB);
    int hwm = 0;                    //  the bench measures the broker, not our queue
    zmq_setsockopt (self->socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_connect (self->socket, endpoint))
        s_die ("cannot connect to --events");
    zmq_setsockopt (self->socket, ZMQ_SUBSCRIBE, topic->data, topic->size);
    zmq_setsockopt (self->socket, ZMQ_SUBSCRIBE, token, (size_t) token_size);
    zmq_pollitem_t item = { self->socket, 0, ZMQ_POLLIN, 0 };
    char frame [64];
    while (true) {
        if (zmq_poll (&item, 1, 5000) <= 0)
            s_die ("no sync marker from the broker within 5 s");
        int size = zmq_recv (self->socket, frame, sizeof frame, 0);
        int more = 0;
        size_t more_size = sizeof more;
        zmq_getsockopt (self->socket, ZMQ_RCVMORE, &more, &more_size);
        if (more)
            zmq_recv (self->socket, frame + 0, 0, 0);   //  the body: not needed
        if (size == token_size && memcmp (frame, token, (size_t) token_size) == 0)
            break;
    }
    zmq_setsockopt (self->socket, ZMQ_UNSUBSCRIBE, token, (size_t) token_size);
}

static void
s_subscriber_start_zmtp (subscriber_t *self, const char *endpoint,
                         const zstore_buffer_t *topic, const char *token, int token_size)
{
    self->peer = bench_zmtp_connect (endpoint, "SUB");
    bench_zmtp_subscribe (self->peer, topic->data, topic->size, true);
    bench_zmtp_subscribe (self->peer, token, (size_t) token_size, true);
    bench_zmtp_flush (self->peer);
    zmq_pollitem_t item = { NULL, bench_zmtp_fd (self->peer), ZMQ_POLLIN, 0 };
    bool synced = false;
    while (!synced) {
        if (zmq_poll (&item, 1, 5000) <= 0 || !bench_zmtp_fill (self->peer))
            s_die ("no sync marker from the broker within 5 s");
        bench_zmtp_frame_t frame;
        while (bench_zmtp_next (self->peer, &frame))
            if (frame.more && frame.size == (size_t) token_size
            &&  memcmp (frame.data, token, (size_t) token_size) == 0)
                synced = true;
    }
    bench_zmtp_subscribe (self->peer, token, (size_t) token_size, false);
    bench_zmtp_flush (self->peer);
}

//  Subscribes to the bench group and waits for the sync marker (PROTOCOL.md 4.1).
static void
s_subscriber_start (subscriber_t *self, const options_t *options, void *context, int index)
{
    self->reader = zstore_reader_new_reusable ();
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    zstore_topic_group (&topic, GROUP, strlen (GROUP));
    char token [32];
    int token_size = snprintf (token, sizeof token, "sbench-%d-%d", (int) getpid (), index);
    if (options->zmtp)
        s_subscriber_start_zmtp (self, options->events, &topic, token, token_size);
    else
        s_subscriber_start_libzmq (self, context, options->events, &topic, token, token_size);
    zstore_buffer_free (&topic);
}

//  One event's body: latency from the timestamp in its value.
static void
s_subscriber_event (subscriber_t *self, const void *data, size_t size, samples_t *latency)
{
    int64_t now = s_now_ns ();
    //  Parsed in place with a kept reader: the measuring side stays light.
    const char *error = NULL;
    const msgpack_object *root = zstore_reader_parse (self->reader, data, size, &error);
    zstore_event_body_t event;
    zstore_fields_t fields;
    if (!root || !zstore_event_body_read (root, &event, &fields))
        s_die ("an event is malformed");
    if (event.value_size >= sizeof (int64_t)) {
        int64_t sent;
        memcpy (&sent, event.value, sizeof sent);
        s_sample (latency, now - sent);
    }
    if (self->last_seq && event.gseq != self->last_seq + 1)
        self->gaps++;
    self->last_seq = event.gseq;
    self->received++;
}

//  Reads every event waiting; returns how many.
static int64_t
s_subscriber_drain (subscriber_t *self, samples_t *latency)
{
    int64_t count = 0;
    if (self->peer) {
        if (!bench_zmtp_fill (self->peer))
            s_die ("the broker closed a subscriber");
        bench_zmtp_frame_t frame;
        while (bench_zmtp_next (self->peer, &frame)) {
            if (self->topic_read && !frame.more) {
                s_subscriber_event (self, frame.data, frame.size, latency);
                count++;
            }
            self->topic_read = frame.more;
        }
        bench_zmtp_flush (self->peer);  //  a PONG, if a PING came
        return count;
    }
    zmq_msg_t topic, body;
    zmq_msg_init (&topic);
    zmq_msg_init (&body);
    while (zmq_msg_recv (&topic, self->socket, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_recv (&body, self->socket, 0) < 0)
            s_die ("event receive failed");
        s_subscriber_event (self, zmq_msg_data (&body), zmq_msg_size (&body), latency);
        count++;
    }
    zmq_msg_close (&topic);
    zmq_msg_close (&body);
    return count;
}

static void
s_subscriber_destroy (subscriber_t *self)
{
    if (self->peer)
        bench_zmtp_destroy (&self->peer);
    else
        zmq_close (self->socket);
    zstore_reader_destroy (&self->reader);
}

typedef struct {
    const options_t *options;
    void *writer_socket;            //  --wire libzmq
    bench_zmtp_t *writer_peer;      //  --wire zmtp
    subscriber_t *subscribers;
    zmq_pollitem_t *items;          //  [0] the writer, then the subscribers
    zstore_writer_t writer;
    char *value;
    samples_t latency;
    int64_t sent;
    int64_t acked;
} events_run_t;

//  Sends the sets due by now at the configured rate; the value starts with
//  the send time.
static void
s_events_send_due (events_run_t *self, int64_t start)
{
    const options_t *options = self->options;
    int64_t due = (s_now_ns () - start) * options->rate / 1000000000 + 1;
    while (self->sent < due && self->sent < options->ops) {
        int64_t now = s_now_ns ();
        memcpy (self->value, &now, sizeof now);
        s_write_request (&self->writer, (uint64_t) self->sent, "set", self->sent % options->keys,
                         self->value, options->value_size, 0);
        if (self->writer_peer) {
            bench_zmtp_queue (self->writer_peer, self->writer.buffer.data,
                              self->writer.buffer.size, false);
            bench_zmtp_flush (self->writer_peer);
        }
        else
            zmq_send (self->writer_socket, self->writer.buffer.data, self->writer.buffer.size, 0);
        self->sent++;
    }
}

//  Counts the acknowledgements waiting.
static void
s_events_take_acks (events_run_t *self)
{
    if (!self->writer_peer) {
        while (zmq_recv (self->writer_socket, NULL, 0, ZMQ_DONTWAIT) >= 0)
            self->acked++;
        return;
    }
    if (!bench_zmtp_fill (self->writer_peer))
        s_die ("the broker closed the writer");
    bench_zmtp_frame_t frame;
    while (bench_zmtp_next (self->writer_peer, &frame))
        self->acked++;
}

//  Polls until every set was acknowledged and delivered to every
//  subscriber, or nothing arrives for a second (the rest is lost).
static void
s_events_loop (events_run_t *self)
{
    const options_t *options = self->options;
    int64_t start = s_now_ns ();
    int64_t expected_total = options->ops * options->subscribers;
    int64_t delivered = 0;
    while (self->acked < options->ops || delivered < expected_total) {
        if (self->sent < options->ops)
            s_events_send_due (self, start);
        int64_t wait_ms = self->sent < options->ops ? 1 : 1000;
        int ready = zmq_poll (self->items, options->subscribers + 1, (long) wait_ms);
        if (ready == 0 && self->sent >= options->ops)
            break;
        if (self->items [0].revents & ZMQ_POLLIN)
            s_events_take_acks (self);
        for (int index = 0; index < options->subscribers; index++)
            if (self->items [index + 1].revents & ZMQ_POLLIN)
                delivered += s_subscriber_drain (&self->subscribers [index], &self->latency);
    }
}

static void
s_run_events (const options_t *options, void *context)
{
    if (!options->events)
        s_die ("--mode events needs --events");
    events_run_t run = { .options = options };
    run.subscribers = calloc ((size_t) options->subscribers, sizeof (subscriber_t));
    run.items = calloc ((size_t) options->subscribers + 1, sizeof (zmq_pollitem_t));
    run.value = calloc (1, (size_t) options->value_size < 8 ? 8 : (size_t) options->value_size);
    zstore_writer_init (&run.writer);
    if (options->zmtp) {
        run.writer_peer = bench_zmtp_connect (options->requests, "DEALER");
        run.items [0] = (zmq_pollitem_t) { NULL, bench_zmtp_fd (run.writer_peer), ZMQ_POLLIN, 0 };
    }
    else {
        run.writer_socket = zmq_socket (context, ZMQ_DEALER);
        if (zmq_connect (run.writer_socket, options->requests))
            s_die ("cannot connect to --requests");
        run.items [0] = (zmq_pollitem_t) { run.writer_socket, 0, ZMQ_POLLIN, 0 };
    }
    for (int index = 0; index < options->subscribers; index++) {
        subscriber_t *subscriber = &run.subscribers [index];
        s_subscriber_start (subscriber, options, context, index);
        run.items [index + 1] = subscriber->peer
            ? (zmq_pollitem_t) { NULL, bench_zmtp_fd (subscriber->peer), ZMQ_POLLIN, 0 }
            : (zmq_pollitem_t) { subscriber->socket, 0, ZMQ_POLLIN, 0 };
    }
    int64_t start = s_now_ns ();
    s_events_loop (&run);
    double seconds = (double) (s_now_ns () - start) / 1e9;
    int64_t received = 0, gaps = 0;
    for (int index = 0; index < options->subscribers; index++) {
        received += run.subscribers [index].received;
        gaps += run.subscribers [index].gaps;
        s_subscriber_destroy (&run.subscribers [index]);
    }
    printf ("mode events rate %d subscribers %d sets %" PRId64 " acked %" PRId64
            " delivered %" PRId64 " lost %" PRId64 " gaps %" PRId64 " events_per_sec %.0f",
            options->rate, options->subscribers, run.sent, run.acked, received,
            run.acked * options->subscribers - received, gaps, (double) received / seconds);
    s_print_latency (&run.latency);
    printf ("\n");
    if (run.writer_peer)
        bench_zmtp_destroy (&run.writer_peer);
    else
        zmq_close (run.writer_socket);
    zstore_writer_free (&run.writer);
    free (run.latency.values);
    free (run.value);
    free (run.items);
    free (run.subscribers);
}

//  --- Engine ---------------------------------------------------------------

//  The engine's own batched upsert rate: 100 sets per transaction on a
//  file. By default it does what the broker's engine does for the set
//  load: the same random keys (same generator and seed), the same value
//  size, history recorded with the broker's default limit; --key-order
//  sequential --history 0 gives the best case (few pages per commit).
static void
s_run_engine (const options_t *options)
{
    if (!options->db)
        s_die ("--mode engine needs --db FILE");
    char *error = NULL;
    zstore_engine_t *engine = zstore_engine_new (options->db, &error);
    if (!engine)
        s_die (error ? error : "cannot open the database");
    zstore_sync_t sync = strcmp (options->sync, "off") == 0      ? ZSTORE_SYNC_OFF
                       : strcmp (options->sync, "normal") == 0 ? ZSTORE_SYNC_NORMAL
                                                                : ZSTORE_SYNC_FULL;
    zstore_engine_set_synchronous (engine, sync);
    zstore_engine_set_history_limit (engine, options->history);
    bool sequential = strcmp (options->key_order, "sequential") == 0;
    char *value = malloc ((size_t) options->value_size + 1);
    memset (value, 'x', (size_t) options->value_size);
    unsigned random_state = 12345;  //  as s_load_new's
    int64_t start = s_now_ns ();
    for (int64_t done = 0; done < options->ops; done += 100) {
        zstore_engine_begin (engine);
        for (int64_t index = done; index < done + 100 && index < options->ops; index++) {
            char key [32];
            unsigned draw = (unsigned) rand_r (&random_state);
            rand_r (&random_state);     //  the load's get-or-set draw
            unsigned key_index = sequential ? (unsigned) (index % options->keys)
                                            : draw % (unsigned) options->keys;
            snprintf (key, sizeof key, "key:%010u", key_index);
            zstore_engine_set (engine, zstore_str (GROUP), zstore_str (key),
                               zstore_bytes (value, (size_t) options->value_size), NULL);
        }
        if (zstore_engine_commit (engine, NULL))
            s_die (zstore_engine_error (engine));
    }
    double seconds = (double) (s_now_ns () - start) / 1e9;
    printf ("mode engine sync %s batch 100 keys %s history %" PRId64 " ops %" PRId64
            " ops_per_sec %.0f\n", options->sync, options->key_order, options->history,
            options->ops, (double) options->ops / seconds);
    free (value);
    zstore_engine_destroy (&engine);
}

//  --- Echo server ------------------------------------------------------------

//  The transport's ceiling on this machine: a bare libzmq ROUTER, set up
//  like the broker's, that decodes each request and answers {id, status 0}
//  at once; no engine, no batching. Bound at --requests, it serves until
//  a signal ends the process. The same load against it and against the broker shows what
//  the broker itself costs.
static void
s_echo_answer (void *router, zmq_msg_t *frames, int count, zstore_reader_t *reader,
               zstore_writer_t *reply)
{
    //  Parsed as the broker parses: in place, with a kept reader.
    const char *error = NULL;
    const msgpack_object *root = zstore_reader_parse (reader, zmq_msg_data (&frames [count - 1]),
                                                      zmq_msg_size (&frames [count - 1]), &error);
    zstore_fields_t fields;
    zstore_fields_init (&fields, root);
    zstore_writer_reset (reply);
    zstore_reply_begin (reply, root ? zstore_fields_find (&fields, "id") : NULL,
                        ZSTORE_STATUS_OK, NULL, 0);
    for (int index = 0; index < count - 1; index++)
        zmq_send (router, zmq_msg_data (&frames [index]), zmq_msg_size (&frames [index]),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (router, reply->buffer.data, reply->buffer.size, ZMQ_DONTWAIT);
}

static void
s_run_echo_server (const options_t *options, void *context)
{
    void *router = zmq_socket (context, ZMQ_ROUTER);
    int on = 1, hwm = 10000;
    zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind (router, options->requests))
        s_die ("cannot bind --requests");
    char endpoint [256];
    size_t size = sizeof endpoint;
    zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    printf ("bench_broker: requests %s\nbench_broker: ready\n", endpoint);
    fflush (stdout);
    zstore_writer_t reply;
    zstore_writer_init (&reply);
    zstore_reader_t *reader = zstore_reader_new_reusable ();
    zmq_msg_t frames [3];
    for (int index = 0; index < 3; index++)
        zmq_msg_init (&frames [index]);
    bool serving = true;
    while (serving) {                   //  until a signal ends the process
        int count = 0, more = 1;
        while (more) {
            zmq_msg_t *frame = &frames [count < 3 ? count : 2];
            if (zmq_msg_recv (frame, router, 0) < 0) {
                serving = errno == EINTR;
                break;
            }
            more = zmq_msg_more (frame);
            count += count < 3;
        }
        if (!more && count >= 2)
            s_echo_answer (router, frames, count, reader, &reply);
    }
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    zstore_writer_free (&reply);
    zstore_reader_destroy (&reader);
    zmq_close (router);
}

//  --- Options ----------------------------------------------------------------

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: bench_broker --mode set|get|mix|purge|events|engine|echo-server [options]\n"
             "  --requests EP      broker request endpoint (all but engine)\n"
             "  --events EP        broker event endpoint (events)\n"
             "  --clients C        connections (default 50)\n"
             "  --inflight W       requests in flight per connection (default 1)\n"
             "  --ops N            operations measured (default 200000)\n"
             "  --keys K           distinct keys (default 100000)\n"
             "  --value-size V     bytes per value (default 64)\n"
             "  --rate R           events: sets per second (default 10000)\n"
             "  --subscribers S    events: subscribers (default 10)\n"
             "  --ttl MS           set: a TTL on every set (default none)\n"
             "  --db FILE          engine: database file\n"
             "  --sync MODE        engine: full|normal|off (default full)\n"
             "  --key-order ORDER  engine: random (as the set load) or sequential\n"
             "  --history N        engine: history/events limit (default 100000)\n"
             "  --wire WIRE        libzmq (a DEALER/SUB per client, the default) or zmtp\n"
             "                     (ZMTP 3.0 on plain sockets, one thread: a light client\n"
             "                     like redis-benchmark)\n");
    exit (2);
}

//  The options: each sets one field, text or number.
typedef struct {
    const char *name;
    size_t offset;                  //  of the field in options_t
    enum { TEXT, INT, INT64 } kind;
} option_t;

#define FIELD(name) offsetof (options_t, name)

static const option_t s_options [] = {
    { "--mode", FIELD (mode), TEXT },           { "--requests", FIELD (requests), TEXT },
    { "--events", FIELD (events), TEXT },       { "--db", FIELD (db), TEXT },
    { "--sync", FIELD (sync), TEXT },           { "--clients", FIELD (clients), INT },
    { "--inflight", FIELD (inflight), INT },    { "--ops", FIELD (ops), INT64 },
    { "--keys", FIELD (keys), INT64 },          { "--value-size", FIELD (value_size), INT },
    { "--rate", FIELD (rate), INT },            { "--subscribers", FIELD (subscribers), INT },
    { "--ttl", FIELD (ttl_ms), INT64 },         { "--key-order", FIELD (key_order), TEXT },
    { "--history", FIELD (history), INT64 },    { "--wire", FIELD (wire), TEXT },
};

static void
s_set_option (options_t *options, const char *name, const char *value)
{
    for (size_t index = 0; index < sizeof s_options / sizeof s_options [0]; index++) {
        const option_t *option = &s_options [index];
        if (strcmp (option->name, name) != 0)
            continue;
        char *field = (char *) options + option->offset;
        if (option->kind == TEXT)
            *(const char **) field = value;
        else
        if (option->kind == INT)
            *(int *) field = atoi (value);
        else
            *(int64_t *) field = atoll (value);
        return;
    }
    s_usage ();
}

static void
s_parse (options_t *options, int argc, char *argv [])
{
    *options = (options_t) { .mode = "set", .clients = 50, .inflight = 1, .ops = 200000,
                             .keys = 100000, .value_size = 64, .rate = 10000,
                             .subscribers = 10, .sync = "full", .ttl_ms = 0,
                             .key_order = "random", .history = 100000, .wire = "libzmq" };
    for (int index = 1; index < argc; index += 2) {
        if (index + 1 >= argc)
            s_usage ();
        s_set_option (options, argv [index], argv [index + 1]);
    }
    if (options->clients < 1 || options->clients > MAX_CLIENTS || options->inflight < 1
    ||  options->inflight >= (1 << SLOT_BITS) || options->ops < 1 || options->keys < 1
    ||  options->value_size < 0 || options->rate < 1 || options->subscribers < 1
    ||  (strcmp (options->wire, "libzmq") != 0 && strcmp (options->wire, "zmtp") != 0))
        s_usage ();
    options->zmtp = strcmp (options->wire, "zmtp") == 0;
}

static void
s_run_engine_mode (const options_t *options, void *context)
{
    (void) context;
    s_run_engine (options);
}

static const struct {
    const char *name;
    void (*run) (const options_t *options, void *context);
    bool needs_broker;
} s_modes [] = {
    { "set", s_run_requests, true },            { "get", s_run_requests, true },
    { "mix", s_run_requests, true },            { "purge", s_run_requests, true },
    { "events", s_run_events, true },           { "engine", s_run_engine_mode, false },
    { "echo-server", s_run_echo_server, true },
};

int
main (int argc, char *argv [])
{
    options_t options;
    s_parse (&options, argc, argv);
    for (size_t index = 0; index < sizeof s_modes / sizeof s_modes [0]; index++) {
        if (strcmp (s_modes [index].name, options.mode) != 0)
            continue;
        if (s_modes [index].needs_broker && !options.requests)
            s_usage ();
        void *context = s_modes [index].needs_broker ? zmq_ctx_new () : NULL;
        s_modes [index].run (&options, context);
        if (context)
            zmq_ctx_term (context);
        return 0;
    }
    s_usage ();
    return 2;
}
