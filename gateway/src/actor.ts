import type { Request } from 'express';

/** Who made a change, as the caller says (the CLI sends user@host); the token proves the right, not the name. */
const ACTOR = /^[\w.@+-]{1,100}$/;

/** The caller's x-banyan-actor header when it is a well-formed name; undefined otherwise. */
export const actorOf = (req: Request): string | undefined => {
  const header = req.header('x-banyan-actor');
  return header && ACTOR.test(header) ? header : undefined;
};
