import type { TLabelledMessage } from './dataset.ts';
import { INTENT_VALUES, type Intent, type IntentClassification } from './intents.ts';
import type { IntentClassifier } from './intent-classifier.ts';

export interface IntentMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** How many messages carry this label. */
  support: number;
  /** How many messages the classifier gave this label. */
  predicted: number;
}

export interface IntentEvaluation {
  total: number;
  accuracy: number;
  /** The unweighted mean of the per-intent F1 over all 14 intents. */
  macroF1: number;
  /** The share of opt-out messages answered `opt_out` (must be 1: PDPL). */
  optOutRecall: number;
  perIntent: Record<Intent, IntentMetrics>;
  /** confusion[expected][predicted], in INTENT_VALUES order. */
  confusion: number[][];
  /** Share of messages whose detected language equals the labelled script. */
  languageAgreement: number;
  errors: Array<{ id: string; text: string; expected: Intent; got: Intent; reason: string }>;
}

/**
 * Classifies every message and scores the answers against the labels.
 *
 * @example
 * const result = evaluateClassifier(classifier, messages.filter((m) => m.split === 'test'));
 * result.macroF1 // → 0.93
 */
export function evaluateClassifier(classifier: IntentClassifier, messages: readonly TLabelledMessage[]): IntentEvaluation {
  return scoreClassifications(messages.map((message) => ({ message, result: classifier.classify(message.text) })));
}

/** Scores answers already given (cross-validation pools the answers of every fold here). */
export function scoreClassifications(answers: ReadonlyArray<{ message: TLabelledMessage; result: IntentClassification }>): IntentEvaluation {
  const index = new Map<Intent, number>(INTENT_VALUES.map((intent, i) => [intent, i]));
  const confusion = INTENT_VALUES.map(() => INTENT_VALUES.map(() => 0));
  const errors: IntentEvaluation['errors'] = [];
  let languageMatches = 0;
  for (const { message, result } of answers) {
    const row = confusion[index.get(message.intent) as number] as number[];
    const column = index.get(result.intent) as number;
    row[column] = (row[column] as number) + 1;
    if (result.intent !== message.intent) errors.push({ id: message.id, text: message.text, expected: message.intent, got: result.intent, reason: result.reason });
    if (result.language === message.script) languageMatches++;
  }
  const perIntent = {} as Record<Intent, IntentMetrics>;
  INTENT_VALUES.forEach((intent, i) => {
    const truePositives = confusion[i]?.[i] ?? 0;
    const support = (confusion[i] as number[]).reduce((sum, count) => sum + count, 0);
    const predicted = confusion.reduce((sum, row) => sum + (row[i] as number), 0);
    const precision = predicted === 0 ? 0 : truePositives / predicted;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perIntent[intent] = { precision, recall, f1, support, predicted };
  });
  const total = answers.length;
  const correct = INTENT_VALUES.reduce((sum, _intent, i) => sum + (confusion[i]?.[i] ?? 0), 0);
  return {
    total,
    accuracy: total === 0 ? 0 : correct / total,
    macroF1: INTENT_VALUES.reduce((sum, intent) => sum + perIntent[intent].f1, 0) / INTENT_VALUES.length,
    optOutRecall: perIntent.opt_out.recall,
    perIntent,
    confusion,
    languageAgreement: total === 0 ? 0 : languageMatches / total,
    errors,
  };
}

const ABBREVIATIONS: Record<Intent, string> = {
  greeting: 'greet',
  interested: 'intr',
  price_inquiry: 'price',
  meeting_request: 'meet',
  info_request: 'info',
  objection: 'objn',
  not_now: 'later',
  not_interested: 'notin',
  negotiation: 'nego',
  ready_to_buy: 'buy',
  payment_confirmation: 'paid',
  opt_out: 'optout',
  wrong_contact: 'wrong',
  unknown: 'unk',
};

const fixed = (value: number) => value.toFixed(3);

/** A plain-text report: per-intent precision/recall/F1, macro-F1, opt-out recall, confusion matrix. */
export function formatEvaluation(evaluation: IntentEvaluation, options: { showErrors?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${'intent'.padEnd(22)}${'precision'.padStart(10)}${'recall'.padStart(8)}${'f1'.padStart(8)}${'support'.padStart(9)}`);
  for (const intent of INTENT_VALUES) {
    const m = evaluation.perIntent[intent];
    lines.push(`${intent.padEnd(22)}${fixed(m.precision).padStart(10)}${fixed(m.recall).padStart(8)}${fixed(m.f1).padStart(8)}${String(m.support).padStart(9)}`);
  }
  lines.push('');
  lines.push(`messages          ${evaluation.total}`);
  lines.push(`accuracy          ${fixed(evaluation.accuracy)}`);
  lines.push(`macro-F1          ${fixed(evaluation.macroF1)}`);
  lines.push(`opt_out recall    ${fixed(evaluation.optOutRecall)}`);
  lines.push(`language = script ${fixed(evaluation.languageAgreement)}`);
  lines.push('');
  lines.push('confusion matrix (rows: labelled intent, columns: predicted)');
  const width = 7;
  lines.push(`${''.padEnd(8)}${INTENT_VALUES.map((intent) => ABBREVIATIONS[intent].padStart(width)).join('')}`);
  INTENT_VALUES.forEach((intent, i) => {
    const row = evaluation.confusion[i] as number[];
    lines.push(`${ABBREVIATIONS[intent].padEnd(8)}${row.map((count) => (count === 0 ? '.' : String(count)).padStart(width)).join('')}`);
  });
  if (options.showErrors && evaluation.errors.length > 0) {
    lines.push('');
    lines.push('misclassified:');
    for (const error of evaluation.errors) lines.push(`  ${error.id} ${error.expected} → ${error.got}  ${JSON.stringify(error.text)}  (${error.reason})`);
  }
  return lines.join('\n');
}
