import Ajv from 'ajv';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeliveryConfig, deliverySchema } from '../../src/config/sections/delivery';
import { checkQueueing, QueueingConfig, queueingSchema } from '../../src/config/sections/queueing';

const REPO = path.resolve(__dirname, '..', '..');

/** A flush policy under test: a `queueing` block exactly as the service reads it. */
export interface Policy {
    /** Short name for the table. */
    readonly name: string;
    /** Where it comes from, for the table's legend. */
    readonly source: string;
    readonly queueing: QueueingConfig;
}

/** The `queueing` and `delivery` blocks of a service-runner config file, validated with the service's own schemas (defaults filled in). */
export function serviceBlocks(file: string): { queueing: QueueingConfig; delivery: DeliveryConfig } {
    const doc = yaml.load(readFileSync(path.resolve(REPO, file), 'utf8')) as { services: { conf: Record<string, unknown> }[] };
    const conf = doc.services[0].conf;
    const ajv = new Ajv({ useDefaults: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile({ type: 'object', properties: { queueing: queueingSchema, delivery: deliverySchema } });
    const blocks = structuredClone({ queueing: conf.queueing ?? {}, delivery: conf.delivery ?? {} });
    if (!validate(blocks)) {
        throw new Error(`${file}: ${ajv.errorsText(validate.errors)}`);
    }
    const out = blocks as unknown as { queueing: QueueingConfig; delivery: DeliveryConfig };
    checkQueueing(out.queueing);
    return out;
}

/** flushTimeoutMs 0: every request goes out on the next timer turn (1 ms), alone unless another came in the same ms. */
export function noBatching(base: QueueingConfig): Policy {
    return { name: 'none', source: 'flushTimeoutMs: 0 (no batching)', queueing: { ...base, flushTimeoutMs: 0, flushTimeoutMin: undefined, flushTimeoutMax: undefined } };
}

export function randomWindow(name: string, source: string, base: QueueingConfig, minMs: number, maxMs: number, maxSize = base.maxSize): Policy {
    const queueing: QueueingConfig = { ...base, flushTimeoutMs: 'random', flushTimeoutMin: minMs, flushTimeoutMax: maxMs, maxSize };
    checkQueueing(queueing);
    return { name, source, queueing };
}

export function fixedWindow(name: string, source: string, base: QueueingConfig, ms: number, maxSize = base.maxSize): Policy {
    const queueing: QueueingConfig = { ...base, flushTimeoutMs: ms, flushTimeoutMin: undefined, flushTimeoutMax: undefined, maxSize };
    checkQueueing(queueing);
    return { name, source, queueing };
}

/** The policies of the default table: production, development, and the original service's fixed 10 s. */
export function standardPolicies(): { policies: Policy[]; prod: QueueingConfig; batchSize: number } {
    const prod = serviceBlocks('config.prod.yaml');
    const dev = serviceBlocks('config.dev.yaml');
    const q = prod.queueing;
    const d = dev.queueing;
    const policies: Policy[] = [
        { name: 'prod', source: `config.prod.yaml: ${describePolicy(q)}`, queueing: q },
        { name: 'dev', source: `config.dev.yaml: ${describePolicy(d)}`, queueing: d },
        fixedWindow('fixed10s', `the original service: fixed 10 s, maxSize ${q.maxSize} (as prod)`, q, 10000)
    ];
    return { policies, prod: q, batchSize: prod.delivery.batchSize };
}

export function describePolicy(q: QueueingConfig): string {
    const window = q.flushTimeoutMs === 'random'
        ? `random ${fmtMs(q.flushTimeoutMin ?? 0)}–${fmtMs(q.flushTimeoutMax ?? 0)}`
        : `fixed ${fmtMs(q.flushTimeoutMs)}`;
    return `${window}, maxSize ${q.maxSize}, maxQueuedTokens ${q.maxQueuedTokens}`;
}

function fmtMs(ms: number): string {
    return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
