/** The four real WhatsApp providers (SPEC §4), in the default fallback order. */
export { createGreenApiProvider, type GreenApiConfig } from './green-api.ts';
export { createUltramsgProvider, type UltramsgConfig } from './ultramsg.ts';
export { createFonnteProvider, type FonnteConfig } from './fonnte.ts';
export { createMetaCloudProvider, type MetaCloudConfig } from './meta-cloud.ts';
