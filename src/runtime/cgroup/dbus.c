/* A minimal D-Bus client (see dbus.h): the wire format of the D-Bus
 * specification ("Message Protocol"), little-endian only, and the SASL
 * EXTERNAL handshake. */
#include "runtime/cgroup/dbus.h"

#include "base/cleanup.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Header field codes. */
enum {
    F_PATH = 1,
    F_INTERFACE,
    F_MEMBER,
    F_ERROR_NAME,
    F_REPLY_SERIAL,
    F_DESTINATION,
    F_SENDER,
    F_SIGNATURE
};

/* A message larger than this is refused (the spec's limit is 128 MiB;
 * replies here are a few hundred bytes). */
#define MAX_MESSAGE (1u << 20)
/* How long a reply may take unless the caller says (bus->timeout_ms). */
#define REPLY_TIMEOUT_MS 30000

/* --- marshalling --- */

void cell_dbus_buf_free(struct cell_dbus_buf *b)
{
    free(b->data);
    *b = (struct cell_dbus_buf){0};
}

static bool reserve(struct cell_dbus_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

static void put_bytes(struct cell_dbus_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void cell_dbus_pad(struct cell_dbus_buf *b, size_t align)
{
    static const uint8_t zeros[8];
    size_t n = (align - b->len % align) % align;
    put_bytes(b, zeros, n);
}

void cell_dbus_put_u8(struct cell_dbus_buf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

/* The host is little-endian (x86-64, arm64): values are copied as they are
 * and every message says 'l'. */
void cell_dbus_put_u32(struct cell_dbus_buf *b, uint32_t v)
{
    cell_dbus_pad(b, 4);
    put_bytes(b, &v, 4);
}

void cell_dbus_put_u64(struct cell_dbus_buf *b, uint64_t v)
{
    cell_dbus_pad(b, 8);
    put_bytes(b, &v, 8);
}

void cell_dbus_put_bool(struct cell_dbus_buf *b, bool v)
{
    cell_dbus_put_u32(b, v ? 1 : 0);
}

void cell_dbus_put_string(struct cell_dbus_buf *b, const char *s)
{
    size_t n = strlen(s);
    cell_dbus_put_u32(b, (uint32_t)n);
    put_bytes(b, s, n + 1);
}

void cell_dbus_put_signature(struct cell_dbus_buf *b, const char *s)
{
    size_t n = strlen(s);
    cell_dbus_put_u8(b, (uint8_t)n);
    put_bytes(b, s, n + 1);
}

size_t cell_dbus_array_begin(struct cell_dbus_buf *b, size_t elem_align)
{
    cell_dbus_put_u32(b, 0);
    size_t handle = b->len - 4;
    cell_dbus_pad(b, elem_align);
    return handle;
}

/* The length counts the elements only: not the padding between the length
 * and the first element. */
void cell_dbus_array_end(struct cell_dbus_buf *b, size_t handle, size_t elem_align)
{
    if (b->oom)
        return;
    size_t first = handle + 4;
    first += (elem_align - first % elem_align) % elem_align;
    uint32_t n = (uint32_t)(b->len > first ? b->len - first : 0);
    memcpy(b->data + handle, &n, 4);
}

static void put_field(struct cell_dbus_buf *b, uint8_t code, const char *sig, const char *value)
{
    cell_dbus_pad(b, 8);
    cell_dbus_put_u8(b, code);
    cell_dbus_put_signature(b, sig);
    if (sig[0] == 'g')
        cell_dbus_put_signature(b, value);
    else
        cell_dbus_put_string(b, value);
}

int cell_dbus_message(const struct cell_dbus_call *call, uint32_t serial,
                      const struct cell_dbus_buf *body, struct cell_dbus_buf *out)
{
    size_t body_len = body ? body->len : 0;
    const uint8_t fixed[4] = {'l', CELL_DBUS_METHOD_CALL, 0, 1};
    put_bytes(out, fixed, 4);
    cell_dbus_put_u32(out, (uint32_t)body_len);
    cell_dbus_put_u32(out, serial);
    size_t fields = cell_dbus_array_begin(out, 8);
    put_field(out, F_PATH, "o", call->path);
    if (call->interface)
        put_field(out, F_INTERFACE, "s", call->interface);
    put_field(out, F_MEMBER, "s", call->member);
    if (call->destination)
        put_field(out, F_DESTINATION, "s", call->destination);
    if (call->signature && *call->signature)
        put_field(out, F_SIGNATURE, "g", call->signature);
    cell_dbus_array_end(out, fields, 8);
    cell_dbus_pad(out, 8);
    if (body_len)
        put_bytes(out, body->data, body_len);
    return out->oom ? -ENOMEM : 0;
}

/* --- parsing --- */

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

size_t cell_dbus_message_size(const uint8_t *head)
{
    if (head[0] != 'l' || head[3] != 1)
        return 0;
    uint64_t fields = get_u32(head + 12), body = get_u32(head + 4);
    uint64_t header = 16 + fields;
    header += (8 - header % 8) % 8;
    return header + body > MAX_MESSAGE ? 0 : (size_t)(header + body);
}

/* A reader over a message with bounds checks; any overrun sets bad. */
struct reader {
    const uint8_t *data;
    size_t len, pos;
    bool bad;
};

static bool align_to(struct reader *r, size_t align)
{
    r->pos += (align - r->pos % align) % align;
    r->bad |= r->pos > r->len;
    return !r->bad;
}

static uint8_t read_u8(struct reader *r)
{
    if (r->bad || r->pos + 1 > r->len) {
        r->bad = true;
        return 0;
    }
    return r->data[r->pos++];
}

static uint32_t read_u32(struct reader *r)
{
    if (!align_to(r, 4) || r->pos + 4 > r->len) {
        r->bad = true;
        return 0;
    }
    uint32_t v = get_u32(r->data + r->pos);
    r->pos += 4;
    return v;
}

/* A string ('s', 'o') or, when sig_type, a signature ('g'); NUL-checked. */
static const char *read_str(struct reader *r, bool sig_type)
{
    size_t n = sig_type ? read_u8(r) : read_u32(r);
    if (r->bad || n >= r->len || r->pos + n + 1 > r->len || r->data[r->pos + n] != '\0') {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->data + r->pos;
    r->pos += n + 1;
    return s;
}

static void read_field(struct reader *r, struct cell_dbus_reply *out)
{
    align_to(r, 8);
    uint8_t code = read_u8(r);
    const char *sig = read_str(r, true);
    if (!sig || strlen(sig) != 1) {
        r->bad = true;
        return;
    }
    if (sig[0] == 'u') {
        uint32_t v = read_u32(r);
        if (code == F_REPLY_SERIAL)
            out->reply_serial = v;
        return;
    }
    if (sig[0] != 's' && sig[0] != 'o' && sig[0] != 'g') {
        r->bad = true; /* no other type appears in the fields we get */
        return;
    }
    const char *v = read_str(r, sig[0] == 'g');
    if (code == F_ERROR_NAME)
        out->error_name = v;
    else if (code == F_SIGNATURE)
        out->signature = v;
}

int cell_dbus_parse(uint8_t *data, size_t len, struct cell_dbus_reply *out, cell_err_t *err)
{
    if (len < 16 || cell_dbus_message_size(data) != len)
        return cell_error(err, EPROTO, "D-Bus message: bad header");
    *out = (struct cell_dbus_reply){.type = data[1], .serial = get_u32(data + 8), .signature = ""};
    size_t end = 16 + (size_t)get_u32(data + 12);
    struct reader r = {.data = data, .len = end, .pos = 16};
    while (!r.bad && r.pos < end) {
        read_field(&r, out);
        r.bad |= r.pos > end;
    }
    if (r.bad)
        return cell_error(err, EPROTO, "D-Bus message: bad header fields");
    out->body = end + (8 - end % 8) % 8;
    out->data = data;
    out->len = len;
    return 0;
}

const char *cell_dbus_reply_string(const struct cell_dbus_reply *r)
{
    if (r->signature[0] != 's' && r->signature[0] != 'o')
        return NULL;
    struct reader rd = {.data = r->data + r->body, .len = r->len - r->body};
    return read_str(&rd, false);
}

void cell_dbus_reply_free(struct cell_dbus_reply *r)
{
    free(r->data);
    r->data = NULL;
}

/* --- the connection --- */

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

static int read_full(int fd, void *buf, size_t n, int timeout_ms)
{
    for (size_t got = 0; got < n;) {
        int w = wait_readable(fd, timeout_ms);
        if (w < 0)
            return w;
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -ECONNRESET;
        got += (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        done += (size_t)k;
    }
    return 0;
}

/* One line of the SASL exchange, up to "\r\n". The server says nothing
 * more until we send BEGIN, so reading past the line cannot happen. */
static int read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        int w = wait_readable(fd, REPLY_TIMEOUT_MS);
        if (w < 0)
            return w;
        ssize_t k = read(fd, buf + n, size - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -ECONNRESET;
        n += (size_t)k;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n");
        if (end) {
            *end = '\0';
            return 0;
        }
    }
    return -EPROTO;
}

/* SASL EXTERNAL: the server checks our uid (SO_PEERCRED) against the one we
 * claim, sent as hex of its decimal digits. */
static int authenticate(int fd, const char *where, cell_err_t *err)
{
    char uid[32], hex[80], line[256];
    snprintf(uid, sizeof uid, "%u", (unsigned)geteuid());
    for (size_t i = 0; uid[i]; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)uid[i]);
    char auth[128];
    int n = snprintf(auth, sizeof auth, "AUTH EXTERNAL %s\r\n", hex);
    int r = write_full(fd, "", 1); /* the credentials byte */
    if (r == 0)
        r = write_full(fd, auth, (size_t)n);
    if (r == 0)
        r = read_line(fd, line, sizeof line);
    if (r < 0)
        return cell_error(err, -r, "D-Bus authentication on %s", where);
    if (strncmp(line, "OK ", 3))
        return cell_error(err, 0, "D-Bus authentication on %s: refused (%s)", where, line);
    r = write_full(fd, "BEGIN\r\n", 7);
    return r < 0 ? cell_error(err, -r, "D-Bus authentication on %s", where) : 0;
}

/* A Ping that asks for no reply: only new bytes on the socket. */
static int send_nudge(struct cell_dbus *bus)
{
    const struct cell_dbus_call ping = {"org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.DBus.Peer", "Ping", NULL};
    struct cell_dbus_buf msg = {0};
    int r = cell_dbus_message(&ping, ++bus->serial, NULL, &msg);
    if (r == 0) {
        msg.data[2] = 1; /* NO_REPLY_EXPECTED */
        r = write_full(bus->fd, msg.data, msg.len);
    }
    cell_dbus_buf_free(&msg);
    return r;
}

/* systemd 252 reads what follows BEGIN together with it when both are
 * there, then waits for the socket to be readable again before it parses
 * the call it already has: a call sent while systemd was busy gets no
 * answer until something else arrives. So while no reply comes, send it
 * something: a Ping, at growing intervals. */
static int wait_reply(struct cell_dbus *bus)
{
    int step = 20;
    for (long waited = 0;; waited += step, step = step < 500 ? step * 2 : step) {
        int r = wait_readable(bus->fd, step);
        if (r != -ETIMEDOUT)
            return r;
        if (waited + step >= bus->timeout_ms)
            return -ETIMEDOUT;
        if ((r = send_nudge(bus)) < 0)
            return r;
    }
}

static int receive(struct cell_dbus *bus, struct cell_dbus_reply *out, cell_err_t *err)
{
    uint8_t head[16];
    int r = wait_reply(bus);
    if (r == 0)
        r = read_full(bus->fd, head, sizeof head, bus->timeout_ms);
    if (r < 0)
        return cell_error(err, -r, "D-Bus: read reply");
    size_t size = cell_dbus_message_size(head);
    if (size < 16)
        return cell_error(err, EPROTO, "D-Bus: bad or too large message");
    _cleanup_free_ uint8_t *data = malloc(size);
    if (!data)
        return cell_error(err, ENOMEM, "D-Bus message");
    memcpy(data, head, 16);
    if ((r = read_full(bus->fd, data + 16, size - 16, bus->timeout_ms)) < 0)
        return cell_error(err, -r, "D-Bus: read reply");
    if ((r = cell_dbus_parse(data, size, out, err)) < 0)
        return r;
    data = NULL; /* now out's */
    return 0;
}

static int call_error(const struct cell_dbus_call *call, struct cell_dbus_reply *reply,
                      char **error_name, cell_err_t *err)
{
    const char *name = reply->error_name ? reply->error_name : "unknown error";
    const char *msg = cell_dbus_reply_string(reply);
    if (error_name)
        *error_name = strdup(name);
    int r = cell_error(err, 0, "%s: %s%s%s", call->member, name, msg ? ": " : "", msg ? msg : "");
    cell_dbus_reply_free(reply);
    return r;
}

int cell_dbus_call(struct cell_dbus *bus, const struct cell_dbus_call *call,
                   const struct cell_dbus_buf *body, struct cell_dbus_reply *reply,
                   char **error_name, cell_err_t *err)
{
    struct cell_dbus_buf msg = {0};
    uint32_t serial = ++bus->serial;
    int r = cell_dbus_message(call, serial, body, &msg);
    if (r == 0)
        r = write_full(bus->fd, msg.data, msg.len);
    cell_dbus_buf_free(&msg);
    if (r < 0)
        return cell_error(err, -r, "D-Bus: send %s", call->member);
    for (;;) { /* skip signals and anything that is not our reply */
        if ((r = receive(bus, reply, err)) < 0)
            return cell_error_prepend(err, "%s", call->member);
        if ((reply->type == CELL_DBUS_METHOD_RETURN || reply->type == CELL_DBUS_ERROR) &&
            reply->reply_serial == serial)
            break;
        cell_dbus_reply_free(reply);
    }
    if (reply->type == CELL_DBUS_ERROR)
        return call_error(call, reply, error_name, err);
    return 0;
}

static int hello(struct cell_dbus *bus, cell_err_t *err)
{
    const struct cell_dbus_call call = {"org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "Hello", NULL};
    struct cell_dbus_reply reply;
    int r = cell_dbus_call(bus, &call, NULL, &reply, NULL, err);
    if (r == 0)
        cell_dbus_reply_free(&reply);
    return r;
}

int cell_dbus_connect(struct cell_dbus *bus, cell_err_t *err)
{
    static const char private_socket[] = "/run/systemd/private";
    static const char system_bus[] = "/run/dbus/system_bus_socket";
    *bus = (struct cell_dbus){.fd = -1, .timeout_ms = REPLY_TIMEOUT_MS};
    const char *where = private_socket;
    int fd = geteuid() == 0 ? connect_unix(private_socket) : -EACCES;
    if (fd < 0) {
        where = system_bus;
        fd = connect_unix(system_bus);
    }
    if (fd < 0)
        return cell_error(err, -fd, "connect to systemd (%s or %s)", private_socket, system_bus);
    bus->fd = fd;
    int r = authenticate(fd, where, err);
    if (r == 0 && where == system_bus)
        r = hello(bus, err);
    if (r < 0)
        cell_dbus_close(bus);
    return r;
}

void cell_dbus_close(struct cell_dbus *bus)
{
    if (bus->fd >= 0)
        close(bus->fd);
    bus->fd = -1;
}
