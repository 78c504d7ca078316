import { describe, expect, it } from 'vitest';
import { loadDataset } from './dataset.ts';
import { INTENT_VALUES, LANGUAGE_VALUES } from './intents.ts';
import { normalizeText } from './normalize.ts';

const messages = loadDataset();

describe('the shipped data set (data/intents/messages.jsonl)', () => {
  it('has at least 700 messages, every intent at least 35 times, opt_out the most', () => {
    expect(messages.length).toBeGreaterThanOrEqual(700);
    const counts = new Map(INTENT_VALUES.map((intent) => [intent, messages.filter((m) => m.intent === intent).length]));
    for (const intent of INTENT_VALUES) expect(counts.get(intent), intent).toBeGreaterThanOrEqual(35);
    expect(Math.max(...counts.values())).toBe(counts.get('opt_out'));
  });

  it('covers Arabic script, English, Arabizi and mixed messages for every intent', () => {
    for (const intent of INTENT_VALUES) {
      for (const script of LANGUAGE_VALUES) {
        expect(messages.filter((m) => m.intent === intent && m.script === script).length, `${intent}/${script}`).toBeGreaterThanOrEqual(5);
      }
    }
  });

  it('has a fixed split of about 80/20 within every intent and script', () => {
    for (const intent of INTENT_VALUES) {
      for (const script of LANGUAGE_VALUES) {
        const group = messages.filter((m) => m.intent === intent && m.script === script);
        const share = group.filter((m) => m.split === 'test').length / group.length;
        expect(share, `${intent}/${script}`).toBeGreaterThan(0.1);
        expect(share, `${intent}/${script}`).toBeLessThan(0.3);
      }
    }
  });

  it('never has the same message (after normalisation) twice, so no test message leaks into training', () => {
    const seen = new Map<string, string>();
    for (const message of messages) {
      const normalized = normalizeText(message.text);
      expect(seen.get(normalized), `${message.id} repeats ${seen.get(normalized)}`).toBeUndefined();
      seen.set(normalized, message.id);
    }
  });
});
