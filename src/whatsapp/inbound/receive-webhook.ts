import { eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Logger } from 'pino';
import { whatsappWebhookEvents } from '../../db/schema.ts';
import { startFlow } from '../../flows/flow-commands.ts';
import type { FlowRegistry } from '../../flows/flow-definition.ts';
import { uuidv7 } from '../../db/uuid-v7.ts';
import { AppError } from '../../http/app-error.ts';
import { withTenant, type TenantTx } from '../../tenancy/with-tenant.ts';
import { INBOUND_WHATSAPP_FLOW, INBOUND_WHATSAPP_FLOW_VERSION, inboundIdempotencyKey, type InboundWhatsAppInput } from './inbound-message.ts';
import { REAL_PROVIDER_NAMES, type RealProviderName } from '../outbound/provider.ts';
import { applyStatus, lockDeliveryStatus } from '../outbound/delivery-status.ts';
import type { ProviderSettings } from '../outbound/provider-settings.ts';
import { unsafeTenantForWebhookKey } from './webhook-keys.store.ts';
import { providerSettings } from './webhook-provider-settings.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';
import { parseFonnteWebhook } from './parse-fonnte.ts';
import { parseGreenApiWebhook } from './parse-green-api.ts';
import { parseMetaCloudWebhook } from './parse-meta-cloud.ts';
import { parseUltramsgWebhook } from './parse-ultramsg.ts';
import { verifyFonnteSecret, verifyGreenApiAuthorization, verifyMetaSignature } from './verify-webhook.ts';
import type { InboundWebhookEvent, ParseResult } from './webhook-events.ts';

/**
 * The inbound webhook use case (issue 5 "Receiving"): find the tenant by the URL key, check
 * the request is authentic, parse it, and store every event in one tenant transaction —
 * messages start the `whatsapp:inbound` flow, statuses update our outbound row — then answer.
 * Nothing slow happens before the answer (no classification, no provider call), so providers
 * get their 200 well inside their timeouts and do not redeliver.
 */

const PARSERS: Record<RealProviderName, (body: unknown) => ParseResult> = {
  'green-api': parseGreenApiWebhook,
  ultramsg: parseUltramsgWebhook,
  fonnte: parseFonnteWebhook,
  'meta-cloud': parseMetaCloudWebhook,
};

/**
 * The provider named in the URL, or undefined (the route answers 404, as for any unknown path).
 *
 * @example
 * webhookProvider('meta-cloud') // 'meta-cloud'
 * webhookProvider('sandbox')    // undefined
 */
export function webhookProvider(name: string): RealProviderName | undefined {
  return (REAL_PROVIDER_NAMES as readonly string[]).includes(name) ? (name as RealProviderName) : undefined;
}

/** What the route read from the request: the exact bytes and the headers authenticity needs. Never logged. */
export interface WebhookRequest {
  rawBody: Uint8Array;
  contentType: string | undefined;
  /** Meta: `X-Hub-Signature-256`. */
  signature: string | undefined;
  /** Green API: `Authorization`. */
  authorization: string | undefined;
  /** Fonnte: FONNTE_SECRET_HEADER. */
  fonnteSecret: string | undefined;
}

export interface ReceiveWebhookOptions {
  pool: pg.Pool;
  whatsapp: WhatsAppService;
  registry: FlowRegistry;
  provider: RealProviderName;
  key: string;
  request: WebhookRequest;
  correlationId: string;
  logger: Logger;
  lockTimeoutMs?: number;
}

/** The 200 answer: how many events the body held and what became of them. */
export interface ReceiveWebhookResult {
  received: number;
  /** New inbound messages, each now a `whatsapp:inbound` run. */
  messages: number;
  /** Inbound messages already stored by an earlier delivery: not processed again. */
  duplicates: number;
  statuses: number;
  ignored: number;
}

