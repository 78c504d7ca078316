import { INTENT_VALUES, type Intent } from './intents.ts';
import { findCues } from './cues.ts';
import { detectLanguage } from './language.ts';
import { tokenize } from './normalize.ts';
import { phoneticSkeleton } from './skeleton.ts';

/**
 * A multinomial logistic regression (softmax) over sparse text features, written out here
 * because it is small (no dependency): TF-IDF weighted character n-grams inside word
 * boundaries (so "الاسعار" and "اسعاركم" share most of their features and typos cost little),
 * words, word bigrams, light Arabic stems, sound skeletons that Arabic and Arabizi spellings
 * share (skeleton.ts), the length, and cue words (cues.ts). Trained by SGD in a seeded order,
 * so the same data always gives the same weights; a few epochs with a decaying rate are the
 * regulariser (L2 is there, off by default: cross-validation found no gain).
 */
export interface IntentModelOptions {
  /** Shortest and longest character n-gram, counted over " word " (padded with spaces). */
  minNgram: number;
  maxNgram: number;
  epochs: number;
  /** The first epoch's step size; epoch e uses learningRate / (1 + e / 10). */
  learningRate: number;
  /** L2 penalty per step (applied lazily); 0 turns it off. */
  l2: number;
  /** Seeds the example order of every epoch. */
  seed: number;
  /** How many times a cue word counts (see cues.ts); 0 turns cues off. */
  cueWeight: number;
}

/** Chosen by 5-fold cross-validation on the train split (never the test split). */
export const DEFAULT_MODEL_OPTIONS: IntentModelOptions = { minNgram: 2, maxNgram: 4, epochs: 20, learningRate: 3, l2: 0, seed: 20_260_101, cueWeight: 6 };

export interface LabelledText {
  /** Normalised text (see normalize.ts). */
  normalized: string;
  intent: Intent;
}

export interface IntentScore {
  intent: Intent;
  probability: number;
}

export interface IntentModel {
  /** Every intent's probability for the normalised text, most likely first. */
  predict(normalized: string): IntentScore[];
  /** How many distinct features the model knows. */
  readonly featureCount: number;
}

type FeatureOptions = Pick<IntentModelOptions, 'minNgram' | 'maxNgram' | 'cueWeight'>;

/**
 * Features are 32-bit FNV-1a hashes, not strings: a message has a few hundred of them and
 * hashing character ranges in place saves building a substring for each, which is most of
 * the classifier's time otherwise. With some 10⁵ features a collision is rare, and when one
 * happens it is the same for every run (deterministic).
 */
const FNV_OFFSET = 2_166_136_261;
const FNV_PRIME = 16_777_619;

function hashRange(text: string, start: number, end: number, hash: number): number {
  let h = hash;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}
const hashOf = (kind: number, text: string) => hashRange(text, 0, text.length, Math.imul(FNV_OFFSET ^ kind, FNV_PRIME)) >>> 0;

// One namespace per kind of feature, so a word and a bigram that spell alike stay apart.
const KIND = { ngram: 1, word: 2, stem: 3, skeleton: 4, bigram: 5, length: 6, cue: 7, cuePair: 8 } as const;

/**
 * Calls `visit` for every feature of one normalised message (as a hash), with its weight (a
 * feature seen twice is visited twice): character n-grams of " word ", the word, its light
 * Arabic stem, its sound skeleton (Arabic and Arabizi only), word bigrams, the length, and
 * cue words (see cues.ts) and pairs of them.
 */
export function visitFeatures(normalized: string, options: FeatureOptions, visit: (feature: number, weight: number) => void): void {
  const tokens = tokenize(normalized);
  // English words get no sound skeleton: "call" would meet "كل".
  const latinIsArabic = detectLanguage(normalized) !== 'en';
  for (const token of tokens) {
    const padded = ` ${token} `;
    for (let n = options.minNgram; n <= options.maxNgram; n++) {
      const seed = Math.imul(FNV_OFFSET ^ KIND.ngram ^ (n << 8), FNV_PRIME);
      for (let start = 0; start + n <= padded.length; start++) visit(hashRange(padded, start, start + n, seed) >>> 0, 1);
    }
    visit(hashOf(KIND.word, token), 1);
    const stem = arabicStem(token);
    if (stem !== token) visit(hashOf(KIND.stem, stem), 1);
    const skeleton = phoneticSkeleton(token);
    if (skeleton !== undefined && (latinIsArabic || !LATIN.test(token))) visit(hashOf(KIND.skeleton, skeleton), 1);
  }
  for (let i = 0; i <= tokens.length; i++) visit(hashOf(KIND.bigram, `${tokens[i - 1] ?? '^'} ${tokens[i] ?? '$'}`), 1);
  visit(hashOf(KIND.length, tokens.length >= 6 ? '6+' : String(tokens.length)), 1);
  const cues = findCues(normalized, latinIsArabic);
  // No cue word at all is evidence too: small talk and off-topic messages have none.
  if (cues.length === 0) cues.push('none');
  for (const cue of cues) visit(hashOf(KIND.cue, cue), options.cueWeight);
  // Pairs of cues, so that the linear model can weigh combinations ("if" + "sign" is haggling).
  for (let i = 0; i < cues.length; i++) for (let j = i + 1; j < cues.length; j++) visit(hashOf(KIND.cuePair, `${cues[i]}+${cues[j]}`), 1);
}

