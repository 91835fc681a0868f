/**
 * `npm start`: the service on 127.0.0.1:8900 with config.dev.yaml, against in-process fakes
 * that speak the real protocols — no network, no credentials. All four APIs are on: Echo's
 * /v1/message/{fcm,apns,webpush}, the Matrix push gateway (/_matrix/push/v1/notify) and the
 * MongoosePush v3 API (/v3/notification/{device_id}); at start the launcher prints, on
 * stderr, a curl line for each, with tokens the fakes understand.
 *
 *   npm start                                   # build, then this script
 *   npm start -- --port 8901 --metrics-port 9101 # beside another instance
 *   npm start | npx bunyan -o short             # readable logs
 *
 * One process holds everything: the fake APNs (HTTP/2), the fake FCM v1 + Google OAuth
 * (HTTPS), the fake Web Push service (VAPID checked, messages decrypted; GET
 * /subscribe?prefix= makes a browser subscription), the fake MediaWiki action API
 * (sessions, login, CSRF; every token is a known subscription), and the service itself, run by service-runner with num_workers: 0 from
 * dist/service.js exactly as in production. Each part the config marks `mock: true` is
 * pointed at its fake (dev-config.ts), so the real clients run end to end. Keys (APNs .p8,
 * FCM service account, VAPID, TLS CA) are generated at start into a temp dir removed at exit.
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
import { apnsToken } from '../../test/fakes/apns-server';
import { FakeMediaWiki } from '../../test/fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../../test/fakes/provider-fakes';
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
        apns: providers.conf.apns, fcm: providers.conf.fcm, webpush: providers.conf.webpush, mediawikiUri: wiki.uri
    }, { port: args.port, metricsPort: args.metricsPort });
    // For `npm run check -- -c .dev/config.yaml` (and send) against these fakes.
    const devConfig = path.join(ROOT, '.dev', 'config.yaml');
    mkdirSync(path.dirname(devConfig), { recursive: true });
    writeFileSync(devConfig, `# Written by npm start (scripts/dev/start.ts); valid while it runs.\n${yaml.dump(config)}`);
    process.once('exit', () => rmSync(devConfig, { force: true }));
    const webPushOrigin = `https://127.0.0.1:${providers.webpush.port}`;
    say('dev mode: fakes started (throwaway keys, nothing leaves this machine)', {
        config: `${path.relative(ROOT, devConfig)} (npm run check -- -c ${path.relative(ROOT, devConfig)})`,
        fakeApns: faked.apns ? `https://127.0.0.1:${providers.apns.port}` : 'not used (apns.mock is off)',
        fakeFcm: faked.fcm ? providers.fcm.url : 'not used (fcm.mock is off)',
        fakeWebPush: faked.webpush ? webPushOrigin : 'not used (webpush.mock is off)',
        fakeMediaWiki: faked.mediawiki ? wiki.uri : 'not used (mediawiki.mock is off)',
        tokenPrefixes: 'dead- (Unregistered: deleted on the wiki; Matrix rejected; MongoosePush 410), transient- (503, retried), ' +
            'auth- (403/401 config error), slow- (2 s); APNs tokens are the hex of such a label; Web Push: /subscribe?prefix=gone-'
    });
    const svc = config.services[0].conf;
    process.stderr.write(tryItOut(providers, Number(svc.port), webPushOrigin, svc));

    // service-runner runs the module in this process (num_workers: 0) and does its logging
    // and Prometheus set-up exactly as in production; the service installs the SIGTERM drain.
    await new ServiceRunner({}).start(config);
}

/**
 * The "try it" block printed at start: how to get a Web Push subscription from the fake, and
 * a curl line per API, with tokens the fakes understand (the labels pick their behaviour).
 * Plain text on stderr, so `npm start | npx bunyan -o short` leaves it readable.
 */
