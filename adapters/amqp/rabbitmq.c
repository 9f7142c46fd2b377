/* RabbitMQ through librabbitmq: publishing in confirm mode, consuming with
 * manual acknowledgements, dead letters on a connection of their own. */
#include "rabbitmq.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "arena.h"

/* One connection per bridge handle. Channels are numbered upwards: one the
 * broker closed (an unknown exchange) is never reused. Dead-lettering
 * publishes on a second connection, so its confirms never mix with the
 * deliveries of the consuming one. */
/* the failures counted so far, on a copy requeued by retry_later() */
#define RETRIES_HEADER "x-bpmnd-retries"

typedef struct rmq {
    amqp_connection_state_t conn;
    char url[1024];
    amqp_channel_t publish_channel; /* in confirm mode; 0 = none open */
    amqp_channel_t next_channel;
    uint64_t next_tag; /* the delivery tag of the next publish on publish_channel */
    struct rmq *dead_letters; /* the dead-letter publisher, opened on first use */
} rmq;

/* ---- errors --------------------------------------------------------------------- */

static void reply_text(amqp_rpc_reply_t r, char *buf, size_t n)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buf, n, "ok");
        break;
    case AMQP_RESPONSE_NONE:
        snprintf(buf, n, "no reply from the broker");
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buf, n, "%s", amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, n, "the broker closed the connection: %u %.*s", m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, n, "the broker closed the channel: %u %.*s", m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else {
            snprintf(buf, n, "the broker answered with method 0x%08x", r.reply.id);
        }
        break;
    }
}

static bpm_rc check(amqp_connection_state_t c, const char *doing, bpm_err *err)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return BPM_OK;
    char why[300];
    reply_text(r, why, sizeof why);
    return bpm_err_set(err, BPM_UNAVAILABLE, "could not %s on RabbitMQ: %s", doing, why);
}

/* ---- connections -------------------------------------------------------------------- */

static void r_close(void *self)
{
    rmq *q = self;
    if (!q)
        return;
    if (q->conn) {
        amqp_connection_close(q->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(q->conn);
    }
    r_close(q->dead_letters);
    free(q);
}

/* TLS options from the URL's query, named as RabbitMQ's URI spec names them
 * (cacertfile, certfile, keyfile, verify, server_name_indication). */
typedef struct tls_opts {
    char cacert[512], cert[512], key[512];
    bool verify;
} tls_opts;

static bpm_rc tls_query(char *query, tls_opts *t, bpm_err *err)
{
    t->verify = true;
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *v = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        if (strcmp(kv, "cacertfile") == 0)
            snprintf(t->cacert, sizeof t->cacert, "%s", v);
        else if (strcmp(kv, "certfile") == 0)
            snprintf(t->cert, sizeof t->cert, "%s", v);
        else if (strcmp(kv, "keyfile") == 0)
            snprintf(t->key, sizeof t->key, "%s", v);
        else if (strcmp(kv, "verify") == 0 && (strcmp(v, "verify_peer") == 0 || strcmp(v, "verify_none") == 0))
            t->verify = strcmp(v, "verify_peer") == 0;
        else if (strcmp(kv, "server_name_indication") != 0 && strcmp(kv, "heartbeat") != 0 &&
                 strcmp(kv, "connection_timeout") != 0)
            return bpm_err_set(err, BPM_BAD_REQUEST,
                               "the RabbitMQ URL has an unknown or bad query parameter \"%s\" (known: cacertfile,"
                               " certfile, keyfile, verify=verify_peer|verify_none)",
                               kv);
    }
    return BPM_OK;
}

/* The socket for ci: TCP, or TLS for amqps:// (the peer and its host name
 * verified against cacertfile, else the system's CA bundle, unless
 * verify=verify_none; a client certificate when certfile and keyfile are
 * given). */
