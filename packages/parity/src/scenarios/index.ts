import type { Scenario } from '../scenario';
import { notificationScenarios } from './notifications';
import { orderScenarios } from './orders';
import { paymentScenarios } from './payments';
import { productScenarios } from './products';
import { userScenarios } from './users';

export { notificationScenarios, orderScenarios, paymentScenarios, productScenarios, userScenarios };
export * from './shared';

/** Every domain's contract scenarios, by domain. */
export const SCENARIOS: Record<string, Scenario[]> = {
  users: userScenarios,
  products: productScenarios,
  orders: orderScenarios,
  payments: paymentScenarios,
  notifications: notificationScenarios,
};

export function scenariosFor(domain: string): Scenario[] {
  const scenarios = SCENARIOS[domain];
  if (!scenarios) throw new Error(`No parity scenarios for "${domain}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  return scenarios;
}