/**
 * Receives one provider webhook. Throws AppError `not_found` (unknown key, or the provider is
 * not configured for the tenant), `unauthenticated` (signature, token or secret wrong or
 * missing) or `bad_request` (not the provider's documented shape, naming the fields); in
 * each case nothing is stored.
 *
 * @example
 * const result = await receiveWebhook({ pool, whatsapp, registry, provider: 'meta-cloud', key, request, correlationId, logger });
 * // { received: 1, messages: 1, duplicates: 0, statuses: 0, ignored: 0 }
 */
export async function receiveWebhook(options: ReceiveWebhookOptions): Promise<ReceiveWebhookResult> {
  const { provider, request, logger } = options;
  const tenantId = await unsafeTenantForWebhookKey(options.pool, options.key);
  // One message whatever was wrong with the key: a caller learns nothing about which keys exist.
  if (!tenantId) throw new AppError('not_found', 'No such webhook');
  const flow = options.registry.get(INBOUND_WHATSAPP_FLOW, INBOUND_WHATSAPP_FLOW_VERSION);
  if (!flow) throw new Error(`flow ${INBOUND_WHATSAPP_FLOW}@${INBOUND_WHATSAPP_FLOW_VERSION} is not registered`);

  const result = await withTenant({ pool: options.pool, tenantId, lockTimeoutMs: options.lockTimeoutMs ?? 5_000 }, async (tx) => {
    const settings = await providerSettings(tx, options.whatsapp, tenantId, provider);
    const text = decodeUtf8(request.rawBody);
    const body = text === undefined ? undefined : decodeBody(provider, text, request.contentType);
    if (!isAuthentic(provider, settings, request, body)) {
      logger.warn({ provider, tenant_id: tenantId }, 'webhook refused: not authentic');
      throw new AppError('unauthenticated', `The ${provider} webhook is not authentic`);
    }
    if (text === undefined) throw new AppError('bad_request', 'The body is not UTF-8', { errors: [{ field: 'body', message: 'is not UTF-8' }] });
    if (body === undefined) throw new AppError('bad_request', 'The body is not valid JSON', { errors: [{ field: 'body', message: 'is not valid JSON' }] });
    const parsed = PARSERS[provider](body);
    if (!parsed.ok) {
      throw new AppError('bad_request', `The ${provider} webhook is malformed: ${parsed.errors.map((error) => error.field).join(', ')}`, { errors: parsed.errors });
    }
    return storeEvents({ tx, provider, events: parsed.events, rawBody: redactRawBody(provider, text, body), flow, correlationId: options.correlationId });
  });
  logger.info({ provider, tenant_id: tenantId, ...result }, 'webhook received');
  return result;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * JSON, parsed from the text we received (never a framework's re-parse). Ultramsg may post
 * form-encoded with `data` as a JSON string (UNCONFIRMED): its parser decodes `data` itself.
 */
function decodeBody(provider: RealProviderName, text: string, contentType: string | undefined): unknown {
  if (provider === 'ultramsg' && contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Meta signs every webhook: without an app secret we cannot tell Meta from anyone, so we
 * refuse. Green API and Fonnte sign nothing but can send a configured token or secret; when
 * none is configured the secret path key is the only proof (Ultramsg always).
 */
function isAuthentic(provider: RealProviderName, settings: ProviderSettings[RealProviderName], request: WebhookRequest, body: unknown): boolean {
  switch (provider) {
    case 'meta-cloud': {
      const { app_secret: appSecret } = settings as ProviderSettings['meta-cloud'];
      return appSecret !== undefined && verifyMetaSignature({ rawBody: request.rawBody, header: request.signature, appSecret });
    }
    case 'green-api': {
      const { webhook_token: expectedToken } = settings as ProviderSettings['green-api'];
      return expectedToken === undefined || verifyGreenApiAuthorization({ header: request.authorization, expectedToken });
    }
    case 'fonnte': {
      const { webhook_secret: expectedSecret } = settings as ProviderSettings['fonnte'];
      return expectedSecret === undefined || verifyFonnteSecret({ header: request.fonnteSecret, body, expectedSecret });
    }
    case 'ultramsg':
      return true;
  }
}

/**
 * Fonnte puts its device token (device-status webhooks, even inside the free-text `reason`) and
 * possibly its webhook secret in the body. The stored raw body must not hold them; Fonnte signs
 * nothing, so no exact bytes need keeping. Other providers' bodies hold no credential.
 */
function redactRawBody(provider: RealProviderName, text: string, body: unknown): string {
  if (provider !== 'fonnte' || typeof body !== 'object' || body === null) return text;
  let redacted = text;
  for (const field of ['token', 'secret']) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === 'string' && value.length >= 4) redacted = redacted.split(value).join('[redacted]');
  }
  return redacted;
}

interface StoreEventsOptions {
  tx: TenantTx;
  provider: RealProviderName;
  events: InboundWebhookEvent[];
  rawBody: string;
  // The registry hands flows back untyped; startFlow takes any flow.
  flow: Parameters<typeof startFlow>[0]['flow'];
  correlationId: string;
}

async function storeEvents(options: StoreEventsOptions): Promise<ReceiveWebhookResult> {
  const { tx, provider, events, rawBody } = options;
  const result: ReceiveWebhookResult = { received: events.length, messages: 0, duplicates: 0, statuses: 0, ignored: 0 };
  for (const event of events) {
    if (event.kind === 'message') {
      // The partial unique index (tenant, provider, provider_message_id) WHERE kind = 'message'
      // recognises a redelivery, even one racing this request on another connection.
      // The run's id is chosen now, so the event row names it from the start (no UPDATE after).
      const runId = uuidv7();
      const [row] = await tx
        .insert(whatsappWebhookEvents)
        .values({ provider, kind: 'message', providerMessageId: event.providerMessageId, event, rawBody, flowRunId: runId })
        .onConflictDoNothing({
          target: [whatsappWebhookEvents.tenantId, whatsappWebhookEvents.provider, whatsappWebhookEvents.providerMessageId],
          where: sql`kind = 'message'`,
        })
        .returning({ id: whatsappWebhookEvents.id, receivedAt: whatsappWebhookEvents.receivedAt });
      if (!row) {
        result.duplicates += 1;
        continue;
      }
      const input: InboundWhatsAppInput = {
        event_id: row.id,
        provider,
        provider_message_id: event.providerMessageId,
        phone: event.fromE164,
        name: event.senderName,
        text: event.text,
        received_at: (event.receivedAt ?? row.receivedAt).toISOString(),
      };
      const { run, created } = await startFlow({
        tx,
        flow: options.flow,
        input: { ...input },
        runId,
        correlationId: options.correlationId,
        idempotencyKey: inboundIdempotencyKey(provider, event.providerMessageId),
      });
      // Only if the message's run already existed (its event row was purged since): point at that one.
      if (!created) await tx.update(whatsappWebhookEvents).set({ flowRunId: run.id }).where(eq(whatsappWebhookEvents.id, row.id));
      result.messages += 1;
    } else if (event.kind === 'status') {
      // A status can beat the send's own commit (Meta answers `sent` within milliseconds): one
      // that matches no row yet stays pending (processed_at NULL) and the send applies it.
      await lockDeliveryStatus(tx, provider, event.externalId);
      const matched = await applyStatus(tx, provider, event);
      await tx
        .insert(whatsappWebhookEvents)
        .values({ provider, kind: 'status', providerMessageId: event.externalId, event, rawBody, processedAt: matched ? new Date() : null });
      result.statuses += 1;
    } else {
      // Stored for the audit trail; never processed (processed_at stays null).
      await tx.insert(whatsappWebhookEvents).values({ provider, kind: 'ignored', event, rawBody });
      result.ignored += 1;
    }
  }
  return result;
}
