import * as net from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A TCP server that accepts every connection and never answers (nor closes): a push service,
 * proxy or API that hangs. Counts connections, so a test can show a client was (or was not)
 * stuck on it.
 */
export class BlackHoleServer {
    connections = 0;
    private readonly server: net.Server;
    private readonly sockets = new Set<net.Socket>();

    private constructor() {
        this.server = net.createServer((s) => {
            this.connections++;
            this.sockets.add(s);
            s.on('error', () => undefined);
            s.on('close', () => this.sockets.delete(s));
            // Read and discard, so the client's writes never block: it waits for an answer only.
            s.resume();
        });
    }

    static async start(host = '127.0.0.1'): Promise<BlackHoleServer> {
        const b = new BlackHoleServer();
        await new Promise<void>((resolve) => b.server.listen(0, host, resolve));
        return b;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** Connections open now. */
    get open(): number {
        return this.sockets.size;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}
