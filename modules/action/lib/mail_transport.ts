/**
 * SMTP delivery for the mail actions, through `nodemailer`, configured by one URL (`SMTP_URL`):
 * `smtp://[user:password@]host[:port]` (STARTTLS when offered) or `smtps://…` (TLS from the
 * start), with an optional `?from=address` for the sender. Connection, greeting and socket
 * timeouts are set; the password is kept out of every message and log line (it is registered as a
 * secret with the logger, and errors name the server without credentials).
 *
 * @module
 */

import nodemailer from "nodemailer";
import type { MailMessage, MailTransport } from "../../../engine/module_services.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { SMTP_TIMEOUT_MS } from "../../../engine/limits.ts";
import { registerSecret } from "../../../engine/log.ts";

/** Sender used when neither the message nor `SMTP_URL`'s `from` gives one. */
export const DEFAULT_MAIL_FROM = "flowgate@localhost";

/** Options of `createSmtpTransport`. */
export interface SmtpTransportOptions {
  /** Timeout for connecting, the greeting and each socket wait; default `SMTP_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Accept a server certificate that does not verify (self-hosted relays). */
  allowSelfSigned?: boolean;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
}

/** SMTP failures worth retrying: connection and timeout problems, and 4xx replies. */
function isTransientSmtpError(error: SmtpError): boolean {
  if (error.responseCode !== undefined) {
    return error.responseCode >= 400 && error.responseCode < 500;
  }
  return ["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS"].includes(error.code ?? "");
}

/**
 * Creates the transport for `smtpUrl`. Throws `TypeError` for a URL that is not `smtp://` or
 * `smtps://`. `send` throws `TransientError` for connection failures, timeouts and 4xx replies,
 * and `Error` for permanent refusals (5xx, bad credentials), both without the password.
 */
export function createSmtpTransport(
  smtpUrl: string,
  options: SmtpTransportOptions = {},
): MailTransport {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch (cause) {
    throw new TypeError("Cannot read SMTP_URL: not a valid URL", { cause });
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new TypeError(`Cannot read SMTP_URL: scheme "${url.protocol}" is not smtp: or smtps:`);
  }
  const secure = url.protocol === "smtps:";
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  registerSecret(pass);
  registerSecret(url.password);
  const timeout = options.timeoutMs ?? SMTP_TIMEOUT_MS;
  const server = `${url.protocol}//${url.host}`;
  const from = url.searchParams.get("from") ?? DEFAULT_MAIL_FROM;
  const transporter = nodemailer.createTransport({
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
    debug: false,
    tls: { rejectUnauthorized: !options.allowSelfSigned },
  });
  return {
    async send(message: MailMessage): Promise<{ messageId: string }> {
      try {
        const info = await transporter.sendMail({
          from: message.from ?? from,
          to: message.to,
          subject: message.subject.replaceAll(/[\r\n]+/g, " "),
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
        });
        return { messageId: info.messageId };
      } catch (cause) {
        const error = cause as SmtpError;
        const detail = (error.message ?? String(cause)).replaceAll(pass || "\u0000", "[redacted]");
        const text = `Cannot send mail through "${server}": ${detail}`;
        if (isTransientSmtpError(error)) throw new TransientError(text, { cause });
        throw new Error(text, { cause });
      }
    },
  };
}
