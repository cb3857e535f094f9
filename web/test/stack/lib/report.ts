// Records the stack test's phases (steps that must succeed) and checks (assertions that may
// fail while the run goes on), with their timings, and prints the summary.

export class PhaseError extends Error {
  constructor(phase: string) {
    super(`phase failed: ${phase}`)
  }
}

interface Result {
  name: string
  ok: boolean
  detail: string
}

export class Report {
  readonly startedAt = Date.now()
  readonly timings: Array<{ name: string; ms: number }> = []
  readonly results: Result[] = []

  log(msg: string): void {
    const elapsed = `${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6)}s`
    console.log(`[${elapsed}] ${msg}`)
  }

  /** A step the rest depends on: a failure is recorded and thrown. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now()
    this.log(`${name} ...`)
    try {
      const value = await fn()
      const ms = Date.now() - t
      this.timings.push({ name, ms })
      this.log(`${name}: done in ${(ms / 1000).toFixed(1)}s`)
      return value
    } catch (err) {
      this.timings.push({ name: `${name} (failed)`, ms: Date.now() - t })
      this.fail(name, err)
      throw new PhaseError(name)
    }
  }

  /** One check: its failure is recorded and the run goes on. */
  async check(name: string, fn: () => Promise<string | void>): Promise<boolean> {
    try {
      const detail = (await fn()) ?? ''
      this.results.push({ name, ok: true, detail })
      this.log(`ok    ${name}${detail ? ` (${detail})` : ''}`)
      return true
    } catch (err) {
      this.fail(name, err)
      return false
    }
  }

  fail(name: string, err: unknown): void {
    const detail = err instanceof Error ? err.message : String(err)
    this.results.push({ name, ok: false, detail })
    this.log(`FAIL  ${name}: ${detail}`)
  }

  /** Timings, then every check, then "N passed, M failed"; returns the exit code. */
  printSummary(): number {
    console.log('\ntimings:')
    for (const t of this.timings) console.log(`  ${(t.ms / 1000).toFixed(1).padStart(7)}s  ${t.name}`)
    console.log(`  ${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(7)}s  total`)
    console.log('\nchecks:')
    for (const r of this.results)
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.ok ? '' : `: ${r.detail.split('\n')[0]}`}`)
    const passed = this.results.filter((r) => r.ok).length
    const failed = this.results.length - passed
    console.log(`\n${passed} passed, ${failed} failed`)
    return failed === 0 && passed > 0 ? 0 : 1
  }
}

export const report = new Report()
