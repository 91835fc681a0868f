import * as net from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A TCP server on 127.0.0.1 that accepts every connection, reads whatever arrives, and never
 * writes a byte. It is the one fake for three field failures:
 * - a black-hole egress proxy: it never answers CONNECT (point `proxy` at `url`);
 * - a black-hole TLS server: it never sends its ServerHello, so no handshake completes
 *   (connect to `port` directly, or map a CONNECT proxy target to `hostPort`);
 * - a black-hole HTTP server: it never answers a request.
 * A client step that waits on it must fail at its own deadline, and then close its socket:
 * `open` counts the connections the client has not closed yet, `waitForAllClosed` waits for
 * none, `firstBytes` shows what each connection sent first (a CONNECT line, a TLS
 * ClientHello, an HTTP request line), so a test can tell which step was stuck.
 *
 * `heal(target)` lets NEW connections through to `target` ('host:port': a real proxy, a fake
 * APNs), so a test can show that delivery recovers; connections accepted while black-holed
 * stay black-holed (as a stuck peer's would).
 */
export class BlackHole {
    /** Connections accepted so far. */
    accepted = 0;
    /** Accepted, swallowed (never answered) and relayed (after heal) connections. */
    readonly counters = { accepted: 0, swallowed: 0, relayed: 0 };
    private forwardTo?: string;
    /** What each connection sent first (up to 200 bytes, latin1), in accept order. */
    readonly firstBytes: string[] = [];
    private readonly sockets = new Set<net.Socket>();
    private closedWaiters: Array<() => void> = [];

    private constructor(private readonly server: net.Server) {
        server.on('connection', (socket) => this.accept(socket));
    }

    static async start(): Promise<BlackHole> {
        const hole = new BlackHole(net.createServer());
        await new Promise<void>((resolve) => hole.server.listen(0, '127.0.0.1', resolve));
        return hole;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** `127.0.0.1:port`, e.g. for FakeConnectProxy's `map`. */
    get hostPort(): string {
        return `127.0.0.1:${this.port}`;
    }

    /** `http://127.0.0.1:port`, e.g. for the `proxy` setting. */
    get url(): string {
        return `http://${this.hostPort}`;
    }

    /** Connections accepted and not yet closed by the client. */
    get open(): number {
        return this.sockets.size;
    }

    /** Resolves once every accepted connection is closed; rejects after `timeoutMs`. */
    async waitForAllClosed(timeoutMs = 5000): Promise<void> {
        if (this.sockets.size === 0) {
            return;
        }
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${this.sockets.size} connection(s) to the black hole still open after ${timeoutMs} ms`)), timeoutMs);
            this.closedWaiters.push(() => {
                clearTimeout(timer);
                resolve();
            });
        });
    }

    /** Lets new connections through to `target` ('host:port'). */
    heal(target: string): void {
        this.forwardTo = target;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private accept(socket: net.Socket): void {
        this.accepted++;
        this.counters.accepted++;
        if (this.forwardTo) {
            this.relay(socket, this.forwardTo);
            return;
        }
        this.counters.swallowed++;
        const index = this.firstBytes.push('') - 1;
        this.sockets.add(socket);
        socket.on('data', (chunk: Buffer) => {
            if (this.firstBytes[index].length < 200) {
                this.firstBytes[index] += chunk.subarray(0, 200 - this.firstBytes[index].length).toString('latin1');
            }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
            this.sockets.delete(socket);
            if (this.sockets.size === 0) {
                const waiters = this.closedWaiters;
                this.closedWaiters = [];
                for (const w of waiters) {
                    w();
                }
            }
        });
    }

    private relay(client: net.Socket, target: string): void {
        this.counters.relayed++;
        const i = target.lastIndexOf(':');
        const upstream = net.connect(Number(target.slice(i + 1)), target.slice(0, i));
        for (const s of [client, upstream]) {
            s.on('error', () => undefined);
            // Tracked, so close() ends relayed connections too (server.close waits for them).
            this.sockets.add(s);
            s.on('close', () => this.sockets.delete(s));
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
    }
}
