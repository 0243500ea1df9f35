import { setMaxListeners } from 'node:events';

/**
 * Requests in flight at once on one client that the long-lived signal may hold a listener for
 * each (the tests' bursts run up to 64 concurrent calls): above Node's default of 10 it would
 * print a leak warning for listeners that are removed when each request ends.
 */
const MAX_CONCURRENT_REQUESTS = 1000;
const raised = new WeakSet<AbortSignal>();

/**
 * `fetch` for the MCP SDK's HTTP client transport. The transport passes its one long-lived
 * AbortSignal to every request, and Node's fetch (undici) removes the abort listener it adds to
 * a request's signal only when that request is garbage-collected: a client making many calls
 * collected one listener per call on that signal (800 after 800 calls) until GC, and past
 * undici's limit of 1500 Node printed `MaxListenersExceededWarning: … abort listeners added to
 * [AbortSignal]`. Here every request gets its own signal, linked to the caller's only while the
 * request and its response body run, so the long-lived signal holds no listener per call.
 */
export const linkedSignalFetch: typeof fetch = async (input, init) => {
  const outer = init?.signal;
  if (outer === undefined || outer === null) return fetch(input, init);
  if (!raised.has(outer)) {
    setMaxListeners(MAX_CONCURRENT_REQUESTS, outer);
    raised.add(outer);
  }
  const own = new AbortController();
  const onAbort = (): void => own.abort(outer.reason);
  if (outer.aborted) own.abort(outer.reason);
  else outer.addEventListener('abort', onAbort, { once: true });
  const unlink = (): void => outer.removeEventListener('abort', onAbort);
  let response: Response;
  try {
    response = await fetch(input, { ...init, signal: own.signal });
  } catch (err) {
    unlink();
    throw err;
  }
  if (response.body === null) {
    unlink();
    return response;
  }
  // Unlinked when the body ends, fails or is cancelled (an SSE stream stays abortable while it runs).
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          unlink();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        unlink();
        controller.error(err);
      }
    },
    async cancel(reason) {
      unlink();
      await reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
};
