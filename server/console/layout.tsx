/**
 * The page frame every console page shares: head, stylesheet, navigation and the sign-out form,
 * plus the small pieces several pages use (outcome badges, the CSRF field, the error page).
 *
 * @module
 */

import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import { raw } from "hono/html";
import { CONSOLE_CSS_PATH, FAVICON_DATA_URL } from "./styles.ts";

/** The console's sections, for the navigation bar. */
export type Section = "workflows" | "runs" | "approvals" | "dead-letters" | "none";

/** Props of `Page`. */
export interface PageProps {
  title: string;
  section: Section;
  /** The session's CSRF token, for the sign-out form; absent on pages shown signed out. */
  csrf?: string;
  children?: Child;
}

const NAV: { section: Exclude<Section, "none">; href: string; label: string }[] = [
  { section: "workflows", href: "/workflows", label: "Workflows" },
  { section: "runs", href: "/runs", label: "Runs" },
  { section: "approvals", href: "/approvals", label: "Approvals" },
  { section: "dead-letters", href: "/dead-letters", label: "Dead letters" },
];

/** A whole HTML page with the console's head, navigation and `children` as content. */
export function Page(props: PageProps): JSX.Element {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title>{`${props.title} · Flowgate`}</title>
          <link rel="stylesheet" href={CONSOLE_CSS_PATH} />
          <link rel="icon" type="image/svg+xml" href={FAVICON_DATA_URL} />
        </head>
        <body>
          <header class="top">
            <a class="brand" href="/workflows">Flowgate</a>
            {props.csrf !== undefined && (
              <>
                <nav>
                  {NAV.map((item) => (
                    <a
                      href={item.href}
                      class={item.section === props.section ? "current" : undefined}
                    >
                      {item.label}
                    </a>
                  ))}
                </nav>
                <form class="inline" method="post" action="/sign-out">
                  <CsrfField token={props.csrf} />
                  <button type="submit">Sign out</button>
                </form>
              </>
            )}
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** The hidden CSRF field every console form carries. */
export function CsrfField(props: { token: string }): JSX.Element {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/** A coloured badge for a run outcome, a verdict or an enabled state. */
export function Badge(props: { kind: string; children?: Child }): JSX.Element {
  return <span class={`badge ${props.kind}`}>{props.children ?? props.kind}</span>;
}

/** A minimal page for refusals and errors (no navigation, so it needs no session). */
export function ErrorPage(props: { status: number; message: string }): JSX.Element {
  return (
    <Page title={`Error ${props.status}`} section="none">
      <section class="card stack">
        <h1>{`Error ${props.status}`}</h1>
        <p class="error">{props.message}</p>
        <p>
          <a href="/workflows">Back to the console</a>
        </p>
      </section>
    </Page>
  );
}

/** Answers 404 with the error page for a workflow id that is not stored. */
export function workflowNotFound(c: Context, id: string): Response | Promise<Response> {
  return c.html(<ErrorPage status={404} message={`Workflow "${id}" not found`} />, 404);
}

/** A time as `2026-11-28 09:14:03` (UTC), compact enough for tables. */
export function formatTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A time as `28 Nov 09:14:03` (UTC): short enough to stay on one line in a table cell. */
export function formatCompactTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const day = date.getUTCDate();
  const clock = date.toISOString().slice(11, 19);
  return `${day} ${MONTHS[date.getUTCMonth()]} ${clock}`;
}

/** A time that never wraps: compact text, the full ISO time in its tooltip and `datetime`. */
export function Time(props: { iso: string }): JSX.Element {
  return (
    <time class="nowrap" datetime={props.iso} title={`${props.iso} (UTC)`}>
      {formatCompactTime(props.iso)}
    </time>
  );
}
