/*
 * tls.c -- see tls.h.
 *
 * Two things OpenSSL asks of a non-blocking caller shape this file:
 *
 * - SSL_read and SSL_write report what they wait for (WANT_READ or
 *   WANT_WRITE), which is not always their own direction; the watchers
 *   follow those wants (update_watchers) rather than the owner's wishes
 *   alone.
 * - A write that blocked must be offered again with the same bytes, at
 *   least as many.  The owners' queues only grow at the tail and advance by
 *   what was reported written, so the next offer starts at the same byte;
 *   and tls_writev chooses its records so that it is never shorter (see
 *   there).  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets those bytes sit at
 *   another address the second time.
 */
#include "common/tls.h"

#include "common/defs.h"
#include "common/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* One record's plaintext (SSL3_RT_MAX_PLAIN_LENGTH): small pieces are
 * gathered up to this, a piece this large goes to SSL_write as it is. */
#define TLS_RECORD_MAX 16384
#define TLS_SESSION_ID_CONTEXT "slotcache"
#define TLS_DEFAULT_PROTOCOLS "TLSv1.2 TLSv1.3"

const struct conf_enum tls_auth_names[] = {
    {"no", TLS_AUTH_NO},
    {"yes", TLS_AUTH_YES},
    {"optional", TLS_AUTH_OPTIONAL},
    {NULL, 0},
};

struct tls_ctx {
    SSL_CTX *ssl_ctx;
    enum tls_side side;
    double handshake_timeout; /* seconds */
};

enum tls_state { TLS_ST_HANDSHAKE, TLS_ST_OPEN, TLS_ST_FAILED };

typedef void tls_io_fn(struct ev_loop *loop, ev_io *w, int revents);

struct tls {
    SSL *ssl;
    const struct tls_ctx *ctx;
    struct ev_loop *loop; /* NULL until attached */
    ev_io *rd, *wr;       /* the owner's watchers */
    tls_io_fn *owner_rd;  /* their own callbacks */
    tls_io_fn *owner_wr;
    tls_ready_fn *ready;
    void *arg;
    ev_timer timer; /* the handshake's deadline */
    enum tls_state state;
    bool hs_wants_write;   /* the handshake waits for writability */
    bool want_rd, want_wr; /* the owner's wishes */
    bool rd_needs_wr;      /* the last SSL_read waits for writability */
    bool wr_needs_rd;      /* the last SSL_write waits for readability */
    bool more;             /* a read filled its buffer; OpenSSL holds more */
    bool stopped;          /* tls_stop: no more callbacks */
    bool fatal;            /* broken: no close_notify */
    bool dead;             /* destroyed inside a callback: freed on unwind */
    int depth;             /* owner callbacks running */
    char errstr[TLS_ERR_MAX];
};

/* ---- contexts ---- */

/* The earliest error on OpenSSL's queue (the cause; later ones are the
 * layers it went through), then the queue is emptied. */
static void
take_ssl_error(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_get_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    if (reason != NULL) {
        snprintf(buf, len, "%s", reason);
    } else if (e != 0) {
        ERR_error_string_n(e, buf, len);
    } else {
        snprintf(buf, len, "%s", fallback);
    }
    ERR_clear_error();
}

/* A file the directive names must be readable: say so in errno's words
 * before OpenSSL says it in its own. */
static int
check_readable(const char *directive, const char *path, bool dir, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", directive, path, strerror(errno));
        return SC_ERR;
    }
    if (dir != S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: %s", directive, path,
                 dir ? "not a directory" : "is a directory");
        return SC_ERR;
    }
    return SC_OK;
}

/* "tls-key-file /x: not a usable private key (bad decrypt)": what was
 * wrong with a directive's value, in our words and then OpenSSL's. */
static void
ssl_failure(const char *directive, const char *value, const char *what, char *err, size_t errlen)
{
    char why[TLS_ERR_MAX];

    take_ssl_error(why, sizeof(why), "rejected by OpenSSL");
    snprintf(err, errlen, "%s %s: %s (%s)", directive, value, what, why);
}

/* The passphrase callback: the configured one, never a terminal prompt
 * (OpenSSL's default would read one from the tty of a server). */
static int
passphrase(char *buf, int size, int rwflag, void *userdata)
{
    const char *pass = userdata;
    size_t n = pass != NULL ? strlen(pass) : 0;

    (void)rwflag;
    if (n == 0 || n > (size_t)size) {
        return 0;
    }
    memcpy(buf, pass, n);
    return (int)n;
}

