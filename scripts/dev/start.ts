/**
 * `npm start`: the service on 127.0.0.1:8900 with config.dev.yaml, against in-process fakes
 * that speak the real protocols — no network, no credentials.
 *
 *   npm start                                   # build, then this script
 *   npm start -- --port 8901 --metrics-port 9101 # beside another instance
 *   npm start | npx bunyan -o short             # readable logs
 *
 * One process holds everything: the fake APNs (HTTP/2), the fake FCM v1 + Google OAuth
 * (HTTPS), the fake MediaWiki action API (sessions, login, CSRF; every token is a known
 * subscription), and the service itself, run by service-runner with num_workers: 0 from
 * dist/service.js exactly as in production. Each part the config marks `mock: true` is
 * pointed at its fake (dev-config.ts), so the real clients run end to end. Keys (APNs .p8,
 * FCM service account, TLS CA) are generated at start into a temp dir removed at exit.
 *
 * Ctrl-C / SIGTERM runs the service's real shutdown drain (the fakes stay up until the
 * process exits, so queued tokens are still delivered).
 *
 * The config as rewritten is also written to .dev/config.yaml (git-ignored; valid while this
 * runs), so the operators' commands work against the same fakes:
 *   npm run check -- -c .dev/config.yaml
 *   npm run send -- -c .dev/config.yaml --provider fcm --token dead-1
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import ServiceRunner = require('service-runner');
import { FakeMediaWiki } from '../../test/fakes/mediawiki-server';
import { startProviderFakes } from '../../test/fakes/provider-fakes';
import { pointAtFakes, RunnerConfig, wikiAccount } from './dev-config';

const ROOT = path.resolve(__dirname, '..', '..');

interface Args {
    config: string;
    port?: number;
    metricsPort?: number;
}

function parseArgs(argv: readonly string[]): Args {
    const args: Args = { config: path.join(ROOT, 'config.dev.yaml') };
    for (let i = 0; i < argv.length; i++) {
        const value = argv[i + 1];
        switch (argv[i]) {
            case '-c':
            case '--config':
                args.config = path.resolve(value);
                i++;
                break;
            case '--port':
                args.port = Number(value);
                i++;
                break;
            case '--metrics-port':
                args.metricsPort = Number(value);
                i++;
                break;
            default:
                throw new Error(`unknown argument ${argv[i]} (use -c FILE, --port N, --metrics-port N)`);
        }
    }
    return args;
}

/**
 * The launcher's own lines, in bunyan's JSON shape (like service-runner's), so that piping
 * through `bunyan` formats them with the rest.
 */
function say(msg: string, extra: Record<string, unknown> = {}): void {
    process.stdout.write(`${JSON.stringify({
        name: 'push-notifications', hostname: hostname(), pid: process.pid, level: 30, levelPath: 'info/dev',
        ...extra, msg, time: new Date().toISOString(), v: 0
    })}\n`);
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    process.chdir(ROOT); // service-runner resolves the module path against the working directory
    const source = yaml.load(readFileSync(args.config, 'utf8')) as RunnerConfig;
    if (source.num_workers !== undefined && source.num_workers !== 0) {
        say(`num_workers: ${JSON.stringify(source.num_workers)} in ${path.basename(args.config)} ignored: dev mode runs one process`);
    }

    const providers = await startProviderFakes();
    // process.exit() skips async cleanup: remove the throwaway keys synchronously.
    process.once('exit', () => rmSync(providers.files.dir, { recursive: true, force: true }));
    const account = wikiAccount(source);
    const wiki = await FakeMediaWiki.start({
        everyTokenExists: true,
        accounts: account ? { [account.username]: { password: account.password } } : undefined
    });

    const { config, faked } = pointAtFakes(source, {
        apns: providers.conf.apns, fcm: providers.conf.fcm, mediawikiUri: wiki.uri
    }, { port: args.port, metricsPort: args.metricsPort });
    // For `npm run check -- -c .dev/config.yaml` (and send) against these fakes.
    const devConfig = path.join(ROOT, '.dev', 'config.yaml');
    mkdirSync(path.dirname(devConfig), { recursive: true });
    writeFileSync(devConfig, `# Written by npm start (scripts/dev/start.ts); valid while it runs.\n${yaml.dump(config)}`);
    process.once('exit', () => rmSync(devConfig, { force: true }));
    say('dev mode: fakes started (throwaway keys, nothing leaves this machine)', {
        config: `${path.relative(ROOT, devConfig)} (npm run check -- -c ${path.relative(ROOT, devConfig)})`,
        fakeApns: faked.apns ? `https://127.0.0.1:${providers.apns.port}` : 'not used (apns.mock is off)',
        fakeFcm: faked.fcm ? providers.fcm.url : 'not used (fcm.mock is off)',
        fakeMediaWiki: faked.mediawiki ? wiki.uri : 'not used (mediawiki.mock is off)',
        tokenPrefixes: 'dead- (Unregistered: deleted on the wiki), transient- (503, retried), auth- (403/401 config error), slow- (2 s)'
    });

    // service-runner runs the module in this process (num_workers: 0) and does its logging
    // and Prometheus set-up exactly as in production; the service installs the SIGTERM drain.
    await new ServiceRunner({}).start(config);
}

main().catch((e: unknown) => {
    process.stderr.write(`dev start failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
});
