"""pytest fixtures: real slotcache-node and redis-server processes.

SC_BIN_DIR selects the binaries (bin/ by default; the ASan run points it at
build/asan/bin).  SC_TEST_ADDR=host:port aims the node fixture at a server
that is already running (under gdb, say) instead of starting one.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402
from resp_client import RespClient  # noqa: E402


class External:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def stop(self, sig=None):
        return 0

    def log_text(self):
        return ""

    def alive(self):
        return True


def _report(request, server):
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write("\n---- server log (port %d) ----\n%s\n" % (server.port, server.log_text()))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def node(request):
    if os.environ.get("SC_TEST_ADDR"):
        yield External(os.environ["SC_TEST_ADDR"])
        return
    s = servers.start_node()
    yield s
    _report(request, s)
    rc = s.stop()
    assert rc == 0, "slotcache-node exited with %s:\n%s" % (rc, s.log_text())


@pytest.fixture
def redis_ref(request):
    s = servers.start_redis()
    yield s
    _report(request, s)
    s.stop()


def stopped_after(request, group):
    """A fixture's body for group (a ServerSet or TargetSet): yields it, then
    prints its logs if the test failed and stops it; a server that did not
    exit 0 fails the test."""
    yield group
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(group.logs())
    problems = group.stop_all()
    assert not problems, "\n".join(problems)


@pytest.fixture
def servers_set(request):
    """Servers a test starts with its own options (servers.ServerSet), stopped
    after it; their logs are printed if it failed, and a node that did not
    exit 0 fails it."""
    yield from stopped_after(request, servers.ServerSet())


@pytest.fixture
def node_client(node):
    c = RespClient("127.0.0.1", node.port)
    yield c
    c.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The line tests/run-all.sh adds up: "integration: N passed, M failed"."""
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    terminalreporter.write_line("integration: %d passed, %d failed" % (passed, failed))


@pytest.fixture
def targets(request):
    """A targets.TargetSet: node, proxy, redis-server or loader targets the
    test starts (a test whose name says loader gets pg_koi's database);
    stopped after it, their logs printed if it failed."""
    from targets import TargetSet
    pg = request.getfixturevalue("pg_koi") if "loader" in request.node.name else None
    yield from stopped_after(request, TargetSet(pg))


@pytest.fixture(scope="session")
def pg_koi():
    """A throwaway PostgreSQL cluster holding 1,000 generated koi rows, for
    the tests that only read it (hostile clients, limits, compatibility)."""
    from loader_client import PgCluster
    cluster = PgCluster()
    try:
        cluster.load_rows(1000)
        yield cluster
    finally:
        cluster.destroy()
