import { describe, expect, it } from 'vitest';
import { inboundIdToE164 } from './inbound-phone.ts';

describe('inboundIdToE164', () => {
  it.each([
    // Provider id forms from whatsapp-providers.md §5.
    ['966512345678', '+966512345678'], // Meta wa_id / from
    ['966512345678@c.us', '+966512345678'], // Green API sender, Ultramsg data.from
    ['966512345678@s.whatsapp.net', '+966512345678'],
    ['+966512345678', '+966512345678'],
    ['00966512345678', '+966512345678'],
    ['9660512345678', '+966512345678'], // stray trunk 0 after 966
    ['+966 0 51 234 5678', '+966512345678'],
    ['0512345678', '+966512345678'],
    ['512345678', '+966512345678'],
    ['(051) 234-5678', '+966512345678'],
    ['051.234.5678', '+966512345678'],
    ['٩٦٦٥١٢٣٤٥٦٧٨', '+966512345678'], // Arabic-Indic digits
    ['۰۵۱۲۳۴۵۶۷۸', '+966512345678'], // Extended Arabic-Indic (Persian) digits
    ['966579012345', '+966579012345'], // 057x MVNO range
    ['966112345678', '+966112345678'], // Riyadh landline (WhatsApp Business), validated by libphonenumber
    ['971501234567@c.us', '+971501234567'], // UAE, generic path
    ['+20 100 123 4567', '+201001234567'], // Egypt, generic path
  ])('%s → %s', (input, expected) => expect(inboundIdToE164(input)).toBe(expected));

  it.each([
    '966512345678-1600000000@g.us', // old-style group id
    '120363043968066561@g.us', // group
    '120363043968066561', // bare group id without suffix (Fonnte) is no valid number
    '245849291234567@lid', // linked-device id hides the number
    'status@broadcast',
    '9665123', // too short for a Saudi mobile and no valid landline
    '96651234567890', // too long
    '',
    'abc',
    'Ab3dEf_business_scoped_id',
  ])('refuses %j', (input) => expect(inboundIdToE164(input)).toBeUndefined());
});
