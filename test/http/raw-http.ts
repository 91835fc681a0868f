import * as net from 'node:net';

/**
 * HTTP/1.1 over a bare socket, for what fetch refuses to send: wrong or conflicting
 * Content-Length, truncated bodies, arbitrary bytes in headers and bodies.
 */
export interface RawResponse {
    /** Undefined when the server closed the connection without answering. */
    readonly status?: number;
    readonly headers: Record<string, string>;
    readonly body: string;
}

export interface RawOptions {
    /** Half-close after writing (the client gives up: a truncated body). */
    readonly endAfterWrite?: boolean;
    readonly timeoutMs?: number;
}

export function rawRequest(port: number, bytes: Buffer, options: RawOptions = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(bytes);
            if (options.endAfterWrite) {
                socket.end();
            }
        });
        const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${options.timeoutMs ?? 5000} ms`)),
            options.timeoutMs ?? 5000);
        socket.on('data', (c: Buffer) => {
            chunks.push(c);
            // One response is all a test waits for: stop once it is complete.
            const parsed = parse(Buffer.concat(chunks));
            if (parsed) {
                clearTimeout(timer);
                socket.destroy();
                resolve(parsed);
            }
        });
        socket.on('error', (e: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            // A reset after a complete write is the server refusing to answer; that is allowed.
            if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
                resolve(parse(Buffer.concat(chunks), true) ?? { headers: {}, body: '' });
            } else {
                reject(e);
            }
        });
        socket.on('close', () => {
            clearTimeout(timer);
            resolve(parse(Buffer.concat(chunks), true) ?? { headers: {}, body: '' });
        });
    });
}

/**
 * A complete response (head plus Content-Length bytes of body), or undefined if not yet.
 * Once the connection is closed (`final`), whatever body arrived is taken (HEAD has none).
 */
function parse(buf: Buffer, final = false): RawResponse | undefined {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
        return undefined;
    }
    const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = buf.subarray(end + 4);
    if (body.length < length && !final) {
        return undefined;
    }
    return { status: Number(statusLine.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') };
}

/** A request head plus body, with the given headers written exactly as they are. */
export function rawBytes(method: string, path: string, headers: [string, string][], body: Buffer | string): Buffer {
    const head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}
