import assert from 'node:assert/strict';
import { DeliveryBatch } from '../../src/delivery/delivery-batch';
import { EchoMessages } from '../../src/front-doors/echo/echo-messages';
import { buildBatches } from '../../src/scheduling/batch-builder';
import { QueuedTokens } from '../../src/scheduling/scheduler';
import { tokens } from '../helpers/queue-testbed';


const messages = new EchoMessages({});

function run(o: { tokens: readonly string[]; provider?: 'fcm' | 'apns'; messageType?: string; topic?: string } & Partial<QueuedTokens>): QueuedTokens {
    const provider = o.provider ?? 'fcm';
    return {
        provider, message: messages.get(o.messageType ?? 'checkEchoV1', provider, o.topic), dryRun: false, source: 'echo',
        enqueuedAt: 0, acceptedAt: 0, attempts: 0, ...o
    };
}

async function build(runs: QueuedTokens[], batchSize = 500, chunkTokens = 1000, random: () => number = Math.random) {
    const batches: DeliveryBatch[] = [];
    const waits: number[] = [];
    let yields = 0;
    const result = await buildBatches(runs, {
        batchSize, chunkTokens, now: () => 3000, random,
        yieldToLoop: () => {
            yields++;
            return Promise.resolve();
        },
        onWait: (_p, s) => waits.push(s)
    }, (b) => batches.push(b));
    return { batches, waits, yields, result };
}

describe('buildBatches', () => {
    it('splits a group into calls of equal size, at most batchSize, every token once', async () => {
        const t = tokens('a', 1002);
        const { batches } = await build([run({ tokens: t.slice(0, 700) }), run({ tokens: t.slice(700) })]);
        assert.deepEqual(batches.map((b) => b.batch.tokens.length), [334, 334, 334], 'never 500 + 500 + 2');
        assert.deepEqual(batches.flatMap((b) => b.batch.tokens).sort(), [...t].sort());
    });

    it('shuffles the tokens of a flush (arrival order on the wire would link tokens to actions)', async () => {
        const t = tokens('a', 200);
        const { batches } = await build([run({ tokens: t })]);
        const sent = batches.flatMap((b) => [...b.batch.tokens]);
        assert.notDeepEqual(sent, t);
        assert.deepEqual([...sent].sort(), t);
        // Deterministic for a given random source; per-token data moves with its token.
        const seq = [0.3, 0.9, 0.1, 0.6];
        let i = 0;
        const a = await build([run({ tokens: ['x', 'y', 'z'], acceptedAt: Float64Array.from([1, 2, 3]), attempts: Uint8Array.from([0, 1, 2]) })],
            500, 1000, () => seq[i++ % seq.length]);
        const b = a.batches[0];
        const order = [...b.batch.tokens];
        assert.deepEqual([...b.acceptedAt], order.map((tok) => ({ x: 1, y: 2, z: 3 } as Record<string, number>)[tok]));
        assert.deepEqual([...b.attempts], order.map((tok) => ({ x: 0, y: 1, z: 2 } as Record<string, number>)[tok]));
    });

    it('groups by provider, messageType, APNs topic and dryRun; ignores topic for FCM', async () => {
        const { batches } = await build([
            run({ tokens: ['f1'], topic: 'org.a' }),
            run({ tokens: ['f2'], topic: 'org.b' }), // FCM: same group as f1
            run({ tokens: ['f3'], messageType: 'other' }),
            run({ tokens: ['f4'], dryRun: true }),
            run({ provider: 'apns', tokens: ['a1'], topic: 'org.a' }),
            run({ provider: 'apns', tokens: ['a2'], topic: 'org.b' }),
            run({ provider: 'apns', tokens: ['a3'], topic: 'org.a' }),
            run({ provider: 'apns', tokens: ['a4'] })
        ]);
        const summary = batches.map((b) => `${b.batch.provider}/${b.batch.message.type}/${b.batch.message.apns?.topic ?? '-'}/${b.batch.dryRun}:${[...b.batch.tokens].sort().join(',')}`);
        assert.deepEqual(summary.sort(), [
            'apns/checkEchoV1/-/false:a4',
            'apns/checkEchoV1/org.a/false:a1,a3',
            'apns/checkEchoV1/org.b/false:a2',
            'fcm/checkEchoV1/-/false:f1,f2',
            'fcm/checkEchoV1/-/true:f4',
            'fcm/other/-/false:f3'
        ]);
    });

    it('de-duplicates tokens within a group across requests and reports the duplicates', async () => {
        const { batches, result, waits } = await build([
            run({ tokens: ['x', 'y', 'x'] }), run({ tokens: ['y', 'z'] }), run({ provider: 'apns', tokens: ['x'] })
        ]);
        assert.deepEqual(batches.map((b) => [...b.batch.tokens].sort()), [['x', 'y', 'z'], ['x']]);
        assert.deepEqual(result.duplicates, { fcm: 2 });
        assert.equal(waits.length, 3, 'queue wait observed once per run (request)');
        assert.ok(waits.every((w) => w === 3));
    });

    it('de-duplicates by syntax key, keeping the other spellings as aliases for deletion', async () => {
        const { batches, result } = await build([
            run({ provider: 'apns', tokens: ['abcd', 'ABCD', '<ab cd>', 'ef01'], keys: ['abcd', 'abcd', 'abcd', 'ef01'] })
        ]);
        assert.deepEqual(batches.map((b) => [...b.batch.tokens].sort()), [['abcd', 'ef01']]);
        assert.deepEqual(result.duplicates, { apns: 2 });
        assert.deepEqual([...(batches[0].aliases ?? new Map())], [['abcd', ['ABCD', '<ab cd>']]]);
    });

    it('carries per-token age and attempts from retries', async () => {
        const { batches } = await build([
            run({ tokens: ['n1'], acceptedAt: 2000 }),
            run({ tokens: ['r1', 'r2'], acceptedAt: Float64Array.from([100, 200]), attempts: Uint8Array.from([1, 2]) })
        ]);
        const byToken = new Map(batches[0].batch.tokens.map((t, i) => [t, [batches[0].acceptedAt[i], batches[0].attempts[i]]]));
        assert.deepEqual(Object.fromEntries(byToken), { n1: [2000, 0], r1: [100, 1], r2: [200, 2] });
    });

    it('yields to the event loop every chunkTokens tokens', async () => {
        const { yields, batches } = await build([run({ tokens: tokens('b', 10000) })], 500, 1000);
        assert.ok(yields >= 10 && yields <= 13, `grouping and shuffling yield: ${yields}`);
        assert.equal(batches.length, 20);
    });
});