static int
load_cert_and_key(SSL_CTX *ctx, const char *cert_dir, const char *cert, const char *key_dir,
                  const char *key, const char *pass, char *err, size_t errlen)
{
    if (check_readable(cert_dir, cert, false, err, errlen) != SC_OK ||
        check_readable(key_dir, key, false, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_failure(cert_dir, cert, "not a usable PEM certificate", err, errlen);
        return SC_ERR;
    }
    SSL_CTX_set_default_passwd_cb(ctx, passphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)pass);
    int ok = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (ok == 1) {
        return SC_OK;
    }
    /* Loading the key also checks it against the certificate. */
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        snprintf(err, errlen, "%s %s is not the key of %s %s", key_dir, key, cert_dir, cert);
    } else {
        ssl_failure(key_dir, key,
                    pass != NULL && pass[0] != '\0'
                        ? "not a usable PEM private key, or not encrypted with that passphrase"
                        : "not a usable PEM private key, or an encrypted one without a passphrase",
                    err, errlen);
    }
    return SC_ERR;
}

/* tls-protocols "TLSv1.2 TLSv1.3" -> the SSL_OP_NO_* of those not named
 * (redis's reading: any combination, case-insensitive). */
static int
protocol_options(const char *spec, uint64_t *no, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        uint64_t op;
    } versions[] = {
        {"TLSv1", SSL_OP_NO_TLSv1},
        {"TLSv1.1", SSL_OP_NO_TLSv1_1},
        {"TLSv1.2", SSL_OP_NO_TLSv1_2},
        {"TLSv1.3", SSL_OP_NO_TLSv1_3},
    };
    uint64_t all = 0;
    char *copy = mem_strdup(spec[0] != '\0' ? spec : TLS_DEFAULT_PROTOCOLS);
    char *save = NULL;
    int rc = SC_OK;

    for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
        all |= versions[i].op;
    }
    *no = all;
    for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        size_t i = 0;
        while (i < ARRAY_LEN(versions) && strcasecmp(w, versions[i].name) != 0) {
            i++;
        }
        if (i == ARRAY_LEN(versions)) {
            snprintf(err, errlen,
                     "tls-protocols: unknown protocol '%s' (TLSv1 TLSv1.1 TLSv1.2 "
                     "TLSv1.3)",
                     w);
            rc = SC_ERR;
            break;
        }
        *no &= ~versions[i].op;
    }
    mem_free(copy);
    if (rc == SC_OK && *no == all) {
        snprintf(err, errlen, "tls-protocols: no protocol enabled");
        rc = SC_ERR;
    }
    return rc;
}

