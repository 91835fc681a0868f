import assert from 'node:assert/strict';
import { CHROMIUM_ARGS, isLocalUrl, TEST_HOST } from './chromium';

/** The browser tests' own rules, checked without a browser. */
describe('browser test rules (test/browser/chromium.ts)', () => {
    it('counts only loopback, the mapped test host, data: and blob: as staying on this machine', () => {
        for (const url of ['http://127.0.0.1:8900/?doc', 'http://localhost:1/', 'http://[::1]:2/x',
            `http://${TEST_HOST}:3/?spec`, 'ws://127.0.0.1:4/', 'data:image/svg+xml;base64,AAAA', 'blob:http://127.0.0.1:1/abc']) {
            assert.ok(isLocalUrl(url), url);
        }
        for (const url of ['https://validator.swagger.io/validator?url=x', 'http://127.0.0.1.example.org/',
            'https://fonts.googleapis.com/css', 'http://10.0.0.1/', 'ftp://127.0.0.1/', `http://${TEST_HOST}.example.org/`]) {
            assert.ok(!isLocalUrl(url), url);
        }
    });

    it('starts Chromium with no background traffic and only the test host resolvable', () => {
        for (const flag of ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync']) {
            assert.ok(CHROMIUM_ARGS.includes(flag), flag);
        }
        assert.ok(CHROMIUM_ARGS.some((a) => a.startsWith('--host-resolver-rules=') && a.includes(`MAP ${TEST_HOST} 127.0.0.1`) &&
            a.includes('MAP * ~NOTFOUND')));
    });
});
