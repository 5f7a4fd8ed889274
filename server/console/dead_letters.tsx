/**
 * The dead-letters page: queue work Flowgate gave up on, newest first, each with its error, its
 * attempts and its payload (folded), and Retry and Discard buttons that use the same service as
 * the admin API (`services/dead_letters.ts`), audited under the console's actor.
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { listDeadLetters } from "../../store/dead_letters.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { DeadLetter } from "../../store/types.ts";
import {
  DeadLetterNotRetryableError,
  discardDeadLetter,
  retryDeadLetter,
} from "../../services/dead_letters.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { JsonView } from "./json_view.tsx";
import { CsrfField, ErrorPage, Page, Time } from "./layout.tsx";

/** Dead letters per page. */
export const DEAD_LETTERS_PAGE_SIZE = 50;

/** What the page says after a retry or a discard (`?done=`). */
const DONE_MESSAGES: Record<string, string> = {
  retried: "Queued again: the work runs from the queue; a new failure comes back here.",
  discarded: "Discarded.",
};

function DeadLetterRow(props: { letter: DeadLetter; csrf: string }): JSX.Element {
  const { letter } = props;
  return (
    <tr id={`letter-${letter.id}`} data-dead-letter={letter.id}>
      <td data-label="When">{letter.at ? <Time iso={letter.at} /> : "unknown"}</td>
      <td data-label="Kind">
        <code class="nowrap">{letter.kind}</code>
      </td>
      <td data-label="Error">
        <div class="error small">{letter.error}</div>
        <details>
          <summary class="small">{`payload · id ${letter.id}`}</summary>
          <JsonView value={letter.payload} />
        </details>
      </td>
      <td data-label="Attempts">{letter.attempts}</td>
      <td data-label="Actions">
        <form method="post" action={`/dead-letters/${letter.id}`} class="row keep">
          <CsrfField token={props.csrf} />
          <button type="submit" name="do" value="retry" class="primary">Retry</button>
          <button type="submit" name="do" value="discard" class="danger">Discard</button>
        </form>
      </td>
    </tr>
  );
}

/** The dead-letters page and its retry/discard route. */
export function deadLettersRoutes(
  ctx: Pick<ConsoleContext, "kv" | "now" | "metrics">,
): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get("/dead-letters", async (c) => {
    const csrf = c.get("session").csrf;
    const cursor = c.req.query("cursor") || undefined;
    const page = await listDeadLetters(ctx.kv, {
      limit: DEAD_LETTERS_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    const done = DONE_MESSAGES[c.req.query("done") ?? ""];
    return c.html(
      <Page title="Dead letters" section="dead-letters" csrf={csrf}>
        <h1>Dead letters</h1>
        <p class="muted">
          Work the queue gave up on after every retry: failed webhook intakes, actions that kept
          failing, deferred jobs. Retry puts the work back on the queue once; Discard drops it. Both
          are audited.
        </p>
        {done && <p class="notice allow" data-done={c.req.query("done")}>{done}</p>}
        <section class="card">
          {page.items.length === 0
            ? (
              <p class="muted" data-dead-letters="none">
                No dead letters: nothing failed for good.
              </p>
            )
            : (
              <table class="cards">
                <thead>
                  <tr>
                    <th>When (UTC)</th>
                    <th>Kind</th>
                    <th>Error</th>
                    <th>Attempts</th>
                    <th>Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((letter) => <DeadLetterRow letter={letter} csrf={csrf} />)}
                </tbody>
              </table>
            )}
          <nav class="pager">
            {cursor && <a href="/dead-letters">First page</a>}
            {page.cursor && (
              <a href={`/dead-letters?cursor=${encodeURIComponent(page.cursor)}`} rel="next">
                Next page
              </a>
            )}
          </nav>
        </section>
      </Page>,
    );
  });

  app.post("/dead-letters/:id", async (c) => {
    const id = c.req.param("id");
    const body = await c.req.parseBody();
    const action = body.do;
    try {
      if (action === "retry") await retryDeadLetter(ctx, id, CONSOLE_ACTOR);
      else if (action === "discard") await discardDeadLetter(ctx, id, CONSOLE_ACTOR);
      else {
        return c.html(
          <ErrorPage status={400} message={`Unknown action "${String(action ?? "")}"`} />,
          400,
        );
      }
    } catch (error) {
      if (error instanceof NotFoundError) {
        return c.html(<ErrorPage status={404} message={error.message} />, 404);
      }
      if (error instanceof DeadLetterNotRetryableError) {
        return c.html(<ErrorPage status={409} message={error.message} />, 409);
      }
      throw error;
    }
    return c.redirect(`/dead-letters?done=${action === "retry" ? "retried" : "discarded"}`, 303);
  });

  return app;
}
