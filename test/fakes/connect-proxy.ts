import * as http from 'node:http';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A local HTTP CONNECT proxy, standing in for Wikimedia's egress proxy. It counts the tunnels
 * it opens per target (`host:port` as the client asked for it) and can map targets to other
 * addresses, so a client that believes it talks to fcm.googleapis.com:443 reaches a fake on
 * 127.0.0.1. Targets that are not mapped are refused (502) unless `allowUnmapped` is set,
 * so a test cannot leak to the internet. Plain (non-CONNECT) requests are refused with 405.
 * `setStalled(true)` turns it into a black-hole proxy that accepts CONNECT and never answers
 * (until switched off; tunnels already stalled stay stalled, as with a wedged real proxy).
 */
export interface ConnectProxyOptions {
    /** 'host:port' as requested → 'host:port' to connect to. */
    readonly map?: Record<string, string>;
    readonly allowUnmapped?: boolean;
    readonly port?: number;
}

export class FakeConnectProxy {
    /** Tunnels opened, per requested target ('fcm.googleapis.com:443' → 3). */
    readonly tunnels: Record<string, number> = {};
    readonly refused: string[] = [];
    /** CONNECT targets received while stalled (never answered). */
    readonly stalled: string[] = [];
    private stall = false;
    private readonly server: http.Server;
    private readonly sockets = new Set<net.Socket>();
    readonly map: Record<string, string>;

    private constructor(private readonly options: ConnectProxyOptions) {
        this.map = { ...(options.map ?? {}) };
        this.server = http.createServer((_req, res) => {
            res.writeHead(405, { 'content-type': 'text/plain' });
            res.end('only CONNECT');
        });
        this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => this.onConnect(req, client, head));
        this.server.on('connection', (s: net.Socket) => {
            this.sockets.add(s);
            s.on('close', () => this.sockets.delete(s));
        });
    }

    static async start(options: ConnectProxyOptions = {}): Promise<FakeConnectProxy> {
        const proxy = new FakeConnectProxy(options);
        await new Promise<void>((resolve) => proxy.server.listen(options.port ?? 0, '127.0.0.1', resolve));
        return proxy;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    /** While on, every new CONNECT is read and never answered. */
    setStalled(on: boolean): void {
        this.stall = on;
    }

    /** Tunnels opened to `target` ('host:port'). */
    count(target: string): number {
        return this.tunnels[target] ?? 0;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private onConnect(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
        const target = (req.url ?? '').toLowerCase();
        const mapped = this.map[target] ?? (this.options.allowUnmapped ? target : undefined);
        client.on('error', () => undefined);
        if (this.stall) {
            this.stalled.push(target);
            return;
        }
        if (!mapped) {
            this.refused.push(target);
            client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
            return;
        }
        const i = mapped.lastIndexOf(':');
        const upstream = net.connect(Number(mapped.slice(i + 1)), mapped.slice(0, i));
        this.sockets.add(upstream);
        upstream.on('close', () => this.sockets.delete(upstream));
        upstream.once('connect', () => {
            this.tunnels[target] = (this.tunnels[target] ?? 0) + 1;
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head.length > 0) {
                upstream.write(head);
            }
            upstream.pipe(client);
            client.pipe(upstream);
        });
        upstream.on('error', () => {
            if (!client.destroyed) {
                client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
            }
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
    }
}
