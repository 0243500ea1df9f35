/** An answer of the simulator's admin interface. */
export interface AdminAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * Calls the admin interface at `baseUrl` (`http://host:port`): GET without a body, POST with
 * `body` as JSON (a string is sent as is, for malformed-body tests).
 */
export async function admin(baseUrl: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<AdminAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** POSTs and fails the test unless the answer is 200; returns the body. */
export async function adminOk(baseUrl: string, path: string, body?: unknown): Promise<any> {
  const answer = await admin(baseUrl, 'POST', path, body ?? {});
  if (answer.status !== 200) throw new Error(`POST ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}
