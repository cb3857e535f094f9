/** Milliseconds to two decimals: what every latency_ms field reports. */
export const round = (ms: number): number => Math.round(ms * 100) / 100
