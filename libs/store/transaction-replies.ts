import { ScriptReply } from './redis-script';

/** What ioredis's `multi().exec()` resolves to: one `[error, result]` per command, null when aborted. */
export type ExecResult = [error: Error | null, result: unknown][] | null;

/** A MULTI's replies, each read through ScriptReply's typed accessors (ScriptReplyError on a surprise). */
export class TransactionReplies {
  constructor(
    private readonly name: string,
    private readonly replies: readonly [error: Error | null, result: unknown][],
  ) {}

  /** The reply of the `index`th command; throws that command's own error when it failed. */
  at(index: number): ScriptReply {
    const reply = this.replies[index];
    const label = `${this.name}[${index}]`;
    if (!reply) return new ScriptReply(label, undefined).fail(`a reply to command ${index}`);
    const [error, result] = reply;
    if (error) throw error;
    return new ScriptReply(label, result);
  }
}

/** The transaction's replies, or null when it was aborted (a WATCHed key changed). */
export function readTransaction(name: string, result: ExecResult): TransactionReplies | null {
  return result ? new TransactionReplies(name, result) : null;
}
