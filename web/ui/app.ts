// The status page: polls the service's own JSON API and renders it. No framework, no third-party code.
// Each panel is a module under panels/; this file wires them up and starts polling.
import { wireKeyValueForm } from './panels/key-value.js'
import { wireUsersPager } from './panels/users.js'
import { keepRecentTimesFresh } from './panels/visits.js'
import { poll, wireToolbar } from './polling.js'

wireToolbar()
wireUsersPager()
wireKeyValueForm()
keepRecentTimesFresh()
void poll()
