import { setFlagsFromString } from 'node:v8'

// Imported first by the entry point, so it applies to every full collection the service runs.
//
// Under load V8 lets the old generation grow to about four times its live set (about 25 MB here)
// before a full collection: the process sat near 190 MB of RSS though it needed a fraction of it.
// A growth factor of 1.5 keeps it near 130 MB for the same throughput (docs/benchmarks.md); full
// collections stay incremental and short (under 15 ms). The semi-space size cannot be changed
// from here: V8 reads it only when the heap is set up, so it is a command-line flag of npm start
// and of web/Dockerfile's CMD.
setFlagsFromString('--heap-growing-percent=50')
