/**
 * `deno task misp:check [--flowgate-url <URL>]`: reads MISP over its REST API and says whether it
 * is wired to Flowgate, each problem with what to do. Exits 0 when all is well, 1 when something
 * is wrong, 2 when MISP cannot be read.
 *
 * @module
 */

import { checkMispWiring } from "../services/misp_check.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { flowgateAddressOption, MISP_ADMIN_ENV_HELP, openMispAdminSession } from "./misp_admin.ts";

/** Exit code when MISP is not wired correctly. */
const EXIT_PROBLEMS = 1;

const USAGE = "Usage: misp:check [--flowgate-url <URL>]";

const HELP = `${USAGE}

Checks that MISP is wired to Flowgate: workflows and the Action service on (and pointing at
Flowgate), Flowgate's modules listed and enabled, and for each trigger with an enabled Flowgate
workflow the trigger enabled and the flowgate_<trigger> node right after it. Reads only.
Exit codes: 0 wired, 1 something is wrong (each problem says what to do), 2 MISP unreadable.

Options:
  --flowgate-url URL  also check that MISP's Action service URL and port are Flowgate's
  --help, -h          this help

${MISP_ADMIN_ENV_HELP}`;

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["flowgate-url"], help: HELP });
  if (args.positional.length > 0) throw new UsageError(USAGE);
  const flowgateUrl = args.options.get("flowgate-url");
  const address = flowgateAddressOption(flowgateUrl);
  using session = await openMispAdminSession();
  const report = await checkMispWiring(session.misp, {
    triggers: session.triggers,
    ...(address ? { address } : {}),
  });
  for (const finding of report.findings) {
    printLine(`${finding.ok ? "ok     " : "PROBLEM"}  ${finding.what}`);
    if (finding.fix) printLine(`         → ${finding.fix}`);
  }
  const problems = report.findings.filter((finding) => !finding.ok).length;
  printLine(problems === 0 ? "MISP is wired to Flowgate" : `${problems} problem(s) found`);
  return problems === 0 ? 0 : EXIT_PROBLEMS;
}

if (import.meta.main) await runCli(main);
