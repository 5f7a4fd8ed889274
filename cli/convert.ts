/** `deno task convert <file> --to yaml|misp [--out file]`: converts a workflow between YAML and MISP JSON. @module */

import { exportMispWorkflow } from "../engine/misp_codec.ts";
import { stringifyWorkflowYaml } from "../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { loadWorkflow } from "./load_workflow.ts";

const USAGE = "Usage: convert <file> --to yaml|misp [--out file] [--trigger ID]";

const HELP = `${USAGE}

Converts a workflow between Flowgate YAML and MISP workflow JSON (a blueprint converts too).

Options:
  --to yaml|misp  the format to write
  --out FILE      write there instead of standard output
  --trigger ID    the trigger of a blueprint that names none
  --help, -h      this help`;

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["to", "out", "trigger"], help: HELP });
  const [file, ...extra] = args.positional;
  const target = args.options.get("to");
  if (file === undefined || extra.length > 0 || target === undefined) throw new UsageError(USAGE);
  if (target !== "yaml" && target !== "misp") {
    throw new UsageError(`Unknown target format "${target}": expected "yaml" or "misp"`);
  }
  const { workflow } = await loadWorkflow(file, args.options.get("trigger"));
  if (target === "misp" && workflow.trigger === null) {
    throw new UsageError(
      `Cannot convert "${file}" to misp: it has no trigger (a MISP workflow needs one); choose one with --trigger <id>`,
    );
  }
  let text: string;
  try {
    text = target === "yaml"
      ? stringifyWorkflowYaml(workflow, MODULE_CATALOG)
      : `${JSON.stringify(exportMispWorkflow(workflow, MODULE_CATALOG), null, 2)}\n`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot convert "${file}" to ${target}: ${reason}`, { cause: error });
  }
  const out = args.options.get("out");
  if (out === undefined) {
    printLine(text.replace(/\n$/, ""));
    return 0;
  }
  try {
    await Deno.writeTextFile(out, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot write "${out}": ${reason}`, { cause: error });
  }
  return 0;
}

if (import.meta.main) await runCli(main);
