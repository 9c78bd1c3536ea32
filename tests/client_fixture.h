/*  client_fixture - what the libzstore tests share: a temporary directory,
    a real broker on it (on ephemeral ports, or on ports it can be
    restarted on), a client of it, and a crash-restart.
*/

#ifndef CLIENT_FIXTURE_H_INCLUDED
#define CLIENT_FIXTURE_H_INCLUDED

#include "broker_harness.h"
#include "zstore_client.h"

typedef struct {
    char *dir;
    char *db_path;
    char *config;                   //  the broker's ZPL text, kept for restarts
    broker_t *broker;
    zstore_client_t *client;
} client_fixture_t;

//  cmocka setup/teardown: *state is a client_fixture_t with no broker yet.
int
    client_fixture_setup (void **state);
int
    client_fixture_teardown (void **state);

//  A new client of the fixture's broker, in namespace ns (NULL: none).
zstore_client_t *
    client_fixture_client (client_fixture_t *self, const char *ns);

//  Starts the broker with config (may be NULL) and fixture->client: on
//  ephemeral ports, or on endpoints it can be restarted on.
void
    client_fixture_start (client_fixture_t *self, const char *config);
void
    client_fixture_start_restartable (client_fixture_t *self, const char *config);

//  SIGKILL, then the broker again on the same endpoints and database (a
//  new epoch); fixture->client is replaced (replies in flight died).
void
    client_fixture_crash_restart (client_fixture_t *self);

//  Fails the test unless code is ZSTORE_OK, with the client's message.
void
    client_fixture_ok (zstore_client_t *client, int code);

//  A set that must succeed; returns its revision.
uint64_t
    client_fixture_set (zstore_client_t *client, const char *group, const char *key,
                        const char *value);

//  Pipelined: sends a set without waiting; collects one reply (any) that
//  must be ok, returning its revision.
void
    client_fixture_send_set (zstore_client_t *client, const char *group, const char *key,
                             const char *value, size_t value_size);
uint64_t
    client_fixture_collect (zstore_client_t *client);

#endif
