/*
 * tls.h -- TLS (OpenSSL) under a connection's reads and writes.
 *
 * A struct tls_ctx is one SSL_CTX built from the tls-* directives: the
 * server side of a TLS listener, or the client side of the proxy's node
 * connections.  A struct tls is one connection's session.
 *
 * The owner keeps its socket, its two ev_io watchers (rd, wr) and their
 * callbacks; tls_attach() puts the TLS layer between the watchers and those
 * callbacks:
 *
 *     socket readiness ──> rd/wr watcher ──> tls trampoline ──> owner's rd/wr callback
 *                                              (handshake, cross wants, SSL_pending)
 *
 * Until the handshake is done the layer drives it alone, and gives up at
 * tls-handshake-timeout, so a client that stalls in it never holds a slot
 * for long; then it calls the owner's ready function.  From then on the
 * owner says what it waits for with tls_want_read()/tls_want_write() rather
 * than starting its watchers itself, and reads and writes through
 * tls_read()/tls_writev(), which behave like read(2)/writev(2): -1 with
 * errno EAGAIN when they would block.  tls_io_read()/tls_io_writev() pick
 * the plain syscall when a connection has no TLS, so one code path serves
 * both and a plain connection pays one branch.
 *
 * Why the layer and not the owner arms the watchers (redis's tls.c does the
 * same): an SSL_read may need the socket writable (a TLS 1.3 KeyUpdate is
 * answered from inside it), an SSL_write may need it readable; the layer
 * watches for what the blocked call needs and then calls the owner's
 * callback of that call's direction.  And bytes OpenSSL has already taken
 * from the socket (read-ahead, SSL_pending) would never wake the loop again:
 * when a read filled the owner's buffer and the session still holds data,
 * the layer calls the owner's read callback once more.
 *
 * Renegotiation is refused (TLS 1.2) or absent (TLS 1.3): after the
 * handshake, application data flows without another one.
 *
 * Nothing here logs: failures come back as errstr for the caller to log.
 */
#pragma once

#include "common/conf.h"

#include <ev.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define TLS_ERR_MAX 256

enum tls_auth { TLS_AUTH_NO, TLS_AUTH_YES, TLS_AUTH_OPTIONAL };
enum tls_side { TLS_SERVER, TLS_CLIENT };

/* The tls-* directives (redis.conf's names and defaults). */
struct tls_options {
    char *cert_file;
    char *key_file;
    char *key_file_pass;
    char *client_cert_file; /* outgoing connections; default: cert_file */
    char *client_key_file;
    char *client_key_file_pass;
    char *ca_cert_file;
    char *ca_cert_dir;
    int auth_clients;   /* enum tls_auth */
    char *protocols;    /* "TLSv1.2 TLSv1.3" */
    char *ciphers;      /* TLS 1.2 and below; "": OpenSSL's default */
    char *ciphersuites; /* TLS 1.3 */
    bool prefer_server_ciphers;
    bool session_caching;
    long long session_cache_size;
    long long session_cache_timeout; /* seconds */
    long long handshake_timeout_ms;
};

extern const struct conf_enum tls_auth_names[];

/* The directives every TLS-speaking binary shares, for its option table:
 * TLS_CONF_OPTIONS(server.opt.tls), between other CONF_*_OPT entries. */
#define TLS_CONF_OPTIONS(o)                                                                        \
    CONF_STR_OPT("tls-cert-file", &(o).cert_file, "", 0, NULL,                                     \
                 "PEM certificate (chain) presented to TLS peers"),                                \
        CONF_STR_OPT("tls-key-file", &(o).key_file, "", 0, NULL,                                   \
                     "PEM private key of tls-cert-file"),                                          \
        CONF_STR_OPT("tls-key-file-pass", &(o).key_file_pass, "", 0, NULL,                         \
                     "passphrase of an encrypted tls-key-file"),                                   \
        CONF_STR_OPT("tls-ca-cert-file", &(o).ca_cert_file, "", 0, NULL,                           \
                     "PEM bundle of the CAs that peers' certificates must chain to"),              \
        CONF_STR_OPT(                                                                              \
            "tls-ca-cert-dir", &(o).ca_cert_dir, "", 0, NULL,                                      \
            "directory of CA certificates (c_rehash layout), beside or instead of the file"),      \
        CONF_ENUM_OPT("tls-auth-clients", &(o).auth_clients, "yes", tls_auth_names, 0, NULL,       \
                      "yes: clients must present a valid certificate; optional: if they present "  \
                      "one it must be valid; no: none is asked for"),                              \
        CONF_STR_OPT("tls-protocols", &(o).protocols, "TLSv1.2 TLSv1.3", 0, NULL,                  \
                     "protocol versions allowed: any of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"),           \
        CONF_STR_OPT("tls-ciphers", &(o).ciphers, "", 0, NULL,                                     \
                     "OpenSSL cipher list for TLS 1.2 and below (empty: OpenSSL's default)"),      \
        CONF_STR_OPT("tls-ciphersuites", &(o).ciphersuites, "", 0, NULL,                           \
                     "TLS 1.3 ciphersuites, colon-separated (empty: OpenSSL's default)"),          \
        CONF_BOOL_OPT("tls-prefer-server-ciphers", &(o).prefer_server_ciphers, "no", 0, NULL,      \
                      "choose the cipher by the server's order rather than the client's"),         \
        CONF_BOOL_OPT("tls-session-caching", &(o).session_caching, "yes", 0, NULL,                 \
                      "let clients resume TLS sessions (a cheaper reconnect)"),                    \
        CONF_INT_OPT("tls-session-cache-size", &(o).session_cache_size, "20480", 0, INT_MAX, 0,    \
                     NULL, "sessions kept for resumption (0: unlimited)"),                         \
        CONF_INT_OPT("tls-session-cache-timeout", &(o).session_cache_timeout, "300", 1, INT_MAX,   \
                     0, NULL, "seconds a cached session may be resumed"),                          \
        CONF_INT_OPT("tls-handshake-timeout", &(o).handshake_timeout_ms, "10000", 10, INT_MAX, 0,  \
                     NULL, "ms a TLS handshake may take before the connection is closed")

