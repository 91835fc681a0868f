// Type declarations for dependencies that ship none.
declare module 'swagger-ui-dist/absolute-path' {
    function getAbsoluteFSPath(): string;
    export = getAbsoluteFSPath;
}

declare module 'service-runner' {
    class ServiceRunner {
        constructor(options?: Record<string, unknown>);
        start(conf?: Record<string, unknown>): Promise<unknown>;
        stop(): Promise<unknown>;
        static getLogger(conf: Record<string, unknown>): import('../logging/logger').Logger & { close(): void };
        static getMetrics(conf: Record<string, unknown>[], logger: unknown): import('../metrics/metric-factory').MetricFactory & { close(): void };
    }
    export = ServiceRunner;
}

declare module 'proxy-addr' {
    import type { IncomingMessage } from 'node:http';
    type Trust = (addr: string, i: number) => boolean;
    function proxyaddr(req: IncomingMessage, trust: Trust): string;
    namespace proxyaddr {
        function compile(val: string | string[]): Trust;
    }
    export = proxyaddr;
}
