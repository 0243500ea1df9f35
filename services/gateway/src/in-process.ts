import { InMemoryTransport } from '@modelcontextprotocol/server';
import { AppError, isErrorCode } from '@qsys-mcp/contracts';
import type { Gateway } from './gateway.js';

/** MCP protocol version the in-process caller speaks. */
const PROTOCOL_VERSION = '2025-11-25';

/** How long one in-process call may take before it is abandoned, ms. */
export const IN_PROCESS_CALL_TIMEOUT_MS = 30_000;

type JsonRpcMessage = { jsonrpc: '2.0'; id?: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** Calls tools of a gateway in the same process, through its real MCP server (the stdio path). */
export interface InProcessCaller {
  /**
   * Calls a tool and returns its `structuredContent`.
   * @throws AppError with the tool error's code and message (`CIRCUIT_OPEN`, `QSYS_UNKNOWN_COMPONENT`...),
   *   or the JSON-RPC error's `data.code` (`INVALID_PARAMS`, `RATE_LIMITED`...).
   */
  callTool(name: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Connects to a gateway over a linked in-memory transport, as a local MCP client would over
 * stdio: the call goes through the same policy (the caller is the local client, or
 * `MCP_API_KEY`), validation, audit and metrics as any other. Used by the standalone process's
 * programmatic API (`createStandalone(...).callTool`).
 */
export async function connectInProcess(gateway: Gateway): Promise<InProcessCaller> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = gateway.serveStdio({ transport: serverSide });
  const pending = new Map<number, { resolve: (m: JsonRpcMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  clientSide.onmessage = (message) => {
    const m = message as JsonRpcMessage;
    if (typeof m.id !== 'number') return;
    const waiter = pending.get(m.id);
    if (waiter === undefined) return;
    pending.delete(m.id);
    clearTimeout(waiter.timer);
    waiter.resolve(m);
  };
  await clientSide.start();
  const request = (method: string, params: unknown): Promise<JsonRpcMessage> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new AppError('BUS_TIMEOUT', `No answer to ${method} within ${IN_PROCESS_CALL_TIMEOUT_MS} ms`));
      }, IN_PROCESS_CALL_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      clientSide.send({ jsonrpc: '2.0', id, method, params } as never).catch((err: unknown) => {
        pending.delete(id);
        clearTimeout(timer);
        reject(err as Error);
      });
    });

  const init = await request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'in-process', version: '1.0.0' } });
  if (init.error !== undefined) throw new AppError('INTERNAL', `In-process MCP initialize failed: ${init.error.message}`);
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' } as never);

  return {
    async callTool(name, args = {}) {
      const answer = await request('tools/call', { name, arguments: args });
      if (answer.error !== undefined) {
        const data = answer.error.data as { code?: unknown } | undefined;
        const code = isErrorCode(data?.code) ? data.code : 'INTERNAL';
        throw new AppError(code, answer.error.message, { details: { jsonRpcCode: answer.error.code, data: answer.error.data } });
      }
      const result = answer.result as { isError?: boolean; structuredContent?: Record<string, unknown> };
      if (result.isError === true) {
        const error = (result.structuredContent?.error ?? {}) as { code?: unknown; message?: unknown; details?: Record<string, unknown> };
        throw new AppError(isErrorCode(error.code) ? error.code : 'INTERNAL', String(error.message ?? 'Tool failed'), error.details === undefined ? {} : { details: error.details });
      }
      return result.structuredContent ?? {};
    },
    async close() {
      for (const [, waiter] of pending) {
        clearTimeout(waiter.timer);
        waiter.reject(new AppError('BUS_CLOSED', 'The in-process caller was closed'));
      }
      pending.clear();
      await clientSide.close();
      await handle.close();
    },
  };
}
