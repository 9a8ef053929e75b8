// node:crypto as the page bundle sees it: only createHash("sha256"), which the checkpoint
// format's checksum uses, on the portable SHA-256. A bridge until the checkpoint codec hashes
// portably itself; anything else throws. Not shipped to Node: only scripts/build-page.mjs maps it.

import { Sha256 } from "../../core/hash/sha256.js";

export function createHash(algorithm: string) {
  if (algorithm !== "sha256") throw new Error(`node:crypto ${algorithm} is not in the page bundle`);
  const hash = new Sha256();
  const handle = {
    update(data: string | Uint8Array, _encoding?: string) {
      if (typeof data === "string") hash.updateText(data);
      else hash.update(data);
      return handle;
    },
    digest(_encoding: "hex") {
      return hash.digestHex();
    },
  };
  return handle;
}

const missing = (name: string) => () => {
  throw new Error(`node:crypto ${name} is not in the page bundle`);
};
export const randomBytes = missing("randomBytes");
export const randomInt = missing("randomInt");
export default { createHash, randomBytes, randomInt };
