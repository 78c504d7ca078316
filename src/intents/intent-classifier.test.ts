import { describe, expect, it } from 'vitest';
import { classifyIntent } from './classify-intent.ts';
import { loadDataset } from './dataset.ts';
import { evaluateClassifier, formatEvaluation } from './evaluate.ts';
import { createIntentClassifier, shippedIntentClassifier } from './intent-classifier.ts';
import { INTENT_VALUES } from './intents.ts';

const messages = loadDataset();
const train = messages.filter((m) => m.split === 'train');
const test = messages.filter((m) => m.split === 'test');

describe('the classifier', () => {
  it('answers intent, confidence, language and reason in every script', () => {
    expect(classifyIntent({ text: 'كم سعر الباقه السنويه؟' })).toMatchObject({ intent: 'price_inquiry', language: 'ar' });
    expect(classifyIntent({ text: 'can we book a demo tomorrow at 11?' })).toMatchObject({ intent: 'meeting_request', language: 'en' });
    expect(classifyIntent({ text: 'abgha as3ar el ba8at' })).toMatchObject({ intent: 'price_inquiry', language: 'arabizi' });
    expect(classifyIntent({ text: 'ابغى demo بكرة' })).toMatchObject({ intent: 'meeting_request', language: 'mixed' });
    const result = classifyIntent({ text: 'ana mo mohtam, mashkoor' });
    expect(result.intent).toBe('not_interested');
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(result.reason).toMatch(/^model: not_interested/);
  });

  it('reads the rules before the model', () => {
    expect(classifyIntent({ text: 'تم التحويل' })).toEqual({
      intent: 'payment_confirmation',
      confidence: 0.97,
      language: 'ar',
      reason: 'rule payment_confirmation: says the payment or transfer was made',
    });
  });

  it('answers unknown below the confidence threshold, and says what it would have been', () => {
    const strict = createIntentClassifier({ examples: train, threshold: 0.999 });
    const result = strict.classify('I think we might need something like this for the team');
    expect(result.intent).toBe('unknown');
    expect(result.confidence).toBeLessThan(0.999);
    expect(result.reason).toMatch(/^low confidence: would have been (\w+) \(/);
    const wouldHaveBeen = /would have been (\w+)/.exec(result.reason)?.[1];
    expect(INTENT_VALUES).toContain(wouldHaveBeen);
    expect(wouldHaveBeen).not.toBe('unknown');
    // Rules are not subject to the threshold: an opt-out is never left to chance.
    expect(strict.classify('stop').intent).toBe('opt_out');
  });

  it('answers unknown with confidence 0 when nothing is left to read', () => {
    expect(classifyIntent({ text: '😂😂 !!!' })).toMatchObject({ intent: 'unknown', confidence: 0 });
  });

  // How fast it trains is a figure for the bench (npm run eval:intents prints it), not a test.
  it('trains deterministically from the train split', () => {
    const first = createIntentClassifier({ examples: train });
    const second = createIntentClassifier({ examples: train });
    for (const message of test.slice(0, 50)) expect(second.scores(message.text)).toEqual(first.scores(message.text));
  });
});

describe('evaluation on the test split', () => {
  it('reaches macro-F1 ≥ 0.90 and opt_out recall 1.0 (the same figures as npm run eval:intents)', () => {
    const evaluation = evaluateClassifier(shippedIntentClassifier(), test);
    const report = formatEvaluation(evaluation, { showErrors: true });
    expect(evaluation.total).toBe(test.length);
    expect(evaluation.optOutRecall, report).toBe(1);
    expect(evaluation.macroF1, report).toBeGreaterThanOrEqual(0.9);
  });
});
