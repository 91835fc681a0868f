import startService, { RunningService } from '../../src/service';
import { freshMetricFactory } from './metrics';
import { TestLogger } from './test-logger';

export interface TestService {
    readonly service: RunningService;
    readonly baseUrl: string;
    readonly logger: TestLogger;
    close(): Promise<void>;
}

/** A conf block for tests: loopback, ephemeral port, fast flushes. Override what a test needs. */
export function testConf(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        port: 0,
        interface: '127.0.0.1',
        num_workers: 1, // the harness owns the process: no SIGTERM handler from the service
        user_agent: 'push-notifications-test/1.0 (test@example.org)',
        queueing: { flushTimeoutMs: 50, maxSize: 500 },
        shutdown_timeout: 5,
        ...overrides
    };
}

/**
 * Starts the real service module in this process, exactly as service-runner would (same
 * options shape, service-runner's own metrics), listening on an ephemeral port.
 */
export async function startTestService(overrides: Record<string, unknown> = {}): Promise<TestService> {
    const logger = new TestLogger();
    const service = await startService({ config: testConf(overrides), logger, metrics: freshMetricFactory(logger) });
    return {
        service,
        baseUrl: `http://127.0.0.1:${service.port}`,
        logger,
        close: () => service.close()
    };
}
