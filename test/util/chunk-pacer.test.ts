import assert from 'node:assert/strict';
import { ChunkPacer } from '../../src/util/chunk-pacer';

/** A send whose chunks settle only when the test says so. */
function controlledSend() {
    const calls: { chunk: string[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
    const send = (chunk: string[]): Promise<string[]> => new Promise((resolve, reject) => {
        calls.push({ chunk, resolve: () => resolve(chunk.map((t) => `ok:${t}`)), reject });
    });
    return { calls, send };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const tokens = (n: number, p = 't'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe('ChunkPacer', () => {
    it('sends in sub-chunks, yields to the event loop before each one, and keeps token order', async () => {
        const events: string[] = [];
        const pacer = new ChunkPacer({ chunkTokens: 3, maxInFlightTokens: 100, yieldToLoop: () => {
            events.push('yield');
            return Promise.resolve();
        } });
        const results = await pacer.map(tokens(8), (chunk) => {
            events.push(`send ${chunk.join(',')}`);
            return Promise.resolve(chunk.map((t) => `ok:${t}`));
        }, () => assert.fail('no chunk fails'));
        assert.deepEqual(events, ['yield', 'send t0,t1,t2', 'yield', 'send t3,t4,t5', 'yield', 'send t6,t7']);
        assert.deepEqual(results, tokens(8).map((t) => `ok:${t}`));
    });

    it('does not wait for a chunk to be answered before sending the next, within the window', async () => {
        const { calls, send } = controlledSend();
        const pacer = new ChunkPacer({ chunkTokens: 2, maxInFlightTokens: 6 });
        const done = pacer.map(tokens(6), send, () => []);
        for (let i = 0; i < 10; i++) {
            await tick();
        }
        assert.equal(calls.length, 3, 'three chunks in flight at once');
        assert.equal(pacer.tokensInFlight, 6);
        calls.forEach((c) => c.resolve());
        assert.equal((await done).length, 6);
        assert.equal(pacer.tokensInFlight, 0);
    });

    it('never has more than maxInFlightTokens in flight over concurrent batches, and lets them take turns', async () => {
        const { calls, send } = controlledSend();
        const pacer = new ChunkPacer({ chunkTokens: 2, maxInFlightTokens: 4 });
        const a = pacer.map(tokens(6, 'a'), send, () => []);
        const b = pacer.map(tokens(6, 'b'), send, () => []);
        let answered = 0;
        while (answered < 6) {
            for (let i = 0; i < 5; i++) {
                await tick();
            }
            const open = calls.length - answered;
            assert.ok(open * 2 <= 4, `at most 4 tokens in flight (had ${open * 2})`);
            assert.ok(pacer.tokensInFlight <= 4);
            calls[answered++].resolve();
        }
        assert.deepEqual(await a, tokens(6, 'a').map((t) => `ok:${t}`));
        assert.deepEqual(await b, tokens(6, 'b').map((t) => `ok:${t}`));
        // FIFO: the second batch got its first chunk out before the first batch's third.
        const order = calls.map((c) => c.chunk[0]);
        assert.ok(order.indexOf('b0') < order.indexOf('a4'), order.join(' '));
    });

    it('turns a rejected chunk into onChunkError results and frees its room', async () => {
        const pacer = new ChunkPacer({ chunkTokens: 2, maxInFlightTokens: 2 });
        let n = 0;
        const results = await pacer.map(tokens(5), (chunk) => {
            if (n++ === 1) {
                return Promise.reject(new Error('boom'));
            }
            return Promise.resolve(chunk.map((t) => `ok:${t}`));
        }, (chunk, e) => chunk.map((t) => `failed:${t}:${(e as Error).message}`));
        assert.deepEqual(results, ['ok:t0', 'ok:t1', 'failed:t2:boom', 'failed:t3:boom', 'ok:t4']);
        assert.equal(pacer.tokensInFlight, 0);
    });

    it('refuses a chunk size below 1', () => {
        assert.throws(() => new ChunkPacer({ chunkTokens: 0, maxInFlightTokens: 10 }), RangeError);
    });
});
