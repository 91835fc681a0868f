import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error';
import { ProviderInstanceConfig } from '../config/sections/provider-registry';
import { EchoMessages } from '../front-doors/echo/echo-messages';
import { Logger } from '../logging/logger';
import { tokenFingerprint } from '../logging/redact';
import { TokenResult } from '../push/provider';
import { KIND_MODULES } from '../providers/kinds';
import { sendOne } from '../providers/provider-check';
import { ProviderRegistry } from '../providers/registry';
import { errorMessage } from '../util/errors';
import { CliLogger } from './cli-logger';
import { LoadedConfig, loadConfigFile, UsageError } from './config-file';
import { CliIo } from './output';

export const SEND_USAGE = `Usage: node dist/send.js -c <config.yaml> --provider <id> --token <token> [--type <type>] [--topic <bundle id>] [--dry-run] [--verbose]
       npm run send -- -c <config.yaml> --provider <id> --token <token> [--type checkEchoV1] [--dry-run]

Sends one message (Echo's message of --type) to one device token through the real provider
code of instance --provider (apns, fcm, webpush, a providers: id, or matrix/<app>), and
prints the provider's answer and what the service would do with it.

Options:
  -c, --config <file>  the service-runner YAML
  --provider <id>      the provider instance
  --token <token>      an APNs device token (hex), an FCM registration token, or a Web Push
                       subscription (its JSON)
  --type <type>        one of the config's message_types (default checkEchoV1, else the first)
  --topic <bundle id>  APNs: the request's topic (default: the instance's topic)
  --dry-run            FCM: validate_only (nothing is delivered); APNs, Web Push: nothing is sent
  -v, --verbose        also write the provider's log lines (JSON) to stderr
  -h, --help           this text

Exit code: 0 delivered (or validated), 1 configuration error, 2 usage error,
3 dead token, 4 transient (would be retried).
`;

/** Exit codes by outcome (SEND_USAGE). */
export const SEND_EXIT_CODES = { delivered: 0, config_error: 1, dead: 3, transient: 4 } as const;

export interface SendOptions {
    readonly configFile: string;
    readonly provider: string;
    readonly token: string;
    readonly type?: string;
    readonly topic?: string;
    readonly dryRun?: boolean;
    readonly env?: NodeJS.ProcessEnv;
    readonly logger?: Logger;
}

export interface SendReport {
    /** `[label, text]` pairs, printed as aligned lines. */
    readonly lines: readonly (readonly [string, string])[];
    /** The provider's answer; undefined when the provider could not be built. */
    readonly result?: TokenResult;
    readonly exitCode: number;
}

/**
 * Sends one message to one token through the registry's instance `provider` (built alone,
 * from the config file as the service builds it) and says what the service would do with
 * the answer, from the instance's own retry settings.
 *
 * @throws UsageError: no such file, provider or message type
 */
export async function runSend(options: SendOptions): Promise<SendReport> {
    const env = options.env ?? process.env;
    const logger = options.logger ?? new CliLogger();
    let loaded: LoadedConfig;
    try {
        loaded = loadConfigFile(options.configFile, env);
    } catch (e) {
        if (e instanceof ConfigError) {
            return { lines: [['config', `${e.message} (the service would not start)`]], exitCode: SEND_EXIT_CODES.config_error };
        }
        throw e;
    }
    const inst = loaded.instances.find((i) => i.id === options.provider);
    if (!inst) {
        throw new UsageError(`no provider instance "${options.provider}" in ${options.configFile} (there are: ${loaded.instances.map((i) => i.id).join(', ')})`);
    }
    const types = loaded.config.message_types;
    const type = options.type ?? (types.includes('checkEchoV1') ? 'checkEchoV1' : types[0]);
    if (!types.includes(type)) {
        throw new UsageError(`--type ${type} is not one of the config's message_types (${types.join(', ')})`);
    }
    const message = new EchoMessages(loaded.config.message_type_options).get(type, inst.kind, options.topic);
    const dryRun = options.dryRun === true;
    const lines: [string, string][] = [
        ['provider', `${inst.id} (${inst.kind}${(inst.settings as { mock?: boolean }).mock ? ', mock: nothing leaves this process' : ''})`],
        ['message', `${type}${options.topic ? `, topic ${options.topic}` : ''}${dryRun ? ', dry run' : ''}`],
        ['token', tokenFingerprint(options.token)]
    ];
    let registry: ProviderRegistry;
    try {
        registry = new ProviderRegistry({ instances: [inst], egress: loaded.config, userAgent: loaded.config.user_agent, logger, env });
    } catch (e) {
        lines.push(['answer', `none: the provider could not be built: ${errorMessage(e)}`]);
        lines.push(['service', 'would not start with this configuration']);
        return { lines, exitCode: SEND_EXIT_CODES.config_error };
    }
    const registered = registry.get(inst.id);
    if (!registered.usable) {
        const kinds: Readonly<Partial<Record<string, { missing(settings: unknown, env: NodeJS.ProcessEnv): string | undefined }>>> = KIND_MODULES;
        lines.push(['note', `${inst.id} is not configured (${kinds[inst.kind]?.missing(inst.settings, env) ?? 'no credentials'})`]);
    }
    try {
        const r = await sendOne(registered.provider, options.token, message, dryRun);
        lines.push(['answer', describeAnswer(r)]);
        lines.push(['service', whatTheServiceDoes(r, inst, dryRun)]);
        return { lines, result: r, exitCode: SEND_EXIT_CODES[r.outcome] };
    } finally {
        await registry.close();
    }
}

