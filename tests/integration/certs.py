"""A throwaway PKI for the TLS tests, made with the openssl CLI into a
directory of the test session: a CA, a certificate for 127.0.0.1/localhost
that servers present (and the proxy presents to nodes), a client
certificate, the server key encrypted with a passphrase, and a second,
unrelated CA with a certificate of its own (what a wrong CA looks like).

Keys are P-256: generating them takes milliseconds, where RSA would make
every session wait."""

import os
import ssl
import subprocess

PASSPHRASE = "sesame"


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


class Pki:
    def __init__(self, directory):
        self.dir = str(directory)
        self.ca, self.ca_key = self._ca("ca")
        self.other_ca, other_ca_key = self._ca("other-ca")
        self.server_crt, self.server_key = self._cert("server", self.ca, self.ca_key)
        self.client_crt, self.client_key = self._cert("client", self.ca, self.ca_key)
        self.other_crt, self.other_key = self._cert("other", self.other_ca, other_ca_key)
        self.server_key_enc = self._path("server-enc.key")
        _openssl("pkey", "-in", self.server_key, "-aes256", "-passout", "pass:" + PASSPHRASE,
                 "-out", self.server_key_enc, cwd=self.dir)

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name):
        crt, key = self._path(name + ".crt"), self._path(name + ".key")
        _openssl("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-keyout", key, "-out", crt, "-days", "2",
                 "-subj", "/CN=slotcache test " + name, cwd=self.dir)
        return crt, key

    def _cert(self, name, ca, ca_key):
        crt, key, csr = (self._path(name + ext) for ext in (".crt", ".key", ".csr"))
        ext = self._path(name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-keyout", key, "-out", csr,
                 "-subj", "/CN=" + name, cwd=self.dir)
        _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-days", "2", "-out", crt, "-extfile", ext, cwd=self.dir)
        return crt, key

    # ---- servers ----

    def server_args(self, auth="yes", ca=None):
        """The tls-* flags of a node, a proxy's client side, or redis-server."""
        return ["--tls-cert-file", self.server_crt, "--tls-key-file", self.server_key,
                "--tls-ca-cert-file", ca or self.ca, "--tls-auth-clients", auth]

    def proxy_lines(self, ca=None):
        """Config lines of a proxy with a TLS port that talks TLS to nodes."""
        return ["tls-cert-file %s" % self.server_crt, "tls-key-file %s" % self.server_key,
                "tls-ca-cert-file %s" % (ca or self.ca), "tls-nodes yes"]

    # ---- clients ----

    def context(self, cert=True, ca=None, **versions):
        """An ssl.SSLContext of a client: it verifies the server by ca (ours
        by default, not the hostname: as redis-py's default) and presents
        the client certificate if cert."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(ca or self.ca)
        if cert:
            ctx.load_cert_chain(self.client_crt, self.client_key)
        for attr, v in versions.items():
            setattr(ctx, attr, v)
        return ctx

    def redis_kwargs(self, cert=True, ca=None):
        """redis-py's ssl arguments."""
        kw = {"ssl": True, "ssl_ca_certs": ca or self.ca, "ssl_cert_reqs": "required"}
        if cert:
            kw.update(ssl_certfile=self.client_crt, ssl_keyfile=self.client_key)
        return kw

    def cli_args(self, cert=True, ca=None):
        """redis-cli's TLS flags."""
        args = ["--tls", "--cacert", ca or self.ca]
        if cert:
            args += ["--cert", self.client_crt, "--key", self.client_key]
        return args
