// A typed client for spasm-triage: `paths` and `components` are generated from
// openapi/openapi.json by openapi-typescript (`npm run generate` -> src/schema.d.ts).
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];
export type TriageRequest = Schemas["TriageRequest"];
export type TriageResponse = Schemas["TriageResponse"];
export type Answers = Schemas["Answers"];
export type Problem = Schemas["Problem"];
export type Level = Schemas["Level"];

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  baseUrl: string;
  /** Sent as `X-API-Key` when the deployment requires keys. */
  apiKey?: string | undefined;
}

export function triageClient({ baseUrl, apiKey }: ClientOptions): Client<paths> {
  const headers: Record<string, string> = {};
  if (apiKey !== undefined && apiKey !== "") {
    headers["X-API-Key"] = apiKey;
  }
  return createClient<paths>({ baseUrl, headers });
}

/**
 * A deprecated answer code or value the server accepted and mapped to its replacement.
 * Declared here rather than taken from the generated schema so that the client compiles
 * against the types of older releases too (2026.11.0 had no `warnings`).
 */
export interface DeprecationWarning {
  code: string;
  answer: string;
  value?: string;
  replaced_by: string[];
  since: string;
  sunset?: string;
  message: string;
}

/** What a response says about deprecated inputs: body warnings plus the RFC 9745 / 8594 headers. */
export interface DeprecationNotice {
  warnings: DeprecationWarning[];
  /** `Deprecation` header (`@<unix seconds>`), when any input was deprecated. */
  deprecation: string | null;
  /** `Sunset` header (an HTTP date), when a deprecated input has a planned removal. */
  sunset: string | null;
}

/**
 * Read the deprecation notice of a triage response. Forms should log or alert on a non-empty
 * one: the answers still work today, but the form should move to `replaced_by` before `sunset`.
 */
export function deprecationNotice(body: unknown, headers: Headers): DeprecationNotice {
  const raw = (body as { warnings?: unknown } | null)?.warnings;
  const warnings = Array.isArray(raw) ? (raw as DeprecationWarning[]) : [];
  return { warnings, deprecation: headers.get("deprecation"), sunset: headers.get("sunset") };
}
