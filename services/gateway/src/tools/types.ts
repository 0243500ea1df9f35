import type { AuditChange, ToolInput, ToolName, ToolOutput } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';

/** What a tool handler knows about the call it serves. */
export interface ToolContext {
  /** Request id (from `X-Request-Id` or generated), carried to the connector. */
  requestId: string;
  /** Acting client id, carried to the connector. */
  clientId: string;
  /** Absolute deadline of the call, epoch milliseconds. */
  deadline: number;
  /** W3C trace context of the incoming HTTP request, passed on to the connector. */
  traceparent?: string;
  /** Child logger bound to the request. */
  logger: Logger;
  /** Aborted when the client cancels the call or goes away (where the transport says so); ends a long poll early. */
  signal?: AbortSignal;
  /** Receives the controls a write changed, with their values before and after, for the audit trail. */
  reportChanges?: (changes: AuditChange[]) => void;
}

/** Runs one tool on validated arguments; throws `AppError` for failures the model should see. */
export type ToolHandler<N extends ToolName> = (args: ToolInput<N>, ctx: ToolContext) => Promise<ToolOutput<N>>;

/** One handler per tool of `TOOLS`. */
export type ToolHandlers = { [N in ToolName]: ToolHandler<N> };
