import * as path from 'node:path';
import { ApnsConfig } from '../../config/sections/providers';
import { proxyHostPort } from '../../egress/agents';
import { isAnswer, TokenResult } from '../../push/provider';
import { errorMessage } from '../../util/errors';
import { CHECK_MESSAGE, CheckLine, CheckTarget, sendOne } from '../provider-check';
import { APNS_HOSTS } from './apns-provider';

/**
 * A syntactically valid device token (32 zero bytes) that APNs never issues. Apple checks a
 * request's provider token (or client certificate), then its topic and environment, and
 * only then the device token: so `400 BadDeviceToken` for it proves that the key, key id,
 * team id, topic and environment are all accepted, while nothing can reach any device.
 */
export const APNS_CHECK_TOKEN = '0'.repeat(64);

/** What the lines of an APNs check name (none of it secret). */
export interface ApnsCheckContext {
    readonly topic: string;
    readonly production: boolean;
    /** `host:port` the requests go to. */
    readonly endpoint: string;
    readonly auth: 'token' | 'certificate';
    readonly keyId?: string;
    readonly teamId?: string;
    /** The .p8 key's path as configured. */
    readonly keyFile?: string;
}

interface Verdict {
    readonly ok: boolean;
    readonly says: (c: ApnsCheckContext) => string;
}

const env = (c: ApnsCheckContext): string => (c.production ? 'production' : 'sandbox');
const other = (c: ApnsCheckContext): string => (c.production ? 'sandbox' : 'production');
const accepted = (c: ApnsCheckContext): string =>
    `APNs (${env(c)}) accepted the ${c.auth === 'token' ? 'provider token' : 'client certificate'} and topic ${c.topic}`;

/**
 * What each APNs answer to the check's request (APNS_CHECK_TOKEN, CHECK_MESSAGE) means, by
 * Apple's reason ("Handling notification responses from APNs"), plus 'ok' for a 200 (only a
 * test endpoint takes the dummy token). A reason not listed is a failure, described from
 * its outcome (see describeApnsAnswer).
 *
 * Not shown by a dummy token: whether the app's builds use this environment. Apple answers
 * BadDeviceToken for a real token of the other environment too; `npm run send` with a real
 * token shows it.
 */
export const APNS_CHECK_ANSWERS: Readonly<Record<string, Verdict>> = {
    BadDeviceToken: { ok: true, says: (c) => `${accepted(c)}; the dummy device token was refused, as expected (BadDeviceToken)` },
    Unregistered: { ok: true, says: (c) => `${accepted(c)}; the dummy device token was refused (Unregistered)` },
    ExpiredToken: { ok: true, says: (c) => `${accepted(c)}; the dummy device token was refused (ExpiredToken)` },
    ok: { ok: true, says: (c) => `${accepted(c)}; it even took the dummy device token (a test endpoint: Apple answers BadDeviceToken)` },
    InvalidProviderToken: {
        ok: false,
        says: (c) => `APNs refused the provider token (InvalidProviderToken): the key${c.keyFile ? ` in ${c.keyFile}` : ''}, key id ${c.keyId} and team id ${c.teamId} do not belong together (the key id is the one Apple shows for this .p8 key; the team id is the team that owns the app)`
    },
    ExpiredProviderToken: {
        ok: false,
        says: () => 'APNs called a freshly signed provider token expired (ExpiredProviderToken): the clock of this machine is probably wrong'
    },
    MissingProviderToken: {
        ok: false,
        says: (c) => `APNs saw no provider token${c.auth === 'certificate' ? ' and did not take the client certificate' : ''} (MissingProviderToken)`
    },
    BadEnvironmentKeyInToken: {
        ok: false,
        says: (c) => `the key (key id ${c.keyId}) is not enabled for the ${env(c)} environment that production: ${String(c.production)} sends to (BadEnvironmentKeyInToken): use a key enabled for ${env(c)}, or set production: ${String(!c.production)} if the app's builds use ${other(c)}`
    },
    TopicDisallowed: {
        ok: false,
        says: (c) => `APNs does not let ${c.auth === 'token' ? `team ${c.teamId}` : 'this certificate'} push to topic ${c.topic} (TopicDisallowed): the topic must be the bundle id of the team's app`
    },
    BadTopic: { ok: false, says: (c) => `APNs says topic ${c.topic} is not a valid topic (BadTopic)` },
    MissingTopic: { ok: false, says: () => 'APNs got no topic (MissingTopic): set topic to the app\'s bundle id' },
    DeviceTokenNotForTopic: {
        ok: false,
        says: (c) => `APNs says the device token is not for topic ${c.topic} (DeviceTokenNotForTopic): the topic is probably not the app's bundle id`
    },
    BadCertificate: { ok: false, says: () => 'APNs refused the client certificate (BadCertificate)' },
    BadCertificateEnvironment: {
        ok: false,
        says: (c) => `the client certificate is not for the ${env(c)} environment that production: ${String(c.production)} sends to (BadCertificateEnvironment)`
    },
    Forbidden: { ok: false, says: (c) => `APNs refused the request (Forbidden) for topic ${c.topic}` }
};

