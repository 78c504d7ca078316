import type pg from 'pg';
import { createContact } from '../contacts/create-contact.ts';
import { createDeal } from '../deals/create-deal.ts';
import { DEAL_STAGES, type DealStage } from '../deals/deal-stages.ts';
import { transitionDealStage } from '../deals/transition-deal-stage.ts';
import type { Role } from '../auth/roles.ts';
import type { TStandingConditions } from '../approvals/standing-approvals.ts';
import { standingApprovals } from '../db/schema.ts';
import { stopOutboundFor } from '../os/stop-outbound-for.ts';
import { createTenant } from '../tenancy/create-tenant.ts';
import { insertUser } from '../tenancy/tenants.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

export const DEMO_SLUG = 'demo';

const DEMO_USERS: Array<{ email: string; displayName: string; roles: Role[] }> = [
  { email: 'noura@demo.dealix.local', displayName: 'Noura Al-Qahtani', roles: ['sales_manager'] },
  { email: 'fahad@demo.dealix.local', displayName: 'Fahad Al-Otaibi', roles: ['sales_rep'] },
  { email: 'reem@demo.dealix.local', displayName: 'Reem Al-Harbi', roles: ['sales_rep'] },
  { email: 'sultan@demo.dealix.local', displayName: 'Sultan Al-Dosari', roles: ['compliance_officer'] },
  { email: 'abdullah@demo.dealix.local', displayName: 'Abdullah Al-Shehri', roles: ['executive'] },
  { email: 'worker@demo.dealix.local', displayName: 'Dealix worker', roles: ['system'] },
];

// Fictional companies and people; numbers in the +966 55 500 0xxx block.
const DEMO_DEALS: Array<{ contact: { phone: string; name: string; company: string; lang: 'ar' | 'en' }; title: string; sar: number; stage: DealStage; rep: 0 | 1 }> = [
  { contact: { phone: '0555000101', name: 'محمد العتيبي', company: 'مؤسسة الرواد للتجارة', lang: 'ar' }, title: 'نظام مبيعات — 25 مستخدم', sar: 45_000, stage: 'new_lead', rep: 0 },
  { contact: { phone: '0555000102', name: 'سارة القحطاني', company: 'شركة نخبة الخليج', lang: 'ar' }, title: 'باقة الأتمتة السنوية', sar: 120_000, stage: 'qualifying', rep: 1 },
  { contact: { phone: '0555000103', name: 'Khalid Al-Mutairi', company: 'Tihama Logistics', lang: 'en' }, title: 'Fleet CRM rollout', sar: 86_500, stage: 'qualified', rep: 0 },
  { contact: { phone: '0555000104', name: 'نورة الشمري', company: 'عيادات ركن العافية', lang: 'ar' }, title: 'حجز المواعيد عبر واتساب', sar: 32_000, stage: 'nurturing', rep: 1 },
  { contact: { phone: '0555000105', name: 'Faisal Al-Ghamdi', company: 'Najd Steel Works', lang: 'en' }, title: 'Dealer network pilot', sar: 240_000, stage: 'meeting_booked', rep: 0 },
  { contact: { phone: '0555000106', name: 'هيفاء الزهراني', company: 'دار الضيافة للفنادق', lang: 'ar' }, title: 'مبيعات المجموعات والفعاليات', sar: 98_000, stage: 'meeting_done', rep: 1 },
  { contact: { phone: '0555000107', name: 'Omar Bakheet', company: 'Red Sea Outfitters', lang: 'en' }, title: 'B2B wholesale portal', sar: 155_000, stage: 'proposal_sent', rep: 0 },
  { contact: { phone: '0555000108', name: 'عبدالرحمن السبيعي', company: 'مصنع الجزيرة للبلاستيك', lang: 'ar' }, title: 'تجديد العقد مع توسعة', sar: 310_000, stage: 'negotiating', rep: 1 },
  { contact: { phone: '0555000109', name: 'Lama Al-Rashid', company: 'Qassim Dates Co.', lang: 'en' }, title: 'Export leads automation', sar: 72_250, stage: 'payment_requested', rep: 0 },
  { contact: { phone: '0555000110', name: 'تركي الدوسري', company: 'شركة سواحل للمقاولات', lang: 'ar' }, title: 'تجربة ٦٠ يوماً لفريق المبيعات', sar: 54_000, stage: 'pilot_active', rep: 1 },
  { contact: { phone: '0555000111', name: 'Hessa Al-Subaie', company: 'Eastern Medical Supplies', lang: 'en' }, title: 'Annual licence — 40 seats', sar: 198_000, stage: 'closed_won', rep: 0 },
  { contact: { phone: '0555000112', name: 'ماجد الحربي', company: 'مكتب الأفق العقاري', lang: 'ar' }, title: 'إدارة العملاء المحتملين', sar: 18_500, stage: 'closed_lost', rep: 1 },
];

