/**
 * Flowgate's entry point, wiring only: configuration, KV, admin token, the one app context, the
 * chat and the app on `Deno.serve`, the queue listener, the workflows directory and the
 * maintenance cron.
 *
 * @module
 */

import { log, registerSecret } from "./engine/log.ts";
import { ensureAdminToken } from "./store/admin_token.ts";
import { bootstrapChatAdmins } from "./store/chat_roles.ts";
import { acquireKvLock, isLocalKvPath, type KvLock, KvLockedError } from "./store/kv_lock.ts";
import { reenableExpiredWorkflows } from "./store/workflows.ts";
import { createChat } from "./bot/chat_routes.ts";
import { createApp } from "./server/app.ts";
import { createServeHandler, handleServeError } from "./server/serve.ts";
import { withApprovalMessages } from "./services/approvals.ts";
import { ConfigError, configSecrets, loadConfig } from "./services/config.ts";
import { createAppContext } from "./services/context.ts";
import {
  chatTransports,
  checkIntegrations,
  integrationStatus,
} from "./services/integration_status.ts";
import { createModuleServices } from "./services/module_services.ts";
import { VerdictWorkers } from "./services/verdict_workers.ts";
import { createQueueHandler, recoverUnfinishedIntakes } from "./services/queue.ts";
import { createQueueDrain, SHUTDOWN_DRAIN_TIMEOUT_MS } from "./services/queue_drain.ts";
import { syncWorkflowsDir, watchWorkflowsDir } from "./services/workflows_dir.ts";

/** Wait before the start-up intake sweep, so the queue's own backlog drains first. */
const INTAKE_RECOVERY_DELAY_MS = 3_000;

/** How often the maintenance cron re-enables workflows whose `disabled_until` passed. */
const MAINTENANCE_SCHEDULE = "*/5 * * * *";

/** Opens the KV; a local file is locked first, so a second process on it exits with code 2. */
async function openKv(path: string | undefined): Promise<{ kv: Deno.Kv; lock: KvLock | null }> {
  if (path === undefined) return { kv: await Deno.openKv(), lock: null };
  if (isLocalKvPath(path)) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  }
  let lock: KvLock | null;
  try {
    lock = await acquireKvLock(path);
  } catch (error) {
    if (!(error instanceof KvLockedError)) throw error;
    log.error(error.message, { kv: path, pid: error.pid });
    Deno.exit(2);
  }
  return { kv: await Deno.openKv(path), lock };
}

/** Stops the server, the cron and the workflows-directory watcher (SIGINT, SIGTERM). */
const shutdown = new AbortController();
/** The KV `main()` opens; the maintenance cron waits for it. */
const kvOpened = Promise.withResolvers<Deno.Kv>();

// Deno Deploy only picks up crons registered at the top level of the entry module, before the
// server starts (not inside functions, conditions or callbacks), so this one is declared here and
// waits for the KV `main()` opens. `Deno.cron` is on through `"unstable"` in deno.json.
Deno.cron("flowgate-maintenance", MAINTENANCE_SCHEDULE, { signal: shutdown.signal }, async () => {
  try {
    const changed = await reenableExpiredWorkflows(await kvOpened.promise);
    if (changed.length > 0) log.info("Workflows re-enabled", { count: changed.length });
  } catch (error) {
    log.warn("Maintenance failed", { error: String(error) });
  }
});

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) log.error(problem);
      Deno.exit(2);
    }
    throw error;
  }
  for (const secret of configSecrets(config)) registerSecret(secret);

  const { kv, lock } = await openKv(config.kvPath);
  kvOpened.resolve(kv);
  const { token, replaced } = await ensureAdminToken(kv, config.adminToken);
  if (token !== undefined) {
    log.warn("Admin token generated: store it now, it is shown only this once", {
      admin_token: token,
    });
  }
  if (replaced !== undefined) {
    log.warn(
      "FLOWGATE_ADMIN_TOKEN replaces the admin token stored in the KV: the old one no longer works",
      { replaced: replaced.source, replaced_created_at: replaced.created_at },
    );
  }
  const chatAdmins = await bootstrapChatAdmins(kv, config.chatAdmins);
  if (chatAdmins.granted.length > 0 || chatAdmins.revoked.length > 0) {
    log.info("Chat admins synced from FLOWGATE_CHAT_ADMINS", chatAdmins);
  }

  // One context for the app, the queue listener and the chat; the chat hears of blocked runs.
  const verdictWorkers = VerdictWorkers.start({
    size: config.verdictWorkers,
    secrets: configSecrets(config),
  });
  const ctx = createAppContext({
    kv,
    config,
    services: createModuleServices(config),
    approvals: true,
    verdictWorkers,
  });
  const chat = createChat(ctx);
  ctx.announcements.subscribe(chat.announceBlockedRun);
  const app = createApp(ctx, { chatWebhooks: chat.webhooks });
  const startedAt = Date.now();
  const queue = createQueueDrain(withApprovalMessages(ctx, createQueueHandler(ctx)));
  kv.listenQueue(queue.handler).catch((error) => {
    log.error("Queue listener stopped", { error: String(error) });
  });
  const recovery = setTimeout(() => {
    recoverUnfinishedIntakes(ctx, startedAt).catch((error) => {
      log.error("Intake recovery failed", { error: String(error) });
    });
  }, INTAKE_RECOVERY_DELAY_MS);

  if (config.workflowsDir !== undefined) {
    const report = await syncWorkflowsDir(kv, config.workflowsDir);
    log.info("Workflows directory loaded", {
      dir: config.workflowsDir,
      created: report.created.length,
      updated: report.updated.length,
      deleted: report.deleted.length,
      unchanged: report.unchanged.length,
      errors: report.errors.length,
    });
    watchWorkflowsDir(kv, config.workflowsDir, { signal: shutdown.signal }).catch((error) => {
      log.error("Workflows directory watcher stopped", { error: String(error) });
    });
  }

  log.info("Integrations", {
    kv: config.kvPath ?? "platform",
    ...integrationStatus(ctx),
    "chat_transports": chatTransports(config),
  });
  // Configured is not working: say at start what cannot work (zmq without FFI), in the background.
  checkIntegrations(ctx).then(({ errors }) => {
    for (const [integration, reason] of Object.entries(errors)) {
      log.warn("Integration unavailable", { integration, reason });
    }
  });
  const server = Deno.serve({
    port: config.port,
    signal: shutdown.signal,
    onListen: ({ hostname, port }) => log.info("Flowgate listening", { hostname, port }),
    onError: handleServeError,
  }, createServeHandler(app));
  // Slack Socket Mode and Telegram long polling connect out (webhooks need nothing); they
  // reconnect on their own until the shutdown below.
  chat.start();

  const stop = () => {
    clearTimeout(recovery);
    shutdown.abort();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Signals are not available everywhere (Deno Deploy); the platform stops the isolate.
    }
  }
  await server.finished;
  verdictWorkers?.close();
  // Queue runs in flight finish before the KV closes; past the bound they are delivered again.
  const drained = await queue.drain(SHUTDOWN_DRAIN_TIMEOUT_MS);
  await chat.stop();
  kv.close();
  lock?.release();
  // Work still running past the bound can store nothing now: exit instead of waiting for it.
  if (!drained) Deno.exit(0);
}

if (import.meta.main) await main();
