import { spawn } from 'node:child_process';
import { createECDH, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { pointAtFakes, RunnerConfig, wikiAccount } from '../../scripts/dev/dev-config';
import { CheckReport, runCheck } from '../../src/cli/check';
import { CheckRow } from '../../src/cli/output';
import { DEFAULT_FAKE_PASSWORD, DEFAULT_FAKE_USER, FakeMediaWiki } from '../fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { createServiceAccount } from '../fakes/tls';
import { ROOT } from '../helpers/processes';

export const USER_AGENT = 'push-notifications-cli-test/1.0 (test@example.org)';

/** The provider fakes and a fake wiki, and config files (service-runner YAML) pointing at them. */
export interface CliFakes {
    readonly providers: ProviderFakes;
    readonly wiki: FakeMediaWiki;
    /** A temp dir for config files and keys (removed with the provider fakes). */
    readonly dir: string;
    /** Writes `services[0].conf = conf` as a service-runner YAML in `dir`; returns its path. */
    writeConfig(name: string, conf: Record<string, unknown>): string;
    close(): Promise<void>;
}

export async function startCliFakes(options: { proxy?: boolean } = {}): Promise<CliFakes> {
    const providers = await startProviderFakes(options);
    const wiki = await FakeMediaWiki.start({ everyTokenExists: true });
    const dir = providers.files.dir;
    return {
        providers, wiki, dir,
        writeConfig(name, conf) {
            const file = path.join(dir, name);
            // JSON first: keys set to undefined (a block left out) are dropped.
            writeFileSync(file, yaml.dump(JSON.parse(JSON.stringify(runnerConfig(conf)))));
            return file;
        },
        async close() {
            await Promise.allSettled([wiki.close(), providers.close()]);
        }
    };
}

export function runnerConfig(conf: Record<string, unknown>): RunnerConfig {
    return {
        num_workers: 0, logging: { level: 'warn' },
        services: [{ name: 'push-notifications', module: './dist/service.js', entrypoint: 'default', conf }]
    };
}

/**
 * A conf with every kind configured against the fakes: the legacy apns, fcm and webpush
 * blocks, a second APNs instance under `providers:`, and a Matrix `type: webpush` app
 * (instance matrix/web), plus the wiki account.
 */
export function fullConf(f: CliFakes, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const vapidPem = path.join(f.dir, 'matrix-vapid.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(vapidPem, privateKey.export({ type: 'sec1', format: 'pem' }));
    return {
        interface: '127.0.0.1', port: 0, user_agent: USER_AGENT,
        ...(f.providers.conf.proxy ? { proxy: f.providers.conf.proxy } : {}),
        mwapi_req: { uri: f.wiki.uri },
        mw_subscription_manager_username: DEFAULT_FAKE_USER,
        mw_subscription_manager_password: DEFAULT_FAKE_PASSWORD,
        apns: f.providers.conf.apns,
        fcm: f.providers.conf.fcm,
        webpush: f.providers.conf.webpush,
        providers: { 'apns-two': { kind: 'apns', ...f.providers.conf.apns } },
        matrix: { apps: { web: { type: 'webpush', vapid_private_key: vapidPem, vapid_contact_email: 'push-admin@example.org' } } },
        ...overrides
    };
}

/** The conf `npm start` builds (scripts/dev/start.ts): config.dev.yaml with each `mock: true` part pointed at the fakes. */
export async function npmStartConf(f: CliFakes): Promise<Record<string, unknown>> {
    const source = yaml.load(readFileSync(path.join(ROOT, 'config.dev.yaml'), 'utf8')) as RunnerConfig;
    const account = wikiAccount(source)!;
    // The fake wiki of npm start accepts the dev config's account.
    const wiki = await FakeMediaWiki.start({ everyTokenExists: true, accounts: { [account.username]: { password: account.password } } });
    extraClosers.push(() => wiki.close());
    const { config } = pointAtFakes(source, { apns: f.providers.conf.apns, fcm: f.providers.conf.fcm, webpush: f.providers.conf.webpush, mediawikiUri: wiki.uri });
    return config.services[0].conf;
}

const extraClosers: (() => Promise<void>)[] = [];

export async function closeExtras(): Promise<void> {
    await Promise.allSettled(extraClosers.splice(0).map((c) => c()));
}

/** A service-account file with the same account and project, but another key (Google knows only the old one: a revoked key). */
export function revokedServiceAccount(f: CliFakes): string {
    const current = JSON.parse(readFileSync(f.providers.files.serviceAccount, 'utf8')) as Record<string, unknown>;
    const other = createServiceAccount(String(current.project_id), String(current.token_uri)).serviceAccount;
    const file = path.join(f.dir, 'revoked-service-account.json');
    writeFileSync(file, JSON.stringify({ ...current, private_key: other.private_key, private_key_id: 'revokedkey0000000000000000000000000000001' }));
    return file;
}

/** A VAPID block whose private key is not the public key's. */
export function mismatchedVapid(f: CliFakes): Record<string, unknown> {
    const other = createECDH('prime256v1');
    other.generateKeys();
    const vapid = (f.providers.conf.webpush as { vapid: Record<string, unknown> }).vapid;
    return { ...vapid, privateKey: other.getPrivateKey('base64url') };
}

export async function check(file: string, env: NodeJS.ProcessEnv = {}): Promise<CheckReport> {
    return runCheck({ configFile: file, env });
}

/** The rows of one subject, as `status step: detail` strings (assertion messages show them all). */
export function rowsOf(report: CheckReport, subject: string): CheckRow[] {
    return report.rows.filter((r) => r.subject === subject);
}

export function show(report: CheckReport): string {
    return report.rows.map((r) => `${r.status} ${r.subject} ${r.step}: ${r.detail}`).join('\n');
}

/** Runs a built command (dist/<script>) as a real process. */
export function runNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const file = path.join(ROOT, 'dist', script);
    if (!existsSync(file)) {
        throw new Error(`dist/${script} is missing: run \`npm run build\` first`);
    }
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
}
