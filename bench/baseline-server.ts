/**
 * The physical limit of the accept path on this machine: a bare node:http server that reads
 * the body, JSON.parses it, checks two fields and answers 200 `{}`. No framework, no
 * validation library, no logging, no metrics, no queue.
 *
 * Usage: node .bench/bench/baseline-server.js <port>
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 8901);
const MAX_BODY = 100 * 1024;

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
        let ok = false;
        if (size <= MAX_BODY) {
            try {
                const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { deviceTokens?: unknown; messageType?: unknown };
                ok = Array.isArray(body.deviceTokens) && body.deviceTokens.length > 0 && typeof body.messageType === 'string';
            } catch {
                ok = false;
            }
        }
        const out = ok ? '{}' : '{"error":"bad request"}';
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
    });
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
