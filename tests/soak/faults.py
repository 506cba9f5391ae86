"""The fault injector: every `every` seconds one fault, in a seeded random
order that goes through every kind before repeating one.

A fault's window runs from its injection until the stack is whole again
(Stack.wait_healthy: every node up and in sync, the loader connected with
its routes, the breaker closed).  The next fault waits for that: two faults
at once are a different experiment (three replicas with one refilling and
a second killed is a lost shard, whatever the code does), and a stack that
never recovers is itself a failure, reported with what is still wrong.
"""

import random
import signal
import threading
import time
import traceback

RECOVERY_TIMEOUT_S = 120

KINDS = {
    "replicated": ["kill -9 node", "SIGSTOP node", "kill -9 loader", "restart PostgreSQL",
                   "restart proxy", "SIGSTOP loader"],
    "partitioned": ["kill -9 node", "SIGSTOP node", "kill -9 loader", "restart PostgreSQL",
                    "restart proxy", "reshard"],
}


class Injector(threading.Thread):
    def __init__(self, stack, every, until, seed, log):
        super().__init__(name="faults", daemon=True)
        self.stack = stack
        self.every = every
        self.until = until  # monotonic time after which no fault starts
        self.rnd = random.Random(seed)
        self.log = log
        self.windows = []   # (kind, start, end, description)
        self.failures = []  # recoveries that timed out, crashes, harness errors
        self.proxy_restarts = 0
        self.pg_restarts = 0
        self.stop_event = threading.Event()
        self.idle = threading.Event()     # no fault will start any more
        self.release = threading.Event()  # the run is over: the thread may end

    def order(self):
        while True:
            kinds = list(KINDS[self.stack.mode])
            self.rnd.shuffle(kinds)
            yield from kinds

    def run(self):
        try:
            self.loop()
        except Exception:  # a harness bug must fail the run, not end it silently
            self.failures.append("fault injector: " + traceback.format_exc())
            self.log("FAULT INJECTOR FAILED: " + traceback.format_exc())
        self.idle.set()
        # The servers this thread restarted die with it (PR_SET_PDEATHSIG
        # follows the thread that forked them), so it ends only when the
        # stack has been stopped.
        self.release.wait()

    def loop(self):
        start = time.monotonic()
        kinds = self.order()
        n = 0
        while True:
            n += 1
            due = start + (n - 0.5) * self.every
            if due >= self.until or self.stop_event.wait(max(0.0, due - time.monotonic())):
                return
            self.check_crashes()
            kind = next(kinds)
            t0 = time.monotonic()
            try:
                what = self.inject(kind)
            except Exception:  # e.g. a server that would not start again
                what = "%s: FAILED: %s" % (kind, traceback.format_exc())
                self.failures.append(what)
                self.check_crashes()
            problems = self.stack.wait_healthy(RECOVERY_TIMEOUT_S)
            t1 = time.monotonic()
            self.windows.append((kind, t0, t1, what))
            self.log("fault %d at %.1f s: %s; recovered in %.1f s%s" % (
                n, t0 - start, what, t1 - t0,
                "" if not problems else "; NOT RECOVERED: " + "; ".join(problems)))
            if problems:
                self.failures.append("%s: not recovered after %d s: %s" % (
                    what, RECOVERY_TIMEOUT_S, "; ".join(problems)))
                self.check_crashes()

    def check_crashes(self):
        for crash in self.stack.revive():
            self.failures.append("crash: " + crash)
            self.log("CRASH: " + crash)

    def inject(self, kind):
        s = self.stack
        node = self.rnd.randrange(len(s.topo.nodes))
        if kind == "kill -9 node":
            return s.kill_node(node)
        if kind == "SIGSTOP node":
            return s.stop_node(node)
        if kind == "kill -9 loader":
            return s.restart_loader()
        if kind == "SIGSTOP loader":
            return s.hang_loader()
        if kind == "restart PostgreSQL":
            self.pg_restarts += 1
            return s.restart_postgres("fast" if self.pg_restarts % 2 else "immediate")
        if kind == "restart proxy":
            self.proxy_restarts += 1
            sig = signal.SIGTERM if self.proxy_restarts % 2 else signal.SIGKILL
            return s.restart_proxy(sig)
        if kind == "reshard":
            return s.reshard(self.rnd.randrange(200, 2000))
        raise ValueError(kind)
