/**
 * `deno task misp:connect --flowgate-url <URL> [--dry-run] [--undo]`: wires MISP to Flowgate over
 * MISP's REST API (Action service settings, Flowgate's modules, one `flowgate_<trigger>` node
 * right after each trigger that has an enabled Flowgate workflow, the triggers on), or with
 * `--undo` takes Flowgate's nodes out again. Idempotent; every change is audited in the KV.
 *
 * @module
 */

import { connectMisp, disconnectMisp, type MispChange } from "../services/misp_connect.ts";
import type { MispSettingValue } from "../services/misp_admin_api.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { flowgateAddressOption, MISP_ADMIN_ENV_HELP, openMispAdminSession } from "./misp_admin.ts";

const USAGE =
  "Usage: misp:connect --flowgate-url <URL> [--dry-run], or misp:connect --undo [--dry-run]";

const HELP = `${USAGE}

Configures MISP from its REST API so that it calls Flowgate:
  - sets Plugin.Workflow_enable and Plugin.Action_services_enable/url/port to Flowgate's URL;
  - checks that MISP then lists Flowgate's modules, and enables them;
  - for each trigger with an enabled Flowgate workflow, puts the flowgate_<trigger> node right
    after the trigger in MISP's workflow (your other nodes stay, fed by Flowgate's node), and
    enables the trigger.
A second run changes nothing. Every change is written to Flowgate's audit log.

Options:
  --flowgate-url URL  Flowgate as MISP reaches it, e.g. http://10.1.2.3:8000
  --dry-run           print what would change, change nothing
  --undo              take Flowgate's nodes out of MISP's workflows (settings and your nodes stay)
  --help, -h          this help

${MISP_ADMIN_ENV_HELP}`;

/** Who `misp:connect` changes are audited as. */
const ACTOR = "cli:misp-connect";

/** One change in words, as the plan and the summary print it. */
export function describeMispChange(change: MispChange): string {
  switch (change.kind) {
    case "setting":
      return `setting ${change.name}: ${showValue(change.from)} → ${showValue(change.to)}`;
    case "module-enable":
      return `module ${change.module}: enable`;
    case "workflow-create":
      return `workflow of trigger ${change.trigger}: create (MISP's editor creates it)`;
    case "node":
      return `node ${change.module} in the workflow of trigger ${change.trigger}: ${
        change.change === "added"
          ? "add, right after the trigger"
          : change.change === "removed"
          ? "remove, reconnecting the nodes around it"
          : `update (${change.detail ?? "brought up to date"})`
      }`;
    case "trigger-enable":
      return `trigger ${change.trigger}: enable`;
  }
}

function showValue(value: MispSettingValue): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, {
    options: ["flowgate-url"],
    flags: ["dry-run", "undo"],
    help: HELP,
  });
  if (args.positional.length > 0) throw new UsageError(USAGE);
  const undo = args.flags.has("undo");
  const dryRun = args.flags.has("dry-run");
  const flowgateUrl = args.options.get("flowgate-url");
  if (!undo && flowgateUrl === undefined) {
    throw new UsageError(
      "misp:connect needs Flowgate's URL as MISP reaches it: --flowgate-url http://10.1.2.3:8000",
    );
  }
  const address = flowgateAddressOption(flowgateUrl);
  using session = await openMispAdminSession();
  const options = { dryRun, kv: session.kv, actor: ACTOR };
  const report = undo
    ? await disconnectMisp(session.misp, options)
    : await connectMisp(session.misp, { address: address!, triggers: session.triggers }, options);
  printLine(`MISP version: ${report.version}`);
  if (report.changes.length === 0) {
    printLine(
      undo
        ? "Nothing to change: no Flowgate node in MISP's workflows"
        : "Nothing to change: MISP is wired to Flowgate",
    );
  } else {
    printLine(
      dryRun
        ? `Dry run, nothing changed. ${report.changes.length} change(s) to make:`
        : `${report.changes.length} change(s) made (audited as "${ACTOR}"):`,
    );
    for (const change of report.changes) printLine(`  ${describeMispChange(change)}`);
  }
  for (const note of report.notes) printLine(`Note: ${note}`);
  return 0;
}

if (import.meta.main) await runCli(main);
