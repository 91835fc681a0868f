import type { IncomingMessage } from 'node:http';

/** Why a body could not be read. */
export class BodyError extends Error {
    constructor(readonly kind: 'too_large' | 'aborted') {
        super(kind === 'too_large' ? 'body larger than the limit' : 'request aborted before its body was complete');
    }
}

/**
 * Reads a request body into one Buffer, up to `limit` bytes, whatever its Content-Type (the
 * Matrix and MongoosePush clients are not all careful with it; their front doors decide
 * what is JSON). Rejects with a BodyError: 'too_large' (Content-Length says so, or the bytes
 * do), 'aborted'. The rest of a too-large body is not read.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
            req.resume();
            reject(new BodyError('too_large'));
            return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const finish = (err?: BodyError): void => {
            if (done) {
                return;
            }
            done = true;
            req.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('error', onAborted);
            if (err) {
                req.resume();
                reject(err);
            } else {
                resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
            }
        };
        const onData = (chunk: Buffer): void => {
            size += chunk.length;
            if (size > limit) {
                finish(new BodyError('too_large'));
                return;
            }
            chunks.push(chunk);
        };
        const onEnd = (): void => finish();
        const onAborted = (): void => finish(new BodyError('aborted'));
        req.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('error', onAborted);
    });
}
