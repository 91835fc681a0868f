import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadServiceConfig } from '../../src/config/service-config';
import { SECRETS_DIR } from '../../scripts/verify-image-paths';
import { prodConfig, repoFile } from './deploy-files';

describe('deploy: config.prod.yaml', () => {
    const prod = prodConfig();
    const conf = prod.services[0].conf;
    let dir: string;

    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'config-prod-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('passes loadServiceConfig, with the password file it names provided', () => {
        const pw = path.join(dir, 'pw');
        writeFileSync(pw, 'throwaway-password\n');
        const loaded = loadServiceConfig({ ...conf, mw_subscription_manager_password_file: pw, num_workers: prod.num_workers },
            { env: {} });
        assert.equal(loaded.mw_subscription_manager_password, 'throwaway-password');
        assert.equal(loaded.port, 8900);
        assert.equal(loaded.queueing.flushTimeoutMs, 'random');
        assert.equal(loaded.shutdown_timeout, 25);
    });

    it('refuses to start when the password file is missing (no silent anonymous deletes)', () => {
        assert.throws(() => loadServiceConfig({ ...conf, num_workers: prod.num_workers }, { env: {} }),
            /mw_subscription_manager_password_file/);
    });

    it('holds no inline secret: only file paths under the Secret mount', () => {
        assert.equal(conf.mw_subscription_manager_password, undefined);
        assert.equal(conf.apns.passphrase, undefined);
        assert.ok(conf.apns.token.key.startsWith(SECRETS_DIR + '/'));
        assert.equal(conf.fcm.service_account, undefined, 'FCM reads GOOGLE_APPLICATION_CREDENTIALS');
        assert.doesNotMatch(repoFile('config.prod.yaml'), /BEGIN [A-Z ]*PRIVATE KEY|"private_key"/);
    });

    it('is production-shaped: info logs, Prometheus on its own port, real providers, random flushes', () => {
        assert.equal(prod.logging.level, 'info');
        assert.equal(prod.metrics.length, 1);
        assert.equal(prod.metrics[0].type, 'prometheus');
        assert.notEqual(prod.metrics[0].port, conf.port);
        assert.ok(Number.isInteger(prod.num_workers) && prod.num_workers >= 1, 'the master handles SIGTERM');
        for (const p of ['apns', 'fcm', 'mediawiki']) {
            assert.equal(conf[p].mock, false, `${p}.mock`);
        }
        assert.equal(conf.apns.production, true);
        assert.equal(conf.queueing.flushTimeoutMs, 'random');
        assert.ok(conf.queueing.flushTimeoutMin >= 1000 && conf.queueing.flushTimeoutMax <= 60000);
        assert.ok(conf.shutdown_timeout < 30, "below Kubernetes' default 30 s grace");
        assert.ok(conf.no_proxy_list.includes(new URL(conf.mwapi_req.uri).hostname),
            'the internal MediaWiki API bypasses the egress proxy');
    });
});
