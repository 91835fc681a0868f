import { createPublicKey, verify } from 'node:crypto';
import { ConfigError } from '../../config/config-error';
import { validateWebPushConfig, VapidKeys } from '../../config/sections/webpush';
import { PROJECT_ROOT } from '../../config/service-config';
import { errorMessage } from '../../util/errors';
import { CheckLine, CheckTarget } from '../provider-check';
import { signVapidJwt } from './vapid';

/**
 * Checks one Web Push instance. There is no push service to ask without a browser's
 * subscription (VAPID is checked per push request), so this is what can be known before
 * one: the key pair and the subject, as the provider itself loads them
 * (validateWebPushConfig: the public key is the private key's own, the subject is a
 * reachable mailto: or https: contact), then one VAPID JWT (RFC 8292 §2) signed with the
 * private key and verified with the configured public key, the way a push service does.
 * `npm run send` with a real subscription checks the rest.
 */
export async function checkWebPushInstance(target: CheckTarget<'webpush'>): Promise<CheckLine[]> {
    const s = target.config.settings;
    const key = target.config.key;
    let keys: VapidKeys;
    try {
        keys = validateWebPushConfig(s, { key, baseDir: PROJECT_ROOT, env: target.env });
    } catch (e) {
        const step = e instanceof ConfigError && e.key.endsWith('.vapid.subject') ? 'subject' : 'VAPID key pair';
        return [{ status: 'fail', step, detail: errorMessage(e) }];
    }
    const lines: CheckLine[] = [];
    lines.push(vapidRoundTrip(keys));
    lines.push({ status: 'ok', step: 'subject', detail: `${keys.subject} (where push services can reach the operator)` });
    if (s.testOnlyLoopbackEndpoints.length > 0) {
        lines.push({ status: 'warn', step: 'endpoints', detail: `testOnlyLoopbackEndpoints is set (${s.testOnlyLoopbackEndpoints.join(', ')}): for tests and dev mode only` });
    }
    if (!target.provider) {
        lines.push({ status: 'fail', step: 'provider', detail: errorMessage(target.buildError ?? 'the provider could not be built') });
    }
    return Promise.resolve(lines);
}

/** Signs a VAPID JWT with the private key and verifies it with the public key (ES256, raw r‖s). */
export function vapidRoundTrip(keys: VapidKeys): CheckLine {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = signVapidJwt(keys, 'https://push.example', exp);
    const [header, claims, signature] = jwt.split('.');
    const point = keys.publicKeyBytes;
    const publicKey = createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
        format: 'jwk'
    });
    const ok = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    return ok
        ? { status: 'ok', step: 'VAPID key pair', detail: `the public key (${keys.publicKey.slice(0, 12)}…) is the private key's own: a signed VAPID JWT verifies with it` }
        : { status: 'fail', step: 'VAPID key pair', detail: 'a VAPID JWT signed with the private key does not verify with the public key' };
}