/**
 * The demo tenant's standing approval for automatic replies (issue 4): approved templates
 * only, early stages only, inside the tenant's business hours (Sun–Thu 09:00–18:00 Riyadh time
 * until an admin changes them at PUT /os/settings), at most 30 an hour.
 */
export const DEMO_SEND_WHATSAPP_CONDITIONS: TStandingConditions = {
  stages: ['new_lead', 'qualifying', 'qualified', 'nurturing', 'meeting_booked', 'meeting_done'],
  template_only: true,
  business_hours: true,
  max_per_hour: 30,
};

/** Shortest path through the lifecycle table, so seeded timelines are ones the API allows. */
function pathTo(target: DealStage): DealStage[] {
  const previous = new Map<DealStage, DealStage>();
  const queue: DealStage[] = ['new_lead'];
  const seen = new Set<DealStage>(queue);
  while (queue.length) {
    const stage = queue.shift() as DealStage;
    if (stage === target) break;
    for (const next of DEAL_STAGES[stage].next as readonly DealStage[]) {
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, stage);
        queue.push(next);
      }
    }
  }
  const path: DealStage[] = [];
  for (let stage: DealStage | undefined = target; stage && stage !== 'new_lead'; stage = previous.get(stage)) path.unshift(stage);
  return path;
}

async function populateDemo(tx: TenantTx): Promise<void> {
  const created = [];
  for (const user of DEMO_USERS) created.push(await insertUser(tx, user));
  const reps = created.filter((u) => u.roles.includes('sales_rep'));
  for (const spec of DEMO_DEALS) {
    const owner = reps[spec.rep];
    if (!owner) throw new Error('demo seed: missing sales rep');
    const contact = await createContact({
      tx,
      input: { phone: `+966${spec.contact.phone.slice(1)}`, name: spec.contact.name, company: spec.contact.company, preferred_language: spec.contact.lang, owner_user_id: owner.id },
    });
    const deal = await createDeal({
      tx,
      input: { contact_id: contact.id, title: spec.title, value_halalas: spec.sar * 100, owner_user_id: owner.id },
      actor: owner.id,
      scope: {},
    });
    for (const to of pathTo(spec.stage)) {
      await transitionDealStage({ tx, dealId: deal.id, input: { to, reason: 'demo data' }, actor: owner.id, scope: {}, stopOutreach: stopOutboundFor });
    }
  }
  await tx.insert(standingApprovals).values({
    action: 'send_whatsapp',
    conditions: DEMO_SEND_WHATSAPP_CONDITIONS,
    grantedBy: 'seed',
    expiresAt: new Date(Date.now() + 365 * 86_400_000),
  });
}

/**
 * Seeds the demo tenant (slug `demo`) with users for every role, contacts and deals across
 * the lifecycle. Idempotent: when the tenant exists nothing is written.
 */
export async function seedDemoTenant(ownerPool: pg.Pool): Promise<{ created: boolean }> {
  const result = await createTenant({
    ownerPool,
    slug: DEMO_SLUG,
    name: 'Demo Trading Co. — شركة العرض التجارية',
    adminEmail: 'admin@demo.dealix.local',
    populate: (tx) => populateDemo(tx),
  });
  return { created: result.created };
}
