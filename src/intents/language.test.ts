import { describe, expect, it } from 'vitest';
import { detectLanguage } from './language.ts';
import { normalizeText } from './normalize.ts';

const language = (text: string) => detectLanguage(normalizeText(text));

describe('detectLanguage', () => {
  it('reads Arabic script as ar (Gulf or MSA)', () => {
    expect(language('ابغى اعرف كم السعر')).toBe('ar');
    expect(language('نود الاستفسار عن الأسعار')).toBe('ar');
  });

  it('reads English as en', () => {
    expect(language('how much does it cost?')).toBe('en');
    expect(language('call me at 3pm')).toBe('en');
    expect(language('we need this in Q3')).toBe('en');
  });

  it('reads Arabic in Latin letters and digits as arabizi', () => {
    expect(language('abgha as3ar')).toBe('arabizi');
    expect(language('mashkoor')).toBe('arabizi');
    expect(language('7ayak')).toBe('arabizi');
    expect(language('ana mo mohtam')).toBe('arabizi');
    expect(language("3'ali wayed")).toBe('arabizi');
  });

  it('reads Arabic script with Latin words, or plenty of both Arabizi and English, as mixed', () => {
    expect(language('ابغى demo بكرة')).toBe('mixed');
    expect(language('تدعمون الربط مع SAP؟')).toBe('mixed');
    expect(language('abgha the price for el ba8a, can you send it')).toBe('mixed');
  });

  it('answers ar for a message without letters (the market default)', () => {
    expect(language('👍')).toBe('ar');
    expect(language('٥٠٠٠')).toBe('ar');
  });
});