static bpm_rc open_socket(amqp_connection_state_t conn, const struct amqp_connection_info *ci, const tls_opts *t,
                          amqp_socket_t **out, bpm_err *err)
{
    if (!ci->ssl) {
        *out = amqp_tcp_socket_new(conn);
        return *out ? BPM_OK : bpm_err_set(err, BPM_UNAVAILABLE, "could not make a socket for RabbitMQ");
    }
    amqp_socket_t *sock = amqp_ssl_socket_new(conn);
    if (!sock)
        return bpm_err_set(err, BPM_UNAVAILABLE, "could not set up TLS for RabbitMQ");
    const char *ca = t->cacert;
    if (!*ca) {
        static const char *const bundles[] = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                                              "/etc/ssl/cert.pem"};
        for (size_t i = 0; i < sizeof bundles / sizeof bundles[0] && !*ca; i++)
            if (access(bundles[i], R_OK) == 0)
                ca = bundles[i];
    }
    amqp_ssl_socket_set_verify_peer(sock, t->verify);
    amqp_ssl_socket_set_verify_hostname(sock, t->verify);
    if (*ca && amqp_ssl_socket_set_cacert(sock, ca) != AMQP_STATUS_OK)
        return bpm_err_set(err, BPM_BAD_REQUEST, "could not read the CA certificates %s (cacertfile of the RabbitMQ URL)",
                           ca);
    if (t->verify && !*ca)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "amqps: no CA certificates to verify RabbitMQ with: give cacertfile=PATH in the URL's query");
    if ((*t->cert || *t->key) && amqp_ssl_socket_set_key(sock, t->cert, t->key) != AMQP_STATUS_OK)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "could not read the client certificate and key (certfile, keyfile of the RabbitMQ URL)");
    *out = sock;
    return BPM_OK;
}

static bpm_rc r_connect(const char *url, void **out, bpm_err *err)
{
    rmq *q = bpm_xcalloc(1, sizeof *q);
    snprintf(q->url, sizeof q->url, "%s", url);
    q->next_channel = 1;
    char parse[1024];
    snprintf(parse, sizeof parse, "%s", url);
    tls_opts t = {.verify = true};
    char *query = strchr(parse, '?');
    if (query) {
        *query++ = '\0';
        bpm_rc rc = tls_query(query, &t, err);
        if (rc) {
            free(q);
            return rc;
        }
    }
    struct amqp_connection_info ci;
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(parse, &ci) != AMQP_STATUS_OK) {
        free(q);
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "the RabbitMQ URL is not amqp[s]://user:password@host:port/vhost[?cacertfile=PATH...]");
    }
    /* amqp://host:port/ names the empty vhost by the URI spec, but everyone
     * writing it means the default one, "/" (which is spelled %2f) */
    if (!ci.vhost || !*ci.vhost)
        ci.vhost = "/";
    q->conn = amqp_new_connection();
    amqp_socket_t *sock = NULL;
    bpm_rc rc = open_socket(q->conn, &ci, &t, &sock, err);
    if (rc) {
        r_close(q);
        return rc;
    }
    struct timeval tv = {5, 0};
    int st = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
    if (st != AMQP_STATUS_OK) {
        bpm_err_set(err, BPM_UNAVAILABLE, "could not connect to RabbitMQ at %s:%d%s: %s", ci.host, ci.port,
                    ci.ssl ? " (TLS)" : "", amqp_error_string2(st));
        r_close(q);
        return BPM_UNAVAILABLE;
    }
    /* no heartbeats: the relay's connection idles between batches, when
     * librabbitmq would not answer them; a lost broker shows on the next use */
    amqp_set_rpc_timeout(q->conn, &tv);
    amqp_rpc_reply_t r =
        amqp_login(q->conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        char why[300];
        reply_text(r, why, sizeof why);
        bpm_err_set(err, BPM_UNAVAILABLE, "could not log in to RabbitMQ at %s:%d as \"%s\": %s", ci.host, ci.port,
                    ci.user, why);
        r_close(q);
        return BPM_UNAVAILABLE;
    }
    *out = q;
    return BPM_OK;
}

/* A fresh channel (channels the broker closed are not reused). 0 = failed. */
static amqp_channel_t open_channel(rmq *q, bpm_err *err)
{
    amqp_channel_t ch = q->next_channel++;
    amqp_channel_open(q->conn, ch);
    if (check(q->conn, "open a channel", err))
        return 0;
    return ch;
}

