import type { z } from 'zod';
import type { FlowDefinition, FlowRegistry } from '../flows/flow-definition.ts';

/**
 * What a plugin brings: the action it handles, the schema its payload must satisfy, and
 * the flow (one version or several, for canary) that carries it out.
 */
export interface ActionPlugin {
  action: string;
  description: string;
  payload: z.ZodType<Record<string, unknown>>;
  /** Flow versions; the first is the default, others are reachable through canary. */
  // Each plugin's flow has its own input type; the router only needs names and versions.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each plugin's flow has its own input type
  flows: readonly FlowDefinition<any>[];
}

/**
 * The task router: action → plugin. Registering a plugin registers its flows with the
 * engine, so a run started through the gateway can always be advanced by a worker.
 */
export class TaskRouter {
  readonly #plugins = new Map<string, ActionPlugin>();
  readonly registry: FlowRegistry;

  constructor(registry: FlowRegistry) {
    this.registry = registry;
  }

  register(plugin: ActionPlugin): void {
    if (this.#plugins.has(plugin.action)) throw new Error(`action ${plugin.action} already has a plugin`);
    if (plugin.flows.length === 0) throw new Error(`plugin ${plugin.action} has no flow`);
    for (const flow of plugin.flows) this.registry.register(flow);
    this.#plugins.set(plugin.action, plugin);
  }

  get(action: string): ActionPlugin | undefined {
    return this.#plugins.get(action);
  }

  actions(): string[] {
    return [...this.#plugins.keys()].sort();
  }

  /** The plugin's flow in `version`, or its default flow when that version does not exist. */
  flowFor(plugin: ActionPlugin, version: string | undefined): FlowDefinition {
    return (plugin.flows.find((flow) => flow.version === version) ?? plugin.flows[0]) as FlowDefinition;
  }
}
