/*  zstore-broker: serves one zstore database over ZeroMQ.

    With no arguments it runs on the embedded default (./zstore.db,
    tcp://127.0.0.1:5670 for requests, :5671 for events) and prints what it
    bound. SIGINT or SIGTERM stop it in order: the loop ends, the engine
    closes (checkpointing its WAL), the sockets close.
*/

#include "zstore_broker.h"

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_logident ("zstore-broker");
    zstore_config_t *config = zstore_config_new ();
    char *error = NULL;
    int parsed = config ? zstore_config_parse_args (config, argc, argv, &error) : -1;
    if (parsed != 0) {
        if (parsed < 0)
            fprintf (stderr, "zstore-broker: %s\n", error ? error : "out of memory");
        free (error);
        zstore_config_destroy (&config);
        return parsed < 0 ? 2 : 0;
    }
    zstore_broker_t *broker = zstore_broker_new (config, &error);
    if (!broker) {
        fprintf (stderr, "zstore-broker: %s\n", error ? error : "cannot start");
        free (error);
        zstore_config_destroy (&config);
        return 1;
    }
    int rc = zstore_broker_run (broker);
    zstore_broker_destroy (&broker);
    zstore_config_destroy (&config);
    printf ("zstore-broker: stopped\n");
    return rc ? 1 : 0;
}
