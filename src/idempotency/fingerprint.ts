import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { findInputIssue } from '../http/json-input.ts';

/**
 * SHA-256 over method, path and the RFC 8785 canonical form of the JSON body, so the same
 * request with keys reordered or spacing changed has the same fingerprint. A body that is
 * not JSON is hashed as sent (the request will fail validation and store nothing anyway).
 *
 * So is JSON every route refuses (src/http/json-input.ts: lone surrogates, U+0000, too deep,
 * too many values). It runs before validation, and canonicalize recurses: on a body nested
 * thousands deep it would overflow, or not, depending on the stack left at the call.
 */
export function requestFingerprint(method: string, path: string, rawBody: string): string {
  let canonicalBody = rawBody;
  if (rawBody.trim() !== '') {
    try {
      const body: unknown = JSON.parse(rawBody);
      canonicalBody = findInputIssue(body) ? rawBody : (canonicalize(body) ?? rawBody);
    } catch {
      canonicalBody = rawBody;
    }
  }
  return createHash('sha256').update(`${method.toUpperCase()}\n${path}\n${canonicalBody}`).digest('hex');
}
