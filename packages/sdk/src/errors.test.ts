import type { ErrorCode } from '@syncdeck/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ServerErrorCode, SyncdeckError } from './errors.ts';

describe('SyncdeckError', () => {
  it("names the same server codes as @syncdeck/core's errorCodes", () => {
    expectTypeOf<ServerErrorCode>().toEqualTypeOf<ErrorCode>();
  });

  it("carries the server's code from its error body, and none without one", () => {
    const rejected = new SyncdeckError('conflict', 'The session changed', {
      status: 409,
      body: { error: { code: 'version_conflict', message: 'The session changed' } },
    });
    expect(rejected.serverCode).toBe('version_conflict');
    expect(new SyncdeckError('network', 'connection refused').serverCode).toBeUndefined();
    expect(
      new SyncdeckError('rejected', 'bad', { status: 400, body: { status: 'rejected' } }).serverCode,
    ).toBe(undefined);
  });
});
