import assert from "node:assert/strict";
import { createSmtpTransport } from "../../../modules/action/lib/mail_transport.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { setLogSink } from "../../../engine/log.ts";
import { startSmtpServer } from "../../fakes/smtp_server.ts";

const PASSWORD = "smtp-pa55word-secret";

Deno.test("createSmtpTransport() delivers to a real SMTP server with login", async () => {
  await using smtp = await startSmtpServer({ user: "flowgate", password: PASSWORD });
  const transport = createSmtpTransport(
    `smtp://flowgate:${PASSWORD}@127.0.0.1:${smtp.port}?from=misp-alerts@example.org`,
  );
  const { messageId } = await transport.send({
    to: ["soc@example.org"],
    subject: "Event 12 published\r\nBcc: evil@example.org",
    text: "hello",
    html: "<p>hello</p>",
  });
  assert.match(messageId, /^<.+>$/);
  assert.equal(smtp.messages.length, 1);
  const [mail] = smtp.messages;
  assert.equal(mail?.from, "misp-alerts@example.org");
  assert.deepEqual(mail?.to, ["soc@example.org"]);
  assert.equal(mail?.subject, "Event 12 published Bcc: evil@example.org");
  assert.doesNotMatch(mail?.raw ?? "", /^bcc:/im);
  assert.equal(mail?.text, "hello");
  assert.equal(mail?.html, "<p>hello</p>");
  assert.deepEqual(smtp.logins, ["flowgate"]);
});

Deno.test("createSmtpTransport() refuses other schemes", () => {
  assert.throws(
    () => createSmtpTransport("http://mail.example.org"),
    /scheme "http:" is not smtp: or smtps:/,
  );
  assert.throws(() => createSmtpTransport("not a url"), /Cannot read SMTP_URL: not a valid URL/);
});

Deno.test("createSmtpTransport() errors never carry the password", async (t) => {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    await t.step("bad login is permanent", async () => {
      await using smtp = await startSmtpServer({ user: "flowgate", password: "other" });
      const transport = createSmtpTransport(`smtp://flowgate:${PASSWORD}@127.0.0.1:${smtp.port}`);
      await assert.rejects(
        transport.send({ to: ["a@example.org"], subject: "s", text: "t" }),
        (error: unknown) => {
          assert.ok(error instanceof Error && !(error instanceof TransientError));
          assert.match(
            error.message,
            new RegExp(`^Cannot send mail through "smtp://127\\.0\\.0\\.1:${smtp.port}": `),
          );
          assert.doesNotMatch(error.message, new RegExp(PASSWORD));
          return true;
        },
      );
    });
    await t.step("a 4xx refusal is transient", async () => {
      await using smtp = await startSmtpServer({ rejectRecipients: 450 });
      const transport = createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`);
      await assert.rejects(
        transport.send({ to: ["a@example.org"], subject: "s", text: "t" }),
        TransientError,
      );
    });
    await t.step("a 5xx refusal is permanent", async () => {
      await using smtp = await startSmtpServer({ rejectRecipients: 550 });
      const transport = createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`);
      await assert.rejects(
        transport.send({ to: ["a@example.org"], subject: "s", text: "t" }),
        (error: unknown) => error instanceof Error && !(error instanceof TransientError),
      );
    });
    await t.step("no server is transient", async () => {
      const smtp = await startSmtpServer();
      await smtp.close();
      const transport = createSmtpTransport(`smtp://flowgate:${PASSWORD}@127.0.0.1:${smtp.port}`, {
        timeoutMs: 2_000,
      });
      await assert.rejects(
        transport.send({ to: ["a@example.org"], subject: "s", text: "t" }),
        (error: unknown) => {
          assert.ok(error instanceof TransientError);
          assert.doesNotMatch(error.message, new RegExp(PASSWORD));
          return true;
        },
      );
    });
  } finally {
    setLogSink(previous);
  }
  assert.doesNotMatch(lines.join("\n"), new RegExp(PASSWORD));
});
