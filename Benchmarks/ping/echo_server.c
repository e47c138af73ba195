/*
 * echo_server: the bare-libzmq baseline for the ping benchmark. A REP socket
 * answers every request with a fixed reply the size of meetingd's ping reply,
 * so the comparison measures meetingd's overhead, not message sizes.
 *
 * Usage: echo_server ENDPOINT      (e.g. tcp://127.0.0.1:5599)
 * Stops on SIGINT or SIGTERM.
 */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static const char reply[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"pong\"}";

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s ENDPOINT\n", argv[0]);
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *rep = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(rep, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(rep, argv[1]) != 0) {
        fprintf(stderr, "echo_server: bind %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
        return 1;
    }
    char request[65536];
    /* A signal interrupts zmq_recv with EINTR, which ends the loop. */
    while (zmq_recv(rep, request, sizeof request, 0) >= 0
           && zmq_send(rep, reply, strlen(reply), 0) >= 0) {}
    zmq_close(rep);
    zmq_ctx_term(ctx);
    return 0;
}
