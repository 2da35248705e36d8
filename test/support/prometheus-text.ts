import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus text exposition, parsed: its declared families and its samples. */
export interface Scrape {
  families: Map<string, string>;
  samples: Sample[];
}

export function parsePrometheusText(text: string): Scrape {
  const families = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1] ?? '', type[2] ?? '');
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = l[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { families, samples };
}

/** The one sample of `name` whose labels include `labels`; fails when there is none or several. */
export function sample(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = scrape.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value ?? NaN;
}

/** Whether the exposition declares a metric by this name (a family, or a histogram/summary series of one). */
export function declares(scrape: Scrape, name: string): boolean {
  if (scrape.families.has(name)) return true;
  const family = name.replace(/_(bucket|sum|count)$/, '');
  return family !== name && ['histogram', 'summary'].includes(scrape.families.get(family) ?? '');
}
