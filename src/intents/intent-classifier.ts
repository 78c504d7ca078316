import { loadDataset } from './dataset.ts';
import type { Intent, IntentClassification } from './intents.ts';
import { detectLanguage } from './language.ts';
import { DEFAULT_MODEL_OPTIONS, trainIntentModel, type IntentModel, type IntentModelOptions, type LabelledText } from './model.ts';
import { normalizeText } from './normalize.ts';
import { matchRule, stopInAnotherSense } from './rules.ts';

export interface IntentClassifierOptions {
  /** Labelled messages (raw text) to train the model on. */
  examples: ReadonlyArray<{ text: string; intent: Intent }>;
  /** Below this probability the answer is `unknown`, so that a human reads the message. */
  threshold?: number;
  model?: Partial<IntentModelOptions>;
}

export interface IntentClassifier {
  classify(text: string): IntentClassification;
  /** The model's intent probabilities for a text, most likely first (no rules, no threshold). */
  scores(text: string): ReturnType<IntentModel['predict']>;
  readonly threshold: number;
}

/**
 * The threshold with the best macro-F1 in 5-fold cross-validation on the train split
 * (`npm run eval:intents -- --cv --threshold <p>`: 0.30 → 0.928, 0.40 → 0.925, 0.50 → 0.921),
 * chosen there and not on the test split. A higher one sends more messages to a human.
 */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.3;

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Normalisation → high-precision rules (opt-out first) → the statistical model → threshold.
 * Pure: no I/O once built, the same text always gives the same answer.
 *
 * @example
 * const classifier = createIntentClassifier({ examples: [{ text: 'كم السعر؟', intent: 'price_inquiry' }, …] });
 * classifier.classify('bkam el ishtirak?') // → { intent: 'price_inquiry', confidence: 0.83, language: 'arabizi', reason: '…' }
 */
export function createIntentClassifier(options: IntentClassifierOptions): IntentClassifier {
  const threshold = options.threshold ?? DEFAULT_CONFIDENCE_THRESHOLD;
  const training: LabelledText[] = options.examples.map((example) => ({ normalized: normalizeText(example.text), intent: example.intent }));
  const model = trainIntentModel(training, { ...DEFAULT_MODEL_OPTIONS, ...options.model });

  return {
    threshold,
    scores: (text) => model.predict(normalizeText(text)),
    classify(text: string): IntentClassification {
      const normalized = normalizeText(text);
      const language = detectLanguage(normalized);
      if (normalized === '') {
        return { intent: 'unknown', confidence: 0, language, reason: 'nothing left to read after removing emoji and punctuation' };
      }
      const rule = matchRule(normalized);
      if (rule) return { intent: rule.intent, confidence: rule.confidence, language, reason: `rule ${rule.name}: ${rule.description}` };

      let candidates = model.predict(normalized);
      let setAside = '';
      // No opt-out rule matched, so the model's opt_out rests on a word like "stop"; when that
      // word is plainly used in another sense, the next candidate answers instead.
      const otherSense = candidates[0]?.intent === 'opt_out' ? stopInAnotherSense(normalized) : undefined;
      if (otherSense) {
        const optOut = candidates[0]?.probability ?? 0;
        setAside = `; opt_out ${round(optOut)} set aside: ${otherSense}`;
        // The others' probabilities given that it is not an opt-out.
        candidates = candidates.slice(1).map((candidate) => ({ ...candidate, probability: candidate.probability / Math.max(1 - optOut, 1e-9) }));
      }
      const [top, next] = candidates;
      if (!top) return { intent: 'unknown', confidence: 0, language, reason: 'the model has no classes' };
      const runnerUp = `${next ? `, next ${next.intent} ${round(next.probability)}` : ''}${setAside}`;
      if (top.probability < threshold) {
        return {
          intent: 'unknown',
          confidence: round(top.probability),
          language,
          reason: `low confidence: would have been ${top.intent} (${round(top.probability)} < ${threshold})${runnerUp}; a human should read it`,
        };
      }
      return { intent: top.intent, confidence: round(top.probability), language, reason: `model: ${top.intent} ${round(top.probability)}${runnerUp}` };
    },
  };
}

let shipped: IntentClassifier | undefined;

/**
 * The classifier trained on the train split of the data set the repository ships, built on
 * first use (well under a second) and then shared: it holds no per-request state.
 */
export function shippedIntentClassifier(): IntentClassifier {
  shipped ??= createIntentClassifier({ examples: loadDataset().filter((message) => message.split === 'train') });
  return shipped;
}