/* Answers a close the broker sent on channel ch (or the connection). */
static void close_ok(rmq *q, amqp_channel_t ch, bool connection)
{
    if (connection) {
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(q->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    } else {
        amqp_channel_close_ok_t ok = {0};
        amqp_send_method(q->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    }
}

/* ---- publishing ----------------------------------------------------------------------- */

/* The text properties of a message by their AMQP 0-9-1 names in camel case,
 * as a diagram sets them and a mapping sees them. userId is only read: the
 * broker refuses a message whose user id is not the connection's own. */
static const struct {
    const char *name;
    amqp_flags_t flag;
    size_t offset;
    bool received_only;
} text_props[] = {
    {"contentEncoding", AMQP_BASIC_CONTENT_ENCODING_FLAG, offsetof(amqp_basic_properties_t, content_encoding), false},
    {"correlationId", AMQP_BASIC_CORRELATION_ID_FLAG, offsetof(amqp_basic_properties_t, correlation_id), false},
    {"replyTo", AMQP_BASIC_REPLY_TO_FLAG, offsetof(amqp_basic_properties_t, reply_to), false},
    {"expiration", AMQP_BASIC_EXPIRATION_FLAG, offsetof(amqp_basic_properties_t, expiration), false},
    {"type", AMQP_BASIC_TYPE_FLAG, offsetof(amqp_basic_properties_t, type), false},
    {"userId", AMQP_BASIC_USER_ID_FLAG, offsetof(amqp_basic_properties_t, user_id), true},
    {"appId", AMQP_BASIC_APP_ID_FLAG, offsetof(amqp_basic_properties_t, app_id), false},
};

/* The AMQP properties of one message; its tables live in arena a. */
static void properties_of(const bpm_bridge_msg *m, amqp_basic_properties_t *p, bpm_arena *a)
{
    memset(p, 0, sizeof *p);
    p->_flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
    p->delivery_mode = 2; /* persistent: the broker writes it to disk before it confirms */
    p->message_id = amqp_cstring_bytes(m->id ? m->id : "");
    const json_t *props = json_is_object(m->properties) ? m->properties : NULL;
    const char *ct = json_string_value(json_object_get(props, "contentType"));
    if (!ct)
        ct = m->content_type;
    if (ct) {
        p->_flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
        p->content_type = amqp_cstring_bytes(ct);
    }
    for (size_t i = 0; i < sizeof text_props / sizeof text_props[0]; i++) {
        const json_t *v = json_object_get(props, text_props[i].name);
        if (json_is_string(v) && !text_props[i].received_only) {
            p->_flags |= text_props[i].flag;
            *(amqp_bytes_t *)((char *)p + text_props[i].offset) = amqp_cstring_bytes(json_string_value(v));
        }
    }
    const json_t *prio = json_object_get(props, "priority");
    if (json_is_integer(prio) && json_integer_value(prio) >= 0 && json_integer_value(prio) <= 255) {
        p->_flags |= AMQP_BASIC_PRIORITY_FLAG;
        p->priority = (uint8_t)json_integer_value(prio);
    }
    /* headers: the instance id, then the diagram's own (strings, numbers,
     * booleans; anything else as its JSON text) */
    const json_t *h = json_object_get(props, "headers");
    size_t n = 1 + (json_is_object(h) ? json_object_size(h) : 0);
    amqp_table_entry_t *e = bpm_arena_calloc(a, n, sizeof *e);
    size_t k = 0;
    if (m->instance_id) {
        e[k].key = amqp_cstring_bytes("bpmnd-instance-id");
        e[k].value.kind = AMQP_FIELD_KIND_UTF8;
        e[k].value.value.bytes = amqp_cstring_bytes(m->instance_id);
        k++;
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)h, name, v)
    {
        if (!json_is_object(h))
            break;
        e[k].key = amqp_cstring_bytes(name);
        if (json_is_integer(v)) {
            e[k].value.kind = AMQP_FIELD_KIND_I64;
            e[k].value.value.i64 = json_integer_value(v);
        } else if (json_is_real(v)) {
            e[k].value.kind = AMQP_FIELD_KIND_F64;
            e[k].value.value.f64 = json_real_value(v);
        } else if (json_is_boolean(v)) {
            e[k].value.kind = AMQP_FIELD_KIND_BOOLEAN;
            e[k].value.value.boolean = json_is_true(v);
        } else {
            e[k].value.kind = AMQP_FIELD_KIND_UTF8;
            if (json_is_string(v)) {
                e[k].value.value.bytes = amqp_cstring_bytes(json_string_value(v));
            } else {
                char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                e[k].value.value.bytes = amqp_cstring_bytes(bpm_arena_strdup(a, text ? text : "null"));
                free(text);
            }
        }
        k++;
    }
    p->headers.num_entries = (int)k;
    p->headers.entries = e;
}

/* Skips the content frames of a returned message. */
static void drop_content(rmq *q, amqp_channel_t ch)
{
    amqp_message_t msg;
    if (amqp_read_message(q->conn, ch, &msg, 0).reply_type == AMQP_RESPONSE_NORMAL)
        amqp_destroy_message(&msg);
}

enum { PENDING = 0, ACKED, REFUSED };

static bpm_rc r_publish(void *self, bpm_bridge_msg *msgs, size_t n, int timeout_ms, bpm_err *err)
{
    rmq *q = self;
    if (!q->conn)
        return bpm_err_set(err, BPM_UNAVAILABLE, "the RabbitMQ connection was lost");
    for (size_t i = 0; i < n; i++) {
        msgs[i].ok = false;
        msgs[i].error[0] = '\0';
    }
    bpm_arena *a = bpm_arena_new();
    unsigned char *state = bpm_arena_calloc(a, n ? n : 1, 1);
    uint64_t *tags = bpm_arena_calloc(a, n ? n : 1, sizeof *tags);
    bpm_rc rc = BPM_OK;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t start = 0;
    while (start < n && !rc) {
        if (!q->publish_channel) {
            if (!(q->publish_channel = open_channel(q, err))) {
                rc = BPM_UNAVAILABLE;
                break;
            }
            amqp_confirm_select(q->conn, q->publish_channel);
            if ((rc = check(q->conn, "turn publisher confirms on", err)))
                break;
            q->next_tag = 1;
        }
        amqp_channel_t ch = q->publish_channel;
        for (size_t i = start; i < n; i++) {
            amqp_basic_properties_t p;
            properties_of(&msgs[i], &p, a);
            amqp_bytes_t body = {msgs[i].body_len, (void *)msgs[i].body};
            int st = amqp_basic_publish(q->conn, ch, amqp_cstring_bytes(msgs[i].destination ? msgs[i].destination : ""),
                                        amqp_cstring_bytes(msgs[i].key ? msgs[i].key : ""), 0, 0, &p, body);
            if (st != AMQP_STATUS_OK) {
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not publish to RabbitMQ: %s", amqp_error_string2(st));
                break;
            }
            tags[i] = q->next_tag++;
        }
        /* wait for the broker's answers: basic.ack (maybe several at once),
         * basic.nack, or the channel closed by an error on one message
         * (an unknown exchange), after which the rest are sent again */
        size_t restart = n;
        while (!rc) {
            size_t pending = 0;
            for (size_t i = start; i < n; i++)
                pending += state[i] == PENDING;
            if (!pending)
                break;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000);
            if (left <= 0) {
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "RabbitMQ confirmed %zu of %zu messages within %d ms",
                                 n - pending, n, timeout_ms);
                break;
            }
            struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
            amqp_frame_t f;
            int st = amqp_simple_wait_frame_noblock(q->conn, &f, &tv);
            if (st == AMQP_STATUS_TIMEOUT)
                continue;
            if (st != AMQP_STATUS_OK) {
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "lost the RabbitMQ connection while waiting for confirms: %s",
                                 amqp_error_string2(st));
                break;
            }
            if (f.frame_type != AMQP_FRAME_METHOD)
                continue;
            switch (f.payload.method.id) {
            case AMQP_BASIC_ACK_METHOD:
            case AMQP_BASIC_NACK_METHOD: {
                bool ack = f.payload.method.id == AMQP_BASIC_ACK_METHOD;
                uint64_t tag = ack ? ((amqp_basic_ack_t *)f.payload.method.decoded)->delivery_tag
                                   : ((amqp_basic_nack_t *)f.payload.method.decoded)->delivery_tag;
                bool multiple = ack ? ((amqp_basic_ack_t *)f.payload.method.decoded)->multiple
                                    : ((amqp_basic_nack_t *)f.payload.method.decoded)->multiple;
                if (f.channel != ch)
                    break;
                for (size_t i = start; i < n; i++) {
                    if (state[i] != PENDING || !(tags[i] == tag || (multiple && tags[i] <= tag)))
                        continue;
                    state[i] = ack ? ACKED : REFUSED;
                    if (!ack)
                        snprintf(msgs[i].error, sizeof msgs[i].error, "RabbitMQ refused the message (basic.nack)");
                }
                break;
            }
            case AMQP_BASIC_RETURN_METHOD:
                drop_content(q, f.channel);
                break;
            case AMQP_CHANNEL_CLOSE_METHOD: {
                amqp_channel_close_t *m = f.payload.method.decoded;
                close_ok(q, f.channel, false);
                if (f.channel != ch)
                    break;
                /* the broker handles a channel's publishes in order: every
                 * message before the first unconfirmed one was confirmed,
                 * that one caused the close, the later ones were dropped */
                size_t bad = start;
                while (bad < n && state[bad] != PENDING)
                    bad++;
                if (bad < n) {
                    state[bad] = REFUSED;
                    snprintf(msgs[bad].error, sizeof msgs[bad].error, "RabbitMQ refused the message: %u %.*s",
                             m->reply_code, (int)m->reply_text.len, (const char *)m->reply_text.bytes);
                }
                q->publish_channel = 0;
                restart = bad + 1;
                break;
            }
            case AMQP_CONNECTION_CLOSE_METHOD: {
                amqp_connection_close_t *m = f.payload.method.decoded;
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "RabbitMQ closed the connection: %u %.*s", m->reply_code,
                                 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
                close_ok(q, 0, true);
                break;
            }
            default:
                break;
            }
            if (restart < n || !q->publish_channel)
                break;
        }
        if (!rc && restart < n) {
            for (size_t i = restart; i < n; i++)
                state[i] = PENDING;
            start = restart;
            continue;
        }
        break;
    }
    for (size_t i = 0; i < n; i++) {
        msgs[i].ok = state[i] == ACKED;
        if (!msgs[i].ok && !msgs[i].error[0])
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", rc && err ? err->msg : "not confirmed");
    }
    if (rc && q->conn) { /* the connection is in an unknown state: unusable from here */
        amqp_destroy_connection(q->conn);
        q->conn = NULL;
    }
    bpm_arena_free(a);
    return rc;
}

