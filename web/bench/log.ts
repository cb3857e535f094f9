// Progress goes to stderr, so that stdout carries only the report.
export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`)
}
