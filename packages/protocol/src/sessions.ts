import { z } from 'zod';

/** The `session` value that starts a new session; any other value names an existing one. */
export const NEW_SESSION = 'new';

/**
 * A session as a run result reports it. `open`: later runs may pass `id`; it ends after `idleTtlSec`
 * without a run (at `expiresAt`, ISO 8601). `ended`: the session is gone, and `reason` says why and
 * what to do (start a new one).
 */
export const RunSessionSchema = z.discriminatedUnion('state', [
  z.object({ id: z.string(), state: z.literal('open'), expiresAt: z.string(), idleTtlSec: z.number().int().positive() }),
  z.object({ id: z.string(), state: z.literal('ended'), reason: z.string() }),
]);
export type RunSession = z.infer<typeof RunSessionSchema>;

/**
 * One open session, as the control socket lists it (`GET /v1/sessions`). The full id appears only
 * here: the control socket is the user's own (mode 0600), and the id is the only key to a session.
 */
export const SessionInfoSchema = z.object({
  id: z.string(),
  servers: z.array(z.string()),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  /** When it ends if no run comes; absent while a run is going on (the idle clock is stopped). */
  expiresAt: z.string().optional(),
  runs: z.number().int().nonnegative(),
  /** A run is going on, or waiting for the one before it. */
  busy: z.boolean(),
  /** The container's short id, for `docker ps`-style inspection. */
  container: z.string(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const SessionListSchema = z.object({
  sessions: z.array(SessionInfoSchema),
  max: z.number().int().nonnegative(),
  idleTtlSec: z.number().int().positive(),
});
export type SessionList = z.infer<typeof SessionListSchema>;

/** Answer of `DELETE /v1/sessions/:id`. */
export const SessionEndResponseSchema = z.object({ ended: z.literal(true), id: z.string() });
export type SessionEndResponse = z.infer<typeof SessionEndResponseSchema>;

/**
 * Sessions in `/status`. Ids are cut to a prefix: the status also goes out on the health endpoint,
 * which has no authentication, and a full id would be enough to run code in that session.
 */
export const SessionsStatusSchema = z.object({
  open: z.number().int().nonnegative(),
  max: z.number().int().nonnegative(),
  idleTtlSec: z.number().int().positive(),
  list: z.array(
    z.object({
      idPrefix: z.string(),
      servers: z.array(z.string()),
      runs: z.number().int().nonnegative(),
      busy: z.boolean(),
      expiresAt: z.string().optional(),
    }),
  ),
});
export type SessionsStatus = z.infer<typeof SessionsStatusSchema>;
