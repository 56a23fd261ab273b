import { z } from 'zod';
import { Errors } from '@banyan/errors';

/**
 * Keyset pagination cursors over UUID v7 ids. Opaque to clients (base64url of the last id seen)
 * so the ordering key can change without breaking them; a tampered cursor is a 400, never a 500.
 */
export const encodeCursor = (lastId: string) => Buffer.from(lastId, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!z.uuid().safeParse(id).success) throw Errors.validation([{ path: 'cursor', message: 'not a cursor this API issued' }]);
  return id;
}
