/**
 * The shop's data specs, until they move out of packages/ with the shop (issue 11): its
 * banyan.migration.ts imports them from here as `domains.<name>.data`, and @banyan/sync reads them
 * back through that declaration. Nothing else imports the CLI; the engine is @banyan/sync's.
 */
export { syncSpec as productsSyncSpec } from './sync/products';
export { syncSpec as paymentsSyncSpec } from './sync/payments';
export { syncSpec as notificationsSyncSpec } from './sync/notifications';
