/**
 * Fargate task sizes: each CPU value allows a fixed set of memory values (MiB).
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
const range = (from: number, to: number, step: number): number[] => Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

export const FARGATE_CPU_VALUES: readonly number[] = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);

/** Lists values as "a, b or c" for error messages. */
export function listForHumans(values: readonly (string | number)[]): string {
  const quoted = values.map(String);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

/**
 * Checks a CPU/memory pair; returns undefined when valid, otherwise a sentence naming the settings, the bad value
 * and what is allowed. `set` says which of the two the operator wrote: a default is shown as one ("not set, so
 * …"), and the sentence asks to change the key that was written or to set the other.
 */
export function fargateSizeError(
  cpuKey: string,
  cpu: number,
  memoryKey: string,
  memory: number,
  set: { readonly cpu: boolean; readonly memory: boolean } = { cpu: true, memory: true },
): string | undefined {
  const allowed = FARGATE_MEMORY_BY_CPU[cpu];
  if (!allowed) {
    return `${cpuKey} = ${cpu} is not a Fargate CPU size; use ${listForHumans(FARGATE_CPU_VALUES)}`;
  }
  if (allowed.includes(memory)) return undefined;
  const shown = allowed.length > 8 ? `${allowed[0]} to ${allowed.at(-1)} in steps of ${allowed[1] - allowed[0]}` : listForHumans(allowed);
  const label = (key: string, value: number, written: boolean) => (written ? `${key} = ${value}` : `${key} (not set, so ${value})`);
  const pair = `${label(memoryKey, memory, set.memory)} does not fit ${label(cpuKey, cpu, set.cpu)} on Fargate`;
  if (set.memory && !set.cpu) {
    const cpus = FARGATE_CPU_VALUES.filter((value) => FARGATE_MEMORY_BY_CPU[value].includes(memory));
    return cpus.length
      ? `${pair}; set ${cpuKey} to ${listForHumans(cpus)} for this memory, or use ${memoryKey} ${shown}`
      : `${pair}; use ${memoryKey} ${shown}, or another CPU size with it`;
  }
  return set.cpu && !set.memory ? `${pair}; set ${memoryKey} to ${shown}` : `${pair}; use ${shown}`;
}
