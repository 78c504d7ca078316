import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

const ARABIC_INDIC = /[\u0660-\u0669\u06f0-\u06f9]/g;

/**
 * Normalises what people type into E.164. Saudi numbers written locally (05XXXXXXXX) are
 * read as Saudi; Arabic-Indic digits (٠٥٥…) are folded to ASCII first. Returns undefined
 * when the result is not a valid number.
 *
 * @example
 * toE164('055 123 4567') // '+966551234567'
 */
export function toE164(input: string, defaultCountry: 'SA' = 'SA'): string | undefined {
  const ascii = input.replace(ARABIC_INDIC, (digit) => String((digit.codePointAt(0) ?? 0) & 0xf));
  const parsed = parsePhoneNumberFromString(ascii.replace(/^00/, '+'), defaultCountry);
  return parsed?.isValid() ? parsed.number : undefined;
}
