/**
 * The approvals page: pending approvals first, each with its event, the reason, who approved so
 * far against the quorum, and approve/deny buttons that decide as the signed-in admin. Without the
 * server's approval service (`services.approvals`) the page says approvals are not enabled.
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { type ApprovalRecord, type ApprovalState, listApprovals } from "../../store/approvals.ts";
import { IntegrationMissingError } from "../../engine/module_errors.ts";
import {
  describePublicationChanges,
  type PublicationChanges,
} from "../../engine/publication_changes.ts";
import { NotFoundError } from "../../store/errors.ts";
import {
  ApprovalRefusedError,
  type ApprovalService,
  approvalServiceOf,
} from "../../services/approvals.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { Badge, CsrfField, ErrorPage, formatTime, Page } from "./layout.tsx";
import { formField } from "./session.tsx";

/** Approvals listed on the page (pending ones come first). */
export const APPROVALS_PAGE_SIZE = 100;

const STATES: ApprovalState[] = ["pending", "approved", "denied", "superseded"];

/** The server's approval service, or null when this Flowgate runs without one. */
function serviceOf(ctx: Pick<ConsoleContext, "approvals">): ApprovalService | null {
  try {
    return approvalServiceOf(ctx);
  } catch (error) {
    if (error instanceof IntegrationMissingError) return null;
    throw error;
  }
}

function stateKind(state: ApprovalState): string {
  return state === "approved"
    ? "success"
    : state === "denied"
    ? "blocked"
    : state === "pending"
    ? "pending-approval"
    : "none";
}

/** What the publication sends out: counts per kind and the first items, added/removed coloured. */
function PublicationChangesView(props: { changes: PublicationChanges }): JSX.Element {
  const [headline, ...lines] = describePublicationChanges(props.changes);
  return (
    <div data-changes={props.changes.basis}>
      <div class="muted small">{headline}</div>
      <div class="diff changes">
        {lines.map((line) => {
          const op = /^ {2}([+~-]) /.exec(line)?.[1];
          const kind = op === "+" ? "add" : op === "-" ? "del" : op === "~" ? "mod" : "head";
          return <div class={kind}>{op ? line.slice(4) : line}</div>;
        })}
      </div>
    </div>
  );
}

function ApprovalCard(props: { approval: ApprovalRecord; csrf: string }): JSX.Element {
  const { approval } = props;
  const { event } = approval;
  return (
    <section class="card stack" id={`approval-${approval.id}`} data-approval={approval.id}>
      <h2 class="row">
        <Badge kind={stateKind(approval.state)}>{approval.state}</Badge>
        <span>{event.info || event.uuid}</span>
      </h2>
      <dl class="facts">
        <dt>Event</dt>
        <dd>
          {[event.id && `#${event.id}`, event.uuid].filter(Boolean).join(" ")}
          <div class="muted small">
            {[
              event.orgc && `by ${event.orgc}`,
              event.tlp.length > 0 && event.tlp.join(", "),
              `${event.attribute_count} attribute${event.attribute_count === 1 ? "" : "s"}`,
            ].filter(Boolean).join(" · ")}
          </div>
        </dd>
        <dt>Reason</dt>
        <dd>{approval.reason}</dd>
        {approval.changes && (
          <>
            <dt>Publishes</dt>
            <dd>
              <PublicationChangesView changes={approval.changes} />
            </dd>
          </>
        )}
        <dt>Workflow</dt>
        <dd>
          <code>{approval.workflow}</code>
          {` node `}
          <code>{approval.node_id}</code>
          {approval.run_id && (
            <>
              {" · "}
              <a href={`/runs/${approval.run_id}`}>parked run</a>
            </>
          )}
        </dd>
        {approval.publisher && (
          <>
            <dt>Publisher</dt>
            <dd>{approval.publisher}</dd>
          </>
        )}
        <dt>Approved by</dt>
        <dd data-votes={String(approval.votes.length)}>
          {approval.votes.length === 0
            ? <span class="muted">nobody yet</span>
            : approval.votes.map((vote) => vote.actor).join(", ")}
          <span class="muted">{` (${approval.votes.length} of ${approval.policy.quorum})`}</span>
        </dd>
        <dt>Opened</dt>
        <dd>{`${formatTime(approval.created_at)} UTC`}</dd>
        {approval.state === "pending"
          ? (
            <>
              <dt>Times out</dt>
              <dd>
                {`${formatTime(approval.timeout_at)} UTC, then ${approval.policy.on_timeout}`}
              </dd>
            </>
          )
          : approval.decision && (
            <>
              <dt>Decision</dt>
              <dd>
                {`${approval.decision.decision} by ${approval.decision.actor}, ${
                  formatTime(approval.decision.at)
                } UTC`}
                {approval.decision.reason && <div class="muted">{approval.decision.reason}</div>}
              </dd>
            </>
          )}
        {approval.publish && (
          <>
            <dt>Publication</dt>
            <dd>
              {approval.publish.status}
              {approval.publish.error && <div class="error">{approval.publish.error}</div>}
            </dd>
          </>
        )}
      </dl>
      {approval.state === "pending" && (
        <form method="post" action={`/approvals/${approval.id}`} class="row">
          <CsrfField token={props.csrf} />
          <input name="reason" placeholder="Reason (optional)" maxlength={500} />
          <button type="submit" name="decision" value="approve" class="primary">Approve</button>
          <button type="submit" name="decision" value="deny" class="danger">Deny</button>
        </form>
      )}
    </section>
  );
}

