/**
 * MISP's Action service: `GET /modules` lists one misp-modules action module per trigger (plus
 * the action modules of `FLOWGATE_MISP_MODULES_URL`), `POST /query` runs a trigger's workflows and
 * answers MISP's shapes (reference §5).
 *
 * @module
 */

import { Hono } from "hono";
import type { JsonObject } from "../../engine/model.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import type { TriggerDefinition } from "../../triggers/trigger.ts";
import { mispAllowlist } from "../auth.ts";
import type { AppEnv, ServerContext } from "../deps.ts";
import { acceptIntake } from "../intake.ts";
import { decideVerdict, verdictBody } from "../verdict.ts";

/** Prefix of Flowgate's module names: `flowgate_<trigger id with - as _>`. */
export const MODULE_NAME_PREFIX = "flowgate_";

/** The misp-modules name of a trigger's action module. */
export function moduleNameOf(triggerId: string): string {
  return MODULE_NAME_PREFIX + triggerId.replaceAll("-", "_");
}

/**
 * The misp-modules descriptor MISP parses for one trigger (reference §5.2 to §5.4): lowercase
 * ASCII name so MISP's id equals it, `meta.module-type: ["action"]`, the config under both
 * `meta.config` (what MISP reads) and `mispattributes.config`.
 */
export function moduleDescriptorOf(trigger: TriggerDefinition): Record<string, unknown> {
  const descriptor = trigger.descriptor;
  const config = {
    params: {},
    blocking: descriptor.blocking,
    support_filters: false,
    expect_misp_core_format: descriptor.misp_core_format,
  };
  return {
    name: moduleNameOf(descriptor.id),
    type: "action_mod",
    mispattributes: { config },
    meta: {
      name: `Flowgate: ${descriptor.name}`,
      description: `Runs the Flowgate workflows of trigger "${descriptor.id}"` +
        (descriptor.blocking ? " and blocks when one of them blocks" : " in the background"),
      "module-type": ["action"],
      version: "1.0",
      author: "Flowgate",
      config,
    },
  };
}

/** The trigger id behind a Flowgate module name, or undefined. */
export function triggerOfModule(name: string): TriggerDefinition | undefined {
  if (!name.startsWith(MODULE_NAME_PREFIX)) return undefined;
  return TRIGGERS.find((trigger) => moduleNameOf(trigger.descriptor.id) === name);
}

/** The `/modules` and `/query` routes, limited to `FLOWGATE_MISP_ALLOW`. */
export function mispModulesRoutes(ctx: ServerContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const own = TRIGGERS.map(moduleDescriptorOf);
  const ownNames = new Set(own.map((module) => module.name));
  app.use("/modules", mispAllowlist(ctx.config.mispAllow, ctx.config.trustedProxies));
  app.use("/query", mispAllowlist(ctx.config.mispAllow, ctx.config.trustedProxies));

  app.get("/modules", async (c) => {
    if (!ctx.proxy) return c.json(own);
    const upstream = await ctx.proxy.listActionModules();
    return c.json([...own, ...upstream.filter((module) => !ownNames.has(String(module.name)))]);
  });

  app.post("/query", async (c) => {
    const started = performance.now();
    const text = await c.req.text();
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (error) {
      return c.json({ error: `Request body is not JSON: ${(error as Error).message}` }, 400);
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      return c.json({ error: 'Request body must be a JSON object with "module" and "data"' }, 400);
    }
    const body = request as JsonObject;
    const name = typeof body.module === "string" ? body.module : "";
    const trigger = triggerOfModule(name);
    if (trigger === undefined) {
      if (ctx.proxy && name !== "" && await ctx.proxy.hasModule(name)) {
        const forwarded = await ctx.proxy.query(text);
        return c.body(forwarded.body, forwarded.status as 200, {
          "Content-Type": "application/json",
        });
      }
      return c.json({ error: `Module "${name}" not found` });
    }
    const data = body.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      return c.json({ error: `Module "${name}": "data" must be a JSON object` });
    }
    const input = withNodeContext(data as JsonObject, body);
    const actor = { kind: "misp" as const, id: c.env?.remoteAddr?.hostname };
    if (!trigger.descriptor.blocking) {
      await acceptIntake(ctx, trigger.descriptor.id, input, { actor });
      return c.json({ data: true });
    }
    const verdict = await decideVerdict(ctx, trigger.descriptor.id, input, { actor });
    // Server-side time from body read to answer, for operators and the HTTP benchmark.
    c.header("Server-Timing", `verdict;dur=${(performance.now() - started).toFixed(2)}`);
    return c.json(verdictBody(verdict));
  });
  return app;
}

/**
 * MISP sends `filteredItems` (node filters applied) and `matchingData` (hash-path params) only for
 * modules that declare them; Flowgate's do not, but when a caller sends them anyway they are kept
 * as the top-level `_filteredItems` / `_matchingData` keys of the run input, which the core-format
 * conversion carries over, so a workflow can read them with hash paths.
 */
function withNodeContext(data: JsonObject, body: JsonObject): JsonObject {
  if (body.filteredItems === undefined && body.matchingData === undefined) return data;
  const input: JsonObject = { ...data };
  if (body.filteredItems !== undefined) input._filteredItems = body.filteredItems;
  if (body.matchingData !== undefined) input._matchingData = body.matchingData;
  return input;
}
