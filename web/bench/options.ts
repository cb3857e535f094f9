// The command line of `npm run bench`; the usage text is the header of main.ts (--help prints it).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Options {
  connections: number
  durationS: number
  warmupS: number
  rows: number
  only: string[] | undefined
  cpuProf: boolean
  build: boolean
  publish: boolean
  interleave: boolean
  nodeArgs: string[]
  rounds: number
  /** Service processes on as many ports, loaded together. */
  replicas: number
  /** A git ref whose service is loaded in turn with this tree's (compare.ts). */
  against: string | undefined
}

const USAGE_FILE = fileURLToPath(new URL('./main.ts', import.meta.url))

export function parseArgs(argv: string[]): Options {
  const options: Options = {
    connections: 32,
    durationS: 10,
    warmupS: 3,
    rows: 0,
    only: undefined,
    cpuProf: false,
    build: true,
    publish: false,
    interleave: true,
    nodeArgs: [],
    rounds: 1,
    replicas: 1,
    against: undefined
  }
  const int = (flag: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value)
    if (value === undefined || !Number.isInteger(n) || n < min || n > max)
      throw new Error(`${flag} needs an integer between ${min} and ${max}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    switch (arg) {
      case '--connections':
        options.connections = int(arg, argv[++i], 1, 1000)
        break
      case '--duration':
        options.durationS = int(arg, argv[++i], 1, 300)
        break
      case '--warmup':
        options.warmupS = int(arg, argv[++i], 0, 60)
        break
      case '--rows':
        options.rows = int(arg, argv[++i], 0, 50_000_000)
        break
      case '--rounds':
        options.rounds = int(arg, argv[++i], 1, 9)
        break
      case '--replicas':
        options.replicas = int(arg, argv[++i], 1, 4)
        break
      case '--only':
        options.only = (argv[++i] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        break
      case '--cpu-prof':
        options.cpuProf = true
        break
      case '--no-build':
        options.build = false
        break
      case '--publish':
        options.publish = true
        break
      case '--against':
        options.against = argv[++i]
        if (options.against === undefined || options.against === '') throw new Error('--against needs a git ref')
        break
      case '--no-interleave':
        options.interleave = false
        break
      case '--node-args':
        options.nodeArgs = (argv[++i] ?? '').split(' ').filter(Boolean)
        break
      case '--help':
        process.stdout.write(readFileSync(USAGE_FILE, 'utf8').split('*/')[0] + '*/\n')
        process.exit(0)
        break
      default:
        throw new Error(`unknown option ${arg} (see --help)`)
    }
  }
  if (options.against !== undefined && (options.replicas > 1 || options.publish || options.rows > 0))
    throw new Error('--against compares one service with another: no --replicas, --publish or --rows')
  // Every replica needs at least one connection of its own.
  if (options.connections < options.replicas)
    throw new Error(`--connections (${options.connections}) must be at least --replicas (${options.replicas})`)
  return options
}
