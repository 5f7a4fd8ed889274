/**
 * A real SMTP server on 127.0.0.1 (npm `smtp-server`, port 0) that accepts mail, optionally
 * checks one user and password, and keeps every message: envelope, raw source, and decoded
 * headers and parts for assertions.
 *
 * ```ts
 * await using smtp = await startSmtpServer({ user: "flowgate", password: "s3cret" });
 * // createSmtpTransport(`smtp://flowgate:s3cret@127.0.0.1:${smtp.port}`)
 * smtp.messages[0]; // { from, to, subject, raw, text, html }
 * ```
 *
 * @module
 */

import { SMTPServer } from "smtp-server";

/** A received mail. */
export interface ReceivedMail {
  from: string;
  /** Envelope recipients. */
  to: string[];
  subject: string;
  /** The message as sent, headers included. */
  raw: string;
  /** Decoded `text/plain` part (line breaks as `\n`), if any. */
  text?: string;
  /** Decoded `text/html` part (line breaks as `\n`), if any. */
  html?: string;
}

/** Options of `startSmtpServer`. */
export interface SmtpServerOptions {
  /** Require this login (PLAIN/LOGIN over the plain connection). */
  user?: string;
  password?: string;
  /** Refuse every recipient with this SMTP code (e.g. 450 or 550). */
  rejectRecipients?: number;
}

/** A running server. */
export interface FakeSmtpServer extends AsyncDisposable {
  port: number;
  messages: ReceivedMail[];
  /** Login attempts seen: user names only. */
  logins: string[];
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const joined = text.replace(/=\r?\n/g, "");
  for (let index = 0; index < joined.length; index++) {
    const hex = joined.slice(index + 1, index + 3);
    if (joined[index] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...new TextEncoder().encode(joined[index]));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) in a header value. */
function decodeHeader(value: string): string {
  return value.replace(/\?=\s+=\?/g, "?==?").replace(
    /=\?[^?]+\?([QB])\?([^?]*)\?=/gi,
    (_word, encoding: string, text: string) =>
      encoding.toUpperCase() === "B"
        ? new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)))
        : decodeQuotedPrintable(text.replaceAll("_", " ")),
  );
}

function decodePart(headers: string, body: string): string {
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    return decodeQuotedPrintable(body);
  }
  if (/content-transfer-encoding:\s*base64/i.test(headers)) {
    return new TextDecoder().decode(
      Uint8Array.from(atob(body.replace(/\s+/g, "")), (c) => c.charCodeAt(0)),
    );
  }
  return body;
}

/** Splits a message into its text and HTML parts (single part or multipart/alternative). */
function parseMail(raw: string): Pick<ReceivedMail, "subject" | "text" | "html"> {
  const [head = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join("\r\n\r\n");
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const subject = decodeHeader(/^subject:\s*(.*)$/im.exec(unfolded)?.[1] ?? "");
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(unfolded)?.[1];
  const result: Pick<ReceivedMail, "subject" | "text" | "html"> = { subject };
  const parts = boundary
    ? body.split(`--${boundary}`).slice(1, -1).map((part) => {
      const [partHead = "", ...partBody] = part.replace(/^\r?\n/, "").split(/\r?\n\r?\n/);
      return { head: partHead, body: partBody.join("\r\n\r\n").replace(/\r?\n$/, "") };
    })
    : [{ head: unfolded, body }];
  for (const part of parts) {
    const decoded = decodePart(part.head, part.body).replaceAll("\r\n", "\n");
    if (/content-type:\s*text\/html/i.test(part.head)) result.html = decoded;
    else if (/content-type:\s*text\/plain/i.test(part.head)) result.text = decoded;
  }
  return result;
}

/** Starts the server on a free port. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<FakeSmtpServer> {
  const messages: ReceivedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    disabledCommands: options.user ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    allowInsecureAuth: true,
    authOptional: !options.user,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? "");
      if (auth.username === options.user && auth.password === options.password) {
        return callback(null, { user: auth.username });
      }
      callback(new Error("Invalid username or password"));
    },
    onRcptTo(_address, _session, callback) {
      if (!options.rejectRecipients) return callback();
      const error = new Error("Recipient refused") as Error & { responseCode: number };
      error.responseCode = options.rejectRecipients;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = new TextDecoder().decode(
          chunks.reduce((all, chunk) => {
            const next = new Uint8Array(all.length + chunk.length);
            next.set(all);
            next.set(chunk, all.length);
            return next;
          }, new Uint8Array()),
        );
        const from = session.envelope.mailFrom;
        messages.push({
          from: from ? from.address : "",
          to: session.envelope.rcptTo.map((address) => address.address),
          raw,
          ...parseMail(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, messages, logins, close, [Symbol.asyncDispose]: close };
}
