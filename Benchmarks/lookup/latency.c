/*
 * latency: closed-loop round trips over one ZeroMQ REQ socket, cycling through
 * requests read from a file, so that every method measured (and the
 * meetingd.ping baseline) shares the same moments, connection and load.
 *
 * Usage: latency [-d SECONDS] [-t TIMEOUT_MS] REQUESTS_FILE ENDPOINT
 *   REQUESTS_FILE: one request a line, "TAG<TAB>JSON"; lines are sent in turn.
 * Prints one JSON line per tag: tag, requests, errors, p50_us, p90_us, p99_us,
 * mean_us. A timeout or a reply holding "error" counts as an error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_REQUESTS 100000
#define MAX_TAGS 16

typedef struct { char *tag; char *json; int tag_index; } request;
typedef struct { char *name; uint64_t *samples; size_t count, cap; long errors; } tag_figures;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void *open_socket(void *ctx, const char *endpoint, int timeout_ms)
{
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_connect(s, endpoint);
    return s;
}

/* 0 on a good reply, 1 on an error reply, -1 when the socket must be replaced.
 * Only the head of the reply is kept: an error object comes first in it. */
static int round_trip(void *s, const char *json)
{
    char head[512];
    if (zmq_send(s, json, strlen(json), 0) < 0) return -1;
    int n = zmq_recv(s, head, sizeof head - 1, 0);
    if (n < 0) return -1;
    head[n < (int)sizeof head - 1 ? n : (int)sizeof head - 1] = '\0';
    return strstr(head, "\"error\"") ? 1 : 0;
}

int main(int argc, char **argv)
{
    double seconds = 5;
    int timeout_ms = 2000, opt;
    while ((opt = getopt(argc, argv, "d:t:")) != -1) {
        if (opt == 'd') seconds = atof(optarg);
        else if (opt == 't') timeout_ms = atoi(optarg);
        else goto usage;
    }
    if (optind != argc - 2) goto usage;

    FILE *file = fopen(argv[optind], "r");
    if (!file) { perror(argv[optind]); return 1; }
    static request requests[MAX_REQUESTS];
    static tag_figures tags[MAX_TAGS];
    size_t count = 0, tag_count = 0, length = 0;
    char *line = NULL;
    while (getline(&line, &length, file) > 0 && count < MAX_REQUESTS) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        char *json = tab + 1;
        json[strcspn(json, "\n")] = '\0';
        size_t t = 0;
        while (t < tag_count && strcmp(tags[t].name, line) != 0) t++;
        if (t == tag_count) {
            if (tag_count == MAX_TAGS) { fprintf(stderr, "too many tags\n"); return 1; }
            tags[tag_count++].name = strdup(line);
        }
        requests[count++] = (request){ tags[t].name, strdup(json), (int)t };
    }
    fclose(file);
    free(line);
    if (count == 0) { fprintf(stderr, "no requests in %s\n", argv[optind]); return 1; }

    void *ctx = zmq_ctx_new();
    void *s = open_socket(ctx, argv[optind + 1], timeout_ms);
    /* One unmeasured pass, so connection set-up and cold pages are not in the figures. */
    for (size_t i = 0; i < count; i++) {
        if (round_trip(s, requests[i].json) < 0) { zmq_close(s); s = open_socket(ctx, argv[optind + 1], timeout_ms); }
    }
    uint64_t stop = now_ns() + (uint64_t)(seconds * 1e9);
    for (size_t i = 0; now_ns() < stop; i = (i + 1) % count) {
        tag_figures *tag = &tags[requests[i].tag_index];
        uint64_t t0 = now_ns();
        int r = round_trip(s, requests[i].json);
        uint64_t elapsed = now_ns() - t0;
        if (r < 0) { zmq_close(s); s = open_socket(ctx, argv[optind + 1], timeout_ms); }
        if (r != 0) { tag->errors++; continue; }
        if (tag->count == tag->cap) {
            tag->cap = tag->cap ? tag->cap * 2 : 4096;
            tag->samples = realloc(tag->samples, tag->cap * sizeof *tag->samples);
            if (!tag->samples) abort();
        }
        tag->samples[tag->count++] = elapsed;
    }
    zmq_close(s);
    zmq_ctx_term(ctx);

    for (size_t t = 0; t < tag_count; t++) {
        tag_figures *tag = &tags[t];
        double p50 = 0, p90 = 0, p99 = 0, mean = 0;
        if (tag->count) {
            qsort(tag->samples, tag->count, sizeof *tag->samples, by_value);
            p50 = tag->samples[tag->count / 2] / 1e3;
            p90 = tag->samples[tag->count * 90 / 100] / 1e3;
            p99 = tag->samples[tag->count * 99 / 100] / 1e3;
            for (size_t i = 0; i < tag->count; i++) mean += tag->samples[i];
            mean /= tag->count * 1e3;
        }
        printf("{\"tag\":\"%s\",\"requests\":%zu,\"errors\":%ld,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f}\n",
               tag->name, tag->count, tag->errors, p50, p90, p99, mean);
    }
    return 0;
usage:
    fprintf(stderr, "usage: %s [-d SECONDS] [-t TIMEOUT_MS] REQUESTS_FILE ENDPOINT\n", argv[0]);
    return 2;
}
