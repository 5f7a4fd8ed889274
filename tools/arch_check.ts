/**
 * `deno task arch`: fails when an import breaks Flowgate's layering (README "Code map").
 *
 * It asks `deno info --json` for the import graph of every source file (type imports included)
 * and checks each import between two top-level folders against `ALLOWED_IMPORTS`, then looks for
 * import cycles between folders. Exit 0 when clean, 1 with one line per violation.
 *
 * @module
 */

import { fileURLToPath, pathToFileURL } from "node:url";

/** Which folders each top-level folder may import (its own is always allowed). */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  engine: [],
  triggers: ["engine"],
  store: ["engine"],
  modules: ["engine", "triggers"],
  services: ["engine", "triggers", "store", "modules"],
  server: ["services", "engine", "triggers", "store", "modules"],
  bot: ["services", "engine", "triggers", "store", "modules"],
  cli: ["services", "engine", "triggers", "store", "modules"],
  "main.ts": ["services", "server", "bot", "engine", "triggers", "store", "modules"],
};

/** One import from a project file to another. */
export interface ImportEdge {
  from: string;
  to: string;
  /** 1-based line of the import in `from`. */
  line: number;
}

/** The top-level folder of a project-relative path (`main.ts` for the entry point). */
export function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash);
}

/** The imports that break `ALLOWED_IMPORTS`, one message each. */
export function layeringViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    const allowed = ALLOWED_IMPORTS[from];
    if (allowed === undefined) {
      problems.push(`${edge.from}:${edge.line}: folder "${from}" has no layering rule`);
    } else if (!allowed.includes(to)) {
      problems.push(
        `${edge.from}:${edge.line} imports ${edge.to}: "${from}" may import ` +
          (allowed.length === 0 ? "nothing outside itself" : allowed.join(", ")),
      );
    }
  }
  return problems;
}

/** The cycles between folders (each as `a -> b -> a`), found by depth-first search. */
export function folderCycles(edges: readonly ImportEdge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  const cycles = new Set<string>();
  const visit = (folder: string, path: string[]): void => {
    const at = path.indexOf(folder);
    if (at !== -1) {
      const cycle = path.slice(at);
      // One name per cycle whatever folder the search entered it by.
      const start = cycle.indexOf([...cycle].sort()[0]!);
      const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
      cycles.add([...rotated, rotated[0]].join(" -> "));
      return;
    }
    for (const next of graph.get(folder) ?? []) visit(next, [...path, folder]);
  };
  for (const folder of graph.keys()) visit(folder, []);
  return [...cycles].map((cycle) => `import cycle between folders: ${cycle}`);
}

const SOURCE_FOLDERS = Object.keys(ALLOWED_IMPORTS).filter((name) => !name.endsWith(".ts"));

async function sourceFiles(root: URL): Promise<string[]> {
  const files: string[] = ["main.ts"];
  const walk = async (relative: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(relative, root))) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (/\.tsx?$/.test(entry.name)) files.push(path);
    }
  };
  for (const folder of SOURCE_FOLDERS) {
    try {
      await walk(folder);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return files;
}

interface DenoInfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string; span: { start: { line: number } } };
    type?: { specifier: string; span: { start: { line: number } } };
  }[];
}

/** The project's import graph, from one `deno info --json` over a root importing every file. */
export async function projectImports(root: URL): Promise<ImportEdge[]> {
  const files = await sourceFiles(root);
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((file) => `import type {} from "${new URL(file, root).href}";`).join("\n"),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", fileURLToPath(new URL("deno.json", root)), entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: DenoInfoModule[];
    };
    const prefix = root.href;
    const edges: ImportEdge[] = [];
    for (const module of info.modules) {
      if (!module.specifier.startsWith(prefix)) continue;
      const from = module.specifier.slice(prefix.length);
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code, dependency.type]) {
          if (!target?.specifier.startsWith(prefix)) continue;
          edges.push({
            from,
            to: target.specifier.slice(prefix.length),
            line: target.span.start.line + 1,
          });
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(entry);
  }
}

if (import.meta.main) {
  const root = pathToFileURL(`${Deno.cwd()}/`);
  const edges = await projectImports(root);
  const problems = [...layeringViolations(edges), ...folderCycles(edges)];
  if (problems.length === 0) {
    console.log(`Layering holds: ${edges.length} imports checked`);
  } else {
    for (const problem of problems) console.error(problem);
    console.error(`${problems.length} layering problem(s): see README "Code map"`);
    Deno.exit(1);
  }
}
