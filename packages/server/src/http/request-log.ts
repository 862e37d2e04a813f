import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * One line per answer, when it has been sent: at info for an answer that went wrong, at debug
 * for a success. Fastify's default, two lines at info for every request, buried the first
 * start's printed credentials under the demo's traffic and cost a busy server two writes a
 * request; `LOG_LEVEL=debug` brings every request back.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply, metadata);
      return;
    }
    const level = reply.statusCode >= 400 ? 'info' : 'debug';
    reply.log[level](
      { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  }
}