/* ---- consuming ------------------------------------------------------------------------ */

/* Failures counted per message (by message id, else by body), for the
 * requeued deliveries this consumer sees again. Bounded: the oldest entry
 * makes room. */
#define FAILS 1024
typedef struct fails {
    uint64_t key[FAILS];
    unsigned count[FAILS];
    size_t n, next;
} fails;

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static unsigned *fail_slot(fails *f, uint64_t key, bool add)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->key[i] == key)
            return &f->count[i];
    if (!add)
        return NULL;
    size_t i = f->n < FAILS ? f->n++ : (f->next++ % FAILS);
    f->key[i] = key;
    f->count[i] = 0;
    return &f->count[i];
}

static json_t *field_json(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        return json_boolean(v->value.boolean);
    case AMQP_FIELD_KIND_I8:
        return json_integer(v->value.i8);
    case AMQP_FIELD_KIND_U8:
        return json_integer(v->value.u8);
    case AMQP_FIELD_KIND_I16:
        return json_integer(v->value.i16);
    case AMQP_FIELD_KIND_U16:
        return json_integer(v->value.u16);
    case AMQP_FIELD_KIND_I32:
        return json_integer(v->value.i32);
    case AMQP_FIELD_KIND_U32:
        return json_integer(v->value.u32);
    case AMQP_FIELD_KIND_I64:
        return json_integer(v->value.i64);
    case AMQP_FIELD_KIND_U64:
        return json_integer((json_int_t)v->value.u64);
    case AMQP_FIELD_KIND_F32:
        return json_real(v->value.f32);
    case AMQP_FIELD_KIND_F64:
        return json_real(v->value.f64);
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: {
        json_t *s = json_stringn(v->value.bytes.bytes, v->value.bytes.len);
        return s ? s : json_null(); /* not UTF-8 */
    }
    case AMQP_FIELD_KIND_TIMESTAMP:
        return json_integer((json_int_t)v->value.u64);
    case AMQP_FIELD_KIND_TABLE: {
        json_t *o = json_object();
        for (int i = 0; i < v->value.table.num_entries; i++) {
            const amqp_table_entry_t *e = &v->value.table.entries[i];
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)e->key.len, (const char *)e->key.bytes);
            json_object_set_new(o, key, field_json(&e->value));
        }
        return o;
    }
    case AMQP_FIELD_KIND_ARRAY: {
        json_t *a = json_array();
        for (int i = 0; i < v->value.array.num_entries; i++)
            json_array_append_new(a, field_json(&v->value.array.entries[i]));
        return a;
    }
    default:
        return json_null();
    }
}

