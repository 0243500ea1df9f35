import type { Tool } from '@modelcontextprotocol/server';
import { TOOLS, toolJsonSchema } from '@qsys-mcp/contracts';
import type { ToolDefinition, ToolName } from '@qsys-mcp/contracts';
import type { ToolContext, ToolHandlers } from './types.js';

/** A tool ready to serve: its contract, its `tools/list` entry and its handler. */
export interface RegisteredTool {
  readonly name: ToolName;
  readonly definition: ToolDefinition;
  /** The `tools/list` entry (JSON Schemas computed once). */
  readonly listing: Tool;
  /** The advertised output JSON Schema, handed to the SDK's result projection. */
  readonly outputSchemaJson: Record<string, unknown>;
  /** A one-line correction hint for invalid arguments, naming the expected arguments. */
  readonly suggestion: string;
  /** Runs the handler on arguments already validated by `definition.input`. */
  readonly run: (args: unknown, ctx: ToolContext) => Promise<unknown>;
}

/** Every tool of the gateway, looked up by name. */
export interface ToolRegistry {
  /** The `tools/list` answer, built once. */
  readonly listing: readonly Tool[];
  /** The tool called `name`, or undefined. */
  get(name: string): RegisteredTool | undefined;
}

type JsonObject = Record<string, unknown>;

// anyOf instead of `type` arrays (toolJsonSchema), so single-`type` clients accept every tool.
const toJsonSchema = toolJsonSchema;

function suggestionFor(inputSchema: JsonObject): string {
  const properties = Object.keys((inputSchema.properties as JsonObject | undefined) ?? {});
  if (properties.length === 0) return 'This tool takes no arguments; call it with {}.';
  const required = new Set((inputSchema.required as string[] | undefined) ?? []);
  const args = properties.map((p) => (required.has(p) ? p : `${p}?`)).join(', ');
  return `Expected arguments: ${args} (no others); see the tool's inputSchema in tools/list.`;
}

/**
 * Builds the registry from `TOOLS` of `@qsys-mcp/contracts` and one handler per tool. Converts
 * the zod schemas to JSON Schema here, once at start-up, so no request rebuilds them.
 */
export function createToolRegistry(handlers: ToolHandlers): ToolRegistry {
  const byName = new Map<string, RegisteredTool>();
  for (const name of Object.keys(TOOLS) as ToolName[]) {
    const definition: ToolDefinition = TOOLS[name];
    const inputSchema = toJsonSchema(definition.input, 'input');
    const outputSchemaJson = toJsonSchema(definition.output, 'output');
    const listing: Tool = {
      name,
      title: definition.title,
      description: definition.description,
      inputSchema: { ...inputSchema, type: 'object' },
      outputSchema: { ...outputSchemaJson, type: 'object' },
      annotations: { title: definition.title, ...definition.annotations },
    };
    // Each handler is typed by its own tool's input; the registry only calls it with
    // arguments that passed that tool's schema.
    const handler = handlers[name] as (args: unknown, ctx: ToolContext) => Promise<unknown>;
    byName.set(name, Object.freeze({ name, definition, listing, outputSchemaJson, suggestion: suggestionFor(inputSchema), run: handler }));
  }
  const listing = Object.freeze([...byName.values()].map((t) => t.listing));
  return { listing, get: (name) => byName.get(name) };
}
