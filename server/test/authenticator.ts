import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

// A software WebAuthn authenticator for server tests: an EC P-256 key made by node:crypto,
// attestation "none", responses in the JSON shapes of @simplewebauthn/browser. It answers the
// options Cabinet hands out the way a platform authenticator would, so the server's verification
// (challenge, origin, RP ID hash, flags, COSE key, signature, counter) runs for real. CBOR is
// written by tiny-cbor through simplewebauthn's helpers: the same package decodes it, but the
// bytes are plain RFC 8949 (maps with integer and text keys, byte strings).

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest();

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  /** The user handle from the registration options (base64url). */
  userHandle: string;
  /** The signature counter the next assertion will carry (then incremented). */
  counter: number;
}

/** Flags of authenticator data: user present, user verified, attested credential data. */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

function authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer) {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
}

const clientData = (type: string, challenge: string, origin: string) =>
  Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

/**
 * Answers registration options (`startPasskeyRegistration`'s JSON) with a new credential.
 * Returns the response text for `finishPasskeyRegistration` and the credential to sign in with.
 */
export function register(
  optionsJSON: string,
  origin: string,
): { response: string; credential: SoftCredential } {
  const options = JSON.parse(optionsJSON) as {
    challenge: string;
    rp: { id: string };
    user: { id: string };
  };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y.
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
  const id = randomBytes(16);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(id.length);
  const attested = Buffer.concat([Buffer.alloc(16), idLength, id, cose]);
  const authData = authenticatorData(options.rp.id, UP | UV | AT, 0, attested);
  const attestationObject = isoCBOR.encode(
    new Map<string, string | Uint8Array | Map<string, string>>([
      ['fmt', 'none'],
      ['attStmt', new Map<string, string>()],
      ['authData', authData],
    ]),
  );
  const response = {
    id: b64url(id),
    rawId: b64url(id),
    type: 'public-key',
    response: {
      clientDataJSON: b64url(clientData('webauthn.create', options.challenge, origin)),
      attestationObject: b64url(attestationObject),
      transports: ['internal'],
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  };
  return {
    response: JSON.stringify(response),
    credential: { id: b64url(id), privateKey, userHandle: options.user.id, counter: 1 },
  };
}

/**
 * Answers authentication options (`startPasskeyLogin`'s JSON) with an assertion signed by
 * `credential`, carrying `counter` (default: the credential's next one, which is then used up).
 */
export function authenticate(
  optionsJSON: string,
  origin: string,
  credential: SoftCredential,
  counter?: number,
): string {
  const options = JSON.parse(optionsJSON) as { challenge: string; rpId: string };
  const signCount = counter ?? credential.counter++;
  const authData = authenticatorData(options.rpId, UP | UV, signCount);
  const clientDataJSON = clientData('webauthn.get', options.challenge, origin);
  // ECDSA over authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded as WebAuthn wants.
  const signature = sign(
    'sha256',
    Buffer.concat([authData, sha256(clientDataJSON)]),
    credential.privateKey,
  );
  return JSON.stringify({
    id: credential.id,
    rawId: credential.id,
    type: 'public-key',
    response: {
      clientDataJSON: b64url(clientDataJSON),
      authenticatorData: b64url(authData),
      signature: b64url(signature),
      userHandle: credential.userHandle,
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  });
}