/* The basic properties other than message id, content type and headers,
 * by their AMQP 0-9-1 names in camel case (new reference). */
static json_t *properties_json(const amqp_basic_properties_t *p)
{
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof text_props / sizeof text_props[0]; i++) {
        if (!(p->_flags & text_props[i].flag))
            continue;
        const amqp_bytes_t *b = (const amqp_bytes_t *)((const char *)p + text_props[i].offset);
        json_t *v = json_stringn(b->bytes, b->len);
        if (v)
            json_object_set_new(o, text_props[i].name, v);
    }
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        json_object_set_new(o, "timestamp", json_integer((json_int_t)p->timestamp));
    if (p->_flags & AMQP_BASIC_PRIORITY_FLAG)
        json_object_set_new(o, "priority", json_integer(p->priority));
    if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        json_object_set_new(o, "deliveryMode", json_integer(p->delivery_mode));
    return o;
}

static bpm_rc declare(rmq *q, amqp_channel_t ch, const char *queue, bpm_err *err)
{
    amqp_queue_declare(q->conn, ch, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    bpm_rc rc = check(q->conn, "declare the queue", err);
    if (rc)
        bpm_err_where(err, "queue \"%s\"", queue);
    return rc;
}

/* Publishes a copy of a delivery to queue (by the default exchange), with
 * its body, message id and properties, its headers updated by set (a JSON
 * object, borrowed) and without the header strip (may be NULL), and waits
 * for the broker's confirm. The copies go through a second connection with
 * publisher confirms, opened on first use. */
static bpm_rc forward(rmq *q, const char *queue, const amqp_envelope_t *env, const char *message_id, const json_t *set,
                      const char *strip, bpm_err *err)
{
    if (!q->dead_letters) {
        void *d = NULL;
        bpm_rc rc = r_connect(q->url, &d, err);
        if (rc)
            return rc;
        q->dead_letters = d;
    }
    const amqp_basic_properties_t *p = &env->message.properties;
    json_t *props = properties_json(p), *headers = NULL;
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
        amqp_field_value_t t = {.kind = AMQP_FIELD_KIND_TABLE, .value.table = p->headers};
        headers = field_json(&t);
    } else {
        headers = json_object();
    }
    if (strip)
        json_object_del(headers, strip);
    json_object_update(headers, (json_t *)set);
    json_object_set_new(props, "headers", headers);
    char ct[256] = "";
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        snprintf(ct, sizeof ct, "%.*s", (int)p->content_type.len, (const char *)p->content_type.bytes);
    bpm_bridge_msg m = {.id = message_id, .destination = "", .key = queue, .body = env->message.body.bytes,
                        .body_len = env->message.body.len, .content_type = ct[0] ? ct : NULL, .properties = props};
    bpm_rc rc = r_publish(q->dead_letters, &m, 1, 10000, err);
    if (!rc && !m.ok)
        rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not publish a copy of a message to \"%s\": %s", queue, m.error);
    if (rc) {
        r_close(q->dead_letters);
        q->dead_letters = NULL;
    }
    json_decref(props);
    return rc;
}