static int
setup_common(SSL_CTX *ctx, const struct tls_options *o, char *err, size_t errlen)
{
    uint64_t no_versions;

    if (protocol_options(o->protocols, &no_versions, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    uint64_t opts = no_versions | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                    SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (o->prefer_server_ciphers) {
        opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    }
    SSL_CTX_set_options(ctx, opts);
    /* Partial writes: SSL_write returns after each record, as write(2) does
     * after what the socket took.  Moving buffer: see the file comment.
     * Not SSL_MODE_RELEASE_BUFFERS: it frees the record buffers whenever
     * they empty, which is after every request and every reply -- three
     * 17-20 KB mallocs per GET; a session keeps its buffers, as redis's do. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read-ahead: one recv(2) takes what has arrived, not a record header
     * and then its body; what it takes beyond one record is SSL_pending's
     * business (tls.h). */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (o->ciphers[0] != '\0' && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1) {
        ssl_failure("tls-ciphers", o->ciphers, "no usable cipher", err, errlen);
        return SC_ERR;
    }
    if (o->ciphersuites[0] != '\0' && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
        ssl_failure("tls-ciphersuites", o->ciphersuites, "no usable ciphersuite", err, errlen);
        return SC_ERR;
    }
    if (o->ca_cert_file[0] == '\0' && o->ca_cert_dir[0] == '\0') {
        snprintf(err, errlen, "either tls-ca-cert-file or tls-ca-cert-dir must be specified");
        return SC_ERR;
    }
    if ((o->ca_cert_file[0] != '\0' &&
         check_readable("tls-ca-cert-file", o->ca_cert_file, false, err, errlen) != SC_OK) ||
        (o->ca_cert_dir[0] != '\0' &&
         check_readable("tls-ca-cert-dir", o->ca_cert_dir, true, err, errlen) != SC_OK)) {
        return SC_ERR;
    }
    const char *file = o->ca_cert_file[0] != '\0' ? o->ca_cert_file : NULL;
    const char *dir = o->ca_cert_dir[0] != '\0' ? o->ca_cert_dir : NULL;
    if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1) {
        ssl_failure(file != NULL ? "tls-ca-cert-file" : "tls-ca-cert-dir",
                    file != NULL ? file : dir, "no usable CA certificate", err, errlen);
        return SC_ERR;
    }
    return SC_OK;
}

static int
setup_server(SSL_CTX *ctx, const struct tls_options *o, char *err, size_t errlen)
{
    static const int verify[] = {
        [TLS_AUTH_NO] = SSL_VERIFY_NONE,
        [TLS_AUTH_YES] = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
        [TLS_AUTH_OPTIONAL] = SSL_VERIFY_PEER,
    };

    if (o->cert_file[0] == '\0' || o->key_file[0] == '\0') {
        snprintf(err, errlen, "tls-cert-file and tls-key-file are required for a TLS port");
        return SC_ERR;
    }
    if (load_cert_and_key(ctx, "tls-cert-file", o->cert_file, "tls-key-file", o->key_file,
                          o->key_file_pass, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    SSL_CTX_set_verify(ctx, verify[o->auth_clients], NULL);
    /* Resumption needs the context named even when it is off (OpenSSL
     * refuses a resumed session with a client certificate otherwise). */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)TLS_SESSION_ID_CONTEXT,
                                   sizeof(TLS_SESSION_ID_CONTEXT) - 1);
    if (o->session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, o->session_cache_size);
        SSL_CTX_set_timeout(ctx, o->session_cache_timeout);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    return SC_OK;
}

/* The client side presents tls-client-cert-file, else tls-cert-file, else
 * nothing (servers with tls-auth-clients no do not ask), and always
 * verifies the server's chain, as redis's replicas do. */
static int
setup_client(SSL_CTX *ctx, const struct tls_options *o, char *err, size_t errlen)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (o->client_cert_file != NULL && o->client_cert_file[0] != '\0') {
        if (o->client_key_file[0] == '\0') {
            snprintf(err, errlen, "tls-client-key-file is required with tls-client-cert-file");
            return SC_ERR;
        }
        return load_cert_and_key(ctx, "tls-client-cert-file", o->client_cert_file,
                                 "tls-client-key-file", o->client_key_file, o->client_key_file_pass,
                                 err, errlen);
    }
    if (o->cert_file[0] != '\0' && o->key_file[0] != '\0') {
        return load_cert_and_key(ctx, "tls-cert-file", o->cert_file, "tls-key-file", o->key_file,
                                 o->key_file_pass, err, errlen);
    }
    return SC_OK;
}

struct tls_ctx *
tls_ctx_create(const struct tls_options *o, enum tls_side side, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(side == TLS_SERVER ? TLS_server_method() : TLS_client_method());

    if (ctx == NULL) {
        ssl_failure("TLS", "context", "cannot be created", err, errlen);
        return NULL;
    }
    int rc = setup_common(ctx, o, err, errlen);
    if (rc == SC_OK) {
        rc = side == TLS_SERVER ? setup_server(ctx, o, err, errlen)
                                : setup_client(ctx, o, err, errlen);
    }
    if (rc != SC_OK) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    struct tls_ctx *c = mem_calloc(1, sizeof(*c));
    c->ssl_ctx = ctx;
    c->side = side;
    c->handshake_timeout = (double)o->handshake_timeout_ms / 1000.0;
    return c;
}

void
tls_ctx_destroy(struct tls_ctx **cp)
{
    struct tls_ctx *c = *cp;

    if (c == NULL) {
        return;
    }
    *cp = NULL;
    SSL_CTX_free(c->ssl_ctx);
    mem_free(c);
}

/* ---- sessions ---- */

