#define _GNU_SOURCE
#include "broker_harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_TIMEOUT_MS 20000

//  Reads the broker's stdout until "ready", noting endpoints and epoch.
static bool
s_read_banner (broker_t *self)
{
    char buffer [4096];
    size_t used = 0;
    int64_t deadline = zclock_mono () + START_TIMEOUT_MS;
    while (zclock_mono () < deadline) {
        struct pollfd item = { self->output, POLLIN, 0 };
        if (poll (&item, 1, 200) <= 0)
            continue;
        ssize_t got = read (self->output, buffer + used, sizeof buffer - used - 1);
        if (got <= 0)
            return false;
        used += (size_t) got;
        buffer [used] = 0;
        char *line;
        while ((line = strchr (buffer, '\n'))) {
            *line = 0;
            unsigned long long number;
            sscanf (buffer, "zstore-broker: requests %255s", self->requests);
            sscanf (buffer, "zstore-broker: events %255s", self->events);
            if (sscanf (buffer, "zstore-broker: epoch %llu", &number) == 1)
                self->epoch = number;
            if (sscanf (buffer, "zstore-broker: database %*s (revision %llu)", &number) == 1)
                self->revision = number;
            bool ready = strcmp (buffer, "zstore-broker: ready") == 0;
            used -= (size_t) (line + 1 - buffer);
            memmove (buffer, line + 1, used + 1);
            if (ready)
                return true;
        }
    }
    return false;
}

broker_t *
broker_start (const char *db_path, const char *config_text, const char *requests,
              const char *events)
{
    char *config_path = NULL;
    if (config_text) {
        assert_true (asprintf (&config_path, "%s.cfg", db_path) > 0);
        FILE *file = fopen (config_path, "w");
        assert_non_null (file);
        fputs (config_text, file);
        fclose (file);
    }
    int pipe_fds [2];
    assert_int_equal (pipe (pipe_fds), 0);
    broker_t *self = calloc (1, sizeof (broker_t));
    self->pid = fork ();
    assert_true (self->pid >= 0);
    if (self->pid == 0) {
        dup2 (pipe_fds [1], STDOUT_FILENO);
        close (pipe_fds [0]);
        close (pipe_fds [1]);
        char *argv [16];
        int argc = 0;
        argv [argc++] = (char *) ZSTORE_BROKER_PATH;
        argv [argc++] = "--db";
        argv [argc++] = (char *) db_path;
        argv [argc++] = "--requests";
        argv [argc++] = (char *) (requests ? requests : "tcp://127.0.0.1:*");
        argv [argc++] = "--events";
        argv [argc++] = (char *) (events ? events : "tcp://127.0.0.1:*");
        if (config_path) {
            argv [argc++] = "--config";
            argv [argc++] = config_path;
        }
        argv [argc] = NULL;
        execv (ZSTORE_BROKER_PATH, argv);
        _exit (127);
    }
    close (pipe_fds [1]);
    free (config_path);
    self->output = pipe_fds [0];
    if (!s_read_banner (self)) {
        broker_stop (&self, SIGKILL);
        fail_msg ("zstore-broker did not start");
    }
    return self;
}

int
broker_stop (broker_t **self_p, int signal)
{
    broker_t *self = *self_p;
    int status = -1;
    if (!self)
        return status;
    kill (self->pid, signal);
    waitpid (self->pid, &status, 0);
    close (self->output);
    free (self);
    *self_p = NULL;
    return status;
}

zsock_t *
broker_dealer (broker_t *self)
{
    zsock_t *dealer = zsock_new_dealer (self->requests);
    assert_non_null (dealer);
    return dealer;
}

void
broker_subscribe (zsock_t *sub, const void *prefix, size_t prefix_size)
{
    void *handle = zsock_resolve (sub);
    assert_int_equal (zmq_setsockopt (handle, ZMQ_SUBSCRIBE, prefix, prefix_size), 0);
    //  The handshake: a unique token topic, answered by a marker once all
    //  earlier subscriptions of this socket are live (PROTOCOL.md 4.1).
    char token [64];
    int size = snprintf (token, sizeof token, "s%d-%llu", (int) getpid (),
                         (unsigned long long) zclock_usecs ());
    assert_int_equal (zmq_setsockopt (handle, ZMQ_SUBSCRIBE, token, (size_t) size), 0);
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    bool marked = false;
    int64_t deadline = zclock_mono () + 10000;
    while (!marked && zclock_mono () < deadline) {
        zstore_reader_t *body = broker_receive (sub, &topic, 1000);
        marked = body && topic.size == (size_t) size && memcmp (topic.data, token, size) == 0;
        zstore_reader_destroy (&body);
    }
    zstore_buffer_free (&topic);
    assert_true (marked);
    zmq_setsockopt (handle, ZMQ_UNSUBSCRIBE, token, (size_t) size);
}

