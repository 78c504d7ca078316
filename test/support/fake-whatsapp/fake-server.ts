import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, exactly as sent (Green API's token is part of it). */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body decoded as UTF-8, byte for byte what the client sent. */
  rawBody: string;
  /** JSON or form fields (as an object) by content type; undefined when neither parses. */
  body: unknown;
}

/**
 * How the fake answers one request:
 * - `{ status, body?, headers? }`: that answer; an object body is sent as JSON, a string as is.
 * - `'timeout'`: never answer (the client's deadline must fire).
 * - `'malformed'`: HTTP 200, JSON content type, a truncated JSON body.
 * - `'reset'`: destroy the socket without an answer.
 * - `{ held }`: hang until the test settles `held`, then answer with what it resolved to (a
 *   provider that hangs for as long as the test needs, e.g. during an outage).
 */
export type FakeReply = { status: number; body?: unknown; headers?: Record<string, string> } | { held: Promise<FakeReply> } | 'timeout' | 'malformed' | 'reset';

export interface FakeServer {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queue answers for the next requests, in order; once used up, the protocol handler answers again. */
  respondWith(...replies: FakeReply[]): void;
  /** Forget recorded requests and queued answers. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server that records every request and answers with queued replies first,
 * then with `protocol` (the provider's documented behaviour).
 *
 * @example
 * const fake = await startFakeServer(() => ({ status: 200, body: { ok: true } }));
 * fake.respondWith({ status: 503 }, 'timeout');
 */
export async function startFakeServer(protocol: (request: RecordedRequest) => FakeReply): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body: parseBody(req.headers['content-type'], rawBody),
      };
      requests.push(recorded);
      answer(res, queue.shift() ?? protocol(recorded));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (...replies) => void queue.push(...replies),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Held 'timeout' requests would keep close() waiting forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(res: http.ServerResponse, reply: FakeReply): void {
  if (reply === 'timeout') return;
  if (typeof reply === 'object' && 'held' in reply) {
    void reply.held.then((later) => {
      if (!res.destroyed) answer(res, later);
    });
    return;
  }
  if (reply === 'reset') {
    res.socket?.destroy();
    return;
  }
  if (reply === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "3EB0C7');
    return;
  }
  const isText = typeof reply.body === 'string';
  const body = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  const type = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(reply.status, { 'content-type': type, ...reply.headers }).end(body);
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** A readable record view of a parsed body (fakes validate fields with it). */
export function fields(request: RecordedRequest): Record<string, unknown> {
  return typeof request.body === 'object' && request.body !== null && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : {};
}