struct tls *
tls_create(struct tls_ctx *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx->ssl_ctx);

    /* Only allocations fail here: out of memory aborts, as mem_alloc does. */
    sc_assert(ssl != NULL && SSL_set_fd(ssl, fd) == 1);
    if (ctx->side == TLS_SERVER) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
    }
    struct tls *t = mem_calloc(1, sizeof(*t));
    t->ssl = ssl;
    t->ctx = ctx;
    t->state = TLS_ST_HANDSHAKE;
    /* A client speaks first: its hello goes out once the socket is writable. */
    t->hs_wants_write = ctx->side == TLS_CLIENT;
    return t;
}

const char *
tls_errstr(const struct tls *t)
{
    return t->errstr;
}

static void
set_watch(struct ev_loop *loop, ev_io *w, bool on)
{
    if (on && !ev_is_active(w)) {
        ev_io_start(loop, w);
    } else if (!on && ev_is_active(w)) {
        ev_io_stop(loop, w);
    }
}

/* Starts the watchers the session's state needs: the handshake's one want,
 * or the owner's wishes corrected by what a blocked call waits for. */
static void
update_watchers(struct tls *t)
{
    bool rd = false, wr = false;

    if (t->loop == NULL) {
        return;
    }
    if (t->stopped) {
        /* nothing */
    } else if (t->state == TLS_ST_HANDSHAKE) {
        rd = !t->hs_wants_write;
        wr = t->hs_wants_write;
    } else if (t->state == TLS_ST_OPEN) {
        rd = (t->want_rd && !t->rd_needs_wr) || t->wr_needs_rd;
        wr = (t->want_wr && !t->wr_needs_rd) || t->rd_needs_wr;
    }
    set_watch(t->loop, t->rd, rd);
    set_watch(t->loop, t->wr, wr);
}

static void
free_session(struct tls *t)
{
    SSL_free(t->ssl);
    mem_free(t);
}

/* After an owner callback: false if it destroyed t, which is then freed. */
static bool
unwind(struct tls *t)
{
    t->depth--;
    if (t->dead) {
        if (t->depth == 0) {
            free_session(t);
        }
        return false;
    }
    return true;
}

static bool
call_owner(struct tls *t, tls_io_fn *cb, ev_io *w, int revents)
{
    t->depth++;
    cb(t->loop, w, revents);
    return unwind(t);
}

static bool
call_ready(struct tls *t, bool ok)
{
    char err[TLS_ERR_MAX];

    snprintf(err, sizeof(err), "%s", ok ? "" : t->errstr); /* t may go during the call */
    t->depth++;
    t->ready(t->arg, ok, err);
    return unwind(t);
}

/* Why a handshake or an I/O call failed, into t->errstr: a failed
 * certificate check says which check. */
static void
note_ssl_error(struct tls *t, int ssl_err, int sys_errno)
{
    if (ssl_err == SSL_ERROR_SYSCALL) {
        snprintf(t->errstr, sizeof(t->errstr), "%s",
                 sys_errno != 0 ? strerror(sys_errno) : "connection closed");
        ERR_clear_error();
        return;
    }
    long v = SSL_get_verify_result(t->ssl);
    take_ssl_error(t->errstr, sizeof(t->errstr), "TLS error");
    if (v != X509_V_OK) {
        size_t n = strlen(t->errstr);
        snprintf(t->errstr + n, sizeof(t->errstr) - n, ": %s", X509_verify_cert_error_string(v));
    }
}

static void
fail_handshake(struct tls *t)
{
    t->state = TLS_ST_FAILED;
    t->fatal = true;
    ev_timer_stop(t->loop, &t->timer);
    update_watchers(t);
    call_ready(t, false);
}

static void
handshake(struct tls *t)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    int sys_errno = errno;

    if (r == 1) {
        t->state = TLS_ST_OPEN;
        ev_timer_stop(t->loop, &t->timer);
        update_watchers(t);
        if (call_ready(t, true) && t->state == TLS_ST_OPEN && t->want_rd && !t->stopped) {
            /* The peer's first request may have come with its last
             * handshake flight and sit in OpenSSL's buffer already. */
            ev_feed_event(t->loop, t->rd, EV_READ);
        }
        return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->hs_wants_write = e == SSL_ERROR_WANT_WRITE;
        update_watchers(t);
        return;
    }
    note_ssl_error(t, e, sys_errno);
    fail_handshake(t);
}

static void
on_handshake_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tls *t = w->data;

    (void)loop;
    (void)revents;
    snprintf(t->errstr, sizeof(t->errstr), "handshake not done within %.0f ms",
             t->ctx->handshake_timeout * 1000.0);
    fail_handshake(t);
}

