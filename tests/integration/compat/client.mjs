// node client.mjs CLIENT HOST PORT PREFIX: runs the compatibility script
// (the one of script.h and test_compat.py) through a Node.js Redis client
// and prints its replies as one JSON object, for test_compat.py to compare.
//
// CLIENT: ioredis | ioredis-cluster | node-redis | node-redis-resp2 |
// node-redis-cluster.  The packages come from SC_NPM_DIR (build/npm, where
// `make compat-npm` installs the versions of package-lock.json).
//
// Errors are surfaced the way each client surfaces them (a rejected
// promise, or [err, result] pairs) and printed as {"error": message}.
import { createRequire } from "node:module";
import path from "node:path";

const [kind, host, portText, prefix] = process.argv.slice(2);
const port = Number(portText);
const npmDir = process.env.SC_NPM_DIR;
if (!npmDir || !kind || !host || !port || !prefix) {
    console.error("usage: SC_NPM_DIR=DIR node client.mjs CLIENT HOST PORT PREFIX");
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(npmDir), "package.json"));

const BIN = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const k = (name) => `${prefix}:${name}`;
const MKEYS = [0, 1, 2, 3, 4].map((i) => k(`m${i}`));

// Runs fn and returns its value, or {error: message} if it rejected.
async function outcome(fn) {
    try {
        return await fn();
    } catch (e) {
        return { error: e.message };
    }
}

// The script for a client with an ioredis-like surface.
async function runIoredis(c) {
    const out = {};
    out.ping = await c.ping();
    out.set = await c.set(k("k"), "v1");
    out.get = await c.get(k("k"));
    out.set_bin = await c.set(k("bin"), BIN);
    out.binary = (await c.getBuffer(k("bin"))).toString("hex");
    out.mset = await c.mset(...MKEYS.flatMap((key, i) => [key, `m${i}`]));
    out.mget = await c.mget(...MKEYS, k("nosuch"));
    out.set_n = await c.set(k("n"), "10");
    out.incr = await c.incr(k("n"));
    out.expire = await c.expire(k("k"), 100);
    out.ttl = await c.ttl(k("k"));
    out.del = await c.del(k("k"), k("m0"));
    out.get_deleted = await c.get(k("k"));
    const p = c.pipeline();
    for (let i = 0; i < 50; i++) p.set(k(`p:${i}`), String(i));
    for (let i = 0; i < 50; i++) p.get(k(`p:${i}`));
    out.pipeline = (await p.exec()).map(([err, v]) => (err ? { error: err.message } : v));
    out.missing = await c.get(k("missing"));
    out.set_s = await c.set(k("s"), "abc");
    out.error = await outcome(() => c.incr(k("s")));
    out.after_error = await c.ping();
    return out;
}

// The script for a node-redis client or cluster; ping sends PING the way
// that object can.
async function runNodeRedis(c, RESP_TYPES, ping) {
    const out = {};
    out.ping = await ping();
    out.set = await c.set(k("k"), "v1");
    out.get = await c.get(k("k"));
    out.set_bin = await c.set(k("bin"), BIN);
    const buffers = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    out.binary = (await buffers.get(k("bin"))).toString("hex");
    out.mset = await c.mSet(MKEYS.map((key, i) => [key, `m${i}`]));
    out.mget = await c.mGet([...MKEYS, k("nosuch")]);
    out.set_n = await c.set(k("n"), "10");
    out.incr = await c.incr(k("n"));
    out.expire = await c.expire(k("k"), 100);
    out.ttl = await c.ttl(k("k"));
    out.del = await c.del([k("k"), k("m0")]);
    out.get_deleted = await c.get(k("k"));
    const m = c.multi();
    for (let i = 0; i < 50; i++) m.set(k(`p:${i}`), String(i));
    for (let i = 0; i < 50; i++) m.get(k(`p:${i}`));
    out.pipeline = await m.execAsPipeline();
    out.missing = await c.get(k("missing"));
    out.set_s = await c.set(k("s"), "abc");
    out.error = await outcome(() => c.incr(k("s")));
    out.after_error = await ping();
    return out;
}

async function main() {
    if (kind === "ioredis" || kind === "ioredis-cluster") {
        const Redis = require("ioredis");
        const opts = { retryStrategy: () => null, maxRetriesPerRequest: 0 };
        const c = kind === "ioredis"
            ? new Redis({ host, port, ...opts })
            : new Redis.Cluster([{ host, port }],
                { redisOptions: opts, clusterRetryStrategy: () => null });
        try {
            return await runIoredis(c);
        } finally {
            c.disconnect();
        }
    }
    if (kind.startsWith("node-redis")) {
        const { createClient, createCluster, RESP_TYPES } = require("redis");
        const socket = { host, port, reconnectStrategy: false };
        // node-redis 6 speaks RESP3 unless told otherwise (HELLO 3).
        const resp = kind === "node-redis" ? {} : { RESP: 2 };
        if (kind === "node-redis-cluster") {
            const c = createCluster({ rootNodes: [{ socket }], defaults: { socket }, ...resp });
            c.on("error", () => {});
            await c.connect();
            try {
                return await runNodeRedis(c, RESP_TYPES,
                    () => c.sendCommand(undefined, true, ["PING"]));
            } finally {
                await c.close();
            }
        }
        const c = createClient({ socket, ...resp });
        c.on("error", () => {});
        await c.connect();
        try {
            return await runNodeRedis(c, RESP_TYPES, () => c.ping());
        } finally {
            c.destroy();
        }
    }
    throw new Error(`unknown client ${kind}`);
}

main().then(
    (out) => {
        process.stdout.write(JSON.stringify(out) + "\n");
    },
    (e) => {
        console.error(`${kind}: ${e.stack || e}`);
        process.exitCode = 1;
    },
);
