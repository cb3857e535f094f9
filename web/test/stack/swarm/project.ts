// Imported first by the Swarm test: ../stack.ts reads the project name when it loads, and the
// Swarm run must not share its names (stack, images, volumes) with the Compose run.
process.env.STACK_TEST_PROJECT = process.env.SWARM_TEST_PROJECT ?? 'wdcswarmtest'
// A shared, busy machine can take minutes to pull everything up: the test bounds run.sh itself.
process.env.RUN_TIMEOUT_S ??= '600'
