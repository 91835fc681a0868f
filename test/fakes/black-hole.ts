import * as net from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A TCP endpoint that accepts connections and, while `blackHole` is set, never answers:
 * whatever the client sends (a proxy CONNECT, a TLS ClientHello) is read and ignored. That is
 * the egress proxy or TLS server that "accepts and never replies" of issue 11 §3. Set
 * `forwardTo` (`host:port`) and clear `blackHole` to heal it: NEW connections are then relayed
 * to that address (a real proxy, a fake APNs), so a test can show that delivery recovers.
 * Connections accepted while black-holed stay black-holed (as a stuck peer's would).
 */
export class BlackHole {
    blackHole = true;
    forwardTo?: string;
    /** Connections accepted so far, and how many of them were swallowed. */
    readonly counters = { accepted: 0, swallowed: 0, relayed: 0 };
    private readonly server: net.Server;
    private readonly sockets = new Set<net.Socket>();

    private constructor() {
        this.server = net.createServer((client) => this.onConnection(client));
    }

    static async start(): Promise<BlackHole> {
        const hole = new BlackHole();
        await new Promise<void>((resolve) => hole.server.listen(0, '127.0.0.1', resolve));
        return hole;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** Lets new connections through to `target` ('host:port'). */
    heal(target: string): void {
        this.forwardTo = target;
        this.blackHole = false;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private track(s: net.Socket): void {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
    }

    private onConnection(client: net.Socket): void {
        this.counters.accepted++;
        this.track(client);
        if (this.blackHole || !this.forwardTo) {
            this.counters.swallowed++;
            client.resume(); // read and drop, never write
            return;
        }
        this.counters.relayed++;
        const i = this.forwardTo.lastIndexOf(':');
        const upstream = net.connect(Number(this.forwardTo.slice(i + 1)), this.forwardTo.slice(0, i));
        this.track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
    }
}
