import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { INTENT_VALUES, LANGUAGE_VALUES } from './intents.ts';

/** The labelled messages the repository ships: the model's training data and its test set. */
export const DATASET_PATH = fileURLToPath(new URL('../../data/intents/messages.jsonl', import.meta.url));

export const ZLabelledMessage = z.strictObject({
  id: z.string().min(1),
  text: z.string().min(1),
  intent: z.enum(INTENT_VALUES),
  /** The writing the message is in, as a person labelled it. */
  script: z.enum(LANGUAGE_VALUES),
  /** Fixed when the message was added (stratified by intent and script); never re-drawn. */
  split: z.enum(['train', 'test']),
});
export type TLabelledMessage = z.infer<typeof ZLabelledMessage>;

/**
 * Reads and validates a JSONL data set (one message a line), refusing duplicate ids.
 *
 * @example
 * const train = loadDataset().filter((message) => message.split === 'train');
 */
export function loadDataset(path: string = DATASET_PATH): TLabelledMessage[] {
  const messages: TLabelledMessage[] = [];
  const ids = new Set<string>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const parsed = ZLabelledMessage.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path}:${index + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
      if (ids.has(parsed.data.id)) throw new Error(`${path}:${index + 1}: duplicate id ${parsed.data.id}`);
      ids.add(parsed.data.id);
      messages.push(parsed.data);
    });
  return messages;
}