zsock_t *
broker_subscriber (broker_t *self, const void *prefix, size_t prefix_size)
{
    zsock_t *sub = zsock_new_sub (self->events, NULL);
    assert_non_null (sub);
    broker_subscribe (sub, prefix, prefix_size);
    return sub;
}

zstore_reader_t *
broker_reply (zsock_t *dealer, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    zsock_t *ready = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (!ready)
        return NULL;
    zframe_t *frame = zframe_recv (dealer);
    if (!frame)
        return NULL;
    char *error = NULL;
    zstore_reader_t *reply = zstore_reader_new (zframe_data (frame), zframe_size (frame), &error);
    if (!reply)
        fail_msg ("reply is not a msgpack map: %s", error);
    zframe_destroy (&frame);
    return reply;
}

zstore_reader_t *
broker_call_raw (zsock_t *dealer, const void *data, size_t size, int timeout_ms)
{
    zframe_t *frame = zframe_new (data, size);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    return broker_reply (dealer, timeout_ms);
}

zstore_reader_t *
broker_call (zsock_t *dealer, zstore_writer_t *request, int timeout_ms)
{
    return broker_call_raw (dealer, request->buffer.data, request->buffer.size, timeout_ms);
}

static const msgpack_object *
s_field (zstore_reader_t *reply, const char *field)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    return zstore_fields_find (&fields, field);
}

uint64_t
reply_uint (zstore_reader_t *reply, const char *field)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    uint64_t value = 0;
    if (!zstore_fields_uint (&fields, field, &value))
        fail_msg ("reply: %s", fields.error);
    return value;
}

int
reply_status (zstore_reader_t *reply)
{
    assert_non_null (reply);
    return (int) reply_uint (reply, "status");
}

const char *
reply_bytes (zstore_reader_t *reply, const char *field, size_t *size)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, zstore_reader_root (reply));
    const char *data = NULL;
    bool present = false;
    if (!zstore_fields_opt_bytes (&fields, field, &data, size, &present) || !present)
        return NULL;
    return data;
}

const msgpack_object_array *
reply_array (zstore_reader_t *reply, const char *field)
{
    const msgpack_object *object = s_field (reply, field);
    if (!object || object->type != MSGPACK_OBJECT_ARRAY)
        fail_msg ("reply: field '%s' is not an array", field);
    return &object->via.array;
}

zstore_reader_t *
broker_receive (zsock_t *sub, zstore_buffer_t *topic, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sub, NULL);
    zsock_t *ready = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (!ready)
        return NULL;
    zmsg_t *message = zmsg_recv (sub);
    assert_non_null (message);
    assert_int_equal (zmsg_size (message), 2);
    zframe_t *topic_frame = zmsg_first (message);
    zframe_t *body = zmsg_next (message);
    zstore_buffer_reset (topic);
    zstore_buffer_append (topic, zframe_data (topic_frame), zframe_size (topic_frame));
    char *error = NULL;
    zstore_reader_t *reader = zstore_reader_new (zframe_data (body), zframe_size (body), &error);
    if (!reader)
        fail_msg ("event body: %s", error);
    zmsg_destroy (&message);
    return reader;
}

void
broker_restartable_endpoints (char *requests, char *events, size_t size)
{
    //  A range of its own per process (by pid): test processes run side by
    //  side, and one picking its ports while another's broker is down could
    //  take that broker's port (seen once in CI: "Address already in use").
    int base = 20000 + (int) (getpid () % 12) * 1000;
    char range [64];
    snprintf (range, sizeof range, "tcp://127.0.0.1:![%d-%d]", base, base + 999);
    zsock_t *probes [2] = { zsock_new (ZMQ_PULL), zsock_new (ZMQ_PULL) };
    int ports [2];
    for (size_t index = 0; index < 2; index++) {
        ports [index] = zsock_bind (probes [index], "%s", range);
        assert_true (ports [index] > 0);
    }
    zsock_destroy (&probes [0]);
    zsock_destroy (&probes [1]);
    snprintf (requests, size, "tcp://127.0.0.1:%d", ports [0]);
    snprintf (events, size, "tcp://127.0.0.1:%d", ports [1]);
}
