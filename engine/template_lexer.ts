/**
 * nunjucks' lexer made to read a stray `#}` as text, as Jinja2 does. nunjucks throws
 * "unexpected end of comment" on `#}` outside a comment, so a webhook payload such as
 * `{"note": "#}"}` was refused where MISP renders it as written (Jinja2 treats every delimiter
 * that closes nothing as text, and nunjucks already does so for `}}` and `%}`).
 *
 * The lexer is nunjucks' own; only its error on that one case becomes a text token reaching up to
 * and past the `#}`, so everything else (comments, raw blocks, strings in code) is still lexed by
 * nunjucks exactly.
 *
 * @module
 */

import nunjucks from "nunjucks";

/** The fields of nunjucks' tokenizer this patch reads and moves. */
interface Tokenizer {
  str: string;
  index: number;
  lineno: number;
  colno: number;
  forward(): void;
  nextToken(): unknown;
}

/** nunjucks' message for a `#}` outside a comment. */
const STRAY_COMMENT_END = "unexpected end of comment";

let installed = false;

/** Installs the patch on nunjucks' tokenizer, once per process. */
export function readStrayCommentEndAsText(): void {
  if (installed) return;
  installed = true;
  const lexer = (nunjucks as unknown as { lexer: { lex(source: string): Tokenizer } }).lexer;
  const prototype = Object.getPrototypeOf(lexer.lex("")) as Tokenizer;
  const nextToken = prototype.nextToken;
  prototype.nextToken = function (this: Tokenizer) {
    const { index, lineno, colno } = this;
    try {
      return nextToken.call(this);
    } catch (error) {
      if (!(error instanceof Error) || error.message !== STRAY_COMMENT_END) throw error;
      // The lexer stopped on the `#}`: the text from where the token began, `#}` included.
      const end = this.index + 2;
      Object.assign(this, { index, lineno, colno });
      while (this.index < end) this.forward();
      return { type: "data", value: this.str.slice(index, end), lineno, colno };
    }
  };
}
