import { maxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import type { HttpTimeouts } from '../config/config.ts';
import { AppError, type AppErrorCode } from '../http/app-error.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../http/problem.ts';
import { newCorrelationId } from '../http/telemetry.ts';

export interface ListenHttpOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  timeouts: HttpTimeouts;
  logger: Logger;
  /** How often Node checks requests against the headers and request timeouts (Node's default: 30 s); tests shorten it. */
  connectionsCheckingIntervalMs?: number;
}

/**
 * Starts the HTTP server. Node closes an idle keep-alive socket after 5 s by default, so a load
 * balancer (or client pool) that keeps idle connections for 60 s reuses a socket we already
 * closed and its next request fails with "socket hang up"; the keep-alive timeout must outlast
 * theirs, and the headers timeout must outlast the keep-alive one (config checks both).
 */
export function listenHttp(options: ListenHttpOptions): Promise<Server> {
  const { timeouts } = options;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: options.fetch,
        port: options.port,
        hostname: options.hostname,
        serverOptions: {
          keepAliveTimeout: timeouts.keepAliveTimeoutMs,
          headersTimeout: timeouts.headersTimeoutMs,
          requestTimeout: timeouts.requestTimeoutMs,
          ...(options.connectionsCheckingIntervalMs ? { connectionsCheckingInterval: options.connectionsCheckingIntervalMs } : {}),
        },
      },
      () => resolve(server),
    ) as Server;
    // Not every Node version reads keepAliveTimeout from the constructor options.
    server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, options));
    server.once('error', reject);
  });
}

/** Node's parser and timeout errors that have a status of their own; any other is a malformed request (400). */
const CLIENT_ERROR_CODES: Partial<Record<string, AppErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'request_header_fields_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

/**
 * A request Node's HTTP layer refused before it reached the app (no Request exists, so no
 * middleware runs): the same problem+json the app answers with, written to the socket, which is
 * then closed. As in Node's own handler, nothing is written once a response has started on the
 * socket, and a reset connection is only destroyed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, options: ListenHttpOptions): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code = CLIENT_ERROR_CODES[error.code ?? ''] ?? 'bad_request';
  const detail =
    code === 'request_header_fields_too_large'
      ? `The request's header fields exceed ${maxHeaderSize} bytes`
      : code === 'request_timeout'
        ? `The request was not received in time (headers within ${options.timeouts.headersTimeoutMs} ms, the whole request within ${options.timeouts.requestTimeoutMs} ms)`
        : `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`;
  const appError = new AppError(code, detail);
  const correlationId = newCorrelationId();
  const body = JSON.stringify(problemBody(appError, correlationId));
  options.logger.warn({ code: error.code, status: appError.status, correlation_id: correlationId }, 'HTTP request refused before routing');
  socket.end(
    `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? ''}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Correlation-Id: ${correlationId}\r\n` +
      'X-Content-Type-Options: nosniff\r\n' +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
