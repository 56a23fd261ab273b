import { adminClient } from '../admin-client';

/**
 * Report a verify's result to the gateway (PUT /verify/:domain/result), where the preflight of
 * the next switch reads it (docs/gateway.md#preflight). Only with BANYAN_ADMIN_TOKEN set, and
 * quietly: verify's answer is its own, whether or not a gateway is there to hear it.
 */
export async function reportVerifyToGateway(domain: string, result: { startedAt: Date; compared: number; differences: number }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.BANYAN_ADMIN_TOKEN) return;
  try {
    await adminClient({}, env).put(`/verify/${encodeURIComponent(domain)}/result`, {
      startedAt: result.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      compared: result.compared,
      differences: result.differences,
    });
  } catch {
    // No gateway running (a verify before `npm start`), or an older one: nothing to record.
  }
}
