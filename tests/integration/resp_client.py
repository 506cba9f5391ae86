"""A raw RESP2/RESP3 client for tests.

redis-py parses replies into Python values and loses what the differential
tests must compare (a status '+OK' and a bulk 'OK' look alike).  This client
returns replies as typed tuples, so two servers' replies compare exactly:

    ('+', b'OK')  ('-', b'ERR ...')  (':', 5)  ('$', b'x')  ('$', None)
    ('*', [...])  ('*', None)  ('%', [(k, v), ...])  ('~', [...])  ('_', None)
    (',', b'1.5')  ('#', True)  ('=', b'txt:...')  ('(', b'123')
"""

import socket


class RespError(Exception):
    pass


class RespClient:
    def __init__(self, host, port, timeout=10.0, ssl_context=None):
        """ssl_context: an ssl.SSLContext to speak TLS with."""
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            self.sock = ssl_context.wrap_socket(self.sock)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def pack(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.send_raw(self.pack(*args))
        return self.read_reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_reply(self):
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-,(":
            return (t, rest)
        if t == ":":
            return (t, int(rest))
        if t == "_":
            return (t, None)
        if t == "#":
            return (t, rest == b"t")
        if t in "$=!":
            n = int(rest)
            return (t, None) if n < 0 else (t, self._bytes(n))
        if t in "*~>":
            n = int(rest)
            if n < 0:
                return (t, None)
            return (t, [self.read_reply() for _ in range(n)])
        if t == "%":
            n = int(rest)
            return (t, [(self.read_reply(), self.read_reply()) for _ in range(n)])
        raise RespError("unknown reply type %r" % line)

    def closed_by_server(self, timeout=2.0):
        """True if the server closed the connection (reads EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
