import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('os-settings');
  admin = await tenant.token('admin');
});
afterAll(async () => t?.close());

const HOURS = { days: [0, 1, 2, 3, 4], start: '08:30', end: '17:00', timezone: 'Asia/Riyadh' };

describe('business hours and template variables', () => {
  it('start at the defaults (version 0), and each edit is a new version with the old ones kept', async () => {
    const initial = await t.request('GET', '/api/v1/os/settings', { token: admin });
    expect(initial.json).toEqual({
      version: 0,
      business_hours: { days: [0, 1, 2, 3, 4], start: '09:00', end: '18:00', timezone: 'Asia/Riyadh' },
      template_variables: {},
      updated_by: null,
      updated_at: null,
    });
    const first = await t.request('PUT', '/api/v1/os/settings', { token: admin, body: { business_hours: HOURS, template_variables: { price_range: '1,500' } } });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ version: 1, business_hours: HOURS, template_variables: { price_range: '1,500' }, updated_by: tenant.adminId });
    const second = await t.request('PUT', '/api/v1/os/settings', { token: admin, body: { business_hours: { ...HOURS, end: '16:00' }, expected_version: 1 } });
    expect(second.json.version).toBe(2);
    const history = await t.request('GET', '/api/v1/os/settings/history', { token: admin });
    expect(history.json.items.map((item: { version: number }) => item.version)).toEqual([2, 1]);
    expect((await t.request('GET', '/api/v1/os/settings', { token: admin })).json.business_hours.end).toBe('16:00');
  });

  it('a stale expected_version is a 409, and nothing is written', async () => {
    const stale = await t.request('PUT', '/api/v1/os/settings', { token: admin, body: { business_hours: HOURS, expected_version: 1 } });
    expect(stale.status).toBe(409);
    expect(stale.json.detail).toMatch(/version 2, not 1/);
    expect((await t.request('GET', '/api/v1/os/settings/history', { token: admin })).json.items).toHaveLength(2);
  });

  it('refuses bad hours and variables, naming the fields', async () => {
    const bad = await t.request('PUT', '/api/v1/os/settings', {
      token: admin,
      body: { business_hours: { days: [0, 9], start: '18:00', end: '08:00', timezone: 'Asia/Nowhere' }, template_variables: { meeting_link: 'http://x.test', colour: 'red' } },
    });
    expect(bad.status).toBe(422);
    const fields = bad.json.errors.map((error: { field: string }) => error.field);
    expect(fields).toEqual(['business_hours.days.1', 'business_hours.timezone', 'business_hours.end', 'template_variables.meeting_link', 'template_variables.colour']);
  });

  it('only an admin edits; a sales_rep reads; an executive does neither', async () => {
    const rep = await tenant.token('sales_rep', await tenant.addUser(['sales_rep']));
    expect((await t.request('GET', '/api/v1/os/settings', { token: rep })).status).toBe(200);
    expect((await t.request('PUT', '/api/v1/os/settings', { token: rep, body: { business_hours: HOURS } })).status).toBe(403);
    const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
    expect((await t.request('PUT', '/api/v1/os/templates/welcome.plain.en', { token: manager, body: { text: 'Hello' } })).status).toBe(403);
    const executive = await tenant.token('executive', await tenant.addUser(['executive']));
    expect((await t.request('GET', '/api/v1/os/templates', { token: executive })).status).toBe(403);
  });
});

