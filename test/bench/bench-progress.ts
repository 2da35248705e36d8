/** Progress lines of a bench run; the smoke spec collects them instead, as the test runner owns stdout. */
let sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`);

export function setProgressSink(next: (line: string) => void): void {
  sink = next;
}

/** A top-level line. */
export function say(line: string): void {
  sink(line);
}

/** An indented line inside a row. */
export function log(line: string): void {
  say(`  ${line}`);
}
