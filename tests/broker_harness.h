/*  broker_harness - runs the real zstore-broker binary for tests: on a fresh
    database, on ephemeral loopback ports (or given endpoints, to restart on
    the same ones), learning the bound endpoints from its stdout; plus
    request helpers over a DEALER socket. No sleeps: every wait is a poll
    with a deadline.
*/

#ifndef BROKER_HARNESS_H_INCLUDED
#define BROKER_HARNESS_H_INCLUDED

#include <czmq.h>
#include <sys/types.h>

#include "testkit.h"
#include "zstore_proto.h"

typedef struct {
    pid_t pid;
    int output;                     //  the broker's stdout (a pipe)
    char requests [256];            //  bound endpoints
    char events [256];
    uint64_t epoch;
    uint64_t revision;              //  at start
} broker_t;

//  Starts zstore-broker with --db db_path and the config text (ZPL, may be
//  NULL) in a file beside the database. requests/events NULL: ephemeral.
broker_t *
    broker_start (const char *db_path, const char *config_text, const char *requests,
                  const char *events);

//  Two free loopback endpoints for a broker that will be restarted on the
//  same ones: random free ports below the kernel's ephemeral range (32768
//  and up), so that no outgoing connection can take them between a kill
//  and the restart, as it could take an ephemeral one (even a client's own
//  reconnecting socket: TCP connects to itself when the local port it
//  picks is the one it dials).
void
    broker_restartable_endpoints (char *requests, char *events, size_t size);

//  Sends signal (SIGTERM, SIGKILL...) and waits; returns the exit status
//  (waitpid's), and frees the broker.
int
    broker_stop (broker_t **self_p, int signal);

//  A DEALER connected to the broker's request endpoint.
zsock_t *
    broker_dealer (broker_t *self);

//  A SUB connected to the events endpoint, subscribed to prefix (may hold
//  NUL bytes), and known live: it has done the sync-token handshake.
zsock_t *
    broker_subscriber (broker_t *self, const void *prefix, size_t prefix_size);

//  Subscribes sub to one more prefix and waits until it is live.
void
    broker_subscribe (zsock_t *sub, const void *prefix, size_t prefix_size);

//  Sends the writer's bytes on a DEALER and waits (timeout ms) for one
//  reply; NULL on timeout. The caller destroys the reader.
zstore_reader_t *
    broker_call (zsock_t *dealer, zstore_writer_t *request, int timeout_ms);

//  Waits (timeout ms) for the next reply on a DEALER; NULL on timeout.
zstore_reader_t *
    broker_reply (zsock_t *dealer, int timeout_ms);

//  Sends raw bytes as one frame (for malformed input).
zstore_reader_t *
    broker_call_raw (zsock_t *dealer, const void *data, size_t size, int timeout_ms);

//  Reply field access (fail the test if absent/mistyped).
uint64_t
    reply_uint (zstore_reader_t *reply, const char *field);
int
    reply_status (zstore_reader_t *reply);
//  The bytes of a field (bin or str); NULL if absent.
const char *
    reply_bytes (zstore_reader_t *reply, const char *field, size_t *size);
const msgpack_object_array *
    reply_array (zstore_reader_t *reply, const char *field);

//  Receives one event or control message within timeout ms: the topic into
//  topic (reset first) and the parsed body. NULL on timeout.
zstore_reader_t *
    broker_receive (zsock_t *sub, zstore_buffer_t *topic, int timeout_ms);

#endif
