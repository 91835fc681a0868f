import * as http from 'node:http';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';

/**
 * The TLS connection under node-apn's HTTP/2 session, opened by us: node-apn hands its
 * options to `http2.connect`, whose documented `createConnection` option lets the caller
 * supply the socket. We use that instead of node-apn's own `proxy` option because node-apn's
 * proxy path (lib/util/proxy.js, lib/client.js `connect`):
 * - waits for the proxy's CONNECT answer without any bound (a proxy that accepts and never
 *   answers stalls every send for good: issue 11 §3);
 * - opens TLS over the tunnel without the `ca` and client-certificate options, so neither a
 *   private CA (the fakes) nor certificate auth works through a proxy.
 * Here every step has one deadline, `connectTimeoutMs`, from the call to the end of the TLS
 * handshake (TCP connect, proxy CONNECT, TLS): past it the socket is destroyed with an
 * {@link ApnsDeadlineError}, the session fails, its pending requests fail with that error
 * (transient 'timeout'), and node-apn opens a new session on the next request.
 */
export interface ApnsConnectionOptions {
    /** The APNs host and port to reach (Apple's, or an override for fakes). */
    readonly host: string;
    readonly port: number;
    /** An HTTP CONNECT proxy to tunnel through, or undefined for a direct connection. */
    readonly proxy?: { readonly host: string; readonly port: number };
    /** Extra CA certificates to trust (undefined: Node's default store). */
    readonly ca?: string | Buffer;
    /** Certificate auth: the PKCS#12 bundle and its passphrase. */
    readonly pfx?: Buffer;
    readonly passphrase?: string;
    /** Bound on TCP connect + proxy CONNECT + TLS handshake, in ms. */
    readonly connectTimeoutMs: number;
    /** Sent as User-Agent on the proxy CONNECT request (egress proxies log it). */
    readonly userAgent?: string;
}

/** A connection step that did not finish within its deadline. */
export class ApnsDeadlineError extends Error {
    constructor(readonly stage: 'proxy CONNECT' | 'TLS handshake' | 'request' | 'session', readonly ms: number) {
        super(`APNs ${stage} took longer than ${ms} ms`);
        this.name = 'ApnsDeadlineError';
    }
}

/** The proxy answered CONNECT with something other than 200. */
export class ApnsProxyError extends Error {
    constructor(readonly status: number | undefined, target: string) {
        super(`the egress proxy answered ${status ?? 'nothing'} to CONNECT ${target}`);
        this.name = 'ApnsProxyError';
    }
}

/**
 * The `createConnection` for `http2.connect` (node-apn passes its options through): returns
 * the TLS socket at once, as http2 requires; the session waits for its 'secureConnect'.
 */
export function apnsConnectionFactory(o: ApnsConnectionOptions): () => tls.TLSSocket {
    const ip = /^[\d.]+$|:/.test(o.host);
    const tlsOptions: tls.ConnectionOptions = {
        host: o.host,
        port: o.port,
        // SNI must be a host name, never an address (RFC 6066 §3).
        ...(ip ? {} : { servername: o.host }),
        ALPNProtocols: ['h2'],
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.pfx ? { pfx: o.pfx } : {}),
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {})
    };
    const target = `${o.host}:${o.port}`;
    return () => {
        const tunnel = o.proxy ? new ProxyTunnel(o.proxy, target, o.userAgent) : undefined;
        const socket = tls.connect(tunnel ? { ...tlsOptions, socket: tunnel } : tlsOptions);
        const timer = setTimeout(() => {
            const err = new ApnsDeadlineError(tunnel && !tunnel.established ? 'proxy CONNECT' : 'TLS handshake', o.connectTimeoutMs);
            socket.destroy(err);
            tunnel?.destroy(err);
        }, o.connectTimeoutMs);
        timer.unref();
        const done = (): void => clearTimeout(timer);
        socket.once('secureConnect', done);
        socket.once('close', done);
        if (tunnel) {
            // A refused tunnel fails the TLS socket (and so the session) with the proxy's answer.
            tunnel.on('error', (e: Error) => socket.destroy(e));
            socket.once('close', () => tunnel.destroy());
        }
        return socket;
    };
}

/**
 * A Duplex over an HTTP CONNECT tunnel that exists at once: what is written before the proxy
 * said 200 is held and sent after (TLS writes its ClientHello straight away). Node's HTTP
 * client sends the CONNECT and parses the answer.
 */
class ProxyTunnel extends Duplex {
    established = false;
    private socket?: net.Socket;
    private held: { chunk: Buffer; callback: (e?: Error | null) => void }[] = [];
    private readonly request: http.ClientRequest;

    constructor(proxy: { host: string; port: number }, target: string, userAgent?: string) {
        super();
        this.request = http.request({
            host: proxy.host,
            port: proxy.port,
            method: 'CONNECT',
            path: target,
            agent: false,
            headers: { host: target, ...(userAgent ? { 'user-agent': userAgent } : {}) }
        });
        this.request.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
            if (this.destroyed) {
                socket.destroy();
                return;
            }
            if (res.statusCode !== 200) {
                socket.destroy();
                this.destroy(new ApnsProxyError(res.statusCode, target));
                return;
            }
            this.attach(socket, head);
        });
        this.request.on('error', (e: Error) => this.destroy(e));
        this.request.end();
    }

    private attach(socket: net.Socket, head: Buffer): void {
        this.socket = socket;
        this.established = true;
        socket.setNoDelay(true);
        socket.on('data', (d: Buffer) => {
            if (!this.push(d)) {
                socket.pause();
            }
        });
        socket.once('end', () => this.push(null));
        socket.on('error', (e: Error) => this.destroy(e));
        socket.once('close', () => this.destroy());
        if (head.length > 0) {
            this.push(head);
        }
        const held = this.held;
        this.held = [];
        for (const { chunk, callback } of held) {
            socket.write(chunk, callback);
        }
    }

    override _read(): void {
        this.socket?.resume();
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error | null) => void): void {
        if (this.socket) {
            this.socket.write(chunk, callback);
        } else {
            this.held.push({ chunk, callback });
        }
    }

    override _final(callback: (e?: Error | null) => void): void {
        this.socket?.end();
        callback();
    }

    override _destroy(err: Error | null, callback: (e?: Error | null) => void): void {
        this.request.destroy();
        this.socket?.destroy();
        this.held = [];
        callback(err);
    }
}
