/*
 * hello: a meetingd handler module in plain C, proving the module ABI needs
 * no Swift. It is also the "Writing a module" example in the README.
 *
 * Build:  cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden \
 *            -I<dir of meetingd_module.h> hello.c -o hello.so
 *
 * Test knobs (compile-time): -DHELLO_NAME='"other"' renames the module (and
 * so its methods), -DHELLO_ABI_VERSION=N lies about the ABI version, and
 * -DHELLO_DUPLICATE_METHOD declares hello.greet twice.
 */
#define _POSIX_C_SOURCE 200809L
#include "meetingd_module.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HELLO_NAME
#define HELLO_NAME "hello"
#endif
#ifndef HELLO_ABI_VERSION
#define HELLO_ABI_VERSION MEETINGD_ABI_VERSION
#endif

/* Method names follow the module name, as the host requires. */
#define GREET HELLO_NAME ".greet"
#define SLEEP HELLO_NAME ".sleep"
#define FAIL HELLO_NAME ".fail"

/* One instance per worker thread: no locks needed. */
typedef struct hello {
    char *greeting;       /* "Hello" or the config's "greeting" */
    size_t greeting_len;
    char *buf;            /* the last reply; valid until the next call */
    size_t len, cap;
} hello;

/* --- A minimal JSON reader: enough for params the host already validated. */

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static long hex4(const char *p, const char *end)
{
    if (end - p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the JSON string whose opening quote is at p. Writes the UTF-8 bytes
 * to out (if not NULL; it needs room for end - p bytes, as decoding never
 * grows a string) and their count to *len. Returns the position after the
 * closing quote, or NULL if the string is malformed. */
static const char *read_string(const char *p, const char *end, char *out, size_t *len)
{
    size_t n = 0;
    char tmp[4];
    for (p++; p < end && *p != '"'; ) {
        if (*p != '\\') {
            if (out) out[n] = *p;
            n++, p++;
            continue;
        }
        if (++p >= end) return NULL;
        char c = *p++, *o = out ? out + n : tmp;
        switch (c) {
        case '"': case '\\': case '/': *o = c; n++; break;
        case 'b': *o = '\b'; n++; break;
        case 'f': *o = '\f'; n++; break;
        case 'n': *o = '\n'; n++; break;
        case 'r': *o = '\r'; n++; break;
        case 't': *o = '\t'; n++; break;
        case 'u': {
            long cp = hex4(p, end);
            if (cp < 0) return NULL;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {     /* a high surrogate... */
                long lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2, end) : -1;
                if (lo >= 0xDC00 && lo <= 0xDFFF) { /* ...pairs with a low one */
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;                        /* a lone low surrogate */
            }
            n += put_utf8(o, (unsigned long)cp);
            break;
        }
        default: return NULL;
        }
    }
    if (p >= end) return NULL;
    *len = n;
    return p + 1;
}

/* Finds the member `key` anywhere in the JSON text (nested objects included,
 * so it does not matter how much of the config the host passes) and returns
 * the start of its value, or NULL. Strings are skipped whole, so a value that
 * merely contains the key's text never matches. */
static const char *find_member(const char *p, const char *end, const char *key)
{
    size_t key_len = strlen(key);
    char name[32];
    while (p < end) {
        if (*p != '"') { p++; continue; }
        size_t n = 0;
        const char *after = read_string(p, end, NULL, &n);
        if (!after) return NULL;
        int match = n == key_len && n <= sizeof name;
        if (match) {
            read_string(p, end, name, &n);
            match = memcmp(name, key, n) == 0;
        }
        for (p = after; p < end && strchr(" \t\r\n", *p); p++) {}
        if (match && p < end && *p == ':') {
            for (p++; p < end && strchr(" \t\r\n", *p); p++) {}
            return p;
        }
    }
    return NULL;
}

/* The decoded string value of `key` (malloc'ed, length in *len), or NULL. */
static char *string_member(const char *json, size_t json_len, const char *key, size_t *len)
{
    const char *end = json + json_len, *v = find_member(json, end, key);
    if (!v || *v != '"') return NULL;
    char *s = malloc((size_t)(end - v) + 1);
    if (s && !read_string(v, end, s, len)) { free(s); return NULL; }
    return s;
}

/* --- Replies, built in the instance's buffer. */

static int append(hello *h, const char *s, size_t n)
{
    if (h->len + n + 1 > h->cap) {
        size_t cap = (h->len + n + 1) * 2;
        char *b = realloc(h->buf, cap);
        if (!b) return -1;
        h->buf = b, h->cap = cap;
    }
    memcpy(h->buf + h->len, s, n);
    h->len += n;
    h->buf[h->len] = '\0';
    return 0;
}

/* Appends s as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, other UTF-8 bytes passed through. */
static int append_escaped(hello *h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        int r = c == '"' || c == '\\' ? append(h, (char[]){'\\', (char)c}, 2)
              : c < 0x20 ? append(h, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c))
              : append(h, s + i, 1);
        if (r) return r;
    }
    return 0;
}

