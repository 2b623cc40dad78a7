/**
 * Challenge-response authentication of peers with a shared cluster secret. Each side sends a
 * fresh nonce; each proves it knows the secret with an HMAC-SHA256 over both ids and both nonces
 * and its role, so a proof cannot be replayed on another connection (fresh nonces), for another
 * pair of nodes (ids), or reflected back at its sender (role).
 */
import crypto from 'node:crypto';

export type Role = 'dialer' | 'acceptor';

export interface HandshakeIds {
  dialer: string;
  acceptor: string;
  dialerNonce: string;
  acceptorNonce: string;
}

export function newNonce(): string {
  return crypto.randomBytes(16).toString('hex');
}

export function proof(secret: string, role: Role, ids: HandshakeIds): string {
  const input = JSON.stringify([
    'leaderless-peer-auth/1',
    role,
    ids.dialer,
    ids.acceptor,
    ids.dialerNonce,
    ids.acceptorNonce,
  ]);
  return crypto.createHmac('sha256', secret).update(input).digest('hex');
}

/** Whether `got` is the proof `role` must give; compares in constant time. */
export function verifyProof(secret: string, role: Role, ids: HandshakeIds, got: string): boolean {
  const want = Buffer.from(proof(secret, role, ids), 'hex');
  const given = Buffer.from(got, 'hex');
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}
