/*  bench_zmtp - a minimal ZMTP 3.0 peer for the load generator.
    See bench_zmtp.h; the wire format is rfc.zeromq.org/spec/23.
*/

#include "bench_zmtp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GREETING_SIZE   64
#define FLAG_MORE       0x01
#define FLAG_LONG       0x02
#define FLAG_COMMAND    0x04

typedef struct {
    char *data;
    size_t start;                   //  first byte not yet consumed
    size_t end;                     //  one past the last byte held
    size_t capacity;
} bytes_t;

struct _bench_zmtp_t {
    int fd;
    bytes_t in;
    bytes_t out;
    size_t pings;                   //  answered
};

static void
s_die (const char *what, const char *endpoint)
{
    fprintf (stderr, "bench_zmtp: %s (%s): %s\n", what, endpoint, strerror (errno));
    exit (1);
}

static void
s_bytes_reserve (bytes_t *self, size_t more)
{
    if (self->end + more <= self->capacity)
        return;
    size_t capacity = self->capacity ? self->capacity : 65536;
    while (capacity < self->end + more)
        capacity *= 2;
    self->data = realloc (self->data, capacity);
    if (!self->data)
        abort ();
    self->capacity = capacity;
}

static void
s_bytes_append (bytes_t *self, const void *data, size_t size)
{
    s_bytes_reserve (self, size);
    memcpy (self->data + self->end, data, size);
    self->end += size;
}

//  Blocking reads of exactly size bytes (the handshake only).
static void
s_read_exactly (int fd, void *data, size_t size, const char *what)
{
    size_t done = 0;
    while (done < size) {
        ssize_t count = read (fd, (char *) data + done, size - done);
        if (count <= 0) {
            if (count == 0)
                errno = ECONNRESET;
            s_die (what, "handshake");
        }
        done += (size_t) count;
    }
}

static int
s_tcp_connect (const char *endpoint)
{
    if (strncmp (endpoint, "tcp://", 6) != 0)
        s_die ("only tcp:// endpoints", endpoint);
    char host [256];
    snprintf (host, sizeof host, "%s", endpoint + 6);
    char *colon = strrchr (host, ':');
    if (!colon)
        s_die ("no port", endpoint);
    *colon = 0;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    if (getaddrinfo (host, colon + 1, &hints, &found) || !found)
        s_die ("cannot resolve", endpoint);
    int fd = socket (found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect (fd, found->ai_addr, found->ai_addrlen))
        s_die ("cannot connect", endpoint);
    freeaddrinfo (found);
    int on = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
}

//  Frame header: flags, then a one-byte size or (LONG) an 8-byte one.
static void
s_queue_header (bytes_t *out, int flags, size_t size)
{
    uint8_t header [9];
    size_t header_size = 2;
    header [0] = (uint8_t) flags;
    if (size > 255) {
        header [0] |= FLAG_LONG;
        for (int index = 0; index < 8; index++)
            header [1 + index] = (uint8_t) ((uint64_t) size >> (56 - 8 * index));
        header_size = 9;
    }
    else
        header [1] = (uint8_t) size;
    s_bytes_append (out, header, header_size);
}

static void
s_queue_ready (bench_zmtp_t *self, const char *socket_type)
{
    uint8_t body [64];
    size_t size = 0;
    memcpy (body, "\x05READY\x0bSocket-Type", 18);
    size = 18;
    size_t type_size = strlen (socket_type);
    uint8_t length [4] = { 0, 0, 0, (uint8_t) type_size };
    memcpy (body + size, length, 4);
    memcpy (body + size + 4, socket_type, type_size);
    size += 4 + type_size;
    s_queue_header (&self->out, FLAG_COMMAND, size);
    s_bytes_append (&self->out, body, size);
}

//  Greeting both ways (version 3.0, NULL, as client), then READY both ways.
static void
s_handshake (bench_zmtp_t *self, const char *socket_type)
{
    uint8_t greeting [GREETING_SIZE] = { 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0 };
    memcpy (greeting + 12, "NULL", 4);
    s_bytes_append (&self->out, greeting, sizeof greeting);
    s_queue_ready (self, socket_type);
    bench_zmtp_flush (self);
    uint8_t theirs [GREETING_SIZE];
    s_read_exactly (self->fd, theirs, sizeof theirs, "greeting");
    if (theirs [0] != 0xFF || theirs [9] != 0x7F || theirs [10] < 3
    ||  memcmp (theirs + 12, "NULL", 5) != 0) {
        errno = EPROTO;
        s_die ("not a ZMTP 3 NULL peer", "greeting");
    }
    uint8_t header [2];
    s_read_exactly (self->fd, header, 2, "ready");
    uint8_t body [256];
    if (header [0] != FLAG_COMMAND)
        s_die ("expected a short READY command", "ready");
    s_read_exactly (self->fd, body, header [1], "ready");
    if (header [1] < 6 || memcmp (body, "\x05READY", 6) != 0) {
        errno = EPROTO;
        s_die ("the peer refused the handshake", "ready");
    }
}

