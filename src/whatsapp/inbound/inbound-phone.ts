import { toE164 } from '../../contacts/phone.ts';

const ARABIC_INDIC = /[\u0660-\u0669\u06f0-\u06f9]/g;
/** WhatsApp JID suffixes that carry a phone number (`966512345678@c.us`, `…@s.whatsapp.net`). */
const PHONE_JID_SUFFIX = /@(?:c\.us|s\.whatsapp\.net)$/i;
const SAUDI_MOBILE_NSN = /^5\d{8}$/;

/**
 * Turns the sender id a provider puts in a webhook into E.164, or `undefined` when it is not a
 * phone number (a group `…@g.us`, a linked-device `…@lid`, a business-scoped user id, garbage).
 * Follows whatsapp-providers.md §5:
 *
 * 1. Arabic-Indic digits (٠-٩, ۰-۹) → ASCII.
 * 2. Strip spaces, `-`, `(`, `)`, `.` and a `@c.us`/`@s.whatsapp.net` suffix; reject `@g.us`,
 *    `@lid` and any other `@server` (broadcast lists, newsletters).
 * 3. Drop a leading `+` or `00`.
 * 4. Saudi: `966…` (one stray trunk `0` after 966 is dropped: `96605…`), `05XXXXXXXX`, `5XXXXXXXX`.
 *    A 9-digit NSN starting with 5 is a mobile and is accepted with the loose `^5\d{8}$` rather
 *    than libphonenumber's range list, so a customer on a newly allocated MVNO range is not lost
 *    to outdated metadata. Other Saudi NSNs (landlines used by WhatsApp Business) go through
 *    libphonenumber.
 * 5. Anything else is international: `toE164('+' + digits)`, which validates it.
 *
 * Unlike `toE164` for typed input, an inbound id is never read as a local number of some
 * default country except the Saudi forms above: providers send international digits.
 *
 * @example
 * inboundIdToE164('966512345678@c.us') // '+966512345678'
 * inboundIdToE164('٠٥١٢٣٤٥٦٧٨')        // '+966512345678'
 * inboundIdToE164('120363025@g.us')     // undefined
 */
export function inboundIdToE164(id: string): string | undefined {
  const ascii = id.trim().replace(ARABIC_INDIC, (digit) => String((digit.codePointAt(0) ?? 0) & 0xf));
  const withoutPhoneSuffix = ascii.replace(PHONE_JID_SUFFIX, '');
  // Any remaining `@` is a non-phone JID server: g.us (group), lid (hidden number), broadcast…
  if (withoutPhoneSuffix.includes('@')) return undefined;

  let digits = withoutPhoneSuffix.replace(/[\s\-().]/g, '');
  if (digits.startsWith('+')) digits = digits.slice(1);
  else if (digits.startsWith('00')) digits = digits.slice(2);
  if (!/^\d+$/.test(digits)) return undefined;

  const saudiNsn = saudiNationalNumber(digits);
  if (saudiNsn !== undefined) {
    if (SAUDI_MOBILE_NSN.test(saudiNsn)) return `+966${saudiNsn}`;
    return toE164(`+966${saudiNsn}`);
  }
  return toE164(`+${digits}`);
}

/** The Saudi national significant number (without 966 and trunk 0), or undefined if not Saudi. */
function saudiNationalNumber(digits: string): string | undefined {
  if (digits.startsWith('966')) {
    const rest = digits.slice(3);
    // `+966 05…` is a common mistake (international prefix plus the domestic trunk 0).
    return rest.startsWith('0') ? rest.slice(1) : rest;
  }
  if (/^05\d{8}$/.test(digits)) return digits.slice(1);
  if (SAUDI_MOBILE_NSN.test(digits)) return digits;
  return undefined;
}
