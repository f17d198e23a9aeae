import { hash, verify } from '@node-rs/argon2';

// argon2id (the library's default algorithm) at OWASP's baseline (19 MiB, 2 passes, 1 lane):
// cheap enough for sign-in bursts on two cores, costly enough for offline guessing.
const options = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, options);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/** Spends the time of one verification so an unknown email answers as slowly as a wrong password. */
export async function verifyDummy(password: string): Promise<void> {
  dummy ??= hashPassword('cabinet-timing-equaliser');
  await verifyPassword(await dummy, password);
}
