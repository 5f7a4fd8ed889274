/**
 * Flowgate's one logger: JSON lines on stderr, levels, and redaction of registered secrets so an
 * API key or token never reaches a log line.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const secrets = new Set<string>();
let minimumLevel: LogLevel = (Deno.env.get("FLOWGATE_LOG_LEVEL") as LogLevel | undefined) ??
  "info";
let sink: (line: string) => void = (line) => console.error(line);

/** Registers a value that must never be logged; every later log line has it replaced. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret in `text` with `[redacted]`. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const secret of secrets) result = result.replaceAll(secret, "[redacted]");
  return result;
}

/** Sets the lowest level written. */
export function setLogLevel(level: LogLevel): void {
  minimumLevel = level;
}

/** Sends log lines somewhere else (tests capture them); returns the previous sink. */
export function setLogSink(next: (line: string) => void): (line: string) => void {
  const previous = sink;
  sink = next;
  return previous;
}

function write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  if (LEVEL_RANK[level] < LEVEL_RANK[minimumLevel]) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
  sink(redactSecrets(line));
}

/** The logger. `log.info("Server listening", { port })`. */
export const log = {
  debug: (message: string, fields?: Record<string, unknown>): void =>
    write("debug", message, fields),
  info: (message: string, fields?: Record<string, unknown>): void => write("info", message, fields),
  warn: (message: string, fields?: Record<string, unknown>): void => write("warn", message, fields),
  error: (message: string, fields?: Record<string, unknown>): void =>
    write("error", message, fields),
};
