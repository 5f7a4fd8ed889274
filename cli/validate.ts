/** `deno task validate <file>`: checks a workflow (YAML, MISP JSON or blueprint) and lists every problem. @module */

import { validateWorkflow, type ValidationProblem } from "../engine/validate.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { loadWorkflow } from "./load_workflow.ts";

const USAGE = "Usage: validate <file> [--trigger ID]";

function describeProblem(level: string, problem: ValidationProblem): string {
  const named = problem.node === undefined || problem.message.includes(`"${problem.node}"`);
  const place = named
    ? ""
    : ` node "${problem.node}"${problem.field ? `, field "${problem.field}"` : ""}`;
  return `${level} [${problem.code}]${place}: ${problem.message}`;
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["trigger"] });
  const [file, ...extra] = args.positional;
  if (file === undefined || extra.length > 0) throw new UsageError(USAGE);
  const { workflow, format } = await loadWorkflow(file, args.options.get("trigger"));
  const { errors, warnings } = validateWorkflow(workflow, MODULE_CATALOG);
  for (const problem of errors) printLine(describeProblem("error", problem));
  for (const problem of warnings) printLine(describeProblem("warning", problem));
  const verdict = errors.length === 0 ? "valid" : "invalid";
  printLine(
    `${file}: ${verdict} ${format} workflow "${workflow.name}" (trigger ${workflow.trigger}, ${workflow.nodes.length} nodes): ${errors.length} error(s), ${warnings.length} warning(s)`,
  );
  return errors.length === 0 ? 0 : 1;
}

if (import.meta.main) await runCli(main);
