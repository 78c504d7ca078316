import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse, ZIdParam } from '../http/router.ts';
import { ZContact, ZContactPage, ZCreateContactRequest, ZListContactsQuery, ZUpdateContactRequest } from './contacts.schemas.ts';
import { createContact } from './create-contact.ts';
import { getContact } from './get-contact.ts';
import { listContacts } from './list-contacts.ts';
import { updateContact } from './update-contact.ts';


export function contactsRoutes() {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/contacts',
      tags: ['Contacts'],
      summary: 'List contacts, newest first',
      security: BEARER,
      middleware: [requirePermission('contacts:read')] as const,
      request: { query: ZListContactsQuery },
      responses: { 200: jsonResponse(ZContactPage, 'A page of contacts'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await listContacts({ tx: c.var.tx, query: c.req.valid('query') }), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/contacts',
      tags: ['Contacts'],
      summary: 'Create a contact',
      security: BEARER,
      middleware: [requirePermission('contacts:write')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZCreateContactRequest) },
      responses: { 201: jsonResponse(ZContact, 'The contact'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const contact = await createContact({ tx: c.var.tx, input: c.req.valid('json') });
      c.header('Location', `/api/v1/contacts/${contact.id}`);
      return c.json(contact, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}',
      tags: ['Contacts'],
      summary: 'Get a contact',
      security: BEARER,
      middleware: [requirePermission('contacts:read')] as const,
      request: { params: ZIdParam },
      responses: { 200: jsonResponse(ZContact, 'The contact'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await getContact({ tx: c.var.tx, contactId: c.req.valid('param').id }), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/contacts/{id}',
      tags: ['Contacts'],
      summary: 'Update a contact',
      security: BEARER,
      middleware: [requirePermission('contacts:write')] as const,
      request: {
        params: ZIdParam,
        headers: IDEMPOTENCY_HEADER,
        body: jsonBody(ZUpdateContactRequest),
      },
      responses: { 200: jsonResponse(ZContact, 'The updated contact'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await updateContact({ tx: c.var.tx, contactId: c.req.valid('param').id, input: c.req.valid('json') }), 200),
  );

  return router;
}
