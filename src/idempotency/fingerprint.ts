import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * SHA-256 over method, path and the RFC 8785 canonical form of the JSON body, so the same
 * request with keys reordered or spacing changed has the same fingerprint. A body that is
 * not JSON is hashed as sent (the request will fail validation and store nothing anyway).
 */
export function requestFingerprint(method: string, path: string, rawBody: string): string {
  let canonicalBody = rawBody;
  if (rawBody.trim() !== '') {
    try {
      canonicalBody = canonicalize(JSON.parse(rawBody)) ?? rawBody;
    } catch {
      canonicalBody = rawBody;
    }
  }
  return createHash('sha256').update(`${method.toUpperCase()}\n${path}\n${canonicalBody}`).digest('hex');
}
