/*
 * loadgen: closed-loop JSON-RPC load over ZeroMQ for the ping benchmark.
 * Each client is a thread with its own REQ socket that sends the payload,
 * waits for the reply and records the round trip (CLOCK_MONOTONIC).
 *
 * Usage: loadgen [-c CLIENTS] [-d SECONDS] [-n REQUESTS] [-t TIMEOUT_MS]
 *                [-p PAYLOAD] ENDPOINT
 *   -c clients (default 1); -d measured seconds (default 5); -n requests per
 *   client (default: no limit; the run stops at whichever limit comes first);
 *   -t per-request timeout (default 2000 ms); -p request (default a ping).
 * Prints one JSON line: clients, requests, errors, seconds, throughput_rps,
 * p50_us, p99_us. A timeout or an error reply counts as an error.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

typedef struct client {
    pthread_t thread;
    uint64_t *samples;    /* round trips in ns */
    size_t count, cap;
    long errors;
} client;

static void *ctx;
static const char *endpoint;
static const char *payload = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"meetingd.ping\"}";
static long max_requests = -1;
static int timeout_ms = 2000;
static double seconds = 5;
static pthread_barrier_t ready;   /* all clients connected and warmed up */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *open_socket(void)
{
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_connect(s, endpoint);
    return s;
}

/* One round trip; 0 on a good reply. After a timeout the REQ socket is stuck
 * waiting, so the caller replaces it (the Lazy Pirate pattern). */
static int round_trip(void *s)
{
    char reply[4096];
    if (zmq_send(s, payload, strlen(payload), 0) < 0) return -1;
    int n = zmq_recv(s, reply, sizeof reply - 1, 0);
    if (n < 0) return -1;
    reply[n < (int)sizeof reply - 1 ? n : (int)sizeof reply - 1] = '\0';
    return strstr(reply, "\"error\"") ? 1 : 0;
}

static void *run_client(void *arg)
{
    client *c = arg;
    void *s = open_socket();
    /* One unmeasured request so connection set-up is not in the figures. */
    if (round_trip(s) < 0) {
        zmq_close(s);
        s = open_socket();
    }
    pthread_barrier_wait(&ready);
    uint64_t stop = now_ns() + (uint64_t)(seconds * 1e9);
    for (long i = 0; i != max_requests; i++) {
        uint64_t t0 = now_ns();
        if (t0 >= stop) break;
        int r = round_trip(s);
        if (r < 0) {
            zmq_close(s);
            s = open_socket();
        }
        if (r != 0) {
            c->errors++;
            continue;
        }
        if (c->count == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4096;
            c->samples = realloc(c->samples, c->cap * sizeof *c->samples);
            if (!c->samples) abort();
        }
        c->samples[c->count++] = now_ns() - t0;
    }
    zmq_close(s);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int clients = 1, opt;
    while ((opt = getopt(argc, argv, "c:d:n:t:p:")) != -1) {
        switch (opt) {
        case 'c': clients = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'n': max_requests = atol(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'p': payload = optarg; break;
        default: goto usage;
        }
    }
    if (optind != argc - 1 || clients < 1 || seconds <= 0 || timeout_ms < 1) goto usage;
    endpoint = argv[optind];

    ctx = zmq_ctx_new();
    client *cs = calloc((size_t)clients, sizeof *cs);
    pthread_barrier_init(&ready, NULL, (unsigned)clients + 1);
    for (int i = 0; i < clients; i++)
        pthread_create(&cs[i].thread, NULL, run_client, &cs[i]);
    pthread_barrier_wait(&ready);
    uint64_t start = now_ns();

    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(cs[i].thread, NULL);
        total += cs[i].count;
        errors += cs[i].errors;
    }
    double elapsed = (double)(now_ns() - start) / 1e9;

    uint64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t at = 0;
    for (int i = 0; i < clients; at += cs[i].count, i++)
        memcpy(all + at, cs[i].samples, cs[i].count * sizeof *all);
    qsort(all, total, sizeof *all, by_value);
    double p50 = total ? (double)all[total / 2] / 1e3 : 0;
    double p99 = total ? (double)all[total * 99 / 100] / 1e3 : 0;
    printf("{\"clients\":%d,\"requests\":%zu,\"errors\":%ld,\"seconds\":%.3f,"
           "\"throughput_rps\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
           clients, total, errors, elapsed, (double)total / elapsed, p50, p99);
    zmq_ctx_term(ctx);
    return 0;

usage:
    fprintf(stderr, "usage: %s [-c CLIENTS] [-d SECONDS] [-n REQUESTS] [-t TIMEOUT_MS] "
                    "[-p PAYLOAD] ENDPOINT\n", argv[0]);
    return 2;
}