/* The client-side directives of a binary that connects out over TLS. */
#define TLS_CONF_CLIENT_OPTIONS(o)                                                                 \
    CONF_STR_OPT("tls-client-cert-file", &(o).client_cert_file, "", 0, NULL,                       \
                 "certificate for outgoing TLS connections (empty: tls-cert-file)"),               \
        CONF_STR_OPT("tls-client-key-file", &(o).client_key_file, "", 0, NULL,                     \
                     "private key of tls-client-cert-file"),                                       \
        CONF_STR_OPT("tls-client-key-file-pass", &(o).client_key_file_pass, "", 0, NULL,           \
                     "passphrase of an encrypted tls-client-key-file")

struct tls_ctx;
struct tls;

/* Builds the context of one side from o: certificate and key (the client
 * side's are optional), the CAs (required, as redis requires them),
 * protocols, ciphers, verification.  NULL with the reason in err ("tls-key-file
 * /x: No such file or directory"): a config error, the caller exits. */
struct tls_ctx *tls_ctx_create(const struct tls_options *o, enum tls_side side, char *err,
                               size_t errlen);
void tls_ctx_destroy(struct tls_ctx **ctx);

/* A session on connected socket fd (the caller keeps fd and closes it after
 * tls_destroy).  Aborts out of memory, as mem_alloc does. */
struct tls *tls_create(struct tls_ctx *ctx, int fd);

/* Called once when the handshake is over: ok, or failed with err (valid
 * during the call only).  The callee may tls_destroy the session. */
typedef void tls_ready_fn(void *arg, bool ok, const char *err);

/* Takes over the owner's watchers rd and wr (initialised on the socket, not
 * started) and starts the handshake; ready is called from the loop, never
 * from here. */
void tls_attach(struct tls *t, struct ev_loop *loop, ev_io *rd, ev_io *wr, tls_ready_fn *ready,
                void *arg);
/* No more callbacks or I/O until tls_destroy (a connection being closed). */
void tls_stop(struct tls *t);
/* Stops the watchers and the handshake timer, gives the watchers their own
 * callbacks back, sends close_notify if the session is healthy, and frees
 * it -- or, inside one of its callbacks, once that returns.  NULLs *t;
 * accepts NULL. */
void tls_destroy(struct tls **t);

/* What the owner waits for (the layer arms the watchers accordingly). */
void tls_want_read(struct tls *t, bool want);
void tls_want_write(struct tls *t, bool want);

/* Decrypted bytes into buf: > 0 bytes, 0 at the end of the stream, -1 with
 * errno EAGAIN (wait: the layer calls back), or another errno (EPROTO: see
 * tls_errstr). */
ssize_t tls_read(struct tls *t, void *buf, size_t len);
/* Encrypts and sends from iov: bytes sent (maybe fewer than given), or -1
 * with errno as tls_read.  After EAGAIN the owner must offer the same bytes
 * again (more may follow them): the record OpenSSL could not finish sending
 * is part of them. */
ssize_t tls_writev(struct tls *t, const struct iovec *iov, int n);
/* Why the last read, write or handshake failed. */
const char *tls_errstr(const struct tls *t);

static inline ssize_t
tls_io_read(struct tls *t, int fd, void *buf, size_t len)
{
    return t == NULL ? read(fd, buf, len) : tls_read(t, buf, len);
}

static inline ssize_t
tls_io_writev(struct tls *t, int fd, const struct iovec *iov, int n)
{
    return t == NULL ? writev(fd, iov, n) : tls_writev(t, iov, n);
}