/** The approvals page and its decision route. */
export function approvalsRoutes(
  ctx: Pick<ConsoleContext, "kv" | "approvals">,
): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get("/approvals", async (c) => {
    const csrf = c.get("session").csrf;
    if (serviceOf(ctx) === null) {
      return c.html(
        <Page title="Approvals" section="approvals" csrf={csrf}>
          <h1>Approvals</h1>
          <section class="card stack" data-approvals="disabled">
            <p>
              <strong>Approvals are not enabled in this Flowgate.</strong>
            </p>
            <p class="muted">
              The server runs without the approval service, so no workflow can park a run for a
              human decision.
            </p>
          </section>
        </Page>,
      );
    }
    const state = STATES.find((known) => known === c.req.query("state"));
    const approvals = await listApprovals(ctx.kv, {
      limit: APPROVALS_PAGE_SIZE,
      ...(state ? { state } : {}),
    });
    return c.html(
      <Page title="Approvals" section="approvals" csrf={csrf}>
        <h1>Approvals</h1>
        <nav class="row card">
          <a href="/approvals">All, pending first</a>
          {STATES.map((known) => <a href={`/approvals?state=${known}`}>{known}</a>)}
        </nav>
        {approvals.length === 0
          ? <p class="card muted">No approvals.</p>
          : approvals.map((approval) => <ApprovalCard approval={approval} csrf={csrf} />)}
      </Page>,
    );
  });

  app.post("/approvals/:id", async (c) => {
    const id = c.req.param("id");
    const service = serviceOf(ctx);
    if (service === null) {
      return c.html(<ErrorPage status={503} message="Approvals are not enabled" />, 503);
    }
    const decision = await formField(c, "decision");
    if (decision !== "approve" && decision !== "deny") {
      return c.html(
        <ErrorPage status={400} message={`Unknown decision "${decision ?? ""}"`} />,
        400,
      );
    }
    const reason = (await formField(c, "reason"))?.trim();
    try {
      await service.decide(id, {
        decision,
        actor: CONSOLE_ACTOR,
        role: "admin",
        ...(reason ? { reason } : {}),
      });
    } catch (error) {
      if (error instanceof ApprovalRefusedError) {
        return c.html(<ErrorPage status={403} message={error.message} />, 403);
      }
      if (error instanceof NotFoundError) {
        return c.html(<ErrorPage status={404} message={error.message} />, 404);
      }
      throw error;
    }
    return c.redirect(`/approvals#approval-${id}`, 303);
  });

  return app;
}
