/**
 * npm run privacy-sim: what the privacy batching buys, and what it costs.
 *
 * For each request rate × pods × flush policy, simulates Poisson on-wiki actions through the
 * REAL queue code under a fake clock (simulate.ts), then lets observers who see the provider
 * calls on the wire try to name the action behind each token (observers.ts). Every figure is
 * printed with the same-run no-batching baseline (flushTimeoutMs 0, same actions) beside it.
 *
 *   npm run privacy-sim -- [--rate 0.1,1,10,100] [--pods 1,2,4] [--policy prod,dev,fixed10s]
 *       [--min MS --max MS | --fixed MS] [--max-size N] [--max-queued N] [--max-tokens K] [--duration S]
 *       [--seed N] [--json]
 *
 * With --json, use `npm run -s privacy-sim -- --json` (or ts-node directly) so npm prints no banner.
 */
import { parseArgs } from 'node:util';
import { table } from '../lib/table';
import { analyse, RunResult } from './analyse';
import { describePolicy, fixedWindow, noBatching, Policy, randomWindow, standardPolicies } from './policies';
import { simulate } from './simulate';

const USAGE = `npm run privacy-sim -- [options]
  --rate LIST        requests/s over the cluster (default 0.1,1,10,100)
  --pods LIST        pods, each its own queue (default 1,2,4)
  --policy LIST      prod, dev, fixed10s (default all three)
  --min MS --max MS  a random window [MS, MS] instead (maxSize from prod unless --max-size)
  --fixed MS         a fixed flush delay instead
  --max-size N       maxSize of every batching policy
  --max-queued N     maxQueuedTokens (per pod) of every batching policy: refused requests are counted, not sent
  --max-tokens K     tokens per request, uniform 1..K (default 3)
  --duration S       scored simulated seconds per run (default max(300, 20000 / rate): ~20000 actions)
  --seed N           PRNG seed (default 1): same seed, same results
  --json             print the results as JSON instead of the table`;

function numbers(value: string | undefined, fallback: number[], what: string): number[] {
    if (value === undefined) {
        return fallback;
    }
    const out = value.split(',').map((v) => Number(v.trim()));
    if (out.length === 0 || out.some((n) => !Number.isFinite(n) || n <= 0)) {
        throw new Error(`--${what}: expected positive numbers, got ${JSON.stringify(value)}`);
    }
    return out;
}

function integer(value: string | undefined, what: string, min = 0): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
        throw new Error(`--${what}: expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
}

interface Cli {
    rates: number[];
    pods: number[];
    policies: Policy[];
    baseline: Policy;
    maxTokens: number;
    duration: (rate: number) => number;
    seed: number;
    batchSize: number;
    json: boolean;
}

function parseCli(argv: string[]): Cli {
    const { values } = parseArgs({
        args: argv, strict: true, options: {
            rate: { type: 'string' }, pods: { type: 'string' }, policy: { type: 'string' },
            min: { type: 'string' }, max: { type: 'string' }, fixed: { type: 'string' }, 'max-size': { type: 'string' }, 'max-queued': { type: 'string' },
            'max-tokens': { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' },
            json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
        }
    });
    if (values.help) {
        console.log(USAGE);
        process.exit(0);
    }
    const { policies: standard, prod, batchSize } = standardPolicies();
    const maxSize = integer(values['max-size'], 'max-size', 1);
    const maxQueued = integer(values['max-queued'], 'max-queued', 1);
    const min = integer(values.min, 'min');
    const max = integer(values.max, 'max');
    const fixed = integer(values.fixed, 'fixed');
    let policies: Policy[];
    if (min !== undefined || max !== undefined) {
        if (min === undefined || max === undefined || max < min) {
            throw new Error('--min and --max go together, with --max >= --min');
        }
        policies = [randomWindow(`random ${min}-${max}`, 'command line', prod, min, max)];
    } else if (fixed !== undefined) {
        policies = [fixedWindow(`fixed ${fixed}`, 'command line', prod, fixed)];
    } else {
        const names = values.policy?.split(',').map((s) => s.trim()) ?? standard.map((p) => p.name);
        policies = names.map((name) => {
            const p = standard.find((s) => s.name === name);
            if (!p) {
                throw new Error(`--policy: unknown ${JSON.stringify(name)} (known: ${standard.map((s) => s.name).join(', ')})`);
            }
            return p;
        });
    }
    if (maxSize !== undefined) {
        policies = policies.map((p) => ({ ...p, source: `${p.source}, maxSize ${maxSize} (command line)`, queueing: { ...p.queueing, maxSize } }));
    }
    if (maxQueued !== undefined) {
        policies = policies.map((p) => ({
            ...p, source: `${p.source}, maxQueuedTokens ${maxQueued} (command line)`, queueing: { ...p.queueing, maxQueuedTokens: maxQueued }
        }));
    }
    const duration = values.duration === undefined ? undefined : numbers(values.duration, [], 'duration')[0];
    return {
        rates: numbers(values.rate, [0.1, 1, 10, 100], 'rate'),
        pods: numbers(values.pods, [1, 2, 4], 'pods').map((n) => {
            if (!Number.isInteger(n)) {
                throw new Error(`--pods: ${n} is not a whole number`);
            }
            return n;
        }),
        policies, baseline: noBatching(prod),
        maxTokens: integer(values['max-tokens'], 'max-tokens', 1) ?? 3,
        duration: (rate) => duration ?? Math.max(300, Math.ceil(20000 / rate)),
        seed: integer(values.seed, 'seed') ?? 1,
        batchSize, json: values.json ?? false
    };
}

const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(x < 0.1 ? 2 : 1)}%`);
const num = (x: number, digits = 1): string => (Number.isNaN(x) ? '-' : x.toFixed(digits));
const secs = (x: number): string => (x < 1 ? x.toFixed(3) : x.toFixed(1));