static void reply_error(meetingd_reply *reply, int32_t code, const char *message, const char *data)
{
    *reply = (meetingd_reply){ .error_code = code, .error_message = message, .error_data_json = data };
}

static void reply_result(hello *h, meetingd_reply *reply, int failed)
{
    if (failed) reply_error(reply, MEETINGD_ERR_INTERNAL, "out of memory", NULL);
    else *reply = (meetingd_reply){ .result_json = h->buf, .result_len = h->len };
}

/* --- The ABI entry points. */

static int hello_open(const meetingd_module *module, const char *config_json,
                      const char *corpus_path, meetingd_log_fn log, void *log_ctx,
                      void **instance, const char **error)
{
    (void)module, (void)corpus_path;
    size_t config_len = strlen(config_json);
    const char *fail = find_member(config_json, config_json + config_len, "fail_open");
    if (fail && strncmp(fail, "true", 4) == 0) {
        *error = HELLO_NAME ": open refused because the config sets \"fail_open\": true";
        return 1;
    }
    hello *h = calloc(1, sizeof *h);
    if (!h) goto out_of_memory;
    h->greeting = string_member(config_json, config_len, "greeting", &h->greeting_len);
    if (!h->greeting) {
        h->greeting = strdup("Hello");
        h->greeting_len = 5;
    }
    if (!h->greeting) goto out_of_memory;
    log(log_ctx, MEETINGD_LOG_DEBUG, HELLO_NAME ": instance opened");
    *instance = h;
    return 0;
out_of_memory:
    free(h);
    *error = HELLO_NAME ": out of memory";
    return 1;
}

static int hello_handle(void *instance, const char *method,
                        const char *params_json, size_t params_len, meetingd_reply *reply)
{
    hello *h = instance;
    h->len = 0;
    if (strcmp(method, GREET) == 0) {
        size_t name_len = 0;
        char *name = string_member(params_json, params_len, "name", &name_len);
        if (!name) {    /* the host's schema check makes this unreachable */
            reply_error(reply, MEETINGD_ERR_INVALID_PARAMS, "name must be a string", "{\"field\":\"name\"}");
            return 0;
        }
        int failed = append(h, "{\"greeting\":\"", 13)
                  || append_escaped(h, h->greeting, h->greeting_len)
                  || append(h, ", ", 2)
                  || append_escaped(h, name, name_len)
                  || append(h, "!\"}", 3);
        free(name);
        reply_result(h, reply, failed);
    } else if (strcmp(method, SLEEP) == 0) {
        const char *v = find_member(params_json, params_json + params_len, "ms");
        long ms = v ? (long)strtod(v, NULL) : 0;   /* strtod: 1e3 is an integer too */
        struct timespec left = { ms / 1000, ms % 1000 * 1000000L };
        while (nanosleep(&left, &left) != 0 && errno == EINTR) {}
        char out[48];
        reply_result(h, reply, append(h, out, (size_t)snprintf(out, sizeof out, "{\"slept_ms\":%ld}", ms)));
    } else if (strcmp(method, FAIL) == 0) {
        reply_error(reply, MEETINGD_ERR_NOT_FOUND, HELLO_NAME ".fail always fails", "{\"reason\":\"requested\"}");
    } else {
        reply_error(reply, MEETINGD_ERR_INTERNAL, "method not handled by " HELLO_NAME, NULL);
    }
    return 0;
}

static void hello_close(void *instance)
{
    hello *h = instance;
    free(h->greeting);
    free(h->buf);
    free(h);
}

#define GREET_METHOD { GREET, "Greets someone by name.", \
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1}}," \
    "\"required\":[\"name\"],\"additionalProperties\":false}", \
    "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\"}},\"required\":[\"greeting\"]}" }

static const meetingd_method methods[] = {
    GREET_METHOD,
#ifdef HELLO_DUPLICATE_METHOD
    GREET_METHOD,
#endif
    { SLEEP, "Sleeps ms milliseconds, then answers: a deliberately slow request.",
      "{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":60000}},"
      "\"required\":[\"ms\"],\"additionalProperties\":false}",
      "{\"type\":\"object\",\"properties\":{\"slept_ms\":{\"type\":\"integer\"}},\"required\":[\"slept_ms\"]}" },
    { FAIL, "Always answers with a not-found error carrying data.",
      "{\"type\":\"object\",\"additionalProperties\":false}",
      "{\"description\":\"never returned: the method always fails\"}" },
};

static const meetingd_module module = {
    .abi_version = HELLO_ABI_VERSION,
    .name = HELLO_NAME,
    .version = "1.0.0",
    .methods = methods,
    .method_count = sizeof methods / sizeof methods[0],
    .open = hello_open,
    .handle = hello_handle,
    .close = hello_close,
    /* No running-time budget: hello.sleep sleeps as long as it is asked to. */
    .set_deadline = NULL,
    .meetingkit_build = NULL,  /* ABI 3: a C module shares no Swift code with the daemon */
};

__attribute__((visibility("default")))
const meetingd_module *meetingd_module_entry(void)
{
    return &module;
}
