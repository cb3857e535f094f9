// The frame of an end-to-end run: a time limit on the whole, SIGINT and SIGTERM, then the same
// clean-up however the run ends, a check that it left nothing, and the summary and exit code.
import { report, PhaseError } from './report.js'
import { expect } from './json.js'
import { killAll } from './process.js'
import { stopEngine } from '../engine.js'

export interface EndToEndRun {
  /** The first line of the log, before "(time limit ...)". */
  title: string
  timeLimitMs: number
  /** The phases and checks; a phase that fails ends them, and the clean-up follows. */
  steps: () => Promise<void>
  /** Stops what only this run starts, before the teardown. */
  beforeTeardown?: () => void
  /** Removes everything the run made. */
  teardown: (log: (msg: string) => void) => Promise<void>
  /** Everything of the run still there, one string each. */
  leftovers: () => Promise<string[]>
  /** The title of the check that `leftovers` finds nothing after the teardown. */
  leftoversCheck: string
  /** What the steps measured, printed before the summary; read at the end, as the steps add to it. */
  figures?: readonly string[]
}

const log = (msg: string): void => report.log(msg)

/** Runs the steps, then the clean-up, and exits with the summary's code. */
export async function runEndToEnd(run: EndToEndRun): Promise<never> {
  // Called by the end of the steps, a signal or the time limit, whichever comes first; the others
  // wait for the same clean-up instead of cutting it short.
  let finishing: Promise<never> | undefined
  const finish = (): Promise<never> => {
    finishing ??= tearDownAndExit(run)
    return finishing
  }

  const timer = setTimeout(() => {
    report.fail('time limit', new Error(`the run took longer than ${run.timeLimitMs / 1000}s`))
    killAll()
    void finish()
  }, run.timeLimitMs)

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      report.fail('interrupted', new Error(`received ${sig}`))
      killAll()
      void finish()
    })
  }

  try {
    log(`${run.title} (time limit ${run.timeLimitMs / 1000}s)`)
    await run.steps()
  } catch (err) {
    if (!(err instanceof PhaseError))
      report.fail('unexpected error', err instanceof Error ? (err.stack ?? err.message) : err)
  }
  clearTimeout(timer)
  return await finish()
}

async function tearDownAndExit(run: EndToEndRun): Promise<never> {
  try {
    run.beforeTeardown?.()
    const t = Date.now()
    await run.teardown(log)
    report.timings.push({ name: 'clean up', ms: Date.now() - t })
    await report.check(run.leftoversCheck, async () => {
      const left = await run.leftovers()
      expect(left.length === 0, `left behind: ${left.join(', ')}`)
    })
    await stopEngine(log)
  } catch (err) {
    report.fail('clean-up', err)
  }
  killAll()
  const figures = run.figures ?? []
  if (figures.length > 0) console.log(`\nfigures:\n${figures.map((f) => `  ${f}`).join('\n')}`)
  process.exit(report.printSummary())
}
