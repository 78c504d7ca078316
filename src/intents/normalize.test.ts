import { describe, expect, it } from 'vitest';
import { asciiDigits, collapseElongation, collapseWhitespace, lowercaseLatin, normalizeText, stripDiacritics, stripSymbols, tokenize, unifyLetters } from './normalize.ts';

describe('normalizeText, rule by rule', () => {
  it('removes Arabic diacritics (tashkeel), Quranic marks and the superscript alef', () => {
    expect(stripDiacritics('السَّلامُ عَلَيْكُمْ')).toBe('السلام عليكم');
    expect(stripDiacritics('شُكْراً')).toBe('شكرا');
    expect(stripDiacritics('هٰذا')).toBe('هذا');
    expect(normalizeText('أُرِيدُ السِّعْرَ')).toBe('اريد السعر');
  });

  it('removes tatweel', () => {
    expect(stripDiacritics('هـــلا')).toBe('هلا');
    expect(normalizeText('مـرحـبـا')).toBe('مرحبا');
  });

  it('collapses letter elongation, keeping doubles a word needs', () => {
    expect(collapseElongation('هلااااا')).toBe('هلا');
    expect(collapseElongation('هلاا')).toBe('هلا');
    expect(collapseElongation('pleeease')).toBe('please');
    expect(collapseElongation('stoppp')).toBe('stop');
    expect(collapseElongation('وقفففف')).toBe('وقف');
    expect(collapseElongation('goooood')).toBe('good');
    expect(collapseElongation('الللله')).toBe('الله');
    expect(collapseElongation('mashkooooor')).toBe('mashkoor');
    // Real doubles of two stay, and digits are never touched.
    expect(collapseElongation('الله')).toBe('الله');
    expect(collapseElongation('meeting')).toBe('meeting');
    expect(collapseElongation('1000')).toBe('1000');
    expect(normalizeText('هلااااا والله')).toBe('هلا والله');
  });

  it('unifies alef/hamza variants, taa marbuta, alef maqsura and Persian letters', () => {
    expect(unifyLetters('أإآٱ')).toBe('اااا');
    expect(unifyLetters('مسؤول')).toBe('مسوول');
    expect(unifyLetters('رسائل')).toBe('رسايل');
    expect(unifyLetters('الفاتورة')).toBe('الفاتوره');
    expect(unifyLetters('على')).toBe('علي');
    expect(unifyLetters('کی')).toBe('كي');
    expect(normalizeText('إلغاء الاشتراك')).toBe('الغاء الاشتراك');
  });

  it('turns Arabic-Indic and Persian digits (and separators) into ASCII', () => {
    expect(asciiDigits('٠١٢٣٤٥٦٧٨٩')).toBe('0123456789');
    expect(asciiDigits('۰۱۲۳۴۵۶۷۸۹')).toBe('0123456789');
    expect(asciiDigits('٢٠٪')).toBe('20%');
    expect(asciiDigits('١٫٥')).toBe('1.5');
    expect(normalizeText('حولنا ٥٠٠٠ ريال')).toBe('حولنا 5000 ريال');
  });

  it('lowercases Latin and spells Arabizi apostrophe letters as digraphs', () => {
    expect(lowercaseLatin('STOP Sending')).toBe('stop sending');
    expect(lowercaseLatin("3'ali")).toBe('ghali');
    expect(lowercaseLatin("7'alas")).toBe('khalas');
    expect(normalizeText("3'ali WAYED")).toBe('ghali wayed');
  });

  it('removes emoji and punctuation but keeps what carries meaning', () => {
    expect(normalizeText('STOP!!! 😡😡')).toBe('stop');
    expect(normalizeText('هلا 👋🏽')).toBe('هلا 👋');
    expect(normalizeText('تمام 👍')).toBe('تمام 👍');
    expect(normalizeText('كم السعر؟')).toBe('كم السعر ?');
    expect(normalizeText("don't stop the offer")).toBe('dont stop the offer');
    expect(normalizeText('non-stop service?')).toBe('non stop service ?');
    expect(normalizeText('we can do 3,000 a month, 15% off, 1.5 years')).toBe('we can do 3000 a month 15% off 1.5 years');
    expect(stripSymbols('(hello)')).toBe(' hello ');
    expect(normalizeText('😂')).toBe('');
  });

  it('collapses whitespace and trims', () => {
    expect(collapseWhitespace('  هلا \n\t والله  ')).toBe('هلا والله');
    expect(normalizeText('\u200Fهلا\u200F   بك')).toBe('هلا بك');
    expect(tokenize(normalizeText('  '))).toEqual([]);
  });

  it('folds presentation forms and full-width letters (NFKC)', () => {
    expect(normalizeText('ﻻ')).toBe('لا');
    expect(normalizeText('ＳＴＯＰ')).toBe('stop');
  });
});