/* A poison message to the dead-letter queue, with the reason, the failure
 * count and the source queue as headers; the retry count goes, so a message
 * moved back to its queue by an operator gets its tries again. */
static bpm_rc dead_letter(rmq *q, const char *dlq, const char *source, const amqp_envelope_t *env,
                          const char *message_id, unsigned failures, const char *reason, bpm_err *err)
{
    json_t *set = json_pack("{s:s, s:I, s:s}", "x-bpmnd-reason", reason && *reason ? reason : "rejected",
                            "x-bpmnd-failures", (json_int_t)failures, "x-bpmnd-source", source);
    bpm_rc rc = forward(q, dlq, env, message_id, set, RETRIES_HEADER, err);
    json_decref(set);
    return rc;
}

/* A counted failure goes back to the end of its queue as a copy carrying
 * the count (RETRIES_HEADER), then the delivery is acknowledged: the count
 * survives a consumer's restart, and a crash between the two leaves two
 * copies with one message id, which the engine's de-duplication absorbs. */
static bpm_rc retry_later(rmq *q, const char *source, const amqp_envelope_t *env, const char *message_id,
                          unsigned failures, bpm_err *err)
{
    json_t *set = json_pack("{s:I}", RETRIES_HEADER, (json_int_t)failures);
    bpm_rc rc = forward(q, source, env, message_id, set, NULL, err);
    json_decref(set);
    return rc;
}

