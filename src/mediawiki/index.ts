export { createSubscriptionCleanup, SubscriptionCleanup, SubscriptionCleanupDeps } from './subscription-cleanup';
