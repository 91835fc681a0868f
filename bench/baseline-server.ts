/**
 * The same-run baselines of the HTTP benchmarks: bare node:http servers, no framework, no
 * validation library, no logging, no metrics, no queue.
 *
 * - accept (default): reads the body, JSON.parses it, checks two fields and answers 200 `{}`:
 *   the physical limit of the accept path on this machine.
 * - relay: reads the body, JSON.parses it, takes the one device token (a Matrix notify's
 *   `devices[0].pushkey`, or the MongoosePush path's last segment), sends ONE request to the
 *   fake APNs with a bare node:http2 client (bench/lib/apns-floor.ts, the same client as the
 *   delivery floor) and answers 200 once APNs has: the limit of "answer after the push
 *   service did", which the Matrix and MongoosePush endpoints do.
 *
 * Usage: node .bench/baseline-server.js <port> [relay <base64url JSON ApnsFloorTarget>]
 */
import { createServer, ServerResponse } from 'node:http';
import { apnsFloorClient, ApnsFloorTarget } from './lib/apns-floor';

const port = Number(process.argv[2] ?? 8901);
const relayTarget = process.argv[3] === 'relay' ?
    JSON.parse(Buffer.from(process.argv[4], 'base64url').toString('utf8')) as ApnsFloorTarget : undefined;
const apns = relayTarget ? apnsFloorClient(relayTarget) : undefined;
const MAX_BODY = 100 * 1024;

function answer(res: ServerResponse, status: number, out: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
}

/** The one device token of a relayed request, or undefined. */
function relayToken(url: string, body: unknown): string | undefined {
    const m = /^\/v3\/notification\/([^/?]+)$/.exec(url);
    if (m) {
        return m[1];
    }
    const pushkey = (body as { notification?: { devices?: { pushkey?: unknown }[] } }).notification?.devices?.[0]?.pushkey;
    return typeof pushkey === 'string' ? pushkey : undefined;
}

const server = createServer((req, res) => {
    if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) {
            chunks.push(c);
        }
    });
    req.on('end', () => {
        let body: unknown;
        try {
            body = size <= MAX_BODY ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        } catch {
            body = undefined;
        }
        if (apns) {
            const token = body === undefined ? undefined : relayToken(req.url ?? '', body);
            if (!token) {
                answer(res, 400, '{"error":"bad request"}');
                return;
            }
            void apns.post(token).then((status) => {
                answer(res, status === 200 ? 200 : 502, status === 200 ? '{"rejected":[]}' : '{"error":"push service"}');
            });
            return;
        }
        const b = body as { deviceTokens?: unknown; messageType?: unknown } | undefined;
        const ok = b !== undefined && Array.isArray(b.deviceTokens) && b.deviceTokens.length > 0 && typeof b.messageType === 'string';
        answer(res, ok ? 200 : 400, ok ? '{}' : '{"error":"bad request"}');
    });
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
    void apns?.close();
    server.close(() => process.exit(0));
});
