//  client_fixture - see client_fixture.h.

#include "client_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT 5000                //  ms for a pipelined reply

int
client_fixture_setup (void **state)
{
    client_fixture_t *self = calloc (1, sizeof (client_fixture_t));
    assert_non_null (self);
    self->dir = testkit_tempdir ();
    self->db_path = testkit_path (self->dir, "broker.db");
    *state = self;
    return 0;
}

int
client_fixture_teardown (void **state)
{
    client_fixture_t *self = *state;
    zstore_client_destroy (&self->client);
    if (self->broker)
        broker_stop (&self->broker, SIGTERM);
    testkit_tempdir_remove (&self->dir);
    free (self->db_path);
    free (self->config);
    free (self);
    return 0;
}

zstore_client_t *
client_fixture_client (client_fixture_t *self, const char *ns)
{
    zstore_client_t *client = zstore_client_new (self->broker->requests, self->broker->events);
    assert_non_null (client);
    if (ns)
        assert_int_equal (zstore_client_set_namespace (client, ns), ZSTORE_OK);
    return client;
}

static void
s_start (client_fixture_t *self, const char *config, const char *requests, const char *events)
{
    self->config = config ? strdup (config) : NULL;
    self->broker = broker_start (self->db_path, config, requests, events);
    self->client = client_fixture_client (self, NULL);
}

void
client_fixture_start (client_fixture_t *self, const char *config)
{
    s_start (self, config, NULL, NULL);
}

void
client_fixture_start_restartable (client_fixture_t *self, const char *config)
{
    char requests [64], events [64];
    broker_restartable_endpoints (requests, events, sizeof requests);
    s_start (self, config, requests, events);
}

void
client_fixture_crash_restart (client_fixture_t *self)
{
    char requests [256], events [256];
    snprintf (requests, sizeof requests, "%s", self->broker->requests);
    snprintf (events, sizeof events, "%s", self->broker->events);
    uint64_t epoch = self->broker->epoch;
    broker_stop (&self->broker, SIGKILL);
    zstore_client_destroy (&self->client);
    self->broker = broker_start (self->db_path, self->config, requests, events);
    assert_int_not_equal (self->broker->epoch, epoch);
    self->client = client_fixture_client (self, NULL);
}

void
client_fixture_ok (zstore_client_t *client, int code)
{
    if (code != ZSTORE_OK)
        fail_msg ("%s (%d): %s", zstore_code_name (code), code, zstore_client_error (client));
}

uint64_t
client_fixture_set (zstore_client_t *client, const char *group, const char *key,
                    const char *value)
{
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_set (client, group, key, value, strlen (value),
                                                  NULL, &rev));
    assert_true (rev > 0);
    return rev;
}

void
client_fixture_send_set (zstore_client_t *client, const char *group, const char *key,
                         const char *value, size_t value_size)
{
    zstore_request_t *request = zstore_request_new ("set");
    zstore_request_add_str (request, "group", group);
    zstore_request_add_str (request, "key", key);
    zstore_request_add_bytes (request, "value", value, value_size);
    assert_true (zstore_client_send (client, request) > 0);
    zstore_request_destroy (&request);
}

uint64_t
client_fixture_collect (zstore_client_t *client)
{
    zstore_reply_t *reply = zstore_client_recv (client, 0, TIMEOUT);
    if (!reply)
        fail_msg ("pipelined write: %s", zstore_client_error (client));
    assert_int_equal (zstore_reply_status (reply), ZSTORE_OK);
    uint64_t rev = 0;
    assert_true (zstore_reply_uint (reply, "rev", &rev));
    zstore_reply_destroy (&reply);
    return rev;
}
