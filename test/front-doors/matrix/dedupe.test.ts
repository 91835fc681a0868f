import assert from 'node:assert/strict';
import { RecentNotifications } from '../../../src/front-doors/matrix/dedupe';
import type { Clock } from '../../../src/util/clock';

/** A clock that only moves when told to. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
    let now = start;
    return {
        now: () => now,
        setTimeout: () => undefined,
        clearTimeout: () => undefined,
        advance(ms: number) {
            now += ms;
        }
    };
}

describe('Matrix duplicate memory (pushkey, event_id)', () => {
    it('a pair remembered is a duplicate within the window, and not after it', () => {
        const clock = manualClock();
        const memory = new RecentNotifications({ windowMs: 60_000, clock });
        assert.equal(memory.isDuplicate('pk', '$e'), false);
        memory.remember('pk', '$e');
        assert.equal(memory.isDuplicate('pk', '$e'), true);
        clock.advance(59_999);
        assert.equal(memory.isDuplicate('pk', '$e'), true);
        clock.advance(1);
        assert.equal(memory.isDuplicate('pk', '$e'), false);
        assert.equal(memory.size, 0, 'expired entries are swept');
    });

    it('other pushkeys and other events are not duplicates', () => {
        const memory = new RecentNotifications();
        memory.remember('pk', '$e');
        assert.equal(memory.isDuplicate('pk', '$f'), false);
        assert.equal(memory.isDuplicate('pk2', '$e'), false);
        assert.equal(memory.isDuplicate('p', 'k$e'), false);
        assert.equal(memory.isDuplicate('pk\n$e', ''), false);
    });

    it('notifications without an event (badge-only) are never duplicates', () => {
        const memory = new RecentNotifications();
        memory.remember('pk', undefined);
        memory.remember('pk', '');
        assert.equal(memory.isDuplicate('pk', undefined), false);
        assert.equal(memory.checkAndRemember('pk', undefined), false);
        assert.equal(memory.checkAndRemember('pk', undefined), false);
        assert.equal(memory.size, 0);
    });

    it('checkAndRemember: the first sighting goes through, the second is a duplicate', () => {
        const memory = new RecentNotifications();
        assert.equal(memory.checkAndRemember('pk', '$e'), false);
        assert.equal(memory.checkAndRemember('pk', '$e'), true);
    });

    it('forget lets a pair through again (a notification that could not be taken)', () => {
        const memory = new RecentNotifications();
        memory.remember('pk', '$e');
        memory.forget('pk', '$e');
        assert.equal(memory.isDuplicate('pk', '$e'), false);
    });

    it('remembering again restarts the window', () => {
        const clock = manualClock();
        const memory = new RecentNotifications({ windowMs: 1000, clock });
        memory.remember('a', '$1');
        clock.advance(600);
        memory.remember('b', '$2');
        memory.remember('a', '$1');
        clock.advance(600);
        assert.equal(memory.isDuplicate('a', '$1'), true);
        assert.equal(memory.isDuplicate('b', '$2'), true);
        clock.advance(500);
        assert.equal(memory.isDuplicate('b', '$2'), false);
        assert.equal(memory.isDuplicate('a', '$1'), false);
    });

    it('is bounded: past maxEntries the oldest go first', () => {
        const memory = new RecentNotifications({ maxEntries: 3 });
        for (const e of ['$1', '$2', '$3', '$4']) {
            memory.remember('pk', e);
        }
        assert.equal(memory.size, 3);
        assert.equal(memory.isDuplicate('pk', '$1'), false);
        assert.equal(memory.isDuplicate('pk', '$2'), true);
        assert.equal(memory.isDuplicate('pk', '$4'), true);
    });

    it('never holds a pushkey or event id, and its keys differ between processes (instances)', () => {
        const a = new RecentNotifications();
        const b = new RecentNotifications();
        const pushkey = 'dGhpcyBpcyBhIHNlY3JldCBwdXNoa2V5';
        a.remember(pushkey, '$event');
        b.remember(pushkey, '$event');
        const keysOf = (m: RecentNotifications): string[] => [...(m as any).entries.keys()];
        const [ka] = keysOf(a);
        assert.ok(!ka.includes(pushkey.slice(0, 8)) && !ka.includes('event'));
        assert.equal(Buffer.from(ka, 'base64').length, 16);
        assert.notEqual(ka, keysOf(b)[0]);
    });

    it('refuses a meaningless window or bound', () => {
        assert.throws(() => new RecentNotifications({ windowMs: 0 }), RangeError);
        assert.throws(() => new RecentNotifications({ maxEntries: 0 }), RangeError);
    });

    it('holds 100 000 pairs cheaply', () => {
        const memory = new RecentNotifications();
        const started = Date.now();
        for (let i = 0; i < 100_000; i++) {
            memory.remember(`pushkey-${i}`, `$event-${i}`);
        }
        memory.remember('one more', '$e');
        assert.equal(memory.size, 100_000);
        assert.equal(memory.isDuplicate('pushkey-0', '$event-0'), false);
        assert.ok(Date.now() - started < 5000);
    });
});
