import type { NextFunction, Request, Response } from 'express';

/**
 * The service-template's security headers (when `csp` is set, the default) and CORS headers
 * (only when `cors` is set; off by default, so browsers cannot call /v1/* cross-origin).
 * The list is built once; each response only copies it.
 */
export function securityHeaderList(cors: string | false, csp: string | false): readonly (readonly [string, string])[] {
    const headers: [string, string][] = [];
    if (cors !== false) {
        headers.push(['access-control-allow-origin', cors],
            ['access-control-allow-headers', 'accept, x-requested-with, content-type, authorization'],
            ['access-control-expose-headers', 'etag']);
    }
    if (csp !== false) {
        headers.push(['x-xss-protection', '1; mode=block'], ['x-content-type-options', 'nosniff'],
            ['x-frame-options', 'SAMEORIGIN'], ['referrer-policy', 'no-referrer'],
            ['content-security-policy', csp], ['x-content-security-policy', csp], ['x-webkit-csp', csp]);
    }
    return headers;
}

export function securityHeaders(cors: string | false, csp: string | false) {
    const headers = securityHeaderList(cors, csp);
    return (_req: Request, res: Response, next: NextFunction): void => {
        for (const [name, value] of headers) {
            res.setHeader(name, value);
        }
        next();
    };
}