static bpm_rc r_consume(void *self, const bpm_bridge_consume *cfg, bpm_bridge_handler *fn, void *ud,
                        bpm_bridge_consumed *counts, bpm_err *err)
{
    rmq *q = self;
    bpm_bridge_consumed got = {0};
    if (!q->conn)
        return bpm_err_set(err, BPM_UNAVAILABLE, "the RabbitMQ connection was lost");
    char dlq[512];
    snprintf(dlq, sizeof dlq, "%s%s", cfg->dead_letter ? cfg->dead_letter : cfg->source,
             cfg->dead_letter ? "" : ".dlq");
    unsigned max_failures = cfg->max_failures ? cfg->max_failures : 5;
    amqp_channel_t ch = open_channel(q, err);
    if (!ch)
        return BPM_UNAVAILABLE;
    bpm_rc rc;
    if ((rc = declare(q, ch, cfg->source, err)) || (rc = declare(q, ch, dlq, err)))
        return rc;
    amqp_basic_qos(q->conn, ch, 0, (uint16_t)(cfg->prefetch ? cfg->prefetch : 16), 0);
    if ((rc = check(q->conn, "set the prefetch", err)))
        return rc;
    amqp_basic_consume(q->conn, ch, amqp_cstring_bytes(cfg->source), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if ((rc = check(q->conn, "consume the queue", err)))
        return rc;
    fails *f = bpm_xcalloc(1, sizeof *f);
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (!rc) {
        if (cfg->stop && atomic_load(cfg->stop))
            break;
        if (cfg->max_messages && got.acked + got.retried + got.dead_lettered >= cfg->max_messages)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (cfg->idle_ms &&
            (now.tv_sec - last.tv_sec) * 1000LL + (now.tv_nsec - last.tv_nsec) / 1000000 >= cfg->idle_ms)
            break;
        amqp_maybe_release_buffers(q->conn);
        amqp_envelope_t env;
        struct timeval tv = {0, 200000};
        amqp_rpc_reply_t r = amqp_consume_message(q->conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
            continue;
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            /* something other than a delivery: a close ends the loop */
            amqp_frame_t fr;
            if (amqp_simple_wait_frame(q->conn, &fr) != AMQP_STATUS_OK) {
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "lost the RabbitMQ connection while consuming");
            } else if (fr.frame_type == AMQP_FRAME_METHOD && (fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
                                                               fr.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD)) {
                close_ok(q, fr.channel, fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD);
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "RabbitMQ closed the %s while consuming \"%s\"",
                                 fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ? "connection" : "channel",
                                 cfg->source);
            }
            continue;
        }
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            char why[300];
            reply_text(r, why, sizeof why);
            rc = bpm_err_set(err, BPM_UNAVAILABLE, "lost the RabbitMQ connection while consuming: %s", why);
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &last);
        const amqp_basic_properties_t *p = &env.message.properties;
        char id[256] = "", ct[256] = "";
        if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
            snprintf(id, sizeof id, "%.*s", (int)p->message_id.len, (const char *)p->message_id.bytes);
        if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
            snprintf(ct, sizeof ct, "%.*s", (int)p->content_type.len, (const char *)p->content_type.bytes);
        json_t *headers = NULL;
        if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
            amqp_field_value_t t = {.kind = AMQP_FIELD_KIND_TABLE, .value.table = p->headers};
            headers = field_json(&t);
        } else {
            headers = json_object();
        }
        json_t *props = properties_json(p);
        char exch[256], rkey[256];
        snprintf(exch, sizeof exch, "%.*s", (int)env.exchange.len, (const char *)env.exchange.bytes);
        snprintf(rkey, sizeof rkey, "%.*s", (int)env.routing_key.len, (const char *)env.routing_key.bytes);
        uint64_t key = id[0] ? fnv(id, strlen(id), 14695981039346656037ULL)
                             : fnv(env.message.body.bytes, env.message.body.len, 1469598103934665603ULL);
        unsigned *slot = fail_slot(f, key, false);
        /* the count a requeued copy carries; else this process's own (a copy
         * could not be published) */
        json_int_t carried = json_integer_value(json_object_get(headers, RETRIES_HEADER));
        unsigned earlier = carried > 0 && carried < 100000 ? (unsigned)carried : 0;
        if (slot && *slot > earlier)
            earlier = *slot;
        json_object_del(headers, RETRIES_HEADER); /* the mapping sees the message as sent */
        bpm_bridge_delivery d = {.source = cfg->source, .message_id = id[0] ? id : NULL,
                                 .body = env.message.body.bytes, .body_len = env.message.body.len,
                                 .content_type = ct[0] ? ct : NULL, .headers = headers,
                                 .exchange = exch, .routing_key = rkey, .properties = props,
                                 .redelivered = env.redelivered, .failures = earlier};
        char reason[512] = "";
        bpm_bridge_verdict v = fn(ud, &d, reason, sizeof reason);
        int st = AMQP_STATUS_OK;
        if (v == BPM_BRIDGE_REQUEUE) {
            st = amqp_basic_nack(q->conn, ch, env.delivery_tag, 0, 1); /* not counted: not the message's fault */
            got.requeued++;
        } else if (v == BPM_BRIDGE_OK) {
            st = amqp_basic_ack(q->conn, ch, env.delivery_tag, 0);
            if (slot)
                *slot = 0;
            got.acked++;
        } else {
            unsigned failures = d.failures + 1;
            if (v == BPM_BRIDGE_RETRY && failures < max_failures) {
                bpm_err rerr = {0};
                if (retry_later(q, cfg->source, &env, d.message_id, failures, &rerr) == BPM_OK) {
                    st = amqp_basic_ack(q->conn, ch, env.delivery_tag, 0);
                    if (slot)
                        *slot = 0;
                } else {
                    /* no copy: back to the queue, counted in memory only */
                    *fail_slot(f, key, true) = failures;
                    st = amqp_basic_nack(q->conn, ch, env.delivery_tag, 0, 1);
                }
                got.retried++;
            } else {
                bpm_err derr = {0};
                if (!reason[0])
                    snprintf(reason, sizeof reason, "%s", v == BPM_BRIDGE_REJECT ? "rejected" : "failed");
                if (dead_letter(q, dlq, cfg->source, &env, d.message_id, failures, reason, &derr)) {
                    /* not dead-lettered: back to the queue, never lost */
                    *fail_slot(f, key, true) = failures;
                    st = amqp_basic_nack(q->conn, ch, env.delivery_tag, 0, 1);
                    got.retried++;
                } else {
                    st = amqp_basic_ack(q->conn, ch, env.delivery_tag, 0);
                    if (slot)
                        *slot = 0;
                    got.dead_lettered++;
                }
            }
        }
        json_decref(headers);
        json_decref(props);
        amqp_destroy_envelope(&env);
        if (st != AMQP_STATUS_OK)
            rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not acknowledge a delivery: %s", amqp_error_string2(st));
    }
    free(f);
    if (!rc) {
        amqp_channel_close(q->conn, ch, AMQP_REPLY_SUCCESS); /* unacknowledged deliveries go back to the queue */
    } else if (q->conn) {
        amqp_destroy_connection(q->conn);
        q->conn = NULL;
    }
    if (counts)
        *counts = got;
    return rc;
}

static const bpm_bridge_ops ops = {"rabbitmq", r_connect, r_publish, r_consume, r_close};

const bpm_bridge_ops *bpm_rabbitmq_bridge(void) { return &ops; }
