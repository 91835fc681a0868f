import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpConfig } from '../config/sections/http';
import { problemBody, PROBLEM_KINDS, ProblemStatus } from './problem';
import { securityHeaderList } from './security-headers';

/**
 * Requests that node's HTTP parser refuses (invalid or conflicting Content-Length, bad chunk
 * encoding, header overflow, a request timeout) never reach express: node would answer a
 * bare "400 Bad Request" with no body. Answer them as problem+json with the security headers
 * too, like every other error. The responses are built once, at start-up.
 */
const BY_CODE: Record<string, ProblemStatus> = {
    HPE_HEADER_OVERFLOW: 431,
    HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
    ERR_HTTP_REQUEST_TIMEOUT: 408
};

export function installClientErrorHandler(server: Server, config: Pick<HttpConfig, 'cors' | 'csp'>): void {
    const headers = securityHeaderList(config.cors, config.csp).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const responses = new Map<ProblemStatus, Buffer>();
    for (const status of [400, 408, 413, 431] as const) {
        const body = JSON.stringify(problemBody(status, detailFor(status)));
        responses.set(status, Buffer.from(`HTTP/1.1 ${status} ${PROBLEM_KINDS[status][1]}\r\n` +
            `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
            `${headers}connection: close\r\n\r\n${body}`));
    }

    // As node's own handler does: answer only if no response has started on this socket, then
    // destroy it (the stream is out of step; nothing more can be read from it safely). Node
    // has already put a no-op 'error' listener on the socket, so a late write cannot crash us.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
        const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
        if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
            socket.write(responses.get(BY_CODE[err.code ?? ''] ?? 400));
        }
        socket.destroy();
    });
}

function detailFor(status: ProblemStatus): string {
    switch (status) {
        case 408:
            return 'The request was not complete in time';
        case 431:
            return 'The request headers are too large';
        case 413:
            return 'The chunk extensions are too large';
        default:
            return 'The request is not valid HTTP (check Content-Length and Transfer-Encoding)';
    }
}
