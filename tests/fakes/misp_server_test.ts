import assert from "node:assert/strict";
import { startFakeMisp } from "./misp_server.ts";

async function call(url: string, key: string, method = "GET", body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { Authorization: key, Accept: "application/json", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: await response.json(),
  };
}

Deno.test("startFakeMisp() answers with MISP's error shapes", async (t) => {
  await using misp = await startFakeMisp();

  await t.step("403 for a wrong key", async () => {
    const answer = await call(`${misp.url}/events/view/1`, "wrong");
    assert.equal(answer.status, 403);
    assert.equal(answer.type, "application/json");
    assert.match(answer.body.message, /^Authentication failed/);
    assert.equal(answer.body.url, "/events/view/1");
  });

  await t.step("404 for an unknown event and an unknown route", async () => {
    assert.equal((await call(`${misp.url}/events/view/99`, misp.apiKey)).status, 404);
    const unknown = await call(`${misp.url}/nothing/here`, misp.apiKey);
    assert.deepEqual(unknown, {
      status: 404,
      type: "application/json",
      body: { name: "Not Found", message: "Not Found", url: "/nothing/here" },
    });
  });

  await t.step("405 for a wrong method", async () => {
    const answer = await call(`${misp.url}/events/publish/1`, misp.apiKey);
    assert.equal(answer.status, 405);
    assert.equal(answer.body.message, "This function can only be reached via POST.");
  });

  await t.step("the next N calls fail as told, then it answers again", async () => {
    misp.failNext({ status: 503, count: 2 });
    assert.equal((await call(`${misp.url}/nothing`, misp.apiKey)).status, 503);
    assert.equal((await call(`${misp.url}/nothing`, misp.apiKey)).status, 503);
    assert.equal((await call(`${misp.url}/nothing`, misp.apiKey)).status, 404);
  });

  assert.equal(misp.requests.length, 7);
  assert.deepEqual(misp.requests.map((request) => request.headers.authorization).slice(0, 2), [
    "wrong",
    misp.apiKey,
  ]);
});
