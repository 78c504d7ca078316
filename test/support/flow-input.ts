import { z } from 'zod';

/** For test flows that take whatever input a test hands them (a production flow names its fields). */
export const ZAnyFlowInput = z.record(z.string(), z.unknown());
