import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error';
import { ProviderInstanceConfig } from '../config/sections/provider-registry';
import { Logger } from '../logging/logger';
import { ProviderKind } from '../push/provider';
import { KindModule } from '../providers/kind-module';
import { KIND_MODULES } from '../providers/kinds';
import { CheckLine } from '../providers/provider-check';
import { ProviderRegistry } from '../providers/registry';
import { errorMessage } from '../util/errors';
import { CliLogger } from './cli-logger';
import { LoadedConfig, loadConfigFile, UsageError } from './config-file';
import { CheckRow, CliIo, formatRow, summarize } from './output';
import { checkWiki } from './wiki-check';

export const CHECK_USAGE = `Usage: node dist/check.js -c <config.yaml> [--verbose]
       npm run check -- -c <config.yaml>

Checks the credentials of every provider instance in a service-runner config
(services[0].conf: the apns, fcm and webpush blocks, providers:, Matrix type: apps)
and the wiki account, without sending anything a person would see:
  APNs      the provider token (key, key id, team id), the connection, and a request
            for a dummy device token (BadDeviceToken = credentials, topic and
            environment accepted);
  FCM       the OAuth token exchange, then a validate_only send for a dummy token;
  Web Push  the VAPID key pair (the public key is the private key's own) and subject;
  MediaWiki login and a CSRF token (no delete).
One line per check; no key, password or token is ever printed.

Options:
  -c, --config <file>  the service-runner YAML ({env(NAME)} is substituted, as the service does)
  -v, --verbose        also write the providers' log lines (JSON) to stderr
  -h, --help           this text

Exit code: 0 every check passed (warnings and skips allowed), 1 a check failed
(or the config would not start the service), 2 a usage error.
`;

/** A check run's rows (in config order) and its exit code. */
export interface CheckReport {
    readonly rows: readonly CheckRow[];
    readonly exitCode: 0 | 1;
}

export interface CheckOptions {
    readonly configFile: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly logger?: Logger;
    /** Called with each row as soon as it and every row before it are known (the command prints them). */
    readonly onRow?: (row: CheckRow) => void;
}

/**
 * Runs every check of a config file: the config itself (as the service would load it), each
 * provider instance through its kind's `check` (KindModule.check), and the wiki login. The
 * instances are checked at the same time, each through a registry of its own (so one that
 * cannot be built fails its own line, not the others); rows come out in config order.
 *
 * @throws UsageError when the file cannot be read or is not a service-runner config
 */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
    const env = options.env ?? process.env;
    const logger = options.logger ?? new CliLogger();
    const rows: CheckRow[] = [];
    const emit = (r: CheckRow): void => {
        rows.push(r);
        options.onRow?.(r);
    };
    let loaded: LoadedConfig;
    try {
        loaded = loadConfigFile(options.configFile, env);
    } catch (e) {
        if (e instanceof ConfigError) {
            emit({ subject: 'config', status: 'fail', step: 'config', detail: `${e.message} (the service would not start)` });
            return { rows, exitCode: 1 };
        }
        throw e;
    }
    const ids = loaded.instances.map((i) => `${i.id} (${i.kind})`).join(', ');
    emit({ subject: 'config', status: 'ok', step: 'config', detail: `${options.configFile} is valid; provider instances: ${ids}` });
    for (const w of loaded.warnings) {
        emit({ subject: 'config', status: 'warn', step: 'config', detail: w });
    }
    const pending: Promise<CheckRow[]>[] = loaded.instances.map((inst) => checkInstance(inst, loaded, env, logger));
    pending.push(checkWiki(loaded.config, logger.child({ component: 'check' })).then((lines) => lines.map((l) => ({ subject: 'mediawiki', ...l }))));
    for (const p of pending) {
        for (const r of await p) {
            emit(r);
        }
    }
    return { rows, exitCode: rows.some((r) => r.status === 'fail') ? 1 : 0 };
}

/** True when the operator wrote this instance (a legacy block present, a `providers:` entry, a Matrix app). */
function written(inst: ProviderInstanceConfig, raw: Readonly<Record<string, unknown>>): boolean {
    return inst.key !== inst.id || inst.id in raw;
}

async function checkInstance(inst: ProviderInstanceConfig, loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<CheckRow[]> {
    const row = (l: CheckLine): CheckRow => ({ subject: inst.id, ...l });
    const modules: Readonly<Partial<Record<ProviderKind, unknown>>> = KIND_MODULES;
    const kind = modules[inst.kind] as KindModule<ProviderKind> | undefined;
    const settings = inst.settings as { mock?: boolean };
    if (!kind) {
        return [row({ status: 'fail', step: 'kind', detail: `kind ${inst.kind} is not available in this build` })];
    }
    if (settings.mock) {
        return [row({ status: 'skip', step: 'credentials', detail: `${inst.key}.mock is true: nothing is sent, so there is nothing to check (development only)` })];
    }
    const hint = kind.missing(inst.settings, env);
    if (hint) {
        return [written(inst, loaded.raw)
            ? row({ status: 'fail', step: 'credentials', detail: `not configured (${hint}): the service would answer every message for it config_error NotConfigured` })
            : row({ status: 'skip', step: 'credentials', detail: `not configured (the config has no ${inst.key} block)` })];
    }
    if (!kind.check) {
        return [row({ status: 'skip', step: 'credentials', detail: `this build has no check for kind ${inst.kind}` })];
    }
    let registry: ProviderRegistry | undefined;
    let buildError: unknown;
    try {
        registry = new ProviderRegistry({ instances: [inst], egress: loaded.config, userAgent: loaded.config.user_agent, logger, env });
    } catch (e) {
        buildError = e;
    }
    try {
        const lines = await kind.check({ config: inst, provider: registry?.get(inst.id).provider, buildError, egress: loaded.config, env });
        return lines.map(row);
    } catch (e) {
        // A kind's check does not reject; if one ever does, its line says so.
        return [row({ status: 'fail', step: 'check', detail: `the check itself failed: ${errorMessage(e)}` })];
    } finally {
        await registry?.close();
    }
}

/**
 * `node dist/check.js -c <config>`: runs the checks, prints one line per check and a
 * summary on `io.out` (usage errors on `io.err`), and returns the exit code (CHECK_USAGE).
 */
export async function checkMain(argv: readonly string[], io: CliIo): Promise<number> {
    let values: { config?: string; verbose?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: [...argv], strict: true, allowPositionals: false,
            options: { config: { type: 'string', short: 'c' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } }
        }));
    } catch (e) {
        io.err(`${errorMessage(e)}\n\n${CHECK_USAGE}`);
        return 2;
    }
    if (values.help) {
        io.out(CHECK_USAGE);
        return 0;
    }
    if (!values.config) {
        io.err(`-c <config.yaml> is required\n\n${CHECK_USAGE}`);
        return 2;
    }
    const logger = new CliLogger(values.verbose ? io.err : undefined);
    // Rows are printed as they come, so the subject column cannot be sized on all of them.
    const width = 12;
    try {
        const report = await runCheck({
            configFile: values.config, env: io.env, logger,
            onRow: (r) => io.out(`${formatRow(r, Math.max(width, r.subject.length))}\n`)
        });
        io.out(`${summarize(report.rows)}\n`);
        return report.exitCode;
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`${e.message}\n`);
            return 2;
        }
        throw e;
    }
}
