/** Parses `key:value` lines, as INFO and CLUSTER INFO print them; section headers (`# Server`) are skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Parses what `redis-cli SENTINEL REPLICAS <name>` prints: for each replica, alternating field and value lines,
 * starting with `name`.
 */
export function parseSentinelReplicas(text: string): Array<Map<string, string>> {
  const replicas: Array<Map<string, string>> = [];
  const lines = text === '' ? [] : text.split(/\r?\n/);
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const field = lines[index] ?? '';
    if (field === 'name' || replicas.length === 0) replicas.push(new Map());
    replicas.at(-1)?.set(field, lines[index + 1] ?? '');
  }
  return replicas;
}
