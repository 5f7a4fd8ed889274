/**
 * A console client for tests: a cookie jar and the CSRF token of the last page, talking to
 * `createConsole` directly as a browser would.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createConsole } from "../../../server/console/app.tsx";
import { CookieJar } from "../../fixtures/cookie_jar.ts";
import { ADMIN_TOKEN, LOOPBACK_ENV, type TestApp } from "../test_app.ts";

/** The origin console forms are sent from. */
export const ORIGIN = "http://localhost";

/** A console client with a cookie jar, like a browser talking to `createConsole` directly. */
export class ConsoleClient {
  readonly #app: ReturnType<typeof createConsole>;
  readonly #jar = new CookieJar();
  /** The cookies the console set, by name. */
  readonly cookies = this.#jar.cookies;
  csrf = "";
  /** `c.env` of the requests: the connection's peer address. */
  env: typeof LOOPBACK_ENV | undefined;

  constructor(test: TestApp, clock?: () => number) {
    // The app's context (tests add the approval service to its services), with its own clock.
    this.#app = createConsole({ ...test.ctx, ...(clock ? { now: clock } : {}) });
  }

  /** One request with the jar's cookies; keeps the cookies the answer sets. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = this.#jar.headersFor(init);
    const response = await this.#app.request(path, { ...init, headers }, this.env);
    this.#jar.store(response);
    return response;
  }

  /** GETs a page and remembers the CSRF token of its forms. */
  async page(path: string): Promise<{ response: Response; html: string }> {
    const response = await this.request(path);
    const html = await response.text();
    const token = html.match(/name="_csrf" value="([^"]+)"/)?.[1];
    if (token) this.csrf = token;
    return { response, html };
  }

  /** POSTs a urlencoded form with the CSRF token (unless `fields` sets `_csrf`) and our origin. */
  post(
    path: string,
    fields: Record<string, string> = {},
    headers: HeadersInit = {},
  ): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { Origin: ORIGIN, ...headers },
      body: new URLSearchParams({ _csrf: this.csrf, ...fields }),
    });
  }

  async signIn(): Promise<Response> {
    await this.page("/sign-in");
    return await this.post("/sign-in", { token: ADMIN_TOKEN, next: "/workflows" });
  }
}

/** A client signed in with the admin token, holding the workflows page's CSRF token. */
export async function signedIn(test: TestApp): Promise<ConsoleClient> {
  const client = new ConsoleClient(test);
  const response = await client.signIn();
  assert.equal(response.status, 303);
  await client.page("/workflows");
  return client;
}
