import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/main/api/httpGuard.ts';

describe('isLoopback', () => {
  it('takes loopback addresses and localhost, not a host name that merely starts with 127.', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['127.evil.example', '10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '1270.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});
