// The private PostgreSQL and Redis the tests run against, started the same way for the benchmark.
export { PgServer, RedisServer, capture, freePort, serviceEnv } from '../dev/private-servers/index.js'
