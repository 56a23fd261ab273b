import type { EventData } from '@banyan/events';
import type { NewEvent } from '@banyan/outbox';
import type { User } from '../domain/user';

export type UserRegistered = EventData<'user.registered'>;

export const userRegistered = (user: User): NewEvent<UserRegistered> => ({
  type: 'user.registered',
  subject: user.id,
  data: { userId: user.id, email: user.email, name: user.name, role: user.role },
});
