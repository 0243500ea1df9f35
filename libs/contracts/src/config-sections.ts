import { z } from 'zod';
import { CoreIdSchema, MAX_RAMP_SECONDS } from './names.js';

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

/**
 * A control pattern of the safety envelope: `Component/control` (exactly one `/`, both parts
 * non-empty) names controls of components; a pattern without `/` names a Named Control. `*`
 * matches any run of characters, none included; everything else matches itself, case-sensitive.
 */
export const SafetyPatternSchema = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), { message: 'expected no control characters' })
  .refine((p) => p.split('/').length <= 2, { message: "expected at most one '/' (Component/control, or a Named Control name without '/')" })
  .refine((p) => !p.includes('/') || p.split('/').every((part) => part.length > 0), { message: "expected a component part and a control part around the '/'" });

/**
 * The config file's `safety` section: the connector's safety envelope (docs/safety.md). Every key
 * is optional; unknown keys are refused. Rules are checked before anything reaches the Core.
 */
export const SafetySettingsSchema = z
  .object({
    /** Writes to a matching control need the `qsys:admin` scope. */
    protectedControls: z.array(SafetyPatternSchema).max(1000),
    /** A narrower range than the Core's; the first matching rule applies. */
    limits: z
      .array(
        z
          .object({ match: SafetyPatternSchema, min: z.number(), max: z.number() })
          .strict()
          .superRefine((l, ctx) => {
            if (l.min > l.max) ctx.addIssue({ code: 'custom', message: `expected at least min (${l.min})`, path: ['max'], input: l.max });
          }),
      )
      .max(1000),
    /** A change larger than `step` from the current value needs a ramp of at least `minRampSeconds`; the first matching rule applies. */
    maxStep: z
      .array(z.object({ match: SafetyPatternSchema, step: z.number().positive(), minRampSeconds: z.number().positive().max(MAX_RAMP_SECONDS) }).strict())
      .max(1000),
  })
  .partial()
  .strict();
/** The `safety` section of the config file, as written. */
export type SafetySettings = z.input<typeof SafetySettingsSchema>;