describe('reply templates', () => {
  it('an edit is a new version; GET /os/templates and /os/stages show it; the versions end with the built-in text', async () => {
    const edit = await t.request('PUT', '/api/v1/os/templates/welcome.named.en', { token: admin, body: { text: 'Hi {{name}}, welcome to {{company}}!', note: 'friendlier' } });
    expect(edit.status, edit.text).toBe(200);
    expect(edit.json).toMatchObject({ template_id: 'welcome.named.en', version: 1, variables: ['name', 'company'], note: 'friendlier', created_by: tenant.adminId });
    const again = await t.request('PUT', '/api/v1/os/templates/welcome.named.en', { token: admin, body: { text: 'Hi {{name}}!', expected_version: 1 } });
    expect(again.json.version).toBe(2);

    const list = await t.request('GET', '/api/v1/os/templates', { token: admin });
    expect(list.json.items.find((item: { id: string }) => item.id === 'welcome.named.en')).toEqual({
      id: 'welcome.named.en',
      purpose: 'welcome',
      language: 'en',
      text: 'Hi {{name}}!',
      variables: ['name'],
      version: 2,
    });
    const stages = await t.request('GET', '/api/v1/os/stages', { token: admin });
    const newLead = stages.json.data.find((stage: { stage: string }) => stage.stage === 'new_lead');
    expect(newLead.templates.find((item: { id: string }) => item.id === 'welcome.named.en')).toMatchObject({ text: 'Hi {{name}}!', version: 2 });

    const versions = await t.request('GET', '/api/v1/os/templates/welcome.named.en/versions', { token: admin });
    expect(versions.json.items.map((item: { version: number; text: string }) => [item.version, item.text])).toEqual([
      [2, 'Hi {{name}}!'],
      [1, 'Hi {{name}}, welcome to {{company}}!'],
      [0, 'Hi {{name}}, thanks for reaching out! What is the main thing you need help with in sales right now?'],
    ]);
  });

  it('refuses unknown or unclosed variables (422 on text), unknown templates (404) and stale versions (409)', async () => {
    const typo = await t.request('PUT', '/api/v1/os/templates/price.plain.ar', { token: admin, body: { text: 'هلا {{nmae}}' } });
    expect(typo.status).toBe(422);
    expect(typo.json.errors).toEqual([{ field: 'text', message: expect.stringContaining('unknown variable {{nmae}}') }]);
    const unclosed = await t.request('PUT', '/api/v1/os/templates/price.plain.ar', { token: admin, body: { text: 'هلا {{name' } });
    expect(unclosed.json.errors).toEqual([{ field: 'text', message: expect.stringContaining('not closed') }]);
    expect((await t.request('PUT', '/api/v1/os/templates/price.fancy.ar', { token: admin, body: { text: 'x' } })).status).toBe(404);
    expect((await t.request('GET', '/api/v1/os/templates/price.fancy.ar/versions', { token: admin })).status).toBe(404);
    expect((await t.request('PUT', '/api/v1/os/templates/not-an-id', { token: admin, body: { text: 'x' } })).status).toBe(422);
    const stale = await t.request('PUT', '/api/v1/os/templates/welcome.named.en', { token: admin, body: { text: 'Hey', expected_version: 0 } });
    expect(stale.status).toBe(409);
  });

  it("another tenant never sees these edits", async () => {
    const other = await t.createTestTenant('os-settings-other');
    const otherAdmin = await other.token('admin');
    const list = await t.request('GET', '/api/v1/os/templates', { token: otherAdmin });
    expect(list.json.items.find((item: { id: string }) => item.id === 'welcome.named.en')).toMatchObject({ version: 0 });
    expect((await t.request('GET', '/api/v1/os/settings', { token: otherAdmin })).json.version).toBe(0);
    expect((await t.request('GET', '/api/v1/os/templates/welcome.named.en/versions', { token: otherAdmin })).json.items).toHaveLength(1);
  });

  it('the price template uses the tenant’s price_range once it is set', async () => {
    const decide = () =>
      t.request('POST', '/api/v1/os/process', {
        token: admin,
        body: { contact: { phone: '0556660001', name: 'Sara' }, event: { type: 'inbound_message', text: 'how much does it cost?', at: '2026-01-11T07:00:00Z' } },
      });
    // The latest settings version (2) has no price_range: a PUT replaces the variables too.
    expect((await decide()).json.reply.template).toBe('price.plain.en');
    await t.request('PUT', '/api/v1/os/settings', { token: admin, body: { business_hours: HOURS, template_variables: { price_range: '2,000' } } });
    expect((await decide()).json.reply).toMatchObject({ template: 'price.range.en', variables: { name: 'Sara', price_range: '2,000' } });
  });
});