/** The `request` line for one answer (a result that is an answer: see isAnswer). */
export function describeApnsAnswer(r: TokenResult, c: ApnsCheckContext): CheckLine {
    const key = r.outcome === 'delivered' ? 'ok' : r.reason;
    const verdict = APNS_CHECK_ANSWERS[key];
    if (verdict) {
        return { status: verdict.ok ? 'ok' : 'fail', step: 'request', detail: verdict.says(c) };
    }
    if (r.outcome === 'transient') {
        return { status: 'fail', step: 'request', detail: `APNs answered ${r.reason}: it is busy or down, so nothing was concluded; try again later` };
    }
    return {
        status: 'fail', step: 'request',
        detail: `APNs refused the check's request (${r.reason})${r.detail ? `: ${r.detail}` : ''}`
    };
}

/**
 * Checks one APNs instance: the provider token (the key signs ES256 JWTs with this key id
 * and team id: node-apn signs one when the provider is built), the connection, and one
 * request for APNS_CHECK_TOKEN with CHECK_MESSAGE through the instance's own provider, its
 * answer read with APNS_CHECK_ANSWERS.
 */
export async function checkApnsInstance(target: CheckTarget<'apns'>): Promise<CheckLine[]> {
    const s: ApnsConfig = target.config.settings;
    const production = s.production;
    const host = s.address ?? (production ? APNS_HOSTS.production : APNS_HOSTS.sandbox);
    const port = s.port ?? 443;
    const c: ApnsCheckContext = {
        topic: s.topic ?? '', production, endpoint: `${host}:${port}`,
        auth: s.token ? 'token' : 'certificate',
        keyId: s.token?.keyId, teamId: s.token?.teamId, keyFile: s.token?.key
    };
    const lines: CheckLine[] = [];
    const credStep = c.auth === 'token' ? 'provider token' : 'certificate';
    if (!target.provider) {
        const why = errorMessage(target.buildError);
        lines.push({
            status: 'fail', step: credStep,
            detail: c.auth === 'token' ? `cannot sign provider tokens with the key in ${c.keyFile}: ${why}` : `cannot use the certificate ${s.cert}: ${why}`
        });
        return lines;
    }
    if (c.auth === 'token') {
        lines.push({ status: 'ok', step: credStep, detail: `the key in ${c.keyFile} signs ES256 provider tokens (key id ${c.keyId}, team id ${c.teamId})` });
        lines.push(...apnsTokenHints(c));
    } else {
        lines.push({ status: 'ok', step: credStep, detail: `${s.cert} is loaded (TLS client certificate auth)` });
    }
    if (!s.topic) {
        lines.push({
            status: 'warn', step: 'request',
            detail: 'no topic configured (every request must then name its own), so there is no topic to check the credentials with'
        });
        return lines;
    }
    const proxy = proxyHostPort(host, target.egress);
    const via = proxy ? `through the proxy ${proxy.host}:${proxy.port}` : 'direct';
    const r = await sendOne(target.provider, APNS_CHECK_TOKEN, CHECK_MESSAGE, false);
    if (!isAnswer(r)) {
        lines.push({
            status: 'fail', step: 'connection',
            detail: `no answer from ${c.endpoint} (${env(c)}, ${via}): ${r.detail ?? r.reason}`
        });
        return lines;
    }
    lines.push({ status: 'ok', step: 'connection', detail: `${c.endpoint} (${env(c)}, ${via}): TLS and HTTP/2 up` });
    lines.push(describeApnsAnswer(r, c));
    return lines;
}

/**
 * Warnings about the token-auth settings' shape: Apple's key ids and team ids are 10
 * letters and digits, and Apple names the key file `AuthKey_<key id>.p8`.
 */
export function apnsTokenHints(c: Pick<ApnsCheckContext, 'keyId' | 'teamId' | 'keyFile'>): CheckLine[] {
    const lines: CheckLine[] = [];
    const shape = /^[A-Z0-9]{10}$/;
    if (c.keyId !== undefined && !shape.test(c.keyId)) {
        lines.push({ status: 'warn', step: 'provider token', detail: `key id ${JSON.stringify(c.keyId)} is not 10 capital letters and digits, the form of Apple's key ids` });
    }
    if (c.teamId !== undefined && !shape.test(c.teamId)) {
        lines.push({ status: 'warn', step: 'provider token', detail: `team id ${JSON.stringify(c.teamId)} is not 10 capital letters and digits, the form of Apple's team ids` });
    }
    const named = c.keyFile ? /^AuthKey_([A-Za-z0-9]+)\.p8$/.exec(path.basename(c.keyFile))?.[1] : undefined;
    if (named && c.keyId !== undefined && named !== c.keyId) {
        lines.push({ status: 'warn', step: 'provider token', detail: `the key file is named AuthKey_${named}.p8, but the key id is ${c.keyId}: Apple names the file after its key id` });
    }
    return lines;
}
