import { z } from 'zod';
import { CoreIdSchema } from './names.js';

const ms = z.number().int().min(1).max(86_400_000);

/**
 * The config file's `qrwc` section: how the connector reaches the Q-SYS Core. One schema for
 * every reader: the connector, the standalone process, and the gateway (which only validates
 * it). Every key is optional; unknown keys are refused. Durations in ms; `circuitBreaker.timeout` too.
 */
export const QrwcSettingsSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    reconnectInterval: ms,
    secure: z.boolean(),
    transport: z.enum(['websocket', 'tcp']),
    allowSelfSigned: z.boolean(),
    username: z.string(),
    password: z.string(),
    /** API key sent in every QRC request (QRWC 1.0 / Designer 10.5 Cores that require one). */
    apiKey: z.string().max(1024),
    coreId: CoreIdSchema,
    requestTimeoutMs: ms,
    reconnectMaxMs: ms,
    keepaliveMs: ms,
    backupHost: z.string().min(1),
    backupPort: z.number().int().min(1).max(65535),
    pollRateMs: z.number().int().min(10).max(60_000),
    circuitBreaker: z
      .object({ failureThreshold: z.number().int().min(1).max(1000), successThreshold: z.number().int().min(1).max(1000), timeout: ms })
      .partial()
      .strict(),
  })
  .partial()
  .strict();
/** The `qrwc` section of the config file, as written. */
export type QrwcSettings = z.input<typeof QrwcSettingsSchema>;
