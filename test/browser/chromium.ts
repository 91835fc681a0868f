import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, ConsoleMessage, Page } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (/usr/bin/chromium),
 * driven by playwright-core with `executablePath` (playwright's own browser download does
 * not work on our machines, and is not needed).
 *
 * Environment:
 * - `PN_CHROMIUM`: another Chromium binary (default /usr/bin/chromium).
 * - `PN_SKIP_BROWSER_TESTS=1`: skip the browser tests, with a message, when Chromium is
 *   missing. Only for local runs: with `CI` set (as .ci/run sets it) a missing Chromium is a
 *   failure whatever this says, and .ci/run installs the package first. Without the variable a
 *   missing Chromium fails too, so a browser test never passes by not running.
 */
export const CHROMIUM = process.env.PN_CHROMIUM ?? '/usr/bin/chromium';
export const SKIP_VAR = 'PN_SKIP_BROWSER_TESTS';

/**
 * The host name the page is opened under. Chromium's resolver maps it to 127.0.0.1 (and
 * every other name to "not found"), so the page is served by the test service while it
 * behaves as on a real host: Swagger UI treats `localhost`/`127.0.0.1` specially (it does
 * not call its online validator for them), and that special case must not hide a request
 * that production pages would make.
 */
export const TEST_HOST = 'push-gateway.test';

/** Hosts a request may go to: loopback, and TEST_HOST (mapped to 127.0.0.1). */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', TEST_HOST]);

/**
 * Flags as on every machine of ours that runs Chromium as root with a closed network:
 * no sandbox (root), no GPU, no QUIC, and nothing of Chromium's own background traffic
 * (component updates, sync, field trials), which is refused here and slows the start.
 * `--host-resolver-rules`: TEST_HOST is 127.0.0.1, and no other name resolves, so a request
 * meant for the Internet fails at once instead of leaving the machine (it is still seen,
 * and failed, by the recorder).
 */
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--host-resolver-rules=MAP ${TEST_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1`
];

/**
 * Throws when Chromium is not installed, unless PN_SKIP_BROWSER_TESTS=1 outside CI, in
 * which case it returns the reason to skip.
 */
export function chromiumMissing(): string | undefined {
    if (existsSync(CHROMIUM)) {
        return undefined;
    }
    const what = `Chromium is not installed at ${CHROMIUM} (Debian: apt-get install chromium; or set PN_CHROMIUM)`;
    if (process.env[SKIP_VAR] === '1' && !process.env.CI) {
        return `${what}; skipped because ${SKIP_VAR}=1`;
    }
    throw new Error(`${what}. The browser tests do not skip by themselves: set ${SKIP_VAR}=1 to skip them locally` +
        ' (never in CI, where CI is set and .ci/run installs Chromium).');
}

/** True when the URL stays on this machine: a loopback host (or TEST_HOST), or data:/blob:. */
export function isLocalUrl(url: string): boolean {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:') {
        return true;
    }
    return (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:' || u.protocol === 'wss:') &&
        LOCAL_HOSTS.has(u.hostname);
}

export interface Browser {
    readonly context: BrowserContext;
    readonly page: Page;
    /** Every request any page of the context made, in order ("METHOD url"). */
    readonly requests: string[];
    /** Console messages of type error, uncaught page errors and failed requests. */
    readonly errors: string[];
    close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh, empty profile (a new --user-data-dir, removed by close())
 * and one page, recording every request and every console error of the context.
 */
export async function launchChromium(): Promise<Browser> {
    const profile = mkdtempSync(path.join(tmpdir(), 'pn-chromium-'));
    let context: BrowserContext;
    try {
        // launchPersistentContext: the one way to give Chromium a --user-data-dir of our own.
        context = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: CHROMIUM_ARGS,
            viewport: { width: 1280, height: 900 },
            timeout: 60_000
        });
    } catch (e) {
        rmSync(profile, { recursive: true, force: true });
        throw e;
    }
    const requests: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => {
        requests.push(`${r.method()} ${r.url()}`);
    });
    context.on('requestfailed', (r) => {
        errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`);
    });
    const watch = (p: Page): void => {
        p.on('console', (m: ConsoleMessage) => {
            if (m.type() === 'error') {
                errors.push(`console error: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
            }
        });
        p.on('pageerror', (e) => {
            errors.push(`page error: ${e.message}`);
        });
    };
    context.on('page', watch);
    context.pages().forEach(watch);
    const page = context.pages()[0] ?? await context.newPage();
    return {
        context, page, requests, errors,
        async close() {
            try {
                await context.close();
            } finally {
                rmSync(profile, { recursive: true, force: true });
            }
        }
    };
}
