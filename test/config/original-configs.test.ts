import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { loadServiceConfig } from '../../src/config/service-config';
import { startTestService } from '../helpers/service-harness';

/**
 * Drop-in compatibility: every config the original service
 * (wikimedia/mediawiki-services-push-notifications) shipped — config.dev.yaml (config.yaml is a symlink to it),
 * config.test.yaml at its last commit, and the config.prod.yaml it once had — loads, and the
 * service starts with it (on an ephemeral loopback port) and answers /readyz. Every key in
 * them is either honoured with its original meaning or accepted and ignored
 * (restbase_req, debug, compression_level, enable_custom_cookie_jar).
 */
const DIR = path.join(__dirname, 'original');

function confOf(file: string): Record<string, unknown> {
    const doc = yaml.load(readFileSync(path.join(DIR, file), 'utf8')) as { services: { conf: Record<string, unknown> }[] };
    return doc.services[0].conf;
}

describe('the original service\'s configs (drop-in compatibility)', function () {
    this.timeout(20000);
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

    it('are all here', () => {
        assert.deepEqual(files, ['config.dev.yaml', 'config.prod.yaml', 'config.test.yaml']);
    });

    for (const file of files) {
        it(`${file}: loads with every key's original meaning, and the service starts with it`, async () => {
            const conf = confOf(file);
            const c = loadServiceConfig(conf, { env: {} });
            assert.equal(c.port, conf.port);
            assert.equal(c.cors, conf.cors);
            assert.equal(c.mwapi_req.uri, (conf.mwapi_req as { uri: string }).uri);
            assert.equal(c.mw_subscription_manager_username, conf.mw_subscription_manager_username);
            const q = conf.queueing as { flushTimeoutMs: number; maxSize: number; verbose: boolean } | undefined;
            if (q) {
                assert.equal(c.queueing.flushTimeoutMs, q.flushTimeoutMs);
                assert.equal(c.queueing.maxSize, q.maxSize);
                assert.equal(c.queueing.verbose, q.verbose);
            }
            const apns = conf.apns as { mock: boolean } | undefined;
            assert.equal(c.apns.mock, apns?.mock ?? false);

            const svc = await startTestService({ ...conf, port: 0, interface: '127.0.0.1' });
            try {
                const res = await fetch(`${svc.baseUrl}/readyz`);
                assert.equal(res.status, 200);
                assert.deepEqual(svc.logger.at('fatal'), []);
            } finally {
                await svc.close();
            }
        });
    }

    it('a huge queueing.maxSize ("flush on the timer only", the original default) starts, warns once, and flushes on the timer', async () => {
        const svc = await startTestService({
            apns: { mock: true }, fcm: { mock: true },
            queueing: { flushTimeoutMs: 200, maxSize: Number.MAX_SAFE_INTEGER, maxQueuedTokens: 1000 }
        });
        try {
            const warnings = svc.logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('queueing.maxSize'));
            assert.equal(warnings.length, 1, 'warned once');
            const res = await fetch(`${svc.baseUrl}/v1/message/fcm`, {
                method: 'POST', headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ deviceTokens: ['tok-1', 'tok-2'], messageType: 'checkEchoV1' })
            });
            assert.equal(res.status, 200);
            const deadline = Date.now() + 5000;
            while (svc.logger.text().indexOf('mock send') < 0 && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 20));
            }
            assert.ok(svc.logger.text().includes('mock send'), 'flushed on the timer');
        } finally {
            await svc.close();
        }
    });
});
