/*
 * meetingd_module.h: the whole contract between the meetingd daemon and a
 * handler module. A module is a shared library that exports one symbol,
 * MEETINGD_MODULE_ENTRY ("meetingd_module_entry"), returning a pointer to a
 * static meetingd_module description. Nothing else crosses the boundary.
 *
 * Threading: the daemon calls `open` once per worker thread and only ever
 * uses an instance from the thread that opened it, so a module needs no locks.
 *
 * Memory: every string the module hands back (in meetingd_reply, or the error
 * of `open`) is owned by the module and must stay valid until the next call
 * on the same instance (or until `close`). The daemon copies what it keeps.
 *
 * Versioning: abi_version is the first field and is checked before any other
 * field is read. Any change to this header's structs or calls bumps it.
 * ABI 2 appended set_deadline to meetingd_module; the daemon still loads an
 * ABI 1 module (it reads none of the fields after close), which then runs
 * without a running-time budget. ABI 3 appended meetingkit_build, which a C
 * module leaves NULL (an ABI 1 or 2 module has none).
 */
#ifndef MEETINGD_MODULE_H
#define MEETINGD_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEETINGD_ABI_VERSION 3
#define MEETINGD_MODULE_ENTRY "meetingd_module_entry"

/* Log levels passed to meetingd_log_fn (syslog order). */
enum {
    MEETINGD_LOG_ERROR = 3,
    MEETINGD_LOG_WARNING = 4,
    MEETINGD_LOG_INFO = 6,
    MEETINGD_LOG_DEBUG = 7
};

/* Application error codes a module may answer with (JSON-RPC server range). */
enum {
    MEETINGD_ERR_INVALID_PARAMS = -32602,
    MEETINGD_ERR_INTERNAL = -32603,
    MEETINGD_ERR_NOT_FOUND = -32004,
    MEETINGD_ERR_DEADLINE_EXCEEDED = -32005,
    MEETINGD_ERR_OVERLOADED = -32006,
    MEETINGD_ERR_UNAVAILABLE = -32007
};

/* The daemon's logger; `ctx` is the value given to `open`. Thread-safe. */
typedef void (*meetingd_log_fn)(void *ctx, int level, const char *message);

/* One method. `name` is "module.operation"; schemas are JSON Schema documents
 * (as JSON text). The daemon validates params against params_schema before
 * calling `handle`; result_schema documents the answer for rpc.discover. */
typedef struct meetingd_method {
    const char *name;
    const char *summary;
    const char *params_schema;
    const char *result_schema;
} meetingd_method;

/* What `handle` answers. On success: error_code == 0 and result_json holds
 * the JSON result. On failure: error_code != 0, error_message says what went
 * wrong and error_data_json (optional, may be NULL) is a JSON value for the
 * error's `data` member. */
typedef struct meetingd_reply {
    const char *result_json;
    size_t result_len;
    int32_t error_code;
    const char *error_message;
    const char *error_data_json;
} meetingd_reply;

typedef struct meetingd_module {
    uint32_t abi_version;          /* MEETINGD_ABI_VERSION the module was built with */
    const char *name;              /* unique module name, the method prefix */
    const char *version;           /* the module's own version, free form */
    const meetingd_method *methods;
    size_t method_count;

    /* Open one instance. `module` is this description (so one set of
     * functions can serve several modules). config_json is the module's own config section (a
     * JSON object, "{}" when none), corpus_path the SQLite corpus (open it
     * read-only). Returns 0 and sets *instance, or non-zero and sets *error
     * to a message that stays valid until the library is unloaded. */
    int (*open)(const struct meetingd_module *module,
                const char *config_json, const char *corpus_path,
                meetingd_log_fn log, void *log_ctx,
                void **instance, const char **error);

    /* Answer one request. params_json is always a JSON object or array.
     * Fills *reply; returns 0 (the reply says success or failure). */
    int (*handle)(void *instance, const char *method,
                  const char *params_json, size_t params_len,
                  meetingd_reply *reply);

    /* Release an instance. */
    void (*close)(void *instance);

    /* ABI 2. Optional (may be NULL): the daemon calls it before each `handle`
     * with the moment the request's running-time budget ends, in CLOCK_MONOTONIC
     * nanoseconds (0: no budget). A module that takes it stops working at that
     * moment and answers MEETINGD_ERR_DEADLINE_EXCEEDED; the daemon words the
     * error. Without it, a request runs as long as the module takes. */
    void (*set_deadline)(void *instance, int64_t deadline_ns);

    /* ABI 3. The MeetingKit build a Swift module was compiled against (set by
     * the Swift SDK's exportModule); NULL in a C module. Swift modules share the
     * daemon's libMeetingKit.so and its types, so the daemon refuses one whose
     * build differs from that library's. */
    const char *meetingkit_build;
} meetingd_module;

typedef const meetingd_module *(*meetingd_module_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* MEETINGD_MODULE_H */
