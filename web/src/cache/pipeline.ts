import type { ChainableCommander } from 'ioredis'

/** Runs a pipeline or transaction and returns its replies, throwing if any command failed. */
export async function pipelineResults<T extends unknown[]>(commands: ChainableCommander): Promise<T> {
  const replies = await commands.exec()
  if (replies === null) throw new Error('Redis transaction aborted')
  return replies.map(([err, reply]) => {
    if (err) throw err
    return reply
  }) as T
}