/* The owner's read callback, then once more (from the loop) if it filled
 * its buffer and OpenSSL still holds bytes for it: no socket event would
 * say so.  False if the owner destroyed t. */
static bool
read_owner(struct tls *t)
{
    t->more = false;
    if (!call_owner(t, t->owner_rd, t->rd, EV_READ)) {
        return false;
    }
    if (t->more && t->want_rd && !t->stopped) {
        ev_feed_event(t->loop, t->rd, EV_READ);
    }
    return true;
}

static bool
write_owner(struct tls *t)
{
    return call_owner(t, t->owner_wr, t->wr, EV_WRITE);
}

/* The socket is readable (or writable): the handshake's step; or first the
 * blocked call of the other direction that waits for this, then the
 * owner's callback of this direction if it wants it. */
static void
on_event(struct tls *t, bool readable)
{
    bool (*const mine)(struct tls *) = readable ? read_owner : write_owner;
    bool (*const other)(struct tls *) = readable ? write_owner : read_owner;

    if (t->stopped) {
        return;
    }
    if (t->state == TLS_ST_HANDSHAKE) {
        handshake(t);
        return;
    }
    if ((readable ? t->wr_needs_rd : t->rd_needs_wr) && !other(t)) {
        return; /* destroyed */
    }
    bool wanted = readable ? t->want_rd && !t->rd_needs_wr : t->want_wr && !t->wr_needs_rd;
    if (t->state == TLS_ST_OPEN && !t->stopped && wanted) {
        mine(t);
    }
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    on_event(w->data, true);
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    on_event(w->data, false);
}

void
tls_attach(struct tls *t, struct ev_loop *loop, ev_io *rd, ev_io *wr, tls_ready_fn *ready,
           void *arg)
{
    t->loop = loop;
    t->rd = rd;
    t->wr = wr;
    t->owner_rd = rd->cb;
    t->owner_wr = wr->cb;
    t->ready = ready;
    t->arg = arg;
    ev_set_cb(rd, on_readable);
    ev_set_cb(wr, on_writable);
    rd->data = wr->data = t;
    ev_timer_init(&t->timer, on_handshake_timeout, t->ctx->handshake_timeout, 0.0);
    t->timer.data = t;
    ev_timer_start(loop, &t->timer);
    update_watchers(t);
}

void
tls_stop(struct tls *t)
{
    t->stopped = true;
    if (t->loop != NULL) {
        /* ev_io_stop also drops an event fed but not yet delivered. */
        ev_io_stop(t->loop, t->rd);
        ev_io_stop(t->loop, t->wr);
        ev_timer_stop(t->loop, &t->timer);
    }
}

