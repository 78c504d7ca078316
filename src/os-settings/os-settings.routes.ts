import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { REPLY_TEMPLATES } from '../deals/lifecycle.ts';
import { AppError } from '../http/app-error.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse } from '../http/router.ts';
import {
  ZOsSettings,
  ZOsSettingsHistory,
  ZTemplateHistory,
  ZTemplateIdParam,
  ZTemplateList,
  ZTemplateVersion,
  ZUpdateOsSettingsRequest,
  ZUpdateTemplateRequest,
} from './os-settings.schemas.ts';
import { currentOsSettings, loadLifecycleConfig, osSettingsHistory, templateHistory } from './os-settings.store.ts';
import { updateOsSettings } from './update-os-settings.ts';
import { updateTemplate } from './update-template.ts';

/** The tenant's lifecycle settings: business hours, template variables and reply templates, all versioned. */
export function osSettingsRoutes() {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/settings',
      tags: ['OS settings'],
      summary: 'Business hours and template variables in use (version 0: the defaults)',
      security: BEARER,
      middleware: [requirePermission('os:settings:read')] as const,
      responses: { 200: jsonResponse(ZOsSettings, 'The settings in use'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await currentOsSettings(c.var.tx), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/os/settings',
      tags: ['OS settings'],
      summary: 'Replace business hours and template variables (a new version; earlier ones are kept)',
      description:
        'Out-of-hours replies are scheduled for the next opening under these hours; a timed reply re-checks the hours in force when it wakes. ' +
        'Standing approvals with the `business_hours` condition follow these hours. Send `expected_version` to refuse a concurrent edit (409).',
      security: BEARER,
      middleware: [requirePermission('os:settings:write')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZUpdateOsSettingsRequest) },
      responses: { 200: jsonResponse(ZOsSettings, 'The new version'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await updateOsSettings({ tx: c.var.tx, tenantId: c.var.auth.tenantId, input: c.req.valid('json'), actor: c.var.auth.sub }), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/settings/history',
      tags: ['OS settings'],
      summary: 'Every settings version, newest first',
      security: BEARER,
      middleware: [requirePermission('os:settings:read')] as const,
      responses: { 200: jsonResponse(ZOsSettingsHistory, 'The versions'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json({ items: await osSettingsHistory(c.var.tx) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/templates',
      tags: ['OS settings'],
      summary: 'The reply templates in use: built-in texts, replaced by the tenant’s latest version where edited',
      security: BEARER,
      middleware: [requirePermission('os:settings:read')] as const,
      responses: { 200: jsonResponse(ZTemplateList, 'Every template, in catalogue order'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { templates } = await loadLifecycleConfig(c.var.tx);
      return c.json({ items: templates.map((template) => ({ ...template, variables: [...template.variables] })) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/templates/{id}/versions',
      tags: ['OS settings'],
      summary: "A template's versions, newest first, ending with the built-in text (version 0)",
      security: BEARER,
      middleware: [requirePermission('os:settings:read')] as const,
      request: { params: ZTemplateIdParam },
      responses: { 200: jsonResponse(ZTemplateHistory, 'The versions'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const builtIn = REPLY_TEMPLATES.find((candidate) => candidate.id === id);
      if (!builtIn) throw new AppError('not_found', `Template ${id} does not exist`);
      return c.json({ items: await templateHistory(c.var.tx, builtIn) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/os/templates/{id}',
      tags: ['OS settings'],
      summary: "Edit a reply template's text: a new version (the old ones are kept; approved sends keep theirs)",
      description:
        'Allowed variables: {{name}}, {{company}}, {{price_range}}, {{meeting_link}}, {{meeting_time}}. A reply whose variables are not ' +
        'all known falls back to the next variant of its purpose, else becomes a draft: nothing is ever sent with a hole in it.',
      security: BEARER,
      middleware: [requirePermission('os:settings:write')] as const,
      request: { params: ZTemplateIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZUpdateTemplateRequest) },
      responses: { 200: jsonResponse(ZTemplateVersion, 'The new version'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(await updateTemplate({ tx: c.var.tx, tenantId: c.var.auth.tenantId, templateId: c.req.valid('param').id, input: c.req.valid('json'), actor: c.var.auth.sub }), 200),
  );

  return router;
}
