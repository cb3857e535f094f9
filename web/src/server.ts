import './tune-v8-heap.js'
import { loadTracing } from './tracing/load.js'

// Tracing patches the database and cache drivers as they load, so it starts first and the service
// (which imports them) is imported after it. Without OTEL_EXPORTER_OTLP_ENDPOINT this does nothing.
await loadTracing()
await import('./run-service.js')
