import { Delivery, DispatchOptions, Settlement } from '../delivery/delivery';
import { DeliveryBatch } from '../delivery/delivery-batch';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { RetryParking } from './retry-parking';
import { TokenLedger } from './token-ledger';

/** What a scheduler hands over to send one batch of tokens it owns. */
export interface OwnedDispatchDeps {
    readonly delivery: Delivery;
    readonly ledger: TokenLedger;
    readonly parking: RetryParking;
    readonly logger: Logger;
    readonly metrics: Pick<ServiceMetrics, 'finished'>;
    /** True once the drain's deadline passed: retries are then released, not parked (already reported). */
    readonly stopped: () => boolean;
    /** Log component, e.g. 'queue' or 'scheduler'. */
    readonly component: string;
}

/**
 * Sends a batch the scheduler owns and keeps the ledger exact, token by token: finished
 * tokens are released as they are answered, retries are parked (or released after the
 * drain), and should delivery ever leave a token unsettled, it is counted as given up and
 * released. `onSettled`, if given, sees every settlement too (the immediate sender's first answers).
 */
export function dispatchOwned(deps: OwnedDispatchDeps, db: DeliveryBatch,
    options: Omit<DispatchOptions, 'onSettled'> & { readonly onSettled?: (s: Settlement) => void }): void {
    const { delivery, ledger, parking, logger, metrics } = deps;
    const provider = db.batch.provider;
    let settled = 0;
    const onSettled = (s: Settlement): void => {
        settled += s.settled;
        options.onSettled?.(s);
        if (s.retry) {
            if (deps.stopped()) {
                ledger.disown(provider, s.retry.tokens.length);
            } else {
                parking.hold(s.retry);
            }
        }
        ledger.disown(provider, s.finished);
    };
    void delivery.dispatch(db, { ...options, onSettled }).catch((e: unknown) => {
        logger.log(`error/${deps.component}`, { msg: 'delivery failed unexpectedly', provider, error: String(e) });
    }).then(() => {
        const missing = db.batch.tokens.length - settled;
        if (missing > 0) {
            // Delivery settles every token; if it ever does not, account for them.
            logger.log(`error/${deps.component}`, { msg: 'tokens never settled; counted as given up', provider, count: missing });
            metrics.finished.inc({ ...delivery.labels(provider), result: 'gave_up' }, missing);
            ledger.disown(provider, missing);
        }
    });
}
