import assert from "node:assert/strict";

import { type CliRun, runDeno } from "./run_deno.ts";

/** Runs `deno task validate <file>` as the task does (same script, same permissions). */
async function validate(file: string): Promise<CliRun> {
  return await runDeno(["run", "--allow-read", "--allow-env", "cli/validate.ts", file]);
}

async function withWorkflow(yaml: string, body: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-cli-template-" });
  try {
    const file = `${dir}/workflow.yaml`;
    await Deno.writeTextFile(file, yaml);
    await body(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const WORKFLOW = (message: string) =>
  `name: template-check
trigger: event-publish
start: stop
nodes:
  stop:
    module: stop-execution
    params:
      message: ${JSON.stringify(message)}
`;

Deno.test("validate exits 1 on a broken template, naming node, field, line and column", async () => {
  await withWorkflow(WORKFLOW("Blocked:\n{{ Event.info "), async (file) => {
    const run = await validate(file);
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      run.stdout,
      /error \[invalid-param\]: Node "stop" \(stop-execution\), field "params.message": template syntax error at line 2, column 15: unexpected end of template, expected variable end/,
    );
    assert.match(run.stdout, /invalid yaml workflow "template-check".*1 error\(s\)/);
  });
});

Deno.test("validate accepts Jinja2's numeric lookups and tests", async () => {
  const message = "{% if Event.Attribute.0 is defined %}{{ Event.Attribute.0.value }}{% endif %}";
  await withWorkflow(WORKFLOW(message), async (file) => {
    const run = await validate(file);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /valid yaml workflow "template-check"/);
  });
});
