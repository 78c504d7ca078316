/**
 * A script-independent sound skeleton of a word, so that Arabizi and Arabic spellings of the
 * same word meet: "as3ar" and "الاسعار" both become "S3R", "ra8am" and "رقم" "RGM", "wagif"
 * and "وقف" "GF", "mashghool" and "مشغول" "MXWL". Vowels and long-vowel letters are dropped
 * (Arabic script does not write short vowels, Arabizi does), emphatic and plain consonants
 * share a class (ط/ت, ص/س, ض/د, ح/ه) because Arabizi writers do not distinguish them
 * consistently, and ق shares one with g (Gulf pronunciation: "ra8am", "rgm", "raqam").
 */

const ARABIC_CLASSES: Record<string, string> = {
  'ب': 'B', 'ت': 'T', 'ط': 'T', 'ث': 'Z', 'ذ': 'Z', 'ز': 'Z', 'ظ': 'Z', 'ج': 'J', 'ح': 'H', 'ه': 'H', 'خ': '5', 'د': 'D',
  'ض': 'D', 'ر': 'R', 'س': 'S', 'ص': 'S', 'ش': 'X', 'ع': '3', 'غ': 'W', 'ف': 'F', 'ق': 'G', 'ك': 'K', 'ل': 'L', 'م': 'M',
  'ن': 'N', 'پ': 'B', 'چ': 'X', 'ڤ': 'F', 'گ': 'G',
};

// Digraphs are tried before single letters.
const LATIN_CLASSES: Array<[string, string]> = [
  ['kh', '5'], ['gh', 'W'], ['sh', 'X'], ['ch', 'X'], ['th', 'Z'], ['dh', 'Z'], ['ph', 'F'],
  ['b', 'B'], ['p', 'B'], ['t', 'T'], ['6', 'T'], ['z', 'Z'], ['j', 'J'], ['7', 'H'], ['h', 'H'], ['5', '5'], ['x', '5'],
  ['d', 'D'], ['r', 'R'], ['s', 'S'], ['9', 'S'], ['c', 'K'], ['3', '3'], ['f', 'F'], ['v', 'F'], ['q', 'G'], ['8', 'G'],
  ['g', 'G'], ['k', 'K'], ['l', 'L'], ['m', 'M'], ['n', 'N'],
];

const LATIN_DIGRAPHS = new Map(LATIN_CLASSES.filter(([letters]) => letters.length === 2));
const LATIN_LETTERS = new Map(LATIN_CLASSES.filter(([letters]) => letters.length === 1));

const ARABIC_WORD = /^[\u0621-\u064A]+$/u;
const ARABIC_ARTICLE = /^(?:وال|فال|بال|كال|لل|ال)(?=[\u0621-\u064A]{2,})/u;

/**
 * The skeleton of one normalised token, or undefined when nothing is left (a vowel-only
 * word) or the token is neither Arabic letters nor Latin letters and digits.
 *
 * @example
 * phoneticSkeleton('as3ar') // → 'S3R'
 * phoneticSkeleton('الاسعار') // → 'S3R'
 */
export function phoneticSkeleton(token: string): string | undefined {
  let classes = '';
  if (ARABIC_WORD.test(token)) {
    // Final ه is nearly always a taa marbuta ("فاتوره"), which Arabizi writes as a vowel.
    const word = token.replace(ARABIC_ARTICLE, '').replace(/(?<=..)ه$/u, '');
    for (const letter of word) classes += ARABIC_CLASSES[letter] ?? '';
  } else if (/^[a-z0-9]+$/.test(token) && /[a-z]/.test(token)) {
    const word = token.replace(/^(?:el|al|il)(?=[a-z0-9]{3,})/, '');
    let i = 0;
    while (i < word.length) {
      const digraph = LATIN_DIGRAPHS.get(word.slice(i, i + 2));
      if (digraph !== undefined) {
        classes += digraph;
        i += 2;
      } else {
        classes += LATIN_LETTERS.get(word[i] as string) ?? '';
        i++;
      }
    }
  } else return undefined;
  const collapsed = classes.replace(/(.)\1+/g, '$1');
  return collapsed.length > 0 ? collapsed : undefined;
}