void
tls_destroy(struct tls **tp)
{
    struct tls *t = *tp;

    if (t == NULL) {
        return;
    }
    *tp = NULL;
    tls_stop(t);
    if (t->loop != NULL) {
        ev_set_cb(t->rd, t->owner_rd);
        ev_set_cb(t->wr, t->owner_wr);
        t->rd->data = t->wr->data = NULL;
    }
    if (t->state == TLS_ST_OPEN && !t->fatal) {
        /* close_notify, best effort: the socket closes right after. */
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    t->state = TLS_ST_FAILED;
    if (t->depth > 0) {
        t->dead = true; /* freed when the callback returns (unwind) */
        return;
    }
    free_session(t);
}

void
tls_want_read(struct tls *t, bool want)
{
    if (t->want_rd == want) {
        return;
    }
    t->want_rd = want;
    update_watchers(t);
    if (want && t->state == TLS_ST_OPEN && !t->stopped && SSL_has_pending(t->ssl)) {
        ev_feed_event(t->loop, t->rd, EV_READ);
    }
}

void
tls_want_write(struct tls *t, bool want)
{
    if (t->want_wr != want) {
        t->want_wr = want;
        update_watchers(t);
    }
}

static void
set_blocked(struct tls *t, bool *flag, bool blocked)
{
    if (*flag != blocked) {
        *flag = blocked;
        update_watchers(t);
    }
}

/* -1 with errno for a read or write that did not happen (0: end of
 * stream, for a read). */
static ssize_t
io_failure(struct tls *t, int ssl_err, int sys_errno, bool reading)
{
    switch (ssl_err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        /* close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a plain close:
         * RESP is self-delimiting, a truncated stream is seen as such. */
        snprintf(t->errstr, sizeof(t->errstr), "connection closed");
        if (reading) {
            return 0;
        }
        errno = EPIPE;
        return -1;
    default:
        t->fatal = true;
        note_ssl_error(t, ssl_err, sys_errno);
        errno = ssl_err == SSL_ERROR_SYSCALL && sys_errno != 0 ? sys_errno : EPROTO;
        return -1;
    }
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len)
{
    size_t got = 0, n;
    int e = SSL_ERROR_NONE, sys_errno = 0;

    if (t->state != TLS_ST_OPEN) {
        errno = t->state == TLS_ST_HANDSHAKE ? EAGAIN : EPIPE;
        return -1;
    }
    ERR_clear_error();
    /* Until the buffer is full or the socket is drained -- but after a
     * short record with nothing behind it in OpenSSL (a request, not a
     * stream) the socket is not asked again: that recv(2) would say
     * EAGAIN, a wasted syscall per request; the watcher fires if more
     * has come. */
    do {
        errno = 0;
        if (SSL_read_ex(t->ssl, (char *)buf + got, len - got, &n) != 1) {
            sys_errno = errno;
            e = SSL_get_error(t->ssl, 0);
            break;
        }
        got += n;
    } while (got < len && (n == TLS_RECORD_MAX || SSL_has_pending(t->ssl)));
    set_blocked(t, &t->rd_needs_wr, e == SSL_ERROR_WANT_WRITE);
    if (got == len && SSL_has_pending(t->ssl)) {
        t->more = true;
    }
    if (got > 0) {
        return (ssize_t)got; /* a failure after them shows on the next read */
    }
    return io_failure(t, e, sys_errno, true);
}

/* Copies bytes from iov (starting at piece i, offset off) into rec, up to
 * one record; returns how many. */
static size_t
gather(char *rec, const struct iovec *iov, int n, int i, size_t off)
{
    size_t len = 0;

    for (; i < n && len < TLS_RECORD_MAX; i++, off = 0) {
        size_t take = MIN(iov[i].iov_len - off, (size_t)TLS_RECORD_MAX - len);
        memcpy(rec + len, (const char *)iov[i].iov_base + off, take);
        len += take;
    }
    return len;
}

/*
 * Each SSL_write makes at least one record and one send(2).  A piece of a
 * record's size or more is written from where it lies; smaller pieces (a
 * pipeline's replies) are first gathered into one record, which costs a
 * copy of at most 16 KB instead of a record and a syscall per piece.
 *
 * After a blocked SSL_write, the next call starts at the same byte (the
 * caller advanced by what was returned) with at least as many bytes behind
 * it, so its first SSL_write is at least as long as the blocked one, as
 * OpenSSL requires: a piece that was gathered is gathered again (or has
 * grown to a record and is written whole), a whole piece is still whole.
 */
ssize_t
tls_writev(struct tls *t, const struct iovec *iov, int n)
{
    char rec[TLS_RECORD_MAX];
    size_t sent = 0, off = 0;
    int i = 0, e = SSL_ERROR_NONE, sys_errno = 0;

    if (t->state != TLS_ST_OPEN) {
        errno = t->state == TLS_ST_HANDSHAKE ? EAGAIN : EPIPE;
        return -1;
    }
    while (i < n) {
        const char *p = (const char *)iov[i].iov_base + off;
        size_t len = iov[i].iov_len - off, w;
        if (len == 0) {
            i++;
            off = 0;
            continue;
        }
        if (len < TLS_RECORD_MAX && i + 1 < n) {
            len = gather(rec, iov, n, i, off);
            p = rec;
        }
        ERR_clear_error();
        errno = 0;
        if (SSL_write_ex(t->ssl, p, len, &w) != 1) {
            sys_errno = errno;
            e = SSL_get_error(t->ssl, 0);
            break;
        }
        sent += w;
        for (off += w; i < n && off >= iov[i].iov_len; i++) {
            off -= iov[i].iov_len;
        }
    }
    set_blocked(t, &t->wr_needs_rd, e == SSL_ERROR_WANT_READ);
    if (sent > 0 || e == SSL_ERROR_NONE) {
        return (ssize_t)sent;
    }
    return io_failure(t, e, sys_errno, false);
}
