import { z } from 'zod';
import { emailField, nameField, passwordField } from '../domain/user';

// Unknown members are dropped, so a client cannot choose its own role by sending one.
export const registerBody = z.object({ email: emailField, password: passwordField, name: nameField });

// Login checks types and bounds only: a malformed email is simply not an account.
export const loginBody = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(200),
});

// Strict: sending `email` or `role` is refused out loud rather than silently ignored.
export const profileBody = z
  .strictObject({ name: nameField.optional(), password: passwordField.optional() })
  .refine((b) => b.name !== undefined || b.password !== undefined, 'Send name, password or both.');