bench_zmtp_t *
bench_zmtp_connect (const char *endpoint, const char *socket_type)
{
    bench_zmtp_t *self = calloc (1, sizeof (bench_zmtp_t));
    if (!self)
        abort ();
    self->fd = s_tcp_connect (endpoint);
    s_handshake (self, socket_type);
    return self;
}

void
bench_zmtp_destroy (bench_zmtp_t **self_p)
{
    bench_zmtp_t *self = *self_p;
    if (!self)
        return;
    close (self->fd);
    free (self->in.data);
    free (self->out.data);
    free (self);
    *self_p = NULL;
}

int
bench_zmtp_fd (bench_zmtp_t *self)
{
    return self->fd;
}

void
bench_zmtp_queue (bench_zmtp_t *self, const void *data, size_t size, bool more)
{
    s_queue_header (&self->out, more ? FLAG_MORE : 0, size);
    s_bytes_append (&self->out, data, size);
}

//  The socket stays blocking for the handshake; afterwards every call
//  passes MSG_DONTWAIT and a full socket is waited for with poll.
void
bench_zmtp_flush (bench_zmtp_t *self)
{
    bytes_t *out = &self->out;
    while (out->start < out->end) {
        ssize_t count = send (self->fd, out->data + out->start, out->end - out->start,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
        if (count > 0) {
            out->start += (size_t) count;
            continue;
        }
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd item = { .fd = self->fd, .events = POLLOUT };
            poll (&item, 1, -1);
            continue;
        }
        s_die ("send failed", "flush");
    }
    out->start = out->end = 0;
}

void
bench_zmtp_subscribe (bench_zmtp_t *self, const void *prefix, size_t size, bool on)
{
    s_queue_header (&self->out, 0, size + 1);
    uint8_t command = on ? 1 : 0;
    s_bytes_append (&self->out, &command, 1);
    s_bytes_append (&self->out, prefix, size);
}

bool
bench_zmtp_fill (bench_zmtp_t *self)
{
    bytes_t *in = &self->in;
    if (in->start == in->end)
        in->start = in->end = 0;
    else
    if (in->start > in->capacity / 2) {     //  keep the unread tail at the front
        memmove (in->data, in->data + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    while (true) {
        s_bytes_reserve (in, 16384);
        ssize_t count = recv (self->fd, in->data + in->end, in->capacity - in->end,
                              MSG_DONTWAIT);
        if (count > 0) {
            in->end += (size_t) count;
            if (in->end < in->capacity)
                return true;            //  a short read: the socket is empty
            continue;
        }
        if (count < 0 && errno == EINTR)
            continue;
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

//  A PING (%x04 "PING", TTL, context) is answered with PONG and its context.
static void
s_handle_command (bench_zmtp_t *self, const char *body, size_t size)
{
    if (size >= 7 && memcmp (body, "\x04PING", 5) == 0) {
        size_t context_size = size - 7;
        s_queue_header (&self->out, FLAG_COMMAND, 5 + context_size);
        s_bytes_append (&self->out, "\x04PONG", 5);
        s_bytes_append (&self->out, body + 7, context_size);
        self->pings++;
    }
}

bool
bench_zmtp_next (bench_zmtp_t *self, bench_zmtp_frame_t *frame)
{
    bytes_t *in = &self->in;
    while (true) {
        size_t held = in->end - in->start;
        const uint8_t *header = (const uint8_t *) in->data + in->start;
        if (held < 2)
            return false;
        size_t header_size = (header [0] & FLAG_LONG) ? 9 : 2;
        if (held < header_size)
            return false;
        uint64_t size = header [1];
        if (header [0] & FLAG_LONG) {
            size = 0;
            for (int index = 0; index < 8; index++)
                size = (size << 8) | header [1 + index];
        }
        if (held - header_size < size)
            return false;
        const char *body = in->data + in->start + header_size;
        in->start += header_size + (size_t) size;
        if (header [0] & FLAG_COMMAND) {
            s_handle_command (self, body, (size_t) size);
            continue;
        }
        *frame = (bench_zmtp_frame_t) { body, (size_t) size, (header [0] & FLAG_MORE) != 0 };
        return true;
    }
}

size_t
bench_zmtp_pings (bench_zmtp_t *self)
{
    return self->pings;
}
