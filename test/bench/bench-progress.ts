/** Progress lines of a bench run; silenced by the smoke spec, where the test runner owns stdout. */
let quiet = false;

export function setQuiet(value: boolean): void {
  quiet = value;
}

/** A top-level line. */
export function say(line: string): void {
  if (!quiet) process.stdout.write(`${line}\n`);
}

/** An indented line inside a row. */
export function log(line: string): void {
  say(`  ${line}`);
}
