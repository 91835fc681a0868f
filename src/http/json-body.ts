import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpProblem, clientProblem } from './problem';

/**
 * Reads a JSON request body, with the size limit, media-type and charset rules of the API.
 *
 * Echo's requests are small, uncompressed UTF-8 JSON. Those are read here directly (collect,
 * JSON.parse) because body-parser's general machinery (type-is, content-type parsing,
 * raw-body, iconv) costs more per request than everything else on the accept path together
 * (measured with .bench/cpuper-style CPU-per-request runs; see the README's Performance
 * section). Anything unusual, a Content-Encoding or a charset other than UTF-8, is handed to
 * body-parser, which knows how to inflate and decode it. Both paths give the same answers.
 *
 * Rejects with an HttpProblem: 415 (not JSON, unsupported encoding/charset), 413 (over the
 * limit), 400 (not JSON, aborted).
 */
export type JsonBodyReader = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

export function jsonBodyReader(limit: number): JsonBodyReader {
    const general = express.json({ limit, strict: true, type: () => true });
    const tooLarge = new HttpProblem(413, 'The body is larger than the configured max_body_size');
    const notJson = new HttpProblem(400, 'The body is not valid JSON');
    const aborted = new HttpProblem(400, 'The request was aborted before its body was complete');

    function viaBodyParser(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
        return new Promise((resolve, reject) => {
            general(req, res, (err?: unknown) => {
                if (err) {
                    reject(clientProblem(err) ?? (err instanceof Error ? err : new Error('body-parser failed')));
                } else {
                    resolve((req as express.Request).body);
                }
            });
        });
    }

    return (req, res) => {
        const type = req.headers['content-type'];
        if (type === undefined || !JSON_TYPE.test(type)) {
            return Promise.reject(new HttpProblem(415, type ?
                `Content-Type must be application/json, got '${type.slice(0, 100)}'` :
                'Content-Type must be application/json'));
        }
        const encoding = req.headers['content-encoding'];
        const charset = CHARSET.exec(type)?.[1].toLowerCase();
        if ((encoding !== undefined && encoding.toLowerCase() !== 'identity') ||
            (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
            return viaBodyParser(req, res);
        }
        const declared = Number(req.headers['content-length']);
        if (declared > limit) {
            return Promise.reject(tooLarge);
        }
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            let size = 0;
            let done = false;
            const fail = (problem: HttpProblem): void => {
                if (!done) {
                    done = true;
                    // Stop reading; node discards the rest after the answer is sent.
                    req.pause();
                    reject(problem);
                }
            };
            req.on('data', (chunk: Buffer) => {
                size += chunk.length;
                if (size > limit) {
                    fail(tooLarge);
                } else if (!done) {
                    chunks.push(chunk);
                }
            });
            req.on('aborted', () => fail(aborted));
            req.on('error', () => fail(aborted));
            req.on('end', () => {
                if (done) {
                    return;
                }
                done = true;
                const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
                // body-parser's strict mode: only an object or array at the top level, and an
                // empty body is an empty object (the schema then says what is missing).
                const first = /^[\s\uFEFF]*(.)/.exec(text)?.[1];
                if (first === undefined) {
                    resolve({});
                    return;
                }
                if (first !== '{' && first !== '[') {
                    reject(notJson);
                    return;
                }
                try {
                    resolve(JSON.parse(text.charCodeAt(0) === 0xFEFF ? text.slice(1) : text));
                } catch {
                    reject(notJson);
                }
            });
        });
    };
}
