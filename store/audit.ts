/**
 * The audit log: append-only, newest first, kept for `AUDIT_RETENTION_DAYS`.
 *
 * @module
 */

import { monotonicFactory } from "ulid";
import { AUDIT_RETENTION_DAYS, DAY_MS, KEY_AUDIT } from "./keys.ts";
import { listPage, type PageOptions } from "./paging.ts";
import type { AuditEntry, Page } from "./types.ts";

/** Ids that sort in append order even within one millisecond. */
const ulid = monotonicFactory();

/** Options of `listAudit`. */
export interface ListAuditOptions extends PageOptions {
  /** Clock, for tests: entries older than the retention at this time are not returned. */
  now?: Date;
}

/** Appends one audit entry (id and time set here) and returns it. */
export async function appendAudit(
  kv: Deno.Kv,
  entry: Omit<AuditEntry, "id" | "at">,
  options: { now?: Date } = {},
): Promise<AuditEntry> {
  const at = options.now ?? new Date();
  const stored: AuditEntry = { id: ulid(at.getTime()), at: at.toISOString(), ...entry };
  await writeAudit(kv, stored, { now: Date.now() });
  return stored;
}

/** Writes an audit entry as it is (restores keep id and time); false when already expired. */
export async function writeAudit(
  kv: Deno.Kv,
  entry: AuditEntry,
  options: { now?: number } = {},
): Promise<boolean> {
  const expireIn = Date.parse(entry.at) + AUDIT_RETENTION_DAYS * DAY_MS -
    (options.now ?? Date.now());
  if (!(expireIn > 0)) return false;
  await kv.set([KEY_AUDIT, entry.id], entry, { expireIn });
  return true;
}

/** Audit entries, newest first, with cursor paging. */
export function listAudit(kv: Deno.Kv, options: ListAuditOptions = {}): Promise<Page<AuditEntry>> {
  const oldest = (options.now ?? new Date()).getTime() - AUDIT_RETENTION_DAYS * DAY_MS;
  return listPage<AuditEntry>(kv, [KEY_AUDIT], {
    ...options,
    keep: (entry) => Date.parse(entry.at) > oldest,
  });
}
