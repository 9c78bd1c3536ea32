/*  bench_zmtp - a minimal ZMTP 3.0 peer for the load generator.

    A DEALER or SUB speaking ZMTP 3.0 (rfc.zeromq.org/spec/23, NULL
    mechanism) straight over one non-blocking TCP socket, without libzmq.
    It exists so the load generator can be as light as redis-benchmark is
    beside Redis: no I/O thread, no mailbox, one read for every reply or
    event waiting. It also shows that the protocol in proto/ is reachable
    from a bare socket. It is not a client library: blocking connect and
    handshake, writes that wait for room, only what the bench needs.

        bench_zmtp_t *peer = bench_zmtp_connect ("tcp://127.0.0.1:5555", "DEALER");
        bench_zmtp_queue (peer, body, size, false);
        bench_zmtp_flush (peer);
        bench_zmtp_fill (peer);                 //  when epoll says readable
        while (bench_zmtp_next (peer, &frame))  //  each message frame read
            ...
*/

#ifndef BENCH_ZMTP_H_INCLUDED
#define BENCH_ZMTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _bench_zmtp_t bench_zmtp_t;

typedef struct {
    const char *data;               //  valid until the next fill
    size_t size;
    bool more;                      //  another frame of the message follows
} bench_zmtp_frame_t;

//  Connects to a tcp:// endpoint and completes the handshake as
//  socket_type ("DEALER", "SUB"); dies with a message on failure.
bench_zmtp_t *
    bench_zmtp_connect (const char *endpoint, const char *socket_type);
void
    bench_zmtp_destroy (bench_zmtp_t **self_p);
int
    bench_zmtp_fd (bench_zmtp_t *self);

//  Appends one frame to the output; nothing is written until flush.
void
    bench_zmtp_queue (bench_zmtp_t *self, const void *data, size_t size, bool more);
//  Writes everything queued, waiting for room if the socket is full.
void
    bench_zmtp_flush (bench_zmtp_t *self);
//  SUB: asks for (or drops) a topic prefix; ZMTP 3.0 sends it as a message.
void
    bench_zmtp_subscribe (bench_zmtp_t *self, const void *prefix, size_t size, bool on);

//  Reads what the socket holds without blocking; false once the peer closed.
bool
    bench_zmtp_fill (bench_zmtp_t *self);
//  The next message frame read, if a whole one is buffered. Commands are
//  handled here (a PING queues its PONG, flushed by the next flush).
bool
    bench_zmtp_next (bench_zmtp_t *self, bench_zmtp_frame_t *frame);
//  PINGs answered so far.
size_t
    bench_zmtp_pings (bench_zmtp_t *self);

#endif
