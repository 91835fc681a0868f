import assert from 'node:assert/strict';
import { startTestService, TestService } from '../helpers/service-harness';

/** /?doc serves Swagger UI from swagger-ui-dist, offline, with its assets under /?doc&path=. */
describe('Swagger UI at /?doc', function () {
    let svc: TestService;
    before(async () => {
        svc = await startTestService();
    });
    after(async () => {
        await svc.close();
    });

    it('serves the page, its assets and an initializer that loads /?spec', async () => {
        const page = await (await fetch(`${svc.baseUrl}/?doc`)).text();
        for (const asset of page.matchAll(/(?:href|src)="\?doc&amp;path=([^"]+)"/g)) {
            const res = await fetch(`${svc.baseUrl}/?doc&path=${asset[1]}`);
            assert.equal(res.status, 200, asset[1]);
            assert.ok((await res.arrayBuffer()).byteLength > 0, asset[1]);
        }
        const init = await (await fetch(`${svc.baseUrl}/?doc&path=swagger-initializer.js`)).text();
        assert.match(init, /url: '\?spec'/);
    });

    it('serves nothing outside its fixed set of files', async () => {
        for (const file of ['../package.json', 'index.js', '/etc/passwd']) {
            const res = await fetch(`${svc.baseUrl}/?doc&path=${encodeURIComponent(file)}`);
            assert.equal(res.status, 404, file);
            assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        }
    });
});