/** `dead Unregistered`, `transient ServiceUnavailable, Retry-After 7 s`, `config_error InvalidProviderToken: APNs 403 …`. */
export function describeAnswer(r: TokenResult): string {
    const retry = r.retryAfterMs !== undefined ? `, Retry-After ${Math.round(r.retryAfterMs / 1000)} s` : '';
    return `${r.outcome} ${r.reason}${retry}${r.detail ? `: ${r.detail}` : ''}`;
}

/** What Delivery (delivery.ts) does with this answer, in plain words, with the instance's own retry settings. */
export function whatTheServiceDoes(r: TokenResult, inst: ProviderInstanceConfig, dryRun: boolean): string {
    const retry = inst.retry;
    switch (r.outcome) {
        case 'delivered':
            if (r.reason === 'dry_run') {
                return `nothing was sent: a dry run${inst.kind === 'apns' ? ' (APNs has no validate-only mode)' : ''}`;
            }
            if (r.reason === 'validated') {
                return 'FCM validated the message for this token (validate_only): nothing was delivered';
            }
            return 'delivered: the push service took the message; nothing more to do';
        case 'dead':
            if (r.reason === 'invalid_token' || r.reason === 'invalid_subscription') {
                return `dead: it cannot be a ${inst.kind} token, so it was never sent; the service would delete the subscription${dryRun ? ' (not in a dry run)' : ''}`;
            }
            return dryRun
                ? 'dead: the push service says the token is gone; a dry run never deletes'
                : 'dead: the push service says the token is gone; the service would delete the subscription (Echo: on the wiki, through the mass-deletion guard; Matrix: listed in "rejected"; MongoosePush: answered 410)';
        case 'config_error':
            return `configuration error: logged at error level, ${retry.configErrorMaxAttempts > 1 ? `tried up to ${retry.configErrorMaxAttempts} times in all` : 'not retried'}, never deleted; fix the configuration`;
        case 'transient': {
            const wait = r.retryAfterMs !== undefined ? `no sooner than the ${Math.round(r.retryAfterMs / 1000)} s Retry-After asks, ` : '';
            return `transient: retried ${wait}with backoff from ${retry.baseDelayMs} ms to ${retry.maxDelayMs} ms, up to ${retry.maxAttempts} attempts in all within ${Math.round(retry.maxAgeMs / 1000)} s; never deleted`;
        }
    }
}

/** `node dist/send.js ...`: prints the report's lines and returns the exit code (SEND_USAGE). */
export async function sendMain(argv: readonly string[], io: CliIo): Promise<number> {
    let values: { config?: string; provider?: string; token?: string; type?: string; topic?: string; 'dry-run'?: boolean; verbose?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: [...argv], strict: true, allowPositionals: false,
            options: {
                config: { type: 'string', short: 'c' }, provider: { type: 'string' }, token: { type: 'string' },
                type: { type: 'string' }, topic: { type: 'string' }, 'dry-run': { type: 'boolean' },
                verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' }
            }
        }));
    } catch (e) {
        io.err(`${errorMessage(e)}\n\n${SEND_USAGE}`);
        return 2;
    }
    if (values.help) {
        io.out(SEND_USAGE);
        return 0;
    }
    const missing = (['config', 'provider', 'token'] as const).filter((k) => !values[k]);
    if (missing.length > 0) {
        io.err(`${missing.map((k) => `--${k}`).join(', ')} required\n\n${SEND_USAGE}`);
        return 2;
    }
    try {
        const report = await runSend({
            configFile: values.config!, provider: values.provider!, token: values.token!, type: values.type, topic: values.topic,
            dryRun: values['dry-run'], env: io.env, logger: new CliLogger(values.verbose ? io.err : undefined)
        });
        const width = Math.max(...report.lines.map(([label]) => label.length));
        io.out(report.lines.map(([label, text]) => `${label.padEnd(width)}  ${text}\n`).join(''));
        return report.exitCode;
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`${e.message}\n`);
            return 2;
        }
        throw e;
    }
}
