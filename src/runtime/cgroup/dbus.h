/* A minimal D-Bus client: enough to call systemd's manager (StartTransientUnit,
 * StopUnit, ResetFailedUnit) without libsystemd, which Debian ships only as
 * a shared library while cell-runtime is linked statically. Little-endian
 * messages, AUTH EXTERNAL, method calls and their replies; no signals, no
 * fd passing, no introspection. */
#pragma once

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer with D-Bus alignment, offsets relative to its start
 * (a body starts 8-aligned in a message, so the alignment is the same). */
struct cell_dbus_buf {
    uint8_t *data;
    size_t len, cap;
    bool oom; /* an allocation failed: the buffer is unusable */
};

void cell_dbus_buf_free(struct cell_dbus_buf *b);
void cell_dbus_pad(struct cell_dbus_buf *b, size_t align);
void cell_dbus_put_u8(struct cell_dbus_buf *b, uint8_t v);
void cell_dbus_put_u32(struct cell_dbus_buf *b, uint32_t v);
void cell_dbus_put_u64(struct cell_dbus_buf *b, uint64_t v);
void cell_dbus_put_bool(struct cell_dbus_buf *b, bool v);
void cell_dbus_put_string(struct cell_dbus_buf *b, const char *s); /* also 'o' */
void cell_dbus_put_signature(struct cell_dbus_buf *b, const char *s);
/* An array: begin returns a handle (the offset of the length) and pads to
 * the elements' alignment; end writes the length of the elements. */
size_t cell_dbus_array_begin(struct cell_dbus_buf *b, size_t elem_align);
void cell_dbus_array_end(struct cell_dbus_buf *b, size_t handle, size_t elem_align);

enum cell_dbus_type {
    CELL_DBUS_METHOD_CALL = 1,
    CELL_DBUS_METHOD_RETURN = 2,
    CELL_DBUS_ERROR = 3,
    CELL_DBUS_SIGNAL = 4,
};

/* What a method call is addressed to. */
struct cell_dbus_call {
    const char *destination, *path, *interface, *member;
    const char *signature; /* of body; NULL or "" for none */
};

/* Makes a whole METHOD_CALL message (header, padding, body) into out. */
int cell_dbus_message(const struct cell_dbus_call *call, uint32_t serial,
                      const struct cell_dbus_buf *body, struct cell_dbus_buf *out);

/* A received message, parsed. Strings point into data. */
struct cell_dbus_reply {
    uint8_t *data; /* the whole message, owned */
    size_t len;
    uint8_t type;
    uint32_t serial, reply_serial;
    const char *error_name; /* ERROR only */
    const char *signature;  /* "" when there is no body */
    size_t body;            /* offset of the body in data */
};
void cell_dbus_reply_free(struct cell_dbus_reply *r);

/* How many bytes the whole message needs, from its first 16 bytes; 0 when
 * they are not a valid little-endian header. */
size_t cell_dbus_message_size(const uint8_t *head);
/* Parses a whole message of len bytes; takes data on success. */
int cell_dbus_parse(uint8_t *data, size_t len, struct cell_dbus_reply *out, cell_err_t *err);
/* The first argument of the body when it is a string or object path
 * ("s", "o"), else NULL. */
const char *cell_dbus_reply_string(const struct cell_dbus_reply *r);

/* A connection to systemd's manager. */
struct cell_dbus {
    int fd;
    uint32_t serial;
    int timeout_ms; /* for each reply; cell_dbus_connect sets 30 s */
};

/* Connects to systemd: its private socket (/run/systemd/private, root only,
 * no bus daemon needed), else the system bus (with Hello). */
int cell_dbus_connect(struct cell_dbus *bus, cell_err_t *err);
void cell_dbus_close(struct cell_dbus *bus);

/* Calls a method and waits for its reply. A D-Bus error reply becomes an
 * error "<member>: <error name>: <message>"; *error_name (if not NULL) gets
 * a copy of the name, to tell "no such unit" from real failures. */
int cell_dbus_call(struct cell_dbus *bus, const struct cell_dbus_call *call,
                   const struct cell_dbus_buf *body, struct cell_dbus_reply *reply,
                   char **error_name, cell_err_t *err);
