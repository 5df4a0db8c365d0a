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
