import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './problem';

/**
 * Optional inbound authentication: Echo sends `Authorization: Bearer <shared secret>`.
 * Several secrets may be valid at once, so that a secret can be rotated without downtime
 * (add the new one, move Echo over, remove the old one).
 *
 * Only SHA-256 digests of the secrets are kept. The presented credential is hashed too, and
 * the digests are compared with timingSafeEqual: every comparison is over 32 bytes, so
 * neither the content nor the length of a secret leaks through timing. All secrets are
 * compared on every request (no early exit), so neither does which one matched.
 *
 * The header and the secrets are never logged and never echoed in a problem body.
 */
const CHALLENGE = 'Bearer realm="push-notifications"';

function digest(value: string): Buffer {
    return createHash('sha256').update(value, 'utf8').digest();
}

export function inboundAuth(secrets: readonly string[]): RequestHandler {
    const check = bearerCheck(secrets);
    return (req: Request, _res: Response, next: NextFunction): void => {
        next(check(req));
    };
}

/**
 * The check itself, on plain node:http requests: undefined when the credential is good,
 * else the 401 to send. Shared by the express middleware and the accept hot path.
 */
export function bearerCheck(secrets: readonly string[]): (req: IncomingMessage) => HttpProblem | undefined {
    if (secrets.length === 0) {
        throw new Error('inboundAuth needs at least one secret; do not mount it when auth is off');
    }
    const digests = secrets.map(digest);
    const missing = new HttpProblem(401, 'This endpoint requires an Authorization: Bearer header',
        { headers: { 'WWW-Authenticate': CHALLENGE } });
    const wrong = new HttpProblem(401, 'The credential is not valid',
        { headers: { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` } });

    return (req: IncomingMessage): HttpProblem | undefined => {
        const header = req.headers.authorization;
        // RFC 7235: the scheme is case-insensitive; one space (or more) before the credential.
        const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
        if (!match) {
            return header === undefined ? missing : wrong;
        }
        const presented = digest(match[1]);
        let ok = false;
        for (const d of digests) {
            // Non-short-circuit OR: always compare against every secret.
            ok = timingSafeEqual(presented, d) || ok;
        }
        return ok ? undefined : wrong;
    };
}