const LATIN = /[a-z]/;

/**
 * The features (hashes) of one normalised message and how often each occurs.
 *
 * @example
 * extractFeatures('كم السعر', DEFAULT_MODEL_OPTIONS).size // → 33
 */
export function extractFeatures(normalized: string, options: FeatureOptions): Map<number, number> {
  const counts = new Map<number, number>();
  visitFeatures(normalized, options, (feature, weight) => counts.set(feature, (counts.get(feature) ?? 0) + weight));
  return counts;
}

// Clitics in front (و ف ب ل ك and the article) and possessive/object endings.
const ARABIC_CLITIC_PREFIX = /^(?:وال|فال|بال|كال|لل|ال|و|ف|ب|ل)(?=[\u0621-\u064A]{3,})/u;
const ARABIC_SUFFIX = /(?:هم|ها|كم|نا|ه|ي|ك)$/u;

/** A light Arabic stem: "بالعقد" → "عقد", "اسعاركم" → "اسعار". Non-Arabic tokens come back unchanged. */
export function arabicStem(token: string): string {
  if (!/^[\u0621-\u064A]+$/u.test(token)) return token;
  const bare = token.replace(ARABIC_CLITIC_PREFIX, '');
  return bare.length > 3 ? bare.replace(ARABIC_SUFFIX, '') : bare;
}

interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

