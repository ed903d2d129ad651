/**
 * protocol.js — what the modules of the Manifold client library share: the library
 * and protocol versions, the server's error codes, ManifoldError and a message helper.
 *
 * Part of the client library; applications import it through manifold.js, which
 * re-exports all of it but body().
 */

export const VERSION = '0.1.0';

/** Protocol versions this client speaks. */
export const PROTOCOL_VERSIONS = Object.freeze([1]);

/** The server's error codes (signalling/protocol/constants.json, checked by
 *  tests/integration/constants.test.mjs). */
export const ErrorCode = Object.freeze({
  MalformedJson: 1001,
  InvalidMessage: 1002,
  UnknownType: 1003,
  UnsupportedVersion: 1004,
  NotNegotiated: 1005,
  NotJoined: 1006,
  AlreadyJoined: 1007,
  MessageTooLarge: 1008,
  RateLimited: 1009,
  UnknownTrack: 1010,
  UnknownParticipant: 1011,
  StaleNegotiation: 1012,
  Busy: 1013,
  UnknownRoom: 1014,
  TokenMissing: 2001,
  TokenMalformed: 2002,
  TokenBadSignature: 2003,
  TokenAlgorithm: 2004,
  TokenExpired: 2005,
  TokenNotYetValid: 2006,
  TokenWrongRoom: 2007,
  PermissionDenied: 2008,
  WebhookDenied: 2009,
  WebhookUnavailable: 2010,
  RoomFull: 3001,
  TooManyRooms: 3002,
  TooManyTracks: 3003,
  MediaUnavailable: 4001,
  NegotiationFailed: 4002,
  CodecMismatch: 4003,
  InternalError: 5001,
  ShuttingDown: 5002,
});

/** An error reply from the server, or a failure on the client side (code 0). */
export class ManifoldError extends Error {
  /**
   * @param {string} message human-readable text (the server's `message` when it sent one)
   * @param {{code?: number, reason?: string, requestType?: string, requestId?: number,
   *          cause?: unknown}} [details]
   */
  constructor(message, { code = 0, reason = '', requestType = '', requestId, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ManifoldError';
    this.code = code;
    this.reason = reason;
    this.requestType = requestType;
    this.requestId = requestId;
  }
}

/** Copy a message without `type` and `id`. */
export function body(message) {
  const { type: _type, id: _id, ...rest } = message;
  return rest;
}
