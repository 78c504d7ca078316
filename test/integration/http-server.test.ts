import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type HttpTimeouts } from '../../src/config/config.ts';
import { listenHttp } from '../../src/app/http-server.ts';
import { createTestApp, readJson, type TestApp } from '../support/test-app.ts';

/**
 * The HTTP server as `startServer` starts it (listenHttp), on a real port, spoken to over raw
 * sockets: keep-alive and header timeouts, and the problem bodies Node's HTTP layer answers with
 * before any request reaches the app.
 */

let t: TestApp;
const servers: Server[] = [];

beforeAll(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
afterAll(async () => {
  await t?.close();
});

async function start(timeouts: HttpTimeouts, extra: { connectionsCheckingIntervalMs?: number } = {}) {
  const server = await listenHttp({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', timeouts, logger: t.logger, ...extra });
  servers.push(server);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One TCP connection; responses parsed by Content-Length, in order. */
class RawClient {
  readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async connected() {
    if (this.socket.readyState !== 'open') await new Promise((resolve) => this.socket.once('connect', resolve));
  }

  write(data: string) {
    this.socket.write(data);
  }

  async response(): Promise<RawResponse> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine = '', ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(statusLine.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unparsed: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: dealix.test\r\n\r\n';

function expectProblem(response: RawResponse, status: number, code: string) {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toBe('application/problem+json');
  expect(response.headers.connection).toBe('close');
  const body = readJson(response.body);
  expect(body).toMatchObject({ type: `urn:dealix:problem:${code}`, status, code, correlation_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(response.headers['x-correlation-id']).toBe(body.correlation_id);
}

describe('HTTP server timeouts', () => {
  it('carries the configured defaults, above common load-balancer idle timeouts (Node would close an idle socket after 5 s)', async () => {
    const config = loadConfig({});
    const { server } = await start(config.http);
    expect(config.http).toEqual({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000, requestTimeoutMs: 120_000 });
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(66_000);
    expect(server.requestTimeout).toBe(120_000);
    const client = new RawClient((server.address() as AddressInfo).port);
    await client.connected();
    client.write(GET_HEALTHZ);
    const response = await client.response();
    expect(response.status).toBe(200);
    expect(response.headers['keep-alive']).toBe('timeout=65');
    client.socket.destroy();
  });

  it('keeps an idle keep-alive socket usable within the keep-alive timeout: a second request after an idle pause reuses it', async () => {
    const { port, connections } = await start({ keepAliveTimeoutMs: 3_000, headersTimeoutMs: 3_100, requestTimeoutMs: 3_200 });
    const client = new RawClient(port);
    await client.connected();
    client.write(GET_HEALTHZ);
    expect((await client.response()).status).toBe(200);
    await sleep(500);
    client.write(GET_HEALTHZ);
    expect((await client.response()).status).toBe(200);
    expect(client.closed).toBe(false);
    expect(connections()).toBe(1);
    client.socket.destroy();
  });

  it('closes an idle keep-alive socket once the configured keep-alive timeout has passed (the knob is what the server uses)', async () => {
    const { server, port } = await start({ keepAliveTimeoutMs: 200, headersTimeoutMs: 300, requestTimeoutMs: 400 });
    const client = new RawClient(port);
    await client.connected();
    client.write(GET_HEALTHZ);
    const response = await client.response();
    expect(response.status).toBe(200);
    // Newer Node adds keepAliveTimeoutBuffer to the socket's own timeout.
    const buffer = (server as Server & { keepAliveTimeoutBuffer?: number }).keepAliveTimeoutBuffer ?? 0;
    await sleep(200 + buffer + 800);
    expect(client.closed).toBe(true);
  });
});

describe("problems from Node's HTTP layer", () => {
  it('a 100 KB header answers 431 with a problem body', async () => {
    const { port } = await start(loadConfig({}).http);
    const client = new RawClient(port);
    await client.connected();
    client.write(`GET /healthz HTTP/1.1\r\nHost: dealix.test\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    expectProblem(await client.response(), 431, 'request_header_fields_too_large');
  });

  it('a malformed request answers 400 with a problem body', async () => {
    const { port } = await start(loadConfig({}).http);
    const client = new RawClient(port);
    await client.connected();
    client.write('NOT HTTP AT ALL\r\n\r\n');
    const response = await client.response();
    expectProblem(response, 400, 'bad_request');
  });

  it('headers not finished within the headers timeout answer 408 with a problem body', async () => {
    const { port } = await start({ keepAliveTimeoutMs: 100, headersTimeoutMs: 200, requestTimeoutMs: 300 }, { connectionsCheckingIntervalMs: 50 });
    const client = new RawClient(port);
    await client.connected();
    client.write('GET /healthz HTTP/1.1\r\nHost: dealix.test\r\n');
    expectProblem(await client.response(), 408, 'request_timeout');
  });
});