/** Trains the model on labelled, normalised texts. Deterministic: same input, same model. */
export function trainIntentModel(examples: readonly LabelledText[], options: IntentModelOptions = DEFAULT_MODEL_OPTIONS): IntentModel {
  const labels = INTENT_VALUES;
  const classCount = labels.length;
  const labelIndex = new Map<Intent, number>(labels.map((label, index) => [label, index]));

  // Vocabulary and document frequencies from the training texts only.
  const vocabulary = new Map<number, number>();
  const documentFrequency: number[] = [];
  const featureCounts = examples.map((example) => extractFeatures(example.normalized, options));
  for (const counts of featureCounts) {
    for (const feature of counts.keys()) {
      let index = vocabulary.get(feature);
      if (index === undefined) {
        index = vocabulary.size;
        vocabulary.set(feature, index);
        documentFrequency.push(0);
      }
      documentFrequency[index] = (documentFrequency[index] ?? 0) + 1;
    }
  }
  const idf = Float64Array.from(documentFrequency, (df) => Math.log((1 + examples.length) / (1 + df)) + 1);
  // TF-IDF with sublinear counts, L2-normalised.
  const vectorize = (counts: Map<number, number>): SparseVector => {
    const indices: number[] = [];
    const values: number[] = [];
    let norm = 0;
    for (const [index, count] of counts) {
      const value = (1 + Math.log(count)) * (idf[index] ?? 1);
      indices.push(index);
      values.push(value);
      norm += value * value;
    }
    norm = Math.sqrt(norm) || 1;
    return { indices: Int32Array.from(indices), values: Float64Array.from(values, (value) => value / norm) };
  };
  const byIndex = (counts: Map<number, number>) => new Map([...counts].map(([feature, count]) => [vocabulary.get(feature) as number, count]));
  const vectors = featureCounts.map((counts) => vectorize(byIndex(counts)));
  const targets = examples.map((example) => labelIndex.get(example.intent) ?? 0);

  const featureCount = vocabulary.size;
  const weights = new Float64Array(featureCount * classCount);
  const bias = new Float64Array(classCount);
  // L2 shrinkage is applied lazily: a feature's row catches up on the steps it missed when
  // it is next touched, so a step costs O(features in the message), not O(vocabulary).
  const lastStep = new Int32Array(featureCount);
  const scores = new Float64Array(classCount);
  const random = seededRandom(options.seed);
  const order = examples.map((_example, index) => index);

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const rate = options.learningRate / (1 + epoch * 0.1);
    const logShrink = Math.log(1 - rate * options.l2);
    shuffle(order, random);
    let step = 0;
    lastStep.fill(0);
    for (const exampleIndex of order) {
      step++;
      const { indices, values } = vectors[exampleIndex] as SparseVector;
      for (let k = 0; options.l2 > 0 && k < indices.length; k++) {
        const feature = indices[k] as number;
        const missed = step - (lastStep[feature] as number);
        if (missed > 0) {
          const factor = Math.exp(logShrink * missed);
          const row = feature * classCount;
          for (let c = 0; c < classCount; c++) weights[row + c] = (weights[row + c] as number) * factor;
          lastStep[feature] = step;
        }
      }
      softmaxScores(indices, values, weights, bias, classCount, scores);
      const target = targets[exampleIndex] as number;
      for (let c = 0; c < classCount; c++) {
        const gradient = (scores[c] as number) - (c === target ? 1 : 0);
        if (gradient === 0) continue;
        bias[c] = (bias[c] as number) - rate * gradient;
        for (let k = 0; k < indices.length; k++) {
          const position = (indices[k] as number) * classCount + c;
          weights[position] = (weights[position] as number) - rate * gradient * (values[k] as number);
        }
      }
    }
    // Catch every row up to the end of the epoch.
    for (let feature = 0; options.l2 > 0 && feature < featureCount; feature++) {
      const missed = step - (lastStep[feature] as number);
      if (missed <= 0) continue;
      const factor = Math.exp(logShrink * missed);
      const row = feature * classCount;
      for (let c = 0; c < classCount; c++) weights[row + c] = (weights[row + c] as number) * factor;
    }
  }

  // Prediction reuses scratch space: classify is synchronous, so one message at a time.
  const lookup = createFeatureLookup(vocabulary);
  const counts = new Float64Array(featureCount);
  const touched: number[] = [];
  const values: number[] = [];
  const count = (feature: number, weight: number) => {
    const index = lookup(feature);
    if (index < 0) return;
    if (counts[index] === 0) touched.push(index);
    counts[index] = (counts[index] as number) + weight;
  };

  return {
    featureCount,
    predict(normalized: string): IntentScore[] {
      visitFeatures(normalized, options, count);
      let norm = 0;
      for (const index of touched) {
        const value = (1 + Math.log(counts[index] as number)) * (idf[index] as number);
        values.push(value);
        norm += value * value;
        counts[index] = 0;
      }
      norm = Math.sqrt(norm) || 1;
      const probabilities = new Float64Array(classCount);
      softmaxScores(Int32Array.from(touched), Float64Array.from(values, (value) => value / norm), weights, bias, classCount, probabilities);
      touched.length = 0;
      values.length = 0;
      return labels
        .map((intent, index) => ({ intent, probability: probabilities[index] as number }))
        .sort((a, b) => b.probability - a.probability);
    },
  };
}

/**
 * Feature hash → vocabulary index (or -1), as an open-addressing table in typed arrays: the
 * lookup runs a few hundred times per message, and a Map costs several times as much.
 */
function createFeatureLookup(vocabulary: ReadonlyMap<number, number>): (feature: number) => number {
  let capacity = 16;
  while (capacity < vocabulary.size * 2) capacity *= 2;
  const mask = capacity - 1;
  const keys = new Uint32Array(capacity);
  const slots = new Int32Array(capacity).fill(-1);
  const home = (feature: number) => (feature ^ (feature >>> 15)) & mask;
  for (const [feature, index] of vocabulary) {
    let slot = home(feature);
    while ((slots[slot] as number) >= 0) slot = (slot + 1) & mask;
    keys[slot] = feature;
    slots[slot] = index;
  }
  return (feature) => {
    let slot = home(feature);
    for (;;) {
      const index = slots[slot] as number;
      if (index < 0 || keys[slot] === feature) return index;
      slot = (slot + 1) & mask;
    }
  };
}

/** Writes softmax(bias + W·x) into `out`. */
function softmaxScores(indices: Int32Array, values: Float64Array, weights: Float64Array, bias: Float64Array, classCount: number, out: Float64Array): void {
  out.set(bias);
  for (let k = 0; k < indices.length; k++) {
    const row = (indices[k] as number) * classCount;
    const value = values[k] as number;
    for (let c = 0; c < classCount; c++) out[c] = (out[c] as number) + value * (weights[row + c] as number);
  }
  let max = -Infinity;
  for (let c = 0; c < classCount; c++) max = Math.max(max, out[c] as number);
  let sum = 0;
  for (let c = 0; c < classCount; c++) {
    const e = Math.exp((out[c] as number) - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < classCount; c++) out[c] = (out[c] as number) / sum;
}

/** mulberry32: a small, fast, seedable PRNG; Math.random would make training unrepeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
