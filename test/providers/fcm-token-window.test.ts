import assert from 'node:assert/strict';
import { TokenWindow } from '../../src/providers/fcm/token-window';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FCM token window', () => {
    it('gives at most max slots; waiters get them FIFO, slots given back in one turn are handed on at the next', async () => {
        const w = new TokenWindow(2);
        assert.equal(w.acquire(), undefined);
        assert.equal(w.acquire(), undefined);
        const order: string[] = [];
        const a = w.acquire()!.then(() => order.push('a'));
        const b = w.acquire()!.then(() => order.push('b'));
        const c = w.acquire()!.then(() => order.push('c'));
        assert.equal(w.tokensInFlight, 2);
        w.release();
        w.release();
        await Promise.resolve();
        assert.deepEqual(order, [], 'not within the same turn');
        await turn();
        await Promise.all([a, b]);
        assert.deepEqual(order, ['a', 'b']);
        assert.equal(w.tokensInFlight, 2);
        w.release();
        await c;
        assert.deepEqual(order, ['a', 'b', 'c']);
        w.release();
        w.release();
        await turn();
        assert.equal(w.tokensInFlight, 0);
        assert.equal(w.acquire(), undefined, 'a free slot is taken at once');
    });

    it('a newcomer does not jump the queue', async () => {
        const w = new TokenWindow(1);
        assert.equal(w.acquire(), undefined);
        const waiter = w.acquire();
        assert.ok(waiter);
        w.release();
        assert.ok(w.acquire(), 'the slot is promised to the waiter');
        await turn();
        await waiter;
    });

    it('refuses a window without slots', () => {
        assert.throws(() => new TokenWindow(0), RangeError);
    });
});
