"""Topologies for proxy tests: nodes (slotcache-node or redis-server) and a
slotcache-proxy in front of them, on free loopback ports."""

import os
import tempfile

import servers


class Topology:
    """node_ssl (a client's ssl.SSLContext, to probe them with): the nodes
    listen on TLS only, node_extra carrying their tls-* flags (and extra the
    proxy's tls-nodes lines).  proxy_ssl: the same for the proxy's own port."""

    def __init__(self, mode, nnodes, node_kind="slotcache", replicas_per_shard=0, extra=(),
                 node_extra=(), workdir=None, node_ssl=None, proxy_ssl=None, proxy_nofile=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="sc-topo-")
        self.mode = mode
        self.node_kind = node_kind
        self.node_extra = list(node_extra)
        self.node_ssl = node_ssl
        self.proxy_ssl = proxy_ssl
        self.nodes = [self._start_node() for _ in range(nnodes)]
        self.replicas_per_shard = replicas_per_shard
        self.extra = list(extra)
        self.proxy = None
        self.config_path = os.path.join(self.workdir, "proxy.conf")
        self.proxy_nofile = proxy_nofile
        self.write_config()
        self.start_proxy()

    def _start_node(self, port=None):
        d = tempfile.mkdtemp(prefix="node-", dir=self.workdir)
        start = servers.start_redis if self.node_kind == "redis" else servers.start_node
        return start(*self.node_extra, workdir=d, port=port, ssl_context=self.node_ssl)

    def node_addrs(self):
        return ["127.0.0.1:%d" % n.port for n in self.nodes]

    def config_lines(self):
        lines = ["mode %s" % self.mode, "health-interval 100", "node-timeout 1000"]
        addrs = self.node_addrs()
        if self.mode in ("central", "replicated"):
            lines += ["node %s" % a for a in addrs]
        else:
            group = 1 + self.replicas_per_shard
            shards = [addrs[i:i + group] for i in range(0, len(addrs), group)]
            per = 16384 // len(shards)
            for i, members in enumerate(shards):
                lo = i * per
                hi = 16383 if i == len(shards) - 1 else lo + per - 1
                lines.append("shard %d-%d %s" % (lo, hi, " ".join(members)))
        return lines + list(self.extra)

    def write_config(self, lines=None):
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines or self.config_lines()) + "\n")

    def start_proxy(self, port=None):
        """Starts the proxy from the config file, on port (a restart keeps
        its clients' address) or a free one."""
        port = port or servers.free_port()
        argv = [os.path.join(servers.BIN_DIR, "slotcache-proxy"), self.config_path]
        argv += servers.port_args(port, self.proxy_ssl) + ["--bind", "127.0.0.1"]
        self.proxy = servers.Server(argv, port, self.workdir, os.path.join(self.workdir, "proxy.log"),
                                    self.proxy_ssl, nofile=self.proxy_nofile)
        return self.proxy

    def restart_node(self, i):
        """Starts node i again on the same port (it comes back empty)."""
        port = self.nodes[i].port
        if self.nodes[i].alive():
            self.nodes[i].stop()
        self.nodes[i] = self._start_node(port=port)
        return self.nodes[i]

    def stop(self):
        rc = self.proxy.stop() if self.proxy is not None else 0
        for n in self.nodes:
            n.stop()
        return rc
