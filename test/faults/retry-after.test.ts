import assert from 'node:assert/strict';
import { checkInvariants, label, messages, push, Rig, settled, startRig, tokens } from './harness';

/**
 * Provider 503s and 429s carrying Retry-After, in both RFC 9110 forms, from both fakes. Each
 * failing token fails once (failuresPerToken: 1), so the proof is: it was retried NOT BEFORE
 * the time the provider allowed, then delivered; nothing given up, nothing deleted.
 */
for (const form of ['seconds', 'http-date'] as const) {
    describe(`faults: 503 and 429 with Retry-After as ${form}`, function () {
        this.timeout(20_000);
        let rig: Rig;
        before(async () => {
            rig = await startRig();
        });
        after(() => rig.close());

        it('both providers: retried no earlier than Retry-After, then delivered', async () => {
            for (const fake of [rig.fakes.apns, rig.fakes.fcm]) {
                // 1 s as delta-seconds; as an HTTP-date the fake rounds up to a whole second (1-2 s).
                fake.behaviour.retryAfterSeconds = 1;
                fake.behaviour.retryAfterForm = form;
                fake.behaviour.failuresPerToken = 1;
            }
            const apns = [...tokens('apns', 'transient-', 3), ...tokens('apns', 'ratelimit-', 3), ...tokens('apns', 'ok-', 4)];
            const fcm = [...tokens('fcm', 'transient-', 3), ...tokens('fcm', 'ratelimit-', 3), ...tokens('fcm', 'ok-', 4)];
            await push(rig, 'apns', apns);
            await push(rig, 'fcm', fcm);
            await settled('apns', apns.length);
            await settled('fcm', fcm.length);

            for (const [name, fake, sent] of [['apns', rig.fakes.apns, apns], ['fcm', rig.fakes.fcm, fcm]] as const) {
                assert.equal(await messages(name, 'delivered'), sent.length, `${name}: all delivered`);
                assert.equal(await messages(name, 'gave_up'), 0, `${name}: nothing given up`);
                assert.equal(await messages(name, 'retried'), 6, `${name}: the six 503/429 tokens retried once`);
                // Compared by label: the fake APNs records the label its hex token stands for.
                const failing = sent.filter((t) => !label(t).startsWith('ok-')).map(label);
                assert.equal(fake.retryAfters.filter((r) => failing.includes(label(r.token))).length, 6, `${name}: Retry-After sent on each 503 and 429`);
                for (const ra of fake.retryAfters) {
                    assert.equal(ra.header.includes('GMT'), form === 'http-date', `${name}: header ${ra.header} has the asked-for form`);
                    const times = fake.received.filter((r) => label(r.token) === label(ra.token)).map((r) => r.at);
                    assert.equal(times.length, 2, `${name}: one retry per failing token`);
                    // `at` is taken on the same clock as notBefore; allow 1 ms for Date.now() granularity.
                    assert.ok(times[1] >= ra.notBefore - 1,
                        `${name}: retried ${ra.notBefore - times[1]} ms before Retry-After (${ra.header}) allowed`);
                }
            }
            await checkInvariants(rig);
            assert.equal(rig.wiki.deleteCalls.length, 0, 'nothing was dead, nothing deleted');
        });
    });
}