/** "value (baseline)". */
function pair(value: string, baseline: string): string {
    return `${value} (${baseline})`;
}

function row(r: RunResult, b: RunResult): (string | number)[] {
    return [
        r.rate, r.pods, r.policy,
        pair(num(r.meanBatch), num(b.meanBatch)),
        pair(num(r.meanFlush), num(b.meanFlush)),
        pair(secs(r.delayP50), secs(b.delayP50)),
        pair(secs(r.delayP99), secs(b.delayP99)),
        pair(pct(r.recent.success), pct(b.recent.success)),
        pair(pct(r.mlPod.unordered.success), pct(b.mlPod.unordered.success)),
        pair(pct(r.mlMerged.unordered.success), pct(b.mlMerged.unordered.success)),
        pair(pct(r.mlPod.ordered.success), pct(b.mlPod.ordered.success)),
        pair(num(r.mlPod.unordered.anonymitySet), num(b.mlPod.unordered.anonymitySet)),
        pair(num(r.mlPod.unordered.effectiveSet), num(b.mlPod.unordered.effectiveSet))
    ];
}

const HEADERS = ['req/s', 'pods', 'policy', 'tokens/call', 'tokens/flush', 'delay p50 s', 'delay p99 s', 'recent', 'ML pod',
    'ML merged', 'ML+order', 'anon set', 'eff. anon'];

async function main(): Promise<void> {
    const cli = parseCli(process.argv.slice(2));
    const results: { baseline: RunResult; runs: RunResult[] }[] = [];
    const problems: string[] = [];
    for (const rate of cli.rates) {
        for (const pods of cli.pods) {
            const durationSeconds = cli.duration(rate);
            const one = async (policy: Policy): Promise<RunResult> => {
                const run = await simulate({ ratePerSecond: rate, durationSeconds, pods, maxTokens: cli.maxTokens, seed: cli.seed, policy, batchSize: cli.batchSize });
                const r = analyse(run);
                const a = r.accounting;
                if (a.refused > 0) {
                    problems.push(`${rate}/s ${pods} pods ${policy.name}: note: ${a.refused} tokens refused (queue full), not sent`);
                }
                if (a.duplicated || a.missing || a.unknown || r.leftInLedgers || r.problems.length) {
                    problems.push(`${rate}/s ${pods} pods ${policy.name}: ${JSON.stringify({ ...a, left: r.leftInLedgers, problems: r.problems.slice(0, 3) })}`);
                }
                for (const [view, ml] of [['pod', r.mlPod], ['merged', r.mlMerged]] as const) {
                    if (ml.modelMisses > 0) {
                        problems.push(`${rate}/s ${pods} pods ${policy.name}: ${ml.modelMisses} of ${ml.sends} sends outside the ${view} observer's model`);
                    }
                }
                process.stderr.write(`  ${rate}/s ${pods} pod(s) ${policy.name}: ${r.actions} actions, ${durationSeconds} s simulated in ${(r.wallMs / 1000).toFixed(1)} s\n`);
                return r;
            };
            const baseline = await one(cli.baseline);
            const runs: RunResult[] = [];
            for (const policy of cli.policies) {
                runs.push(await one(policy));
            }
            results.push({ baseline, runs });
        }
    }
    if (cli.json) {
        console.log(JSON.stringify({
            seed: cli.seed, maxTokensPerRequest: cli.maxTokens, batchSize: cli.batchSize,
            policies: [cli.baseline, ...cli.policies].map((p) => ({ name: p.name, source: p.source, queueing: p.queueing })),
            results, problems
        }, null, 2));
    } else {
        console.log(table(HEADERS, results.flatMap(({ baseline, runs }) => runs.map((r) => row(r, baseline)))));
        console.log();
        console.log(legend(cli));
        if (problems.length > 0) {
            console.log(`\nNOTES AND PROBLEMS:\n${problems.join('\n')}`);
        }
    }
    if (problems.some((p) => !p.includes('outside the') && !p.includes(': note: '))) {
        process.exitCode = 1;
    }
}

function legend(cli: Cli): string {
    return [
        `Each cell: value (same-run baseline: ${cli.baseline.source}, same actions). Seed ${cli.seed}; each request 1..${cli.maxTokens} tokens;`,
        `delivery.batchSize ${cli.batchSize}; every pod its own queue, requests routed to a pod at random.`,
        ...cli.policies.map((p) => `  ${p.name}: ${p.source === 'command line' ? describePolicy(p.queueing) : p.source}`),
        'tokens/call: tokens per provider call; tokens/flush: per flush of one pod (a flush above delivery.batchSize is',
        'split into calls). delay: acceptance to provider call, per token.',
        'Observer success = share of tokens whose on-wiki action the observer names correctly. recent: the latest action',
        'before the send. ML pod: Bayesian, knows the policy and sees which pod sent each call; ML merged: sees the',
        'calls of all pods merged. ML+order: the pod-view observer that also sees the order of the tokens on the wire',
        '(the queue keeps arrival order within a flush; with the order shuffled it would score as ML pod).',
        'anon set: actions the ML pod observer finds exactly equally likely, per token (with several pods the posterior',
        'is rarely flat, so read eff. anon); eff. anon: exp(entropy) of its posterior, the effective number of',
        'candidate actions (1 = certain).'
    ].join('\n');
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
});
