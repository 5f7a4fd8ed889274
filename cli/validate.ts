/** `deno task validate <file>`: checks a workflow (YAML, MISP JSON or blueprint) and lists every problem. @module */

import { validateWorkflow, type ValidationProblem } from "../engine/validate.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { loadWorkflow } from "./load_workflow.ts";

const USAGE = "Usage: validate <file> [--trigger ID]";

const HELP = `${USAGE}

Checks a workflow file (Flowgate YAML, MISP workflow JSON or a MISP blueprint) and lists every
problem with its node and field. Exits 0 when valid, 1 when invalid, 2 on unreadable input.

Options:
  --trigger ID  the trigger of a blueprint that names none (e.g. event-publish)
  --help, -h    this help`;

function describeProblem(level: string, problem: ValidationProblem): string {
  const named = problem.node === undefined || problem.message.includes(`"${problem.node}"`);
  const place = named
    ? ""
    : ` node "${problem.node}"${problem.field ? `, field "${problem.field}"` : ""}`;
  return `${level} [${problem.code}]${place}: ${problem.message}`;
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["trigger"], help: HELP });
  const [file, ...extra] = args.positional;
  if (file === undefined || extra.length > 0) throw new UsageError(USAGE);
  const { workflow, format } = await loadWorkflow(file, args.options.get("trigger"));
  const { errors, warnings } = validateWorkflow(workflow, MODULE_CATALOG);
  for (const problem of errors) printLine(describeProblem("error", problem));
  for (const problem of warnings) printLine(describeProblem("warning", problem));
  const verdict = errors.length === 0 ? "valid" : "invalid";
  printLine(
    `${file}: ${verdict} ${format} workflow "${workflow.name}" (${
      workflow.trigger === null ? "no trigger yet" : `trigger ${workflow.trigger}`
    }, ${workflow.nodes.length} nodes): ${errors.length} error(s), ${warnings.length} warning(s)`,
  );
  return errors.length === 0 ? 0 : 1;
}

if (import.meta.main) await runCli(main);
