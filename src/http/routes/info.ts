import { Router } from 'express';

export interface ServiceInfo {
    readonly name: string;
    readonly version: string;
    readonly description: string;
    readonly home: string;
}

/** GET /_info, /_info/name, /_info/version, /_info/home (service-template). */
export function infoRouter(info: ServiceInfo): Router {
    const router = Router({ caseSensitive: true, strict: true });
    router.get('/_info', (_req, res) => {
        res.json(info);
    });
    router.get('/_info/name', (_req, res) => {
        res.json({ name: info.name });
    });
    router.get('/_info/version', (_req, res) => {
        res.json({ version: info.version });
    });
    router.get('/_info/home', (_req, res) => {
        res.redirect(301, info.home);
    });
    return router;
}