function tryItOut(providers: ProviderFakes, port: number, webPushOrigin: string, conf: Record<string, unknown>): string {
    const base = `http://127.0.0.1:${port}`;
    const json = "-H 'content-type: application/json'";
    const sub = providers.webpush.createSubscription('');
    const s = JSON.parse(sub.token) as { endpoint: string; keys: { p256dh: string; auth: string } };
    const iosPushkey = (label: string): string => Buffer.from(apnsToken(label), 'hex').toString('base64');
    const matrix = (devices: unknown[]): string => JSON.stringify({
        notification: {
            event_id: '$3957tyerfgewrf384', room_id: '!slw48wfj34rtnrf:example.org', type: 'm.room.message',
            sender: '@exampleuser:example.org', sender_display_name: 'Major Tom', room_name: 'Mission Control',
            prio: 'high', content: { msgtype: 'm.text', body: 'I\'m floating in a most peculiar way.' },
            counts: { unread: 2, missed_calls: 1 }, devices
        }
    }).replace(/'/g, '\'\\\'\'');
    const lines = [
        '',
        '--- dev mode: try it (no credentials; the log shows each provider call: debug/delivery) ---',
        '',
        `A browser subscription from the fake Web Push service (prefix picks its behaviour: gone-, transient-, slow-, ...):`,
        `  curl -s --cacert ${providers.files.ca} '${webPushOrigin}/subscribe?prefix='`,
        `Here is one, used below: ${sub.token}`,
        '',
        'Echo (MediaWiki) — queued, sent at the next flush:',
        `  curl -s ${json} -d '{"deviceTokens":["ok-1","dead-1"],"messageType":"checkEchoV1"}' ${base}/v1/message/fcm`,
        `  curl -s ${json} -d '{"deviceTokens":["${apnsToken('ok-1')}"],"messageType":"checkEchoV1"}' ${base}/v1/message/apns`,
        `  curl -s ${json} -d '${JSON.stringify({ deviceTokens: [sub.token], messageType: 'checkEchoV1' })}' ${base}/v1/message/webpush`,
        '',
        'Matrix push gateway (a Synapse-shaped notify; answered {"rejected": [...]}):',
        `  curl -s ${json} -d '${matrix([
            { app_id: 'org.example.chat.ios', pushkey: iosPushkey('ok-1'), pushkey_ts: 1700000000, tweaks: { sound: 'default' } },
            { app_id: 'org.example.chat.ios', pushkey: iosPushkey('dead-1'), pushkey_ts: 1700000000 }
        ])}' ${base}/_matrix/push/v1/notify`,
        `  curl -s ${json} -d '${matrix([{ app_id: 'org.example.chat.android', pushkey: 'ok-1', pushkey_ts: 1700000000 }])}' ${base}/_matrix/push/v1/notify`,
        `  curl -s ${json} -d '${matrix([{ app_id: 'org.example.chat.web', pushkey: s.keys.p256dh, pushkey_ts: 1700000000,
            data: { endpoint: s.endpoint, auth: s.keys.auth } }])}' ${base}/_matrix/push/v1/notify`,
        '',
        'MongoosePush v3 (as MongooseIM sends it; 200 null, or 410 {"reason":"unregistered"}):',
        `  curl -s -w '  HTTP %{http_code}\\n' ${json} -d '{"alert":{"badge":3,"body":"OH, HAI!","tag":"alice@localhost","title":"alice@localhost"},"service":"apns"}' ` +
            `${base}/v3/notification/${apnsToken('ok-1')}`,
        `  curl -s -w '  HTTP %{http_code}\\n' ${json} -d '{"data":{"last-message-body":"OH, HAI!","message-count":3},"service":"fcm","priority":"high"}' ` +
            `${base}/v3/notification/dead-1`,
        `  curl -s ${base}/healthcheck`,
        ''
    ];
    if (!conf.matrix || !conf.mongoosepush) {
        lines.push('(The Matrix and MongoosePush lines need the matrix: and mongoosepush: sections of config.dev.yaml.)', '');
    }
    return `${lines.join('\n')}\n`;
}

main().catch((e: unknown) => {
    process.stderr.write(`dev start failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
});
