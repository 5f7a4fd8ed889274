import assert from "node:assert/strict";
import { isDeterministicError } from "../../services/deterministic_error.ts";
import { ConflictError, NotFoundError } from "../../store/errors.ts";

/** The errors a real Deno KV throws when it is closed under work in flight and after. */
async function closedKvErrors(): Promise<{ inFlight: unknown; afterClose: unknown }> {
  const kv = await Deno.openKv(":memory:");
  const writes = Array.from(
    { length: 50 },
    (_, i) => kv.set(["k", i], "x".repeat(1_000)).then(() => undefined, (error) => error),
  );
  kv.close();
  const inFlight = (await Promise.all(writes)).find((error) => error !== undefined);
  const afterClose = await kv.get(["k", 0]).then(() => undefined, (error) => error);
  return { inFlight, afterClose };
}

Deno.test("isDeterministicError() treats a KV closed under the work as transient", async (t) => {
  const { inFlight, afterClose } = await closedKvErrors();

  await t.step('"Database is closed." (a TypeError) for a write in flight at close', () => {
    assert.ok(inFlight instanceof TypeError, `expected a TypeError, got ${String(inFlight)}`);
    assert.match(inFlight.message, /^Database is closed/);
    assert.equal(isDeterministicError(inFlight), false);
  });

  await t.step("BadResource for an operation begun after close", () => {
    assert.ok(afterClose instanceof Deno.errors.BadResource, String(afterClose));
    assert.equal(isDeterministicError(afterClose), false);
  });

  await t.step("Interrupted", () => {
    assert.equal(isDeterministicError(new Deno.errors.Interrupted("Operation canceled")), false);
  });

  await t.step("a closed store found in the cause of a deterministic-looking error", () => {
    const wrapped = new RangeError("Cannot store run", { cause: inFlight });
    assert.equal(isDeterministicError(wrapped), false);
  });
});

Deno.test("isDeterministicError() keeps the rest of the classification", async (t) => {
  await t.step("deterministic: built-ins a retry meets again, NotFoundError", async () => {
    await using kv = await Deno.openKv(":memory:");
    const tooLarge = await kv.set(["big"], "x".repeat(70_000)).then(() => null, (error) => error);
    assert.ok(tooLarge instanceof TypeError, "Deno KV's value-too-large error is a TypeError");
    for (
      const error of [
        tooLarge,
        new TypeError("Cannot read properties of undefined"),
        new RangeError("Payload too large"),
        new SyntaxError("Unexpected token"),
        new ReferenceError("x is not defined"),
        new NotFoundError('No workflow "x"'),
        new TypeError("Cannot store run", { cause: new Error("Database is closed.") }),
      ]
    ) {
      assert.equal(isDeterministicError(error), true, String(error));
    }
  });

  await t.step("transient: a lost race, Deno's own errors, anything else", () => {
    for (
      const error of [
        new ConflictError("Commit lost a race"),
        new Deno.errors.ConnectionReset("reset"),
        new Error("Database is closed."),
        "a string",
      ]
    ) {
      assert.equal(isDeterministicError(error), false, String(error));
    }
  });
});
