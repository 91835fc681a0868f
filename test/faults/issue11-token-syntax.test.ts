import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/logging/redact';
import { apnsToken } from '../fakes/apns-server';
import { metricValue } from '../helpers/metrics';
import { ANSWERS, checkInvariants, FINISHED, MW_DELETIONS, post, Rig, settled, sleep, startRig, tokens, until } from './harness';

/**
 * Issue 11 §1, end to end through the real service against the fakes: the syntax of one
 * token never decides the fate of the others. A request is refused only for its SHAPE; each
 * token is then checked with its provider kind's syntax. What is unambiguous is normalised
 * (APNs: angle brackets, spaces, surrounding whitespace, case) and de-duplicated; a token that
 * cannot be a token is dead `invalid_token` (`invalid_subscription` for Web Push): never sent,
 * deleted at the wiki under its exact string THROUGH the mass-deletion guard, counted, and
 * logged by fingerprint only.
 */
describe('issue 11 §1: one malformed token never refuses or blocks its neighbours', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    /** The exact printed form from the issue (an NSData description) and the hex it stands for. */
    const PRINTED = '<01234567 89abcdef 01234567 89abcdef 01234567 89abcdef 01234567 89abcdee>';
    const PRINTED_HEX = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee';

    /** The log has the fingerprint of each token in `fingerprinted`, and no posted token in full. */
    function assertLoggedByFingerprintOnly(r: Rig, posted: readonly string[], fingerprinted: readonly string[]): void {
        const text = r.svc.logger.text();
        for (const t of posted) {
            // JSON-encoded, as the log text holds it (the newline one is `…\n` there).
            assert.ok(!text.includes(JSON.stringify(t).slice(1, -1)), `a full device token was logged: ${JSON.stringify(t.slice(0, 12))}…`);
        }
        for (const t of fingerprinted) {
            assert.ok(text.includes(tokenFingerprint(t)), `the fingerprint of ${JSON.stringify(t.slice(0, 6))}… is logged`);
        }
    }

    it('APNs: valid, printed-form and newline tokens delivered (normalised), malformed ones dead invalid_token and deleted, case copies sent once', async () => {
        rig = await startRig();
        const { apns } = rig.fakes;
        const valid = apnsToken('ok-valid-hex');
        const newline = `${apnsToken('ok-newline')}\n`;
        const lower = apnsToken('ok-one-token-two-cases');
        const upper = lower.toUpperCase();
        const malformed = 'not-a-token!';
        // Not a token either, and '|' is the MediaWiki API's multi-value separator: it must still
        // be deleted under its exact string (the client switches to the \x1f form).
        const piped = 'bad|token with spaces';
        const posted = [valid, PRINTED, newline, malformed, lower, upper, piped];

        const res = await post(rig, 'apns', posted);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.body, '{}');
        await settled('apns', 6); // 4 delivered + 2 dead (the upper-case copy is a duplicate)

        // Sent: exactly the valid ones, in their normalised wire form, each once.
        const sent = apns.received.map((r) => r.token).sort();
        assert.deepEqual(sent, [valid, PRINTED_HEX, apnsToken('ok-newline'), lower].sort());
        assert.equal(apns.counters.nonHexPaths, 0, 'nothing but hex ever reached /3/device/<token>');
        assert.equal(apns.requestsFor(lower), 1, 'the upper- and lower-case copies of one token: one request');

        // Dead without being sent: deleted under their exact strings, counted.
        await until('both malformed tokens deleted on the wiki', () => rig!.wiki.deletedTokens.length >= 2);
        await sleep(200); // longer than the outbox's batch wait: any other deletion would show now
        assert.deepEqual([...rig.wiki.deletedTokens].sort(), [malformed, piped].sort());
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'dead', reason: 'invalid_token' }), 2);
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'dead' }), 2, 'nothing else came back dead');
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'delivered' }), 4);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'dead' }), 2);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'duplicate' }), 1);
        assert.equal(await metricValue('push_notifications_tokens_accepted_total', { provider: 'apns' }), posted.length);
        assert.equal(await metricValue(MW_DELETIONS, { result: 'succeeded' }), 2);

        // Logged once, by fingerprint.
        const lines = rig.svc.logger.entries.filter((e) => JSON.stringify(e.entry).includes('invalid_token'));
        assert.equal(lines.length, 1, JSON.stringify(lines));
        assert.equal((lines[0].entry as { count?: number }).count, 2);
        assertLoggedByFingerprintOnly(rig, posted, [malformed, piped]);
        await checkInvariants(rig, [malformed, piped]);
    });

    it('APNs: malformed tokens go through the mass-deletion guard (logOnly: logged as would-delete, the wiki never called)', async () => {
        rig = await startRig({ deletionGuard: { logOnly: true } });
        const malformed = ['not-a-token!', '<0123 4567>', 'zz'.repeat(32)];
        const valid = tokens('apns', 'ok-', 2);
        const res = await post(rig, 'apns', [...malformed, ...valid]);
        assert.equal(res.status, 200, res.body);
        await settled('apns', 5);
        await sleep(300); // longer than the outbox's batch wait: a deletion would have gone by now
        assert.deepEqual(rig.wiki.requests, [], 'the wiki was never called, not even to log in');
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'dead', reason: 'invalid_token' }), 3);
        assert.deepEqual(rig.fakes.apns.received.map((r) => r.token).sort(), [...valid].sort());
        const wouldDelete = rig.svc.logger.entries.filter((e) => JSON.stringify(e.entry).includes('would delete'));
        assert.equal(wouldDelete.length, 1);
        assertLoggedByFingerprintOnly(rig, [...malformed, ...valid], malformed);
        await checkInvariants(rig, []);
    });

    it('FCM: a token with a space is dead invalid_token, never sent, deleted under its exact string; the others delivered', async () => {
        rig = await startRig();
        const { fcm } = rig.fakes;
        const valid = tokens('fcm', 'ok-', 3);
        const spaced = 'ok-fcm registration token with a space';
        const tabbed = 'ok-fcm\ttoken';
        const posted = [valid[0], spaced, valid[1], tabbed, valid[2]];
        const res = await post(rig, 'fcm', posted);
        assert.equal(res.status, 200, res.body);
        await settled('fcm', 5);

        assert.deepEqual(fcm.received.map((r) => r.token).sort(), [...valid].sort(), 'exactly the valid ones were sent');
        assert.equal(fcm.counters.sends, 3, 'no request for a malformed token');
        await until('the malformed tokens deleted on the wiki', () => rig!.wiki.deletedTokens.length >= 2);
        await sleep(200);
        assert.deepEqual([...rig.wiki.deletedTokens].sort(), [spaced, tabbed].sort());
        assert.equal(await metricValue(ANSWERS, { provider: 'fcm', outcome: 'dead', reason: 'invalid_token' }), 2);
        assert.equal(await metricValue(FINISHED, { provider: 'fcm', result: 'delivered' }), 3);
        assertLoggedByFingerprintOnly(rig, posted, [spaced, tabbed]);
        await checkInvariants(rig, [spaced, tabbed]);
    });

    it('Web Push: a subscription that is not JSON is dead invalid_subscription, never sent, deleted; the valid one delivered', async () => {
        rig = await startRig();
        const { webpush } = rig.fakes;
        const good = webpush.createSubscription('');
        const notJson = 'not a subscription {"endpoint": "https://push.example/"';
        const res = await post(rig, 'webpush', [notJson, good.token]);
        assert.equal(res.status, 200, res.body);
        await settled('webpush', 2);

        assert.equal(webpush.counters.requests, 1, 'one push, for the valid subscription');
        assert.deepEqual(webpush.receivedFor(good.id).map((r) => r.status), [201]);
        await until('the malformed subscription deleted on the wiki', () => rig!.wiki.deletedTokens.length >= 1);
        await sleep(200);
        assert.deepEqual(rig.wiki.deletedTokens, [notJson]);
        assert.equal(await metricValue(ANSWERS, { provider: 'webpush', outcome: 'dead', reason: 'invalid_subscription' }), 1);
        assert.equal(await metricValue(FINISHED, { provider: 'webpush', result: 'delivered' }), 1);
        assertLoggedByFingerprintOnly(rig, [notJson, good.token], [notJson]);
        await checkInvariants(rig, [notJson]);
    });

    it('only a wrong SHAPE refuses the request (400 problem+json): not an array, empty, not strings, empty strings', async () => {
        rig = await startRig();
        for (const deviceTokens of ['abc', [], [1], [''], [apnsToken('ok-1'), '']] as unknown[]) {
            const res = await post(rig, 'apns', deviceTokens as string[]);
            assert.equal(res.status, 400, `${JSON.stringify(deviceTokens)}: ${res.body}`);
            assert.match(res.contentType, /^application\/problem\+json/);
        }
        await sleep(100);
        assert.equal(rig.fakes.apns.counters.requests, 0);
        assert.equal(await metricValue('push_notifications_tokens_accepted_total'), 0);
        assert.deepEqual(rig.wiki.requests, []);
    });
});
