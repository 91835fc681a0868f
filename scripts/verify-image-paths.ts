/** Where the Deployment mounts the Secret; config.prod.yaml's secret paths live under it. */
export const SECRETS_DIR = '/etc/push-notifications/secrets';
/** The FCM service-account file the Deployment's GOOGLE_APPLICATION_CREDENTIALS names. */
export const FCM_SERVICE_ACCOUNT = `${SECRETS_DIR}/fcm-service-account.json`;
