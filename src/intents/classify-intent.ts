import type { IntentClassification } from './intents.ts';
import { shippedIntentClassifier, type IntentClassifier } from './intent-classifier.ts';

export interface ClassifyIntentOptions {
  text: string;
  /** Defaults to the classifier trained on the shipped data set. */
  classifier?: IntentClassifier;
}

/**
 * What an inbound message means: intent, confidence, language and why. Pure — no database,
 * no network — so the HTTP route, the CLI and the lifecycle all call it the same way.
 *
 * @example
 * classifyIntent({ text: 'شيلوا رقمي لو سمحت' }).intent // → 'opt_out'
 */
export function classifyIntent(options: ClassifyIntentOptions): IntentClassification {
  return (options.classifier ?? shippedIntentClassifier()).classify(options.text);
}
