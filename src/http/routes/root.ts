import { Router } from 'express';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path';
import { ApiSpec } from '../api-spec';
import { HttpProblem } from '../problem';

/**
 * GET /?spec (the spec as JSON), GET /?doc (Swagger UI, served from swagger-ui-dist so it
 * works offline; its assets come from /?doc&path=<file>) and GET /robots.txt.
 */
const ASSET_TYPES: Record<string, string> = {
    '.css': 'text/css; charset=utf-8',
    '.js': 'application/javascript; charset=utf-8',
    '.png': 'image/png',
    '.html': 'text/html; charset=utf-8',
    '.map': 'application/json'
};

const DOC_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>push-notifications API</title>
<link rel="icon" type="image/png" href="?doc&amp;path=favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="?doc&amp;path=favicon-16x16.png" sizes="16x16">
<link rel="stylesheet" href="?doc&amp;path=swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="?doc&amp;path=swagger-ui-bundle.js"></script>
<script src="?doc&amp;path=swagger-initializer.js"></script>
</body>
</html>
`;

// A script file, not an inline script, so the page works under the default CSP.
const INITIALIZER = `window.onload = function () {
    window.ui = SwaggerUIBundle({ url: '?spec', dom_id: '#swagger-ui', deepLinking: true });
};
`;

export function rootRouter(spec: ApiSpec): Router {
    const router = Router({ caseSensitive: true, strict: true });
    // Only the path helper: swagger-ui-dist's main module evaluates the whole 1.5 MB UI
    // bundle, which costs start-up time and memory for a page few people open.
    const assetDir = getAbsoluteFSPath();
    // Read on the first /?doc, then kept; the set of files is fixed, and nothing outside it
    // can be asked for.
    let assets: Map<string, Buffer> | undefined;
    const docAssets = (): Map<string, Buffer> => {
        if (!assets) {
            assets = new Map([['swagger-initializer.js', Buffer.from(INITIALIZER)]]);
            for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']) {
                assets.set(file, readFileSync(path.join(assetDir, file)));
            }
        }
        return assets;
    };

    router.get('/', (req, res) => {
        if (req.query.spec !== undefined) {
            res.type('application/json').send(spec.documentJson);
            return;
        }
        if (req.query.doc !== undefined) {
            const file = typeof req.query.path === 'string' ? req.query.path : undefined;
            if (file === undefined) {
                res.type('text/html').send(DOC_PAGE);
                return;
            }
            const body = docAssets().get(file);
            if (!body) {
                throw new HttpProblem(404, 'No such documentation asset');
            }
            res.type(ASSET_TYPES[path.extname(file)] ?? 'application/octet-stream').send(body);
            return;
        }
        throw new HttpProblem(404, 'Nothing here: try /?spec or /?doc');
    });

    router.get('/robots.txt', (_req, res) => {
        res.type('text/plain').send('User-agent: *\nDisallow: /\n');
    });
    return router;
}
